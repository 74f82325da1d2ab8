"""The busy path of a counter poster (/f/<code>): what thousands of citizens hit at once.

Two shortcuts, each with the general path of ``services.py`` behind it for everything unusual:

- :func:`counter_point` keeps what a poster's code resolves to (its group, campaign, unit and
  questionnaire) in memory for a few seconds, so showing the form costs no database query. A
  change made through this process (closing a campaign, a full quota …) forgets it at once;
  another process or server sees it within ``POINT_TTL`` seconds. Nothing is stored on that
  memory alone: the submission re-checks every condition in SQL.
- :func:`store_counter_response` stores a response on PostgreSQL in one statement: the quota
  update, the response and its answers, guarded by the same conditions as
  :func:`services.store_response`. When it stores nothing (a retry, a full quota, a campaign
  closed a moment ago …) the caller rolls back and takes the general path, which says why.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, and_, event, select, text
from sqlalchemy.orm import Session, aliased

from questionnaires import Questionnaire

from ..models import (
    Campaign,
    CampaignStatus,
    Channel,
    CollectionPoint,
    CounterAccess,
    QuestionnaireVersion,
    Quota,
    QuotaFullPolicy,
    RespondentGroup,
    Unit,
)
from . import services
from .quality import ADDRESS_BURST_FACTOR, ADDRESS_WINDOW
from .rows import AnswerRow
from .services import answers_hash, parse_questionnaire

#: how long a poster's resolution is trusted without asking the database again (seconds)
POINT_TTL = 5.0
_POINTS_MAX = 20_000


@dataclass(frozen=True)
class UnitView:
    id: int
    name: str
    opening_hours: str | None


@dataclass(frozen=True)
class CampaignView:
    id: int
    status: str
    anonymous: bool
    stop_when_full: bool
    min_seconds_per_question: float
    burst_limit: int
    check_opening_hours: bool
    key: str = ""
    issuer_text: str = ""
    emblem_type: str | None = None
    emblem_hash: str | None = None


@dataclass(frozen=True)
class CounterPoint:
    """What a poster's code resolves to, as plain values (no database session behind it); shaped
    like :class:`services.FormContext` where the templates read it (``unit.name``, ``campaign.anonymous``)."""

    code: str
    point_id: int
    active: bool
    group_id: int
    counter_access: str
    campaign: CampaignView
    unit: UnitView
    version_id: int
    content_hash: str
    #: parsed once per version and shared by every poster that asks it (not a copy per poster)
    questionnaire: Questionnaire
    quota_full: bool
    channel: str = Channel.COUNTER
    #: the group asks the dossier code: the general path takes its answers (collect/dossier.py)
    asks_dossier: bool = False

    @property
    def takes_answers(self) -> bool:
        """Open for answers through the poster, as far as this snapshot knows."""
        return (
            self.active
            and self.campaign.status == CampaignStatus.OPEN
            and self.counter_access != CounterAccess.SLIPS
            and not self.questionnaire.rates_units
            and not self.asks_dossier
        )


_points: dict[str, tuple[float, CounterPoint]] = {}
_lock = threading.Lock()


def forget_points() -> None:
    """Drop every remembered poster (after a change to campaigns, groups, units or quotas)."""
    with _lock:
        _points.clear()


def counter_point(session: Callable[[], Session], code: str) -> CounterPoint | None:
    """The poster ``code`` resolves to, from memory if seen within ``POINT_TTL`` seconds; else
    asked through ``session()``, which is only called then."""
    now = time.monotonic()
    hit = _points.get(code)
    if hit is not None and hit[0] > now:
        return hit[1]
    s = session()
    scope = aliased(Unit)
    row = s.execute(
        select(
            CollectionPoint.id,
            CollectionPoint.active,
            RespondentGroup.id,
            RespondentGroup.counter_access,
            RespondentGroup.asks_dossier,
            Campaign.id,
            Campaign.status,
            Campaign.anonymous,
            Campaign.quota_full_policy,
            Campaign.min_seconds_per_question,
            Campaign.burst_limit,
            Campaign.check_opening_hours,
            Campaign.key,
            Campaign.issuer,
            Campaign.emblem_type,
            Campaign.emblem_hash,
            scope.name,
            Unit.id,
            Unit.name,
            Unit.opening_hours,
            QuestionnaireVersion.id,
            QuestionnaireVersion.content_hash,
            Quota.received,
            Quota.target,
        )  # fmt: skip
        .join(RespondentGroup, CollectionPoint.group_id == RespondentGroup.id)
        .join(Campaign, RespondentGroup.campaign_id == Campaign.id)
        .join(Unit, CollectionPoint.unit_id == Unit.id)
        .join(scope, Campaign.scope_unit_id == scope.id)
        .join(QuestionnaireVersion, RespondentGroup.questionnaire_version_id == QuestionnaireVersion.id)
        .outerjoin(Quota, and_(Quota.group_id == RespondentGroup.id, Quota.unit_id == Unit.id))
        .where(CollectionPoint.code == code)
    ).first()
    if row is None:
        return None  # unknown codes are not remembered: guessing must not fill the memory
    (point_id, active, group_id, access, asks_dossier, campaign_id, status, anonymous, policy, min_seconds, burst_limit,
     check_hours, key, issuer, emblem_type, emblem_hash, scope_name, unit_id, unit_name, hours, version_id,
     content_hash, received, target) = row  # fmt: skip
    stop = policy == QuotaFullPolicy.STOP
    point = CounterPoint(
        code, point_id, active, group_id, access,
        CampaignView(campaign_id, status, anonymous, stop, min_seconds, burst_limit, check_hours, key,
                     issuer or scope_name, emblem_type, emblem_hash),
        UnitView(unit_id, unit_name, hours), version_id, content_hash, _questionnaire(s, version_id, content_hash),
        quota_full=stop and received is not None and received >= target, asks_dossier=bool(asks_dossier),
    )  # fmt: skip
    with _lock:
        if len(_points) >= _POINTS_MAX:
            _points.clear()
        _points[code] = (now + POINT_TTL, point)
    return point


_questionnaires: dict[str, Questionnaire] = {}


def _questionnaire(s: Session, version_id: int, content_hash: str) -> Questionnaire:
    """The parsed questionnaire of a version; its text is read from the database once per process."""
    found = _questionnaires.get(content_hash)
    if found is None:
        version = s.execute(
            select(QuestionnaireVersion.source, QuestionnaireVersion.code).where(QuestionnaireVersion.id == version_id)
        ).one()
        found = _questionnaires[content_hash] = parse_questionnaire(content_hash, version.source, version.code)
    return found


services.on_quota_filled.append(forget_points)

_WATCHED = (Campaign, RespondentGroup, CollectionPoint, Unit, QuestionnaireVersion, Quota)


@event.listens_for(Session, "after_flush")
def _forget_on_change(session: Session, _context) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, _WATCHED):
            forget_points()
            return


@event.listens_for(Session, "do_orm_execute")
def _forget_on_bulk_change(state) -> None:
    mapper = state.bind_mapper
    if (state.is_update or state.is_delete) and mapper is not None and mapper.class_ in _WATCHED:
        forget_points()


# -- storing on PostgreSQL in one statement --------------------------------------------------------
_STORE = text("""
WITH door AS (
    SELECT 1 FROM collection_point p
    JOIN respondent_group g ON g.id = p.group_id
    JOIN campaign c ON c.id = g.campaign_id
    WHERE p.id = :point_id AND p.active AND c.status = 'open' AND g.counter_access <> 'slips'
      AND g.questionnaire_version_id = :version_id
),
-- the quota row, locked until the statement's transaction ends: its latest count decides
held AS (
    SELECT received, target FROM quota
    WHERE group_id = :group_id AND unit_id = :unit_id AND EXISTS (SELECT 1 FROM door)
    FOR UPDATE
),
stored AS (
    INSERT INTO response (submission_id, campaign_id, group_id, unit_id, questionnaire_version_id,
        collection_point_id, channel, answers_hash, started_at, submitted_at, status, over_quota, flags, device_hash,
        address_hash)
    SELECT :submission_id, :campaign_id, :group_id, :unit_id, :version_id, :point_id, 'counter', :answers_hash,
        CAST(:started_at AS timestamptz), :now, 'valid', COALESCE((SELECT received >= target FROM held), false),
        concat_ws(' ', CAST(:flags_before AS text),
            -- counted up to the limit only, on the (hash, campaign_id, submitted_at) indexes
            CASE WHEN (SELECT count(*) FROM (SELECT 1 FROM response
                        WHERE device_hash = CAST(:device_hash AS varchar) AND submitted_at >= :since
                          AND campaign_id = :campaign_id LIMIT :burst_limit) AS recent) >= :burst_limit
                 THEN 'burst' END,
            CASE WHEN (SELECT count(*) FROM (SELECT 1 FROM response
                        WHERE address_hash = CAST(:address_hash AS varchar) AND submitted_at >= :address_since
                          AND campaign_id = :campaign_id LIMIT :address_burst_limit) AS recent)
                       >= :address_burst_limit
                 THEN 'address_burst' END,
            CAST(:flags_after AS text)),
        CAST(:device_hash AS varchar), CAST(:address_hash AS varchar)
    WHERE EXISTS (SELECT 1 FROM door)
      AND (EXISTS (SELECT 1 FROM held WHERE NOT CAST(:stop AS boolean) OR received < target)
           OR NOT EXISTS (SELECT 1 FROM quota WHERE group_id = :group_id AND unit_id = :unit_id))
    ON CONFLICT DO NOTHING
    RETURNING id
),
-- counted only when the response went in (a retry of a stored submission id counts nothing)
bump AS (
    UPDATE quota SET received = received + 1
    WHERE group_id = :group_id AND unit_id = :unit_id AND EXISTS (SELECT 1 FROM stored)
    RETURNING received, target
),
answers AS (
    INSERT INTO answer (response_id, question_id, subject_unit_id, value_code, value_num, value_text)
    SELECT stored.id, a.question_id, a.subject_unit_id, a.value_code, a.value_num, a.value_text
    FROM stored, json_to_recordset(CAST(:answers AS json))
         AS a(question_id varchar, subject_unit_id integer, value_code varchar, value_num double precision,
              value_text text)
)
SELECT (SELECT id FROM stored) AS response_id, (SELECT received >= target FROM bump) AS now_full
""")


def can_store_in_one_statement(engine: Engine | None) -> bool:
    return engine is not None and engine.dialect.name == "postgresql"


def store_counter_response(
    conn: Connection,
    point: CounterPoint,
    submission_id: str,
    started_at: datetime | None,
    rows: list[AnswerRow],
    *,
    flags_before: list[str],
    flags_after: list[str],
    device_hash: str | None,
    address_hash: str | None,
    now: datetime,
) -> bool:
    """Store one poster response in one statement on ``conn``, a Core connection in autocommit
    (:func:`surveyapp.db.make_autocommit_engine`): the statement is the whole transaction, one
    round trip. True if stored; False if anything stood in the way, and then it changed nothing
    (the caller takes the general path to learn what)."""
    found = conn.execute(
        _STORE,
        {
            "point_id": point.point_id,
            "version_id": point.version_id,
            "group_id": point.group_id,
            "unit_id": point.unit.id,
            "campaign_id": point.campaign.id,
            "stop": point.campaign.stop_when_full,
            "submission_id": submission_id,
            "answers_hash": answers_hash(rows),
            "started_at": started_at,
            "now": now,
            "flags_before": " ".join(flags_before) or None,
            "flags_after": " ".join(flags_after) or None,
            "device_hash": device_hash,
            "since": now - timedelta(hours=1),
            "burst_limit": point.campaign.burst_limit,
            "address_hash": address_hash,
            "address_since": now - ADDRESS_WINDOW,
            "address_burst_limit": point.campaign.burst_limit * ADDRESS_BURST_FACTOR,
            # one JSON text: psycopg dumps it in one go, where five arrays cost it element by element
            "answers": json.dumps(
                [
                    {
                        "question_id": r.question_id,
                        "subject_unit_id": r.subject_unit_id,
                        "value_code": r.value_code,
                        "value_num": r.value_num,
                        "value_text": r.value_text,
                    }
                    for r in rows
                ],
                ensure_ascii=False,
            ),
        },  # fmt: skip
    ).one()
    if found.now_full:
        forget_points()  # this process shows "quota full" from the next visitor on
    return found.response_id is not None
