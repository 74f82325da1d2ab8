"""Weighting a lopsided unit (issue 20, part 2): post-stratification to a known margin equals the
hand computation, raking to several margins equals the calibration estimator solved independently
(scipy's root finder on the exponential-distance equations of Deville & Särndal, 1992), weights
stay under their cap, and the effective sample size is Kish's."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import root

from questionnaires.scoring.weights import rake, weighted_shares

from .test_browser import browser  # noqa: F401 (the fixture)


def test_post_stratification_equals_the_hand_computation():
    """8 organisations and 2 individuals answered; the unit's dossiers are half and half. Each
    organisation weighs 5/8 and each individual 5/2; a share satisfied is then the hand's."""
    kind = ["to_chuc"] * 8 + ["ca_nhan"] * 2
    satisfied = np.array([1, 1, 1, 1, 1, 1, 1, 0, 0, 1], dtype=float)  # 7/8 of organisations, 1/2 of individuals
    w = rake([kind], [{"to_chuc": 0.5, "ca_nhan": 0.5}])
    assert w.converged and w.passes == 1
    assert w.weights[:8] == pytest.approx([0.625] * 8, rel=1e-12)
    assert w.weights[8:] == pytest.approx([2.5] * 2, rel=1e-12)
    weighted = float((w.weights * satisfied).sum() / w.weights.sum())
    assert weighted == pytest.approx(0.5 * 7 / 8 + 0.5 * 1 / 2, rel=1e-12)  # 0.6875, against 0.8 unweighted
    assert satisfied.mean() == pytest.approx(0.8)
    assert w.effective_n == pytest.approx(100 / (8 * 0.625**2 + 2 * 2.5**2), rel=1e-12)  # Kish: 6.4 of 10


def calibration_weights(columns: list[list[str]], shares: list[dict[str, float]]) -> np.ndarray:
    """The raking estimator as the calibration with the exponential distance: w_i = exp(x_i·λ),
    λ solving Σ w_i x_i = n·(known shares), one category of each margin after the first dropped
    (the margins share their total). Solved by scipy, not by iterating proportions."""
    n = len(columns[0])
    rows, totals = [], []
    for k, (column, known) in enumerate(zip(columns, shares, strict=True)):
        for j, category in enumerate(sorted(known)):
            if k > 0 and j == 0:
                continue
            rows.append([1.0 if c == category else 0.0 for c in column])
            totals.append(n * known[category])
    x = np.array(rows).T  # n × constraints
    target = np.array(totals)

    def equations(lam):
        return x.T @ np.exp(x @ lam) - target

    found = root(equations, np.zeros(x.shape[1]), method="hybr", tol=1e-14)
    assert found.success, found.message
    return np.exp(x @ found.x)


def test_raking_two_margins_equals_the_calibration_estimator():
    rng = np.random.default_rng(5)
    channel = list(rng.choice(["quay", "phieu", "moi"], size=120, p=[0.7, 0.2, 0.1]))
    kind = list(rng.choice(["ca_nhan", "to_chuc"], size=120, p=[0.35, 0.65]))
    shares = [{"quay": 0.4, "phieu": 0.4, "moi": 0.2}, {"ca_nhan": 0.7, "to_chuc": 0.3}]
    ours = rake([channel, kind], shares)
    assert ours.converged and 2 < ours.passes < 200
    assert ours.weights == pytest.approx(calibration_weights([channel, kind], shares), rel=1e-9)
    assert weighted_shares(channel, ours.weights) == pytest.approx(shares[0], abs=1e-10)
    assert weighted_shares(kind, ours.weights) == pytest.approx(shares[1], abs=1e-10)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from("xy")), min_size=6, max_size=60),
       st.floats(0.1, 0.8), st.floats(0.1, 0.8), st.floats(0.2, 0.8))  # fmt: skip
def test_raking_meets_every_margin_whatever_the_sample(people, pa, pb, px):
    first, second = [p[0] for p in people], [p[1] for p in people]
    if len(set(first)) < 3 or len(set(second)) < 2 or pa + pb >= 0.95:
        return  # every category present, shares that add up (the empty ones have their own test)
    shares = [{"a": pa, "b": pb, "c": 1 - pa - pb}, {"x": px, "y": 1 - px}]
    w = rake([first, second], shares)
    if w.converged:
        assert weighted_shares(first, w.weights) == pytest.approx(shares[0], abs=1e-9)
        assert weighted_shares(second, w.weights) == pytest.approx(shares[1], abs=1e-9)
    else:  # a sample where the margins cannot both be met (a category pair is missing)
        assert w.passes == 1000
    assert w.weights.mean() == pytest.approx(1.0) and (w.weights >= 0).all()


