"""The long form one unit at a time (issue 15, part 1): a delegate or leader who rates many units
answers one per screen, the draft is saved at every move, and the form resumes where it was
left on another phone; without scripts (the test client) and in Chromium on a 360 px phone."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from questionnaires import load_text
from surveyapp.collect import screens
from surveyapp.collect.forms import plan_entries
from surveyapp.invitations.services import Person, add_invitations
from surveyapp.models import Answer, Invitation, InvitationClaim, InvitationDraft, RespondentGroup, Response, Unit

from .conftest import ARTIFACTS, count, hidden_fields
from .test_browser import PHONE, browser, no_axe_violations  # noqa: F401 (the fixture)
from .test_invitations import _group, _rate_three, invitation  # noqa: F401 (the fixture)


def _screen_fields(html: str) -> dict[str, str]:
    fields = hidden_fields(html)
    fields["screen"] = re.search(r'name="screen" value="(\d+)"', html).group(1)
    return fields


def _names_on(html: str) -> set[str]:
    return set(re.findall(r'name="(q_[^"]+)"', html))


def _rate(units, level: str, unit_items: list[str]) -> dict[str, str]:
    return {f"q_{item}__{unit.id}": level for unit in units for item in unit_items}


DELEGATE_ITEMS = ["dlg_direction", "dlg_institutions", "dlg_procedures", "dlg_civil_service", "dlg_public_finance",
                  "dlg_digital"]  # fmt: skip


def test_one_unit_per_screen_saved_at_every_move_and_resumed_elsewhere(client, invitation, dbs):  # noqa: F811
    units = _rate_three(dbs, _group(dbs, "hdnd"))
    url = f"/i/{invitation.code}"
    first = client.get(url).get_data(as_text=True)
    # five screens: about the delegate, three units, closing remarks; only the first one's questions
    assert "Bước 1/5" in first and _names_on(first) == {"q_delegate_term", "q_supervision"}
    assert [re.sub(r"<[^>]+>", "", t).strip() for t in re.findall(r'name="goto" value="\d"[^>]*>(.*?)</button>', first)]
    about = {"q_delegate_term": "part_time", "q_supervision": "yes"}
    second = client.post(url, data={**_screen_fields(first), **about, "intent": "next"}).get_data(as_text=True)
    # the unit's name in the header and its place among the units
    assert f'<span class="brand">{units[0].name}</span>' in second and "Xã 1/3" in second
    assert _names_on(second) == {f"q_{item}__{units[0].id}" for item in DELEGATE_ITEMS}
    assert count(dbs, InvitationDraft) == 1 and count(dbs, Response) == 0
    third = client.post(url, data={**_screen_fields(second), **_rate(units[:1], "4", DELEGATE_ITEMS)})
    third = third.get_data(as_text=True)
    assert "Xã 2/3" in third
    saved = client.post(url, data={**_screen_fields(third), f"q_dlg_direction__{units[1].id}": "2", "intent": "save"})
    assert "Đã lưu phần trả lời" in saved.get_data(as_text=True) and "Xã 2/3" in saved.get_data(as_text=True)

    # another phone, the same link: the form opens at the first screen not finished, answers kept
    other = client.application.test_client()
    resumed = other.get(url).get_data(as_text=True)
    assert "Đang tiếp tục phiếu đã lưu tạm" in resumed and "Xã 2/3" in resumed
    assert f'name="q_dlg_direction__{units[1].id}" value="2" checked' in resumed
    assert hidden_fields(resumed)["submission_id"] == hidden_fields(first)["submission_id"]
    assert "Các bước: đã xong 3/5" in resumed
    kept = {f"q_dlg_direction__{units[1].id}": "2"}
    back = other.post(url, data={**_screen_fields(resumed), **kept, "goto": "1"}).get_data(as_text=True)
    assert f'name="q_dlg_direction__{units[0].id}" value="4" checked' in back

    # "Gửi phiếu" with units not answered: nothing stored, the first screen with a problem shown
    last = other.post(url, data={**_screen_fields(back), **_rate(units[:1], "4", DELEGATE_ITEMS), "goto": "4"})
    last = last.get_data(as_text=True)
    assert "Gửi phiếu" in last and "Bước 5/5" in last
    refused = other.post(url, data={**_screen_fields(last), "intent": "submit"})
    assert refused.status_code == 422 and count(dbs, Response) == 0
    page = refused.get_data(as_text=True)
    assert "Xã 2/3" in page and "Còn 11 câu chưa đúng hoặc chưa trả lời, ở 2 bước" in page
    for unit in units[1:]:
        page = other.post(url, data={**_screen_fields(page), **_rate([unit], "3", DELEGATE_ITEMS), "intent": "next"})
        page = page.get_data(as_text=True)
    done = other.post(url, data={**_screen_fields(page), "q_dlg_suggestion": "Tăng giám sát.", "intent": "submit"})
    assert "Cảm ơn Quý vị đã trả lời!" in done.get_data(as_text=True)
    assert count(dbs, InvitationDraft) == 0 and count(dbs, Response) == 1
    levels: dict[int, set[float]] = {}
    for answer in dbs.scalars(select(Answer).where(Answer.value_num.is_not(None))):
        levels.setdefault(answer.subject_unit_id, set()).add(answer.value_num)
    assert levels == {units[0].id: {4.0}, units[1].id: {3.0}, units[2].id: {3.0}}
    assert dbs.scalar(select(Answer.value_text).where(Answer.value_text.is_not(None))) == "Tăng giám sát."
    # the link is spent
    assert client.get(url).status_code == 410
    again = other.post(url, data={**_screen_fields(page), "intent": "next"})
    assert again.status_code == 409


def test_a_cleared_answer_is_cleared_in_the_draft(client, invitation, dbs):  # noqa: F811
    _rate_three(dbs, _group(dbs, "hdnd"))
    url = f"/i/{invitation.code}"
    first = client.get(url).get_data(as_text=True)
    client.post(url, data={**_screen_fields(first), "q_delegate_term": "part_time", "q_supervision": "yes",
                           "intent": "save"})  # fmt: skip
    # the radio unset on the same screen (a post without it): gone from the draft, the other answer kept
    client.post(url, data={**_screen_fields(first), "q_supervision": "no", "intent": "save"})
    draft = dbs.scalars(select(InvitationDraft)).one()
    dbs.refresh(draft)
    assert '"q_supervision": ["no"]' in draft.data and "q_delegate_term" not in draft.data


@pytest.mark.parametrize("screen", ["9", "-1", "x", "", "²", "٣", "9" * 40])
def test_a_screen_that_does_not_exist_is_refused_in_vietnamese(client, invitation, dbs, screen):  # noqa: F811
    _rate_three(dbs, _group(dbs, "hdnd"))
    url = f"/i/{invitation.code}"
    first = client.get(url).get_data(as_text=True)
    response = client.post(url, data={**hidden_fields(first), "screen": screen, "intent": "next"})
    assert response.status_code == 400 and "Vui lòng tải lại trang khảo sát" in response.get_data(as_text=True)
    assert count(dbs, InvitationDraft) == 0


def test_one_rated_unit_keeps_the_single_page(client, invitation, dbs):  # noqa: F811
    group = _group(dbs, "hdnd")
    group.rated_units = group.rated_units[:1]
    dbs.commit()
    html = client.get(f"/i/{invitation.code}").get_data(as_text=True)
    assert 'name="screen"' not in html and "q_delegate_term" in html and "q_dlg_suggestion" in html


CROSS_SCREEN = """id: qua_man_hinh
version: 1
title: Phiếu thử
aspects: {chung: Chung}
scales: {q5: [Rất kém, Kém, Trung bình, Tốt, Rất tốt]}
sections:
  - id: a
    title: Về người trả lời
    questions:
      - {id: giam_sat, type: yesno, label: "Có giám sát không?"}
  - id: b
    title: Từng đơn vị
    questions:
      - id: danh_gia
        type: rate_units
        units: assigned
        label: Đánh giá từng đơn vị
        items:
          - {id: chung, type: scale, scale: q5, aspect: chung, label: Đánh giá chung}
          - {id: ket_qua, type: scale, scale: q5, aspect: chung, label: Kết quả giám sát,
             show_if: {question: giam_sat, answers: ["yes"]}}
          - {id: vi_sao, type: text, required: false, label: "Vì sao?", show_if: {question: chung, answers: ["1", "2"]}}
  - id: c
    title: Kết thúc
    questions:
      - {id: y_kien, type: longtext, required: false, label: Ý kiến khác}
