"""Editing a questionnaire definition held as plain data: what the web builder does, one change
at a time. Pure Python: a document is the dict a definition file loads into (FORMAT.md).

Every change goes through :func:`apply_change`: the change is made on a copy, the copy is
checked with the same loader as a file, and the change is kept only if it adds no problem the
document did not already have. So a draft may be unfinished (a section still without questions)
but no single change can break it, and what is refused is refused whole.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .errors import DefinitionError, DefinitionProblem
from .loader import ID_PATTERN, dump_definition, load_text
from .model import CONDITION_TARGET_TYPES, SATISFACTION_5, Questionnaire, QuestionType

Document = dict[str, Any]

#: what the builder calls each question type
TYPE_NAMES: dict[str, str] = {
    QuestionType.SINGLE: "Chọn một phương án",
    QuestionType.MULTIPLE: "Chọn nhiều phương án",
    QuestionType.SCALE: "Thang đo mức độ",
    QuestionType.YESNO: "Có / Không",
    QuestionType.NUMBER: "Số",
    QuestionType.TEXT: "Câu trả lời ngắn",
    QuestionType.LONGTEXT: "Đoạn văn",
    QuestionType.RATE_UNITS: "Đánh giá từng đơn vị",
}

#: keys of a question the builder sets, per type (anything else a type does not use is dropped)
TYPE_KEYS: dict[str, tuple[str, ...]] = {
    QuestionType.SINGLE: ("options",),
    QuestionType.MULTIPLE: ("options",),
    QuestionType.SCALE: ("scale", "aspect"),
    QuestionType.YESNO: (),
    QuestionType.NUMBER: ("min", "max", "integer"),
    QuestionType.TEXT: ("max_length",),
    QuestionType.LONGTEXT: ("max_length",),
    QuestionType.RATE_UNITS: ("units", "items"),
}
COMMON_KEYS = ("id", "type", "label", "help", "required", "criterion", "show_if")


class ChangeRefused(ValueError):
    """A change that would add problems; ``problems`` are the new ones, in Vietnamese."""

    def __init__(self, problems: list[DefinitionProblem]):
        self.problems = problems
        super().__init__("\n".join(p.message for p in problems))


def slug(text: str, fallback: str = "muc") -> str:
    """An identifier made from Vietnamese text: no diacritics, lowercase, underscores.

    >>> slug("Đất đai, nhà ở"), slug("12 tháng"), slug("  ")
    ('dat_dai_nha_o', 'm_12_thang', 'muc')
    """
    text = text.replace("đ", "d").replace("Đ", "D")
    plain = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    words = re.findall(r"[a-z0-9]+", plain.lower())
    made = "_".join(words)[:40].strip("_")
    if not made:
        return fallback
    if not made[0].isalpha():
        made = f"m_{made}"
    return made


def unique(base: str, taken: set[str]) -> str:
    """``base``, or ``base_2``, ``base_3`` … whichever is not taken."""
    base = base[:60]
    if base not in taken:
        return base
    n = 2
    while f"{base}_{n}" in taken:
        n += 1
    return f"{base}_{n}"


# -- reading a document ---------------------------------------------------------------------------
def load_document(text: str) -> Document:
    import yaml

    data = yaml.safe_load(text)
    return data if isinstance(data, dict) else {}


def dump_document(doc: Document) -> str:
    return dump_definition(doc)


def questions_in_order(doc: Document) -> Iterator[tuple[dict, dict | None, dict]]:
    """(section, parent rate_units question or None, question) for every question, in form order."""
    for section in doc.get("sections") or []:
        for question in section.get("questions") or []:
            yield section, None, question
            for item in question.get("items") or []:
                yield section, question, item


def all_ids(doc: Document) -> set[str]:
    return {q.get("id") for _s, _p, q in questions_in_order(doc)} | {s.get("id") for s in doc.get("sections") or []}


@dataclass
class Found:
    container: list  #: the list holding the question (a section's questions or a parent's items)
    index: int
    question: dict
    section: dict
    parent: dict | None


def find_question(doc: Document, qid: str) -> Found | None:
    for section in doc.get("sections") or []:
        questions = section.get("questions") or []
        for i, question in enumerate(questions):
            if question.get("id") == qid:
                return Found(questions, i, question, section, None)
            items = question.get("items") or []
            for j, item in enumerate(items):
                if item.get("id") == qid:
                    return Found(items, j, item, section, question)
    return None


def find_section(doc: Document, sid: str) -> dict | None:
    return next((s for s in doc.get("sections") or [] if s.get("id") == sid), None)


def condition_targets(doc: Document, qid: str | None, parent_id: str | None = None) -> list[dict]:
    """The questions a skip rule of ``qid`` may look at: earlier single, multiple, yes/no and scale
    questions (for an item of a rate_units question: the earlier items of the same question, or
    top-level questions before it). ``qid`` None means a question added at the end."""
    allowed = {t.value for t in CONDITION_TARGET_TYPES}
    out = []
    for _section, parent, question in questions_in_order(doc):
        if question.get("id") == qid:
            break
        if question.get("type") not in allowed:
            continue
        own_parent = parent.get("id") if parent else None
        if own_parent is None or own_parent == parent_id:
            out.append(question)
    return out


def choices_of(doc: Document, question: dict) -> list[tuple[str, str]]:
    """(code, label) of the answers a question accepts, as skip logic refers to them."""
    kind = question.get("type")
    if kind == QuestionType.YESNO:
        return [("yes", "Có"), ("no", "Không")]
    if kind == QuestionType.SCALE:
        labels = scale_labels(doc, question.get("scale") or SATISFACTION_5.name)
        return [(str(i), f"{i} · {label}") for i, label in enumerate(labels, start=1)]
    return [(o.get("code", ""), o.get("label", "")) for o in question.get("options") or []]


def scale_labels(doc: Document, name: str) -> list[str]:
    if name == SATISFACTION_5.name:
        return list(SATISFACTION_5.labels)
    return list((doc.get("scales") or {}).get(name) or [])


# -- checking -------------------------------------------------------------------------------------
def check(doc: Document, filename: str = "bản nháp") -> tuple[Questionnaire | None, list[DefinitionProblem]]:
    """The loaded questionnaire and no problems, or None and every problem the loader found."""
    try:
        return load_text(dump_document(doc), filename), []
    except DefinitionError as exc:
        return None, exc.problems


def _key(problem: DefinitionProblem) -> tuple:
    return (problem.code, problem.question, tuple(sorted((k, str(v)) for k, v in problem.params.items())))


def apply_change(doc: Document, change: Callable[[Document], Any]) -> tuple[Document, Any]:
    """Make ``change`` on a copy of ``doc``; return the copy and what the change returned, or raise
    :class:`ChangeRefused` with the problems it would add."""
    before = {_key(p) for p in check(doc)[1]}
    changed = copy.deepcopy(doc)
    result = change(changed)
    new = [p for p in check(changed)[1] if _key(p) not in before]
    if new:
        raise ChangeRefused(new)
    return changed, result


# -- changes --------------------------------------------------------------------------------------
def new_document(code: str, title: str) -> Document:
    return {
        "id": code,
        "version": 1,
        "title": title,
        "aspects": {"chung": "Đánh giá chung"},
        "sections": [{"id": "phan_1", "title": "Phần 1", "questions": []}],
    }


def set_general(doc: Document, *, title: str, intro: str) -> None:
    doc["title"] = title.strip()
    _set_optional(doc, "intro", intro)


def _set_optional(mapping: dict, key: str, value: Any) -> None:
    if value is None or (isinstance(value, str) and not value.strip()):
        mapping.pop(key, None)
    else:
        mapping[key] = value.strip() if isinstance(value, str) else value


def add_section(doc: Document, title: str) -> str:
    sid = unique(slug(title, "phan"), all_ids(doc))
    doc.setdefault("sections", []).append({"id": sid, "title": title.strip(), "questions": []})
    return sid


def update_section(doc: Document, sid: str, *, title: str, intro: str) -> None:
    section = find_section(doc, sid)
    if section is None:
        raise KeyError(sid)
    section["title"] = title.strip()
    _set_optional(section, "intro", intro)
    # keep the documented key order: id, title, intro, questions
    questions = section.pop("questions", [])
    section["questions"] = questions


def move_section(doc: Document, sid: str, delta: int) -> None:
    sections = doc.get("sections") or []
    i = next(i for i, s in enumerate(sections) if s.get("id") == sid)
    j = max(0, min(len(sections) - 1, i + delta))
    sections.insert(j, sections.pop(i))


def delete_section(doc: Document, sid: str) -> None:
    doc["sections"] = [s for s in doc.get("sections") or [] if s.get("id") != sid]


def add_aspect(doc: Document, name: str) -> str:
    aspects = doc.setdefault("aspects", {})
    for key, existing in aspects.items():
        if existing.strip().lower() == name.strip().lower():
            return key
    key = unique(slug(name, "khia_canh"), set(aspects))
    aspects[key] = name.strip()
    return key


def add_scale(doc: Document, labels: list[str]) -> str:
    """A scale with these level labels (lowest first): an existing one if the labels match."""
    labels = [label.strip() for label in labels if label.strip()]
    if labels == list(SATISFACTION_5.labels):
        return SATISFACTION_5.name
    scales = doc.setdefault("scales", {})
    for name, existing in scales.items():
        if existing == labels:
            return name
    name = unique(f"thang_{len(labels)}_muc", set(scales) | {SATISFACTION_5.name})
    scales[name] = labels
    return name


def add_question(doc: Document, *, section_id: str | None, parent_id: str | None, qtype: str, label: str,
                 after: str | None = None) -> str:  # fmt: skip
    """A new question at the end of a section (or of a rate_units question's items), or right
    after ``after``; its id is made from the label. Returns the id."""
    qid = unique(slug(label, "cau"), all_ids(doc))
    question: dict[str, Any] = {"id": qid, "type": qtype, "label": label.strip()}
    match qtype:
        case QuestionType.SINGLE | QuestionType.MULTIPLE:
            question["options"] = [{"code": "co", "label": "Có"}, {"code": "khong", "label": "Không"}]
        case QuestionType.SCALE:
            question["aspect"] = next(iter(doc.get("aspects") or {}), None) or add_aspect(doc, "Đánh giá chung")
        case QuestionType.RATE_UNITS:
            question["units"] = "assigned"
            question["items"] = [
                {"id": unique(f"{qid}_muc_1", all_ids(doc) | {qid}), "type": "scale",
                 "aspect": next(iter(doc.get("aspects") or {}), None) or add_aspect(doc, "Đánh giá chung"),
                 "label": "Đánh giá chung về đơn vị"}
            ]  # fmt: skip
    if parent_id:
        found = find_question(doc, parent_id)
        if found is None:
            raise KeyError(parent_id)
        container = found.question.setdefault("items", [])
    else:
        section = find_section(doc, section_id or "")
        if section is None:
            raise KeyError(section_id)
        container = section.setdefault("questions", [])
    index = len(container)
    if after:
        index = next((i + 1 for i, q in enumerate(container) if q.get("id") == after), index)
    container.insert(index, question)
    return qid


@dataclass
class QuestionEdit:
    """What the builder's question form sends, already parsed (numbers are numbers)."""

    label: str
    qtype: str
    help: str = ""
    required: bool = True
    criterion: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)  #: (code, label); blank codes are made
    scale: str | None = None
    aspect: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = True
    max_length: int | None = None
    units: str | None = None
    #: skip logic: (earlier question, answers that show this one); all must hold
    conditions: list[tuple[str, list[str]]] = field(default_factory=list)
    #: language -> {"label": …, "help": …}; an empty text means no translation
    translations: dict[str, dict[str, str]] = field(default_factory=dict)
    #: language -> the options' labels, in the order of ``options``
    option_translations: dict[str, list[str]] = field(default_factory=dict)
    #: asked first at the counter as five faces (the one-tap rating: ``quick`` in FORMAT.md)
    quick: bool = False


