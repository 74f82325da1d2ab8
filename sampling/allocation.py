"""Allocating a sample across units, in whole people, with bounds.

Every allocator returns ``dict[unit code, int]``. Bounds apply to every method: a unit never gets
more than its frame (when the frame is known), nor more than ``maximum``, nor less than
``minimum`` (unless its frame is smaller). Methods that split a fixed total keep it exact with the
largest-remainder rule (Hamilton's method).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .errors import SamplingError
from .sizes import cochran_size


@dataclass(frozen=True)
class UnitFrame:
    """What the planner knows of a unit."""

    code: str
    kind: str = ""
    #: people (or procedures) in the unit's frame; None when unknown (no cap)
    frame: int | None = None
    #: a prior guess of the proportion satisfied, for Neyman allocation
    prior_p: float | None = None


@dataclass(frozen=True)
class Bounds:
    minimum: int = 0
    maximum: int | None = None

    def __post_init__(self) -> None:
        if self.minimum < 0 or (self.maximum is not None and self.maximum < self.minimum):
            raise SamplingError(f"Giới hạn mỗi đơn vị không hợp lệ: tối thiểu {self.minimum}, tối đa {self.maximum}.")

    def limits(self, unit: UnitFrame) -> tuple[int, int | None]:
        upper = self.maximum
        if unit.frame is not None:
            upper = unit.frame if upper is None else min(upper, unit.frame)
        lower = self.minimum if upper is None else min(self.minimum, upper)
        return lower, upper


NO_BOUNDS = Bounds()


def _check_units(units: Sequence[UnitFrame]) -> None:
    if not units:
        raise SamplingError("Chưa có đơn vị nào để phân bổ mẫu.")
    codes = [u.code for u in units]
    if len(set(codes)) != len(codes):
        duplicated = sorted({c for c in codes if codes.count(c) > 1})
        raise SamplingError(f"Mã đơn vị bị trùng: {', '.join(duplicated)}.")
    for u in units:
        if u.frame is not None and u.frame < 0:
            raise SamplingError(f"Quy mô khung mẫu của đơn vị {u.code} không được âm.")


def _clamp(value: int, lower: int, upper: int | None) -> int:
    value = max(value, lower)
    return value if upper is None else min(value, upper)


def fixed_per_unit(units: Sequence[UnitFrame], per_unit: int, bounds: Bounds = NO_BOUNDS) -> dict[str, int]:
    """The same number in every unit (e.g. 60 citizens per commune), capped by frame and bounds."""
    _check_units(units)
    if per_unit < 0:
        raise SamplingError(f"Số phiếu mỗi đơn vị không được âm, nhận được {per_unit}.")
    return {u.code: _clamp(per_unit, *bounds.limits(u)) for u in units}


def per_kind(units: Sequence[UnitFrame], sizes: Mapping[str, int], bounds: Bounds = NO_BOUNDS) -> dict[str, int]:
    """A number per unit type (e.g. 150 per xã, 200 per phường)."""
    _check_units(units)
    missing = sorted({u.kind for u in units if u.kind not in sizes})
    if missing:
        raise SamplingError(f"Chưa khai báo số phiếu cho loại đơn vị: {', '.join(missing)}.")
    return {u.code: _clamp(sizes[u.kind], *bounds.limits(u)) for u in units}


def census(sizes: Mapping[str, int]) -> dict[str, int]:
    """A census group takes its named list whole: the quota is the list's length."""
    for code, size in sizes.items():
        if size < 0:
            raise SamplingError(f"Danh sách của đơn vị {code} không được có số người âm.")
    return dict(sizes)


