"""Setting up a campaign: create, add groups from the catalogue, check readiness, open and close,
and copy last year's campaign onto this year's unit tree. Functions flush; the caller commits."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from questionnaires import BUILTIN_DIR, QuestionType
from questionnaires.scoring import RulesError, load_rules_text

from ..audit import record
from ..campaigns.services import ensure_collection_points, store_questionnaire_file
from ..collect.services import questionnaire_of
from ..models import (
    Campaign,
    CampaignStatus,
    GroupMode,
    Invitation,
    QuestionnaireVersion,
    Quota,
    QuotaFullPolicy,
    RespondentGroup,
    RulesVersion,
    Unit,
    too_long,
)
from ..tree import descendants

KEY = re.compile(r"^[a-z0-9][a-z0-9-]{2,62}$")


@dataclass(frozen=True)
class CatalogueGroup:
    code: str
    name: str
    questionnaire: str
    mode: str


CATALOGUE = [
    CatalogueGroup("citizen", "Người dân, tổ chức tại Bộ phận một cửa", "citizen_counter", GroupMode.COUNTER),
    CatalogueGroup("hdnd", "Đại biểu HĐND", "council_delegate", GroupMode.INVITATION),
    CatalogueGroup("ubnd", "Lãnh đạo UBND", "leader", GroupMode.INVITATION),
    CatalogueGroup("mttq", "Lãnh đạo Ủy ban MTTQ", "leader", GroupMode.INVITATION),
    CatalogueGroup("dept", "Lãnh đạo các cơ quan chuyên môn", "leader", GroupMode.INVITATION),
    CatalogueGroup("civil", "Cán bộ, công chức, viên chức", "civil_servant", GroupMode.INVITATION),
]


class SetupError(ValueError):
    pass


def builtin_versions(s: Session) -> list[QuestionnaireVersion]:
    """Every shipped questionnaire stored (so it can be chosen), then every version stored."""
    for path in sorted(BUILTIN_DIR.glob("*.yaml")):
        store_questionnaire_file(s, path)
    return list(
        s.scalars(select(QuestionnaireVersion).order_by(QuestionnaireVersion.code, QuestionnaireVersion.version))
    )


def create_campaign(
    s: Session, *, key: str, year: int, name: str, scope: Unit, starts_on: date | None, ends_on: date | None,
    anonymous: bool = True, quota_full_policy: str = QuotaFullPolicy.STOP,
) -> Campaign:  # fmt: skip
    problems = []
    if not KEY.match(key or ""):
        problems.append("Mã đợt 3–63 ký tự: chữ thường không dấu, số và dấu gạch ngang (ví dụ hon-quan-2024).")
    elif s.scalar(select(Campaign.id).where(Campaign.key == key)):
        problems.append(f"Mã đợt “{key}” đã có.")
    if not name.strip():
        problems.append("Vui lòng nhập tên đợt khảo sát.")
    if too_long(Campaign, name=name.strip()):
        problems.append(f"Tên đợt khảo sát dài {len(name.strip())} ký tự, tối đa 300.")
    if not 2000 <= year <= 2100:
        problems.append("Năm không hợp lệ.")
    if scope.retired_at is not None:
        problems.append(f"Đơn vị “{scope.name}” đã giải thể, không chọn làm phạm vi được.")
    if starts_on and ends_on and starts_on > ends_on:
        problems.append("Ngày bắt đầu phải trước ngày kết thúc.")
    if quota_full_policy not in set(QuotaFullPolicy):
        problems.append("Cách xử lý khi đủ chỉ tiêu không hợp lệ.")
    if problems:
        raise SetupError("\n".join(problems))
    campaign = Campaign(
        key=key, year=year, name=name.strip(), scope_unit=scope, starts_on=starts_on, ends_on=ends_on,
        anonymous=anonymous, quota_full_policy=quota_full_policy, status=CampaignStatus.DRAFT,
    )  # fmt: skip
    s.add(campaign)
    s.flush()
    record(s, "campaign.created", f"campaign:{key}", year=year, scope=scope.code)
    return campaign


def add_group(
    s: Session, campaign: Campaign, *, code: str, name: str, version: QuestionnaireVersion, mode: str,
    rated_units: list[Unit] | None = None,
) -> RespondentGroup:  # fmt: skip
    if not re.match(r"^[a-z][a-z0-9_]{1,31}$", code or ""):
        raise SetupError("Mã nhóm 2–32 ký tự: chữ thường không dấu, số, dấu gạch dưới, bắt đầu bằng chữ.")
    if any(g.code == code for g in campaign.groups):
        raise SetupError(f"Nhóm “{code}” đã có trong đợt này.")
    if mode not in set(GroupMode):
        raise SetupError("Hình thức trả lời không hợp lệ.")
    if not name.strip():
        raise SetupError("Vui lòng nhập tên nhóm.")
    if too_long(RespondentGroup, name=name.strip()):
        raise SetupError(f"Tên nhóm dài {len(name.strip())} ký tự, tối đa 200.")
    group = RespondentGroup(campaign_id=campaign.id, code=code, name=name.strip(), position=len(campaign.groups),
                            questionnaire_version_id=version.id, mode=mode)  # fmt: skip
    group.rated_units = list(rated_units or [])
    s.add(group)
    s.flush()
    s.refresh(campaign)
    questionnaire = f"{version.code} v{version.version}"
    record(s, "campaign.group_added", f"campaign:{campaign.key}", group=code, questionnaire=questionnaire, mode=mode,
           rated=len(group.rated_units))  # fmt: skip
    return group


def units_of_kinds(s: Session, campaign: Campaign, kinds: list[str]) -> list[Unit]:
    return [u for u in descendants(s, campaign.scope_unit_id) if u.kind in kinds]


def readiness(s: Session, campaign: Campaign, today: date | None = None) -> list[str]:
    """What is missing before the campaign can open, in plain Vietnamese (empty: ready)."""
    today = today or date.today()
    problems = []
    if not campaign.groups:
        problems.append("Chưa có nhóm đối tượng nào.")
    if campaign.starts_on is None or campaign.ends_on is None:
        problems.append("Chưa có ngày bắt đầu và ngày kết thúc.")
    elif campaign.starts_on > campaign.ends_on:
        problems.append("Ngày bắt đầu sau ngày kết thúc.")
    elif campaign.ends_on < today:
        problems.append(f"Ngày kết thúc ({campaign.ends_on:%d/%m/%Y}) đã qua.")
    quotas = dict(
        s.execute(select(Quota.group_id, func.sum(Quota.target)).join(RespondentGroup)
                  .where(RespondentGroup.campaign_id == campaign.id).group_by(Quota.group_id)).all()
    )  # fmt: skip
    invited = dict(
        s.execute(select(Invitation.group_id, func.count()).join(RespondentGroup)
                  .where(RespondentGroup.campaign_id == campaign.id).group_by(Invitation.group_id)).all()
    )  # fmt: skip
    for g in campaign.groups:
        questionnaire = questionnaire_of(g.questionnaire_version) if g.questionnaire_version else None
        if questionnaire is None:
            problems.append(f"Nhóm “{g.name}” chưa có phiếu hỏi.")
            continue
        if g.mode == GroupMode.COUNTER and not quotas.get(g.id):
            problems.append(f"Nhóm “{g.name}” (quét mã QR tại quầy) chưa có chỉ tiêu phiếu cho đơn vị nào.")
        if g.mode == GroupMode.INVITATION and not invited.get(g.id):
            problems.append(f"Nhóm “{g.name}” (mời cá nhân) chưa có danh sách người được mời.")
        if any(q.type is QuestionType.RATE_UNITS for q in questionnaire.top_questions()) and not g.rated_units:
            problems.append(f"Nhóm “{g.name}” có phiếu đánh giá từng đơn vị nhưng chưa chọn đơn vị được đánh giá.")
    if campaign.scoring_rules:
        try:
            load_rules_text(
                campaign.scoring_rules, {g.code: questionnaire_of(g.questionnaire_version) for g in campaign.groups}
            )
        except RulesError as exc:
            problems.append("Quy tắc tính điểm có lỗi: " + "; ".join(exc.problems))
    return problems


def open_campaign(s: Session, campaign: Campaign) -> None:
    problems = readiness(s, campaign)
    if problems:
        raise SetupError("\n".join(problems))
    for g in campaign.groups:
        if g.mode == GroupMode.COUNTER:
            units = list(s.scalars(select(Unit).join(Quota, Quota.unit_id == Unit.id).where(Quota.group_id == g.id)))
            ensure_collection_points(s, g, units)
    before = campaign.status
    campaign.status = CampaignStatus.OPEN
    record(s, "campaign.reopened" if before == CampaignStatus.CLOSED else "campaign.opened", f"campaign:{campaign.key}")


def close_campaign(s: Session, campaign: Campaign) -> None:
    if campaign.status != CampaignStatus.OPEN:
        raise SetupError("Chỉ đóng được đợt đang mở.")
    campaign.status = CampaignStatus.CLOSED
    record(s, "campaign.closed", f"campaign:{campaign.key}")


def set_rules(s: Session, campaign: Campaign, text: str, user_id: int | None = None) -> RulesVersion | None:
    """Check and store new rules as the campaign's next rules version (None when unchanged); the
    audit log keeps the text before and after."""
    load_rules_text(text, {g.code: questionnaire_of(g.questionnaire_version) for g in campaign.groups},
                    "quy tắc tính điểm")  # fmt: skip
    before = campaign.scoring_rules
    if before == text:
        return None
    latest = rules_versions(s, campaign)
    if not latest and before:  # rules set before versions were kept: they become version 1
        s.add(RulesVersion(campaign_id=campaign.id, number=1, source=before, created_at=campaign.created_at))
        s.flush()
        latest = rules_versions(s, campaign)
    row = RulesVersion(campaign_id=campaign.id, number=(latest[0].number if latest else 0) + 1, source=text,
                       created_by_id=user_id)  # fmt: skip
    s.add(row)
    campaign.scoring_rules = text
    s.flush()
    record(s, "campaign.rules_changed", f"campaign:{campaign.key}", version=row.number, before=before or "",
           after=text)  # fmt: skip
    return row


def rules_versions(s: Session, campaign: Campaign) -> list[RulesVersion]:
    """The campaign's saved rules versions, newest first."""
    return list(
        s.scalars(
            select(RulesVersion).where(RulesVersion.campaign_id == campaign.id).order_by(RulesVersion.number.desc())
        )
    )


