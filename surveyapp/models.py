"""The data model. Tables are few and plain so that progress and answer counts are single
SQL aggregates (see ``surveyapp/collect/services.py``)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Base


def utcnow() -> datetime:
    return datetime.now(UTC)


def _one_of(column: str, enum: type[StrEnum]) -> str:
    values = ", ".join(f"'{member.value}'" for member in enum)
    return f"{column} IN ({values})"


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class QuotaFullPolicy(StrEnum):
    STOP = "stop"  #: refuse further responses, with a kind message
    ACCEPT = "accept"  #: keep accepting, marking responses as over quota


class ScoredChannels(StrEnum):
    """Which counter-group answers the scores count (issue 20, part 3)."""

    ALL = "all"
    #: only answers given after leaving the counter (slips taken home): none under the officer's eyes
    LATER = "later"


class GroupMode(StrEnum):
    COUNTER = "counter"  #: a public QR poster at the unit's one-stop counter
    INVITATION = "invitation"  #: a personal link per named respondent
    PAPER = "paper"  #: paper forms keyed in by clerks


class CounterAccess(StrEnum):
    """How citizens of a counter group reach the form."""

    POSTER = "poster"  #: the open QR poster at the counter
    SLIPS = "slips"  #: only single-use slips handed out with each result
    BOTH = "both"


class Channel(StrEnum):
    COUNTER = "counter"
    SLIP = "slip"
    INVITATION = "invitation"
    PAPER = "paper"


class SendChannel(StrEnum):
    """How invitations and reminders reach people (surveyapp/messaging)."""

    EMAIL = "email"
    SMS = "sms"
    ZALO = "zalo"


class SendKind(StrEnum):
    INVITATION = "invitation"  #: the first message with the personal link
    REMINDER = "reminder"  #: sent only to people who have not answered


class MessageStatus(StrEnum):
    QUEUED = "queued"  #: waiting for a worker (or for its next try after a temporary failure)
    SENDING = "sending"  #: a worker handed it to the provider and has not heard back yet
    SENT = "sent"  #: the provider accepted it
    FAILED = "failed"  #: refused for good, or temporary failures ran out of tries; ``error`` says why
    #: the worker stopped while handing it over: it may or may not have gone, and is never resent by itself
    UNCERTAIN = "uncertain"
    BOUNCED = "bounced"  #: accepted, then returned by the recipient's server or the provider
    SKIPPED = "skipped"  #: not sent: the person answered or opted out before its turn came


class ResponseStatus(StrEnum):
    VALID = "valid"
    EXCLUDED = "excluded"


class Role(StrEnum):
    ADMIN = "admin"
    UNIT_OFFICER = "unit_officer"
    SCORER = "scorer"
    CLERK = "clerk"


TZ = DateTime(timezone=True)


class Unit(Base):
    """A unit being assessed or owning a campaign; a tree of any depth (province → commune, or
    province → district → commune for older campaigns)."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: free text from the unit list: xã, phường, thị trấn, đặc khu, huyện, tỉnh, sở …
    kind: Mapped[str] = mapped_column(String(32))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    #: procedures handled in the reference period; the sampling frame size
    frame_size: Mapped[int | None] = mapped_column(Integer)
    #: set when a reorganisation removes the unit; older campaigns keep pointing at it
    retired_at: Mapped[datetime | None] = mapped_column(TZ)
    #: the one-stop counter's opening hours, e.g. "07:30-11:30,13:30-17:00" (Monday to Friday)
    opening_hours: Mapped[str | None] = mapped_column(String(100))

    parent: Mapped[Unit | None] = relationship(remote_side=[id])

    __table_args__ = (CheckConstraint("frame_size IS NULL OR frame_size >= 0", name="frame_size_nonneg"),)


