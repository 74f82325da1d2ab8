"""The scoring rules as a form: the form shows exactly the campaign's rules, a preview shows every
unit's points under the new rules beside the current ones and saves nothing, a save on an open
campaign asks first, rules are versioned and audited, and bad input is a message, not a save."""

from __future__ import annotations

import json

import pytest
import yaml
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from questionnaires.scoring import load_rules_text
from surveyapp.authoring import rules_form as rf
from surveyapp.demo.fake import fill
from surveyapp.models import AuditEvent, Campaign, RulesVersion
from surveyapp.results.services import questionnaires

from .conftest import count
from .forms import form_fields
from .test_qr_posters import login


@pytest.fixture
def admin(client, demo, dbs):
    campaign = dbs.scalar(select(Campaign).where(Campaign.key == demo.campaign_key))
    fill(dbs, campaign, share=0.3, seed=5)
    dbs.commit()
    login(client, demo.admin_username, demo.admin_password)
    return client


def _url(demo) -> str:
    return f"/admin/c/{demo.campaign_key}/rules/edit"


def _fields(admin, demo) -> MultiDict:
    return MultiDict(form_fields(admin.get(_url(demo)).get_data(as_text=True), "rules"))


def test_the_form_is_the_campaigns_rules(admin, demo, dbs):
    campaign = dbs.scalar(select(Campaign).where(Campaign.key == demo.campaign_key))
    data, errors = rf.parse(_fields(admin, demo))
    assert not errors
    qs = questionnaires(campaign)
    from_form = load_rules_text(yaml.safe_dump(data, allow_unicode=True), qs)
    current = load_rules_text(campaign.scoring_rules, qs)
    assert from_form.criteria == current.criteria
    assert (from_form.component_total, from_form.min_share_of_quota, from_form.insufficient_effect) == (
        current.component_total, current.min_share_of_quota, current.insufficient_effect,
    )  # fmt: skip


def test_preview_shows_new_and_current_points_and_saves_nothing(admin, demo, dbs):
    fields = _fields(admin, demo)
    fields["c0_max"] = "3"
    fields["c1_max"] = "1"  # the total stays 10
    fields["action"] = "preview"
    before = dbs.scalar(select(Campaign.scoring_rules).where(Campaign.key == demo.campaign_key))
    response = admin.post(_url(demo), data=fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert "Xem trước: điểm theo quy tắc mới và quy tắc đang dùng" in page
    assert "Tổng mới" in page and "Chênh lệch" in page and "Xã Hiệp Lực" in page
    dbs.expire_all()
    assert dbs.scalar(select(Campaign.scoring_rules).where(Campaign.key == demo.campaign_key)) == before
    assert count(dbs, RulesVersion) == 0


def test_save_on_an_open_campaign_asks_first_then_versions_and_audits(admin, demo, dbs):
    fields = _fields(admin, demo)
    fields["c0_name"] = "Kết quả khảo sát tại Bộ phận một cửa (sửa năm nay)"
    fields["action"] = "save"
    response = admin.post(_url(demo), data=fields)
    assert response.status_code == 422
    assert "đồng ý đổi quy tắc" in response.get_data(as_text=True)
    assert count(dbs, RulesVersion) == 0
    fields["confirm"] = "1"
    response = admin.post(_url(demo), data=fields)
    assert response.status_code == 302
    versions = dbs.scalars(select(RulesVersion).order_by(RulesVersion.number)).all()
    assert [v.number for v in versions] == [1, 2]
    assert "sửa năm nay" in versions[1].source and "sửa năm nay" not in versions[0].source
    event = dbs.scalar(select(AuditEvent).where(AuditEvent.action == "campaign.rules_changed"))
    details = json.loads(event.details)
    assert details["version"] == 2 and "sửa năm nay" in details["after"] and "sửa năm nay" not in details["before"]
    results = admin.get(f"/admin/c/{demo.campaign_key}/results").get_data(as_text=True)
    assert "quy tắc tính điểm phiên bản 2" in results


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"c1_s0_weight": "0,5", "c1_s1_weight": "0,3"}, "tổng trọng số các nguồn phải bằng 1"),
        ({"c0_max": "hai"}, "Phải là một số"),
        ({"c0_code": "9.1"}, "mã tiêu chí bị trùng"),
        ({"component_total": "12"}, "khác điểm của phần điều tra"),
    ],
)
def test_bad_rules_are_explained_and_nothing_is_saved(admin, demo, dbs, change, message):
    fields = _fields(admin, demo)
    for key, value in change.items():
        fields[key] = value
    fields["action"] = "save"
    fields["confirm"] = "1"
    response = admin.post(_url(demo), data=fields)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(dbs, RulesVersion) == 0


