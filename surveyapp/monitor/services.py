"""Progress and quality queries. The dashboard is one query for the table and one for the chart,
whatever the number of units."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session, aliased

from ..audit import record
from ..models import Campaign, Quota, RespondentGroup, Response, ResponseStatus, Unit, utcnow


@dataclass(frozen=True)
class Cell:
    unit_id: int
    unit_code: str
    unit_name: str
    unit_kind: str
    parent_code: str | None
    parent_name: str | None
    group_code: str
    group_name: str
    target: int
    received: int  #: every response, valid or excluded
    valid: int

    @property
    def percent(self) -> float:
        return 100.0 * self.valid / self.target if self.target else 100.0

    @property
    def lag(self) -> int:
        return max(0, self.target - self.valid)


def cells(
    s: Session,
    campaign: Campaign,
    *,
    kind: str | None = None,
    parent_code: str | None = None,
    only_unit_id: int | None = None,
) -> list[Cell]:
    """Every unit × group with a quota: target, received and valid, in one SQL query."""
    counted = (
        select(
            Response.group_id,
            Response.unit_id,
            func.count().label("received"),
            func.sum(case((Response.status == ResponseStatus.VALID, 1), else_=0)).label("valid"),
        )
        .where(Response.campaign_id == campaign.id)
        .group_by(Response.group_id, Response.unit_id)
        .subquery()
    )
    parent = aliased(Unit)
    stmt = (
        select(
            Unit.id, Unit.code, Unit.name, Unit.kind, parent.code, parent.name, RespondentGroup.code,
            RespondentGroup.name, Quota.target, func.coalesce(counted.c.received, 0), func.coalesce(counted.c.valid, 0),
        )
        .select_from(Quota)
        .join(RespondentGroup, Quota.group_id == RespondentGroup.id)
        .join(Unit, Quota.unit_id == Unit.id)
        .outerjoin(parent, Unit.parent_id == parent.id)
        .outerjoin(counted, (counted.c.group_id == Quota.group_id) & (counted.c.unit_id == Quota.unit_id))
        .where(RespondentGroup.campaign_id == campaign.id)
        .order_by(RespondentGroup.position, Unit.code)
    )  # fmt: skip
    if kind:
        stmt = stmt.where(Unit.kind == kind)
    if parent_code:
        stmt = stmt.where(parent.code == parent_code)
    if only_unit_id is not None:
        stmt = stmt.where(Unit.id == only_unit_id)
    return [Cell(*row) for row in s.execute(stmt)]


def per_day(s: Session, campaign: Campaign, only_unit_id: int | None = None) -> list[tuple[str, int]]:
    """Valid responses per day (server dates), one query."""
    day = func.date(Response.submitted_at)
    stmt = (
        select(day, func.count())
        .where(Response.campaign_id == campaign.id, Response.status == ResponseStatus.VALID)
        .group_by(day)
        .order_by(day)
    )
    if only_unit_id is not None:
        stmt = stmt.where(Response.unit_id == only_unit_id)
    return [(str(d), n) for d, n in s.execute(stmt)]


def days_left(campaign: Campaign, today: date | None = None) -> int | None:
    if campaign.ends_on is None:
        return None
    return max(0, (campaign.ends_on - (today or date.today())).days)


def flagged(s: Session, campaign: Campaign, include_reviewed: bool = False) -> list[Response]:
    stmt = select(Response).where(Response.campaign_id == campaign.id, Response.flags != "")
    if not include_reviewed:
        stmt = stmt.where(Response.reviewed_at.is_(None))
    return list(s.scalars(stmt.order_by(Response.submitted_at.desc()).limit(500)))


class ReviewError(ValueError):
    pass


def review(s: Session, response: Response, decision: str, note: str) -> None:
    """Exclude, keep or restore a response, with a reason; quotas follow; audited."""
    note = note.strip()
    if not note:
        raise ReviewError("Vui lòng ghi lý do.")
    if decision == "exclude" and response.status == ResponseStatus.VALID:
        response.status = ResponseStatus.EXCLUDED
        s.execute(
            update(Quota)
            .where(Quota.group_id == response.group_id, Quota.unit_id == response.unit_id, Quota.received > 0)
            .values(received=Quota.received - 1)
        )
        action = "response.excluded"
    elif decision == "restore" and response.status == ResponseStatus.EXCLUDED:
        response.status = ResponseStatus.VALID
        s.execute(
            update(Quota)
            .where(Quota.group_id == response.group_id, Quota.unit_id == response.unit_id)
            .values(received=Quota.received + 1)
        )
        action = "response.restored"
    elif decision == "keep":
        action = "response.kept"
    else:
        raise ReviewError("Thao tác không hợp lệ với trạng thái hiện tại của phiếu.")
    response.review_note = note
    response.reviewed_at = utcnow()
    record(s, action, f"response:{response.id}", note=note, flags=response.flags)
