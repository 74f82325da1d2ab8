"""How sure is a rank? (issue 20, part 4): the units' totals recomputed on bootstrap samples of
their respondents, and the range of ranks each unit holds in the middle 95 % of them.

Each replicate draws, in every group × unit, as many respondents as it has, with replacement
(Efron & Tibshirani, *An Introduction to the Bootstrap*, 1993, ch. 6; resampling within each unit
and group keeps the design's strata). Each criterion's value is recomputed from the drawn people's
sums exactly as ``compute.score`` computes it from everyone's (weights renormalised over the
sources with answers; shares, means and bands alike), its points unrounded, the total their sum,
and the units ranked (ties share the better rank). A unit's range is the 2.5th to 97.5th
percentile of its ranks. The seed is recorded, so the same answers give the same ranges.

Pure: numpy arrays of per-respondent sums in, ranges out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .compute import BAND_TOLERANCE
from .rules import Rules

#: replicates drawn; the ranges of the 2.5th and 97.5th percentiles settle well before this
REPLICATES = 1000
#: fewer for a national campaign: replicates × respondents kept under this (about 5 s on 2 cores)
WORK = 100_000_000
FEWEST = 200


def replicates_for(respondents: int) -> int:
    """1,000 replicates, fewer (never under 200) when the campaign is so large that 1,000 would
    take the workbook past its time: 200,000 respondents get 500.

    >>> replicates_for(12_000), replicates_for(200_000), replicates_for(5_000_000)
    (1000, 500, 200)
    """
    return max(FEWEST, min(REPLICATES, WORK // max(respondents, 1)))


@dataclass(frozen=True)
class RankRange:
    low: int  #: the best rank held in the middle 95 % of replicates
    high: int  #: the worst

    @property
    def certain(self) -> bool:
        return self.low == self.high


@dataclass(frozen=True)
class People:
    """One group × unit: per respondent (rows) and per spec (columns, ``specs`` order) how many of
    the spec's items they answered (``m``) and what their values add up to (``y``)."""

    m: np.ndarray
    y: np.ndarray


def _points(criterion, value: np.ndarray) -> np.ndarray:
    if criterion.method == "bands":
        percent = 100 * value
        points = np.zeros_like(value)
        for band in sorted(criterion.bands, key=lambda b: b.minimum):  # a higher band overrides a lower
            points = np.where(percent + BAND_TOLERANCE >= band.minimum, band.points, points)
        return np.where(np.isnan(value), 0.0, points)
    return np.where(np.isnan(value), 0.0, criterion.max_points * value)


def bootstrap_ranks(
    rules: Rules,
    specs: Sequence[tuple[str, str, int]],
    people: Mapping[tuple[str, str], People],
    ranked: Sequence[str],
    replicates: int = REPLICATES,
    seed: int = 2024,
    zeroed: frozenset[str] = frozenset(),
) -> dict[str, RankRange]:
    """The rank range of each unit in ``ranked`` (the units the table ranks).

    ``specs``: (group, criterion, source number) of each column of ``People``; ``people``:
    (group, unit) → the respondents' sums; ``zeroed``: units whose points the rules set to 0 (too
    small a sample), 0 in every replicate too.
    """
    if not ranked:
        return {}
    rng = np.random.default_rng(seed)
    index = {spec: i for i, spec in enumerate(specs)}
    by_unit: dict[str, list[tuple[str, People]]] = {}
    for (group, code), cell in people.items():
        by_unit.setdefault(code, []).append((group, cell))
    totals = np.zeros((replicates, len(ranked)))
    for u, unit in enumerate(ranked):
        if unit in zeroed:
            continue
        # per (group), the replicate sums M[b, spec] and Y[b, spec] of the drawn respondents
        drawn: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for group, cell in sorted(by_unit.get(unit, []), key=lambda gc: gc[0]):
            if len(cell.m) == 0:
                continue
            # how many times each respondent is drawn, per replicate (n draws of n with replacement,
            # counted: a multinomial sample, six times faster than numpy's multinomial for 60 people);
            # the drawn sums are then one product
            n = len(cell.m)
            picks = rng.integers(0, n, size=(replicates, n)) + n * np.arange(replicates)[:, None]
            times = np.bincount(picks.ravel(), minlength=replicates * n).reshape(replicates, n).astype(float)
            drawn[group] = (times @ cell.m, times @ cell.y)
        for criterion in rules.criteria:
            value = np.zeros(replicates)
            weight = np.zeros(replicates)
            for k, source in enumerate(criterion.sources):
                column = index.get((source.group, criterion.code, k))
                if column is None or source.group not in drawn:
                    continue
                m, y = drawn[source.group][0][:, column], drawn[source.group][1][:, column]
                has = m > 0
                share = np.divide(y, m, out=np.zeros(replicates), where=has)
                value += np.where(has, source.weight * share, 0.0)
                weight += np.where(has, source.weight, 0.0)
            value = np.divide(value, weight, out=np.full(replicates, np.nan), where=weight > 0)
            totals[:, u] += _points(criterion, value)
    # rank 1 = the highest total; ties share the better rank
    order = np.sort(totals, axis=1)[:, ::-1]
    ranks = np.empty_like(totals, dtype=int)
    for b in range(replicates):
        ranks[b] = np.searchsorted(-order[b], -totals[b], side="left") + 1
    low = np.percentile(ranks, 2.5, axis=0, method="lower")
    high = np.percentile(ranks, 97.5, axis=0, method="higher")
    return {unit: RankRange(int(low[u]), int(high[u])) for u, unit in enumerate(ranked)}


def point_totals(rules: Rules, specs: Sequence[tuple[str, str, int]], people: Mapping[tuple[str, str], People],
                 units: Sequence[str]) -> dict[str, float]:  # fmt: skip
    """The unrounded totals of everyone's sums (no resampling): what each replicate recomputes,
    equal to the scores table's totals before rounding (the tests check it)."""
    index = {spec: i for i, spec in enumerate(specs)}
    found = {}
    for unit in units:
        total = 0.0
        for criterion in rules.criteria:
            value = weight = 0.0
            for k, source in enumerate(criterion.sources):
                column = index.get((source.group, criterion.code, k))
                cell = people.get((source.group, unit))
                if column is None or cell is None:
                    continue
                m, y = float(cell.m[:, column].sum()), float(cell.y[:, column].sum())
                if m > 0:
                    value += source.weight * y / m
                    weight += source.weight
            total += float(_points(criterion, np.array([value / weight if weight else np.nan]))[0])
        found[unit] = total
    return found
