"""Answer codes printed on paper forms and typed by clerks: options are numbered 1…n in the
order of the definition, yes/no is 1 = Có and 2 = Không, scale levels are their own numbers."""

from __future__ import annotations

import re

from questionnaires import Question, QuestionType

SEPARATORS = re.compile(r"[\s,;.]+")


class CodeError(ValueError):
    pass


def code_table(question: Question) -> list[tuple[str, str]]:
    """(code typed, label) pairs for a choice, yes/no or scale question."""
    if question.type is QuestionType.SCALE:
        return [(o.code, o.label) for o in question.choices()]
    return [(str(n), o.label) for n, o in enumerate(question.choices(), start=1)]


def translate(question: Question, typed: str) -> list[str]:
    """The form values for what a clerk typed; CodeError (Vietnamese) for a code not on the form."""
    typed = typed.strip()
    if not typed:
        return []
    kind = question.type
    if kind in (QuestionType.NUMBER,):
        return [typed.replace(",", ".")]
    if kind in (QuestionType.TEXT, QuestionType.LONGTEXT):
        return [typed]
    options = question.choices()
    parts = [p for p in SEPARATORS.split(typed) if p] if kind is QuestionType.MULTIPLE else [typed]
    values = []
    for part in parts:
        if kind is QuestionType.SCALE:
            if part not in {o.code for o in options}:
                raise CodeError(f"Mã “{part}” không có trong câu này (từ 1 đến {len(options)}).")
            values.append(part)
            continue
        if not (part.isascii() and part.isdigit() and len(part) < 4) or not 1 <= int(part) <= len(options):
            raise CodeError(f"Mã “{part}” không có trong câu này (từ 1 đến {len(options)}).")
        values.append(options[int(part) - 1].code)
    if kind is not QuestionType.MULTIPLE and len(values) > 1:
        raise CodeError("Câu này chỉ chọn một mã.")
    return values


def condition_codes(questionnaire, question: Question) -> str:
    """When ``question`` applies, in the codes of the paper form: câu “A” chọn mã 2 (và câu “B” chọn mã 1, 3)."""
    parts = []
    for condition in question.conditions:
        target = questionnaire.question(condition.question)
        codes = [code for code, option in zip(code_table(target), target.choices(), strict=True)
                 if option.code in condition.answers]  # fmt: skip
        parts.append(f"câu “{target.label}” chọn mã {', '.join(code for code, _label in codes)}")
    return " và ".join(parts)


def typed_back(question: Question, values: list) -> str:
    """What a clerk would have typed for stored values (the inverse of ``translate``): the
    paper code of each option, a number as written in Vietnam, a text as it is."""
    if not values:
        return ""
    kind = question.type
    if kind is QuestionType.SCALE:
        return str(int(values[0]))
    if kind in (QuestionType.SINGLE, QuestionType.YESNO, QuestionType.MULTIPLE):
        position = {o.code: str(n) for n, o in enumerate(question.choices(), start=1)}
        return " ".join(position.get(v, v) for v in values)
    if kind is QuestionType.NUMBER:
        x = float(values[0])
        return str(int(x)) if x.is_integer() else f"{x:g}".replace(".", ",")
    return str(values[0])
