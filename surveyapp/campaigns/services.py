"""Running a campaign: questionnaire versions, units, collection points, links and progress.

Functions take a session and flush; the caller commits once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased

from questionnaires import Questionnaire, load_text

from ..models import (
    Campaign,
    CollectionPoint,
    QuestionnaireVersion,
    Quota,
    RespondentGroup,
    Response,
    ResponseStatus,
    Unit,
)

#: lowercase letters and digits without look-alikes (0/o, 1/l/i): easy to read off a poster
CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
CODE_LENGTH = 16  # 31**16 ≈ 7·10**23: not guessable, not enumerable


class VersionConflict(ValueError):
    """A questionnaire's questions changed but its version number did not."""


def new_point_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def form_url(code: str) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/f/{code}"


def kiosk_url(code: str) -> str:
    """The address a counter's tablet opens for the point ``code`` (collect/kiosk.py)."""
    return f"{current_app.config['PUBLIC_BASE_URL']}/k/{code}"


def qr_png_url(code: str) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/qr/{code}.png"


def store_questionnaire(s: Session, questionnaire: Questionnaire, source: str) -> QuestionnaireVersion:
    """The stored row of this questionnaire version, added if new.

    Raises VersionConflict when the same code and version are stored with other content:
    changed questions need a new version, so old responses keep the form they answered.
    """
    row = s.scalar(
        select(QuestionnaireVersion).where(
            QuestionnaireVersion.code == questionnaire.code, QuestionnaireVersion.version == questionnaire.version
        )
    )
    if row is not None:
        if row.content_hash != questionnaire.content_hash:
            raise VersionConflict(
                f"Phiếu “{questionnaire.code}” phiên bản {questionnaire.version} đã có trong cơ sở dữ liệu với nội "
                f"dung khác. Khi sửa câu hỏi, hãy tăng số phiên bản (version) trong tệp {questionnaire.source_file}."
            )
        return row
    row = QuestionnaireVersion(
        code=questionnaire.code,
        version=questionnaire.version,
        title=questionnaire.title,
        content_hash=questionnaire.content_hash,
        source=source,
    )
    s.add(row)
    s.flush()
    return row


def store_questionnaire_file(s: Session, path: Path) -> QuestionnaireVersion:
    text = path.read_text(encoding="utf-8")
    return store_questionnaire(s, load_text(text, path.name), text)


def ensure_collection_points(s: Session, group: RespondentGroup, units: list[Unit]) -> list[CollectionPoint]:
    """One collection point per unit for a public group (existing ones are kept)."""
    have = {p.unit_id: p for p in s.scalars(select(CollectionPoint).where(CollectionPoint.group_id == group.id))}
    for unit in units:
        if unit.id not in have:
            point = CollectionPoint(group_id=group.id, unit_id=unit.id, code=new_point_code())
            s.add(point)
            have[unit.id] = point
    s.flush()
    return [have[u.id] for u in units]


def campaign_by_key(s: Session, key: str) -> Campaign | None:
    return s.scalar(select(Campaign).where(Campaign.key == key))


@dataclass(frozen=True)
class PointLink:
    unit_code: str
    unit_name: str
    group_code: str
    group_name: str
    code: str


def point_links(s: Session, campaign: Campaign) -> list[PointLink]:
    rows = s.execute(
        select(Unit.code, Unit.name, RespondentGroup.code, RespondentGroup.name, CollectionPoint.code)
        .join(RespondentGroup, CollectionPoint.group_id == RespondentGroup.id)
        .join(Unit, CollectionPoint.unit_id == Unit.id)
        .where(RespondentGroup.campaign_id == campaign.id, CollectionPoint.active.is_(True))
        .order_by(RespondentGroup.position, Unit.code)
    )
    return [PointLink(*row) for row in rows]


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


@dataclass(frozen=True)
class ProgressRow:
    unit_code: str
    unit_name: str
    group_code: str
    group_name: str
    target: int
    received: int  #: valid responses


def progress(s: Session, campaign: Campaign) -> list[ProgressRow]:
    """Target and valid responses per unit × group of the campaign's quotas, in plan order."""
    return [
        ProgressRow(c.unit_code, c.unit_name, c.group_code, c.group_name, c.target, c.valid) for c in cells(s, campaign)
    ]
