"""The questionnaire library: built-in and the province's own questionnaires, their versions,
drafts, publishing, and which version a group answers. Functions flush; the caller commits."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from questionnaires import BUILTIN_DIR, DefinitionError, DefinitionProblem, Questionnaire, load_text
from questionnaires import editing as ed
from questionnaires.diff import Change, compare
from questionnaires.scoring import RulesError, load_rules_text

from ..audit import record
from ..campaigns.services import VersionConflict, store_questionnaire
from ..collect.services import questionnaire_of
from ..models import (
    Campaign,
    CampaignStatus,
    QuestionnaireDraft,
    QuestionnaireVersion,
    RespondentGroup,
    Response,
    utcnow,
)


class AuthoringError(ValueError):
    """A request the library refuses; ``problems`` are Vietnamese lines to show."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


def builtin_codes() -> set[str]:
    """Codes of the questionnaires we ship (each file is named after its code); read-only."""
    return {path.stem for path in BUILTIN_DIR.glob("*.yaml")}


def store_builtins(s: Session) -> None:
    from ..campaigns.services import store_questionnaire_file

    for path in sorted(BUILTIN_DIR.glob("*.yaml")):
        store_questionnaire_file(s, path)


@dataclass
class VersionEntry:
    row: QuestionnaireVersion
    answers: int = 0
    uses: list[tuple[Campaign, RespondentGroup]] = field(default_factory=list)


@dataclass
class LibraryEntry:
    code: str
    title: str
    builtin: bool
    versions: list[VersionEntry]  #: newest first
    draft: QuestionnaireDraft | None = None

    @property
    def latest(self) -> VersionEntry | None:
        return self.versions[0] if self.versions else None


def answer_counts_by_version(s: Session) -> dict[int, int]:
    """How many responses answered each questionnaire version (one GROUP BY)."""
    query = select(Response.questionnaire_version_id, func.count()).group_by(Response.questionnaire_version_id)
    return {version_id: n for version_id, n in s.execute(query)}


def library(s: Session) -> list[LibraryEntry]:
    """Every questionnaire code with its versions, how many answers each has and who uses it:
    three queries whatever the size of the library."""
    answers = answer_counts_by_version(s)
    uses: dict[int, list] = defaultdict(list)
    for group, campaign in s.execute(
        select(RespondentGroup, Campaign)
        .join(Campaign)
        .order_by(Campaign.year.desc(), Campaign.key, RespondentGroup.position)
    ):
        uses[group.questionnaire_version_id].append((campaign, group))
    drafts = {d.code: d for d in s.scalars(select(QuestionnaireDraft))}
    builtins = builtin_codes()
    by_code: dict[str, list[VersionEntry]] = defaultdict(list)
    for row in s.scalars(
        select(QuestionnaireVersion).order_by(QuestionnaireVersion.code, QuestionnaireVersion.version.desc())
    ):
        by_code[row.code].append(VersionEntry(row, answers.get(row.id, 0), uses.get(row.id, [])))
    entries = [
        LibraryEntry(code, versions[0].row.title, code in builtins, versions, drafts.pop(code, None))
        for code, versions in by_code.items()
    ]
    entries += [LibraryEntry(d.code, draft_title(d), False, [], d) for d in drafts.values()]
    # the province's own first (what an office works on), then the built-ins
    return sorted(entries, key=lambda e: (e.builtin, e.title.lower()))


def draft_title(draft: QuestionnaireDraft) -> str:
    return str(ed.load_document(draft.source).get("title") or draft.code)


def taken_codes(s: Session) -> set[str]:
    return (
        set(s.scalars(select(QuestionnaireVersion.code)))
        | set(s.scalars(select(QuestionnaireDraft.code)))
        | (builtin_codes())
    )


def _new_code(s: Session, base: str) -> str:
    return ed.unique(ed.slug(base, "phieu")[:50], taken_codes(s))


def new_draft(s: Session, title: str, user_id: int | None) -> QuestionnaireDraft:
    title = title.strip()
    if not title:
        raise AuthoringError("Vui lòng nhập tên phiếu.")
    if len(title) > 300:
        raise AuthoringError("Tên phiếu dài quá 300 ký tự.")
    code = _new_code(s, title)
    draft = QuestionnaireDraft(code=code, source=ed.dump_document(ed.new_document(code, title)), updated_by_id=user_id)
    s.add(draft)
    s.flush()
    record(s, "questionnaire.draft_created", f"questionnaire:{code}", title=title)
    return draft


def copy_to_draft(
    s: Session, version: QuestionnaireVersion, *, as_new: bool, user_id: int | None
) -> QuestionnaireDraft:
    """A draft from ``version``: a new questionnaire (``as_new``) or the next version of the same
    one (only the province's own: the built-ins are read-only)."""
    if as_new:
        code = _new_code(s, f"{version.code}_{utcnow().year}")
    else:
        code = version.code
        if code in builtin_codes():
            raise AuthoringError("Phiếu có sẵn không sửa trực tiếp được: hãy sao chép thành phiếu mới.")
        existing = s.scalar(select(QuestionnaireDraft).where(QuestionnaireDraft.code == code))
        if existing is not None:
            return existing
    doc = ed.load_document(version.source)
    doc["id"] = code
    if as_new:  # two questionnaires of one name in the library would be told apart by their codes only
        doc["title"] = f"{doc.get('title', code)} (bản sao)"
    draft = QuestionnaireDraft(code=code, source=ed.dump_document(doc), based_on_id=version.id, updated_by_id=user_id)
    s.add(draft)
    s.flush()
    record(s, "questionnaire.draft_created", f"questionnaire:{code}", copied_from=f"{version.code} v{version.version}")
    return draft


