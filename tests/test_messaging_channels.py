"""The SMS (eSMS.vn) and Zalo (ZNS) adapters against a local HTTP server started by the test,
which checks each request's shape against the provider's documented fields; provider errors
shown per person and retried; bad input refused in Vietnamese with nothing marked sent
(issue 18)."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from surveyapp.invitations.services import Person, add_invitations
from surveyapp.messaging.addresses import mobile
from surveyapp.messaging.templates import Draft, check, render
from surveyapp.models import Message, RespondentGroup, Unit

from .conftest import csrf_token
from .test_messaging import KEY, compose, free_port, mail_config, smtp  # noqa: F401 (the fixture)
from .test_qr_posters import login

#: the fields each provider documents for one message (developers.esms.vn "Send OTP/Customer care
#: message"; developers.zalo.me "Gửi ZNS": phone, template_id, template_data, tracking_id)
ESMS_FIELDS = {"ApiKey", "SecretKey", "Phone", "Content", "Brandname", "SmsType", "IsUnicode", "RequestId",
               "campaignid", "CallbackUrl"}  # fmt: skip
ZALO_FIELDS = {"phone", "template_id", "template_data", "tracking_id"}


class Provider:
    """A provider's API on loopback: records every request; ``answers`` says what to reply."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers = []  # (status, body) popped per request; the last one repeats
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                outer.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                       "body": json.loads(self.rfile.read(length))})  # fmt: skip
                status, body = outer.answers.pop(0) if len(outer.answers) > 1 else outer.answers[0]
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def provider():
    p = Provider()
    yield p
    p.close()


PHONES = ["0912 345 678", "+84 983 000 111", "0386.123.456"]


def delegates_with_phones(dbs, phones=PHONES):
    group = dbs.scalars(select(RespondentGroup).where(RespondentGroup.code == "hdnd")).one()
    group.rated_units = [dbs.scalars(select(Unit).where(Unit.code == "HDG-NGG-02")).one()]
    district = dbs.scalars(select(Unit).where(Unit.code == "HDG-NGG")).one()
    rows = add_invitations(dbs, group, [Person(f"Người Thứ {i}", "Đại biểu", district, phone)
                                        for i, phone in enumerate(phones)])  # fmt: skip
    dbs.commit()
    return rows


def esms_config(provider) -> dict:
    return {"SMS_PROVIDER": "esms", "ESMS_URL": f"{provider.url}/MainService.svc/json/SendMultipleMessage_V4_post_json/",
            "ESMS_API_KEY": "khoa-api", "ESMS_SECRET_KEY": "khoa-bi-mat", "ESMS_BRANDNAME": "SONOIVU",
            "MESSAGE_RATE_SMS": "1000 per second", "MESSAGE_RETRY_DELAYS": [0.05, 0.05], "REDIS_URL": ""}  # fmt: skip


def zalo_config(provider) -> dict:
    return {"ZALO_URL": f"{provider.url}/message/template", "ZALO_ACCESS_TOKEN": "ma-truy-cap-oa",
            "ZALO_TEMPLATE_ID": "251234", "MESSAGE_RATE_ZALO": "1000 per second",
            "MESSAGE_RETRY_DELAYS": [0.05, 0.05], "REDIS_URL": ""}  # fmt: skip


def statuses(dbs) -> dict[str, tuple[str, str | None, int]]:
    dbs.expire_all()
    return {m.invitation.full_name: (m.status, m.error, m.attempts) for m in dbs.scalars(select(Message))}


def test_sms_requests_follow_esms_and_each_message_is_its_own_request_id(app, runner, demo, dbs, provider):
    app.config.update(esms_config(provider))
    people = delegates_with_phones(dbs)
    provider.answers = [(200, {"CodeResult": "100", "CountRegenerate": 0, "SMSID": "abc123"})]
    result = runner.invoke(args=["invitations", "send", KEY, "hdnd", "--channel", "sms"])
    assert "Đã xếp hàng 3 thư" in result.output, result.output
    assert len(provider.requests) == 3
    for request, person in zip(provider.requests, people, strict=True):
        assert request["path"] == "/MainService.svc/json/SendMultipleMessage_V4_post_json/"
        assert request["headers"]["content-type"].startswith("application/json")
        body = request["body"]
        assert set(body) == ESMS_FIELDS, set(body) ^ ESMS_FIELDS
        assert body["ApiKey"] == "khoa-api" and body["SecretKey"] == "khoa-bi-mat" and body["Brandname"] == "SONOIVU"
        assert body["SmsType"] == "2" and body["IsUnicode"] == "1"
        assert re.fullmatch(r"0[35789]\d{8}", body["Phone"]) and mobile(body["Phone"]) == mobile(person.phone)
        assert person.full_name in body["Content"] and f"/i/{person.code}" in body["Content"]
        assert len(body["RequestId"]) <= 50
    assert len({r["body"]["RequestId"] for r in provider.requests}) == 3  # eSMS refuses a repeated one
    assert {s for s, _e, _a in statuses(dbs).values()} == {"sent"}
    assert set(dbs.scalars(select(Message.provider_id))) == {"abc123"}


