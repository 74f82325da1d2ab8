"""Skip logic, shared by the web form, paper entry and anything else that checks answers."""

from __future__ import annotations

from collections.abc import Mapping

from .model import Question


def is_visible(question: Question, given: Mapping[str, frozenset[str]]) -> bool:
    """Whether ``question`` is asked, given the answer codes already given.

    ``given`` maps a question id to the codes answered (scale levels as text, "yes"/"no" for
    yes/no); for items of a rate_units question the caller passes the answers about the same
    unit under the item ids, merged over the top-level answers.

    >>> from questionnaires.model import Condition, Question, QuestionType
    >>> q = Question("why", QuestionType.TEXT, "Vì sao?", show_if=Condition("ok", frozenset({"no"})))
    >>> is_visible(q, {"ok": frozenset({"no"})}), is_visible(q, {"ok": frozenset({"yes"})})
    (True, False)
    """
    return all(given.get(c.question, frozenset()) & c.answers for c in question.conditions)
