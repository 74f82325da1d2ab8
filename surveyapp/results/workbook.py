"""The scorers' workbook (xlsxwriter): summary, one sheet per criterion, method, raw data, chart.

Numbers are written as numbers with two decimals ("0.00"): Excel shows them with the decimal
comma of a Vietnamese system (1,50). Every text, and above all every free-text answer, is written
with ``write_string``, so “=…” stays text and is never evaluated as a formula.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from datetime import datetime, time

import xlsxwriter

from questionnaires.labels import TYPE_NAMES, codebook_values, export_value
from questionnaires.scoring import ScoreTable

from .services import RawRow

METHOD_NAMES = {"share": "Tỷ lệ hài lòng", "mean": "Điểm trung bình chuẩn hoá", "bands": "Theo ngưỡng"}
FLAG_NAMES = {
    "insufficient_sample": "chưa đủ mẫu",
    "no_data": "không có phiếu hợp lệ",
    "partial_sources": "thiếu một số nguồn",
}


def flags_text(flags: Iterable[str]) -> str:
    return ", ".join(FLAG_NAMES.get(f, f) for f in flags)


def method_lines(table: ScoreTable, names=None) -> list[str]:
    """The method in sentences; with ``names`` (``services.SourceNames``) groups and questions by
    their names rather than their codes."""
    rules = table.rules
    effect = {"flag": "chỉ đánh dấu", "zero": "cho 0 điểm", "exclude": "không tính điểm, không xếp hạng"}
    lines = [
        f"Quy tắc: {rules.title} (mã {rules.id}). Tổng điểm phần điều tra: {_n(rules.component_total)}.",
        f"Chưa đủ mẫu khi số phiếu hợp lệ dưới {rules.min_share_of_quota:.0%} chỉ tiêu; "
        f"xử lý: {effect[rules.insufficient_effect]}.",
        "Khoảng tin cậy 95% tính theo người trả lời, không theo từng câu: mỗi người trả lời nhiều câu của cùng "
        "tiêu chí nên phương sai là của ước lượng tỷ số với mỗi người là một cụm (tuyến tính hoá Taylor; Cochran "
        "1977, Wolter 2007). Tỷ lệ một nguồn: khoảng Wilson trên cỡ mẫu hiệu dụng (số câu trả lời chia hệ số "
        "thiết kế); nhiều nguồn: xấp xỉ chuẩn có trọng số; điểm trung bình: Student t. Hệ số thiết kế (deff) = "
        "phương sai theo người / phương sai nếu coi các câu là độc lập; deff nhỏ hơn 1 không làm hẹp khoảng.",
    ]
    for c in rules.criteria:
        how = {
            "share": f"điểm = {_n(c.max_points)} × tỷ lệ câu trả lời tích cực",
            "mean": f"điểm = {_n(c.max_points)} × (điểm trung bình − mức thấp nhất) / (mức cao nhất − mức thấp nhất)",
            "bands": "điểm theo ngưỡng tỷ lệ "
            + ("hài lòng" if c.bands_on == "share" else "điểm trung bình chuẩn hoá")
            + ": "
            + "; ".join(f"từ {_n(b.minimum)}% → {_n(b.points)} điểm" for b in c.bands),
        }[c.method]
        sources = "; ".join(
            f"nhóm {names.group(s.group) if names else s.group} (trọng số {_n(s.weight)}): "
            + ", ".join(f"“{names.question(s.group, q)}”" if names else q for q in s.questions)
            for s in c.sources
        )
        positive = f" Mức tích cực: {', '.join(str(x) for x in sorted(c.positive))}." if c.positive else ""
        lines.append(
            f"Tiêu chí {c.code} – {c.name} (tối đa {_n(c.max_points)} điểm): {how}.{positive} Nguồn: {sources}."
        )
    return lines


def _n(x: float) -> str:
    """A number as Vietnamese documents write it: 1,5 (decimal comma)."""
    return f"{x:g}".replace(".", ",")


def _fieldwork(sheet, r: int, fieldwork, title, head, text, integer, pct, wrap) -> int:
    """The invited groups' outcomes (AAPOR) and the counter groups' coverage, below the method."""
    outcome_heads, outcome_rows, coverage_heads, coverage_rows = fieldwork
    for heading, heads, rows, note in (
        ("Kết quả mời cá nhân (AAPOR)", outcome_heads, outcome_rows,
         "RR1 = đã trả lời / được mời; RR2 tính cả người đang trả lời dở; tỷ lệ hợp tác (COOP1) = đã trả lời / "
         "số người liên hệ được (mở đường dẫn, trả lời hoặc xin thôi nhận thư). Nguồn: AAPOR, Standard "
         "Definitions, 10th ed. (2023)."),
        ("Độ bao phủ tại quầy", coverage_heads, coverage_rows,
         "Phiếu hợp lệ so với số giao dịch của đơn vị trong kỳ: phần lượt người làm thủ tục mà khảo sát chạm tới, "
         "không phải tỷ lệ trả lời."),
    ):  # fmt: skip
        if not rows:
            continue
        sheet.write_string(r, 0, heading, title)
        sheet.set_row(r + 1, 45)
        sheet.merge_range(r + 1, 0, r + 1, len(heads) - 1, note, wrap)
        r += 2
        for col, h in enumerate(heads):
            sheet.write_string(r, col, h, head)
        for row in rows:
            r += 1
            for col, value in enumerate(row):
                if value is None:
                    sheet.write_blank(r, col, None, text)
                elif isinstance(value, float):
                    sheet.write_number(r, col, value, pct)
                elif isinstance(value, int):
                    sheet.write_number(r, col, value, integer)
                else:
                    sheet.write_string(r, col, str(value), text)
        r += 2
    return r


def write_workbook(
    out,
    campaign_name: str,
    table: ScoreTable,
    raw_sheets: list[tuple[str, list, Callable[[], Iterable[RawRow]]]],
    raw_limit: int = 20_000,
    rules_label: str = "",
    names=None,
    fieldwork: tuple[list[str], list[list], list[str], list[list]] | None = None,
    ranges=None,
    weighted=None,
) -> None:
    """Write the workbook to ``out`` (a path or a binary file).

    ``raw_sheets``: (sheet title "Dữ liệu <group name>", the group's questions
    (``services.question_columns``), a function yielding that group's raw rows); a code book sheet
    lists every question and what its values mean.
    Past ``raw_limit`` rows a raw sheet stops with a note pointing to the CSV export.
    ``fieldwork``: the outcome table of invited groups and the coverage table of counter groups
    (headings and rows each, surveyapp/messaging/services.py), written on the method sheet.
    ``ranges``: unit code → its rank range (``questionnaires.scoring.ranks``), a last column.
    ``weighted``: (the margins in words, ``services.WeightedRow`` per unit) when the rules weight:
    a sheet of the weighted figures beside the unweighted.
    """
    book = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_formulas": False})
    head = book.add_format({"bold": True, "bg_color": "#F2DCDB", "border": 1, "text_wrap": True, "valign": "top"})
    text = book.add_format({"border": 1})
    points = book.add_format({"border": 1, "num_format": "0.00"})
    bold_points = book.add_format({"border": 1, "num_format": "0.00", "bold": True})
    pct = book.add_format({"border": 1, "num_format": "0.0%"})
    integer = book.add_format({"border": 1, "num_format": "0"})
    ratio = book.add_format({"border": 1, "num_format": "0.00"})
    title = book.add_format({"bold": True, "font_size": 14})
    note = book.add_format({"italic": True, "font_color": "#555555"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    code_head = book.add_format({"italic": True, "font_color": "#555555", "bg_color": "#F7F8FA", "border": 1})
    day = book.add_format({"num_format": "dd/mm/yyyy"})
    rules = table.rules

    summary = book.add_worksheet("Tổng hợp")
    summary.write_string(0, 0, f"Điểm điều tra xã hội học: {campaign_name}", title)
    if rules_label:
        summary.write_string(1, 0, f"{rules_label}.", note)
    heads = ["Hạng", "Mã đơn vị", "Đơn vị", *[f"{c.code} (tối đa {_n(c.max_points)})" for c in rules.criteria],
             f"Tổng (tối đa {_n(rules.component_total)})", "Ghi chú",
             *(["Khoảng hạng (95%)"] if ranges else [])]  # fmt: skip
    for col, h in enumerate(heads):
        summary.write_string(2, col, h, head)
    for r, u in enumerate(table.units, start=3):
        if u.rank is None:
            summary.write_string(r, 0, "", text)
        else:
            summary.write_number(r, 0, u.rank, integer)
        summary.write_string(r, 1, u.unit, text)
        summary.write_string(r, 2, u.name, text)
        for col, c in enumerate(rules.criteria, start=3):
            p = u.criteria[c.code].points
            if p is None:
                summary.write_string(r, col, "—", text)
            else:
                summary.write_number(r, col, p, points)
        total_col = 3 + len(rules.criteria)
        if u.total is None:
            summary.write_string(r, total_col, "—", text)
        else:
            summary.write_number(r, total_col, u.total, bold_points)
        flags = sorted({f for s in u.criteria.values() for f in s.flags})
        summary.write_string(r, total_col + 1, flags_text(flags), text)
        if ranges:
            rr = ranges.get(u.unit)
            summary.write_string(r, total_col + 2, "" if rr is None or u.rank is None else f"{rr.low}–{rr.high}", text)
    last_row = 2 + len(table.units)
    summary.freeze_panes(3, 3)
    summary.autofilter(2, 0, max(last_row, 3), len(heads) - 1)
    summary.set_column(0, 0, 6)
    summary.set_column(1, 1, 14)
    summary.set_column(2, 2, 28)
    summary.set_column(3, len(heads) - 2, 12)
    summary.set_column(3 + len(rules.criteria) + 1, 3 + len(rules.criteria) + 1, 30)

    if weighted:
        _weighted_sheet(book, rules, *weighted, formats=(title, note, head, text, points, bold_points, integer, ratio))

    if table.units:
        chart = book.add_chart({"type": "bar"})
        total_col = 3 + len(rules.criteria)
        shown = min(len(table.units), 60)
        chart.add_series({
            "name": "Tổng điểm",
            "categories": ["Tổng hợp", 3, 2, 2 + shown, 2],
            "values": ["Tổng hợp", 3, total_col, 2 + shown, total_col],
            "fill": {"color": "#9B1C1C"},
        })  # fmt: skip
        suffix = " (60 đơn vị đầu)" if shown < len(table.units) else ""
        chart.set_title({"name": f"Tổng điểm điều tra xã hội học theo đơn vị{suffix}"})
        chart.set_legend({"none": True})
        chart.set_y_axis({"reverse": True})
        chart.set_size({"width": 720, "height": max(320, 18 * shown)})
        sheet = book.add_worksheet("Biểu đồ")
        sheet.insert_chart(1, 1, chart)

    for c in rules.criteria:
        sheet = book.add_worksheet(f"TC {c.code}"[:31])
        sheet.write_string(0, 0, f"Tiêu chí {c.code}: {c.name}", title)
        sheet.write_string(1, 0, f"{METHOD_NAMES[c.method]}; tối đa {_n(c.max_points)} điểm", note)
        by_share = c.method == "share" or (c.method == "bands" and c.bands_on == "share")
        value_name = "Tỷ lệ tích cực" if by_share else "Trung bình chuẩn hoá"
        cols = ["Mã đơn vị", "Đơn vị", "Số câu trả lời hợp lệ", value_name, "Cận dưới 95%", "Cận trên 95%", "Điểm",
                "Ghi chú", "Số người trả lời", "Hệ số thiết kế (deff)"]  # fmt: skip
        for col, h in enumerate(cols):
            sheet.write_string(3, col, h, head)
        for r, u in enumerate(table.units, start=4):
            s = u.criteria[c.code]
            sheet.write_string(r, 0, u.unit, text)
            sheet.write_string(r, 1, u.name, text)
            sheet.write_number(r, 2, s.n, integer)
            for col, v in ((3, s.value), (4, s.low), (5, s.high)):
                if v is None or v != v:
                    sheet.write_string(r, col, "", text)
                else:
                    sheet.write_number(r, col, v, pct)
            if s.points is None:
                sheet.write_string(r, 6, "—", text)
            else:
                sheet.write_number(r, 6, s.points, points)
            sheet.write_string(r, 7, flags_text(s.flags), text)
            sheet.write_number(r, 8, s.respondents, integer)
            if s.deff is None:
                sheet.write_string(r, 9, "", text)
            else:
                sheet.write_number(r, 9, s.deff, ratio)
        sheet.freeze_panes(4, 2)
        sheet.autofilter(3, 0, max(3 + len(table.units), 4), len(cols) - 1)
        sheet.set_column(0, 0, 14)
        sheet.set_column(1, 1, 28)
        sheet.set_column(2, 6, 13)
        sheet.set_column(8, 9, 13)
        sheet.set_column(7, 7, 26)

    method = book.add_worksheet("Phương pháp")
    method.set_column(0, 0, 120, wrap)
    method.write_string(0, 0, "Cách tính điểm", title)
    lines = method_lines(table, names)
    for r, line in enumerate(lines, start=2):
        method.write_string(r, 0, line, wrap)
    if fieldwork and (fieldwork[1] or fieldwork[3]):
        method.write_string(len(lines) + 3, 0, "Kết quả mời cá nhân (RR1, RR2, tỷ lệ hợp tác theo AAPOR) và độ bao "
                            "phủ tại quầy: xem trang “Thu phiếu”.", wrap)  # fmt: skip
        sheet = book.add_worksheet("Thu phiếu")
        sheet.set_column(0, 1, 26)
        sheet.set_column(2, 11, 12)
        _fieldwork(sheet, 0, fieldwork, title, head, text, integer, pct, wrap)

    taken = set(book.sheetnames)
    book_rows: list[tuple[str, object]] = []  # (group name, question) for the code book
    for sheet_title, columns, rows in raw_sheets:
        sheet = book.add_worksheet(sheet_name(sheet_title, taken))
        group_name = sheet_title.removeprefix("Dữ liệu ").strip()
        # row 1: the question as asked; row 2: its code (the code book explains each). The sheet
        # is written in constant memory: row by row, columns and row heights first
        for col, width in enumerate((6, 24, 13, 22, 18, 11)):
            sheet.set_column(col, col, width)
        sheet.set_column(len(RAW_FIXED), len(RAW_FIXED) + max(len(columns) - 1, 0), 16)
        sheet.set_row(0, 75)
        for col, h in enumerate([*RAW_FIXED, *(q.label for q in columns)]):
            sheet.write_string(0, col, h, head)
        for col, h in enumerate([*("" for _ in RAW_FIXED), *(q.id for q in columns)]):
            sheet.write_string(1, col, h, code_head)
        book_rows.extend((group_name, q) for q in columns)
        index = {q.id: (i, q) for i, q in enumerate(columns, start=len(RAW_FIXED))}
        written = 0
        for row in rows():
            written += 1
            r = written + 1
            if written > raw_limit:
                sheet.write_string(r, 0, "Còn nhiều dòng nữa: tải bản CSV đầy đủ từ trang kết quả.", note)
                break
            sheet.write_number(r, 0, row.number)
            for col, v in enumerate((row.group, row.unit_code, row.unit_name, row.channel), start=1):
                sheet.write_string(r, col, v)
            sheet.write_datetime(r, 5, datetime.combine(row.day, time()), day)
            for qid, value in row.values.items():
                found = index.get(qid)
                if found is None:
                    continue
                col, q = found
                value = export_value(q, value)
                if isinstance(value, float | int):
                    sheet.write_number(r, col, value)
                else:
                    sheet.write_string(r, col, str(value))
        sheet.freeze_panes(2, 4)

    codes = book.add_worksheet(sheet_name("Bảng mã", taken))
    for col, (h, width) in enumerate((("Nhóm", 30), ("Mã câu hỏi", 20), ("Câu hỏi", 60), ("Loại", 14),
                                      ("Giá trị", 60))):  # fmt: skip
        codes.write_string(0, col, h, head)
        codes.set_column(col, col, width, wrap if col in (2, 4) else None)
    for r, (group_name, q) in enumerate(book_rows, start=1):
        for col, v in enumerate((group_name, q.id, q.label, TYPE_NAMES[q.type], codebook_values(q))):
            codes.write_string(r, col, v, wrap if col in (2, 4) else None)
    codes.freeze_panes(1, 2)
    book.close()


RAW_FIXED = ("STT", "Nhóm", "Mã đơn vị", "Đơn vị", "Kênh", "Ngày gửi")


def sheet_name(title: str, taken: set[str]) -> str:
    """A worksheet name Excel accepts (31 characters, none of []:*?/\\), different from ``taken``."""
    base = re.sub(r"[\[\]:*?/\\]", " ", title).strip(" '")[:31] or "Trang"
    name, n = base, 2
    while name.lower() in {t.lower() for t in taken}:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(name)
    return name


def raw_csv(columns: list, rows: Iterable[RawRow]) -> Iterable[str]:
    """The same anonymised rows as CSV text chunks (UTF-8 BOM first, for Excel): headers are the
    questions with their code in brackets, choices their labels, dates dd/mm/yyyy; cells that a
    spreadsheet would read as a formula get a leading apostrophe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield "\ufeff"
    writer.writerow([*RAW_FIXED, *[f"{q.label} [{q.id}]" for q in columns]])
    for row in rows:
        cells = [row.number, *(_safe(v) for v in (row.group, row.unit_code, row.unit_name, row.channel)),
                 row.day.strftime("%d/%m/%Y")]  # fmt: skip
        for q in columns:
            value = export_value(q, row.values.get(q.id, ""))
            if isinstance(value, float | int):
                value = f"{value:g}"
            cells.append(_safe(str(value)))
        writer.writerow(cells)
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _safe(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _weighted_sheet(book, rules, descriptions: list[str], rows: list, formats) -> None:
    """The weighted figures beside the unweighted (issue 20, part 2), one row a unit."""
    title, note, head, text, points, bold_points, integer, ratio = formats
    sheet = book.add_worksheet("Có gia quyền")
    sheet.write_string(0, 0, "Điểm có gia quyền (để đối chiếu; điểm chính thức là điểm chưa gia quyền)", title)
    r = 1
    for line in [*descriptions, f"Trọng số không quá {_n(rules.weighting.cap)} lần mức trung bình; "
                 "cỡ mẫu hiệu dụng theo Kish: (Σw)² / Σw²."]:  # fmt: skip
        sheet.write_string(r, 0, line, note)
        r += 1
    heads = ["Mã đơn vị", "Đơn vị"]
    for c in rules.criteria:
        heads += [f"{c.code} chưa gia quyền", f"{c.code} có gia quyền"]
    heads += ["Tổng chưa gia quyền", "Tổng có gia quyền", "Chênh lệch", "Hạng chưa gia quyền", "Hạng có gia quyền",
              "Số người", "Cỡ mẫu hiệu dụng", "Ghi chú"]  # fmt: skip
    r += 1
    for col, h in enumerate(heads):
        sheet.write_string(r, col, h, head)
    top = r
    for row in rows:
        r += 1
        values = [row.unit_code, row.unit_name]
        for c in rules.criteria:
            values += list(row.points[c.code])
        values += [row.total, row.weighted_total, row.change, row.rank, row.weighted_rank, row.respondents,
                   row.effective_n, "; ".join(row.notes)]  # fmt: skip
        for col, value in enumerate(values):
            fmt = text if col < 2 or col == len(values) - 1 else points
            if heads[col].startswith("Tổng"):
                fmt = bold_points
            elif heads[col].startswith(("Hạng", "Số người")):
                fmt = integer
            elif heads[col] == "Cỡ mẫu hiệu dụng":
                fmt = ratio
            if value is None:
                sheet.write_string(r, col, "—", text)
            elif isinstance(value, str):
                sheet.write_string(r, col, value, text)
            else:
                sheet.write_number(r, col, value, fmt)
    sheet.freeze_panes(top + 1, 2)
    sheet.set_column(0, 0, 14)
    sheet.set_column(1, 1, 28)
    sheet.set_column(2, len(heads) - 2, 12)
    sheet.set_column(len(heads) - 1, len(heads) - 1, 40)
