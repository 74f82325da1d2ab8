"""Sample sizes and margins of error for a proportion.

Every function returns whole people (rounded up) or a margin as a fraction, and raises
:class:`~sampling.errors.SamplingError` with a Vietnamese message on bad input.
"""

from __future__ import annotations

import math

from scipy.stats import norm

from .errors import SamplingError

#: float noise below this is not worth an extra respondent (384.0000000001 is 384)
_EPS = 1e-9


def _check_margin(e: float) -> None:
    if not isinstance(e, int | float) or not 0 < e < 1:
        raise SamplingError(f"Sai số cho phép phải lớn hơn 0 và nhỏ hơn 1 (ví dụ 0,05 cho 5%), nhận được {e!r}.")


def _check_population(N) -> None:
    if N is None:
        return
    if isinstance(N, bool) or not isinstance(N, int | float) or N < 1 or int(N) != N:
        raise SamplingError(f"Quy mô tổng thể N phải là số nguyên không nhỏ hơn 1, nhận được {N!r}.")


def _check_adjustments(design_effect: float, response_rate: float) -> None:
    if not design_effect >= 1:
        raise SamplingError(f"Hệ số thiết kế (design effect) phải từ 1 trở lên, nhận được {design_effect!r}.")
    if not 0 < response_rate <= 1:
        raise SamplingError(f"Tỷ lệ trả lời dự kiến phải lớn hơn 0 và không quá 1, nhận được {response_rate!r}.")


def z_score(confidence: float) -> float:
    """Two-sided standard normal quantile: z = Φ⁻¹(1 − (1 − confidence)/2); 0.95 → 1.959964."""
    if not isinstance(confidence, int | float) or not 0 < confidence < 1:
        raise SamplingError(f"Độ tin cậy phải lớn hơn 0 và nhỏ hơn 1 (ví dụ 0,95), nhận được {confidence!r}.")
    return float(norm.ppf(1 - (1 - confidence) / 2))


def _whole(n: float, N: int | None, design_effect: float, response_rate: float) -> int:
    n = n * design_effect / response_rate
    people = math.ceil(n - _EPS)
    if N is not None and response_rate == 1:
        people = min(people, int(N))
    return max(people, 1)


def yamane_size(N: int, e: float, design_effect: float = 1.0, response_rate: float = 1.0) -> int:
    """Yamane's sample size for a population of ``N`` and a margin of error ``e``.

    Formula: n = N / (1 + N·e²), then × design effect ÷ expected response rate, rounded up.
    Source: T. Yamane, *Statistics: An Introductory Analysis* (1967); it is the formula of the
    national satisfaction-survey (SIPAS) training material. It assumes p = 0.5 and 95 % confidence.

    Parameters
    ----------
    N : population size (e.g. procedures handled in the period), an integer ≥ 1
    e : margin of error, 0 < e < 1 (0.05 for ±5 %)
    design_effect : ≥ 1, for cluster or unequal-probability designs
    response_rate : 0 < r ≤ 1; the size is inflated so that r·n answers are expected

    Returns
    -------
    int : people to ask, rounded up; never more than N when response_rate is 1

    Examples
    --------
    >>> yamane_size(1000, 0.05), yamane_size(100_000, 0.05)
    (286, 399)
    """
    _check_population(N)
    _check_margin(e)
    _check_adjustments(design_effect, response_rate)
    return _whole(N / (1 + N * e * e), N, design_effect, response_rate)


def cochran_size(
    e: float,
    confidence: float = 0.95,
    p: float = 0.5,
    N: int | None = None,
    design_effect: float = 1.0,
    response_rate: float = 1.0,
) -> int:
    """Cochran's sample size to estimate a proportion within ±``e``.

    Formula: n0 = z²·p·(1 − p) / e², with z the two-sided normal quantile of ``confidence``;
    for a finite population of N, n = n0 / (1 + (n0 − 1)/N); then × design effect ÷ expected
    response rate, rounded up.
    Source: W. G. Cochran, *Sampling Techniques*, 3rd ed. (1977), eqs. 4.2 and 4.3.

    Parameters
    ----------
    e : margin of error, 0 < e < 1
    confidence : 0 < c < 1, default 0.95
    p : expected proportion, 0 ≤ p ≤ 1; 0.5 (the default) is the safest guess
    N : population size, or None for an infinite population
    design_effect, response_rate : as in :func:`yamane_size`

    Examples
    --------
    >>> cochran_size(0.05), cochran_size(0.05, N=1000)
    (385, 278)
    """
    _check_margin(e)
    _check_population(N)
    _check_adjustments(design_effect, response_rate)
    if not 0 <= p <= 1:
        raise SamplingError(f"Tỷ lệ kỳ vọng p phải nằm trong khoảng từ 0 đến 1, nhận được {p!r}.")
    z = z_score(confidence)
    n0 = z * z * p * (1 - p) / (e * e)
    n = n0 if N is None else n0 / (1 + (n0 - 1) / N)
    return _whole(n, N, design_effect, response_rate)


def margin_of_error(n: int, N: int | None = None, confidence: float = 0.95, p: float = 0.5) -> float:
    """The margin of error a sample of ``n`` gives for a proportion (the inverse of Cochran).

    Formula: e = z·√(p(1 − p)/n)·√((N − n)/(N − 1)) (finite-population correction when N is
    known). Source: Cochran (1977), eq. 3.9 rearranged. A census (n = N) has e = 0.

    >>> round(margin_of_error(385), 4), margin_of_error(30, N=30)
    (0.0499, 0.0)
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise SamplingError(f"Cỡ mẫu phải là số nguyên dương, nhận được {n!r}.")
    _check_population(N)
    if N is not None and n > N:
        raise SamplingError(f"Cỡ mẫu ({n}) không thể lớn hơn quy mô tổng thể ({N}).")
    z = z_score(confidence)
    e = z * math.sqrt(p * (1 - p) / n)
    if N is not None:
        e *= math.sqrt((N - n) / (N - 1)) if N > 1 else 0.0
    return e
