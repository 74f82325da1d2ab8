"""The response form, built at run time from a questionnaire definition.

Every field still goes through WTForms validation; on top of it, ``ResponseForm.validate``
applies skip logic (hidden questions are neither required nor stored) and the "required"
rule, with Vietnamese messages.
"""

from __future__ import annotations

import math
import re

from flask_wtf import FlaskForm
from wtforms import (
    Field,
    FloatField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from questionnaires import Question, Questionnaire, QuestionType
from questionnaires.logic import is_visible

from ..messages import FIELD_ERRORS, VietnameseTranslations
from ..models import Unit
from .rows import AnswerRow, Entry  # noqa: F401 (re-exported: the form's entries and rows)


class CodeRadioField(RadioField):
    """A radio field checked against its option codes as a set made once per questionnaire;
    WTForms' own check rebuilds every choice of every field on every request. Same outcome,
    same message."""

    def __init__(self, *args, codes: frozenset[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.codes = codes

    def pre_validate(self, form):
        if not self.process_errors and self.data not in self.codes:
            raise ValidationError(self.gettext("Not a valid choice."))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def field_name(question: Question, unit: Unit | None) -> str:
    # A prefix keeps question ids clear of WTForms' own attribute names (data, errors, meta …).
    return f"q_{question.id}" if unit is None else f"q_{question.id}__{unit.id}"


def condition_field(questionnaire: Questionnaire, question: Question, unit: Unit | None) -> str:
    """The form field names of the questions that ``question``'s skip logic looks at, space-separated."""
    top = {q.id for q in questionnaire.top_questions()}
    return " ".join(
        field_name(questionnaire.question(c.question), None if c.question in top else unit) for c in question.conditions
    )


def condition_answers(question: Question) -> str:
    """The answers each condition accepts, for the page's script: "yes|4 5" (conditions split by "|")."""
    return "|".join(" ".join(sorted(c.answers)) for c in question.conditions)


def condition_text(questionnaire: Questionnaire, question: Question) -> str:
    """The answers that show ``question``, in words: "Không", or "Có, Không; và Đất đai"."""
    parts = []
    for c in question.conditions:
        target = questionnaire.question(c.question)
        parts.append(", ".join(o.label for o in target.choices() if o.code in c.answers))
    return "; và ".join(parts)


def plan_entries(questionnaire: Questionnaire, rated_units: dict[str, list[Unit]]) -> list[Entry]:
    """Every field of the form in order; ``rated_units`` maps a rate_units question id to its units."""
    entries = []
    for question in questionnaire.top_questions():
        if question.type is QuestionType.RATE_UNITS:
            for unit in rated_units.get(question.id, []):
                for item in question.items:
                    entries.append(Entry(field_name(item, unit), item, unit, question))
        else:
            entries.append(Entry(field_name(question, None), question, None))
    return entries


def _range_message(q: Question) -> str:
    if q.minimum is not None and q.maximum is not None:
        return FIELD_ERRORS["range"].format(min=_fmt(q.minimum), max=_fmt(q.maximum))
    if q.minimum is not None:
        return FIELD_ERRORS["min"].format(min=_fmt(q.minimum))
    return FIELD_ERRORS["max"].format(max=_fmt(q.maximum))


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x).replace(".", ",")


def make_field(q: Question) -> Field:
    choices = [SelectChoice(o.code, o.label) for o in q.choices()]
    match q.type:
        case QuestionType.SINGLE | QuestionType.YESNO | QuestionType.SCALE:
            return CodeRadioField(q.label, choices=choices, codes=q.codes)
        case QuestionType.MULTIPLE:
            return MultiCheckboxField(q.label, choices=choices)
        case QuestionType.NUMBER:
            validators = []
            if q.minimum is not None or q.maximum is not None:
                validators.append(NumberRange(q.minimum, q.maximum, message=_range_message(q)))
            cls = IntegerField if q.integer else FloatField
            return cls(q.label, validators=[*validators, _finite])
        case QuestionType.TEXT:
            return StringField(q.label, validators=[Length(max=q.max_length, message=_too_long(q))])
        case QuestionType.LONGTEXT:
            return TextAreaField(q.label, validators=[Length(max=q.max_length, message=_too_long(q))])
    raise ValueError(f"no form field for question type {q.type}")


def _finite(form, field) -> None:
    """ "nan" and "inf" parse as floats; they are not amounts."""
    if field.data is not None and not math.isfinite(field.data):
        raise ValidationError(FIELD_ERRORS["not_number"])


def _too_long(q: Question) -> str:
    return FIELD_ERRORS["too_long"].format(max=q.max_length)


class ResponseForm(FlaskForm):
    """Base of every generated form. CSRF is checked for the whole app by CSRFProtect."""

    class Meta:
        csrf = False

        def get_translations(self, form):
            return VietnameseTranslations()

    submission_id = HiddenField()

    entries: list[Entry] = []
    names: frozenset[str] = frozenset()  #: the field names of ``entries``

    def validate(self, extra_validators=None) -> bool:
        ok = True
        given: dict[str, frozenset[str]] = {}
        per_unit: dict[int, dict[str, frozenset[str]]] = {}
        self.visible_names: set[str] = set()
        for entry in self.entries:
            field = self[entry.name]
            context = given if entry.unit is None else {**given, **per_unit.setdefault(entry.unit.id, {})}
            if not is_visible(entry.question, context):
                field.errors = []
                continue
            self.visible_names.add(entry.name)
            # a blank (" ") is an answer to check, not a missing one: it is never a choice or a number
            if entry.question.required:
                first = InputRequired(FIELD_ERRORS["required"])
            else:
                first = Optional(strip_whitespace=False)
            if not field.validate(self, extra_validators=[first]):
                ok = False
                continue
            codes = _codes(entry.question, field.data)
            if entry.unit is None:
                given[entry.question.id] = codes
            else:
                per_unit[entry.unit.id][entry.question.id] = codes
        self.error_count = sum(1 for e in self.entries if self[e.name].errors)
        return ok

    def answer_rows(self, own_unit_id: int) -> list[AnswerRow]:
        """The answers of a validated form, one row per stored value, in a canonical order."""
        data = {entry.name: self[entry.name].data for entry in self.entries}
        return rows_of(self.entries, data, self.visible_names, own_unit_id)


def rows_of(entries: list[Entry], values: dict, visible: set[str], own_unit_id: int) -> list[AnswerRow]:
    """One row per stored value of the visible entries, in a canonical order; ``values`` maps a
    field name to its value as WTForms gives it (a code, a list of codes, a number, a text)."""
    rows = []
    for entry in entries:
        if entry.name not in visible:
            continue
        data = values.get(entry.name)
        subject = entry.unit.id if entry.unit is not None else own_unit_id
        qid = entry.question.id
        match entry.question.type:
            case QuestionType.SCALE:
                if data:
                    rows.append(AnswerRow(qid, subject, value_num=float(int(data))))
            case QuestionType.SINGLE | QuestionType.YESNO:
                if data:
                    rows.append(AnswerRow(qid, subject, value_code=data))
            case QuestionType.MULTIPLE:
                rows.extend(AnswerRow(qid, subject, value_code=code) for code in sorted(set(data or [])))
            case QuestionType.NUMBER:
                if data is not None:
                    rows.append(AnswerRow(qid, subject, value_num=float(data)))
            case QuestionType.TEXT | QuestionType.LONGTEXT:
                text = (data or "").strip()
                if text:
                    rows.append(AnswerRow(qid, subject, value_text=text))
    return sorted(rows, key=AnswerRow.key)


_INTEGER = re.compile(r"-?[0-9]{1,15}")
_DECIMAL = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,15})?")


