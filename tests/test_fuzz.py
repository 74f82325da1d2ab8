"""Property-based fuzzing (hypothesis): the loaders and the submission path never crash and never
write half a response, whatever they are fed."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
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
    """web.reject_malformed_body decodes the body at once; parsing every name and value strictly
    must accept and refuse exactly the same bodies."""
    from urllib.parse import parse_qsl, unquote_to_bytes

    try:
        parse_qsl(body, keep_blank_values=True, encoding="utf-8", errors="strict")
        each_field = True
    except UnicodeDecodeError:
        each_field = False
    try:
        unquote_to_bytes(body.replace("+", " ")).decode("utf-8")
        whole = True
    except UnicodeDecodeError:
        whole = False
    assert whole == each_field
