"""Sample sizes against published tables and a second implementation (scipy's chi-square)."""

from __future__ import annotations

import math

import pytest
from scipy.stats import chi2, norm

import sampling
from sampling import SamplingError, cochran_size, margin_of_error, yamane_size, z_score

# Yamane (1967), Table for ±5 % at 95 % (p = 0.5); the table rounds to the nearest person.
YAMANE_TABLE_5PCT = {500: 222, 1000: 286, 2000: 333, 5000: 370, 10000: 385, 100000: 398}
# Krejcie & Morgan (1970), "Determining sample size for research activities", Table 1.
KREJCIE_MORGAN = {
    10: 10,
    50: 44,
    100: 80,
    200: 132,
    500: 217,
    1000: 278,
    2000: 322,
    5000: 357,
    10000: 370,
    75000: 382,
    1000000: 384,
}  # fmt: skip  (the table's 100,000 → 384 is off by one: its own formula gives 382.7)


def _krejcie_morgan_exact(N: int) -> float:
    """s = X²·N·P(1−P) / (d²(N−1) + X²·P(1−P)), X² = χ²(1 df, 0.95), P = 0.5, d = 0.05."""
    x2 = chi2.ppf(0.95, 1)
    return x2 * N * 0.25 / (0.05**2 * (N - 1) + x2 * 0.25)


def test_public_names_are_at_the_package_top():
    assert sampling.yamane_size is yamane_size and sampling.cochran_size is cochran_size


@pytest.mark.parametrize(("N", "published"), sorted(YAMANE_TABLE_5PCT.items()))
def test_yamane_matches_the_published_table(N, published):
    exact = N / (1 + N * 0.05**2)
    assert round(exact) == published  # the table rounds …
    assert yamane_size(N, 0.05) == math.ceil(exact - 1e-9)  # … we round up: whole people, never short


@pytest.mark.parametrize(("N", "published"), sorted(KREJCIE_MORGAN.items()))
def test_cochran_with_correction_matches_krejcie_morgan(N, published):
    exact = _krejcie_morgan_exact(N)
    assert abs(exact - published) <= 0.5 + 1e-9
    assert cochran_size(0.05, N=N) == math.ceil(exact - 1e-9)


def test_cochran_infinite_population_and_other_confidences():
    assert cochran_size(0.05) == 385  # 1.96² · 0.25 / 0.0025 = 384.15
    assert cochran_size(0.03) == 1068
    assert cochran_size(0.05, confidence=0.99) == math.ceil(norm.ppf(0.995) ** 2 * 0.25 / 0.0025)
    assert cochran_size(0.05, p=0.8) == math.ceil(norm.ppf(0.975) ** 2 * 0.16 / 0.0025)
    assert z_score(0.95) == pytest.approx(1.959963984540054, abs=1e-12)


def test_design_effect_and_response_rate_inflate():
    base = 384.14588206941244 / (1 + 383.14588206941244 / 1000)  # n for N=1000
    assert cochran_size(0.05, N=1000, design_effect=1.5) == math.ceil(base * 1.5)
    assert cochran_size(0.05, N=1000, response_rate=0.8) == math.ceil(base / 0.8)
    assert yamane_size(1000, 0.05, response_rate=0.5) == math.ceil(1000 / 3.5 / 0.5)


def test_small_frames_never_exceed_the_population():
    assert yamane_size(1, 0.05) == 1
    assert cochran_size(0.05, N=1) == 1
    assert cochran_size(0.05, N=5) == 5  # N smaller than n0: everybody
    assert cochran_size(0.05, N=20) == 20
    assert cochran_size(0.05, N=100) == 80


@pytest.mark.parametrize("e", [0, 1, -0.1, 1.5, float("nan"), "0.05"])
def test_invalid_margins_are_rejected(e):
    with pytest.raises(SamplingError, match="Sai số cho phép"):
        cochran_size(e)
    with pytest.raises(SamplingError, match="Sai số cho phép"):
        yamane_size(1000, e)


@pytest.mark.parametrize("N", [0, -5, 2.5, True])
def test_invalid_populations_are_rejected(N):
    with pytest.raises(SamplingError, match="Quy mô tổng thể"):
        yamane_size(N, 0.05)
    with pytest.raises(SamplingError, match="Quy mô tổng thể"):
        cochran_size(0.05, N=N)


@pytest.mark.parametrize("confidence", [0, 1, 95, -0.5])
def test_invalid_confidence_is_rejected(confidence):
    with pytest.raises(SamplingError, match="Độ tin cậy"):
        cochran_size(0.05, confidence=confidence)


def test_invalid_adjustments_are_rejected():
    with pytest.raises(SamplingError, match="Hệ số thiết kế"):
        cochran_size(0.05, design_effect=0.5)
    with pytest.raises(SamplingError, match="Tỷ lệ trả lời"):
        cochran_size(0.05, response_rate=0)
    with pytest.raises(SamplingError, match="Tỷ lệ kỳ vọng"):
        cochran_size(0.05, p=1.5)


def test_margin_of_error_inverts_cochran():
    assert margin_of_error(385) == pytest.approx(norm.ppf(0.975) * math.sqrt(0.25 / 385))
    n = cochran_size(0.05, N=1000)
    assert margin_of_error(n, N=1000) <= 0.05 < margin_of_error(n - 1, N=1000)
    assert margin_of_error(30, N=30) == 0.0
    assert margin_of_error(60, N=980) == pytest.approx(
        1.959963984540054 * math.sqrt(0.25 / 60) * math.sqrt(920 / 979), rel=1e-12
    )
    with pytest.raises(SamplingError):
        margin_of_error(31, N=30)
    with pytest.raises(SamplingError):
        margin_of_error(0)