def update_question(doc: Document, qid: str, edit: QuestionEdit) -> None:
    found = find_question(doc, qid)
    if found is None:
        raise KeyError(qid)
    old = found.question
    new: dict[str, Any] = {"id": qid, "type": edit.qtype, "label": edit.label.strip()}
    if edit.help.strip():
        new["help"] = edit.help.strip()
    default_required = edit.qtype not in (QuestionType.TEXT, QuestionType.LONGTEXT)
    if edit.required != default_required:
        new["required"] = edit.required
    if edit.criterion.strip():
        new["criterion"] = edit.criterion.strip()
    match edit.qtype:
        case QuestionType.SINGLE | QuestionType.MULTIPLE:
            new["options"] = []
        case QuestionType.SCALE:
            if edit.scale and edit.scale != SATISFACTION_5.name:
                new["scale"] = edit.scale
            new["aspect"] = edit.aspect
        case QuestionType.NUMBER:
            if edit.minimum is not None:
                new["min"] = edit.minimum
            if edit.maximum is not None:
                new["max"] = edit.maximum
            if not edit.integer:
                new["integer"] = False
        case QuestionType.TEXT | QuestionType.LONGTEXT:
            if edit.max_length:
                new["max_length"] = edit.max_length
        case QuestionType.RATE_UNITS:
            new["units"] = edit.units or "assigned"
            new["items"] = old.get("items") or []
    shown_if = [{"question": q, "answers": list(a)} for q, a in edit.conditions]
    if shown_if:
        new["show_if"] = shown_if[0] if len(shown_if) == 1 else shown_if
    for lang, texts in edit.translations.items():
        for key in ("label", "help"):
            if texts.get(key, "").strip() and (key == "label" or "help" in new):
                new[f"{key}::{lang}"] = texts[key].strip()
    if "options" in new:
        new["options"] = _options(edit.options, edit.option_translations)
    found.container[found.index] = new
    set_quick(doc, qid, edit.quick and edit.qtype == QuestionType.SCALE)