def test_zalo_requests_follow_zns_with_the_link_in_the_template_button(app, runner, demo, dbs, provider):
    app.config.update(zalo_config(provider))
    people = delegates_with_phones(dbs)
    provider.answers = [(200, {"error": 0, "message": "Success",
                               "data": {"msg_id": "z-1", "sent_time": "1733130000000"}})]  # fmt: skip
    result = runner.invoke(args=["invitations", "send", KEY, "hdnd", "--channel", "zalo"])
    assert "Đã xếp hàng 3 thư" in result.output, result.output
    for request, person in zip(provider.requests, people, strict=True):
        assert request["path"] == "/message/template"
        assert request["headers"]["access_token"] == "ma-truy-cap-oa"
        body = request["body"]
        assert set(body) == ZALO_FIELDS
        assert re.fullmatch(r"84[35789]\d{8}", body["phone"]) and body["template_id"] == "251234"
        assert body["template_data"] == {"ho_ten": person.full_name, "don_vi": "Huyện Ninh Giang",
                                         "han_tra_loi": "31/12/2023", "ma_moi": person.code}  # fmt: skip
        assert "http" not in json.dumps(body["template_data"])  # a button of the template, not a link in the text
        assert body["tracking_id"]
    assert {s for s, _e, _a in statuses(dbs).values()} == {"sent"}


def test_a_provider_error_is_retried_then_shown_per_person(app, runner, client, demo, dbs, provider):
    app.config.update(esms_config(provider))
    delegates_with_phones(dbs, PHONES[:2])
    # the first person: 500, 500, then accepted; the second: 500 three times (two retries): failed
    provider.answers = [(500, {}), (500, {}), (500, {}), (500, {}), (200, {"CodeResult": "100", "SMSID": "ok"}),
                        (500, {})]  # fmt: skip
    runner.invoke(args=["invitations", "send", KEY, "hdnd", "--channel", "sms"])
    found = statuses(dbs)
    assert sorted(s for s, _e, _a in found.values()) == ["failed", "sent"], found
    [(status, error, attempts)] = [v for v in found.values() if v[0] == "failed"]
    assert attempts == 3 and error.startswith("Đã thử 3 lần không được; lần cuối: eSMS báo lỗi máy chủ (HTTP 500)")
    assert len(provider.requests) == 6
    login(client, demo.admin_username, demo.admin_password)
    group_page = client.get(f"/admin/c/{KEY}/g/hdnd/").get_data(as_text=True)
    assert "Gửi không được" in group_page and "HTTP 500" in group_page


def test_a_provider_refusal_is_not_retried_and_says_why(app, runner, demo, dbs, provider):
    app.config.update(zalo_config(provider))
    delegates_with_phones(dbs, PHONES[:1])
    provider.answers = [(200, {"error": -108, "message": "Phone number is invalid"})]
    runner.invoke(args=["invitations", "send", KEY, "hdnd", "--channel", "zalo"])
    [(status, error, attempts)] = statuses(dbs).values()
    assert (status, attempts) == ("failed", 1)
    assert error == "Zalo từ chối tin nhắn: Phone number is invalid (mã -108)."


