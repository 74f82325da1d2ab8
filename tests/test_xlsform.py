"""XLSForm in and out: every built-in round-trips with the same content hash and converts with
pyxform (the converter ODK and KoboToolbox use); forms written the way Kobo and ODK users write
them import; what does not map is refused row by row and nothing is stored."""

from __future__ import annotations

import io

import openpyxl
import pytest
from pyxform.xls2xform import convert
from sqlalchemy import select

from questionnaires import BUILTIN_DIR, QuestionType, builtin_files, load_text
from questionnaires import editing as ed
from questionnaires.xlsform import XLSFormError, read_xlsform, write_xlsform
from surveyapp.models import QuestionnaireVersion

from .conftest import count, csrf_token
from .test_qr_posters import login


def _xlsx(survey: list[list], choices: list[list] | None = None, settings: list[list] | None = None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "survey"
    for row in survey:
        sheet.append(row)
    if choices:
        sheet = book.create_sheet("choices")
        for row in choices:
            sheet.append(row)
    if settings:
        sheet = book.create_sheet("settings")
        for row in settings:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize("path", builtin_files(), ids=lambda p: p.stem)
def test_builtin_round_trips_with_the_same_content_hash_and_pyxform_converts_it(path):
    text = path.read_text(encoding="utf-8")
    original = load_text(text, path.name)
    data = write_xlsform(ed.load_document(text))
    warnings: list[str] = []
    result = convert(data, warnings=warnings, file_type=".xlsx")
    assert "<h:html" in result.xform and not warnings
    back = load_text(ed.dump_document(read_xlsform(data, path.name)), path.name)
    assert back.content_hash == original.content_hash


def test_the_one_tap_rating_round_trips_as_the_quick_appearance():
    from .test_quick_rating import QUICK, quick_text

    text = quick_text()
    original = load_text(text, "citizen_quick.yaml")
    data = write_xlsform(ed.load_document(text))
    warnings: list[str] = []
    assert "<h:html" in convert(data, warnings=warnings, file_type=".xlsx").xform and not warnings
    rows = list(openpyxl.load_workbook(io.BytesIO(data))["survey"].values)
    header = rows[0]
    quick = [r[header.index("name")] for r in rows[1:] if r[header.index("appearance")] == "quick"]
    assert sorted(quick) == sorted(QUICK)
    back = load_text(ed.dump_document(read_xlsform(data, "citizen_quick.xlsx")), "citizen_quick.yaml")
    assert back.quick == original.quick and back.content_hash == original.content_hash


#: the way a KoboToolbox user writes a form: metadata rows, "begin group" with a space, labels in
#: a language column, a note first, a 1–5 list for satisfaction, required as TRUE
KOBO = _xlsx(
    [
        ["type", "name", "label::Tiếng Việt (vi)", "hint::Tiếng Việt (vi)", "required", "relevant", "constraint"],
        ["start", "start"],
        ["end", "end"],
        ["note", "loi_chao", "Xin cảm ơn ông/bà đã tham gia khảo sát."],
        ["begin group", "thong_tin", "Thông tin chung"],
        ["select_one linh_vuc", "linh_vuc", "Lĩnh vực thủ tục?", None, "TRUE"],
        ["integer", "so_lan", "Số lần phải đến?", "Tính cả lần nộp", "TRUE", None, ". >= 0 and . <= 10"],
        ["end group"],
        ["begin group", "danh_gia", "Công chức giải quyết"],
        ["select_one hailong", "lich_su", "Công chức lịch sự?", None, "TRUE"],
        ["select_one hailong", "huong_dan", "Công chức hướng dẫn tận tình?", None, "TRUE",
         "${linh_vuc} = 'dat_dai' or ${linh_vuc} = 'khac'"],
        ["text", "gop_y", "Góp ý khác"],
        ["end group"],
    ],
    [
        ["list_name", "name", "label::Tiếng Việt (vi)"],
        ["linh_vuc", "ho_tich", "Hộ tịch"],
        ["linh_vuc", "dat_dai", "Đất đai"],
        ["linh_vuc", "khac", "Khác"],
        *[["hailong", str(i), label] for i, label in enumerate(
            ["Rất không hài lòng", "Không hài lòng", "Bình thường", "Hài lòng", "Rất hài lòng"], start=1)],
    ],
    [["form_title", "form_id", "version"], ["Khảo sát một cửa (Kobo)", "mot_cua_kobo", "3"]],
)  # fmt: skip

#: the way an ODK user writes one: begin_group, select_multiple with selected(), mixed-case choice
#: names, decimal, multiline text with a length limit, no form_id
ODK = _xlsx(
    [
        ["type", "name", "label", "hint", "required", "relevant", "constraint", "appearance"],
        ["begin_group", "g1", "Hồ sơ"],
        ["select_multiple kenh", "kenh", "Ông/bà đã nộp hồ sơ qua kênh nào?", None, "yes"],
        ["decimal", "phi", "Phí đã nộp (nghìn đồng)", None, "no", "selected(${kenh}, 'Online') or selected(${kenh}, '3')",
         ". >= 0"],
        ["text", "y_kien", "Ý kiến", None, None, None, "string-length(.) <= 500", "multiline"],
        ["end_group"],
    ],
    [
        ["list_name", "name", "label"],
        ["kenh", "Counter", "Tại quầy"],
        ["kenh", "Online", "Trực tuyến"],
        ["kenh", "3", "Bưu chính"],
    ],
    [["form_title"], ["Phiếu ODK về kênh nộp hồ sơ"]],
)  # fmt: skip

#: by hand: no groups, a yes/no list, a 4-level scale with its aspect, a repeat over the units,
#: criterion codes
HAND = _xlsx(
    [
        ["type", "name", "label", "required", "relevant", "aspect", "criterion", "units"],
        ["select_one yesno", "biet_dv", "Ông/bà có biết các đơn vị dưới đây không?", "yes"],
        ["begin_repeat", "tung_don_vi", "Đánh giá từng đơn vị", None, None, None, None, "assigned"],
        ["select_one muc4", "chi_dao", "Chỉ đạo điều hành CCHC", "yes", "${biet_dv} = 'yes'", "chi_dao", "1.1"],
        ["end_repeat"],
    ],
    [
        ["list_name", "name", "label"],
        ["yesno", "yes", "Có"],
        ["yesno", "no", "Không"],
        *[["muc4", str(i), label] for i, label in enumerate(["Kém", "Trung bình", "Khá", "Tốt"], start=1)],
    ],
)  # fmt: skip


def test_a_kobo_style_form_imports():
    doc = read_xlsform(KOBO, "kobo.xlsx")
    q = load_text(ed.dump_document(doc), "kobo.xlsx")
    assert (q.code, q.version, q.title) == ("mot_cua_kobo", 3, "Khảo sát một cửa (Kobo)")
    assert q.intro == "Xin cảm ơn ông/bà đã tham gia khảo sát."
    assert [s.title for s in q.sections] == ["Thông tin chung", "Công chức giải quyết"]
    visits = q.question("so_lan")
    assert (visits.type, visits.minimum, visits.maximum, visits.help) == (QuestionType.NUMBER, 0, 10, "Tính cả lần nộp")
    polite = q.question("lich_su")
    assert polite.type is QuestionType.SCALE and polite.scale.name == "satisfaction5"
    assert q.aspects[polite.aspect] == "Công chức giải quyết"
    assert q.question("huong_dan").show_if.answers == frozenset({"dat_dai", "khac"})
    assert q.question("gop_y").required is False


def test_an_odk_style_form_imports():
    q = load_text(ed.dump_document(read_xlsform(ODK, "kenh-nop.xlsx")), "kenh-nop.xlsx")
    assert q.code == "phieu_odk_ve_kenh_nop_ho_so"
    channel = q.question("kenh")
    assert channel.type is QuestionType.MULTIPLE
    assert [o.code for o in channel.options] == ["counter", "online", "m_3"]
    fee = q.question("phi")
    assert fee.integer is False and fee.minimum == 0 and fee.required is False
    assert fee.show_if.question == "kenh" and fee.show_if.answers == frozenset({"online", "m_3"})
    opinion = q.question("y_kien")
    assert opinion.type is QuestionType.LONGTEXT and opinion.max_length == 500


def test_a_hand_made_form_with_a_repeat_over_units_imports():
    q = load_text(ed.dump_document(read_xlsform(HAND, "tay.xlsx")), "tay.xlsx")
    assert q.question("biet_dv").type is QuestionType.YESNO
    repeat = q.question("tung_don_vi")
    assert repeat.type is QuestionType.RATE_UNITS and [i.id for i in repeat.items] == ["chi_dao"]
    item = q.question("chi_dao")
    assert item.scale.labels == ("Kém", "Trung bình", "Khá", "Tốt") and item.criterion == "1.1"
    assert item.show_if.question == "biet_dv"
    assert q.sections[0].title == "Thông tin chung"


UNSUPPORTED = _xlsx(
    [
        ["type", "name", "label", "relevant", "choice_filter", "calculation"],
        ["begin_group", "g", "Nhóm"],
        ["integer", "tuoi", "Tuổi"],
        ["calculate", "tinh", None, None, None, "${tuoi} * 2"],
        ["select_one tinh_tp", "tp", "Tỉnh", None, "vung = ${tuoi}"],
        ["begin_repeat", "thanh_vien", "Thành viên trong hộ"],
        ["text", "ten", "Tên"],
        ["end_repeat"],
        ["text", "ghi", "Ghi chú", "${tuoi} > 18 and ${tuoi} < 60"],
        ["geopoint", "vi_tri", "Vị trí"],
        ["end_group"],
    ],
    [["list_name", "name", "label"], ["tinh_tp", "hn", "Hà Nội"], ["tinh_tp", "hcm", "TP. Hồ Chí Minh"]],
)  # fmt: skip


def test_unsupported_parts_are_refused_one_line_per_row():
    with pytest.raises(XLSFormError) as caught:
        read_xlsform(UNSUPPORTED, "khong-ho-tro.xlsx")
    problems = caught.value.problems
    rows = [p.split(":")[0] for p in problems]
    assert "trang survey, dòng 4" in rows  # calculate
    assert "trang survey, dòng 5" in rows  # choice_filter
    assert "trang survey, dòng 6" in rows  # a repeat that is not over units
    assert "trang survey, dòng 9" in rows  # relevant comparing numbers
    assert "trang survey, dòng 10" in rows  # geopoint
    assert any("choice_filter" in p for p in problems) and any("calculate" in p for p in problems)
    assert any(p.startswith("trang survey, dòng 9") and "chưa được hỗ trợ" in p for p in problems)
    assert all("dòng" in p for p in problems)


def test_cli_import_export_list(runner, app, dbs, tmp_path):
    bad = tmp_path / "khong-ho-tro.xlsx"
    bad.write_bytes(UNSUPPORTED)
    before = count(dbs, QuestionnaireVersion)
    result = runner.invoke(args=["questionnaire", "import", str(bad)])
    assert result.exit_code == 1 and "trang survey, dòng 4" in result.output
    assert count(dbs, QuestionnaireVersion) == before
    good = tmp_path / "kobo.xlsx"
    good.write_bytes(KOBO)
    result = runner.invoke(args=["questionnaire", "import", str(good)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "mot_cua_kobo\t3"
    out = tmp_path / "out.xlsx"
    result = runner.invoke(args=["questionnaire", "export", "mot_cua_kobo:3", str(out)])
    assert result.exit_code == 0, result.output
    again = load_text(ed.dump_document(read_xlsform(out.read_bytes(), "out.xlsx")))
    stored = dbs.scalar(select(QuestionnaireVersion).where(QuestionnaireVersion.code == "mot_cua_kobo"))
    assert again.content_hash == stored.content_hash
    yaml_out = tmp_path / "leader.yaml"
    assert runner.invoke(args=["questionnaire", "export", "leader", str(yaml_out)]).exit_code == 0
    assert yaml_out.read_text(encoding="utf-8") == (BUILTIN_DIR / "leader.yaml").read_text(encoding="utf-8")
    listing = runner.invoke(args=["questionnaire", "list"]).output.strip().splitlines()
    rows = [line.split("\t") for line in listing]
    assert ["mot_cua_kobo", "3", "Khảo sát một cửa (Kobo)", "vi", "0"] in rows
    assert all(len(r) == 5 for r in rows)
    # a version that exists never changes: the same code and version with other content is refused
    changed = read_xlsform(KOBO, "kobo.xlsx")
    changed["title"] = "Tên khác"
    other = tmp_path / "changed.yaml"
    other.write_text(ed.dump_document(changed), encoding="utf-8")
    result = runner.invoke(args=["questionnaire", "import", str(other)])
    assert result.exit_code == 1 and "đã có trong cơ sở dữ liệu với nội dung khác" in result.output
    dbs.expire_all()
    assert dbs.get(QuestionnaireVersion, stored.id).title == "Khảo sát một cửa (Kobo)"


def test_web_import_refuses_with_every_row_and_stores_nothing(client, demo, dbs):
    login(client, demo.admin_username, demo.admin_password)
    page = client.get("/admin/questionnaires").get_data(as_text=True)
    before = count(dbs, QuestionnaireVersion)
    response = client.post(
        "/admin/questionnaires/import",
        data={"csrf_token": csrf_token(page), "file": (io.BytesIO(UNSUPPORTED), "khong-ho-tro.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "trang survey, dòng 4" in text and "Không có gì được lưu" in text
    assert count(dbs, QuestionnaireVersion) == before
    response = client.post(
        "/admin/questionnaires/import",
        data={"csrf_token": csrf_token(page), "file": (io.BytesIO(HAND), "tay.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert count(dbs, QuestionnaireVersion) == before + 1
    # a file that is not a spreadsheet
    response = client.post(
        "/admin/questionnaires/import",
        data={"csrf_token": csrf_token(page), "file": (io.BytesIO(b"PK\x03\x04rubbish"), "hong.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and "bị hỏng hoặc không phải bảng tính" in response.get_data(as_text=True)


def test_a_builtin_code_cannot_be_taken_by_an_import(runner, tmp_path):
    doc = ed.load_document((BUILTIN_DIR / "leader.yaml").read_text(encoding="utf-8"))
    doc["title"] = "Lãnh đạo (sửa)"
    doc["version"] = 2
    path = tmp_path / "leader2.yaml"
    path.write_text(ed.dump_document(doc), encoding="utf-8")
    result = runner.invoke(args=["questionnaire", "import", str(path)])
    assert result.exit_code == 1 and "là của một phiếu có sẵn" in result.output
