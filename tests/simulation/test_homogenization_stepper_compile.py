"""The homogenization stepper compiles without the multiphase node equilibrium.

``advance`` with the homogenization model calls the node equilibrium
(``kinsim.kernels.multiphase.mp_node_kernel``) only through kernel references
(``kinsim.kernels.kernel_ref``): its stage kernels and the stepper itself compile
without it, which is what lets a cold run compile the stepper in a helper process while
it compiles the equilibrium (``kinsim.simulation.precompile``).

In the suite this file is a unit of its own, handed first to the worker that does not
run the multiphase group (tests/conftest.py, FIRST_UNITS): there it compiles the
homogenization stepper into numba's cache while the other worker compiles the node
equilibrium."""

from __future__ import annotations

from conftest import REPO


def test_the_homogenization_stepper_compiles_without_the_node_equilibrium():
    from numba.core.dispatcher import Dispatcher

    from kinsim import load_case
    from kinsim._jit import compile_for, needs_compile
    from kinsim.kernels.step import advance, newton_step
    from kinsim.simulation import Simulation

    case = load_case(REPO / "cases" / "fe-cr-ni-alpha-gamma.toml", overrides=["grid.nodes=20"])
    sim = Simulation(case)
    state, fields, work = sim._stepper_arrays()
    stages = sim._stage_kernels(state, fields, work)
    kernel, args = sim._advance_call(state, fields, work, 0.0, 1)
    assert kernel is advance and stages[-1][0] is newton_step  # the referenced Newton step last
    seen = []  # the kinsim kernels that gain a specialisation (compiled or loaded from the cache)
    add_overload = Dispatcher.add_overload

    def recording(self, cres):
        seen.append(f"{self.py_func.__module__}.{self.py_func.__qualname__}")
        return add_overload(self, cres)

    Dispatcher.add_overload = recording  # type: ignore[method-assign]
    try:
        for k, a in stages:
            compile_for(k, *a)
        compile_for(kernel, *args)
    finally:
        Dispatcher.add_overload = add_overload  # type: ignore[method-assign]
    assert len(advance.overloads) >= 1 and len(newton_step.overloads) >= 1
    assert "kinsim.kernels.step.advance" in seen or not needs_compile(kernel, *args)
    assert not any(s.startswith("kinsim.kernels.multiphase.") for s in seen), seen  # mp_node_kernel among them
