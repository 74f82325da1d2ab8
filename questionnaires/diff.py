"""What changed between two questionnaires, in words an official reads before switching a group."""

from __future__ import annotations

from dataclasses import dataclass

from .model import Question, Questionnaire


@dataclass(frozen=True)
class Change:
    kind: str  #: added | removed | reworded | options | type | required | condition
    question_id: str
    label: str  #: the question as it reads now (as it read, for a removed one)
    before: str = ""
    after: str = ""

    @property
    def title(self) -> str:
        return CHANGE_NAMES[self.kind]


CHANGE_NAMES = {
    "added": "Thêm câu hỏi",
    "removed": "Bỏ câu hỏi",
    "reworded": "Sửa câu chữ",
    "options": "Đổi phương án trả lời",
    "type": "Đổi loại câu hỏi",
    "required": "Đổi bắt buộc / không bắt buộc",
    "condition": "Đổi điều kiện hiển thị",
}


def _all(questionnaire: Questionnaire) -> dict[str, Question]:
    out = {}
    for question in questionnaire.top_questions():
        out[question.id] = question
        for item in question.items:
            out[item.id] = item
    return out


def _choices(question: Question) -> str:
    return "; ".join(f"{o.code}: {o.label}" for o in question.choices())


def compare(old: Questionnaire, new: Questionnaire) -> list[Change]:
    """Every question added, removed or changed from ``old`` to ``new``, in the new form's order
    (removed ones last).

    >>> from questionnaires import BUILTIN_DIR, load_questionnaire
    >>> q = load_questionnaire(BUILTIN_DIR / "leader.yaml")
    >>> compare(q, q)
    []
    """
    before, after = _all(old), _all(new)
    changes: list[Change] = []
    for qid, q in after.items():
        was = before.get(qid)
        if was is None:
            changes.append(Change("added", qid, q.label))
            continue
        if was.type != q.type:
            changes.append(Change("type", qid, q.label, was.type.value, q.type.value))
        if was.label != q.label:
            changes.append(Change("reworded", qid, q.label, was.label, q.label))
        if was.type == q.type and _choices(was) != _choices(q):
            changes.append(Change("options", qid, q.label, _choices(was), _choices(q)))
        if was.required != q.required:
            changes.append(Change("required", qid, q.label, str(was.required), str(q.required)))
        if was.conditions != q.conditions:
            changes.append(Change("condition", qid, q.label))
    changes.extend(Change("removed", qid, q.label) for qid, q in before.items() if qid not in after)
    return changes
