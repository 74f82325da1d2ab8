"""Statistics for the results pages: Wilson intervals, Cronbach's alpha, differences between units.

Pure functions on counts and sums; scipy supplies the distributions.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import chi2_contingency, norm
from scipy.stats import t as student_t


@functools.lru_cache(maxsize=64)
def normal_quantile(confidence: float) -> float:
    """The two-sided normal quantile z of a confidence level (1.96 for 0.95), computed once per
    level: scipy's ppf costs 0.25 ms a call, and a national campaign asks it for every unit.

    >>> round(normal_quantile(0.95), 4)
    1.96
    """
    return float(norm.ppf(1 - (1 - confidence) / 2))


@functools.lru_cache(maxsize=4096)
def t_quantile(confidence: float, df: float) -> float:
    """The two-sided Student's t quantile for ``df`` degrees of freedom, computed once per pair."""
    return float(student_t.ppf(1 - (1 - confidence) / 2, df))


def wilson_interval(positive: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion (``n`` may be an effective sample size, not whole).

    Formula: (p̂ + z²/2n ± z·√(p̂(1 − p̂)/n + z²/4n²)) / (1 + z²/n), z the two-sided normal quantile.
    Source: E. B. Wilson (1927), JASA 22:209–212; it stays inside [0, 1] and behaves at p̂ = 0 or 1.

    >>> [round(x, 4) for x in wilson_interval(57, 60)]
    [0.863, 0.9829]
    """
    if n <= 0:
        return (math.nan, math.nan)
    z = normal_quantile(confidence)
    p = positive / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class ClusterSums:
    """One source of a criterion in one unit, respondent by respondent, summed: ``respondents``
    people; each answered m_i of the criterion's items with values y_i in all (1/0 for a positive
    answer, or the level normalised to 0–1); ``m`` = Σm_i, ``y`` = Σy_i, ``mm`` = Σm_i², ``yy`` =
    Σy_i², ``my`` = Σm_i·y_i. The SQL aggregate makes them (surveyapp/results/services.py)."""

    respondents: int
    m: float
    y: float
    mm: float
    yy: float
    my: float


def ratio_variance(c: ClusterSums) -> float | None:
    """Variance of the pooled value r = Σy/Σm with the respondent as the cluster, by linearisation
    of the ratio estimator:

        v(r) = n/(n − 1) · Σ(y_i − r·m_i)² / (Σm_i)²,  Σ(y_i − r·m_i)² = Σy² − 2rΣmy + r²Σm²

    Source: W. G. Cochran, *Sampling Techniques*, 3rd ed. (1977), §6.2–6.4 (ratio estimators) and
    §9A (clusters of unequal size); K. M. Wolter, *Introduction to Variance Estimation*, 2nd ed.
    (2007), ch. 6 (Taylor series). Equal to statsmodels' cluster-robust variance of a mean
    (tests/test_scoring_clusters.py). None with fewer than two respondents.

    >>> round(ratio_variance(ClusterSums(3, m=6, y=3, mm=14, yy=5, my=8)), 6)
    0.020833
    """
    if c.respondents < 2 or c.m <= 0:
        return None
    r = c.y / c.m
    spread = max(0.0, c.yy - 2 * r * c.my + r * r * c.mm)
    return c.respondents / (c.respondents - 1) * spread / (c.m * c.m)


@dataclass(frozen=True)
class Gap:
    """Two shares of different people (e.g. answers given at the counter and answers given later)
    and their difference ``first − second`` with its interval."""

    first: float
    second: float
    difference: float
    low: float
    high: float

    @property
    def first_higher(self) -> bool:
        """The first is higher beyond chance: the whole interval of the difference is above 0."""
        return self.low > 0


def share_gap(first: ClusterSums, second: ClusterSums, confidence: float = 0.95) -> Gap | None:
    """The difference of two pooled shares from separate respondents, each with its respondent-
    clustered variance (``ratio_variance``): d ± z·√(v₁ + v₂). None when either side has fewer
    than two respondents.

    >>> g = share_gap(ClusterSums(40, 400, 360, 4000, 3400, 3600), ClusterSums(30, 300, 210, 3000, 1800, 2100))
    >>> round(g.difference, 3), g.first_higher
    (0.2, True)
    """
    v1, v2 = ratio_variance(first), ratio_variance(second)
    if v1 is None or v2 is None:
        return None
    z = normal_quantile(confidence)
    a, b = first.y / first.m, second.y / second.m
    half = z * math.sqrt(v1 + v2)
    return Gap(a, b, a - b, a - b - half, a - b + half)


def mean_interval(n: int, total: float, squares: float, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t interval from n, Σx and Σx²: x̄ ± t(n−1)·s/√n (s the sample deviation)."""
    if n <= 0:
        return (math.nan, math.nan, math.nan)
    mean = total / n
    if n == 1:
        return (mean, math.nan, math.nan)
    variance = max(0.0, (squares - n * mean * mean) / (n - 1))
    half = t_quantile(confidence, n - 1) * math.sqrt(variance / n)
    return (mean, mean - half, mean + half)