def current_rules_label(s: Session, campaign: Campaign) -> str:
    """Which rules produced the scores, as the results page and the workbook say it."""
    if not campaign.scoring_rules:
        return ""
    versions = rules_versions(s, campaign)
    if not versions:
        return "Quy tắc tính điểm phiên bản 1"
    from ..web import vn_datetime

    return f"Quy tắc tính điểm phiên bản {versions[0].number}, lưu lúc {vn_datetime(versions[0].created_at)}"


@dataclass
class CopyReport:
    campaign: Campaign
    retired: list[tuple[str, str]] = field(default_factory=list)  #: units of last year that are gone
    new: list[tuple[str, str]] = field(default_factory=list)  #: units that did not exist last year


def copy_campaign(s: Session, source: Campaign, *, key: str, year: int, name: str,
                  starts_on: date | None = None, ends_on: date | None = None) -> CopyReport:  # fmt: skip
    """A new draft with the source's groups, questionnaires and quotas, on today's unit tree.

    Units the source used (quotas, units rated) that are now retired are left out and reported;
    active units of the same kinds that the source did not have are added, with the group's
    most common quota, and reported.
    """
    quotas = list(s.scalars(select(Quota).join(RespondentGroup).where(RespondentGroup.campaign_id == source.id)))
    used = {q.unit for q in quotas if q.unit_id != source.scope_unit_id}
    for g in source.groups:
        used.update(g.rated_units)
    kinds = {u.kind for u in used}
    current = [u for u in descendants(s, source.scope_unit_id) if u.kind in kinds]
    current_ids = {u.id for u in current}
    used_ids = {u.id for u in used}
    report = CopyReport(
        campaign=create_campaign(
            s,
            key=key,
            year=year,
            name=name,
            scope=source.scope_unit,
            starts_on=starts_on,
            ends_on=ends_on,
            anonymous=source.anonymous,
            quota_full_policy=source.quota_full_policy,
        ),  # fmt: skip
        retired=sorted((u.code, u.name) for u in used if u.id not in current_ids),
        new=sorted((u.code, u.name) for u in current if u.id not in used_ids),
    )
    target = report.campaign
    target.scoring_rules = source.scoring_rules
    target.min_seconds_per_question = source.min_seconds_per_question
    target.burst_limit = source.burst_limit
    target.check_opening_hours = source.check_opening_hours
    target.scored_channels = source.scored_channels
    new_units = [u for u in current if u.id not in used_ids]
    for g in source.groups:
        rated_kinds = {r.kind for r in g.rated_units}
        rated_all = bool(g.rated_units) and {u.id for u in g.rated_units} >= {
            u.id for u in used if u.kind in rated_kinds
        }
        rated = [u for u in current if u.kind in {r.kind for r in g.rated_units}] if rated_all else [
            u for u in g.rated_units if u.id in current_ids]  # fmt: skip
        copy = add_group(s, target, code=g.code, name=g.name, version=g.questionnaire_version, mode=g.mode,
                         rated_units=rated)  # fmt: skip
        copy.counter_access = g.counter_access
        own = [q for q in quotas if q.group_id == g.id]
        for q in own:
            if q.unit_id == source.scope_unit_id or q.unit_id in current_ids:
                s.add(Quota(group_id=copy.id, unit_id=q.unit_id, target=q.target, received=0))
        by_kind = Counter((q.unit.kind, q.target) for q in own if q.unit_id != source.scope_unit_id)
        for u in new_units:
            targets = [(n, t) for (k, t), n in by_kind.items() if k == u.kind]
            if targets:
                s.add(Quota(group_id=copy.id, unit_id=u.id, target=max(targets)[1], received=0))
    s.flush()
    record(s, "campaign.copied", f"campaign:{key}", source=source.key, retired=[c for c, _ in report.retired],
           new=[c for c, _ in report.new])  # fmt: skip
    return report
