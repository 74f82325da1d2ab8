"""Heavy exports on the job queue (issue 18, part 2): the scorers' workbook and a group's full CSV
of a campaign with more than ``EXPORT_QUEUE_ABOVE`` valid answers are made by the worker, not in
the web request. The officer gets a page with a progress bar (rows written of rows to write) and a
download link when the file is ready; the file is kept in the database (every app server can hand
it out) for ``EXPORT_KEEP_DAYS``. Smaller exports stay immediate.

The same functions make the file either way, so a queued workbook is the immediate one to the byte
(but for the time it was made).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from ..db import db, session
from ..messaging.services import fieldwork_tables
from ..models import Answer, Campaign, ExportFile, RespondentGroup, Response, ResponseStatus, utcnow
from ..setup.campaigns import current_rules_label
from .services import (
    compute,
    margin_descriptions,
    question_columns,
    questionnaires,
    rank_ranges,
    raw_rows,
    source_names,
    weighted,
    weighted_rows,
)
from .workbook import raw_csv, write_workbook

log = logging.getLogger(__name__)

#: a running export not finished after this long was cut short (its worker stopped)
STALE_AFTER = timedelta(hours=2)
#: how often (rows) the progress is written while an export runs
PROGRESS_EVERY = 2_000


def raw_sheet_specs(s: Session, campaign: Campaign, on_row: Callable[[], None] | None = None):
    """The workbook's raw sheets: per group its name, columns and a function yielding its rows."""
    qs = questionnaires(campaign)
    specs = []
    for group in campaign.groups:
        specs.append(
            (f"Dữ liệu {group.name}", question_columns(qs[group.code]),
             lambda g=group: _counted(raw_rows(s, campaign, g), on_row))
        )  # fmt: skip
    return specs


def _counted(rows: Iterable, on_row: Callable[[], None] | None) -> Iterator:
    for row in rows:
        if on_row is not None:
            on_row()
        yield row


def write_campaign_workbook(s: Session, campaign: Campaign, out, on_row: Callable[[], None] | None = None,
                            table=None) -> None:  # fmt: skip
    """The scorers' workbook of ``campaign`` into ``out`` (a path or a binary file); ``table``: the
    scores when the caller has them already."""
    if table is None:
        table, _counts = compute(s, campaign)
    result = weighted(s, campaign, table)
    extra = (
        (margin_descriptions(campaign, table.rules.weighting), weighted_rows(campaign, table, result))
        if result
        else None
    )
    write_workbook(out, campaign.name, table, raw_sheet_specs(s, campaign, on_row),
                   rules_label=current_rules_label(s, campaign), names=source_names(campaign),
                   fieldwork=fieldwork_tables(s, campaign), ranges=rank_ranges(s, campaign, table),
                   weighted=extra)  # fmt: skip


def group_csv(s: Session, campaign: Campaign, group: RespondentGroup,
              on_row: Callable[[], None] | None = None) -> Iterator[str]:  # fmt: skip
    columns = question_columns(questionnaires(campaign)[group.code])
    return raw_csv(columns, _counted(raw_rows(s, campaign, group), on_row))


def valid_answers(s: Session, campaign: Campaign, group: RespondentGroup | None = None) -> int:
    query = select(func.count(Response.id)).where(Response.campaign_id == campaign.id,
                                                  Response.status == ResponseStatus.VALID)  # fmt: skip
    if group is not None:
        query = query.where(Response.group_id == group.id)
    return s.scalar(query) or 0


def is_heavy(s: Session, campaign: Campaign, group: RespondentGroup | None = None) -> bool:
    return valid_answers(s, campaign, group) > current_app.config["EXPORT_QUEUE_ABOVE"]


def rows_to_write(s: Session, campaign: Campaign, group: RespondentGroup | None = None) -> int:
    """Raw rows an export writes: one per valid response and unit it rated."""
    pairs = (
        select(Answer.response_id, Answer.subject_unit_id)
        .join(Response, Answer.response_id == Response.id)
        .where(Response.campaign_id == campaign.id, Response.status == ResponseStatus.VALID)
        .distinct()
    )
    if group is not None:
        pairs = pairs.where(Response.group_id == group.id)
    return s.scalar(select(func.count()).select_from(pairs.subquery())) or 0


