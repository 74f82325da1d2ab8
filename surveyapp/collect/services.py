"""Collecting answers: resolving a QR code, storing a response exactly once, counting answers.

Functions take a session and flush; the caller commits (or rolls back) once.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from functools import lru_cache

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from questionnaires import Questionnaire, QuestionType, UnitsScope, load_text
from questionnaires.model import DEFAULT_LANGUAGE

from .. import anonymity
from ..models import (
    Answer,
    Campaign,
    CampaignStatus,
    Channel,
    CollectionPoint,
    Invitation,
    InvitationClaim,
    InvitationDraft,
    QuestionnaireVersion,
    Quota,
    QuotaFullPolicy,
    RespondentGroup,
    Response,
    ResponseStatus,
    Slip,
    Unit,
)
from ..tree import descendants
from . import dossier as dossiers
from .quality import ADDRESS_WINDOW
from .rows import AnswerRow

#: a form may be answered (or a saved draft resent) for this long after it was first shown
SUBMISSION_MAX_AGE = 3 * 24 * 3600

#: called when a quota is found full: a stored response took its last place, or one was refused
#: for it (fast.py forgets its posters then)
on_quota_filled: list = []


def _quota_filled() -> None:
    for listener in on_quota_filled:
        listener()


@lru_cache(maxsize=64)
def parse_questionnaire(content_hash: str, source: str, code: str, language: str | None = None) -> Questionnaire:
    return load_text(source, f"{code}.yaml", language)


def questionnaire_of(version: QuestionnaireVersion, language: str | None = None) -> Questionnaire:
    """The parsed questionnaire of a stored version (parsed once per process and language), its
    texts in ``language`` where it has them (Vietnamese otherwise)."""
    return parse_questionnaire(version.content_hash, version.source, version.code, language)


@dataclass
class FormContext:
    """Who answers: the campaign, group and unit a response counts for, and through which door
    (a counter poster, a single-use slip, a personal invitation, or a clerk keying in paper)."""

    group: RespondentGroup
    campaign: Campaign
    unit: Unit
    version: QuestionnaireVersion
    channel: str
    point: CollectionPoint | None = None
    slip: Slip | None = None
    invitation: Invitation | None = None

    @property
    def questionnaire(self) -> Questionnaire:
        return questionnaire_of(self.version)


def _resolve(s: Session, model, code: str, channel: str, door: str) -> FormContext | None:
    """The context of a public code: a collection point, a slip or an invitation (one query)."""
    row = s.execute(
        select(model, RespondentGroup, Campaign, Unit, QuestionnaireVersion)
        .join(RespondentGroup, model.group_id == RespondentGroup.id)
        .join(Campaign, RespondentGroup.campaign_id == Campaign.id)
        .join(Unit, model.unit_id == Unit.id)
        .join(QuestionnaireVersion, RespondentGroup.questionnaire_version_id == QuestionnaireVersion.id)
        .where(model.code == code)
    ).first()
    if row is None:
        return None
    found, group, campaign, unit, version = row
    return FormContext(group, campaign, unit, version, channel, **{door: found})


def resolve_point(s: Session, code: str) -> FormContext | None:
    return _resolve(s, CollectionPoint, code, Channel.COUNTER, "point")


def resolve_slip(s: Session, code: str) -> FormContext | None:
    return _resolve(s, Slip, code, Channel.SLIP, "slip")


def resolve_invitation(s: Session, code: str) -> FormContext | None:
    return _resolve(s, Invitation, code, Channel.INVITATION, "invitation")


def paper_context(group: RespondentGroup, unit: Unit) -> FormContext:
    return FormContext(group, group.campaign, unit, group.questionnaire_version, Channel.PAPER)


def rated_units(s: Session, group: RespondentGroup, campaign: Campaign, questionnaire: Questionnaire) -> dict:
    """For each rate_units question, the units it asks about, in code order."""
    result = {}
    for question in questionnaire.top_questions():
        if question.type is not QuestionType.RATE_UNITS:
            continue
        if question.units is UnitsScope.ASSIGNED:
            result[question.id] = list(group.rated_units)
        else:
            result[question.id] = descendants(s, campaign.scope_unit_id)
    return result


def quota_is_full(s: Session, campaign: Campaign, group_id: int, unit_id: int) -> bool:
    if campaign.quota_full_policy != QuotaFullPolicy.STOP:
        return False
    quota = s.scalar(select(Quota).where(Quota.group_id == group_id, Quota.unit_id == unit_id))
    return quota is not None and quota.received >= quota.target


# -- submission ids --------------------------------------------------------------------------------
def _signer(secret_key: str) -> TimestampSigner:
    return TimestampSigner(secret_key, salt="surveyapp.submission")


def new_submission_token(secret_key: str) -> str:
    """A fresh submission id, signed with the time the form was shown: ``<uuid>.<time>.<signature>``."""
    return _signer(secret_key).sign(str(uuid.uuid4())).decode("ascii")


def read_submission_token(secret_key: str, token: str) -> tuple[str, datetime] | None:
    """The submission uuid and when its form was shown, or None if the token is not ours."""
    try:
        value, shown = _signer(secret_key).unsign(token, max_age=SUBMISSION_MAX_AGE, return_timestamp=True)
        submission = str(uuid.UUID(value.decode("ascii")))
    except (BadSignature, SignatureExpired, ValueError, UnicodeDecodeError):
        return None
    return submission, shown.astimezone(UTC)


# -- storing ----------------------------------------------------------------------------------------
class Outcome(Enum):
    STORED = "stored"
    REPLAYED = "replayed"  #: the same submission again: nothing stored, thank the citizen again
    CONFLICT = "conflict"  #: the same submission id with other answers: refused
    QUOTA_FULL = "quota_full"
    ALREADY_USED = "already_used"  #: a single-use invitation or slip that has answered already
    DUPLICATE_PAPER = "duplicate_paper"  #: this paper form number was keyed in already
    DOSSIER_USED = "dossier_used"  #: the dossier (mã hồ sơ) has its answer already


def answers_hash(rows: list[AnswerRow]) -> str:
    payload = json.dumps([row.key() for row in rows], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _existing(s: Session, submission_id: str, digest: str, point_id: int | None) -> Outcome | None:
    found = s.execute(
        select(Response.answers_hash, Response.collection_point_id).where(Response.submission_id == submission_id)
    ).first()
    if found is None:
        return None
    same = found.answers_hash == digest and found.collection_point_id == point_id
    return Outcome.REPLAYED if same else Outcome.CONFLICT


def _paper_taken(s: Session, campaign_id: int, paper_number: str | None) -> bool:
    if paper_number is None:
        return False
    return (
        s.scalar(select(Response.id).where(Response.campaign_id == campaign_id, Response.paper_number == paper_number))
        is not None
    )


def _claim(s: Session, model, row_id: int, *extra) -> bool:
    """Mark a single-use invitation or slip as used; False if it was used (or revoked) already.

    One conditional UPDATE: of two submissions racing for the same link, the second waits for
    the first's row lock and then finds ``used`` set.
    """
    claimed = s.execute(
        update(model).where(model.id == row_id, model.used.is_(False), *extra).values(used=True)
    ).rowcount
    return claimed == 1


def store_response(
    s: Session,
    ctx: FormContext,
    submission_id: str,
    started_at: datetime | None,
    rows: list[AnswerRow],
    *,
    paper_number: str | None = None,
    entered_by_id: int | None = None,
    accept_over_quota: bool = False,
    flags: list[str] | None = None,
    device_hash: str | None = None,
    address_hash: str | None = None,
    language: str = DEFAULT_LANGUAGE,
    dossier: str | None = None,
) -> Outcome:
    """Store one response and its answers exactly once; the caller commits on ``STORED``.

    A retry with the same ``submission_id`` and the same answers stores nothing and returns
    ``REPLAYED``; with other answers, ``CONFLICT``. A single-use invitation or slip answers once
    (``ALREADY_USED`` after that); a paper form number is keyed in once (``DUPLICATE_PAPER``).
    In a campaign whose quota policy is "stop", a full quota returns ``QUOTA_FULL``; the quota
    row is updated atomically, so racing submissions never push it past its target. Any outcome
    but ``STORED`` leaves the session rolled back, with nothing written. ``accept_over_quota``
    (paper forms already filled in) stores past a full quota, marked over quota, whatever the policy.
    """
    digest = answers_hash(rows)
    point_id = ctx.point.id if ctx.point is not None else None
    if ctx.invitation is not None and ctx.campaign.anonymous:
        # a fresh id, unrelated to the token the form (or its saved draft) carried; a second
        # submission is stopped by the invitation's claim instead
        submission_id = str(uuid.uuid4())
    known = _existing(s, submission_id, digest, point_id)
    if known is not None:
        return known
    if _paper_taken(s, ctx.campaign.id, paper_number):
        return Outcome.DUPLICATE_PAPER
    invitation = ctx.invitation
    response = Response(
        submission_id=submission_id,
        campaign_id=ctx.campaign.id,
        group_id=ctx.group.id,
        unit_id=ctx.unit.id,
        questionnaire_version_id=ctx.version.id,
        collection_point_id=point_id,
        channel=ctx.channel,
        answers_hash=digest,
        started_at=started_at,
        status=ResponseStatus.VALID,
        # Anonymous campaigns keep no link from a response to its invitation (README, "Anonymity").
        invitation_id=invitation.id if invitation is not None and not ctx.campaign.anonymous else None,
        paper_number=paper_number,
        entered_by_id=entered_by_id,
        flags=" ".join(flags or []),
        device_hash=device_hash,
        address_hash=address_hash,
        language=language,
    )
    try:
        s.add(response)
        s.flush()
    except IntegrityError:
        s.rollback()
        known = _existing(s, submission_id, digest, point_id)
        if known is not None:
            return known
        return Outcome.DUPLICATE_PAPER if _paper_taken(s, ctx.campaign.id, paper_number) else Outcome.CONFLICT

    if invitation is not None and not _claim_invitation(s, ctx):
        s.rollback()
        return Outcome.ALREADY_USED
    if ctx.slip is not None and not _claim(s, Slip, ctx.slip.id):
        s.rollback()
        return Outcome.ALREADY_USED
    if dossier is not None and not dossiers.claim(s, ctx.campaign, ctx.group, dossier):
        s.rollback()
        return Outcome.DOSSIER_USED

    stop = ctx.campaign.quota_full_policy == QuotaFullPolicy.STOP and not accept_over_quota
    # on the table, not the entity: counting a response is not a change to the quota's settings,
    # so the posters' memory (fast.py, which forgets on ORM updates of Quota) stays
    quota = Quota.__table__
    bump = (
        update(quota)
        .where(quota.c.group_id == ctx.group.id, quota.c.unit_id == ctx.unit.id)
        .values(received=quota.c.received + 1)
        .returning(quota.c.received, quota.c.target)
    )
    if stop:
        bump = bump.where(quota.c.received < quota.c.target)
    counted = s.execute(bump).first()
    if counted is None:
        has_quota = s.scalar(
            select(func.count()).select_from(Quota).where(Quota.group_id == ctx.group.id, Quota.unit_id == ctx.unit.id)
        )
        if has_quota and stop:
            s.rollback()
            _quota_filled()
            return Outcome.QUOTA_FULL
    else:
        response.over_quota = counted.received > counted.target
        if counted.received >= counted.target:
            _quota_filled()

    if rows:  # one statement for all answers: on the table, not the ORM entity, whose "bulk" insert
        # splits the rows into a statement per run of rows with the same values left NULL
        s.execute(
            insert(Answer.__table__),
            [
                {"response_id": response.id, "question_id": r.question_id, "subject_unit_id": r.subject_unit_id,
                 "value_code": r.value_code, "value_num": r.value_num, "value_text": r.value_text}
                for r in rows
            ],
        )  # fmt: skip
    if invitation is not None:
        key = anonymity.draft_key(ctx.campaign.id, invitation.id)
        s.execute(delete(InvitationDraft).where(InvitationDraft.draft_key == key))
    s.flush()
    return Outcome.STORED


def _claim_invitation(s: Session, ctx: FormContext) -> bool:
    """Take the invitation's one answer; False if it was answered (or revoked) already.

    Not anonymous: one conditional UPDATE of the invitation (racing submissions wait on its row
    lock). Anonymous: a claim keyed by a hash of the invitation, and the invitation row left
    untouched, so nothing written now can be joined to the person (surveyapp/anonymity.py);
    racing submissions wait on the claim's unique key."""
    invitation = ctx.invitation
    if not ctx.campaign.anonymous:
        return _claim(s, Invitation, invitation.id, Invitation.revoked.is_(False))
    if invitation.revoked or invitation.used:
        return False
    try:
        with s.begin_nested():
            s.execute(insert(InvitationClaim.__table__).values(
                hash=anonymity.claim_hash(ctx.campaign.id, invitation.id), group_id=ctx.group.id
            ))  # fmt: skip
    except IntegrityError:
        return False
    return True


