"""Scoring rules and points: hand-computed cases for every method, intervals and alpha against
independent implementations, and rules validation."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest

from questionnaires import BUILTIN_DIR, load_questionnaire
from questionnaires.scoring import LevelCount, RulesError, load_rules_text, satisfaction, score
from questionnaires.scoring.stats import (
    cronbach_alpha,
    cronbach_alpha_from_sums,
    mean_interval,
    units_differ,
    wilson_interval,
)

CITIZEN = load_questionnaire(BUILTIN_DIR / "citizen_counter.yaml")
LEADER = load_questionnaire(BUILTIN_DIR / "leader.yaml")
QS = {"citizen": CITIZEN, "ubnd": LEADER, "dept": LEADER}


def rules(body: str, total: float = 2):
    text = f"id: t\ntitle: Thử\ncomponent_total: {total}\n" + textwrap.dedent(body)
    return load_rules_text(text, QS, "thu.yaml")


def counts(group: str, unit: str, question: str, levels: list[int]) -> list[LevelCount]:
    out: dict[int, int] = {}
    for level in levels:
        out[level] = out.get(level, 0) + 1
    return [LevelCount(group, unit, question, level, n) for level, n in sorted(out.items())]


SHARE = """
criteria:
  - {code: A, name: Tỷ lệ, max: 2, method: share, positive: [4, 5], sources: [{group: citizen, questions: [overall_satisfaction]}]}
"""
MEAN = """
criteria:
  - {code: B, name: Trung bình, max: 2, method: mean, sources: [{group: citizen, questions: [overall_satisfaction]}]}
"""
BANDS = """
criteria:
  - code: C
    name: Ngưỡng
    max: 2
    method: bands
    bands: [{min: 95, points: 2}, {min: 90, points: 1.5}, {min: 80, points: 1}, {min: 0, points: 0}]
    sources: [{group: citizen, questions: [overall_satisfaction]}]