def cronbach_alpha(items: np.ndarray) -> float:
    """Cronbach's alpha of a respondents × items matrix (complete cases).

    Formula: α = k/(k − 1) · (1 − Σ σ²ᵢ / σ²ₜ), σ² sample variances of each item and of the total.
    Source: L. J. Cronbach (1951), Psychometrika 16:297–334.
    """
    items = np.asarray(items, dtype=float)
    k = items.shape[1]
    if k < 2 or items.shape[0] < 2:
        return math.nan
    total_var = items.sum(axis=1).var(ddof=1)
    if total_var == 0:
        return math.nan
    return k / (k - 1) * (1 - items.var(axis=0, ddof=1).sum() / total_var)


def cronbach_alpha_from_sums(
    k: int, n: int, item_sums: Sequence[float], item_squares: Sequence[float], total_sum: float, total_squares: float
) -> float:
    """The same alpha from sums the database computes (n complete respondents): no raw matrix needed."""
    if k < 2 or n < 2:
        return math.nan

    def var(s: float, q: float) -> float:
        return (q - s * s / n) / (n - 1)

    total_var = var(total_sum, total_squares)
    if total_var <= 0:
        return math.nan
    return k / (k - 1) * (1 - sum(var(s, q) for s, q in zip(item_sums, item_squares, strict=True)) / total_var)


def alpha_words(alpha: float) -> str:
    """Plain Vietnamese for an alpha value (the usual rule of thumb: ≥ 0.7 acceptable)."""
    if math.isnan(alpha):
        return "chưa đủ dữ liệu để đánh giá"
    if alpha >= 0.9:
        return "các câu hỏi đo rất nhất quán"
    if alpha >= 0.8:
        return "các câu hỏi đo nhất quán tốt"
    if alpha >= 0.7:
        return "các câu hỏi đo khá nhất quán (chấp nhận được)"
    if alpha >= 0.6:
        return "độ nhất quán còn thấp, nên xem lại câu hỏi"
    return "các câu hỏi đo không nhất quán, cần xem lại"


@dataclass(frozen=True)
class Difference:
    statistic: float
    p_value: float
    dof: int
    units: int

    @property
    def words(self) -> str:
        if math.isnan(self.p_value):
            return "chưa đủ dữ liệu để so sánh các đơn vị"
        if self.p_value < 0.05:
            return "mức đánh giá khác nhau rõ rệt giữa các đơn vị (p < 0,05)"
        return "chưa thấy khác biệt rõ rệt giữa các đơn vị"


def units_differ(table: np.ndarray) -> Difference:
    """Pearson's chi-square test of independence on a units × levels table of counts.

    Rows and columns that are all zero are dropped first. Source: scipy.stats.chi2_contingency.
    """
    table = np.asarray(table, dtype=float)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0] if table.size else table
    if table.ndim != 2 or table.shape[0] < 2 or table.shape[1] < 2:
        return Difference(math.nan, math.nan, 0, int(table.shape[0]) if table.ndim == 2 else 0)
    result = chi2_contingency(table, correction=False)
    return Difference(float(result.statistic), float(result.pvalue), int(result.dof), table.shape[0])