def test_weights_stay_under_their_cap():
    """One individual among 30 organisations, the unit half and half: uncapped that person would
    weigh 15.5; capped at 4, nobody weighs more than 4 and the margin is met as far as it can be."""
    kind = ["to_chuc"] * 30 + ["ca_nhan"]
    free = rake([kind], [{"to_chuc": 0.5, "ca_nhan": 0.5}])
    assert free.weights.max() == pytest.approx(15.5)
    capped = rake([kind], [{"to_chuc": 0.5, "ca_nhan": 0.5}], cap=4.0)
    assert capped.weights.max() <= 4.0 + 1e-12 and capped.weights.mean() == pytest.approx(1.0)
    assert capped.weights[-1] == pytest.approx(4.0) and not capped.converged
    assert weighted_shares(kind, capped.weights)["ca_nhan"] == pytest.approx(4 / 31)
    assert capped.effective_n > free.effective_n
    roomy = rake([kind], [{"to_chuc": 0.5, "ca_nhan": 0.5}], cap=20.0)
    assert roomy.converged and roomy.weights == pytest.approx(free.weights)


def test_blank_answers_and_empty_categories():
    """A respondent who left the question blank keeps the share the blanks have; a category with a
    known share but nobody in it cannot be weighted up: its share goes to the others, said so."""
    kind = ["to_chuc", "to_chuc", "to_chuc", "ca_nhan", None]
    w = rake([kind], [{"to_chuc": 0.5, "ca_nhan": 0.5}])
    assert w.converged and w.weights[-1] == pytest.approx(1.0)
    assert w.weights[3] == pytest.approx(0.5 * 4 / 1) and w.weights[0] == pytest.approx(0.5 * 4 / 3)
    lone = rake([["to_chuc"] * 4], [{"to_chuc": 0.6, "ca_nhan": 0.4}])
    assert lone.empty == ((0, "ca_nhan"),) and lone.weights == pytest.approx([1.0] * 4)
    assert rake([[]], [{"a": 1.0}]).effective_n == 0.0


KEY = "ninh-giang-2023"
UNIT = "HDG-NGG-02"
WEIGHTING = """
weighting:
  cap: 20
  margins:
    - group: citizen
      by: respondent_kind
      shares: {person: 0.5, organisation: 0.5}
      units:
        HDG-NGG-03: {person: 0.8, organisation: 0.2}
"""


@pytest.fixture
def lopsided(demo, dbs):
    """The demo answered, and in one commune every citizen but two an organisation's agent."""
    from sqlalchemy import select, update

    from surveyapp.campaigns.services import campaign_by_key
    from surveyapp.demo.fake import fill
    from surveyapp.models import Answer, RespondentGroup, Response, Unit

    campaign = campaign_by_key(dbs, KEY)
    fill(dbs, campaign, share=0.8, seed=5)
    citizen = dbs.scalars(select(RespondentGroup.id).where(RespondentGroup.code == "citizen")).one()
    unit = dbs.scalars(select(Unit.id).where(Unit.code == UNIT)).one()
    ids = list(dbs.scalars(select(Response.id).where(Response.group_id == citizen, Response.unit_id == unit)
                           .order_by(Response.id)))  # fmt: skip
    kinds = {rid: ("person" if i < 2 else "organisation") for i, rid in enumerate(ids)}
    for rid, kind in kinds.items():
        dbs.execute(update(Answer).where(Answer.response_id == rid, Answer.question_id == "respondent_kind")
                    .values(value_code=kind))  # fmt: skip
    dbs.commit()
    return campaign, kinds


