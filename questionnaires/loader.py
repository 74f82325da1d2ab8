"""Load and validate questionnaire definition files (YAML).

One entry point, :func:`load_questionnaire` (and :func:`load_text` for text already read),
returns a :class:`~questionnaires.model.Questionnaire` or raises
:class:`~questionnaires.errors.DefinitionError` listing every problem with its file, line and
question. The format is documented in ``questionnaires/FORMAT.md``.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import yaml

from .errors import DefinitionError, DefinitionProblem
from .model import (
    CONDITION_TARGET_TYPES,
    DEFAULT_LANGUAGE,
    DEFAULT_LANGUAGE_NAME,
    NO,
    SATISFACTION_5,
    YES,
    YESNO_OPTIONS,
    Condition,
    Option,
    Question,
    Questionnaire,
    QuestionType,
    Scale,
    Section,
    UnitsScope,
)

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
CRITERION_PATTERN = re.compile(r"^\d+(\.\d+)*$")
TOP_KEYS = ("id", "version", "title", "intro", "languages", "aspects", "scales", "yesno", "quick", "sections")
#: how many questions the one-tap rating may ask, and how many faces each has
QUICK_MAX, QUICK_LEVELS = 2, 5
#: keys that may carry a translation as ``key::<language>`` (title::km, label::en …)
TRANSLATABLE = frozenset({"title", "intro", "label", "help", "scales", "yesno"})
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")
SECTION_KEYS = ("id", "title", "intro", "questions")
QUESTION_KEYS = (
    "id",
    "type",
    "label",
    "help",
    "required",
    "options",
    "scale",
    "aspect",
    "criterion",
    "min",
    "max",
    "integer",
    "max_length",
    "show_if",
    "items",
    "units",
)
#: free text is optional unless the author says otherwise; everything else is required
OPTIONAL_BY_DEFAULT = {QuestionType.TEXT, QuestionType.LONGTEXT}
DEFAULT_MAX_LENGTH = {QuestionType.TEXT: 200, QuestionType.LONGTEXT: 2000}


class _LineDict(dict):
    """A mapping that remembers the line it started on (1-based)."""

    line: int = 0


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _LineDict:
    mapping = _LineDict(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _plain(value: Any) -> Any:
    """Strip line bookkeeping so the content can be hashed."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def content_hash(data: Any) -> str:
    canonical = json.dumps(_plain(data), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def dump_definition(data: Any) -> str:
    """The YAML text of a definition held as plain data (the builder's drafts, an imported
    XLSForm): block style, Vietnamese as written, keys in the order the format documents."""
    return yaml.safe_dump(_plain(data), allow_unicode=True, sort_keys=False, width=100, default_flow_style=False)


def load_questionnaire(path: str | Path) -> Questionnaire:
    """Read, validate and return the questionnaire defined in ``path``."""
    path = Path(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DefinitionError([DefinitionProblem("not_utf8", path.name)]) from None
    return load_text(text, path.name)


def load_text(text: str, filename: str = "<văn bản>", language: str | None = None) -> Questionnaire:
    """Validate and return the questionnaire in ``text``; ``filename`` is used in messages.

    With ``language`` (one the questionnaire declares), its texts are in that language, each
    falling back to the Vietnamese where no translation is written; the content hash is the same
    in every language."""
    try:
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        problem = DefinitionProblem("yaml_syntax", filename, line, params={"detail": exc.problem})
        raise DefinitionError([problem]) from None
    except yaml.YAMLError as exc:
        raise DefinitionError([DefinitionProblem("yaml_syntax", filename, params={"detail": str(exc)})]) from None
    return _Validator(filename, language).build(data)


def _declared_ids(data: Any) -> set:
    """Every question id written anywhere in the document (to tell "later" from "missing")."""
    ids: set = set()

    def walk(questions: Any) -> None:
        for q in questions if isinstance(questions, list) else []:
            if isinstance(q, dict):
                ids.add(q.get("id"))
                walk(q.get("items"))

    for section in data.get("sections") or [] if isinstance(data.get("sections"), list) else []:
        if isinstance(section, dict):
            walk(section.get("questions"))
    return ids


class _Validator:
    def __init__(self, filename: str, language: str | None = None):
        self.file = filename
        self.wanted = language
        self.language = DEFAULT_LANGUAGE
        self.languages: dict[str, str] = {DEFAULT_LANGUAGE: DEFAULT_LANGUAGE_NAME}
        self.problems: list[DefinitionProblem] = []
        self.scales: dict[str, Scale] = {SATISFACTION_5.name: SATISFACTION_5}
        self.aspects: dict[str, str] = {}
        self.seen: dict[str, Question] = {}  # question id -> question, in file order
        self.seen_lines: dict[str, int | None] = {}
        self.yesno: tuple[Option, Option] = YESNO_OPTIONS

    # -- helpers -------------------------------------------------------------------------------
    def problem(self, code: str, line: int | None = None, question: str | None = None, **params: Any) -> None:
        self.problems.append(DefinitionProblem(code, self.file, line, question, params))

    def check_keys(self, mapping: _LineDict, allowed: tuple[str, ...], question: str | None = None) -> None:
        for key in mapping:
            base, _, lang = str(key).partition("::")
            if lang and base in allowed and base in TRANSLATABLE:
                if lang not in self.languages or lang == DEFAULT_LANGUAGE:
                    known = ", ".join(code for code in self.languages if code != DEFAULT_LANGUAGE) or "chưa có"
                    self.problem("unknown_language", mapping.line, question, key=key, value=lang, known=known)
                elif base not in ("scales", "yesno") and not isinstance(mapping[key], str | int | float):
                    self.problem("empty_label", mapping.line, question, key=key)
            elif key not in allowed:
                self.problem("unknown_key", mapping.line, question, key=key, allowed=", ".join(allowed))

    def text(self, mapping: _LineDict, key: str, question: str | None = None, required: bool = True) -> str | None:
        value = mapping.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.problem("empty_label", mapping.line, question, key=key)
            return None
        if self.language != DEFAULT_LANGUAGE:
            translated = mapping.get(f"{key}::{self.language}")
            if isinstance(translated, str | int | float) and str(translated).strip():
                return str(translated).strip()
        return str(value).strip()

    def identifier(self, mapping: _LineDict, question: str | None = None) -> str | None:
        value = mapping.get("id")
        if value is None:
            self.problem("missing_key", mapping.line, question, key="id")
            return None
        if not isinstance(value, str) or not ID_PATTERN.match(value):
            self.problem("bad_id", mapping.line, question, value=value)
            return None
        return value

    def number(self, mapping: _LineDict, key: str, qid: str | None) -> float | None:
        value = mapping.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problem("bad_number", mapping.line, qid, key=key, value=value)
            return None
        return value

    def flag(self, mapping: _LineDict, key: str, default: bool, qid: str | None) -> bool:
        value = mapping.get(key, default)
        if not isinstance(value, bool):
            self.problem("bad_bool", mapping.line, qid, key=key, value=value)
            return default
        return value

    def listing(self, mapping: _LineDict, key: str, qid: str | None = None) -> list:
        value = mapping.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem("not_list", mapping.line, qid, key=key)
            return []
        good = []
        for item in value:
            if isinstance(item, dict):
                good.append(item)
            else:
                self.problem("not_mapping_item", mapping.line, qid, key=key)
        return good

    # -- the document ----------------------------------------------------------------------------
    def build(self, data: Any) -> Questionnaire:
        if not isinstance(data, dict):
            raise DefinitionError([DefinitionProblem("not_mapping", self.file)])
        code = self.identifier(data)
        version = data.get("version")
        if version is None:
            self.problem("missing_key", data.line, key="version")
        elif isinstance(version, bool) or not isinstance(version, int) or version < 1:
            self.problem("bad_version", data.line, value=version)
        self.read_languages(data)
        self.check_keys(data, TOP_KEYS)
        title = self.text(data, "title")
        intro = self.text(data, "intro", required=False)
        self.read_aspects(data)
        self.read_scales(data)
        self.read_yesno(data)
        self.declared = _declared_ids(data)
        sections = self.read_sections(data)
        quick = self.read_quick(data, sections)
        if self.problems:
            raise DefinitionError(self.problems)
        return Questionnaire(
            code=code,
            version=version,
            title=title,
            intro=intro,
            aspects=dict(self.aspects),
            sections=tuple(sections),
            source_file=self.file,
            content_hash=content_hash(data),
            languages=dict(self.languages),
            language=self.language,
            quick=quick,
        )

    def read_quick(self, data: _LineDict, sections: list[Section]) -> tuple[str, ...]:
        """``quick``: one or two top-level five-level scale questions, asked first as faces."""
        if "quick" not in data:
            return ()
        ids = data.get("quick")
        if not (isinstance(ids, list) and 1 <= len(ids) <= QUICK_MAX and all(isinstance(i, str) for i in ids)):
            self.problem("quick_shape", data.line, most=QUICK_MAX)
            return ()
        top = {q.id: q for s in sections for q in s.questions}
        for qid in ids:
            question = top.get(qid)
            if question is None:
                self.problem("quick_unknown", data.line, value=qid)
            elif (
                question.type is not QuestionType.SCALE
                or question.scale is None
                or len(question.scale.labels) != QUICK_LEVELS
            ):
                self.problem("quick_not_faces", question.line, qid, levels=QUICK_LEVELS)
            elif question.conditions:
                self.problem("quick_conditional", question.line, qid)
        if len(set(ids)) != len(ids):
            self.problem("quick_repeated", data.line)
        order = list(top)
        return tuple(sorted(ids, key=lambda qid: order.index(qid) if qid in top else len(order)))  # as in the form

    def read_languages(self, data: _LineDict) -> None:
        languages = data.get("languages") or {}
        if not isinstance(languages, dict):
            self.problem("not_mapping_item", data.line, key="languages")
            return
        for code, name in languages.items():
            if not isinstance(code, str) or not LANGUAGE_CODE.match(code) or code == DEFAULT_LANGUAGE:
                self.problem("bad_language", data.line, value=code)
            elif not isinstance(name, str) or not name.strip():
                self.problem("empty_label", data.line, key=f"languages.{code}")
            else:
                self.languages[code] = name.strip()
        if self.wanted in self.languages:
            self.language = self.wanted

    def read_yesno(self, data: _LineDict) -> None:
        for lang in self.languages:
            labels = data.get("yesno" if lang == DEFAULT_LANGUAGE else f"yesno::{lang}")
            if labels is None:
                continue
            if not (
                isinstance(labels, list) and len(labels) == 2 and all(isinstance(x, str) and x.strip() for x in labels)
            ):
                self.problem("bad_yesno", data.line, value=lang)
            elif lang == self.language or (lang == DEFAULT_LANGUAGE and f"yesno::{self.language}" not in data):
                self.yesno = (Option(YES, labels[0].strip()), Option(NO, labels[1].strip()))

    def read_aspects(self, data: _LineDict) -> None:
        aspects = data.get("aspects") or {}
        if not isinstance(aspects, dict):
            self.problem("not_mapping_item", data.line, key="aspects")
            return
        for key, name in aspects.items():
            if not isinstance(key, str) or not ID_PATTERN.match(key):
                self.problem("bad_id", data.line, value=key)
            elif not isinstance(name, str) or not name.strip():
                self.problem("empty_label", data.line, key=f"aspects.{key}")
            else:
                self.aspects[key] = name.strip()

    def read_scales(self, data: _LineDict) -> None:
        scales = data.get("scales") or {}
        if not isinstance(scales, dict):
            self.problem("not_mapping_item", data.line, key="scales")
            return
        for name, labels in scales.items():
            if not isinstance(name, str) or not ID_PATTERN.match(name):
                self.problem("bad_id", data.line, value=name)
                continue
            ok = (
                isinstance(labels, list)
                and 2 <= len(labels) <= 11
                and all(isinstance(x, str) and x.strip() for x in labels)
                and len({x.strip() for x in labels}) == len(labels)
            )
            if not ok:
                self.problem("bad_scale_levels", data.line, scale=name)
                continue
            self.scales[name] = Scale(name, tuple(x.strip() for x in labels))
        for lang in self.languages:
            translated = data.get(f"scales::{lang}")
            if translated is None:
                continue
            if not isinstance(translated, dict):
                self.problem("not_mapping_item", data.line, key=f"scales::{lang}")
                continue
            for name, labels in translated.items():
                scale = self.scales.get(name)
                if scale is None:
                    self.problem("unknown_scale", data.line, value=name)
                elif not (isinstance(labels, list) and len(labels) == len(scale.labels)
                          and all(isinstance(x, str) and x.strip() for x in labels)):  # fmt: skip
                    self.problem("bad_scale_translation", data.line, scale=name, value=lang, levels=len(scale.labels))
                elif lang == self.language:
                    self.scales[name] = Scale(name, tuple(x.strip() for x in labels))

    def read_sections(self, data: _LineDict) -> list[Section]:
        if "sections" not in data:
            self.problem("missing_key", data.line, key="sections")
            return []
        raw_sections = self.listing(data, "sections")
        if not raw_sections:
            self.problem("no_sections", data.line)
            return []
        sections, section_ids = [], set()
        for raw in raw_sections:
            self.check_keys(raw, SECTION_KEYS)
            sid = self.identifier(raw)
            if sid in section_ids:
                self.problem("duplicate_section", raw.line, value=sid)
            section_ids.add(sid)
            title = self.text(raw, "title")
            section_intro = self.text(raw, "intro", required=False)
            raw_questions = self.listing(raw, "questions")
            if not raw_questions:
                self.problem("no_questions", raw.line, section=sid or title)
            questions = [q for q in (self.read_question(rq) for rq in raw_questions) if q]
            sections.append(Section(sid or "", title or "", tuple(questions), intro=section_intro))
        return sections

    def read_question(
        self, raw: _LineDict, parent: Question | None = None, siblings: dict | None = None
    ) -> Question | None:
        qid = self.identifier(raw)
        label_qid = qid or str(raw.get("id"))
        self.check_keys(raw, QUESTION_KEYS, label_qid)
        if qid is not None and qid in self.seen_lines:
            self.problem("duplicate_question", raw.line, qid, qid=qid, first_line=self.seen_lines[qid])
            qid = None
        type_name = raw.get("type")
        try:
            qtype = QuestionType(type_name)
        except ValueError:
            allowed = ", ".join(t.value for t in QuestionType)
            if type_name is None:
                self.problem("missing_key", raw.line, label_qid, key="type")
            else:
                self.problem("unknown_type", raw.line, label_qid, value=type_name, allowed=allowed)
            qtype = None
        label = self.text(raw, "label", label_qid)
        help_text = self.text(raw, "help", label_qid, required=False)
        required = self.flag(raw, "required", qtype not in OPTIONAL_BY_DEFAULT, label_qid)
        criterion = raw.get("criterion")
        if criterion is not None:
            criterion = str(criterion)
            if not CRITERION_PATTERN.match(criterion):
                self.problem("bad_criterion", raw.line, label_qid, value=criterion)

        options: tuple[Option, ...] = ()
        scale = aspect = units = None
        minimum = maximum = None
        integer, max_length = True, None
        items: tuple[Question, ...] = ()

        if qtype in (QuestionType.SINGLE, QuestionType.MULTIPLE):
            options = self.read_options(raw, label_qid)
        elif qtype is QuestionType.SCALE:
            scale_name = raw.get("scale", SATISFACTION_5.name)
            scale = self.scales.get(scale_name) if isinstance(scale_name, str) else None
            if scale is None:
                self.problem("unknown_scale", raw.line, label_qid, value=scale_name)
            aspect = raw.get("aspect")
            if aspect is None:
                self.problem("scale_needs_aspect", raw.line, label_qid)
            elif aspect not in self.aspects:
                self.problem("unknown_aspect", raw.line, label_qid, value=aspect)
        elif qtype is QuestionType.NUMBER:
            minimum, maximum = self.number(raw, "min", label_qid), self.number(raw, "max", label_qid)
            if minimum is not None and maximum is not None and minimum > maximum:
                self.problem("bad_bounds", raw.line, label_qid, min=minimum, max=maximum)
            integer = self.flag(raw, "integer", True, label_qid)
        elif qtype in (QuestionType.TEXT, QuestionType.LONGTEXT):
            limit = self.number(raw, "max_length", label_qid)
            max_length = int(limit) if limit and limit > 0 else DEFAULT_MAX_LENGTH[qtype]

        conditions = self.read_conditions(raw, label_qid, siblings)

        if qtype is QuestionType.RATE_UNITS:
            if parent is not None:
                self.problem("rate_units_nested", raw.line, label_qid)
            scope = raw.get("units", UnitsScope.ASSIGNED.value)
            try:
                units = UnitsScope(scope)
            except ValueError:
                allowed = ", ".join(s.value for s in UnitsScope)
                self.problem("bad_units_scope", raw.line, label_qid, value=scope, allowed=allowed)
            raw_items = self.listing(raw, "items", label_qid)
            if not raw_items:
                self.problem("rate_units_needs_items", raw.line, label_qid)
            if qid is not None:
                self.seen_lines[qid] = raw.line
            own: dict[str, Question] = {}
            built = []
            for raw_item in raw_items:
                item = self.read_question(raw_item, parent=raw, siblings=own)
                if item is not None:
                    own[item.id] = item
                    built.append(item)
            items = tuple(built)

        if qid is None or qtype is None:
            return None
        self.seen_lines[qid] = raw.line
        question = Question(
            id=qid,
            type=qtype,
            label=label or "",
            required=required,
            help=help_text,
            options=options,
            scale=scale,
            aspect=aspect,
            criterion=criterion,
            minimum=minimum,
            maximum=maximum,
            integer=integer,
            max_length=max_length,
            show_if=conditions[0] if conditions else None,
            show_if_also=tuple(conditions[1:]),
            items=items,
            units=units,
            line=raw.line,
            yesno=self.yesno,
        )
        if parent is None:
            self.seen[qid] = question
        return question

    def read_options(self, raw: _LineDict, qid: str) -> tuple[Option, ...]:
        raw_options = self.listing(raw, "options", qid)
        if len(raw_options) < 2:
            self.problem("no_options", raw.line, qid)
        options, codes = [], set()
        for item in raw_options:
            self.check_keys(item, ("code", "label"), qid)
            code = item.get("code")
            if not isinstance(code, str) or not ID_PATTERN.match(code):
                self.problem("bad_id", item.line, qid, value=code)
                continue
            if code in codes:
                self.problem("duplicate_option", item.line, qid, value=code)
                continue
            codes.add(code)
            label = self.text(item, "label", qid)
            options.append(Option(code, label or ""))
        return tuple(options)

    def read_conditions(self, raw: _LineDict, qid: str, siblings: dict | None) -> list[Condition]:
        """``show_if``: one condition, or a list of them that must all hold (on different questions)."""
        value = raw.get("show_if")
        if value is None:
            return []
        out = [c for c in (self.read_condition(raw, cond, qid, siblings) for cond in
                           (value if isinstance(value, list) and value else [value])) if c]  # fmt: skip
        targets = [c.question for c in out]
        if len(set(targets)) != len(targets):
            self.problem("show_if_repeated", raw.line, qid)
        return out

    def read_condition(self, raw: _LineDict, cond: Any, qid: str, siblings: dict | None) -> Condition | None:
        if (
            not isinstance(cond, dict)
            or set(cond) != {"question", "answers"}
            or not isinstance(cond["answers"], list)
            or not cond["answers"]
        ):
            self.problem("show_if_shape", raw.line, qid)
            return None
        target_id = cond["question"]
        answers = frozenset(str(a) for a in cond["answers"])
        target = (siblings or {}).get(target_id) or self.seen.get(target_id)
        if target is None:
            if target_id == raw.get("id"):
                self.problem("show_if_self", raw.line, qid)
            elif target_id in self.seen_lines:
                # declared but not usable here (e.g. a rate_units parent)
                self.problem("show_if_bad_target", raw.line, qid, value=target_id)
            elif target_id in self.declared:
                self.problem("show_if_later_question", raw.line, qid, value=target_id)
            else:
                self.problem("show_if_missing_question", raw.line, qid, value=target_id)
            return None
        if target.type not in CONDITION_TARGET_TYPES:
            self.problem("show_if_bad_target", raw.line, qid, value=target_id)
            return None
        codes = {o.code for o in target.choices()}
        for answer in sorted(answers - codes):
            self.problem("show_if_missing_option", raw.line, qid, value=answer, target=target_id)
        return Condition(target_id, answers)
