"""The sampling planner: sample sizes, allocation across units, plans of quotas, draws from frames.

Pure Python (scipy for the normal quantile): nothing here knows the web or the database.
"""

from .allocation import (
    Bounds,
    UnitFrame,
    census,
    fixed_per_unit,
    neyman,
    own_margin,
    per_kind,
    proportional,
    split_total,
)
from .errors import FrameError, SamplingError
from .plan import Cell, Plan, PlanDefinition, PlanUnit, build_plan, load_plan_text
from .sizes import cochran_size, margin_of_error, yamane_size, z_score

__all__ = [
    "Bounds",
    "Cell",
    "FrameError",
    "Plan",
    "PlanDefinition",
    "PlanUnit",
    "SamplingError",
    "UnitFrame",
    "build_plan",
    "census",
    "cochran_size",
    "fixed_per_unit",
    "load_plan_text",
    "margin_of_error",
    "neyman",
    "own_margin",
    "per_kind",
    "proportional",
    "split_total",
    "yamane_size",
    "z_score",
]
