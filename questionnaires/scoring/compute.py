"""Turning answer counts into points: pure, counts in and a table out.

The input is the one SQL aggregate the app makes (valid answers per group × unit × question ×
level); nothing here sees a single response. See ``questionnaires/SCORING.md`` for the methods.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from ..model import Questionnaire
from .rules import Criterion, Rules
from .stats import ClusterSums, mean_interval, normal_quantile, ratio_variance, t_quantile, wilson_interval

#: a percentage this close to a band's threshold counts as reaching it (float noise, not a person)
BAND_TOLERANCE = 1e-9


@dataclass(frozen=True)
class LevelCount:
    group: str
    unit: str  #: code of the unit the answers are about
    question: str
    level: int
    n: int


@dataclass
class Cell:
    """The answers of one group × unit × question folded: how many, Σlevel, Σlevel², per level."""

    n: int = 0
    total: float = 0.0
    squares: float = 0.0
    levels: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class CriterionScore:
    unit: str
    code: str
    n: int  #: valid answers the criterion drew on
    share: float | None  #: share of positive answers (share and bands methods)
    mean: float | None  #: mean level, normalised to 0–1 (mean method)
    low: float | None  #: 95 % interval of the value used (share or normalised mean)
    high: float | None
    points: float | None  #: None when the unit is excluded
    flags: tuple[str, ...] = ()
    #: design effect of the respondent clusters: the interval's variance over the one that treats
    #: every answer as independent (None without respondent sums, or under two respondents)
    deff: float | None = None
    respondents: int = 0  #: the people behind ``n`` answers (0: not known)

    @property
    def value(self) -> float | None:
        return self.share if self.share is not None else self.mean


@dataclass(frozen=True)
class UnitScore:
    unit: str
    name: str
    total: float | None
    rank: int | None
    insufficient: bool
    no_data: bool
    criteria: dict[str, CriterionScore]


@dataclass(frozen=True)
class ScoreTable:
    rules: Rules
    units: list[UnitScore]

    def unit(self, code: str) -> UnitScore:
        return next(u for u in self.units if u.unit == code)


def _positive_levels(criterion: Criterion, lo: int, hi: int) -> frozenset[int]:
    if criterion.positive is not None:
        return criterion.positive
    return frozenset({hi - 1, hi}) if hi - lo >= 3 else frozenset({hi})


def round_points(x: float | None) -> float | None:
    """Points to two decimals, halves rounded up, as Vietnamese documents write them.

    >>> round_points(0.625), round_points(1.005), round_points(2 / 3)
    (0.63, 1.01, 0.67)
    """
    if x is None:
        return None
    return float(Decimal(repr(x)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def score(
    rules: Rules,
    counts: Iterable[LevelCount],
    units: Sequence[tuple[str, str]],
    questionnaires: Mapping[str, Questionnaire],
    quotas: Mapping[tuple[str, str], tuple[int, int]] | None = None,
    confidence: float = 0.95,
    clusters: Mapping[tuple[str, str, str, int], ClusterSums] | None = None,
    cells: Mapping[tuple[str, str, str], Cell] | None = None,
) -> ScoreTable:
    """Points per unit and criterion.

    Parameters
    ----------
    rules : the campaign's scoring rules
    counts : valid answers per group × unit × question × level
    units : (code, name) of every unit to score, in display order
    questionnaires : group code → the questionnaire it answered (for the scales)
    quotas : (group, unit) → (target, valid responses), for the "insufficient sample" check;
        only cells listed here are checked
    clusters : (group, unit, criterion, source number) → the respondents' sums of that source: with them the
        intervals count respondents, not answers (SCORING.md, "Intervals"), and show a design effect
    cells : (group, unit, question) → ``Cell``: the counts already folded (``fold``), in place of ``counts``
    """
    if cells is None:
        cells = fold(counts)
    quotas = quotas or {}
    groups = {s.group for c in rules.criteria for s in c.sources}
    z = normal_quantile(confidence)
    plans = [_plan(c, questionnaires) for c in rules.criteria]

    results = []
    for code, name in units:
        insufficient = any(
            (g, code) in quotas and quotas[(g, code)][1] < quotas[(g, code)][0] * rules.min_share_of_quota
            for g in groups
        )
        by_code = {c.code: _criterion(c, code, cells, plan, z, confidence, clusters)
                   for c, plan in zip(rules.criteria, plans, strict=True)}  # fmt: skip
        no_data = all(s.n == 0 for s in by_code.values())
        if insufficient and rules.insufficient_effect != "flag":
            keep = rules.insufficient_effect == "zero"
            by_code = {k: _with(s, 0.0 if keep else None, (*s.flags, "insufficient_sample"))
                       for k, s in by_code.items()}  # fmt: skip
        elif insufficient:
            by_code = {k: _with(s, s.points, (*s.flags, "insufficient_sample")) for k, s in by_code.items()}
        # the points as the index shows them: each criterion to two decimals, the total their sum,
        # so every total is the sum of the parts printed beside it (SCORING.md, "Rounding")
        by_code = {k: _with(s, round_points(s.points), s.flags) for k, s in by_code.items()}
        excluded = insufficient and rules.insufficient_effect == "exclude"
        total = None if excluded else round_points(sum(s.points or 0.0 for s in by_code.values()))
        results.append(UnitScore(code, name, total, None, insufficient, no_data, by_code))

    ranked = sorted((u for u in results if u.total is not None), key=lambda u: -u.total)
    ranks: dict[str, int] = {}
    for position, u in enumerate(ranked, start=1):
        previous = ranked[position - 2] if position > 1 else None
        same = previous is not None and math.isclose(previous.total, u.total, abs_tol=1e-9)
        ranks[u.unit] = ranks[previous.unit] if same else position
    final = [
        UnitScore(u.unit, u.name, u.total, ranks.get(u.unit), u.insufficient, u.no_data, u.criteria) for u in results
    ]
    return ScoreTable(rules, final)


def fold(counts: Iterable[LevelCount]) -> dict[tuple[str, str, str], Cell]:
    """(group, unit, question) → its ``Cell``: the level counts folded, as ``score`` reads them."""
    cells: dict[tuple[str, str, str], Cell] = defaultdict(Cell)
    for c in counts:
        cell = cells[(c.group, c.unit, c.question)]
        cell.n += c.n
        cell.total += c.level * c.n
        cell.squares += c.level * c.level * c.n
        cell.levels[c.level] = cell.levels.get(c.level, 0) + c.n
    return cells


def _with(s: CriterionScore, points: float | None, flags: tuple[str, ...]) -> CriterionScore:
    """``s`` with other points and flags (``dataclasses.replace`` costs ten times more: 30,000 a
    national campaign)."""
    return CriterionScore(s.unit, s.code, s.n, s.share, s.mean, s.low, s.high, points, flags, s.deff, s.respondents)


def _plan(criterion: Criterion, questionnaires: Mapping[str, Questionnaire]) -> list:
    """Per source of ``criterion``: (number, source, [(question, lowest level, span, positive
    levels)]), looked up once per scoring instead of once per unit."""
    plan = []
    for k, source in enumerate(criterion.sources):
        questionnaire = questionnaires[source.group]
        items = []
        for qid in source.questions:
            lo, hi = 1, len(questionnaire.question(qid).scale.labels)
            items.append((qid, lo, hi - lo, _positive_levels(criterion, lo, hi)))
        plan.append((k, source, items))
    return plan


def _criterion(criterion, unit, cells, plan, z, confidence, clusters=None) -> CriterionScore:
    parts = []  # (weight, n, positive, normalised total, normalised squares, respondent sums)
    for k, source, items in plan:
        group = source.group
        n = positive = 0
        total = squares = 0.0
        for qid, lo, span, wanted in items:
            cell = cells.get((group, unit, qid))
            if cell is None or cell.n == 0:
                continue
            n += cell.n
            positive += sum(k for level, k in cell.levels.items() if level in wanted)
            # normalise each answer to 0–1: (level − lo) / (hi − lo)
            total += (cell.total - lo * cell.n) / span
            squares += (cell.squares - 2 * lo * cell.total + lo * lo * cell.n) / (span * span)
        sums = clusters.get((group, unit, criterion.code, k)) if clusters is not None else None
        parts.append((source.weight, n, positive, total, squares, sums, group))

    available = [p for p in parts if p[1] > 0]
    n_all = sum(p[1] for p in parts)
    if not available:
        return CriterionScore(unit, criterion.code, 0, None, None, None, None, 0.0, ("no_data",))
    flags = ("partial_sources",) if len(available) < len(parts) else ()
    weight_sum = sum(p[0] for p in available)
    weights = [p[0] / weight_sum for p in available]
    by_share = criterion.method in ("share",) or (criterion.method == "bands" and criterion.bands_on == "share")
    # per source: the variance treating answers as independent, and the one counting respondents
    independent, clustered = [], []
    for p in available:
        if by_share:
            s_ = p[2] / p[1]
            independent.append(s_ * (1 - s_) / p[1])
        else:
            m_ = p[3] / p[1]
            independent.append(max(0.0, (p[4] - p[1] * m_ * m_) / (p[1] - 1)) / p[1] if p[1] > 1 else math.nan)
        clustered.append(ratio_variance(p[5]) if p[5] is not None else None)
    counted = all(v is not None for v in clustered)
    srs = sum(w * w * v for w, v in zip(weights, independent, strict=True))
    deff = None
    if counted:
        # sources of different groups are different people: their variances add; sources of the same
        # group are the same people, their covariance unknown here: bounded by perfect correlation,
        # Var(Σw·r) ≤ (Σw·√v)² (SCORING.md, "Intervals")
        by_group: dict[str, float] = {}
        for w, v, p in zip(weights, clustered, available, strict=True):
            by_group[p[6]] = by_group.get(p[6], 0.0) + w * math.sqrt(v)
        design = sum(sd * sd for sd in by_group.values())
        deff = design / srs if srs > 0 else None
    respondents = sum(p[5].respondents for p in available if p[5] is not None)

    if by_share:
        shares = [p[2] / p[1] for p in available]
        value = sum(w * s for w, s in zip(weights, shares, strict=True))
        if len(available) == 1:
            # Wilson's interval on the effective number of answers n / deff (deff below 1 is not
            # allowed to narrow it): Kish's design effect, as Dean & Pagano (2015) evaluate it
            effective = available[0][1] / max(1.0, deff) if deff is not None else available[0][1]
            low, high = wilson_interval(value * effective, effective, confidence)
        else:
            se = math.sqrt(max(design, srs) if counted else srs)
            low, high = max(0.0, value - z * se), min(1.0, value + z * se)
        share, mean = value, None
    else:
        means, variances = [], []
        for p in available:
            m, lo_, hi_ = mean_interval(p[1], p[3], p[4], confidence)
            means.append(m)
            variances.append(((hi_ - lo_) / (2 * z)) ** 2 if not math.isnan(lo_) else math.nan)
        value = sum(w * m for w, m in zip(weights, means, strict=True))
        if len(available) == 1 and counted:
            t = t_quantile(confidence, available[0][5].respondents - 1)
            half = t * math.sqrt(max(clustered[0], independent[0]))
            low, high = value - half, value + half
        elif len(available) == 1:
            _, low, high = mean_interval(available[0][1], available[0][3], available[0][4], confidence)
        else:
            plain = sum(w * w * v for w, v in zip(weights, variances, strict=True))
            se = math.sqrt(max(design, plain) if counted else plain)
            low, high = value - z * se, value + z * se
        if not math.isnan(low):
            low, high = max(0.0, low), min(1.0, high)
        share, mean = None, value

    if criterion.method == "bands":
        percent = 100 * value
        points = next((b.points for b in criterion.bands if percent + BAND_TOLERANCE >= b.minimum), 0.0)
    else:
        points = criterion.max_points * value
    return CriterionScore(unit, criterion.code, n_all, share, mean, low, high, points, flags, deff, respondents)


@dataclass(frozen=True)
class Satisfaction:
    label: str
    share: float | None  #: share of positive answers
    n: int


def satisfaction(
    questionnaire: Questionnaire, group: str, counts: Iterable[LevelCount]
) -> tuple[list[tuple[str, Satisfaction]], list[tuple[str, Satisfaction]], Satisfaction]:
    """SIPAS-style satisfaction of one group over all units: per item, per aspect (the mean of its
    items' shares) and overall (the mean of the aspects' shares). Positive = the top two levels of
    a scale of four or more levels (4–5 of five), else the top level."""
    histogram: dict[str, dict[int, int]] = defaultdict(dict)
    for c in counts:
        if c.group == group:
            h = histogram[c.question]
            h[c.level] = h.get(c.level, 0) + c.n
    items, by_aspect = [], defaultdict(list)
    for question in questionnaire.scale_items():
        h = histogram.get(question.id, {})
        n = sum(h.values())
        hi = len(question.scale.labels)
        wanted = {hi - 1, hi} if hi >= 4 else {hi}
        share = sum(k for level, k in h.items() if level in wanted) / n if n else None
        item = Satisfaction(question.label, share, n)
        items.append((question.id, item))
        by_aspect[question.aspect].append(item)
    aspects = []
    for key, members in by_aspect.items():
        shares = [m.share for m in members if m.share is not None]
        aspects.append(
            (key, Satisfaction(questionnaire.aspects[key], sum(shares) / len(shares) if shares else None,
                               sum(m.n for m in members)))
        )  # fmt: skip
    aspect_shares = [a.share for _, a in aspects if a.share is not None]
    overall = Satisfaction(
        "Chung", sum(aspect_shares) / len(aspect_shares) if aspect_shares else None, sum(a.n for _, a in aspects)
    )
    return items, aspects, overall
