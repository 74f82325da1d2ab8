"""Allocation keeps totals exact and respects minimum, maximum and frame caps (property-based),
and plans reproduce the Ninh Giang sample of seed 001."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sampling import (
    Bounds,
    PlanUnit,
    SamplingError,
    UnitFrame,
    build_plan,
    fixed_per_unit,
    load_plan_text,
    neyman,
    own_margin,
    per_kind,
    proportional,
    split_total,
)

ROOT = Path(__file__).resolve().parent.parent
DEMO_UNITS = ROOT / "surveyapp" / "demo" / "units.csv"
NINH_GIANG_PLAN = ROOT / "sampling" / "examples" / "ninh_giang_2023.yaml"


@st.composite
def allocation_cases(draw):
    count = draw(st.integers(1, 25))
    frames = draw(st.lists(st.one_of(st.none(), st.integers(0, 3000)), min_size=count, max_size=count))
    weights = draw(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=count, max_size=count))
    minimum = draw(st.integers(0, 80))
    maximum = draw(st.one_of(st.none(), st.integers(minimum, 400)))
    units = [UnitFrame(f"U{i:02d}", "xã", f) for i, f in enumerate(frames)]
    bounds = Bounds(minimum, maximum)
    limits = [bounds.limits(u) for u in units]
    low = sum(lo for lo, _ in limits)
    high = None if any(hi is None for _, hi in limits) else sum(hi for _, hi in limits)
    total = draw(st.integers(low, high if high is not None else low + 5000))
    return units, {u.code: w for u, w in zip(units, weights, strict=True)}, bounds, total


@settings(max_examples=300, deadline=None)
@given(allocation_cases())
def test_split_total_is_exact_and_within_bounds(case):
    units, weights, bounds, total = case
    largest = max(weights.values())
    # weights under 1e-12 of the largest count as zero (documented in split_total)
    effective = {c: (w if largest > 0 and w / largest >= 1e-12 else 0.0) for c, w in weights.items()}
    reachable = [bounds.limits(u)[0] if effective[u.code] <= 0 else bounds.limits(u)[1] for u in units]
    if None not in reachable and total > sum(reachable):
        with pytest.raises(SamplingError, match="trọng số"):
            split_total(units, total, weights, bounds)
        return
    result = split_total(units, total, weights, bounds)
    assert sum(result.values()) == total
    for u in units:
        lo, hi = bounds.limits(u)
        assert lo <= result[u.code] and (hi is None or result[u.code] <= hi)
        if u.frame is not None:
            assert result[u.code] <= u.frame


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(1, 5000), min_size=1, max_size=30),
    st.integers(0, 50),
    st.integers(50, 300),
    st.data(),
)
def test_proportional_and_neyman_are_exact_with_caps(frames, minimum, maximum, data):
    units = [UnitFrame(f"X{i}", "xã", f, prior_p=data.draw(st.floats(0.01, 0.99))) for i, f in enumerate(frames)]
    bounds = Bounds(minimum, maximum)
    low = sum(bounds.limits(u)[0] for u in units)
    high = sum(bounds.limits(u)[1] for u in units)
    total = data.draw(st.integers(low, high))
    for allocate in (proportional, neyman):
        result = allocate(units, total, bounds)
        assert sum(result.values()) == total
        assert all(min(minimum, u.frame) <= result[u.code] <= min(maximum, u.frame) for u in units)


def test_proportional_by_hand():
    units = [UnitFrame("A", frame=500), UnitFrame("B", frame=300), UnitFrame("C", frame=200)]
    assert proportional(units, 100) == {"A": 50, "B": 30, "C": 20}
    # 10 × (0.5, 0.3, 0.2) = 5, 3, 2; 7 × … = 3.5, 2.1, 1.4 → floors 3, 2, 1 and the spare one to A (.5)
    assert proportional(units, 7) == {"A": 4, "B": 2, "C": 1}
    # a minimum of 30 each leaves 10 to share
    assert proportional(units, 100, Bounds(minimum=30)) == {"A": 40, "B": 30, "C": 30}
    # a maximum of 40 moves A's surplus to the others in proportion
    assert proportional(units, 100, Bounds(maximum=40)) == {"A": 40, "B": 36, "C": 24}


def test_neyman_gives_more_to_divided_units():
    units = [UnitFrame("A", frame=1000, prior_p=0.5), UnitFrame("B", frame=1000, prior_p=0.9)]
    result = neyman(units, 100)
    # weights 1000·0.5 and 1000·0.3 → 62.5 and 37.5 → 63 / 37 (tie broken by code)
    assert result == {"A": 63, "B": 37}


def test_fixed_and_per_kind_respect_frames():
    units = [UnitFrame("A", "xã", 1000), UnitFrame("B", "phường", 45), UnitFrame("C", "xã", None)]
    assert fixed_per_unit(units, 60) == {"A": 60, "B": 45, "C": 60}
    assert per_kind(units, {"xã": 150, "phường": 200}) == {"A": 150, "B": 45, "C": 150}
    with pytest.raises(SamplingError, match="loại đơn vị: phường"):
        per_kind(units, {"xã": 150})


def test_own_margin_sizes_each_unit():
    units = [UnitFrame("A", frame=1000), UnitFrame("B", frame=100), UnitFrame("C", frame=None)]
    assert own_margin(units, 0.05) == {"A": 278, "B": 80, "C": 385}
    assert own_margin(units, 0.1, bounds=Bounds(maximum=70)) == {"A": 70, "B": 50, "C": 70}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (([UnitFrame("A", frame=10)], 11), "vượt quá khả năng"),
        (([UnitFrame("A", frame=10), UnitFrame("B", frame=10)], 10, Bounds(minimum=6)), "không đủ cho mức tối thiểu"),
        (([UnitFrame("A", frame=10), UnitFrame("A", frame=5)], 5), "Mã đơn vị bị trùng: A"),
        (([], 5), "Chưa có đơn vị nào"),
        (([UnitFrame("A", frame=None)], 5), "Thiếu quy mô khung mẫu"),
        (([UnitFrame("A", frame=10)], -1), "Tổng số phiếu"),
    ],
)
def test_impossible_allocations_are_explained(args, message):
    with pytest.raises(SamplingError, match=message):
        proportional(*args)


def test_bad_bounds_are_explained():
    with pytest.raises(SamplingError, match="Giới hạn mỗi đơn vị"):
        Bounds(minimum=50, maximum=10)


def demo_units() -> list[PlanUnit]:
    with DEMO_UNITS.open(encoding="utf-8") as handle:
        return [
            PlanUnit(
                r["code"],
                r["name"],
                r["kind"],
                r["parent_code"] or None,
                int(r["frame_size"]) if r["frame_size"] else None,
            )
            for r in csv.DictReader(handle)
        ]


def test_ninh_giang_plan_is_reproduced():
    plan = build_plan(load_plan_text(NINH_GIANG_PLAN.read_text(encoding="utf-8")), demo_units())
    assert plan.total == 1248
    assert plan.totals_by_group() == {"citizen": 1200, "hdnd": 30, "ubnd": 3, "mttq": 3, "dept": 12}
    communes = [u for u in demo_units() if u.parent_code == "HDG-NGG"]
    assert len(communes) == 20
    for u in communes:
        assert plan.quota("citizen", u.code) == 60
    for group, size in (("hdnd", 30), ("ubnd", 3), ("mttq", 3), ("dept", 12)):
        assert plan.quota(group, "HDG-NGG") == size
    assert len(plan.cells) == 24
    assert plan.totals_by_unit()["HDG-NGG"] == 48


def test_other_plan_methods_from_a_definition():
    text = """