def test_a_lopsided_unit_weighted_equals_the_hand_computation(dbs, lopsided):
    """Criterion 9.1 (half access, half procedure; a share of satisfied answers) in a commune where
    2 citizens are persons and the rest organisations, the unit known to be half and half: each
    person weighs n/4, each organisation n/(2(n − 2)); each source's share is Σw·y / Σw·m, made
    here from the answers one by one."""
    from sqlalchemy import select

    from questionnaires.scoring import load_rules_text
    from surveyapp.models import Answer
    from surveyapp.results.services import compute, questionnaires, weighted

    campaign, kinds = lopsided
    qs = questionnaires(campaign)
    rules = load_rules_text(campaign.scoring_rules + WEIGHTING, qs)
    table, _counts = compute(dbs, campaign, rules)
    result = weighted(dbs, campaign, table)
    n = len(kinds)
    w = {rid: n / 4 if kind == "person" else n / (2 * (n - 2)) for rid, kind in kinds.items()}
    criterion = rules.criterion("9.1")
    value = 0.0
    for source in criterion.sources:
        items = set(source.questions)
        wy = wm = 0.0
        for rid, qid, level in dbs.execute(select(Answer.response_id, Answer.question_id, Answer.value_num)
                                           .where(Answer.response_id.in_(list(kinds)), Answer.value_num.is_not(None))):  # fmt: skip
            if qid in items:
                wm += w[rid]
                wy += w[rid] * (level >= 4)
        value += source.weight * wy / wm
    cell = result.cells[("citizen", UNIT)]
    assert cell.converged and sorted(cell.weights) == pytest.approx(sorted(w.values()), rel=1e-12)
    assert result.table.unit(UNIT).criteria["9.1"].value == pytest.approx(value, rel=1e-12)
    assert cell.effective_n == pytest.approx(sum(w.values()) ** 2 / sum(x * x for x in w.values()), rel=1e-12)
    assert table.unit(UNIT).criteria["9.1"].value != pytest.approx(value, rel=1e-3)  # weighting changed it
    # a unit with its own known shares is raked to them, the others to the common ones
    other = result.cells[("citizen", "HDG-NGG-03")]
    groups = [a for (a,) in dbs.execute(select(Answer.value_code).where(Answer.question_id == "respondent_kind"))]
    assert other.converged and len(groups) > n and other.effective_n > 0


def test_the_weighting_section_is_checked_in_vietnamese():
    from questionnaires import BUILTIN_DIR, load_questionnaire
    from questionnaires.scoring import RulesError, load_rules_text

    qs = {"citizen": load_questionnaire(BUILTIN_DIR / "citizen_counter.yaml")}
    head = ("id: x\ntitle: x\ncomponent_total: 1\ncriteria:\n  - {code: a, name: a, max: 1, method: share,\n"
            "     sources: [{group: citizen, questions: [overall_satisfaction]}]}\n")  # fmt: skip
    bad = head + ("weighting:\n  cap: 1\n  margins:\n    - {group: citizen, by: overall_satisfaction, shares: {a: 1}}\n"
                  "    - {group: citizen, by: respondent_kind, shares: {person: 60, organisation: 40}}\n"
                  "    - {group: dan, by: channel, shares: {counter: 1}}\n"
                  "    - {group: citizen, by: channel, shares: {counter: 0.5, web: 0.5}}\n")  # fmt: skip
    with pytest.raises(RulesError) as caught:
        load_rules_text(bad, qs)
    problems = caught.value.problems
    assert any("trọng số tối đa" in p and "lớn hơn 1" in p for p in problems)
    assert any("biên thứ 1" in p and "câu hỏi chọn một / có-không" in p for p in problems)
    assert any("biên thứ 2" in p and "từ 0 đến 1 (0 % đến 100 %), nhận được 60 (6000 %)" in p for p in problems)
    assert any("biên thứ 3" in p and "nhóm đối tượng “dan”" in p for p in problems)
    assert any("biên thứ 4" in p and "loại “web” không có" in p for p in problems)
    assert len(problems) == 6  # both of margin 2’s shares
    # the rules form shows these messages too: no key of the file in them
    assert not [p for p in problems for key in ("cap", "shares", "margins", "“by”", "units") if key in p]
    good = load_rules_text(head + "weighting:\n  margins:\n    - {group: citizen, by: channel, shares: {counter: 0.3, slip: 0.7}}\n", qs)  # fmt: skip
    assert good.weighting.cap == 5.0 and good.weighting.margins[0].shares_for("X") == {"counter": 0.3, "slip": 0.7}


