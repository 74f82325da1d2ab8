"""Progress and quality queries. The dashboard is one query for the table (``cells``, shared with
the command line and scoring) and one for the chart, whatever the number of units."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..audit import record
from ..models import Campaign, Quota, Response, ResponseStatus, utcnow
from ..web import VIETNAM


def vietnam_day(s: Session, column):
    """The Vietnam date (UTC+7, no summer time) of a stored UTC time, in SQL."""
    if s.get_bind().dialect.name == "sqlite":
        return func.date(column, "+7 hours")
    return func.date(func.timezone("Asia/Ho_Chi_Minh", column))


def per_day(s: Session, campaign: Campaign, only_unit_id: int | None = None) -> list[tuple[str, int]]:
    """Valid responses per day, Vietnam dates (yyyy-mm-dd), one query."""
    day = vietnam_day(s, Response.submitted_at)
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
    """Days until the campaign's end date, counted in Vietnam; negative once it has passed."""
    if campaign.ends_on is None:
        return None
    return (campaign.ends_on - (today or datetime.now(VIETNAM).date())).days


#: the quality page lists at most this many responses at once (filters narrow it)
FLAGGED_PAGE = 500


def flagged(s: Session, campaign: Campaign, include_reviewed: bool = False, flag: str | None = None,
            unit_id: int | None = None) -> tuple[list[Response], int]:  # fmt: skip
    """Flagged responses, newest first, with one flag or of one unit; and how many match in all."""
    stmt = select(Response).where(Response.campaign_id == campaign.id, Response.flags != "")
    if not include_reviewed:
        stmt = stmt.where(Response.reviewed_at.is_(None))
    if flag:
        stmt = stmt.where((" " + Response.flags + " ").contains(f" {flag} ", autoescape=True))
    if unit_id is not None:
        stmt = stmt.where(Response.unit_id == unit_id)
    total = s.scalar(select(func.count()).select_from(stmt.subquery()))
    return list(s.scalars(stmt.order_by(Response.submitted_at.desc(), Response.id.desc()).limit(FLAGGED_PAGE))), total


def duration_text(seconds: float) -> str:
    """How long a response took, in words: "45 giây", "3 phút 12 giây", "1 giờ 5 phút"."""
    seconds = max(int(round(seconds)), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} giờ {minutes} phút" if minutes else f"{hours} giờ"
    if minutes:
        return f"{minutes} phút {secs} giây" if secs else f"{minutes} phút"
    return f"{secs} giây"


def review_many(s: Session, campaign: Campaign, ids: list[int], decision: str, note: str) -> tuple[int, int]:
    """One decision with one reason for several responses of ``campaign``: (changed, left as they
    were because their state did not allow it, e.g. excluding one already excluded)."""
    if not note.strip():
        raise ReviewError("Vui lòng ghi lý do.")
    if decision not in DECISIONS:
        raise ReviewError("Vui lòng chọn giữ, loại hoặc khôi phục.")
    responses = s.scalars(select(Response).where(Response.campaign_id == campaign.id, Response.id.in_(ids))).all()
    if len(responses) != len(set(ids)):
        raise ReviewError("Có phiếu không thuộc đợt khảo sát này; chưa lưu gì.")
    changed = skipped = 0
    for response in sorted(responses, key=lambda r: r.id):
        try:  # a refusal changes nothing (review's conditional update moved no row)
            review(s, response, decision, note)
        except ReviewError:
            skipped += 1
        else:
            changed += 1
    return changed, skipped


class ReviewError(ValueError):
    pass


#: what a reviewer may decide, in words
DECISIONS = {"keep": "Giữ", "exclude": "Loại", "restore": "Khôi phục"}


def review(s: Session, response: Response, decision: str, note: str) -> None:
    """Exclude, keep or restore a response, with a reason; quotas follow; audited."""
    note = note.strip()
    if not note:
        raise ReviewError("Vui lòng ghi lý do.")
    transitions = {"exclude": (ResponseStatus.VALID, ResponseStatus.EXCLUDED, -1, "response.excluded"),
                   "restore": (ResponseStatus.EXCLUDED, ResponseStatus.VALID, +1, "response.restored")}  # fmt: skip
    if decision in transitions:
        before, after, step, action = transitions[decision]
        # one conditional UPDATE: of two reviewers deciding at once, the second waits for the
        # first's row lock, then finds the status changed and changes nothing (the quota moves once)
        moved = s.execute(
            update(Response.__table__)
            .where(Response.__table__.c.id == response.id, Response.__table__.c.status == before)
            .values(status=after)
        ).rowcount
        if moved != 1:
            raise ReviewError("Phiếu này vừa được người khác xử lý; tải lại trang để xem trạng thái mới.")
        s.refresh(response, ["status"])
        quota = update(Quota).where(Quota.group_id == response.group_id, Quota.unit_id == response.unit_id)
        if step < 0:
            quota = quota.where(Quota.received > 0)
        s.execute(quota.values(received=Quota.received + step))
    elif decision == "keep":
        action = "response.kept"
    else:
        raise ReviewError("Thao tác không hợp lệ với trạng thái hiện tại của phiếu.")
    response.review_note = note
    response.reviewed_at = utcnow()
    record(s, action, f"response:{response.id}", note=note, flags=response.flags)
