"""The stepper's parts on a scalar ODE with a known solution, y' = -lam y, y = exp(-lam t):
the BDF2 coefficients (backward Euler first), the local error estimate and the
step-size controller of kinsim.kernels.step, driven here by a loop of the same shape as
``advance``.

The u-fraction arrays of the kernels carry y as component 1 of a single node (component
0 is the dependent one and takes no part)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kinsim.kernels.step import NEWTON_TOL, bdf2_coefficients, bdf2_error, control_step, newton_converged

LAM = 1.0


def _u(y):
    return np.array([[1.0 - y, y]])


def _history(ys, ts):
    """hist_U (3, 1, 2) and hist_t (3) from the newest three values."""
    hist = np.zeros((3, 1, 2))
    for h, y in enumerate(ys):
        hist[h] = _u(y)
    return hist, np.array(ts, dtype=float)


def _bdf2_step(y, y_prev, t, dt, hist_t, nh):
    """One step of the linear ODE: (a0 + dt lam) y_new = -(a1 y + a2 y_prev)."""
    w, a0, a1, a2 = bdf2_coefficients(dt, t, hist_t, nh)
    rhs = -(a1 * y + (a2 * y_prev if nh >= 2 else 0.0))
    return rhs / (a0 + dt * LAM)


def test_coefficients_are_backward_euler_then_bdf2():
    w, a0, a1, a2 = bdf2_coefficients(0.1, 1.0, np.array([1.0, 0.0, 0.0]), 1)
    assert (a0, a1, a2) == (1.0, -1.0, 0.0)
    # constant step: 3/2 y_{n+1} - 2 y_n + 1/2 y_{n-1}
    w, a0, a1, a2 = bdf2_coefficients(0.25, 1.0, np.array([1.0, 0.75, 0.5]), 2)
    assert w == 1.0 and (a0, a1, a2) == (1.5, -2.0, 0.5)
    # variable step: the formula is exact for quadratics, sum a_i = 0
    dt, t, tp = 0.3, 1.0, 0.8
    w, a0, a1, a2 = bdf2_coefficients(dt, t, np.array([t, tp, 0.0]), 2)
    assert a0 + a1 + a2 == pytest.approx(0.0, abs=1e-15)
    for p, dp in ((lambda s: s, lambda s: 1.0), (lambda s: s * s, lambda s: 2 * s)):
        lhs = a0 * p(t + dt) + a1 * p(t) + a2 * p(tp)
        assert lhs == pytest.approx(dt * dp(t + dt), rel=1e-12)


def test_fixed_steps_converge_at_second_order():
    def global_error(n):
        dt = 1.0 / n
        hist_t = np.zeros(3)
        y, y_prev, t = 1.0, 0.0, 0.0
        for i in range(n):
            nh = 1 if i == 0 else 2
            hist_t[1] = t - dt
            y, y_prev = _bdf2_step(y, y_prev, t, dt, hist_t, nh), y
            t += dt
        return abs(y - math.exp(-LAM))

    errs = [global_error(n) for n in (20, 40, 80)]
    orders = [math.log2(errs[i] / errs[i + 1]) for i in range(2)]
    assert min(orders) > 1.9, (errs, orders)


def test_error_estimate_is_the_local_error_of_a_step_from_exact_history():
    """From exact history the BDF2 step errs by (2/9) h^3 y''' (its error constant); the
    estimate is the third divided difference, which contains that error itself: it tends
    to 11/9 of the true local error, so it is conservative and of order h^3."""
    ests = []
    for h in (0.02, 0.01, 0.005):
        t = 1.0
        ts = [t, t - h, t - 2 * h]
        ys = [math.exp(-LAM * s) for s in ts]
        hist_U, hist_t = _history(ys, ts)
        y_new = _bdf2_step(ys[0], ys[1], t, h, hist_t, 3)
        actual = abs(y_new - math.exp(-LAM * (t + h)))
        est = bdf2_error(_u(y_new), _u(ys[0]), hist_U, hist_t, 3, t, h, 0.0, 1.0)
        assert 1.0 < est / actual < 1.3, (h, est, actual)
        ests.append(est)
    assert ests[0] / ests[1] == pytest.approx(8.0, rel=0.05)
    assert ests[1] / ests[2] == pytest.approx(8.0, rel=0.05)
    # scaled by atol + rtol |y|
    est_scaled = bdf2_error(_u(0.5), _u(0.5), *_history([0.5, 0.5, 0.5], [1.0, 0.9, 0.8]), 3, 1.0, 0.1, 1e-3, 1e-6)
    assert est_scaled == 0.0  # a constant history has no third difference


def test_controller_rejects_above_one_and_bounds_the_step_change():
    ok, dt = control_step(8.0, 1.0)
    assert not ok and dt == pytest.approx(0.9 / 2.0)
    ok, dt = control_step(1e6, 1.0)
    assert not ok and dt == 0.2  # shrinks at most 5x
    ok, dt = control_step(1.0, 1.0)
    assert ok and dt == pytest.approx(0.9)
    ok, dt = control_step(0.1, 1.0)
    assert ok and dt == pytest.approx(0.9 * 10 ** (1 / 3))
    ok, dt = control_step(1e-9, 1.0)
    assert ok and dt == 2.5  # grows at most 2.5x
    ok, dt = control_step(0.0, 1.0)
    assert ok and dt == 2.0


def test_newton_stops_when_the_corrections_still_to_come_are_within_its_tolerance():
    inf = float("inf")
    assert newton_converged(0.5 * NEWTON_TOL, 1.0, inf)  # the correction itself is small enough
    assert not newton_converged(0.5 * NEWTON_TOL, 0.5, inf)  # not after a damped one
    # fast convergence: r = 0.01 / 0.5, the rest r / (1 - r) 0.01 = 2.0e-4 < 1e-3
    assert newton_converged(0.01, 1.0, 0.5)
    # slow: r = 1/2, the rest 0.01 > 1e-3; diverging; no previous correction to take a rate from
    assert not newton_converged(0.01, 1.0, 0.02)
    assert not newton_converged(0.01, 1.0, 0.005)
    assert not newton_converged(0.01, 1.0, inf)
    # the bound r / (1 - r) corr = corr^2 / (last - corr) on either side of the tolerance
    assert newton_converged(0.01, 1.0, 0.01 + 0.01**2 / NEWTON_TOL * 1.01)
    assert not newton_converged(0.01, 1.0, 0.01 + 0.01**2 / NEWTON_TOL * 0.99)


def _adaptive(rtol, atol, t_end=5.0, dt0=1e-4):
    """Integrate y' = -lam y to t_end with the stepper's parts, as ``advance`` does."""
    y = 1.0
    ys = [1.0, 0.0, 0.0]
    ts = [0.0, 0.0, 0.0]
    nh = 1
    t, dt = 0.0, dt0
    steps = rejected = 0
    while t < t_end * (1.0 - 1e-14):
        dt = min(dt, t_end - t)
        hist_U, hist_t = _history(ys, ts)
        y_new = _bdf2_step(y, ys[1], t, dt, hist_t, nh)
        err = bdf2_error(_u(y_new), _u(y), hist_U, hist_t, nh, t, dt, rtol, atol)
        ok, dt_next = control_step(err, dt)
        if not ok:
            rejected += 1
            dt = dt_next
            continue
        t += dt
        y = y_new
        ys = [y, ys[0], ys[1]]
        ts = [t, ts[0], ts[1]]
        nh = min(nh + 1, 3)
        steps += 1
        dt = dt_next
    return y, t, steps, rejected


def test_adaptive_steps_follow_the_tolerance():
    """Error per step ~ tol with local error O(dt^3): dt ~ tol^(1/3), so the steps grow
    as tol^(-1/3) and the global error of the second-order method as tol^(2/3)."""
    errs, counts = [], []
    for rtol in (1e-4, 1e-6):
        y, t, steps, rejected = _adaptive(rtol, rtol * 1e-3)
        assert t == pytest.approx(5.0, rel=1e-14)
        errs.append(abs(y - math.exp(-LAM * t)) / math.exp(-LAM * t))
        counts.append(steps)
        assert rejected < steps / 4
        assert errs[-1] < 10 * rtol ** (2 / 3)
    assert 10 < errs[0] / errs[1] < 40  # 100^(2/3) = 21.5
    assert 3 < counts[1] / counts[0] < 7  # 100^(1/3) = 4.6
