"""Property-based fuzzing (hypothesis): the loaders and the submission path never crash and never
write half a response, whatever they are fed."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from questionnaires import BUILTIN_DIR, DefinitionError, Questionnaire, load_questionnaire, load_text
from questionnaires.scoring import Rules, RulesError, load_rules_text
from surveyapp.models import Answer, CollectionPoint, Response

from .conftest import hidden_fields
from .helpers import valid_answers

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 20), st.floats(allow_nan=False, width=32),
                    st.text(max_size=12), st.sampled_from(["single", "scale", "yesno", "rate_units", "q1", "a", "x"]))  # fmt: skip
TREES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "version",
                    "title",
                    "type",
                    "label",
                    "options",
                    "sections",
                    "questions",
                    "code",
                    "scale",
                    "aspect",
                    "aspects",
                    "show_if",
                    "question",
                    "answers",
                    "items",
                    "units",
                    "min",
                    "max",
                    "required",
                    "scales",
                ]
            ),
            children,
            max_size=6,
        ),
    ),  # fmt: skip
    max_leaves=25,
)
CITIZEN_TEXT = (BUILTIN_DIR / "citizen_counter.yaml").read_text(encoding="utf-8")


@settings(max_examples=300, deadline=None)
@given(TREES)
def test_questionnaire_loader_never_crashes_on_structures(tree):
    try:
        result = load_text(yaml.safe_dump(tree, allow_unicode=True), "fuzz.yaml")
    except DefinitionError as exc:
        assert exc.problems and all(str(p).startswith("fuzz.yaml") for p in exc.problems)
    else:
        assert isinstance(result, Questionnaire)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(CITIZEN_TEXT) - 1), st.integers(1, 40), st.text(max_size=20))
def test_questionnaire_loader_never_crashes_on_mangled_text(start, length, replacement):
    mangled = CITIZEN_TEXT[:start] + replacement + CITIZEN_TEXT[start + length :]
    try:
        load_text(mangled, "hong.yaml")
    except DefinitionError as exc:
        assert exc.problems


QUESTIONNAIRES = {"citizen": load_questionnaire(BUILTIN_DIR / "citizen_counter.yaml")}
RULES_TEXT = """id: r\ntitle: T\ncomponent_total: 2\ncriteria:\n  - {code: A, name: N, max: 2, method: share,
    sources: [{group: citizen, questions: [overall_satisfaction]}]}\n"""


@settings(max_examples=300, deadline=None)
@given(TREES)
def test_rules_loader_never_crashes(tree):
    try:
        result = load_rules_text(yaml.safe_dump(tree, allow_unicode=True), QUESTIONNAIRES, "fuzz.yaml")
    except RulesError as exc:
        assert exc.problems
    else:
        assert isinstance(result, Rules)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(RULES_TEXT) - 1), st.integers(1, 15), st.text(max_size=10))
def test_rules_loader_never_crashes_on_mangled_text(start, length, replacement):
    try:
        load_rules_text(RULES_TEXT[:start] + replacement + RULES_TEXT[start + length :], QUESTIONNAIRES)
    except RulesError as exc:
        assert exc.problems


FIELD_NAMES = st.sampled_from(list(valid_answers()) + ["q_unknown", "intent", "q_unit_rating__1", "csrf_token"])
VALUES = st.one_of(st.text(max_size=30), st.sampled_from(["1", "5", "6", "-1", "yes", "no", "land", "", "0x10", "1e9"]))


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(changes=st.dictionaries(FIELD_NAMES, VALUES, max_size=6), drop=st.lists(FIELD_NAMES, max_size=3))
def test_submissions_never_fail_on_the_server_and_never_half_write(app, demo, dbs, changes, drop):
    client = app.test_client()
    code = dbs.scalars(select(CollectionPoint.code)).first()
    html = client.get(f"/f/{code}").get_data(as_text=True)
    data = {**hidden_fields(html), **valid_answers()}
    data.update(changes)
    for name in drop:
        data.pop(name, None)
    responses_before = dbs.scalar(select(func.count()).select_from(Response))
    answers_before = dbs.scalar(select(func.count()).select_from(Answer))
    response = client.post(f"/f/{code}", data=data)
    assert response.status_code in (200, 400, 409, 413, 415, 422), response.status_code
    dbs.expire_all()
    stored = dbs.scalar(select(func.count()).select_from(Response)) - responses_before
    written = dbs.scalar(select(func.count()).select_from(Answer)) - answers_before
    if response.status_code == 200 and "Cảm ơn" in response.get_data(as_text=True):
        assert stored in (0, 1) and (written > 0) == (stored == 1)
    else:
        assert stored == 0 and written == 0


FORM_BYTES = st.lists(
    st.one_of(
        st.sampled_from(["&", "=", "+", "a", "q_x", "%", "%2", "%C3", "%A9", "%E1%BB", "%BA", "%FF", "%26", "%3D"]),
        st.binary(max_size=3).map(lambda b: "".join(f"%{x:02X}" for x in b)),
    ),
    max_size=30,
).map("".join)


@settings(max_examples=500, deadline=None)
@given(FORM_BYTES)
def test_the_whole_body_utf8_check_agrees_with_parsing_each_field(body):
    """web.form_body_is_utf8 decodes the body at once; parsing every name and value strictly
    must accept and refuse exactly the same bodies."""
    from urllib.parse import parse_qsl

    from surveyapp.web import form_body_is_utf8

    try:
        parse_qsl(body, keep_blank_values=True, encoding="utf-8", errors="strict")
        each_field = True
    except UnicodeDecodeError:
        each_field = False
    assert form_body_is_utf8(body.encode("ascii")) == each_field


def _value_strategies(question):
    """(plainly valid values, odd values) for one question."""
    from questionnaires import QuestionType

    if question.type is QuestionType.NUMBER:
        low = int(question.minimum if question.minimum is not None else -5)
        high = int(question.maximum if question.maximum is not None else 200)
        odd = st.sampled_from(
            ["", " ", " 1", "1.5", "abc", "1e2", "٣", "-0", "007", str(high + 1), str(low - 1), "nan"]
        )
        return st.integers(low, high).map(str), odd
    if question.type in (QuestionType.TEXT, QuestionType.LONGTEXT):
        odd = st.sampled_from(["", " ", "\n", "x" * ((question.max_length or 10) + 1)])
        return st.text(min_size=1, max_size=12).filter(str.strip), odd
    codes = sorted(question.codes)
    return st.sampled_from(codes), st.sampled_from(["", " ", "x", codes[0] + " ", codes[-1].upper() + "?"])


@st.composite
def _form_data(draw, questionnaire):
    """A form of plainly valid answers (skip logic ignored: hidden answers are sent too), with up
    to three fields changed into something odd: missing, blank, unknown, repeated, out of range."""
    from surveyapp.collect.forms import plan_entries

    entries = plan_entries(questionnaire, {})
    drawn = {e.name: [draw(_value_strategies(e.question)[0])] for e in entries}
    # numbers and texts have the most ways to be odd: they are picked more often
    weighted = [e.name for e in entries for _ in range(1 if e.question.codes else 8)]
    for name in draw(st.lists(st.sampled_from(weighted), max_size=3, unique=True)):
        question = next(e.question for e in entries if e.name == name)
        valid, odd = _value_strategies(question)
        drawn[name] = draw(st.one_of(st.none(), st.lists(odd, min_size=1, max_size=1),
                                     st.lists(st.one_of(valid, odd), min_size=2, max_size=3)))  # fmt: skip
    return drawn


def _compare_quick_check_with_wtforms(app, questionnaire, drawn):
    from werkzeug.datastructures import MultiDict

    from surveyapp.collect.forms import build_form_class, quick_check, rows_of

    form_class = build_form_class(questionnaire, {})
    data = MultiDict([(name, v) for name, values in drawn.items() if values is not None for v in values])
    with app.test_request_context("/"):
        quick = quick_check(form_class, data)
        form = form_class(formdata=data)
        valid = form.validate()
    if quick is not None:
        values, visible = quick
        assert valid, form.errors  # accepted quickly ⇒ WTForms accepts it too …
        assert visible == form.visible_names  # … asks the same questions …
        assert rows_of(form_class.entries, values, visible, 7) == form.answer_rows(7)  # … and stores the same rows
    return quick is not None


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_the_quick_check_accepts_only_what_wtforms_accepts(app, data):
    """The poster's busy path validates without binding WTForms fields (forms.quick_check); on
    every generated form, whatever it accepts, WTForms accepts with the same questions and rows."""
    from questionnaires import BUILTIN_DIR, load_questionnaire

    for name in ("citizen_counter", "civil_servant"):
        questionnaire = load_questionnaire(BUILTIN_DIR / f"{name}.yaml")
        taken = _compare_quick_check_with_wtforms(app, questionnaire, data.draw(_form_data(questionnaire), label=name))
        event(f"{name}: {'quick' if taken else 'left to WTForms'}")


def test_the_quick_check_takes_a_plainly_valid_form(app):
    from questionnaires import BUILTIN_DIR, load_questionnaire

    citizen = load_questionnaire(BUILTIN_DIR / "citizen_counter.yaml")
    drawn = {name: [value] if isinstance(value, str) else value for name, value in valid_answers().items()}
    assert _compare_quick_check_with_wtforms(app, citizen, drawn)
    drawn.pop("q_visits")  # a required answer missing: left to WTForms, which words the error
    assert not _compare_quick_check_with_wtforms(app, citizen, drawn)


MIXED = """
id: mixed
version: 1
title: Phiếu thử
sections:
  - id: s
    title: Phần một
    questions:
      - {id: many, type: multiple, label: Chọn nhiều, options: [{code: a, label: A}, {code: b, label: B}, {code: c, label: C}]}
      - {id: maybe, type: multiple, label: Có thể, required: false, options: [{code: a, label: A}, {code: b, label: B}]}
      - {id: amount, type: number, label: Số tiền, integer: false, min: 0.5, max: 10}
      - {id: note, type: text, label: Ghi chú, required: false, max_length: 12}
