"""Answer sets for tests, derived from the questionnaire files themselves."""

from __future__ import annotations

from questionnaires import BUILTIN_DIR, QuestionType, load_questionnaire
from questionnaires.logic import is_visible

CITIZEN = load_questionnaire(BUILTIN_DIR / "citizen_counter.yaml")


def valid_answers(questionnaire=CITIZEN, level: str = "4", **overrides: str) -> dict[str, str | list[str]]:
    """A complete, valid set of form fields (top-level questions only), with ``overrides`` by question id."""
    given: dict[str, frozenset[str]] = {}
    fields: dict[str, str | list[str]] = {}
    for q in questionnaire.top_questions():
        if not is_visible(q, given):
            continue
        if q.id in overrides:
            value = overrides[q.id]
        elif q.type is QuestionType.SCALE:
            value = level
        elif q.type is QuestionType.YESNO:
            value = "yes"
        elif q.type in (QuestionType.SINGLE, QuestionType.MULTIPLE):
            value = q.options[0].code
        elif q.type is QuestionType.NUMBER:
            value = "1"
        else:
            value = "Tốt lắm"
        fields[f"q_{q.id}"] = value
        given[q.id] = frozenset(value if isinstance(value, list) else [value])
    return fields
