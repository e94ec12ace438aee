"""Case files: TOML -> :class:`Case` (frozen dataclasses, validated, SI units).

Modules, in the order a case flows through them:

- :mod:`~kinsim.case.schema`: the declarative tables of every key (type, default, unit,
  doc, choices); the unknown-key check, ``--set`` checks, defaults and the reference
  (:mod:`~kinsim.case.reference`, ``kinsim case-keys``) come from them;
- :mod:`~kinsim.case.parse`: loading (:func:`load_case`), validation (:func:`parse_case`)
  and the case stored in a result file (:func:`from_toml`);
  :mod:`~kinsim.case.overrides`: ``--set`` (:func:`apply_override`, :func:`parse_value`);
- :mod:`~kinsim.case.section` (typed reading of one table),
  :mod:`~kinsim.case.composition`, :mod:`~kinsim.case.timetable`: the value readers;
- :mod:`~kinsim.case.model` (:class:`Case` and the specs of its sections),
  :mod:`~kinsim.case.boundary`, :mod:`~kinsim.case.potentials`,
  :mod:`~kinsim.case.onsager`, :mod:`~kinsim.case.gradient`,
  :mod:`~kinsim.case.perturbation`, :mod:`~kinsim.case.homogenization`: the resolved
  case, each with its own reader.

This package must not import numba or pycalphad (a case is read before anything heavy).
"""

from .boundary import BoundarySide, BoundarySpec, BoundaryStage
from .gradient import GradientSpec
from .homogenization import HomogenizationSpec
from .model import Case, ConditionsSpec, GridSpec, InitialSpec, MobilitySpec, OutputSpec, SolverSpec, ThermoSpec
from .onsager import OnsagerSpec
from .overrides import apply_override, parse_value
from .parse import from_toml, load_case, parse_case, read_case_file
from .perturbation import PerturbationSpec
from .potentials import FARADAY, PotentialSpec
from .reference import reference_markdown
from .schema import (
    BOUNDARY_TYPES,
    COMPOSITION_UNITS,
    INITIAL_TYPES,
    MISSING_MOBILITY,
    ONSAGER_FORMS,
    PERTURBATION_TYPES,
    POTENTIAL_KINDS,
    SCHEMA,
    SOLVER_METHODS,
)
from .timetable import TimeTable, is_constant, table_value

__all__ = [
    "BOUNDARY_TYPES",
    "COMPOSITION_UNITS",
    "FARADAY",
    "INITIAL_TYPES",
    "MISSING_MOBILITY",
    "ONSAGER_FORMS",
    "PERTURBATION_TYPES",
    "POTENTIAL_KINDS",
    "SCHEMA",
    "SOLVER_METHODS",
    "BoundarySide",
    "BoundarySpec",
    "BoundaryStage",
    "Case",
    "ConditionsSpec",
    "GradientSpec",
    "GridSpec",
    "HomogenizationSpec",
    "InitialSpec",
    "MobilitySpec",
    "OnsagerSpec",
    "OutputSpec",
    "PerturbationSpec",
    "PotentialSpec",
    "SolverSpec",
    "ThermoSpec",
    "TimeTable",
    "apply_override",
    "from_toml",
    "is_constant",
    "load_case",
    "parse_case",
    "parse_value",
    "read_case_file",
    "reference_markdown",
    "table_value",
]
