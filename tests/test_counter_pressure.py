"""Answers given under the officer's eyes (issue 20, part 3): where a unit collects both at the
counter (the poster's QR) and later (slips taken home), the two channels' satisfaction is compared
per unit with respondent-clustered intervals; a unit whose counter answers are higher beyond chance
is flagged on the results and quality pages; a campaign can score only the later answers."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from surveyapp.campaigns.services import campaign_by_key
from surveyapp.demo.fake import fill
from surveyapp.models import Answer, RespondentGroup, Response, Unit
from surveyapp.results.services import compute, counter_pressure

from .conftest import csrf_token
from .test_browser import browser  # noqa: F401 (the fixture)
from .test_qr_posters import login

KEY = "ninh-giang-2023"


def _split(dbs, unit_code: str, *, counter_level: int | None, later_level: int | None) -> None:
    """Half of the unit's citizen answers become slips taken home; levels set per side if given."""
    citizen = dbs.scalars(select(RespondentGroup.id).where(RespondentGroup.code == "citizen")).one()
    unit = dbs.scalars(select(Unit.id).where(Unit.code == unit_code)).one()
    ids = list(dbs.scalars(select(Response.id).where(Response.group_id == citizen, Response.unit_id == unit)
                           .order_by(Response.id)))  # fmt: skip
    later = ids[: len(ids) // 2]
    dbs.execute(update(Response).where(Response.id.in_(later)).values(channel="slip"))
    for chosen, level in ((later, later_level), ([i for i in ids if i not in later], counter_level)):
        if level is not None:
            dbs.execute(update(Answer).where(Answer.response_id.in_(chosen), Answer.value_num.is_not(None))
                        .values(value_num=level))  # fmt: skip


@pytest.fixture
def split(demo, dbs):
    campaign = campaign_by_key(dbs, KEY)
    fill(dbs, campaign, share=0.8, seed=3)
    _split(dbs, "HDG-NGG-02", counter_level=5, later_level=2)  # everyone pleased in front of the officer
    _split(dbs, "HDG-NGG-03", counter_level=None, later_level=None)  # the same answers either way
    dbs.commit()
    return campaign


def test_a_unit_pleased_only_at_the_counter_is_flagged(dbs, split):
    rows = {r.unit_code: r for r in counter_pressure(dbs, split)}
    assert set(rows) == {"HDG-NGG-02", "HDG-NGG-03"}  # only units that collect both ways
    pushed, fair = rows["HDG-NGG-02"], rows["HDG-NGG-03"]
    assert pushed.flagged and pushed.gap.first == 1.0 and pushed.gap.second == 0.0
    assert pushed.counter_people > 1 and pushed.later_people > 1
    assert not fair.flagged and fair.gap.low < 0 < fair.gap.high
    assert [r.unit_code for r in counter_pressure(dbs, split)][0] == "HDG-NGG-02"  # flagged first


@pytest.mark.parametrize("scored", ["all", "later"])
def test_the_check_from_the_scores_read_is_the_check_read_alone(dbs, split, scored):
    """The results page compares the channels from the answers compute() read; when the campaign
    scores only later answers that read lacks the counter's, so the check reads every channel."""
    split.scored_channels = scored
    dbs.flush()
    table, _counts = compute(dbs, split)
    alone = counter_pressure(dbs, split)
    shared = counter_pressure(dbs, split, table)
    assert shared == alone and {r.unit_code for r in alone} == {"HDG-NGG-02", "HDG-NGG-03"}
    pushed = next(r for r in shared if r.unit_code == "HDG-NGG-02")
    assert pushed.flagged and pushed.gap.first == 1.0 and pushed.gap.second == 0.0


def test_the_results_and_quality_pages_show_it(client, demo, dbs, split):
    login(client, demo.admin_username, demo.admin_password)
    results = client.get(f"/admin/c/{KEY}/results").get_data(as_text=True)
    section = results[results.index('id="ap-luc-tai-quay"') :]
    assert "Xã An Đức" in section and "Tại quầy cao hơn rõ rệt" in section and "Không khác rõ rệt" in section
    assert "100,0%" in section and "0,0%" in section
    quality = client.get(f"/admin/c/{KEY}/quality").get_data(as_text=True)
    part = quality[quality.index('id="ap-luc-tai-quay"') :]
    part = part[: part.index("</table>")]
    assert "Xã An Đức" in part and "Tại quầy cao hơn rõ rệt" in part
    name_03 = dbs.scalars(select(Unit.name).where(Unit.code == "HDG-NGG-03")).one()
    assert name_03 not in part  # the quality page lists only the flagged ones


def test_a_campaign_can_score_only_the_answers_given_later(client, demo, dbs, split):
    before = compute(dbs, split)[0].unit("HDG-NGG-02")
    login(client, demo.admin_username, demo.admin_password)
    page = client.get(f"/admin/c/{KEY}/settings").get_data(as_text=True)
    form = {"csrf_token": csrf_token(page), "quota_full_policy": "stop", "min_seconds_per_question": "2",
            "burst_limit": "5", "scored_channels": "later"}  # fmt: skip
    assert client.post(f"/admin/c/{KEY}/settings", data=form).status_code == 302
    dbs.expire_all()
    campaign = campaign_by_key(dbs, KEY)
    assert campaign.scored_channels == "later"
    after = compute(dbs, campaign)[0].unit("HDG-NGG-02")
    citizen_criteria = [c for c in campaign_rules(campaign) if c.startswith("8")]
    assert citizen_criteria
    for code in citizen_criteria:  # only the slips' answers, all at level 2: nobody satisfied
        assert before.criteria[code].value > 0.5 and after.criteria[code].value == 0.0, code
    assert after.criteria[citizen_criteria[0]].n < before.criteria[citizen_criteria[0]].n
    results = client.get(f"/admin/c/{KEY}/results").get_data(as_text=True)
    assert "chỉ tính câu trả lời sau khi rời quầy" in results
    form["scored_channels"] = "khac"
    refused = client.post(f"/admin/c/{KEY}/settings", data=form)
    assert refused.status_code == 422 and "Cách chọn câu trả lời để tính điểm không hợp lệ." in refused.get_data(
        as_text=True)  # fmt: skip


def campaign_rules(campaign) -> list[str]:
    from surveyapp.results.services import rules_of

    rules = rules_of(campaign)
    return [c.code for c in rules.criteria if all(s.group == "citizen" for s in c.sources)]


def test_settings_page_offers_the_choice(client, demo):
    login(client, demo.admin_username, demo.admin_password)
    page = client.get(f"/admin/c/{KEY}/settings").get_data(as_text=True)
    assert re.search(r'name="scored_channels" value="all"[^>]*checked', page)
    assert "Chỉ câu trả lời sau khi rời quầy" in page


@pytest.mark.browser
def test_the_comparison_on_a_phone_and_a_desktop(browser, live_server, demo, dbs, split):  # noqa: F811
    from .conftest import ARTIFACTS
    from .test_browser import no_axe_violations
    from .test_every_page import _sign_in

    shots = ARTIFACTS / "pressure"
    shots.mkdir(parents=True, exist_ok=True)
    for width in (360, 1366):
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = _sign_in(context, live_server, demo.admin_username, demo.admin_password)
        for name, path in (("results", "results"), ("quality", "quality"), ("settings", "settings")):
            page.goto(f"{live_server}/admin/c/{KEY}/{path}")
            if name != "settings":
                page.locator("#ap-luc-tai-quay").scroll_into_view_if_needed()
            page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=name != "results")
            no_axe_violations(page)
        context.close()
