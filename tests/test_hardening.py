"""Findings of the attacker's probe (issue 14) that are not about sessions or anonymity: a NUL byte
anywhere is a Vietnamese message and nothing stored, confidential pages are never cached."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from surveyapp.models import CollectionPoint, Response, Unit

from .conftest import count, csrf_token, hidden_fields
from .helpers import valid_answers
from .test_qr_posters import login


def _point(dbs) -> str:
    return dbs.scalars(select(CollectionPoint.code).join(Unit).where(Unit.code == "HDG-NGG-05")).first()


@pytest.mark.parametrize("where", ["suggestion", "visits", "procedure_field"])
def test_a_nul_byte_in_an_answer_is_explained_and_nothing_stored(client, demo, dbs, where):
    url = f"/f/{_point(dbs)}"
    page = client.get(url).get_data(as_text=True)
    answers = valid_answers(**{where: "Tốt\x00lắm" if where == "suggestion" else "1\x00"})
    response = client.post(url, data={**hidden_fields(page), **answers})
    assert response.status_code == 400
    assert "ký tự không in được" in response.get_data(as_text=True)
    assert count(dbs, Response) == 0


@pytest.mark.parametrize(
    "path",
    ["/f/abc%00def", "/qr/%00.png", "/s/%00", "/i/abc%00", "/admin/c/ninh-giang-2023/progress?unit=%00",
     "/login?next=/%00"],
)  # fmt: skip
def test_a_nul_byte_in_a_path_or_query_is_explained(client, demo, path):
    login(client, demo.admin_username, demo.admin_password)
    response = client.get(path)
    assert response.status_code == 400 and "ký tự không in được" in response.get_data(as_text=True)


def test_a_nul_byte_in_a_login_name_is_explained(client, demo):
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"csrf_token": csrf_token(page), "username": "ad\x00min", "password": "x"})
    assert response.status_code == 400 and "ký tự không in được" in response.get_data(as_text=True)


def test_a_nul_byte_in_a_multipart_field_is_explained_but_files_may_hold_any_byte(client, demo):
    import io

    login(client, demo.admin_username, demo.admin_password)
    page = client.get("/admin/units").get_data(as_text=True)
    response = client.post(
        "/admin/units/preview",
        data={"csrf_token": csrf_token(page), "note": "a\x00b", "units": (io.BytesIO(b"code,name\n"), "u.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    response = client.post(
        "/admin/units/preview",
        data={"csrf_token": csrf_token(page), "units": (io.BytesIO(b"PK\x03\x04\x00\x00rubbish"), "u.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422  # read as a file and explained, not refused for its bytes


@pytest.mark.parametrize(
    "path",
    ["/admin/", "/admin/c/ninh-giang-2023/results", "/admin/c/ninh-giang-2023/results.xlsx",
     "/admin/c/ninh-giang-2023/g/citizen/raw.csv", "/admin/audit", "/admin/audit.csv", "/admin/questionnaires"],
)  # fmt: skip
def test_confidential_pages_and_exports_are_never_cached(client, demo, path):
    login(client, demo.admin_username, demo.admin_password)
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.headers["Cache-Control"] == "no-store"


def _upload_units(client, data: bytes, name: str = "u.csv"):
    import io

    page = client.get("/admin/units").get_data(as_text=True)
    return client.post("/admin/units/preview", data={"csrf_token": csrf_token(page), "units": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")  # fmt: skip


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("HDG-X,{},xã,HDG".format("T" * 250), "tên dài 250 ký tự, tối đa 200"),
        ("{},Xã A,xã,HDG".format("C" * 40), "mã dài 40 ký tự, tối đa 32"),
        ("HDG-X,Xã A,{},HDG".format("k" * 40), "loại dài 40 ký tự, tối đa 32"),
        ("HDG/NGG/99,Xã A,xã,HDG", "chỉ được dùng chữ không dấu"),
    ],
)
def test_unit_files_with_overlong_or_unsafe_values_are_explained_before_applying(client, demo, dbs, row, message):
    """Issue 14, findings 12 and 14: the preview passed and applying was a server error (or a unit
    whose page was a 404)."""
    login(client, demo.admin_username, demo.admin_password)
    response = _upload_units(client, f"code,name,kind,parent_code\nHDG,Tỉnh Hải Dương,tỉnh,\n{row}\n".encode())
    assert response.status_code == 422 and message in response.get_data(as_text=True)


def test_a_unit_file_with_a_million_bad_rows_gets_a_short_answer(client, demo):
    """Issue 14, finding 13: every bad row was listed (a 70 MB page)."""
    login(client, demo.admin_username, demo.admin_password)
    rows = "\n".join(f"X{i},,xã,HDG" for i in range(20_000))
    response = _upload_units(client, f"code,name,kind,parent_code\n{rows}\n".encode())
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "… và 19.950 lỗi khác" in page and len(page) < 40_000


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"full_name": "Tên " * 70}, "họ tên dài"),
        ({"full_name": "Nguyễn An", "phone": "0" * 60}, "điện thoại dài 60 ký tự, tối đa 40"),
        ({"full_name": "Nguyễn An", "position": "P" * 300}, "chức vụ dài 300 ký tự, tối đa 200"),
    ],
)
def test_overlong_invitation_fields_are_explained(client, demo, dbs, fields, message):
    from surveyapp.models import Invitation

    login(client, demo.admin_username, demo.admin_password)
    page = client.get("/admin/c/ninh-giang-2023/g/hdnd/").get_data(as_text=True)
    response = client.post("/admin/c/ninh-giang-2023/g/hdnd/add", data={"csrf_token": csrf_token(page),
                           "unit": "HDG-NGG", **fields}, follow_redirects=True)  # fmt: skip
    assert message in response.get_data(as_text=True)
    assert count(dbs, Invitation) == 0


def test_an_overlong_campaign_name_is_explained(client, demo, dbs):
    from surveyapp.models import Campaign

    login(client, demo.admin_username, demo.admin_password)
    page = client.get("/admin/campaigns/new").get_data(as_text=True)
    response = client.post("/admin/campaigns/new", data={
        "csrf_token": csrf_token(page), "name": "Đợt " * 100, "key": "dai-qua-2026", "year": "2026", "scope": "HDG-NGG",
    })  # fmt: skip
    assert response.status_code in (200, 422) and "tối đa 300" in response.get_data(as_text=True)
    assert count(dbs, Campaign) == 1


def _zip_bomb(unzipped_mb: int = 400) -> bytes:
    """An .xlsx of a few hundred kB whose sheet unpacks to ``unzipped_mb`` MB of rows."""
    import io
    import zipfile

    out = io.BytesIO()
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>' * 2000
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        )
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(b'<?xml version="1.0"?><worksheet><sheetData>')
            for _ in range(unzipped_mb * 1024 * 1024 // len(row)):
                sheet.write(row)
            sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


def _multipart(fields: dict[str, str], file_field: str, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = "----surveyapp-test-boundary"
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{filename}"\r\n'
        "Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def test_a_zip_bomb_spreadsheet_is_refused_at_once_on_every_upload(live_server, demo, dbs):
    """Issue 14, finding 7: a 5 MB .xlsx of 2 M rows took 38 s and 3.4 GB in one worker. Sent over
    real HTTP to the server (in this process, so its memory is measured here)."""
    import resource
    import time
    import urllib.error
    import urllib.request

    from .test_concurrency import signed_in_browser

    bomb = _zip_bomb()
    assert len(bomb) < 5 * 1024 * 1024
    opener = signed_in_browser(live_server, demo.admin_username, demo.admin_password)
    with opener.open(f"{live_server}/admin/units") as page:
        token = csrf_token(page.read().decode())
    uploads = [
        ("/admin/units/preview", "units"),
        ("/admin/c/ninh-giang-2023/g/hdnd/import", "list"),
        ("/admin/c/ninh-giang-2023/draws", "frame"),
        ("/admin/questionnaires/import", "file"),
    ]
    for path, field in uploads:
        data, content_type = _multipart({"csrf_token": token, "group": "citizen", "unit": "HDG-NGG-05"}, field,
                                        "bom.xlsx", bomb)  # fmt: skip
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        request = urllib.request.Request(f"{live_server}{path}", data=data, headers={"Content-Type": content_type})
        try:
            with opener.open(request, timeout=30) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as exc:
            text = exc.read().decode()
        elapsed = time.perf_counter() - started
        grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak) / 1024
        assert "giải nén quá lớn" in text, path
        assert elapsed < 2 and grown_mb < 100, (path, elapsed, grown_mb)


def test_a_database_error_logs_no_personal_code_nor_answers(app, client, demo, dbs, caplog, monkeypatch):
    """Issue 14, finding 5: a server error during /i/<code> logged the SQL parameters, the code
    among them (and a failed submission the answers with the device and address hashes)."""
    import logging

    from sqlalchemy import text

    from surveyapp.collect import services
    from surveyapp.invitations.services import Person, add_invitations
    from surveyapp.models import RespondentGroup

    from .test_invitations import _rate_three, leader_answers

    group = dbs.scalars(select(RespondentGroup).where(RespondentGroup.code == "hdnd")).one()
    units = _rate_three(dbs, group)
    district = dbs.scalars(select(Unit).where(Unit.code == "HDG-NGG")).one()
    [invitation] = add_invitations(dbs, group, [Person("Lê Văn Mật", "Đại biểu", district)])
    dbs.commit()

    def broken(s, ctx):
        s.execute(text("SELECT no_such_column FROM invitation WHERE code = :code"), {"code": ctx.invitation.code})

    monkeypatch.setattr(services, "_claim_invitation", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    caplog.set_level(logging.DEBUG)
    page = client.get(f"/i/{invitation.code}").get_data(as_text=True)
    response = client.post(f"/i/{invitation.code}", data={**hidden_fields(page), **leader_answers(units)})
    assert response.status_code == 500
    assert "no_such_column" in caplog.text  # the error itself is logged …
    assert invitation.code not in caplog.text  # … without the values it was sent


def test_gunicorn_lines_about_bad_requests_carry_no_client_address(app):
    """Issue 14, finding 15: gunicorn logged "Invalid request from ip=…" with the address."""
    import logging

    logger = logging.getLogger("gunicorn.error")
    record = logger.makeRecord("gunicorn.error", logging.DEBUG, __file__, 1,
                               "Invalid request from ip=203.0.113.9: Invalid HTTP method", (), None)  # fmt: skip
    assert all(f.filter(record) for f in logger.filters)
    assert record.getMessage() == "Invalid request from ip=…: Invalid HTTP method"
