"""Typed objects a questionnaire file loads into. Pure data: no web, no database."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property


class QuestionType(StrEnum):
    SINGLE = "single"  #: one option of a list
    MULTIPLE = "multiple"  #: any options of a list
    SCALE = "scale"  #: one level of a rating scale (1..n)
    YESNO = "yesno"  #: yes or no
    NUMBER = "number"  #: a number within bounds
    TEXT = "text"  #: one line of free text
    LONGTEXT = "longtext"  #: a paragraph of free text
    RATE_UNITS = "rate_units"  #: the same items asked about each unit of a set


class UnitsScope(StrEnum):
    """Which units a rate_units question asks about; the campaign resolves it at run time."""

    ASSIGNED = "assigned"  #: the units the respondent group is assigned to rate
    SCOPE = "scope"  #: every active unit below the campaign's scope unit


CHOICE_TYPES = frozenset({QuestionType.SINGLE, QuestionType.MULTIPLE, QuestionType.YESNO})
CONDITION_TARGET_TYPES = CHOICE_TYPES | {QuestionType.SCALE}

YES, NO = "yes", "no"


@dataclass(frozen=True)
class Option:
    code: str
    label: str


@dataclass(frozen=True)
class Scale:
    name: str
    labels: tuple[str, ...]  #: labels of levels 1..n, lowest first

    @property
    def levels(self) -> range:
        return range(1, len(self.labels) + 1)

    def label(self, level: int) -> str:
        return self.labels[level - 1]


SATISFACTION_5 = Scale(
    name="satisfaction5",
    labels=(
        "Rất không hài lòng",
        "Không hài lòng",
        "Bình thường",
        "Hài lòng",
        "Rất hài lòng",
    ),
)

YESNO_OPTIONS = (Option(YES, "Có"), Option(NO, "Không"))

#: the language every questionnaire is written in, and falls back to where a translation is missing
DEFAULT_LANGUAGE = "vi"
DEFAULT_LANGUAGE_NAME = "Tiếng Việt"


@dataclass(frozen=True)
class Condition:
    """Show a question only when an earlier question's answer is one of ``answers``."""

    question: str
    answers: frozenset[str]  #: option codes, or scale levels written as text ("4", "5")


@dataclass(frozen=True)
class Question:
    id: str
    type: QuestionType
    label: str
    required: bool = True
    help: str | None = None
    options: tuple[Option, ...] = ()
    scale: Scale | None = None
    aspect: str | None = None  #: which aspect a scale item measures (key of Questionnaire.aspects)
    criterion: str | None = None  #: index criterion code, e.g. "8.1.3"
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = True
    max_length: int | None = None
    show_if: Condition | None = None  #: the first condition (all of ``conditions`` must hold)
    show_if_also: tuple[Condition, ...] = ()  #: further conditions on other questions, all required
    items: tuple[Question, ...] = ()  #: for RATE_UNITS: the questions asked about each unit
    units: UnitsScope | None = None  #: for RATE_UNITS
    line: int | None = None  #: line in the definition file, for messages
    yesno: tuple[Option, Option] = YESNO_OPTIONS  #: the yes/no labels in the questionnaire's language

    @property
    def conditions(self) -> tuple[Condition, ...]:
        """Every condition the question is shown under (all of them must hold)."""
        return ((self.show_if,) if self.show_if else ()) + self.show_if_also

    def choices(self) -> tuple[Option, ...]:
        """The answer codes this question accepts, as options (scale levels as "1".."n")."""
        if self.type is QuestionType.YESNO:
            return self.yesno
        if self.type is QuestionType.SCALE:
            assert self.scale is not None
            return tuple(Option(str(level), self.scale.label(level)) for level in self.scale.levels)
        return self.options

    @cached_property
    def codes(self) -> frozenset[str]:
        """The codes of :meth:`choices`, as a set (made once)."""
        return frozenset(option.code for option in self.choices())


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    questions: tuple[Question, ...]
    intro: str | None = None  #: a paragraph shown under the section's title


@dataclass(frozen=True)
class Questionnaire:
    code: str
    version: int
    title: str
    intro: str | None
    aspects: dict[str, str]  #: aspect key -> Vietnamese name
    sections: tuple[Section, ...]
    source_file: str = ""
    content_hash: str = ""  #: sha256 of the canonical content (every language); changes whenever questions change
    #: every language the questionnaire can be answered in, Vietnamese first: code -> name
    languages: dict[str, str] = field(default_factory=lambda: {DEFAULT_LANGUAGE: DEFAULT_LANGUAGE_NAME})
    language: str = DEFAULT_LANGUAGE  #: the language of the texts of this copy
    #: the one-tap rating (issue 22): ids of one or two five-level scale questions asked first, as
    #: five faces, on a counter's poster and tablet; the rest of the questionnaire is "tell us more"
    quick: tuple[str, ...] = ()
    _index: dict[str, Question] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for section in self.sections:
            for question in section.questions:
                self._index[question.id] = question
                for item in question.items:
                    self._index[item.id] = item

    def question(self, question_id: str) -> Question:
        return self._index[question_id]

    def has_question(self, question_id: str) -> bool:
        return question_id in self._index

    def quick_questions(self) -> list[Question]:
        """The questions of the one-tap rating, in the order of ``quick``."""
        return [self._index[qid] for qid in self.quick]

    @cached_property
    def quick_part(self) -> Questionnaire:
        """The one-tap rating alone, as a questionnaire of one section (its form validates only
        these questions; the content hash tells its form apart from the whole questionnaire's)."""
        section = Section("quick", self.title, tuple(self.quick_questions()))
        return Questionnaire(self.code, self.version, self.title, self.intro, self.aspects, (section,),
                             self.source_file, f"{self.content_hash}:quick", self.languages, self.language,
                             quick=self.quick, _index={})  # fmt: skip

    def top_questions(self) -> list[Question]:
        return [q for s in self.sections for q in s.questions]

    def scale_items(self) -> list[Question]:
        """Every scale question, including the items of rate_units questions."""
        return [q for q in self._index.values() if q.type is QuestionType.SCALE]

    @property
    def rates_units(self) -> bool:
        return any(q.type is QuestionType.RATE_UNITS for q in self.top_questions())