def set_quick(doc: Document, qid: str, on: bool) -> None:
    """``qid`` in the one-tap rating or not (the loader refuses a third one, or one that is not
    a five-level scale question asked unconditionally)."""
    ids = [i for i in doc.get("quick") or [] if i != qid]
    if on:
        ids.append(qid)
    order = [q.get("id") for _section, parent, q in questions_in_order(doc) if parent is None]
    ids.sort(key=lambda i: order.index(i) if i in order else len(order))  # asked in the form's order
    if ids:
        sections = doc.pop("sections", None)  # written where FORMAT.md puts it: before the sections
        doc["quick"] = ids
        if sections is not None:
            doc["sections"] = sections
    else:
        doc.pop("quick", None)


def _options(pairs: list[tuple[str, str]], translations: dict[str, list[str]] | None = None) -> list[dict]:
    taken: set[str] = set()
    out = []
    for i, (code, label) in enumerate(pairs):
        if not label.strip() and not code.strip():
            continue
        code = code.strip() or unique(slug(label, "pa"), taken)
        taken.add(code)
        option = {"code": code, "label": label.strip()}
        for lang, labels in (translations or {}).items():
            if i < len(labels) and labels[i].strip():
                option[f"label::{lang}"] = labels[i].strip()
        out.append(option)
    return out


