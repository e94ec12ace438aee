"""kinsim: numba-accelerated multicomponent diffusion on CALPHAD databases.

The library in five names (the command line ``kinsim`` does the same)::

    import kinsim

    r = kinsim.run("cases/nicral-couple.toml")          # a Result, held in memory
    r.time, r.z, r.components, r.x, r.mu, r.flux          # arrays, SI units
    ds = r.to_xarray()                                     # labelled (time, z, component...)
    kinsim.run(case, output="out.h5")                      # the same, written as `kinsim run` does
    r = kinsim.read_result("out.h5")                       # read back
    case = kinsim.load_case({...}, overrides={"grid.nodes": 50})   # a Case from a dict or a file
    eq = kinsim.equilibrium("cases/databases/ni-cr-al.tdb", "FCC_A1", ["NI", "CR", "AL"],
                            1473.15, {"CR": 0.21, "AL": 0.058})   # kinsim thermo
    eq.MU, eq.dmu_dx

Importing kinsim loads neither numba nor pycalphad: the kernels load when a run or an
equilibrium starts.
"""

__version__ = "0.1.0"

# after __version__: the storage package records it in every result
from .api import equilibrium, load_case, run  # noqa: E402
from .case import Case  # noqa: E402
from .storage import Result, read_result  # noqa: E402

__all__ = ["Case", "Result", "__version__", "equilibrium", "load_case", "read_result", "run"]