def test_an_unreachable_smtp_server_marks_nothing_sent(app, runner, demo, dbs):
    app.config.update({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": free_port(), "SMTP_TLS": "none",
                       "MAIL_FROM": "khaosat@noivu.example.vn", "REDIS_URL": "",
                       "MESSAGE_RETRY_DELAYS": [0.05], "MESSAGE_RATE_EMAIL": "1000 per second"})  # fmt: skip
    group = dbs.scalars(select(RespondentGroup).where(RespondentGroup.code == "hdnd")).one()
    district = dbs.scalars(select(Unit).where(Unit.code == "HDG-NGG")).one()
    add_invitations(dbs, group, [Person("Hà Văn Sơn", "Đại biểu", district, "", "son@hdnd.example.vn")])
    dbs.commit()
    runner.invoke(args=["invitations", "send", KEY, "hdnd", "--channel", "email"])
    [(status, error, attempts)] = statuses(dbs).values()
    assert status == "failed" and attempts == 2
    assert "Không kết nối được máy chủ thư 127.0.0.1" in error and "máy chủ không nhận kết nối" in error
    assert dbs.scalar(select(Message.sent_at)) is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Kính gửi {họ tên}, mời trả lời: {đường dẫn} trước {ngày hết hạn}",
         "Mẫu có chỗ điền “{ngày hết hạn}” mà phần mềm không biết. Chỉ dùng: {họ tên}, {chức vụ}"),
        ("Kính gửi {họ tên, mời trả lời: {đường dẫn}", "Mẫu có dấu “{” chưa đóng bằng “}”"),
        ("Kính gửi {họ tên}, mời trả lời phiếu.", "Nội dung phải có {đường dẫn}"),
        ("", "Nội dung thư không được để trống."),
    ],
)  # fmt: skip
def test_a_bad_template_is_refused_on_the_page_in_vietnamese(app, client, demo, dbs, smtp, body, expected):  # noqa: F811
    app.config.update(mail_config(smtp))
    group = dbs.scalars(select(RespondentGroup).where(RespondentGroup.code == "hdnd")).one()
    district = dbs.scalars(select(Unit).where(Unit.code == "HDG-NGG")).one()
    add_invitations(dbs, group, [Person("Hà Văn Sơn", "Đại biểu", district, "", "son@hdnd.example.vn")])
    dbs.commit()
    login(client, demo.admin_username, demo.admin_password)
    data, preview = compose(client, body=body)
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Chưa gửi được:" in text and expected in text, text[:3000]
    refused = client.post(f"/admin/c/{KEY}/g/hdnd/gui", data={**data, "intent": "send"})
    assert refused.status_code == 200 and expected in refused.get_data(as_text=True)
    assert dbs.scalar(select(Message.id)) is None and not smtp.messages


def test_bad_addresses_are_named_and_not_offered(app, client, demo, dbs, smtp):  # noqa: F811
    app.config.update(mail_config(smtp) | esms_config_stub())
    group = dbs.scalars(select(RespondentGroup).where(RespondentGroup.code == "hdnd")).one()
    district = dbs.scalars(select(Unit).where(Unit.code == "HDG-NGG")).one()
    bad, good = add_invitations(dbs, group, [Person("Email Sai", "", district, "0243 826 1234", "khong-phai-email"),
                                             Person("Đúng Cả Hai", "", district, "0912345678", "dung@x.vn")])  # fmt: skip
    dbs.commit()
    login(client, demo.admin_username, demo.admin_password)
    page = client.get(f"/admin/c/{KEY}/g/hdnd/gui?kenh=sms").get_data(as_text=True)
    assert "Số điện thoại “0243 826 1234” không phải số di động Việt Nam hợp lệ" in page
    assert re.findall(r'name="people" value="(\d+)"', page) == [str(good.id)]
    page = client.get(f"/admin/c/{KEY}/g/hdnd/gui").get_data(as_text=True)
    assert "Địa chỉ email “khong-phai-email” không hợp lệ." in page
    # a hand-made post naming only the bad one sends nothing
    data, preview = compose(client, people=[str(bad.id)], intent="send")
    assert preview.status_code == 200
    assert "Không ai trong số được chọn còn nhận được thư trên kênh này." in preview.get_data(as_text=True)
    assert dbs.scalar(select(Message.id)) is None and not smtp.messages


def esms_config_stub() -> dict:
    return {"SMS_PROVIDER": "esms", "ESMS_API_KEY": "k", "ESMS_SECRET_KEY": "s", "ESMS_BRANDNAME": "B"}


def test_sending_needs_a_signed_in_administrator(app, client, demo, dbs):
    assert client.get(f"/admin/c/{KEY}/g/hdnd/gui").status_code == 302  # to the sign-in page
    login(client, demo.admin_username, demo.admin_password)
    assert client.get(f"/admin/c/{KEY}/g/citizen/gui").status_code == 404  # not an invited group
    page = client.get(f"/admin/c/{KEY}/g/hdnd/gui").get_data(as_text=True)
    assert client.post(f"/admin/c/{KEY}/g/hdnd/gui", data={"intent": "send", "channel": "email"}).status_code == 400
    assert csrf_token(page)


def test_placeholders_ignore_case_spacing_and_diacritics():
    assert render("{Ho  Ten} · {đường dẫn}", {"họ tên": "Lê Thị Hoa", "đường dẫn": "L"}) == "Lê Thị Hoa · L"
    assert check(Draft("", "{duong dan}"), needs_subject=True) == ["Email cần có tiêu đề."]