def test_a_criterion_can_be_added_and_removed_in_the_form(admin, demo):
    fields = _fields(admin, demo)
    n = int(fields["criteria_count"])
    fields["action"] = "add_criterion"
    page = admin.post(_url(demo), data=fields).get_data(as_text=True)
    added = MultiDict(form_fields(page, "rules"))
    assert int(added["criteria_count"]) == n + 1
    added["c0_delete"] = "1"
    data, _errors = rf.parse(added)
    assert len(data["criteria"]) == n  # the blank one stays, the first one is gone
    assert data["criteria"][0]["code"] != "8.1.3"


def test_a_save_from_the_form_keeps_the_weighting_section(admin, demo, dbs):
    """The form has no fields for weighting yet (issue 20, part 2): a save keeps the section the
    rules file has, so an officer editing a criterion never drops it."""
    from .test_weighting import WEIGHTING

    campaign = dbs.scalar(select(Campaign).where(Campaign.key == demo.campaign_key))
    campaign.scoring_rules += WEIGHTING
    dbs.commit()
    fields = _fields(admin, demo)
    fields["c0_name"] = "Kết quả khảo sát tại Bộ phận một cửa (sửa năm nay)"
    fields["action"] = "save"
    fields["confirm"] = "1"
    assert admin.post(_url(demo), data=fields).status_code == 302
    dbs.expire_all()
    saved = load_rules_text(dbs.scalar(select(Campaign.scoring_rules).where(Campaign.key == demo.campaign_key)),
                            questionnaires(campaign))  # fmt: skip
    assert "sửa năm nay" in saved.criteria[0].name
    assert saved.weighting is not None and saved.weighting.cap == 20.0
    assert saved.weighting.margins[0].by == "respondent_kind"
    assert saved.weighting.margins[0].shares_for("HDG-NGG-03") == {"person": 0.8, "organisation": 0.2}


def test_an_officer_adds_weighting_in_the_form(admin, demo, dbs):
    """Choose the variable, press preview: the page asks for each category's share (in %); fill
    them and save: the rules weight by it. Shares that do not add up to 100 % are refused."""
    fields = _fields(admin, demo)
    k = int(fields["margins_count"]) - 1  # the spare row
    fields[f"w{k}_var"] = "citizen|respondent_kind"
    fields["action"] = "preview"
    asked = admin.post(_url(demo), data=fields)
    page = asked.get_data(as_text=True)
    assert asked.status_code == 422 and rf.CHOOSE_SHARES in page
    assert "Tỷ lệ đã biết của loại “Cá nhân”, phần trăm" in page
    fields = MultiDict(form_fields(page, "rules"))
    shares = fields.getlist(f"w{k}_share")
    assert fields.getlist(f"w{k}_cat") == ["person", "organisation"] and shares == ["", ""]
    fields.setlist(f"w{k}_share", ["70", "20"])
    fields["action"] = "preview"
    refused = admin.post(_url(demo), data=fields)
    assert refused.status_code == 422 and "tổng các tỷ lệ phải bằng 1 (100 %), hiện là 0,9 (90 %)" in refused.get_data(
        as_text=True
    )
    fields.setlist(f"w{k}_share", ["70", "30"])
    fields["w_cap"] = "4"
    fields["action"] = "save"
    fields["confirm"] = "1"
    assert admin.post(_url(demo), data=fields).status_code == 302
    campaign = dbs.scalar(select(Campaign).where(Campaign.key == demo.campaign_key))
    dbs.refresh(campaign)
    saved = load_rules_text(campaign.scoring_rules, questionnaires(campaign))
    [margin] = saved.weighting.margins
    assert (margin.group, margin.by, dict(margin.shares)) == ("citizen", "respondent_kind",
                                                              {"person": 0.7, "organisation": 0.3})  # fmt: skip
    assert saved.weighting.cap == 4.0
    results = admin.get(f"/admin/c/{demo.campaign_key}/results").get_data(as_text=True)
    assert 'id="gia-quyen"' in results and "Cá nhân 70,0%" in results
    # and the form shows exactly what was saved
    data, errors = rf.parse(_fields(admin, demo))
    assert not errors
    again = load_rules_text(yaml.safe_dump(data, allow_unicode=True), questionnaires(campaign))
    assert again.weighting == saved.weighting
