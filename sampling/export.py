"""Excel workbooks for people: the plan summary and the interviewers' list of a draw (xlsxwriter).

Every text is written with ``write_string``, so a cell such as “=HYPERLINK(…)” or “+84…” coming
from a frame file is shown as text and never evaluated by Excel.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import xlsxwriter

from .frames import Draw, Frame


@dataclass(frozen=True)
class SummaryRow:
    group_name: str
    unit_code: str
    unit_name: str
    quota: int
    margin: float | None  #: at 95 %; None when the frame is unknown


def _formats(book):
    return {
        "title": book.add_format({"bold": True, "font_size": 14}),
        "head": book.add_format({"bold": True, "bg_color": "#F2DCDB", "border": 1, "text_wrap": True, "valign": "top"}),
        "text": book.add_format({"border": 1}),
        "int": book.add_format({"border": 1, "num_format": "#,##0"}),
        "pct": book.add_format({"border": 1, "num_format": "0.0%"}),
        "bold_int": book.add_format({"border": 1, "bold": True, "num_format": "#,##0"}),
        "bold": book.add_format({"border": 1, "bold": True}),
        "note": book.add_format({"italic": True, "font_color": "#555555"}),
    }


def plan_summary_xlsx(title: str, rows: Sequence[SummaryRow]) -> bytes:
    """A workbook with totals per group, totals per unit and every cell with its margin of error."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    f = _formats(book)

    by_group: dict[str, int] = {}
    by_unit: dict[tuple[str, str], int] = {}
    for r in rows:
        by_group[r.group_name] = by_group.get(r.group_name, 0) + r.quota
        by_unit[(r.unit_code, r.unit_name)] = by_unit.get((r.unit_code, r.unit_name), 0) + r.quota

    sheet = book.add_worksheet("Tổng hợp")
    sheet.write_string(0, 0, title, f["title"])
    sheet.write_string(2, 0, "Nhóm đối tượng", f["head"])
    sheet.write_string(2, 1, "Số phiếu", f["head"])
    for i, (name, total) in enumerate(by_group.items(), start=3):
        sheet.write_string(i, 0, name, f["text"])
        sheet.write_number(i, 1, total, f["int"])
    last = 3 + len(by_group)
    sheet.write_string(last, 0, "Tổng cộng", f["bold"])
    sheet.write_number(last, 1, sum(by_group.values()), f["bold_int"])
    sheet.set_column(0, 0, 48)
    sheet.set_column(1, 1, 12)

    units = book.add_worksheet("Theo đơn vị")
    for col, head in enumerate(["Mã đơn vị", "Đơn vị", "Số phiếu"]):
        units.write_string(0, col, head, f["head"])
    for i, ((code, name), total) in enumerate(by_unit.items(), start=1):
        units.write_string(i, 0, code, f["text"])
        units.write_string(i, 1, name, f["text"])
        units.write_number(i, 2, total, f["int"])
    units.set_column(0, 0, 16)
    units.set_column(1, 1, 36)
    units.freeze_panes(1, 0)

    cells = book.add_worksheet("Chi tiết")
    heads = ["Nhóm đối tượng", "Mã đơn vị", "Đơn vị", "Chỉ tiêu", "Sai số (độ tin cậy 95%)"]
    for col, head in enumerate(heads):
        cells.write_string(0, col, head, f["head"])
    for i, r in enumerate(rows, start=1):
        cells.write_string(i, 0, r.group_name, f["text"])
        cells.write_string(i, 1, r.unit_code, f["text"])
        cells.write_string(i, 2, r.unit_name, f["text"])
        cells.write_number(i, 3, r.quota, f["int"])
        if r.margin is None:
            cells.write_string(i, 4, "chưa rõ quy mô", f["text"])
        else:
            cells.write_number(i, 4, r.margin, f["pct"])
    cells.set_column(0, 0, 40)
    cells.set_column(1, 1, 14)
    cells.set_column(2, 2, 30)
    cells.set_column(3, 4, 14)
    cells.freeze_panes(1, 0)
    cells.autofilter(0, 0, max(len(rows), 1), len(heads) - 1)
    cells.write_string(
        len(rows) + 2,
        0,
        "Sai số tính theo công thức Cochran có hiệu chỉnh tổng thể hữu hạn, p = 0,5; "
        "nhóm điều tra toàn bộ có sai số 0.",
        f["note"],
    )
    book.close()
    return buffer.getvalue()


def draw_xlsx(frame: Frame, result: Draw, unit_name: str, group_name: str = "") -> bytes:
    """The interviewers' list: the people drawn, then the reserve in the order to use it."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    f = _formats(book)
    sheet = book.add_worksheet("Danh sách chọn")
    method = "ngẫu nhiên đơn giản" if result.method == "simple" else "hệ thống"
    sheet.write_string(
        0, 0, f"Danh sách khảo sát: {unit_name}" + (f" — {group_name}" if group_name else ""), f["title"]
    )
    sheet.write_string(
        1,
        0,
        f"Chọn {method} {len(result.selected)} người và {len(result.reserve)} dự phòng từ {len(frame)} hồ sơ; "
        f"hạt giống (seed) {result.seed}. Cùng tệp và cùng seed cho cùng danh sách.",
        f["note"],
    )
    heads = ["STT", "Loại", f"Mã hồ sơ ({frame.id_column})", f"Liên hệ ({frame.contact_column})", "Ghi chú"]
    for col, head in enumerate(heads):
        sheet.write_string(3, col, head, f["head"])
    row = 4
    for kind, positions in (("Chính thức", result.selected), ("Dự phòng", result.reserve)):
        for order, position in enumerate(positions, start=1):
            sheet.write_number(row, 0, order, f["int"])
            sheet.write_string(row, 1, kind, f["text"])
            sheet.write_string(row, 2, frame.ids[position], f["text"])
            sheet.write_string(row, 3, frame.contacts[position], f["text"])
            sheet.write_string(row, 4, "", f["text"])
            row += 1
    sheet.set_column(0, 0, 6)
    sheet.set_column(1, 1, 12)
    sheet.set_column(2, 3, 24)
    sheet.set_column(4, 4, 30)
    sheet.freeze_panes(4, 0)
    book.close()
    return buffer.getvalue()