class QuestionnaireVersion(Base):
    """One version of a questionnaire definition, stored whole so old responses keep their form."""

    __tablename__ = "questionnaire_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    #: sha256 of the canonical content; a different hash under the same version is refused
    content_hash: Mapped[str] = mapped_column(String(64))
    #: the YAML text of the definition file
    source: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)

    __table_args__ = (
        UniqueConstraint("code", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
    )


class QuestionnaireDraft(Base):
    """A questionnaire being written in the builder; publishing it stores the next version.

    A draft is edited freely; published versions never change (answers keep the form they
    answered). One draft per questionnaire code at a time.
    """

    __tablename__ = "questionnaire_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the code it publishes under: a new questionnaire's, or the next version of one of the province's
    code: Mapped[str] = mapped_column(String(64), unique=True)
    #: the definition as YAML text, in the format of questionnaires/FORMAT.md
    source: Mapped[str] = mapped_column(Text)
    #: the version it was copied from, if any (shown in the library, used for "what changed")
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("questionnaire_version.id"))
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    based_on: Mapped[QuestionnaireVersion | None] = relationship()


class Campaign(Base):
    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the identifier people and scripts use (CLI arguments, URLs), e.g. "ninh-giang-2023"
    key: Mapped[str] = mapped_column(String(64), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300))
    scope_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    status: Mapped[str] = mapped_column(String(16), default=CampaignStatus.DRAFT)
    #: responses can never be linked back to a person or an invitation
    anonymous: Mapped[bool] = mapped_column(Boolean, default=True)
    quota_full_policy: Mapped[str] = mapped_column(String(16), default=QuotaFullPolicy.STOP)
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    #: the scoring rules (YAML, questionnaires/SCORING.md) that turn answers into index points
    scoring_rules: Mapped[str | None] = mapped_column(Text)
    #: the sampling plan last applied to the quotas (YAML, sampling/plan.py), shown again in the plan form
    sampling_plan: Mapped[str | None] = mapped_column(Text)
    #: data quality: a response faster than this many seconds per question is flagged "too fast"
    min_seconds_per_question: Mapped[float] = mapped_column(Float, default=2.0, server_default="2.0")
    #: data quality: more than this many responses from one device within an hour is a burst
    burst_limit: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    #: data quality: flag counter responses sent outside the unit's opening hours
    check_opening_hours: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    #: "all", or "later": the counter groups' answers given at the counter are left out of the scores
    scored_channels: Mapped[str] = mapped_column(String(16), default=ScoredChannels.ALL, server_default="all")
    #: the authority the citizen form names at its top ("UBND tỉnh … · Sở Nội vụ"); the scope unit by default
    issuer: Mapped[str | None] = mapped_column(String(300))
    #: an optional small emblem (PNG, JPEG or WebP, a few KB) shown beside the issuer
    emblem: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    emblem_type: Mapped[str | None] = mapped_column(String(32))
    #: the first 16 hex digits of the emblem's sha256: its address changes when it does (cached for a year)
    emblem_hash: Mapped[str | None] = mapped_column(String(16))
    #: the random key of the dossier codes' hashes (surveyapp/collect/dossier.py), made at the first
    #: use; destroyed (NULL) after the campaign closes, so no stored hash can be matched any more
    dossier_key: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    dossier_key_destroyed_at: Mapped[datetime | None] = mapped_column(TZ)
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)

    scope_unit: Mapped[Unit] = relationship()
    groups: Mapped[list[RespondentGroup]] = relationship(back_populates="campaign", order_by="RespondentGroup.position")

    @property
    def issuer_text(self) -> str:
        """The authority the citizen form names: as configured, else the campaign's scope unit."""
        return self.issuer or self.scope_unit.name

    __table_args__ = (
        CheckConstraint(_one_of("status", CampaignStatus), name="status"),
        CheckConstraint(_one_of("quota_full_policy", QuotaFullPolicy), name="quota_full_policy"),
        CheckConstraint("starts_on IS NULL OR ends_on IS NULL OR starts_on <= ends_on", name="dates_ordered"),
    )

    @property
    def is_open(self) -> bool:
        return self.status == CampaignStatus.OPEN


class RulesVersion(Base):
    """One saved version of a campaign's scoring rules; the campaign's ``scoring_rules`` is the last."""

    __tablename__ = "rules_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    #: the rules as YAML text (questionnaires/SCORING.md)
    source: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    __table_args__ = (UniqueConstraint("campaign_id", "number"), CheckConstraint("number >= 1", name="number_positive"))


