"""A long form one screen at a time (issue 15, part 1).

A delegate or leader who rates twenty communes answers one commune per screen: its name in the
header, "Xã 6/20", next and previous, the list of units with those already done. The questions
outside the units (about the respondent, closing remarks) are screens of their own, consecutive
sections together. Every move posts the screen and saves the draft on the server, so the form
works without scripts and resumes on another phone where it was left.

Pure: no request, no database. The routes merge a posted screen into the saved draft
(``merge_screen``) and decide where to go; the full form is still validated as one on submit.
"""

from __future__ import annotations

from dataclasses import dataclass

from werkzeug.datastructures import MultiDict

from questionnaires import Question, Questionnaire, QuestionType, Section
from questionnaires.logic import is_visible

from ..models import Unit
from .forms import Entry, condition_field

#: at least this many rated units, and a form that can keep a draft, make a paged form
MIN_UNITS_TO_PAGE = 2


@dataclass(frozen=True)
class Screen:
    index: int
    #: for a screen of general questions: its sections with their entries, in order
    parts: tuple[tuple[Section, tuple[Entry, ...]], ...] = ()
    unit: Unit | None = None  #: the unit rated on this screen
    parent: Question | None = None  #: that screen's rate_units question (its label leads the items)
    unit_entries: tuple[Entry, ...] = ()
    position: int = 0  #: 1-based among the units of ``parent``
    of: int = 0  #: how many units ``parent`` rates
    kind: str = "Đơn vị"  #: "Xã", "Phường" … when every rated unit is of one kind

    @property
    def entries(self) -> tuple[Entry, ...]:
        return self.unit_entries if self.unit is not None else tuple(e for _, part in self.parts for e in part)

    @property
    def title(self) -> str:
        if self.unit is not None:
            return self.unit.name
        return " · ".join(section.title for section, _ in self.parts)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(e.name for e in self.entries)


def is_paged(drafts: bool, rated_units: dict[str, list[Unit]]) -> bool:
    return drafts and sum(len(units) for units in rated_units.values()) >= MIN_UNITS_TO_PAGE


def plan_screens(questionnaire: Questionnaire, entries: list[Entry]) -> list[Screen]:
    """The screens of a form whose ``entries`` come from ``forms.plan_entries``."""
    by_question: dict[str, list[Entry]] = {}
    for entry in entries:
        by_question.setdefault((entry.parent or entry.question).id, []).append(entry)
    screens: list[Screen] = []
    pending: list[tuple[Section, tuple[Entry, ...]]] = []

    def flush() -> None:
        if pending:
            screens.append(Screen(len(screens), parts=tuple(pending)))
            pending.clear()

    for section in questionnaire.sections:
        general: list[Entry] = []
        for question in section.questions:
            if question.type is not QuestionType.RATE_UNITS:
                general.extend(by_question.get(question.id, []))
                continue
            if general:
                pending.append((section, tuple(general)))
                general = []
            flush()
            units: dict[int, list[Entry]] = {}
            for entry in by_question.get(question.id, []):
                units.setdefault(entry.unit.id, []).append(entry)
            kinds = {rows[0].unit.kind.strip().lower() for rows in units.values()}
            kind = kinds.pop().capitalize() if len(kinds) == 1 and "" not in kinds else "Đơn vị"
            for position, rows in enumerate(units.values(), start=1):
                screens.append(Screen(len(screens), unit=rows[0].unit, parent=question, unit_entries=tuple(rows),
                                      position=position, of=len(units), kind=kind))  # fmt: skip
        if general:
            pending.append((section, tuple(general)))
    flush()
    return screens


def visible_names(entries: list[Entry], data: MultiDict) -> set[str]:
    """The fields asked, given the answers in ``data`` (the skip logic of ``ResponseForm.validate``)."""
    visible: set[str] = set()
    given: dict[str, frozenset[str]] = {}
    per_unit: dict[int, dict[str, frozenset[str]]] = {}
    for entry in entries:
        context = given if entry.unit is None else {**given, **per_unit.setdefault(entry.unit.id, {})}
        if not is_visible(entry.question, context):
            continue
        visible.add(entry.name)
        codes = frozenset(v for v in data.getlist(entry.name) if v.strip())
        (given if entry.unit is None else per_unit[entry.unit.id])[entry.question.id] = codes
    return visible


@dataclass(frozen=True)
class ScreenState:
    asked: int
    answered: int
    missing: int  #: required questions asked and not answered
    required: int  #: required questions asked

    @property
    def done(self) -> bool:
        """Every required question answered; a screen of optional questions only is never waiting."""
        return self.missing == 0 and (self.answered > 0 or self.required == 0)

    @property
    def started(self) -> bool:
        return self.answered > 0


def screen_states(screens: list[Screen], visible: set[str], data: MultiDict) -> list[ScreenState]:
    states = []
    for screen in screens:
        asked = [e for e in screen.entries if e.name in visible]
        answered = [e for e in asked if any(v.strip() for v in data.getlist(e.name))]
        required = sum(1 for e in asked if e.question.required)
        missing = sum(1 for e in asked if e.question.required and e not in answered)
        states.append(ScreenState(len(asked), len(answered), missing, required))
    return states


def first_unfinished(states: list[ScreenState]) -> int:
    return next((i for i, state in enumerate(states) if not state.done), len(states) - 1)


def merge_screen(saved: MultiDict, posted: MultiDict, screen: Screen, known: frozenset[str]) -> MultiDict:
    """The draft after posting ``screen``: its fields as posted (a cleared radio or box is absent
    from a post, so absent means cleared), every other field as saved."""
    out = MultiDict(
        [(name, value) for name, value in saved.items(multi=True) if name not in screen.names and name not in posted]
    )
    for name in posted:
        if name in known:
            for value in posted.getlist(name):
                out.add(name, value)
    return out


def live_conditions(questionnaire: Questionnaire, screen: Screen, entry: Entry) -> bool:
    """Whether the page's script can apply ``entry``'s skip logic: every field it looks at is on
    this screen. Otherwise the server decides (it knows the other screens' answers)."""
    if not entry.question.conditions:
        return True
    return set(condition_field(questionnaire, entry.question, entry.unit).split()) <= screen.names


@dataclass(frozen=True)
class Grid:
    """Every unit of a long form on one wide screen: units in rows, the items in columns."""

    rows: tuple[Screen, ...]  #: the unit screens, in order
    items: tuple[Question, ...]

    @property
    def names(self) -> frozenset[str]:
        return frozenset(name for row in self.rows for name in row.names)

    @property
    def first(self) -> int:
        return self.rows[0].index

    @property
    def last(self) -> int:
        return self.rows[-1].index


def grid_of(plan: list[Screen]) -> Grid | None:
    """The units × items grid of a plan whose units share one rate_units question of scale items
    (a choice per cell); None otherwise (the screens one by one stay the only way)."""
    rows = tuple(screen for screen in plan if screen.unit is not None)
    parents = {id(screen.parent) for screen in rows}
    if len(rows) < MIN_UNITS_TO_PAGE or len(parents) != 1:
        return None
    items = rows[0].parent.items
    if any(item.type is not QuestionType.SCALE or item.conditions for item in items):
        return None
    return Grid(rows, items)
