"""Year over year (issue 19, part 3): a campaign's values per unit and criterion against an earlier
campaign's, across reorganised units. Pure Python over two score tables.

The difference's interval is Newcombe's method 10 generalised (the "MOVER" of Zou & Donner 2008):
from each year's own 95 % limits (l, u) around its value v,

    d = v₁ − v₀,   low = d − √((v₁ − l₁)² + (u₀ − v₀)²),   high = d + √((u₁ − v₁)² + (v₀ − l₀)²).

For a share whose limits are Wilson's (one source, the product's default) this is exactly
Newcombe's hybrid score interval (R. G. Newcombe 1998, Statistics in Medicine 17:873–890,
method 10); the limits already count respondents (the design effect), so the difference does
too. For a normalised mean the limits are symmetric (t or normal) and the same formula is the
usual normal interval of a difference of two independent means, √(se₁² + se₀²). A change is
marked "beyond chance" when its interval leaves out 0. The two years are different people:
independent samples.

Reorganised units: a **crosswalk** maps each new unit to the old units it was formed from (a
unit keeping its code maps to itself unless the crosswalk says otherwise). The old units' answers
are pooled: the predecessor's share is the answers-weighted mean of the old shares (weighted by
effective answers, n / design effect), its interval Wilson's on the pooled effective answers; a
mean likewise, its variance Σ w²·se²; points are the answers-weighted mean of the old points.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .compute import CriterionScore, ScoreTable
from .stats import normal_quantile, wilson_interval


@dataclass(frozen=True)
class Side:
    """One year's value of a unit and criterion (a share or a normalised mean, 0–1)."""

    value: float | None
    low: float | None
    high: float | None
    n: int  #: answers
    effective: float  #: answers over the design effect
    points: float | None
    units: tuple[str, ...] = ()  #: the units it stands for (several when pooled)


@dataclass(frozen=True)
class Change:
    unit: str
    name: str
    criterion: str
    now: Side
    before: Side | None  #: None: the unit has no predecessor in the earlier campaign
    difference: float | None
    low: float | None
    high: float | None

    @property
    def beyond_chance(self) -> bool:
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)

    @property
    def points_change(self) -> float | None:
        if self.before is None or self.before.points is None or self.now.points is None:
            return None
        return self.now.points - self.before.points


def mover(v1: float, l1: float, u1: float, v0: float, l0: float, u0: float) -> tuple[float, float, float]:
    """The difference v1 − v0 and its interval from each value's own limits (Newcombe's method 10
    when the limits are Wilson's).

    >>> [round(x, 4) for x in mover(0.9, *wilson_interval(54, 60), 0.75, *wilson_interval(45, 60))]
    [0.15, 0.0129, 0.2835]
    """
    d = v1 - v0
    return d, d - math.sqrt((v1 - l1) ** 2 + (u0 - v0) ** 2), d + math.sqrt((u1 - v1) ** 2 + (v0 - l0) ** 2)


def side(score: CriterionScore, unit: str) -> Side:
    deff = score.deff if score.deff is not None else 1.0
    return Side(score.value, score.low, score.high, score.n, score.n / max(1.0, deff), score.points, (unit,))


def pooled(sides: list[Side], share: bool, confidence: float = 0.95) -> Side:
    """Several old units' answers pooled into one predecessor."""
    known = [s for s in sides if s.value is not None and s.effective > 0]
    units = tuple(u for s in sides for u in s.units)
    n = sum(s.n for s in sides)
    if not known:
        return Side(None, None, None, n, 0.0, None, units)
    if len(known) == 1:
        return Side(known[0].value, known[0].low, known[0].high, n, known[0].effective, known[0].points, units)
    total = sum(s.effective for s in known)
    value = sum(s.effective * s.value for s in known) / total
    if share:
        low, high = wilson_interval(value * total, total, confidence)
    else:
        z = normal_quantile(confidence)
        se = math.sqrt(sum((s.effective / total) ** 2 * ((s.high - s.low) / (2 * z)) ** 2 for s in known))
        low, high = value - z * se, value + z * se
    weighted = [s for s in known if s.points is not None]
    answers = sum(s.n for s in weighted)
    points = sum(s.n * s.points for s in weighted) / answers if answers else None
    return Side(value, low, high, n, total, points, units)


def compare(now: ScoreTable, before: ScoreTable, crosswalk: Mapping[str, Iterable[str]] | None = None,
            confidence: float = 0.95) -> list[Change]:  # fmt: skip
    """Every unit and criterion of ``now`` against ``before`` (criteria matched by code)."""
    crosswalk = {new: tuple(old) for new, old in (crosswalk or {}).items()}
    earlier = {u.unit: u for u in before.units}
    methods = {c.code: c.method for c in now.rules.criteria}
    out = []
    for unit in now.units:
        olds = crosswalk.get(unit.unit, (unit.unit,) if unit.unit in earlier else ())
        for code, score in unit.criteria.items():
            current = side(score, unit.unit)
            found = [side(earlier[o].criteria[code], o) for o in olds if o in earlier and code in earlier[o].criteria]
            if not found:
                out.append(Change(unit.unit, unit.name, code, current, None, None, None, None))
                continue
            previous = pooled(found, methods.get(code) != "mean", confidence)
            d = lo = hi = None
            both = (current.value, current.low, current.high, previous.value, previous.low, previous.high)
            if None not in both and not any(math.isnan(x) for x in both):
                d, lo, hi = mover(*both)
            out.append(Change(unit.unit, unit.name, code, current, previous, d, lo, hi))
    return out