def set_languages(doc: Document, languages: dict[str, str], titles: dict[str, str]) -> None:
    """The questionnaire's other languages (code -> name) and its title in each. Translations of
    a language that is removed are removed with it."""
    removed = set(doc.get("languages") or {}) - set(languages)
    if languages:
        doc["languages"] = dict(languages)
    else:
        doc.pop("languages", None)
    for code in list(doc):
        if "::" in code and code.split("::")[1] in removed:
            doc.pop(code)
    for code, title in titles.items():
        if code in languages:
            _set_optional(doc, f"title::{code}", title)

    def strip(mapping: dict) -> None:
        for key in [k for k in mapping if "::" in k and k.split("::")[1] in removed]:
            mapping.pop(key)

    for section in doc.get("sections") or []:
        strip(section)
        for _s, _p, question in questions_in_order({"sections": [section]}):
            strip(question)
            for option in question.get("options") or []:
                strip(option)


def set_level_translations(doc: Document, lang: str, scales: dict[str, list[str]], yesno: list[str]) -> None:
    """A language's labels for each scale's levels and for yes/no; empty lists remove them (the
    Vietnamese labels show then). The loader checks the number of levels."""
    kept = {name: labels for name, labels in scales.items() if any(x.strip() for x in labels)}
    if kept:
        doc[f"scales::{lang}"] = {name: [x.strip() for x in labels if x.strip()] for name, labels in kept.items()}
    else:
        doc.pop(f"scales::{lang}", None)
    yesno = [x.strip() for x in yesno if x.strip()]
    if yesno:
        doc[f"yesno::{lang}"] = yesno
    else:
        doc.pop(f"yesno::{lang}", None)


def parse_languages(text: str) -> dict[str, str]:
    """Lines "km = Tiếng Khmer" (or "km Tiếng Khmer") as code -> name; the loader checks the codes.

    >>> parse_languages("km = Tiếng Khmer\nen English")
    {'km': 'Tiếng Khmer', 'en': 'English'}
    """
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        code, _, name = line.replace("=", " ", 1).partition(" ")
        out[code.strip().lower()] = name.strip() or code.strip()
    return out


def move_question(doc: Document, qid: str, delta: int) -> None:
    """One place up (-1) or down (+1); past the top or bottom of a section, into the next one."""
    found = find_question(doc, qid)
    if found is None:
        raise KeyError(qid)
    j = found.index + delta
    if 0 <= j < len(found.container):
        found.container.insert(j, found.container.pop(found.index))
        return
    if found.parent is not None:
        return  # items stay within their rate_units question
    sections = doc.get("sections") or []
    k = sections.index(found.section) + delta
    if not 0 <= k < len(sections):
        return
    question = found.container.pop(found.index)
    target = sections[k].setdefault("questions", [])
    if delta < 0:
        target.append(question)
    else:
        target.insert(0, question)


def delete_question(doc: Document, qid: str) -> None:
    found = find_question(doc, qid)
    if found is None:
        raise KeyError(qid)
    found.container.pop(found.index)
    set_quick(doc, qid, False)


def is_identifier(value: str) -> bool:
    return bool(ID_PATTERN.match(value or ""))