class RespondentGroup(Base):
    """A group of respondents in a campaign (citizens at the counter, HĐND delegates …)."""

    __tablename__ = "respondent_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_version.id"))
    mode: Mapped[str] = mapped_column(String(16))
    #: for counter groups: poster, single-use slips, or both
    counter_access: Mapped[str] = mapped_column(String(16), default=CounterAccess.POSTER, server_default="poster")
    #: the form asks the dossier code of the receipt, and takes one answer per dossier
    asks_dossier: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    campaign: Mapped[Campaign] = relationship(back_populates="groups")
    questionnaire_version: Mapped[QuestionnaireVersion] = relationship()
    #: invited groups: reminders sent by themselves this many days after a person's invitation went ("3,7")
    reminder_after_days: Mapped[str] = mapped_column(String(40), default="", server_default="")
    #: … and this many days before the campaign ends (None: not)
    reminder_before_end_days: Mapped[int | None] = mapped_column(Integer)
    #: the units this group rates in rate_units questions
    rated_units: Mapped[list[Unit]] = relationship(secondary="group_rated_unit", order_by="Unit.code")

    __table_args__ = (
        UniqueConstraint("campaign_id", "code"),
        CheckConstraint(_one_of("mode", GroupMode), name="mode"),
        CheckConstraint(_one_of("counter_access", CounterAccess), name="counter_access"),
    )


class GroupRatedUnit(Base):
    __tablename__ = "group_rated_unit"

    group_id: Mapped[int] = mapped_column(ForeignKey("respondent_group.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)


class Quota(Base):
    """How many responses a group should give in a unit."""

    __tablename__ = "quota"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("respondent_group.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    target: Mapped[int] = mapped_column(Integer)
    #: responses accepted so far, kept by one atomic UPDATE per submission so a full quota in
    #: stop mode is never exceeded, even by submissions racing for the last place
    received: Mapped[int] = mapped_column(Integer, default=0)

    group: Mapped[RespondentGroup] = relationship()
    unit: Mapped[Unit] = relationship()

    __table_args__ = (
        UniqueConstraint("group_id", "unit_id"),
        CheckConstraint("target >= 0", name="target_nonneg"),
        CheckConstraint("received >= 0", name="received_nonneg"),
    )


class CollectionPoint(Base):
    """Where a public group answers: one per unit × public group, printed as a QR poster."""

    __tablename__ = "collection_point"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("respondent_group.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    #: the unguessable part of the form URL (/f/<code>)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)

    group: Mapped[RespondentGroup] = relationship()
    unit: Mapped[Unit] = relationship()

    __table_args__ = (UniqueConstraint("group_id", "unit_id"),)


class Kiosk(Base):
    """A shared tablet on a counter's desk answering for one collection point (/k/<code>): paired
    by a one-time code an officer shows on their screen, revoked by the officer. It holds only
    its pacing state (when it last sent, how fast lately), never which responses it sent."""

    __tablename__ = "kiosk"

    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("collection_point.id", ondelete="CASCADE"), index=True)
    #: sha256 of the six-digit pairing code while it waits for the tablet; cleared once paired
    pairing_hash: Mapped[str | None] = mapped_column(String(64))
    pairing_expires_at: Mapped[datetime | None] = mapped_column(TZ)
    #: sha256 of the secret in the tablet's cookie, once paired
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    paired_at: Mapped[datetime | None] = mapped_column(TZ)
    revoked_at: Mapped[datetime | None] = mapped_column(TZ)
    #: pacing: the last accepted submission, and a level that rises by one a submission and falls
    #: by one every ``KIOSK_PACE_SECONDS`` (a burst when it passes ``KIOSK_BURST``)
    last_submitted_at: Mapped[datetime | None] = mapped_column(TZ)
    pace_level: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")

    point: Mapped[CollectionPoint] = relationship()


class Response(Base):
    """One submitted questionnaire (a phiếu)."""

    __tablename__ = "response"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    #: made when the form is first shown; a retry with the same id stores nothing twice
    submission_id: Mapped[str] = mapped_column(String(36), unique=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("respondent_group.id", ondelete="CASCADE"))
    #: the unit the respondent is counted for (the collection point's unit)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_version.id"))
    collection_point_id: Mapped[int | None] = mapped_column(ForeignKey("collection_point.id"))
    channel: Mapped[str] = mapped_column(String(16))
    #: sha256 of the canonical answers, to tell a retry from a different submission
    answers_hash: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime | None] = mapped_column(TZ)
    submitted_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default=ResponseStatus.VALID)
    #: accepted after the quota was full (campaigns whose policy is "accept")
    over_quota: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the invitation answered, only in campaigns that are not anonymous (see README, "Anonymity")
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitation.id", ondelete="SET NULL"))
    #: the number printed on a paper form keyed in by a clerk; unique within a campaign
    paper_number: Mapped[str | None] = mapped_column(String(32))
    #: the clerk who keyed in a paper form
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    #: data-quality flags computed at submit, space-separated: too_fast straight_lining burst off_hours
    flags: Mapped[str] = mapped_column(String(100), default="", server_default="")
    #: salted hash of the device cookie, to see bursts from one phone; never the raw cookie or address
    device_hash: Mapped[str | None] = mapped_column(String(64))
    #: salted hash of the sender's network address, to see bursts behind one address; never the address
    address_hash: Mapped[str | None] = mapped_column(String(64))
    #: the language the respondent answered in (the questionnaire's languages; "vi" by default)
    language: Mapped[str] = mapped_column(String(16), default="vi", server_default="vi")
    #: a one-tap rating the citizen went on to complete ("tell us more", issue 22): its further
    #: answers were added, once (the flag is the gate two racing posts go through)
    more_added: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    #: why an administrator excluded or kept a flagged response
    review_note: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None] = mapped_column(TZ)

    answers: Mapped[list[Answer]] = relationship(back_populates="response", cascade="all, delete-orphan")
    questionnaire_version: Mapped[QuestionnaireVersion] = relationship()

    __table_args__ = (
        CheckConstraint(_one_of("channel", Channel), name="channel"),
        CheckConstraint(_one_of("status", ResponseStatus), name="status"),
        CheckConstraint("(channel = 'paper') = (paper_number IS NOT NULL)", name="paper_number"),
        Index("ix_response_campaign_group_unit", "campaign_id", "group_id", "unit_id"),
        # the burst flags count a phone's or an address's recent responses at every submission
        Index("ix_response_device_recent", "device_hash", "campaign_id", "submitted_at"),
        Index("ix_response_address_recent", "address_hash", "campaign_id", "submitted_at"),
        UniqueConstraint("campaign_id", "paper_number"),
    )