"""


def test_share_by_hand():
    levels = [5, 5, 4, 4, 3, 2, 1, 5, 4, 4]  # 7 of 10 at levels 4–5
    table = score(rules(SHARE), counts("citizen", "X", "overall_satisfaction", levels), [("X", "Xã X")], QS)
    s = table.unit("X").criteria["A"]
    assert (s.n, s.share, s.points) == (10, 0.7, pytest.approx(1.4))
    assert (s.low, s.high) == pytest.approx(wilson_interval(7, 10))
    assert table.unit("X").total == pytest.approx(1.4) and table.unit("X").rank == 1


def test_mean_by_hand():
    table = score(rules(MEAN), counts("citizen", "X", "overall_satisfaction", [1, 2, 3, 4, 5]), [("X", "X")], QS)
    s = table.unit("X").criteria["B"]
    # mean level 3 on 1..5 → (3 − 1)/(5 − 1) = 0.5 → 2 × 0.5 = 1
    assert s.mean == pytest.approx(0.5) and s.points == pytest.approx(1.0)
    # t interval of the normalised levels 0, .25, .5, .75, 1: sd = 0.3953, t(4) = 2.7764
    half = 2.7764451051977987 * math.sqrt(np.var([0, 0.25, 0.5, 0.75, 1], ddof=1) / 5)
    assert (s.low, s.high) == pytest.approx((0.5 - half, 0.5 + half))


@pytest.mark.parametrize(
    ("positive", "n", "points"),
    [
        (20, 20, 2.0),
        (19, 20, 2.0),  # exactly 95 %: the tie counts for the higher band
        (18, 20, 1.5),  # exactly 90 %
        (1899, 2000, 1.5),  # 94.95 %
        (899, 1000, 1.0),  # 89.9 %
        (16, 20, 1.0),  # exactly 80 %
        (79, 100, 0.0),
        (0, 20, 0.0),
    ],
)
def test_bands_by_hand_including_ties_at_the_edges(positive, n, points):
    levels = [5] * positive + [2] * (n - positive)
    table = score(rules(BANDS), counts("citizen", "X", "overall_satisfaction", levels), [("X", "X")], QS)
    assert table.unit("X").criteria["C"].points == points


def test_unit_without_valid_answers_gets_zero_and_a_flag():
    table = score(rules(SHARE), counts("citizen", "X", "overall_satisfaction", [5]), [("X", "X"), ("Y", "Y")], QS)
    y = table.unit("Y")
    assert y.criteria["A"].n == 0 and y.criteria["A"].points == 0.0 and y.criteria["A"].share is None
    assert "no_data" in y.criteria["A"].flags and y.no_data and y.total == 0.0 and y.rank == 2


def test_weighted_sources_and_missing_sources():
    body = """
    criteria:
      - code: D
        name: Hai nguồn
        max: 2
        method: share
        sources:
          - {group: citizen, questions: [overall_satisfaction], weight: 0.75}
          - {group: ubnd, questions: [ldr_procedures], weight: 0.25}
    """
    data = counts("citizen", "X", "overall_satisfaction", [5, 5, 5, 1]) + counts("ubnd", "X", "ldr_procedures", [4, 2])
    data += counts("citizen", "Y", "overall_satisfaction", [5, 1])
    table = score(rules(body), data, [("X", "X"), ("Y", "Y")], QS)
    x = table.unit("X").criteria["D"]
    # 2 × 0.6875 = 1.375 points, shown and summed to two decimals, halves up: 1.38
    assert x.share == pytest.approx(0.75 * 0.75 + 0.25 * 0.5) and x.points == 1.38
    y = table.unit("Y").criteria["D"]  # no leader rated Y: the citizen share stands alone
    assert y.share == pytest.approx(0.5) and "partial_sources" in y.flags


@pytest.mark.parametrize(
    ("effect", "points", "total", "rank"), [("flag", 2.0, 2.0, 1), ("zero", 0.0, 0.0, 2), ("exclude", None, None, None)]
)
def test_insufficient_sample_effects(effect, points, total, rank):
    body = SHARE.replace("criteria:", f"insufficient_sample: {{min_share_of_quota: 0.8, effect: {effect}}}\ncriteria:")
    data = counts("citizen", "X", "overall_satisfaction", [5] * 10) + counts(
        "citizen", "Y", "overall_satisfaction", [4, 3]
    )
    quotas = {("citizen", "X"): (60, 47), ("citizen", "Y"): (60, 48)}  # X has 78 %, Y 80 %
    table = score(rules(body), data, [("X", "X"), ("Y", "Y")], QS, quotas)
    x = table.unit("X")
    assert x.insufficient and "insufficient_sample" in x.criteria["A"].flags
    assert (x.criteria["A"].points, x.total, x.rank) == (points, total, rank)
    assert not table.unit("Y").insufficient


def test_equal_totals_share_a_rank():
    data = []
    for unit, levels in (("A", [5, 5]), ("B", [5, 5]), ("C", [5, 1]), ("D", [1, 1])):
        data += counts("citizen", unit, "overall_satisfaction", levels)
    table = score(rules(SHARE), data, [(u, u) for u in "ABCD"], QS)
    assert [table.unit(u).rank for u in "ABCD"] == [1, 1, 3, 4]


@pytest.mark.parametrize(("k", "n"), [(0, 10), (1, 10), (7, 10), (57, 60), (60, 60), (123, 400), (9000, 9100)])
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_wilson_agrees_with_scipy(k, n, confidence):
    ours = wilson_interval(k, n, confidence)
    theirs = binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    assert ours == pytest.approx((theirs.low, theirs.high), abs=1e-9)


def _alpha_by_covariances(x: np.ndarray) -> float:
    """Independent form: α = k·c̄ / (v̄ + (k − 1)·c̄), c̄ the mean inter-item covariance, v̄ the mean variance."""
    cov = np.cov(x, rowvar=False)
    k = cov.shape[0]
    v = np.trace(cov) / k
    c = (cov.sum() - np.trace(cov)) / (k * (k - 1))
    return k * c / (v + (k - 1) * c)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cronbach_alpha_agrees_with_an_independent_formula(seed):
    rng = np.random.default_rng(seed)
    mood = rng.normal(3, 1, size=(200, 1))
    x = np.clip(np.rint(mood + rng.normal(0, 0.8, size=(200, 4))), 1, 5)
    alpha = cronbach_alpha(x)
    assert alpha == pytest.approx(_alpha_by_covariances(x), abs=1e-9)
    sums = cronbach_alpha_from_sums(4, 200, x.sum(axis=0), (x * x).sum(axis=0), x.sum(), (x.sum(axis=1) ** 2).sum())
    assert sums == pytest.approx(alpha, abs=1e-9)


def test_mean_interval_and_units_differ():
    mean, low, high = mean_interval(4, 10.0, 30.0)  # levels 1, 2, 3, 4
    assert mean == 2.5 and low < 2.5 < high
    same = units_differ(np.array([[10, 20, 30], [10, 20, 30]]))
    different = units_differ(np.array([[50, 5, 1], [1, 5, 50]]))
    assert same.p_value == pytest.approx(1.0) and "chưa thấy khác biệt" in same.words
    assert different.p_value < 1e-10 and "khác nhau rõ rệt" in different.words
    assert math.isnan(units_differ(np.array([[1, 2, 3]])).p_value)


def test_sipas_style_satisfaction():
    data = counts("citizen", "X", "access_seating", [5, 4, 3, 1]) + counts("citizen", "Y", "access_seating", [4, 4])
    data += counts("citizen", "X", "access_equipment", [5, 5])
    items, aspects, overall = satisfaction(CITIZEN, "citizen", data)
    item = dict(items)
    assert item["access_seating"].share == pytest.approx(4 / 6) and item["access_equipment"].share == 1.0
    access = dict(aspects)["access"]
    assert access.share == pytest.approx((4 / 6 + 1.0) / 2)  # access_signage has no answers
    assert overall.share == pytest.approx(access.share)


def test_the_demo_rules_are_valid():
    text = (BUILTIN_DIR.parent / "rules" / "ninh_giang_2023.yaml").read_text(encoding="utf-8")
    council = load_questionnaire(BUILTIN_DIR / "council_delegate.yaml")
    loaded = load_rules_text(text, {**QS, "hdnd": council, "mttq": LEADER})
    assert [c.code for c in loaded.criteria] == ["8.1.3", "9.1", "9.2", "9.3", "9.4"]
    assert sum(c.max_points for c in loaded.criteria) == loaded.component_total == 10


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (SHARE.replace("overall_satisfaction", "favourite_colour"), "câu hỏi “favourite_colour” không có trong phiếu"),
        (SHARE.replace("group: citizen", "group: youth"), "nhóm đối tượng “youth” không có trong đợt khảo sát"),
        (SHARE.replace("overall_satisfaction", "visits"), "không phải câu thang đo"),
        (
            SHARE.replace("sources: [{group: citizen, questions: [overall_satisfaction]}]",
                          "sources: [{group: citizen, questions: [overall_satisfaction], weight: 0.5},"
                          " {group: ubnd, questions: [ldr_procedures], weight: 0.4}]"),
            "tổng trọng số các nguồn phải bằng 1, hiện là 0,9",
        ),
        (BANDS.replace("{min: 90, points: 1.5}", "{min: 97, points: 1.5}"), "các ngưỡng phải xếp từ cao xuống thấp"),
        (BANDS.replace("{min: 80, points: 1}", "{min: 80, points: 1.8}"), "ngưỡng cao hơn không được cho ít điểm hơn"),
        (BANDS.replace("{min: 95, points: 2}", "{min: 95, points: 3}"), "điểm của mỗi ngưỡng phải từ 0 đến điểm tối đa"),
        (SHARE.replace("max: 2", "max: 1.5"), "tổng điểm tối đa của các tiêu chí (1,5) khác điểm của phần điều tra (2)"),
        (SHARE.replace("method: share", "method: median"), "phương pháp “median” không hợp lệ"),
        (SHARE.replace("questions: [overall_satisfaction]", "aspect: nowhere"), "không có câu thang đo nào thuộc khía cạnh"),
        (SHARE + SHARE.replace("criteria:\n", ""), "mã tiêu chí bị trùng"),
    ],
)  # fmt: skip
def test_bad_rules_are_explained(body, message):
    with pytest.raises(RulesError) as info:
        rules(body)
    assert any(message in p for p in info.value.problems), info.value.problems
    assert all(p.startswith("thu.yaml") for p in info.value.problems)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id: r\ntitle: T\ncomponent_total:\ncriteria: []\n", "thiếu mục bắt buộc “component_total”"),
        ("id: r\ntitle: T\ncomponent_total: 2\ninsufficient_sample: nhiều\ncriteria: []\n", "insufficient_sample"),
    ],
)
def test_empty_or_malformed_top_level_values_are_explained(text, message):
    """Regressions found by the fuzzer: a key present with no value, a block that is not a mapping."""
    with pytest.raises(RulesError) as info:
        load_rules_text(text, QS, "thu.yaml")
    assert any(message in p for p in info.value.problems)


ALL_GROUPS = {
    "citizen": CITIZEN,
    "hdnd": load_questionnaire(BUILTIN_DIR / "council_delegate.yaml"),
    "ubnd": LEADER,
    "mttq": LEADER,
    "dept": LEADER,
}


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_points_stay_within_the_rules_whatever_the_answers(data):
    """The demo province's rules on random answer counts (empty cells, one answer, lopsided
    levels) and random quotas: no crash; every share, mean and interval within 0–1 with the
    value inside its interval; points between 0 and the criterion's maximum; totals within the
    component; ranks follow totals."""
    text = (BUILTIN_DIR.parent / "rules" / "ninh_giang_2023.yaml").read_text(encoding="utf-8")
    rules_ = load_rules_text(text, ALL_GROUPS, "ninh_giang_2023.yaml")
    units = [("A", "Xã A"), ("B", "Xã B"), ("C", "Xã C")]
    counts_ = []
    for group, questionnaire in ALL_GROUPS.items():
        for unit, _ in units:
            for item in questionnaire.scale_items():
                levels = data.draw(
                    st.dictionaries(st.sampled_from(list(item.scale.levels)), st.integers(0, 40), max_size=5)
                )
                counts_ += [LevelCount(group, unit, item.id, level, n) for level, n in levels.items() if n]
    quotas = {
        (g, u): (data.draw(st.integers(0, 80)), data.draw(st.integers(0, 80))) for g in ALL_GROUPS for u, _ in units
    }
    table = score(rules_, counts_, units, ALL_GROUPS, quotas)
    ceiling = sum(c.max_points for c in rules_.criteria)
    for u in table.units:
        for criterion in rules_.criteria:
            s = u.criteria[criterion.code]
            if s.points is not None:
                assert -1e-9 <= s.points <= criterion.max_points + 1e-9
            if s.value is not None:
                assert 0 <= s.value <= 1
                assert s.low is not None and s.high is not None
                if not (math.isnan(s.low) or math.isnan(s.high)):  # NaN: too few answers for an interval
                    assert -1e-9 <= s.low <= s.value + 1e-9 and s.value - 1e-9 <= s.high <= 1 + 1e-9
        assert u.total is None or -1e-9 <= u.total <= ceiling + 1e-9
    ranked = [u for u in table.units if u.total is not None]
    for a in ranked:
        for b in ranked:
            if a.total > b.total + 1e-9:
                assert a.rank < b.rank


def test_every_total_is_the_sum_of_its_shown_parts_on_the_demo(app, client, runner, demo, dbs):
    """Issue 15: the rounded criterion points of 9 of 20 demo units did not add up to the rounded
    total (0,00 + 0,63 + 0,76 + 1,21 + 1,21 beside 3,82). Checked on the results page, the
    workbook and the API."""
    import io
    import re

    from openpyxl import load_workbook
    from sqlalchemy import select

    from surveyapp.demo.fake import fill
    from surveyapp.models import Campaign

    from .test_qr_posters import login

    campaign = dbs.scalar(select(Campaign).where(Campaign.key == demo.campaign_key))
    fill(dbs, campaign, share=0.75, seed=2023)
    dbs.commit()
    login(client, demo.admin_username, demo.admin_password)
    page = client.get(f"/admin/c/{demo.campaign_key}/results").get_data(as_text=True)
    table = page[page.index("<th>Hạng<br>") :]
    table = table[: table.index("</table>")]
    rows = 0
    all_rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
    for row in all_rows:
        numbers = [float(x.replace(",", ".")) for x in re.findall(r'<td class="r"[^>]*>(?:<strong>)?(\d+,\d\d)', row)]
        if len(numbers) >= 2:
            *parts, total = numbers
            assert round(sum(parts), 2) == total, row
            rows += 1
    assert rows == 20, [r for r in all_rows if len(re.findall(r"\d+,\d\d", r)) < 2][:2]
    book = load_workbook(io.BytesIO(client.get(f"/admin/c/{demo.campaign_key}/results.xlsx").data))
    sheet = book["Tổng hợp"]
    for r in sheet.iter_rows(min_row=4, values_only=True):
        values = [v for v in r[3:] if isinstance(v, int | float)]
        if len(values) >= 2:
            *parts, total = values
            assert round(sum(round(p, 2) for p in parts), 2) == round(total, 2)
            assert all(round(p, 2) == p for p in values), r
    token = runner.invoke(args=["api-token", "kiem-tra"]).output.strip().split("\t")[2]
    api = client.get(f"/api/campaigns/{demo.campaign_key}/scores", headers={"Authorization": f"Bearer {token}"})
    for unit in api.get_json()["units"]:
        if unit["total"] is not None:
            parts = [c["points"] for c in unit["criteria"]]
            assert all(round(p, 2) == p for p in parts) and round(sum(parts), 2) == unit["total"], unit


@pytest.mark.parametrize(
    ("value", "digits", "shown"),
    [(1.05, None, "1,05"), (2.0, None, "2"), (1.5, None, "1,5"), (10, None, "10"), (1234.5, 2, "1.234,50"),
     (0.0, 2, "0,00"), (None, 2, "—")],
)  # fmt: skip
def test_one_number_formatter_for_every_page(value, digits, shown):
    """A maximum of 1.05 points was printed "15" (|replace(".0", ""))."""
    from surveyapp.web import vn_number

    assert vn_number(value, digits) == shown


def test_the_rules_page_prints_a_maximum_of_one_point_oh_five(client, demo, dbs):
    from sqlalchemy import select

    from surveyapp.models import Campaign

    from .test_qr_posters import login

    campaign = dbs.scalar(select(Campaign).where(Campaign.key == demo.campaign_key))
    campaign.scoring_rules = campaign.scoring_rules.replace("max: 2\n", "max: 1.05\n", 1).replace(
        "component_total: 10", "component_total: 9.05"
    )
    dbs.commit()
    login(client, demo.admin_username, demo.admin_password)
    page = client.get(f"/admin/c/{demo.campaign_key}/rules").get_data(as_text=True)
    assert "1,05" in page and ">15<" not in page
