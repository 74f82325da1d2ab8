"""Invitation lists, single-use slips and the exports made from them. Functions flush; the caller
commits once."""

from __future__ import annotations

import csv
import io
import re
import secrets
from dataclasses import dataclass

import xlsxwriter
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from sampling.errors import FrameError
from sampling.frames import find_column, normalise, read_table

from .. import anonymity
from ..models import Campaign, Invitation, RespondentGroup, Slip, Unit, too_long
from ..tree import descendants

NAME_ALIASES = ("ho ten", "ho va ten", "ten", "name", "full name", "dai bieu", "nguoi duoc moi")
POSITION_ALIASES = ("chuc vu", "chuc danh", "position")
UNIT_ALIASES = ("don vi", "ma don vi", "co quan", "unit")
PHONE_ALIASES = ("dien thoai", "so dien thoai", "sdt", "phone", "zalo")
EMAIL_ALIASES = ("email", "e mail", "thu dien tu")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_LIST_BYTES = 5 * 1024 * 1024
MAX_SLIPS = 500


class ImportError_(ValueError):
    """A list that cannot be imported; ``problems`` are Vietnamese, one per line of the file."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def new_code() -> str:
    """22 URL-safe characters (128 bits): a personal link nobody can guess."""
    return secrets.token_urlsafe(16)


def invitation_url(code: str) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/i/{code}"


def slip_url(code: str) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/s/{code}"


def campaign_units(s: Session, campaign: Campaign) -> list[Unit]:
    return [campaign.scope_unit, *descendants(s, campaign.scope_unit_id)]


@dataclass(frozen=True)
class Person:
    full_name: str
    position: str
    unit: Unit
    phone: str = ""
    email: str = ""


def _key(name: str, unit_id: int) -> tuple[str, int]:
    return normalise(name), unit_id


def parse_people(s: Session, campaign: Campaign, group: RespondentGroup, data: bytes, filename: str) -> list[Person]:
    """Read a list of named people (CSV or spreadsheet); every problem is reported, none imported.

    Columns: họ tên (required), chức vụ, đơn vị (code or name; blank = the campaign's scope unit),
    điện thoại and email (optional). A person already invited in this group, or listed twice, is
    a duplicate (same name in the same unit).
    """
    try:
        rows = read_table(data, filename, MAX_LIST_BYTES)
        header = [h.strip() for h in rows[0]]
        name_at = find_column(header, None, NAME_ALIASES, "họ tên", filename)
        position_at = find_column(header, None, POSITION_ALIASES, "chức vụ", filename)
        unit_at = find_column(header, None, UNIT_ALIASES, "đơn vị", filename)
    except FrameError as exc:
        raise ImportError_([str(exc)]) from None
    optional = {}
    for field, aliases in (("phone", PHONE_ALIASES), ("email", EMAIL_ALIASES)):
        try:
            optional[field] = find_column(header, None, aliases, field, filename)
        except FrameError:
            optional[field] = None
    if len(rows) < 2:
        raise ImportError_([f"{filename}: tệp chỉ có dòng tiêu đề, không có người nào."])

    units = campaign_units(s, campaign)
    by_code = {normalise(u.code): u for u in units}
    by_name = {normalise(u.name): u for u in units}
    existing = {
        _key(name, unit_id)
        for name, unit_id in s.execute(
            select(Invitation.full_name, Invitation.unit_id).where(Invitation.group_id == group.id)
        )
    }
    seen: dict[tuple[str, int], int] = {}
    people, problems = [], []

    def cell(row: list[str], at: int | None) -> str:
        return row[at].strip() if at is not None and at < len(row) else ""

    for number, row in enumerate(rows[1:], start=2):
        where = f"{filename}, dòng {number}"
        name = " ".join(cell(row, name_at).split())
        if not name:
            problems.append(f"{where}: thiếu họ tên.")
            continue
        unit_text = cell(row, unit_at)
        unit = (
            campaign.scope_unit
            if not unit_text
            else by_code.get(normalise(unit_text)) or by_name.get(normalise(unit_text))
        )
        if unit is None:
            problems.append(f"{where}: không có đơn vị “{unit_text}” trong phạm vi đợt khảo sát.")
            continue
        email = cell(row, optional["email"])
        position, phone = cell(row, position_at), cell(row, optional["phone"])
        longs = too_long(Invitation, full_name=name, position=position, phone=phone, email=email)
        if longs:
            problems.append(f"{where}: {'; '.join(longs)}.")
            continue
        if email and not EMAIL_RE.match(email):
            problems.append(f"{where}: địa chỉ email “{email}” không hợp lệ.")
            continue
        key = _key(name, unit.id)
        if key in existing:
            problems.append(f"{where}: “{name}” ({unit.name}) đã có trong danh sách mời của nhóm này.")
            continue
        if key in seen:
            problems.append(f"{where}: “{name}” ({unit.name}) bị trùng với dòng {seen[key]}.")
            continue
        seen[key] = number
        people.append(Person(name, position, unit, phone, email))
    if problems:
        raise ImportError_(problems)
    return people


def add_invitations(s: Session, group: RespondentGroup, people: list[Person]) -> list[Invitation]:
    rows = [
        Invitation(
            group_id=group.id, unit_id=p.unit.id, full_name=p.full_name, position=p.position, phone=p.phone,
            email=p.email, code=new_code(),
        )
        for p in people
    ]  # fmt: skip
    s.add_all(rows)
    s.flush()
    return rows


def reissue(s: Session, invitation: Invitation) -> None:
    """A new link for the same person; the old one stops working."""
    if anonymity.has_answered(s, invitation):
        raise ValueError("Người này đã trả lời: không cấp lại đường dẫn để tránh một người trả lời hai lần.")
    invitation.code = new_code()
    invitation.revoked = False
    s.flush()


def revoke(s: Session, invitation: Invitation) -> None:
    invitation.revoked = True
    s.flush()


def group_invitations(s: Session, group: RespondentGroup) -> list[Invitation]:
    """The group's invitations, each with ``answered`` set (anonymity.answered_ids: never stored
    on the invitation in an anonymous campaign)."""
    invitations = list(
        s.scalars(
            select(Invitation).where(Invitation.group_id == group.id).order_by(Invitation.unit_id, Invitation.full_name)
        )
    )
    done = anonymity.answered_ids(s, group, invitations)
    for invitation in invitations:
        invitation.answered = invitation.id in done
    return invitations


def status_text(invitation: Invitation) -> str:
    if invitation.revoked:
        return "Đã thu hồi"
    return "Đã trả lời" if invitation.answered else "Chưa trả lời"


def _safe(value: str) -> str:
    """Keep spreadsheet programs from evaluating a cell as a formula (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


LINK_HEADINGS = ["Họ tên", "Chức vụ", "Đơn vị", "Điện thoại", "Email", "Đường dẫn cá nhân", "Trạng thái",
                 "Lần gửi gần nhất"]  # fmt: skip


def _link_rows(invitations: list[Invitation], stages: dict[int, tuple[str, str]] | None) -> list[list[str]]:
    """``stages``: per invitation, where the person stands and the last message sent (words), as
    the group page shows them (surveyapp/messaging/services.py, ``deliveries``)."""
    stages = stages or {}
    return [
        [
            i.full_name,
            i.position,
            i.unit.name,
            i.phone,
            i.email,
            "" if i.revoked else invitation_url(i.code),
            stages.get(i.id, (status_text(i), ""))[0],
            stages.get(i.id, ("", ""))[1],
        ]
        for i in invitations
    ]


def links_csv(invitations: list[Invitation], stages: dict[int, tuple[str, str]] | None = None) -> bytes:
    """UTF-8 with a byte-order mark so Excel opens the Vietnamese text correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(LINK_HEADINGS)
    for row in _link_rows(invitations, stages):
        writer.writerow([_safe(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def links_xlsx(title: str, invitations: list[Invitation], stages: dict[int, tuple[str, str]] | None = None) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    head = book.add_format({"bold": True, "bg_color": "#F2DCDB", "border": 1})
    sheet = book.add_worksheet("Danh sách mời")
    for col, text in enumerate(LINK_HEADINGS):
        sheet.write_string(0, col, text, head)
    for r, row in enumerate(_link_rows(invitations, stages), start=1):
        for col, value in enumerate(row):
            sheet.write_string(r, col, value)  # text, never a formula
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 2, 24)
    sheet.set_column(3, 4, 18)
    sheet.set_column(5, 5, 52)
    sheet.set_column(6, 6, 24)
    sheet.set_column(7, 7, 22)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(invitations), 1), len(LINK_HEADINGS) - 1)
    sheet.set_header(f"&L{title}")
    book.close()
    return buffer.getvalue()


def make_slips(s: Session, group: RespondentGroup, unit: Unit, count: int) -> list[Slip]:
    """A printing batch of single-use slips for one unit."""
    if not 1 <= count <= MAX_SLIPS:
        raise ValueError(f"Số phiếu cần in phải từ 1 đến {MAX_SLIPS}.")
    last = s.scalar(
        select(Slip.batch).where(Slip.group_id == group.id, Slip.unit_id == unit.id).order_by(Slip.batch.desc())
    )
    batch = (last or 0) + 1
    slips = [Slip(group_id=group.id, unit_id=unit.id, code=new_code(), batch=batch) for _ in range(count)]
    s.add_all(slips)
    s.flush()
    return slips