def quick_check(form_class: type[ResponseForm], formdata) -> tuple[dict, set[str]] | None:
    """The values and visible fields of a plainly valid form, without binding WTForms fields
    (which is a third of a submission's validation cost); None for anything else: an answer
    missing, unknown, repeated, blank, out of range or too long. The caller then validates with
    WTForms, the authority, which also words the errors. Whatever this accepts, WTForms accepts
    with the same values (tests/test_fuzz.py checks it on generated forms)."""
    values: dict = {}
    visible: set[str] = set()
    given: dict[str, frozenset[str]] = {}
    per_unit: dict[int, dict[str, frozenset[str]]] = {}
    for entry in form_class.entries:
        question = entry.question
        context = given if entry.unit is None else {**given, **per_unit.setdefault(entry.unit.id, {})}
        if not is_visible(question, context):
            continue
        visible.add(entry.name)
        raw = formdata.getlist(entry.name)
        if not raw:
            if question.required:
                return None
            data = [] if question.type is QuestionType.MULTIPLE else None
        elif question.type is QuestionType.MULTIPLE:
            if any(code not in question.codes for code in raw):
                return None
            data = raw
        elif len(raw) > 1:
            return None
        else:
            data = _plain_value(question, raw[0])
            if data is None:
                return None
        values[entry.name] = data
        codes = _codes(question, data)
        if entry.unit is None:
            given[question.id] = codes
        else:
            per_unit[entry.unit.id][question.id] = codes
    return values, visible


def _plain_value(question: Question, text: str):
    """The value WTForms would give ``text``, when it is plainly valid; None otherwise."""
    match question.type:
        case QuestionType.SINGLE | QuestionType.YESNO | QuestionType.SCALE:
            return text if text in question.codes else None
        case QuestionType.NUMBER:
            if not (_INTEGER if question.integer else _DECIMAL).fullmatch(text):
                return None
            number = int(text) if question.integer else float(text)
            too_low = question.minimum is not None and number < question.minimum
            too_high = question.maximum is not None and number > question.maximum
            return None if too_low or too_high else number
        case QuestionType.TEXT | QuestionType.LONGTEXT:
            if not text.strip() or len(text) > question.max_length:
                return None
            return text
    return None


def _codes(question: Question, data) -> frozenset[str]:
    if data is None or data == "":
        return frozenset()
    if isinstance(data, list):
        return frozenset(str(x) for x in data)
    return frozenset({str(data)})


_FORM_CLASSES: dict[tuple, type[ResponseForm]] = {}
_FORM_CLASSES_MAX = 256


def build_form_class(questionnaire: Questionnaire, rated_units: dict[str, list[Unit]]) -> type[ResponseForm]:
    """The form class of a questionnaire and its rated units, made once and reused (building ~30
    WTForms fields per request was a tenth of a submission's time)."""
    key = (
        questionnaire.content_hash,
        questionnaire.language,
        tuple((qid, tuple((u.id, u.name) for u in units)) for qid, units in sorted(rated_units.items())),
    )
    cached = _FORM_CLASSES.get(key)
    if cached is None:
        if len(_FORM_CLASSES) >= _FORM_CLASSES_MAX:
            _FORM_CLASSES.clear()
        cached = _FORM_CLASSES[key] = _build_form_class(questionnaire, rated_units)
    return cached


def _build_form_class(questionnaire: Questionnaire, rated_units: dict[str, list[Unit]]) -> type[ResponseForm]:
    entries = plan_entries(questionnaire, rated_units)
    attrs: dict = {"entries": entries, "names": frozenset(entry.name for entry in entries)}
    for entry in entries:
        attrs[entry.name] = make_field(entry.question)
    return type("GeneratedResponseForm", (ResponseForm,), attrs)