groups:
  - {group: citizen, units: {under: HDG-NGG}, method: proportional, total: 1200, min: 40, max: 100}
  - {group: civil, units: {codes: [HDG-NGG-01, HDG-NGG-02]}, method: margin, margin: 0.1}
  - {group: towns, units: {under: HDG, kinds: [thị trấn]}, method: per_kind, sizes: {thị trấn: 200}}
"""
    plan = build_plan(load_plan_text(text), demo_units())
    citizen = {c.unit_code: c.quota for c in plan.cells if c.group == "citizen"}
    assert sum(citizen.values()) == 1200 and min(citizen.values()) >= 40 and max(citizen.values()) <= 100
    assert citizen["HDG-NGG-01"] == 100  # the biggest frame hits the maximum
    assert plan.quota("civil", "HDG-NGG-02") == 88  # Cochran ±10 % with N = 980
    assert plan.quota("towns", "HDG-NGG-01") == 200
    cell = next(c for c in plan.cells if c.group == "civil" and c.unit_code == "HDG-NGG-02")
    assert cell.margin <= 0.1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("groups: []", "kế hoạch phải có mục “groups”"),
        ("groups: [{group: a, method: magic, units: {under: HDG}}]", "phương pháp “magic” không hợp lệ"),
        ("groups: [{group: a, method: fixed, units: {under: HDG}}]", "phương pháp fixed cần mục “per_unit”"),
        ("groups: [{group: a, method: fixed, per_unit: -3, units: {under: HDG}}]", "“per_unit” phải là số nguyên"),
        ("groups: [{group: a, method: fixed, per_unit: 3}]", "cần chọn đơn vị"),
        (
            "groups: [{group: a, method: census, unit: HDG, size: 3, total: 4}]",
            "không dùng được với phương pháp census: total",
        ),
        (
            "groups: [{group: a, method: fixed, per_unit: 3, units: {under: HDG}},"
            " {group: a, method: census, unit: HDG, size: 1}]",
            "khai báo hai lần",
        ),
        (
            "groups: [{group: a, method: fixed, per_unit: 3, min: 9, max: 2, units: {under: HDG}}]",
            "Giới hạn mỗi đơn vị",
        ),
        ("groups: [oops", "lỗi cú pháp YAML"),
    ],
)
def test_bad_plan_definitions_are_explained(text, message):
    with pytest.raises(SamplingError, match=message):
        load_plan_text(text, "kh.yaml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("groups: [{group: a, method: fixed, per_unit: 3, units: {under: NOWHERE}}]", "không có đơn vị mã “NOWHERE”"),
        ("groups: [{group: a, method: census, unit: NOWHERE, size: 3}]", "không có đơn vị mã “NOWHERE”"),
        (
            "groups: [{group: a, method: fixed, per_unit: 3, units: {under: HDG, kinds: [phường]}}]",
            "không có đơn vị nào khớp",
        ),
        ("groups: [{group: a, method: proportional, total: 99999, units: {under: HDG-NGG}}]", "vượt quá khả năng"),
    ],
)
def test_plans_that_do_not_fit_the_units_are_explained(text, message):
    with pytest.raises(SamplingError, match=message) as info:
        build_plan(load_plan_text(text, "kh.yaml"), demo_units(), "kh.yaml")
    assert str(info.value).startswith("kh.yaml, nhóm “a”")