def save_draft(s: Session, draft: QuestionnaireDraft, doc: ed.Document, user_id: int | None) -> None:
    draft.source = ed.dump_document(doc)
    draft.updated_at = utcnow()
    draft.updated_by_id = user_id
    s.flush()


def next_version(s: Session, code: str) -> int:
    return (s.scalar(select(func.max(QuestionnaireVersion.version)).where(QuestionnaireVersion.code == code)) or 0) + 1


def publish(s: Session, draft: QuestionnaireDraft) -> QuestionnaireVersion:
    """Store the draft as the next version of its code and delete the draft. Refused with every
    problem while the draft is not a valid questionnaire."""
    doc = ed.load_document(draft.source)
    doc["id"] = draft.code
    doc["version"] = next_version(s, draft.code)
    text = ed.dump_document(doc)
    try:
        questionnaire = load_text(text, f"{draft.code}.yaml")
    except DefinitionError as exc:
        raise AuthoringError([p.message for p in exc.problems]) from None
    row = store_questionnaire(s, questionnaire, text)
    s.delete(draft)
    s.flush()
    record(s, "questionnaire.published", f"questionnaire:{row.code}", version=row.version, title=row.title)
    return row


def import_definition(s: Session, questionnaire: Questionnaire, text: str) -> QuestionnaireVersion:
    """Store a questionnaire read from a file (YAML or XLSForm). A code and version already stored
    with other content is refused: a version that exists never changes."""
    if questionnaire.code in builtin_codes():
        stored = s.scalar(
            select(QuestionnaireVersion).where(
                QuestionnaireVersion.code == questionnaire.code, QuestionnaireVersion.version == questionnaire.version
            )
        )
        if stored is None or stored.content_hash != questionnaire.content_hash:
            raise AuthoringError(
                f"Mã “{questionnaire.code}” là của một phiếu có sẵn; hãy đặt mã khác (form_id) cho phiếu của mình."
            )
    try:
        row = store_questionnaire(s, questionnaire, text)
    except VersionConflict as exc:
        raise AuthoringError(str(exc)) from None
    record(s, "questionnaire.imported", f"questionnaire:{row.code}", version=row.version, title=row.title)
    return row


def answers_of(s: Session, version: QuestionnaireVersion) -> int:
    return s.scalar(select(func.count()).select_from(Response).where(Response.questionnaire_version_id == version.id))


def version_by_ref(s: Session, ref: str) -> QuestionnaireVersion | None:
    """``CODE`` (the latest version) or ``CODE:VERSION``."""
    code, _, number = ref.partition(":")
    query = select(QuestionnaireVersion).where(QuestionnaireVersion.code == code)
    if number:
        if not (number.isascii() and number.isdigit() and len(number) <= 9):
            return None
        return s.scalar(query.where(QuestionnaireVersion.version == int(number)))
    return s.scalar(query.order_by(QuestionnaireVersion.version.desc()).limit(1))


# -- a group's version ------------------------------------------------------------------------------
@dataclass
class SwitchPreview:
    group: RespondentGroup
    current: QuestionnaireVersion
    target: QuestionnaireVersion
    changes: list[Change]
    needs_confirmation: bool  #: the campaign is open: the official must see the changes and confirm


def preview_switch(
    s: Session, campaign: Campaign, group: RespondentGroup, target: QuestionnaireVersion
) -> SwitchPreview:
    """What switching ``group`` to ``target`` would change, or AuthoringError when it cannot."""
    if campaign.status == CampaignStatus.CLOSED:
        raise AuthoringError("Đợt khảo sát đã đóng: không đổi phiếu của nhóm được nữa.")
    current = group.questionnaire_version
    new = questionnaire_of(target)
    if campaign.scoring_rules:
        questionnaires = {g.code: questionnaire_of(g.questionnaire_version) for g in campaign.groups}
        questionnaires[group.code] = new
        try:
            load_rules_text(campaign.scoring_rules, questionnaires)
        except RulesError as exc:
            raise AuthoringError(
                ["Quy tắc tính điểm của đợt dùng câu hỏi không có trong phiếu mới; sửa quy tắc trước khi đổi phiếu:"]
                + exc.problems
            ) from None
    return SwitchPreview(
        group, current, target, compare(questionnaire_of(current), new), campaign.status == CampaignStatus.OPEN
    )


def switch_version(s: Session, campaign: Campaign, group: RespondentGroup, target: QuestionnaireVersion,
                   *, confirmed: bool) -> SwitchPreview:  # fmt: skip
    """Point ``group`` at ``target``. On an open campaign only once the official confirmed having
    seen the changes; responses already stored keep the version they answered."""
    preview = preview_switch(s, campaign, group, target)
    if target.id == group.questionnaire_version_id:
        return preview
    if preview.needs_confirmation and not confirmed:
        raise AuthoringError("Đợt đang mở: hãy xem các thay đổi và xác nhận trước khi đổi phiếu.")
    group.questionnaire_version_id = target.id
    group.questionnaire_version = target
    s.flush()
    record(s, "group.questionnaire_changed", f"campaign:{campaign.key}", group=group.code,
           before=f"{preview.current.code} v{preview.current.version}", after=f"{target.code} v{target.version}",
           changes=len(preview.changes))  # fmt: skip
    return preview


def problems_by_question(problems: list[DefinitionProblem]) -> tuple[dict[str | None, list[str]], list[str]]:
    """Messages of each question, and those about the questionnaire as a whole."""
    per: dict[str | None, list[str]] = defaultdict(list)
    general: list[str] = []
    for p in problems:
        if p.question:
            per[p.question].append(p.message)
        else:
            general.append(p.message)
    return per, general
