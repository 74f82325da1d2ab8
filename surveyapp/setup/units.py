"""The unit tree: read a unit list (CSV or spreadsheet), preview what it changes, apply it.

A file describes whole subtrees: its top units (no parent, or a parent already in the database)
and everything below them. A unit of those subtrees that is no longer in the file is retired,
never deleted, so older campaigns keep their history. Functions flush; the caller commits.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from sampling.errors import FrameError
from sampling.frames import find_column, read_table

from ..collect.quality import parse_hours
from ..models import Unit, too_long, utcnow

MAX_UNIT_FILE = 5 * 1024 * 1024
FIELDS = ("name", "kind", "parent_code", "frame_size", "opening_hours")


class UnitFileError(ValueError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class UnitRow:
    code: str
    name: str
    kind: str
    parent_code: str | None = None
    frame_size: int | None = None
    opening_hours: str | None = None


@dataclass
class UnitChanges:
    new: list[UnitRow] = field(default_factory=list)
    changed: list[tuple[UnitRow, dict[str, tuple]]] = field(default_factory=list)  #: field → (before, after)
    retired: list[tuple[str, str]] = field(default_factory=list)  #: (code, name)
    revived: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def empty(self) -> bool:
        return not (self.new or self.changed or self.retired or self.revived)

    def fingerprint(self) -> str:
        """Identifies this exact set of changes, so what is applied is what was previewed."""
        payload = json.dumps(
            [[r.__dict__ for r in self.new], [(r.__dict__, d) for r, d in self.changed], self.retired, self.revived],
            sort_keys=True, ensure_ascii=False, default=str,
        )  # fmt: skip
        return hashlib.sha256(payload.encode()).hexdigest()


#: unit codes go into URLs, file names and spreadsheets: no "/", spaces or other signs
UNIT_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

#: a file with a million bad rows is not a million-line page: the first ones, and how many more
MAX_PROBLEMS = 50


def cap_problems(problems: list[str], limit: int = MAX_PROBLEMS) -> list[str]:
    if len(problems) <= limit:
        return problems
    return [
        *problems[:limit],
        f"… và {len(problems) - limit:,} lỗi khác (sửa các lỗi trên rồi xem lại).".replace(",", "."),
    ]


#: optional columns of a unit list and the headers they go by (compared without case or diacritics)
OPTIONAL_COLUMNS = {
    "parent_code": ("parent_code", "ma don vi cha", "don vi cha", "ma cha", "ma cap tren", "ma don vi cap tren",
                    "cap tren", "parent"),
    "frame_size": ("frame_size", "so ho so", "quy mo", "so luong ho so"),
    "opening_hours": ("opening_hours", "gio lam viec", "gio mo cua", "gio tiep nhan"),
}  # fmt: skip


def read_unit_file(data: bytes, filename: str) -> list[UnitRow]:
    """Rows of a unit list, checked on their own (codes, names, numbers, hours, cycles)."""
    try:
        rows = read_table(data, filename, MAX_UNIT_FILE)
        header = [h.strip() for h in rows[0]]
        at = {
            "code": find_column(header, None, ("code", "ma", "ma don vi"), "mã đơn vị", filename),
            "name": find_column(header, None, ("name", "ten", "ten don vi"), "tên đơn vị", filename),
            "kind": find_column(header, None, ("kind", "loai", "loai don vi", "cap"), "loại đơn vị", filename),
        }
    except FrameError as exc:
        raise UnitFileError([str(exc)]) from None
    for key, aliases in OPTIONAL_COLUMNS.items():
        try:
            at[key] = find_column(header, None, aliases, key, filename)
        except FrameError:
            at[key] = None
    problems, out, seen = [], [], {}

    def cell(row: list[str], key: str) -> str:
        i = at[key]
        return row[i].strip() if i is not None and i < len(row) else ""

    for number, row in enumerate(rows[1:], start=2):
        where = f"{filename}, dòng {number}"
        code, name, kind = cell(row, "code"), " ".join(cell(row, "name").split()), cell(row, "kind")
        if not code:
            problems.append(f"{where}: thiếu mã đơn vị.")
            continue
        if code in seen:
            problems.append(f"{where}: mã “{code}” bị trùng với dòng {seen[code]}.")
            continue
        if not UNIT_CODE.match(code):
            problems.append(f"{where}: mã “{code}” chỉ được dùng chữ không dấu, số, dấu gạch ngang, gạch dưới và dấu "
                            "chấm (mã nằm trong đường dẫn và trong tệp xuất).")  # fmt: skip
            continue
        seen[code] = number
        parent_code = cell(row, "parent_code") or None
        hours = cell(row, "opening_hours") or None
        for line in too_long(Unit, code=code, name=name, kind=kind, parent_code=parent_code, opening_hours=hours):
            problems.append(f"{where}: {line}.")
        if not name:
            problems.append(f"{where}: đơn vị “{code}” thiếu tên.")
        if not kind:
            problems.append(f"{where}: đơn vị “{code}” thiếu loại (xã, phường, đặc khu, sở, huyện…).")
        frame_text, frame = cell(row, "frame_size"), None
        if frame_text:
            try:
                frame = int(float(frame_text))
                if frame < 0 or float(frame_text) != frame:
                    raise ValueError
            except ValueError:
                problems.append(f"{where}: số hồ sơ “{frame_text}” phải là số nguyên không âm.")
        if hours:
            try:
                parse_hours(hours)
            except ValueError:
                problems.append(f"{where}: giờ làm việc “{hours}” phải có dạng 07:30-11:30,13:30-17:00.")
        out.append(UnitRow(code, name, kind, parent_code, frame, hours))
    if not out and not problems:
        problems.append(f"{filename}: tệp chỉ có dòng tiêu đề, không có đơn vị nào.")
    problems += _cycles(out, filename)
    if problems:
        raise UnitFileError(cap_problems(problems))
    return out


def _cycles(rows: list[UnitRow], filename: str) -> list[str]:
    parent = {r.code: r.parent_code for r in rows}
    problems, reported = [], set()
    for start in parent:
        path, code = [], start
        while code in parent and code not in path:
            path.append(code)
            code = parent[code]
        if code in path:
            loop = path[path.index(code) :]
            key = frozenset(loop)
            if key not in reported:
                reported.add(key)
                problems.append(
                    f"{filename}: các đơn vị trỏ vòng tròn làm cấp trên của nhau: {' → '.join([*loop, code])}."
                )
    return problems


def plan_changes(s: Session, rows: list[UnitRow], filename: str) -> UnitChanges:
    """What applying ``rows`` would change; UnitFileError when a parent is nowhere to be found."""
    in_file = {r.code: r for r in rows}
    existing = {u.code: u for u in s.scalars(select(Unit))}
    problems = [
        f"{filename}: đơn vị “{r.code}” có cấp trên “{r.parent_code}” không có trong tệp lẫn trong hệ thống."
        for r in rows
        if r.parent_code and r.parent_code not in in_file and r.parent_code not in existing
    ]
    if problems:
        raise UnitFileError(problems)
    changes = UnitChanges()
    for r in rows:
        unit = existing.get(r.code)
        if unit is None:
            changes.new.append(r)
            continue
        before = {"name": unit.name, "kind": unit.kind, "parent_code": unit.parent.code if unit.parent else None,
                  "frame_size": unit.frame_size, "opening_hours": unit.opening_hours}  # fmt: skip
        diff = {k: (before[k], getattr(r, k)) for k in FIELDS if before[k] != getattr(r, k)}
        if diff:
            changes.changed.append((r, diff))
        else:
            changes.unchanged += 1
        if unit.retired_at is not None:
            changes.revived.append(r.code)
    # units below the file's top units that the file no longer lists are retired
    roots = [r.code for r in rows if not r.parent_code or r.parent_code not in in_file]
    children: dict[int | None, list[Unit]] = {}
    for u in existing.values():
        children.setdefault(u.parent_id, []).append(u)
    stack = [existing[c].id for c in roots if c in existing]
    while stack:
        for child in children.get(stack.pop(), []):
            stack.append(child.id)
            if child.code not in in_file and child.retired_at is None:
                changes.retired.append((child.code, child.name))
    changes.retired.sort()
    return changes


def apply_changes(s: Session, rows: list[UnitRow], changes: UnitChanges) -> dict[str, Unit]:
    """Write the previewed changes: add and update units (parents first), retire the missing."""
    units = {u.code: u for u in s.scalars(select(Unit))}
    for r in rows:
        unit = units.get(r.code)
        if unit is None:
            unit = Unit(code=r.code)
            s.add(unit)
            units[r.code] = unit
        unit.name, unit.kind, unit.frame_size, unit.opening_hours = r.name, r.kind, r.frame_size, r.opening_hours
        unit.retired_at = None
    for r in rows:
        units[r.code].parent = units[r.parent_code] if r.parent_code else None
    now = utcnow()
    for code, _name in changes.retired:
        units[code].retired_at = now
    s.flush()
    return units


#: the unit list template offered for download: Vietnamese headers the import reads, two example rows
TEMPLATE_HEADERS = ("Mã", "Tên", "Loại", "Mã đơn vị cha", "Số hồ sơ", "Giờ làm việc")
TEMPLATE_ROWS = (
    ("BPC-HQ", "Huyện Hớn Quản", "huyện", "", "", ""),
    ("BPC-HQ-TL", "Xã Tân Lợi", "xã", "BPC-HQ", "1250", "07:30-11:30,13:30-17:00"),
)


def template_xlsx(headers, rows, title: str) -> bytes:
    """An import template: bold Vietnamese headers, example rows, a note on the sheet's top."""
    import io

    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    bold = book.add_format({"bold": True, "bg_color": "#F2DCDB", "border": 1})
    sheet = book.add_worksheet("Danh sách")
    sheet.set_header(f"&L{title}")
    for c, h in enumerate(headers):
        sheet.write_string(0, c, h, bold)
        sheet.set_column(c, c, max(14, len(h) + 4))
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            sheet.write_string(r, c, value)
    book.close()
    return out.getvalue()
