"""Weights for a unit whose sample is lopsided (issue 20, part 2): post-stratification to one known
margin, raking to several, weights capped.

A unit's respondents of one group each fall in one category of every margin (their submission
channel, their answer to a single-choice question the rules name, …); the rules give each
category's known share of the unit's population. Raking (iterative proportional fitting, Deming &
Stephan 1940) scales the weights margin after margin until every weighted share is the known one;
with one margin it is post-stratification and exact after one pass. Weights are kept at mean 1
(they sum to the respondents), and no weight may exceed ``cap`` times the mean: after each pass
the weights above it are cut to it (trimming, as the ANES raking procedure does; DeBell & Krosnick
2009), so with a cap the margins are met as closely as the cap allows, and ``converged`` says
whether they were met within the tolerance.

A respondent without a category (the question left blank) keeps the weight the others' raking
gives their share: that margin's known shares are spread over the answered part only. A category
nobody in the unit falls in cannot be weighted up: its share is given to the other categories in
proportion and the result says so (``empty``).

The effective sample size is Kish's (Σw)² / Σw² (L. Kish, *Survey Sampling*, 1965, §11.7).

Pure: numpy arrays in, weights out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

#: a weighted share may differ from its known share by this much and count as met
TOLERANCE = 1e-10
MAX_PASSES = 1000


@dataclass(frozen=True)
class Weights:
    weights: np.ndarray  #: one per respondent, mean 1
    passes: int  #: raking passes made
    converged: bool  #: every margin met within ``TOLERANCE`` (and under the cap)
    empty: tuple[tuple[int, str], ...] = ()  #: (margin number, category) with a known share but nobody in it

    @property
    def effective_n(self) -> float:
        """Kish's effective sample size: (Σw)² / Σw²."""
        w = self.weights
        return float(w.sum() ** 2 / (w * w).sum()) if len(w) else 0.0


def rake(
    categories: Sequence[Sequence[str | None]],
    shares: Sequence[Mapping[str, float]],
    cap: float | None = None,
    tolerance: float = TOLERANCE,
    max_passes: int = MAX_PASSES,
) -> Weights:
    """Weights of n respondents so that each margin's weighted shares are the known ones.

    ``categories[k][i]``: respondent i's category in margin k (None: not known); ``shares[k]``:
    margin k's known share per category (they add up to 1); ``cap``: no weight above cap × mean.

    >>> w = rake([["a", "a", "a", "b"]], [{"a": 0.5, "b": 0.5}]).weights
    >>> [round(float(x), 6) for x in w]
    [0.666667, 0.666667, 0.666667, 2.0]
    """
    n = len(categories[0]) if categories else 0
    if n == 0:
        return Weights(np.zeros(0), 0, True)
    masks, targets, empty = [], [], []
    for k, (column, known) in enumerate(zip(categories, shares, strict=True)):
        column = np.asarray(column, dtype=object)
        answered = np.array([c is not None for c in column])
        present = {c: column == c for c in known if (column == c).any()}
        empty += [(k, c) for c in known if c not in present and known[c] > 0]
        total = sum(known[c] for c in present)
        if total <= 0:
            continue  # nobody in any category of this margin: it cannot weight anyone
        part = answered.mean()  # the answered part keeps its own share of the unit
        for c, mask in present.items():
            masks.append(mask)
            targets.append(part * known[c] / total)
        if not answered.all():
            masks.append(~answered)
            targets.append(1.0 - part)
    weights = np.ones(n)
    if not masks:
        return Weights(weights, 0, True, tuple(empty))
    passes, converged = 0, False
    while passes < max_passes:
        passes += 1
        for mask, target in zip(masks, targets, strict=True):
            got = weights[mask].sum() / n
            if got > 0:
                weights[mask] *= target / got
        weights *= n / weights.sum()
        if cap is not None:
            weights = _trim(weights, cap)
        worst = max(abs(weights[mask].sum() / n - target) for mask, target in zip(masks, targets, strict=True))
        if worst <= tolerance:
            converged = True
            break
    return Weights(weights, passes, converged, tuple(empty))


def _trim(weights: np.ndarray, cap: float) -> np.ndarray:
    """Weights above ``cap`` (× the mean of 1) cut to it, the others scaled up to keep the sum.

    >>> _trim(np.array([3.0, 0.5, 0.5, 0.5, 0.5]), 2.0).tolist()
    [2.0, 0.75, 0.75, 0.75, 0.75]
    """
    n = len(weights)
    weights = weights.copy()
    if cap * n < n:
        raise ValueError("cap below the mean weight")
    while True:
        over = weights > cap * (1 + 1e-12)
        if not over.any():
            return weights
        at = weights >= cap * (1 - 1e-12)
        weights[at] = cap
        rest = ~at
        weights[rest] *= (n - cap * at.sum()) / weights[rest].sum()


def weighted_shares(categories: Sequence[str | None], weights: np.ndarray) -> dict[str, float]:
    """Each category's weighted share of the respondents (the check of a margin)."""
    column = np.asarray(categories, dtype=object)
    total = float(weights.sum())
    return {c: float(weights[column == c].sum()) / total for c in sorted({c for c in column if c is not None})}