def filename_of(campaign: Campaign, kind: str, group_code: str = "") -> str:
    if kind == "workbook":
        return f"diem-dieu-tra-{campaign.key}.xlsx"
    return f"du-lieu-{campaign.key}-{group_code}.csv"


def request_export(s: Session, campaign: Campaign, kind: str, group_code: str,
                   user_id: int | None) -> tuple[ExportFile, bool]:  # fmt: skip
    """The export being made for this campaign (and group), or a new one; True when new: the caller
    commits, then queues its job (``jobs.enqueue("export", id)``)."""
    since = utcnow() - STALE_AFTER
    current = s.scalars(
        select(ExportFile)
        .where(ExportFile.campaign_id == campaign.id, ExportFile.kind == kind, ExportFile.group_code == group_code,
               ExportFile.status.in_(("queued", "running")), ExportFile.created_at >= since)
        .order_by(ExportFile.id.desc())
    ).first()  # fmt: skip
    if current is not None:
        return current, False
    export = ExportFile(campaign_id=campaign.id, kind=kind, group_code=group_code, requested_by_id=user_id,
                        filename=filename_of(campaign, kind, group_code), status="queued", done=0, total=0,
                        size=0)  # fmt: skip
    s.add(export)
    s.flush()
    return export, True


def state_of(export: ExportFile) -> str:
    """queued, running, done or failed; a run cut short by a stopped worker reads as failed."""
    if export.status in ("queued", "running") and export.created_at is not None:
        created = export.created_at if export.created_at.tzinfo else export.created_at.replace(tzinfo=utcnow().tzinfo)
        if created < utcnow() - STALE_AFTER:
            return "failed"
    return export.status


class _Meter:
    """Writes the rows done so far in its own short transactions (the export's session is busy
    streaming rows)."""

    def __init__(self, export_id: int):
        self.export_id, self.done = export_id, 0

    def step(self) -> None:
        self.done += 1
        if self.done % PROGRESS_EVERY == 0:
            self.write()

    def write(self) -> None:
        with Session(db.engine) as own:
            own.execute(update(ExportFile).where(ExportFile.id == self.export_id).values(done=self.done))
            own.commit()


def run_export(export_id: int) -> None:
    """The job: claim the export (queued → running, one conditional UPDATE), make the file, keep it."""
    s = session()
    claimed = s.execute(
        update(ExportFile).where(ExportFile.id == export_id, ExportFile.status == "queued").values(status="running")
    ).rowcount
    s.commit()
    if not claimed:
        return  # already made, or being made by another worker
    export = s.get(ExportFile, export_id)
    campaign = s.get(Campaign, export.campaign_id)
    group = next((g for g in campaign.groups if g.code == export.group_code), None)
    export.total = rows_to_write(s, campaign, group if export.kind == "csv" else None)
    s.commit()
    meter = _Meter(export_id)
    try:
        if export.kind == "workbook":
            buffer = io.BytesIO()
            write_campaign_workbook(s, campaign, buffer, meter.step)
            data = buffer.getvalue()
        else:
            data = "".join(group_csv(s, campaign, group, meter.step)).encode("utf-8")
    except Exception as exc:
        log.exception("export %s failed", export_id)
        s.rollback()
        words = f"Không tạo được tệp ({type(exc).__name__}); vui lòng thử lại hoặc báo quản trị hệ thống."
        s.execute(update(ExportFile).where(ExportFile.id == export_id)
                  .values(status="failed", finished_at=utcnow(), error=words))  # fmt: skip
        s.commit()
        return
    done = max(meter.done, export.total)
    s.execute(update(ExportFile).where(ExportFile.id == export_id)
              .values(status="done", content=data, size=len(data), done=done, finished_at=utcnow()))  # fmt: skip
    s.commit()


def forget_old(s: Session) -> int:
    """Delete exports older than ``EXPORT_KEEP_DAYS`` (the worker's tick); returns how many."""
    limit = utcnow() - timedelta(days=current_app.config["EXPORT_KEEP_DAYS"])
    return s.execute(delete(ExportFile).where(ExportFile.created_at < limit)).rowcount