def test_weighted_figures_on_the_results_page_in_the_workbook_and_the_api(client, demo, dbs, lopsided):
    """The rules weight: the results page shows each unit's total unweighted and weighted, its
    weighted rank and effective sample size; the workbook's sheet "Có gia quyền" and the API's
    ``weighted`` carry the same numbers as the computation."""
    import io

    from openpyxl import load_workbook

    from questionnaires.labels import vn_number
    from surveyapp.api.tokens import new_token
    from surveyapp.results.services import compute, weighted, weighted_rows

    from .test_qr_posters import login

    campaign, _kinds = lopsided
    campaign.scoring_rules = campaign.scoring_rules + WEIGHTING
    dbs.commit()
    table, _counts = compute(dbs, campaign)
    rows = {r.unit_code: r for r in weighted_rows(campaign, table, weighted(dbs, campaign, table))}
    mine = rows[UNIT]
    assert mine.change and mine.effective_n < mine.respondents
    login(client, demo.admin_username, demo.admin_password)
    page = client.get(f"/admin/c/{KEY}/results").get_data(as_text=True)
    section = page[page.index('id="gia-quyen"') :]
    section = section[: section.index("</table>")]
    assert "Ông/bà thực hiện thủ tục với tư cách nào: Cá nhân 50,0%" in page
    line = section[section.index(mine.unit_name) :].split("</tr>")[0]
    assert vn_number(mine.total, 2) in line and vn_number(mine.weighted_total, 2) in line
    assert vn_number(mine.effective_n, 1) in line and f">{mine.weighted_rank}<" in line
    book = load_workbook(io.BytesIO(client.get(f"/admin/c/{KEY}/results.xlsx").data), read_only=True)
    sheet = list(book["Có gia quyền"].iter_rows(values_only=True))
    heads = next(r for r in sheet if r and r[0] == "Mã đơn vị")
    [got] = [r for r in sheet if r and r[0] == UNIT]
    assert got[heads.index("Tổng có gia quyền")] == pytest.approx(mine.weighted_total)
    assert got[heads.index("Tổng chưa gia quyền")] == pytest.approx(mine.total)
    assert got[heads.index("Cỡ mẫu hiệu dụng")] == pytest.approx(mine.effective_n)
    assert got[heads.index("9.1 có gia quyền")] == pytest.approx(mine.points["9.1"][1])
    token = new_token(dbs, "kiểm tra")
    dbs.commit()
    api = client.get(f"/api/campaigns/{KEY}/scores", headers={"Authorization": f"Bearer {token}"}).get_json()
    [unit] = [u for u in api["units"] if u["unit_code"] == UNIT]
    assert unit["weighted"]["total"] == pytest.approx(mine.weighted_total)
    assert unit["weighted"]["rank"] == mine.weighted_rank
    assert unit["weighted"]["effective_n"] == pytest.approx(mine.effective_n, rel=1e-4)
    [c91] = [c for c in unit["weighted"]["criteria"] if c["code"] == "9.1"]
    assert c91["points"] == pytest.approx(mine.points["9.1"][1])


def test_without_weighting_nothing_changes(client, demo, dbs):
    from .test_qr_posters import login

    login(client, demo.admin_username, demo.admin_password)
    assert 'id="gia-quyen"' not in client.get(f"/admin/c/{KEY}/results").get_data(as_text=True)


def _at_both_widths(browser, live_server, demo, path: str, name: str):  # noqa: F811
    """The administrator's page at ``path``, its weighting section in view, at 360 and 1366 px:
    screenshotted, given to the test (``width, page``), then checked by axe-core."""
    from .conftest import ARTIFACTS
    from .test_browser import no_axe_violations
    from .test_every_page import _sign_in

    shots = ARTIFACTS / "weighting"
    shots.mkdir(parents=True, exist_ok=True)
    for width in (360, 1366):
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = _sign_in(context, live_server, demo.admin_username, demo.admin_password)
        page.goto(f"{live_server}{path}")
        page.locator("#gia-quyen").scroll_into_view_if_needed()
        page.screenshot(path=str(shots / f"{name}-{width}.png"))
        yield width, page
        no_axe_violations(page)
        context.close()


@pytest.mark.browser
def test_the_weighted_table_on_a_phone_and_a_desktop(browser, live_server, demo, dbs, lopsided):  # noqa: F811
    from playwright.sync_api import expect

    campaign, _kinds = lopsided
    campaign.scoring_rules = campaign.scoring_rules + WEIGHTING
    dbs.commit()
    for width, page in _at_both_widths(browser, live_server, demo, f"/admin/c/{KEY}/results", "results"):
        expect(page.locator("table.weighted")).to_be_visible()
        # the whole table fits the screen, a phone's too: no sideways scrolling
        region = page.locator('[aria-label="Bảng điểm có gia quyền"]')
        assert region.evaluate("e => e.scrollWidth <= e.clientWidth"), width


@pytest.mark.browser
def test_the_weighting_form_on_a_phone_and_a_desktop(browser, live_server, demo, dbs):  # noqa: F811
    from surveyapp.campaigns.services import campaign_by_key

    campaign = campaign_by_key(dbs, KEY)
    campaign.scoring_rules = campaign.scoring_rules + WEIGHTING
    dbs.commit()
    for _width, page in _at_both_widths(browser, live_server, demo, f"/admin/c/{KEY}/rules/edit", "rules"):
        assert page.locator('input[aria-label="Tỷ lệ đã biết của loại “Cá nhân”, phần trăm"]').input_value() == "50"