def split_total(
    units: Sequence[UnitFrame], total: int, weights: Mapping[str, float], bounds: Bounds = NO_BOUNDS
) -> dict[str, int]:
    """Split ``total`` in proportion to ``weights``, within bounds, keeping the total exact.

    Weights are scaled so the largest is 1; a weight under 1e-12 of the largest counts as zero.
    The continuous shares x_i = clamp(λ·w_i, lower_i, upper_i) are found by bisection on λ (the
    sum is monotone in λ); then each unit gets ⌊x_i⌋ and the people left over go, one each, to
    the largest fractional parts (largest remainder), never past a unit's upper limit.
    """
    _check_units(units)
    if isinstance(total, bool) or not isinstance(total, int) or total < 0:
        raise SamplingError(f"Tổng số phiếu phải là số nguyên không âm, nhận được {total!r}.")
    limits = {u.code: bounds.limits(u) for u in units}
    lowest = sum(lo for lo, _ in limits.values())
    if total < lowest:
        raise SamplingError(f"Tổng {total} phiếu không đủ cho mức tối thiểu của các đơn vị (cần ít nhất {lowest}).")
    if all(hi is not None for _, hi in limits.values()):
        highest = sum(hi for _, hi in limits.values())
        if total > highest:
            raise SamplingError(
                f"Tổng {total} phiếu vượt quá khả năng của các đơn vị (tối đa {highest}, do khung mẫu hoặc mức tối đa)."
            )
    for code, w in weights.items():
        if w < 0 or math.isnan(w):
            raise SamplingError(f"Trọng số của đơn vị {code} không hợp lệ: {w}.")
    w = {u.code: float(weights.get(u.code, 0.0)) for u in units}
    # scale so the largest weight is 1 and drop weights too small to matter (1e-12 of the largest):
    # they would only push the bisection towards infinity
    largest = max(w.values(), default=0.0)
    if largest > 0:
        w = {code: (v / largest if v / largest >= 1e-12 else 0.0) for code, v in w.items()}
    # units with zero weight stay at their minimum; can the others take the rest?
    reachable = [lo if w[c] <= 0 else hi for c, (lo, hi) in limits.items()]
    if None not in reachable and total > sum(reachable):
        raise SamplingError(
            f"Tổng {total} phiếu vượt quá số các đơn vị có thể nhận theo trọng số (tối đa {sum(reachable)}); "
            "các đơn vị có trọng số 0 chỉ nhận mức tối thiểu."
        )

    def shares(lam: float) -> dict[str, float]:
        out = {}
        for code, (lo, hi) in limits.items():
            x = max(lam * w[code], lo)
            out[code] = x if hi is None else min(x, hi)
        return out

    low, high = 0.0, 1.0
    while sum(shares(high).values()) < total:
        high *= 2
    for _ in range(200):
        mid = (low + high) / 2
        if sum(shares(mid).values()) < total:
            low = mid
        else:
            high = mid
    x = shares(high)
    return _largest_remainder(x, total, limits)


def _largest_remainder(x: dict[str, float], total: int, limits: dict[str, tuple[int, int | None]]) -> dict[str, int]:
    result = {code: _clamp(math.floor(value + 1e-9), *limits[code]) for code, value in x.items()}
    short = total - sum(result.values())
    # ties broken by code so the same input always gives the same plan
    order = sorted(x, key=lambda c: (-(x[c] - math.floor(x[c] + 1e-9)), c))
    while short > 0:
        progressed = False
        for code in order:
            hi = limits[code][1]
            if short and (hi is None or result[code] < hi):
                result[code] += 1
                short -= 1
                progressed = True
        if not progressed:  # pragma: no cover - excluded by the feasibility checks above
            raise SamplingError("Không phân bổ được đủ tổng số phiếu trong giới hạn của các đơn vị.")
    while short < 0:
        progressed = False
        for code in reversed(order):
            if short and result[code] > limits[code][0]:
                result[code] -= 1
                short += 1
                progressed = True
        if not progressed:  # pragma: no cover - excluded by the feasibility checks above
            raise SamplingError("Không phân bổ được đúng tổng số phiếu trong giới hạn của các đơn vị.")
    return result


def proportional(units: Sequence[UnitFrame], total: int, bounds: Bounds = NO_BOUNDS) -> dict[str, int]:
    """Split ``total`` in proportion to frame size (procedures handled per unit): n_h ∝ N_h."""
    unknown = [u.code for u in units if u.frame is None]
    if unknown:
        raise SamplingError(f"Thiếu quy mô khung mẫu (số hồ sơ) của đơn vị: {', '.join(unknown)}.")
    return split_total(units, total, {u.code: float(u.frame) for u in units}, bounds)


def neyman(units: Sequence[UnitFrame], total: int, bounds: Bounds = NO_BOUNDS) -> dict[str, int]:
    """Neyman allocation for a proportion: n_h ∝ N_h·√(p_h(1 − p_h)), with p_h each unit's prior.

    Source: Cochran (1977), eq. 5.60; units expected to be more divided get more respondents.
    Units without a prior use p = 0.5.
    """
    unknown = [u.code for u in units if u.frame is None]
    if unknown:
        raise SamplingError(f"Thiếu quy mô khung mẫu (số hồ sơ) của đơn vị: {', '.join(unknown)}.")
    weights = {}
    for u in units:
        p = 0.5 if u.prior_p is None else u.prior_p
        if not 0 <= p <= 1:
            raise SamplingError(f"Tỷ lệ ước tính của đơn vị {u.code} phải từ 0 đến 1, nhận được {p}.")
        weights[u.code] = u.frame * math.sqrt(p * (1 - p))
    return split_total(units, total, weights, bounds)


def own_margin(
    units: Sequence[UnitFrame], e: float, confidence: float = 0.95, p: float = 0.5, bounds: Bounds = NO_BOUNDS
) -> dict[str, int]:
    """Each unit big enough for its own margin of error ``e``: Cochran's size with the unit's frame."""
    _check_units(units)
    out = {}
    for u in units:
        n = cochran_size(e, confidence=confidence, p=p if u.prior_p is None else u.prior_p, N=u.frame or None)
        out[u.code] = _clamp(n, *bounds.limits(u)) if u.frame != 0 else 0
    return out