class Answer(Base):
    """One answer: one row per chosen option, level, number or text, so counts are one GROUP BY."""

    __tablename__ = "answer"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[str] = mapped_column(String(64))
    #: the unit this answer is about: the rated unit for rate_units items, else the response's unit
    subject_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    #: option code (single, multiple, yes/no)
    value_code: Mapped[str | None] = mapped_column(String(64))
    #: scale level or number
    value_num: Mapped[float | None] = mapped_column(Float)
    value_text: Mapped[str | None] = mapped_column(Text)

    response: Mapped[Response] = relationship(back_populates="answers")

    __table_args__ = (
        CheckConstraint("value_code IS NOT NULL OR value_num IS NOT NULL OR value_text IS NOT NULL", name="has_value"),
        Index("ix_answer_question_subject", "question_id", "subject_unit_id"),
    )


class User(Base):
    """A staff account (Home Affairs, commune officers, scorers, clerks). Citizens have none."""

    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    #: for unit officers: the one unit they may see
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    #: raised on logout and on every password change: every session cookie issued before stops working
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (CheckConstraint(_one_of("role", Role), name="role"),)

    def set_password(self, password: str) -> None:
        """A new password, and every session of the account signed out."""
        from werkzeug.security import generate_password_hash

        self.password_hash = generate_password_hash(password)
        self.end_sessions()

    def end_sessions(self) -> None:
        self.session_version = (self.session_version or 0) + 1


