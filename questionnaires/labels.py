"""Answers in words: what a person sees instead of stored codes ("Đất đai", "4 · Tốt", "Có").

Used by the response page of the quality review, the exports and anything else that shows an
answer to people. Numbers are written the Vietnamese way (decimal comma)."""

from __future__ import annotations

from dataclasses import dataclass

from .model import Question, Questionnaire, QuestionType


def vn_number(value: float | int | None, digits: int | None = None) -> str:
    """A number as Vietnamese documents write it, for every page and export: decimal comma,
    thousands with a dot; ``digits`` fixed (points: 2) or, by default, up to two without trailing
    zeros. The one number formatter of the product (``surveyapp.web`` uses it as a filter).

    >>> vn_number(1.05), vn_number(2.0), vn_number(1.5), vn_number(1234.5, 2), vn_number(None)
    ('1,05', '2', '1,5', '1.234,50', '—')
    """
    if value is None:
        return "—"
    text = f"{value:,.{2 if digits is None else digits}f}"
    if digits is None and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def option_label(question: Question, code: str) -> str:
    """The label of one stored code; a code the version no longer has stays as it is."""
    for option in question.choices():
        if option.code == code:
            return option.label
    return code


def answer_label(question: Question, code: str | None = None, num: float | None = None,
                 text: str | None = None) -> str:  # fmt: skip
    """One stored value (a row of ``answer``) in words."""
    if text is not None:
        return text
    if question.type is QuestionType.SCALE and num is not None:
        level = str(int(num))
        return f"{level} · {option_label(question, level)}"
    if code is not None:
        return option_label(question, code)
    if num is not None:
        return vn_number(num)
    return ""


@dataclass(frozen=True)
class AnswerLine:
    section: str
    question: Question
    unit: str | None  #: the unit rated (items of a rate_units question), else None
    text: str  #: the answer in words; "" when not answered (skipped or hidden)


def answer_lines(questionnaire: Questionnaire, rows, unit_names: dict[int, str]) -> list[AnswerLine]:
    """Every question of ``questionnaire`` in form order with the answers of one response.

    ``rows`` are (question id, subject unit id, code, number, text); a multiple choice has one row
    per option, joined here with "; ". Items of a rate_units question come once per unit rated."""
    by_key: dict[tuple[str, int], list[str]] = {}
    subjects: dict[str, list[int]] = {}
    for qid, subject, code, num, text in rows:
        if not questionnaire.has_question(qid):
            continue
        by_key.setdefault((qid, subject), []).append(answer_label(questionnaire.question(qid), code, num, text))
        if subject not in subjects.setdefault(qid, []):
            subjects[qid].append(subject)
    lines = []
    for section in questionnaire.sections:
        for q in section.questions:
            if q.type is QuestionType.RATE_UNITS:
                rated = sorted({u for item in q.items for u in subjects.get(item.id, [])},
                               key=lambda u: unit_names.get(u, ""))  # fmt: skip
                for unit in rated:
                    for item in q.items:
                        text = "; ".join(by_key.get((item.id, unit), []))
                        lines.append(AnswerLine(section.title, item, unit_names.get(unit, str(unit)), text))
            else:
                texts = [t for (qid, _), values in by_key.items() if qid == q.id for t in values]
                lines.append(AnswerLine(section.title, q, None, "; ".join(texts)))
    return lines


def export_value(question: Question, value):
    """A stored value as an export shows it: option labels for choices (several joined by "; "),
    numbers as numbers (scale levels too: the code book gives their words), texts as they are."""
    if isinstance(value, float | int) or value is None:
        return value
    if question.type in (QuestionType.SINGLE, QuestionType.YESNO):
        return option_label(question, value)
    if question.type is QuestionType.MULTIPLE:
        return "; ".join(option_label(question, code) for code in value.split(";"))
    return value


TYPE_NAMES = {
    QuestionType.SINGLE: "chọn một",
    QuestionType.MULTIPLE: "chọn nhiều",
    QuestionType.YESNO: "có/không",
    QuestionType.SCALE: "thang đo",
    QuestionType.NUMBER: "số",
    QuestionType.TEXT: "chữ",
    QuestionType.LONGTEXT: "đoạn văn",
    QuestionType.RATE_UNITS: "đánh giá từng đơn vị",
}


def codebook_values(question: Question) -> str:
    """What the values of ``question`` mean, for a code book: "1 = Rất không hài lòng; …"."""
    if question.type is QuestionType.SCALE:
        return "; ".join(f"{o.code} = {o.label}" for o in question.choices())
    if question.type in (QuestionType.SINGLE, QuestionType.MULTIPLE, QuestionType.YESNO):
        return "; ".join(o.label for o in question.choices())
    if question.type is QuestionType.NUMBER:
        low = "" if question.minimum is None else f"từ {vn_number(question.minimum)}"
        high = "" if question.maximum is None else f"đến {vn_number(question.maximum)}"
        return " ".join(x for x in ("số", low, high) if x)
    return "chữ tự do"