"""


def test_the_quick_check_agrees_on_every_single_odd_answer(app):
    """Every question, one at a time: left out, blank, unknown, repeated, out of range, too long;
    the rest of the form valid. Exhaustive where hypothesis samples."""
    from questionnaires import BUILTIN_DIR, QuestionType, load_questionnaire, load_text
    from surveyapp.collect.forms import plan_entries

    taken = left = 0
    for questionnaire in (load_questionnaire(BUILTIN_DIR / "citizen_counter.yaml"), load_text(MIXED, "mixed.yaml")):
        base = {k: [v] if isinstance(v, str) else v for k, v in valid_answers(questionnaire).items()}
        assert _compare_quick_check_with_wtforms(app, questionnaire, base)
        for entry in plan_entries(questionnaire, {}):
            q = entry.question
            if q.type is QuestionType.NUMBER:
                odd = ["", " ", " 1", "1.5", "abc", "1e2", "٣", "-0", "007", "nan", "inf", "0.25",
                       str(q.maximum + 1), str(q.minimum - 1), str(q.maximum), str(q.minimum)]  # fmt: skip
            elif q.type in (QuestionType.TEXT, QuestionType.LONGTEXT):
                odd = ["", " ", "\n", "x" * q.max_length, "x" * (q.max_length + 1), "a\r\nb"]
            else:
                codes = sorted(q.codes)
                odd = ["", " ", "x", codes[0] + " ", codes[-1].upper(), *codes]
            variants = [None, *([v] for v in odd), [odd[-1], odd[-1]], [odd[-1], "x"], [odd[-1], odd[-2]]]
            for variant in variants:
                if _compare_quick_check_with_wtforms(app, questionnaire, {**base, entry.name: variant}):
                    taken += 1
                else:
                    left += 1
    assert taken > 50 and left > 50  # both ways were exercised