class FrameDraw(Base):
    """A random draw from a unit's frame, recorded so it can be shown and reproduced.

    Only record ids are kept: contacts stay in the file handed in and in the interviewers' export.
    """

    __tablename__ = "frame_draw"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("respondent_group.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    method: Mapped[str] = mapped_column(String(16))
    seed: Mapped[int] = mapped_column(BigInteger)
    #: sha256 of the frame file as handed in: the same file and seed give the same people
    frame_sha256: Mapped[str] = mapped_column(String(64))
    frame_size: Mapped[int] = mapped_column(Integer)
    sample_size: Mapped[int] = mapped_column(Integer)
    reserve_size: Mapped[int] = mapped_column(Integer)
    #: JSON list of the selected record ids, in draw order
    selected_ids: Mapped[str] = mapped_column(Text)
    #: JSON list of the reserve record ids, in the order they are to be used
    reserve_ids: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)

    __table_args__ = (
        CheckConstraint("method IN ('simple', 'systematic')", name="method"),
        CheckConstraint("sample_size >= 0 AND reserve_size >= 0 AND frame_size >= 1", name="sizes"),
    )


class Invitation(Base):
    """A named respondent's personal, single-use link (delegates, leaders, civil servants)."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("respondent_group.id", ondelete="CASCADE"), index=True)
    #: the unit the person belongs to; their response counts for this unit's quota
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    full_name: Mapped[str] = mapped_column(String(200))
    position: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    #: the unguessable part of the personal link (/i/<code>); replaced when the link is reissued
    code: Mapped[str] = mapped_column(String(40), unique=True)
    #: set once a response was accepted in a campaign that is not anonymous; an anonymous campaign
    #: leaves this row untouched and records a claim instead (surveyapp/anonymity.py)
    used: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the person asked for no more messages (the link in every e-mail); reminders skip them
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)

    group: Mapped[RespondentGroup] = relationship()
    unit: Mapped[Unit] = relationship()

    #: whether the person answered, set by invitations.services.group_invitations (not a column)
    answered = False


class InvitationClaim(Base):
    """An anonymous invitation's answer was stored: its hash with the campaign's key (never the
    invitation's id) stops a second answer; see surveyapp/anonymity.py."""

    __tablename__ = "invitation_claim"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("respondent_group.id", ondelete="CASCADE"), index=True)


class DossierClaim(Base):
    """A dossier (mã hồ sơ) has been answered for: only the HMAC of its code under the campaign's
    random dossier key, whose uniqueness stops a second answer; see surveyapp/collect/dossier.py."""

    __tablename__ = "dossier_claim"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("respondent_group.id", ondelete="CASCADE"), index=True)


class InvitationDraft(Base):
    """Answers saved part-way through a long form; deleted when the response is submitted.

    Keyed by ``anonymity.draft_key`` (a keyed hash of the invitation), never by the invitation itself."""

    __tablename__ = "invitation_draft"

    draft_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: the submission id the form was shown with, so a resumed form submits idempotently
    submission_token: Mapped[str] = mapped_column(String(200))
    #: JSON object: form field name -> list of values
    data: Mapped[str] = mapped_column(Text)
    saved_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)


class InvitationOpen(Base):
    """A personal link was followed: ``HMAC(campaign key, "open:" + invitation id)``, written once
    when the form is first shown, keyed like a claim so that a database reader cannot tell whose."""

    __tablename__ = "invitation_open"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("respondent_group.id", ondelete="CASCADE"), index=True)


class ExportFile(Base):
    """A heavy export made by the worker (the national workbook, a group's full CSV): its progress,
    then the file itself until it expires (surveyapp/results/exports.py)."""

    __tablename__ = "export_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    #: "workbook" or "csv"
    kind: Mapped[str] = mapped_column(String(16))
    #: the group of a CSV ("" for the workbook)
    group_code: Mapped[str] = mapped_column(String(40), default="", server_default="")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    #: queued, running, done or failed
    status: Mapped[str] = mapped_column(String(16), default="queued")
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    filename: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    size: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(TZ)

    __table_args__ = (
        CheckConstraint("kind IN ('workbook', 'csv')", name="kind"),
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status"),
    )