"""


def test_skip_logic_across_screens_is_decided_by_the_server():
    q = load_text(CROSS_SCREEN)
    units = [Unit(id=1, code="A", name="Xã A", kind="xã"), Unit(id=2, code="B", name="Xã B", kind="xã")]
    entries = plan_entries(q, {"danh_gia": units})
    plan = screens.plan_screens(q, entries)
    assert [s.title for s in plan] == ["Về người trả lời", "Xã A", "Xã B", "Kết thúc"]
    assert (plan[1].kind, plan[1].position, plan[1].of) == ("Xã", 1, 2)
    by_name = {e.name: e for e in entries}
    # the item that depends on the first screen cannot be shown or hidden by the page's script
    assert not screens.live_conditions(q, plan[1], by_name["q_ket_qua__1"])
    assert screens.live_conditions(q, plan[1], by_name["q_vi_sao__1"])
    no = MultiDict({"q_giam_sat": "no", "q_chung__1": "2"})
    # "Vì sao?" about Xã B waits for an answer about Xã B; "Kết quả giám sát" for "Có" on the first screen
    assert screens.visible_names(entries, no) == {"q_giam_sat", "q_chung__1", "q_vi_sao__1", "q_chung__2", "q_y_kien"}
    yes = MultiDict({"q_giam_sat": "yes"})
    assert "q_ket_qua__2" in screens.visible_names(entries, yes)
    states = screens.screen_states(plan, screens.visible_names(entries, no), no)
    # the last screen has optional questions only: never waiting
    assert [s.done for s in states] == [True, True, False, True]
    assert screens.first_unfinished(states) == 2


@pytest.mark.browser
def test_leader_rates_twenty_units_on_a_phone_stops_and_finishes_on_another(browser, live_server, demo, dbs):  # noqa: F811
    group = dbs.scalars(select(RespondentGroup).where(RespondentGroup.code == "ubnd")).one()
    communes = dbs.scalars(select(Unit).where(Unit.code.like("HDG-NGG-%")).order_by(Unit.code)).all()
    assert len(communes) == 20
    group.rated_units = list(communes)
    district = dbs.scalars(select(Unit).where(Unit.code == "HDG-NGG")).one()
    [person] = add_invitations(dbs, group, [Person("Phạm Thị Lan", "Phó Chủ tịch UBND huyện", district)])
    dbs.commit()
    url = f"{live_server}/i/{person.code}"

    def rate_screen(page, level: str) -> None:
        for name in page.eval_on_selector_all(".q-scale", "els => els.map(e => e.id.slice(2))"):
            page.check(f'input[name="{name}"][value="{level}"]')

    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(url)
    page.screenshot(path=str(ARTIFACTS / "leader-20-start-360.png"))
    page.check('input[name="q_leader_body"][value="people_committee"]')
    page.click("button.next")
    for n, unit in enumerate(communes[:10], start=1):
        page.wait_for_selector(f"text=Đơn vị {n}/20")
        assert page.inner_text(".top .brand") == unit.name
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height < 3 * 740 * 1.9, height  # one unit: a few screens' height, not 26,800 px
        rate_screen(page, "4")
        if n == 6:
            page.screenshot(path=str(ARTIFACTS / "leader-20-unit6-360.png"), full_page=True)
            no_axe_violations(page)
        page.click("button.next")
    page.wait_for_selector("text=Đơn vị 11/20")
    page.click("button.save:not(.prev)")
    page.wait_for_selector("text=Đã lưu phần trả lời")
    # the confirmation is where the user is: inside the viewport
    box = page.locator(".saved").bounding_box()
    assert 0 <= box["y"] <= 740 - box["height"], box
    page.screenshot(path=str(ARTIFACTS / "leader-20-saved-360.png"))
    context.close()
    assert count(dbs, Response) == 0

    context = browser.new_context(viewport=PHONE)  # another phone: nothing kept locally
    page = context.new_page()
    page.goto(url)
    assert page.is_visible("text=Đang tiếp tục phiếu đã lưu tạm")
    assert page.inner_text(".top .brand") == communes[10].name and page.is_visible("text=Đơn vị 11/20")
    page.click(".toc summary")
    assert page.inner_text(".toc summary") == "Các bước: đã xong 12/22"
    page.screenshot(path=str(ARTIFACTS / "leader-20-resumed-360.png"), full_page=True)
    no_axe_violations(page)
    page.click(".toc summary")
    for n in range(11, 21):
        page.wait_for_selector(f"text=Đơn vị {n}/20")
        rate_screen(page, "3")
        page.click("button.next")
    page.wait_for_selector("text=Bước 22/22")
    page.set_viewport_size({"width": 1366, "height": 900})
    no_axe_violations(page)
    page.screenshot(path=str(ARTIFACTS / "leader-20-last-1366.png"))
    page.fill('textarea[name="q_ldr_suggestion"]', "Đẩy mạnh số hoá hồ sơ.")
    page.click("button.send:not(.next)")
    page.wait_for_selector("text=Cảm ơn Quý vị đã trả lời!")
    context.close()

    stored = dbs.scalars(select(Response)).one()
    levels: dict[int, set[float]] = {}
    for answer in dbs.scalars(select(Answer).where(Answer.response_id == stored.id, Answer.value_num.is_not(None))):
        levels.setdefault(answer.subject_unit_id, set()).add(answer.value_num)
    assert levels == {u.id: {4.0 if i < 10 else 3.0} for i, u in enumerate(communes)}
    assert count(dbs, InvitationDraft) == 0
    # anonymous: the invitation is untouched and a claim records that it answered (surveyapp/anonymity.py)
    assert not dbs.scalar(select(Invitation.used).where(Invitation.id == person.id))
    assert count(dbs, InvitationClaim) == 1


def test_a_wide_screen_rates_every_unit_on_one_grid(client, invitation, dbs):  # noqa: F811
    units = _rate_three(dbs, _group(dbs, "hdnd"))
    url = f"/i/{invitation.code}"
    first = client.get(url).get_data(as_text=True)
    about = {"q_delegate_term": "part_time", "q_supervision": "yes"}
    unit_screen = client.post(url, data={**_screen_fields(first), **about, "intent": "next"}).get_data(as_text=True)
    assert 'name="goto" value="grid"' in unit_screen  # offered (shown on wide screens only)
    # from a unit's screen to the grid: that screen is saved on the way
    grid = client.post(url, data={**_screen_fields(unit_screen), f"q_dlg_direction__{units[0].id}": "5",
                                  "goto": "grid"}).get_data(as_text=True)  # fmt: skip
    assert 'data-screen="grid"' in grid and _names_on(grid) == {
        f"q_{item}__{unit.id}" for unit in units for item in DELEGATE_ITEMS}  # fmt: skip
    assert '<option value="5" selected>5 · Rất tốt</option>' in grid
    assert client.get(f"{url}?view=grid").get_data(as_text=True).count("<select") == 18
    fields = {**hidden_fields(grid), "screen": "grid", **_rate(units, "4", DELEGATE_ITEMS)}
    saved = client.post(url, data={**fields, "intent": "save"}).get_data(as_text=True)
    assert "Đã lưu phần trả lời" in saved and 'data-screen="grid"' in saved
    closing = client.post(url, data={**fields, "intent": "next"}).get_data(as_text=True)
    assert "Bước 5/5" in closing and "Các bước: đã xong 5/5" in closing  # the delegate's answers kept too
    done = client.post(url, data={**_screen_fields(closing), "intent": "submit"})
    assert "Cảm ơn Quý vị đã trả lời!" in done.get_data(as_text=True)
    levels = {a.value_num for a in dbs.scalars(select(Answer).where(Answer.value_num.is_not(None)))}
    assert levels == {4.0} and count(dbs, Response) == 1
    # a grid posted for a form without one is refused like any broken post
    assert client.post(url, data={**fields, "intent": "next"}).status_code in (400, 409)


@pytest.mark.browser
def test_the_grid_in_chromium_on_a_desktop(browser, live_server, demo, dbs):  # noqa: F811
    group = dbs.scalars(select(RespondentGroup).where(RespondentGroup.code == "ubnd")).one()
    communes = dbs.scalars(select(Unit).where(Unit.code.like("HDG-NGG-%")).order_by(Unit.code)).all()
    group.rated_units = list(communes)
    district = dbs.scalars(select(Unit).where(Unit.code == "HDG-NGG")).one()
    [person] = add_invitations(dbs, group, [Person("Vũ Thị Hoa", "Trưởng phòng Nội vụ", district)])
    dbs.commit()
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server}/i/{person.code}")
    page.check('input[name="q_leader_body"][value="department"]')
    page.click("button.next")
    page.click("button.wide-only")
    page.wait_for_selector("table.grid")
    for name in page.eval_on_selector_all("table.grid select", "els => els.map(e => e.name)"):
        page.select_option(f'select[name="{name}"]', "3")
    no_axe_violations(page)
    page.screenshot(path=str(ARTIFACTS / "leader-grid-1366.png"), full_page=True)
    page.click("button.next")
    page.wait_for_selector("text=Bước 22/22")
    page.click("button.send:not(.next)")
    page.wait_for_selector("text=Cảm ơn Quý vị đã trả lời!")
    context.close()
    levels = {a.value_num for a in dbs.scalars(select(Answer).where(Answer.value_num.is_not(None)))}
    assert levels == {3.0} and dbs.scalar(select(func.count()).select_from(Answer).where(
        Answer.value_num.is_not(None))) == 20 * 6  # fmt: skip