def test_sms_delivery_reports_come_back_signed_per_message(app, runner, client, demo, dbs, provider):
    """Part 4: eSMS calls each message's CallbackUrl (HTTP GET, eSMS's documented arguments). The
    address is signed per message: a report with another message's signature, or none, changes
    nothing; an undelivered report marks only that message bounced, with eSMS's words."""
    app.config.update(esms_config(provider))
    delegates_with_phones(dbs)
    provider.answers = [(200, {"CodeResult": "100", "SMSID": "abc123"})]
    runner.invoke(args=["invitations", "send", KEY, "hdnd", "--channel", "sms"])
    callbacks = [r["body"]["CallbackUrl"] for r in provider.requests]
    base = app.config["PUBLIC_BASE_URL"]
    assert all(c.startswith(f"{base}/hook/esms/") for c in callbacks) and len(set(callbacks)) == 3
    first, second, third = (c.removeprefix(base) for c in callbacks)
    failed = "SMSID=abc123&SendFailed=1&SendStatus=5&SendSuccess=0&TotalReceiver=1&TypeId=2&telcoid=1"
    forged = first.rsplit("/", 1)[0] + "/" + second.rsplit("/", 1)[1]  # message 1 with message 2's signature
    assert client.get(f"{forged}?{failed}").status_code == 403
    assert client.get(f"{first.rsplit('/', 1)[0]}/0?{failed}").status_code == 403
    assert {s for s, _e, _a in statuses(dbs).values()} == {"sent"}

    assert client.get(f"{first}?{failed}&error_info=Thuê+bao+không+liên+lạc+được").status_code == 200
    assert client.get(f"{second}?SMSID=abc123&SendFailed=0&SendStatus=5&SendSuccess=1&TypeId=2").status_code == 200
    assert client.get(f"{third}?SMSID=abc123&SendFailed=0&SendStatus=1&SendSuccess=0&TypeId=2").status_code == 200
    now = statuses(dbs)
    assert now["Người Thứ 0"][0] == "bounced"
    assert now["Người Thứ 0"][1] == "eSMS báo tin không đến được máy người nhận: Thuê bao không liên lạc được"
    assert now["Người Thứ 1"][0] == now["Người Thứ 2"][0] == "sent"
    delivered = {m.invitation.full_name: m.delivered_at for m in dbs.scalars(select(Message))}
    assert delivered["Người Thứ 1"] is not None and delivered["Người Thứ 2"] is None
    login(client, demo.admin_username, demo.admin_password)
    page = client.get(f"/admin/c/{KEY}/g/hdnd/").get_data(as_text=True)
    assert re.search(r'<option value="bounced"[^>]*>[^<(]+\(1\)</option>', page), "the group page counts it"


def zalo_event(app_id: str, msg_id: str, tracking_id: str) -> bytes:
    """A ZNS delivery event as Zalo posts it to the OA's webhook (developers.zalo.me, "Webhook")."""
    return json.dumps({"app_id": app_id, "oa_id": "4318701538270941220", "event_name": "user_received_message",
                       "message": {"delivery_time": "1733130005000", "msg_id": msg_id, "tracking_id": tracking_id},
                       "timestamp": "1733130005123", "user_id_by_app": "552177279717587730"}).encode()  # fmt: skip


def test_zalo_delivery_events_are_checked_by_zalos_signature(app, runner, client, demo, dbs, provider):
    """Zalo signs each webhook event: X-ZEvent-Signature = "mac=" sha256(app id + body + timestamp
    + OA secret key). A wrong or missing signature changes nothing; a right one confirms delivery."""
    import hashlib

    app.config.update(zalo_config(provider), ZALO_APP_ID="1234567890", ZALO_OA_SECRET="bi-mat-cua-oa")
    delegates_with_phones(dbs, PHONES[:1])
    provider.answers = [(200, {"error": 0, "message": "Success", "data": {"msg_id": "z-77"}})]
    runner.invoke(args=["invitations", "send", KEY, "hdnd", "--channel", "zalo"])
    [tracking] = [r["body"]["tracking_id"] for r in provider.requests]
    body = zalo_event("1234567890", "z-77", tracking)

    def mac(secret: str, payload: bytes = body) -> str:
        return "mac=" + hashlib.sha256(b"1234567890" + payload + b"1733130005123" + secret.encode()).hexdigest()

    for headers in ({}, {"X-ZEvent-Signature": mac("doan-sai")},
                    {"X-ZEvent-Signature": mac("bi-mat-cua-oa", body.replace(b"z-77", b"z-78"))}):  # fmt: skip
        answer = client.post("/hook/zalo", data=body, headers=headers, content_type="application/json")
        assert answer.status_code == 403, headers
    assert dbs.scalars(select(Message.delivered_at)).one() is None
    answer = client.post("/hook/zalo", data=body, headers={"X-ZEvent-Signature": mac("bi-mat-cua-oa")},
                         content_type="application/json")  # fmt: skip
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    dbs.expire_all()
    assert dbs.scalars(select(Message.delivered_at)).one() is not None