class MessageSend(Base):
    """One sending of invitations or reminders to people of a group over one channel: its messages
    are sent by a worker (surveyapp/messaging/work.py), never by the web request."""

    __tablename__ = "message_send"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("respondent_group.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16), default=SendKind.INVITATION)
    #: the template as written by the office ({họ tên}, {đường dẫn} …); each message is rendered from it
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    #: a scheduled reminder's step ("after-3", "before-2"); None for a send an officer started
    step: Mapped[str | None] = mapped_column(String(16))
    #: set when no message is left queued or being sent
    finished_at: Mapped[datetime | None] = mapped_column(TZ)

    group: Mapped[RespondentGroup] = relationship()

    __table_args__ = (
        CheckConstraint(_one_of("channel", SendChannel), name="channel"),
        CheckConstraint(_one_of("kind", SendKind), name="kind"),
    )


class Message(Base):
    """One person's message of a send. The unique (send, invitation) pair and the conditional
    claim (queued → sending) make it go out at most once, whatever the workers do."""

    __tablename__ = "message"

    id: Mapped[int] = mapped_column(primary_key=True)
    send_id: Mapped[int] = mapped_column(ForeignKey("message_send.id", ondelete="CASCADE"))
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitation.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=MessageStatus.QUEUED)
    #: the address or number it goes to, as it was when queued
    recipient: Mapped[str] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: a temporarily failed message waits until then before its next try
    next_try_at: Mapped[datetime | None] = mapped_column(TZ)
    #: which worker (host:pid) took it, and when: a stopped worker's messages become uncertain
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None] = mapped_column(TZ)
    #: the provider's id of the message (SMTP Message-ID, eSMS SMSID, Zalo msg_id)
    provider_id: Mapped[str | None] = mapped_column(String(200))
    #: why it failed or bounced, in Vietnamese (with the provider's own words)
    error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(TZ)
    #: when the provider reported it reached the phone (eSMS, Zalo delivery reports)
    delivered_at: Mapped[datetime | None] = mapped_column(TZ)

    send: Mapped[MessageSend] = relationship()
    invitation: Mapped[Invitation] = relationship()

    __table_args__ = (
        UniqueConstraint("send_id", "invitation_id"),
        CheckConstraint(_one_of("status", MessageStatus), name="status"),
        Index("ix_message_send_status", "send_id", "status"),
    )


class Slip(Base):
    """A single-use QR slip a commune hands out with a result; its code works once."""

    __tablename__ = "slip"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("respondent_group.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    code: Mapped[str] = mapped_column(String(40), unique=True)
    #: printing batch number within the unit and group, shown on the slip
    batch: Mapped[int] = mapped_column(Integer, default=1)
    used: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)

    unit: Mapped[Unit] = relationship()
    group: Mapped[RespondentGroup] = relationship()


class AuditEvent(Base):
    """Who changed what: campaigns, quotas, accounts, invitations and responses' status."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(TZ, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    #: e.g. "campaign.plan_applied", "response.excluded", "user.created"
    action: Mapped[str] = mapped_column(String(64))
    #: what was changed, e.g. "campaign:ninh-giang-2023", "response:123", "user:admin"
    target: Mapped[str] = mapped_column(String(200))
    #: JSON details (never passwords, tokens or raw answers)
    details: Mapped[str] = mapped_column(Text, default="{}")

    user: Mapped[User | None] = relationship()


class LoginFailure(Base):
    """A failed sign-in, kept for a while to slow down password guessing."""

    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    #: salted hash of the client address (never the address itself)
    address_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(TZ, default=utcnow)


class ApiToken(Base):
    """A token for the read-only JSON API; only its hash is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)


#: what people call the text columns they type into, for "too long" messages
FIELD_NAMES = {
    "code": "mã", "name": "tên", "kind": "loại", "parent_code": "mã đơn vị cha", "opening_hours": "giờ làm việc",
    "full_name": "họ tên", "position": "chức vụ", "phone": "điện thoại", "email": "email", "username": "tên đăng nhập",
    "key": "mã đợt",
}  # fmt: skip


def too_long(model: type[Base], sentences: bool = False, **values: str | None) -> list[str]:
    """A Vietnamese line for each value longer than its column of ``model`` holds: the one place
    where typed lengths meet the schema (a value past a PostgreSQL ``varchar(n)`` is a server error).

    >>> too_long(Unit, name="x" * 201, kind="xã")
    ['tên dài 201 ký tự, tối đa 200']
    """
    out = []
    for attr, value in values.items():
        column = model.__table__.columns.get(attr)
        limit = getattr(column.type, "length", None) if column is not None else None
        if value and limit and len(value) > limit:
            out.append(f"{FIELD_NAMES.get(attr, attr)} dài {len(value)} ký tự, tối đa {limit}")
    return [f"{line[0].upper()}{line[1:]}." for line in out] if sentences else out
