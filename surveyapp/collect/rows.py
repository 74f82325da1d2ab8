"""What a form is made of and what it stores, as plain values: no WTForms, no request (the
services, the fast path and paper entry use them without the forms module)."""

from __future__ import annotations

from dataclasses import dataclass

from questionnaires import Question

from ..models import Unit


@dataclass(frozen=True)
class Entry:
    """One field of the form: a question, asked about one unit (``unit`` is None outside rate_units)."""

    name: str
    question: Question
    unit: Unit | None
    parent: Question | None = None  #: the rate_units question an item belongs to


@dataclass(frozen=True)
class AnswerRow:
    question_id: str
    subject_unit_id: int
    value_code: str | None = None
    value_num: float | None = None
    value_text: str | None = None

    def key(self) -> tuple:
        return (
            self.question_id,
            self.subject_unit_id,
            self.value_code or "",
            self.value_num or 0.0,
            self.value_text or "",
        )