def campaign_accepts(campaign: Campaign) -> str | None:
    """None if the campaign takes answers now, else the notice key saying why not."""
    if campaign.status == CampaignStatus.CLOSED:
        return "campaign_closed"
    if campaign.status == CampaignStatus.DRAFT:
        return "campaign_draft"
    return None


# -- counting ---------------------------------------------------------------------------------------
def _recent(s: Session, campaign_id: int, column, value: str | None, within: timedelta, cap: int) -> int:
    """How many responses to the campaign carry ``value`` in ``column`` within ``within``, counted
    up to ``cap`` only: one (column, campaign_id, submitted_at) index range, however busy the address."""
    if value is None:
        return 0
    since = datetime.now(UTC) - within
    found = (
        select(Response.id)
        .where(column == value, Response.submitted_at >= since, Response.campaign_id == campaign_id)
        .limit(cap)
        .subquery()
    )
    return s.scalar(select(func.count()).select_from(found))


def recent_from_address(s: Session, campaign_id: int, address: str | None, cap: int) -> int:
    """Responses sent to the campaign from this (hashed) address within ``quality.ADDRESS_WINDOW``, up to ``cap``."""
    return _recent(s, campaign_id, Response.address_hash, address, ADDRESS_WINDOW, cap)


def recent_from_device(s: Session, campaign_id: int, device: str | None, cap: int) -> int:
    """Responses this (hashed) device sent to the campaign within the last hour, up to ``cap``."""
    return _recent(s, campaign_id, Response.device_hash, device, timedelta(hours=1), cap)
