"""XLSForm in and out: the spreadsheet form format of ODK, KoboToolbox, SurveyCTO, Ona, Enketo.

:func:`write_xlsform` turns a definition (the plain data of FORMAT.md) into an XLSForm workbook
that pyxform converts; :func:`read_xlsform` turns an XLSForm into a definition, or raises
:class:`XLSFormError` listing, by sheet and row, in Vietnamese, everything that does not map
(nothing is half-read). The mapping (also in FORMAT.md):

=====================  ==================================================================
ours                   XLSForm
=====================  ==================================================================
section                ``begin_group`` / ``end_group`` (name, label); its intro: a ``note`` first in the group
intro of the form      a ``note`` before the first group
single / multiple      ``select_one LIST`` / ``select_multiple LIST``
scale                  ``select_one LIST`` whose choices are named 1…n; the column ``aspect`` (or
                       the group's title) says which aspect it measures
yes/no                 ``select_one yesno`` with the choices yes = Có, no = Không
number                 ``integer`` / ``decimal``; bounds in ``constraint`` (``. >= 0 and . <= 30``)
text / longtext        ``text`` / ``text`` with ``appearance`` multiline; ``string-length(.) <= N``
rate each unit         ``begin_repeat`` with the column ``units`` (assigned | scope) / ``end_repeat``
show_if                ``relevant``: ``${q} = 'x'``, ``selected(${q}, 'x')`` joined by ``or``; several
                       questions joined by ``and``
criterion              the column ``criterion``
aspects' names         the sheet ``aspects`` (name, label); without it, the group titles
=====================  ==================================================================

Reading uses python-calamine (xlsx, xls, ods), which the frame imports already use.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

from .editing import slug, unique
from .loader import ID_PATTERN
from .model import SATISFACTION_5

YESNO_LIST = "yesno"
YESNO_CHOICES = (("yes", "Có"), ("no", "Không"))
#: metadata an ODK or Kobo form records by itself; we record the times ourselves and never the device
IGNORED_TYPES = frozenset(
    {"start", "end", "today", "deviceid", "subscriberid", "simserial", "phonenumber", "username", "audit",
     "start-geopoint", "background-audio", "email"}
)  # fmt: skip
SURVEY_COLUMNS = ("type", "name", "label", "hint", "required", "relevant", "constraint", "constraint_message",
                  "appearance", "aspect", "criterion", "units")  # fmt: skip
UNSUPPORTED_COLUMNS = ("calculation", "choice_filter", "repeat_count", "default", "read_only", "trigger")


class XLSFormError(ValueError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


# -- writing ----------------------------------------------------------------------------------------
def _number(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def _relevant(doc_index: dict[str, dict], show_if: dict | list) -> str:
    """``relevant`` of one condition or of several that must all hold (joined by "and")."""
    conditions = show_if if isinstance(show_if, list) else [show_if]
    parts = [_one_relevant(doc_index, c) for c in conditions]
    if len(parts) == 1:
        return parts[0]
    return " and ".join(f"({p})" if " or " in p else p for p in parts)


def _one_relevant(doc_index: dict[str, dict], condition: dict) -> str:
    target = condition["question"]
    kind = (doc_index.get(target) or {}).get("type")
    answers = [str(a) for a in condition.get("answers") or []]
    if kind == "multiple":
        return " or ".join(f"selected(${{{target}}}, '{a}')" for a in answers)
    return " or ".join(f"${{{target}}} = '{a}'" for a in answers)


def write_xlsform(doc: dict) -> bytes:
    """The XLSForm workbook (.xlsx bytes) of a definition."""
    import xlsxwriter

    index = {}
    for section in doc.get("sections") or []:
        for q in section.get("questions") or []:
            index[q["id"]] = q
            for item in q.get("items") or []:
                index[item["id"]] = item
    languages = {code: f"{name} ({code})" for code, name in (doc.get("languages") or {}).items()}
    survey: list[dict[str, str]] = []
    choices: list[dict[str, str]] = []
    lists_done: set[str] = set()

    def translated(row: dict, column: str, source: dict, key: str) -> dict:
        for code, header in languages.items():
            if source.get(f"{key}::{code}"):
                row[f"{column}::{header}"] = str(source[f"{key}::{code}"])
        return row

    def add_list(name: str, pairs, translations: dict[str, list[str]] | None = None) -> None:
        """``pairs``: (code, label, the option's own mapping or None); ``translations``: labels per language."""
        if name in lists_done:
            return
        lists_done.add(name)
        for i, (code, label, own) in enumerate(pairs):
            row = {"list_name": name, "name": str(code), "label": label}
            if own is not None:
                translated(row, "label", own, "label")
            for lang, labels in (translations or {}).items():
                if lang in languages and i < len(labels):
                    row[f"label::{languages[lang]}"] = labels[i]
            choices.append(row)

    def question_rows(q: dict) -> None:
        kind = q["type"]
        row: dict[str, str] = translated({"name": q["id"], "label": q.get("label", "")}, "label", q, "label")
        if q.get("help"):
            row["hint"] = q["help"]
            translated(row, "hint", q, "help")
        if q.get("criterion") is not None:
            row["criterion"] = str(q["criterion"])
        if q.get("show_if"):
            row["relevant"] = _relevant(index, q["show_if"])
        if kind == "rate_units":
            row["type"] = "begin_repeat"
            row["units"] = q.get("units", "assigned")
            survey.append(row)
            for item in q.get("items") or []:
                question_rows(item)
            survey.append({"type": "end_repeat", "name": q["id"]})
            return
        default_required = kind not in ("text", "longtext")
        row["required"] = "yes" if q.get("required", default_required) else "no"
        match kind:
            case "single" | "multiple":
                row["type"] = f"{'select_one' if kind == 'single' else 'select_multiple'} {q['id']}"
                add_list(q["id"], [(o["code"], o["label"], o) for o in q.get("options") or []])
            case "scale":
                name = q.get("scale") or SATISFACTION_5.name
                labels = SATISFACTION_5.labels if name == SATISFACTION_5.name else (doc.get("scales") or {})[name]
                row["type"] = f"select_one {name}"
                row["aspect"] = q.get("aspect", "")
                if q["id"] in (doc.get("quick") or []):  # the one-tap rating: ODK's "quick" appearance
                    row["appearance"] = "quick"
                add_list(name, [(i, label, None) for i, label in enumerate(labels, start=1)],
                         {lang: (doc.get(f"scales::{lang}") or {}).get(name) or [] for lang in languages})  # fmt: skip
            case "yesno":
                row["type"] = f"select_one {YESNO_LIST}"
                add_list(YESNO_LIST, [(c, label, None) for c, label in YESNO_CHOICES],
                         {lang: doc.get(f"yesno::{lang}") or [] for lang in languages})  # fmt: skip
            case "number":
                row["type"] = "integer" if q.get("integer", True) else "decimal"
                bounds = []
                if q.get("min") is not None:
                    bounds.append(f". >= {_number(q['min'])}")
                if q.get("max") is not None:
                    bounds.append(f". <= {_number(q['max'])}")
                if bounds:
                    row["constraint"] = " and ".join(bounds)
                    row["constraint_message"] = "Số không nằm trong khoảng cho phép"
            case "text" | "longtext":
                row["type"] = "text"
                if kind == "longtext":
                    row["appearance"] = "multiline"
                if q.get("max_length"):
                    row["constraint"] = f"string-length(.) <= {int(q['max_length'])}"
                    row["constraint_message"] = "Câu trả lời dài quá mức cho phép"
        survey.append(row)

    if doc.get("intro"):
        survey.append(translated({"type": "note", "name": "gioi_thieu_phieu", "label": doc["intro"]}, "label", doc,
                                 "intro"))  # fmt: skip
    for section in doc.get("sections") or []:
        survey.append(translated({"type": "begin_group", "name": section["id"], "label": section.get("title", "")},
                                 "label", section, "title"))  # fmt: skip
        if section.get("intro"):
            survey.append(translated({"type": "note", "name": f"{section['id']}_gioi_thieu", "label": section["intro"]},
                                     "label", section, "intro"))  # fmt: skip
        for q in section.get("questions") or []:
            question_rows(q)
        survey.append({"type": "end_group", "name": section["id"]})

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    bold = book.add_format({"bold": True})
    extra = [
        f"{column}::{header}" for header in languages.values() for column in ("label", "hint", "constraint_message")
    ]
    for row in survey:  # our messages are Vietnamese only: every language shows them
        if row.get("constraint_message"):
            row.update({f"constraint_message::{header}": row["constraint_message"] for header in languages.values()})
    columns = [*SURVEY_COLUMNS[:3], *extra, *SURVEY_COLUMNS[3:]]
    _write_sheet(book.add_worksheet("survey"), columns, survey, bold, {0: 22, 1: 22, 2: 60})
    choice_columns = ["list_name", "name", "label", *(f"label::{h}" for h in languages.values())]
    _write_sheet(book.add_worksheet("choices"), choice_columns, choices, bold, {0: 20, 1: 20, 2: 50})
    sheet = book.add_worksheet("settings")
    settings = {"form_title": doc.get("title", ""), "form_id": doc.get("id", ""), "version": str(doc.get("version", 1))}
    titles = [
        {"language": code, "form_title": doc[f"title::{code}"]} for code in languages if doc.get(f"title::{code}")
    ]
    for c, (key, value) in enumerate(settings.items()):
        sheet.write_string(0, c, key, bold)
        sheet.write_string(1, c, value)
    if titles:  # pyxform has no translated form_title: our own sheet, which it leaves alone
        _write_sheet(book.add_worksheet("titles"), ["language", "form_title"], titles, bold, {1: 60})
    sheet = book.add_worksheet("aspects")
    for c, column in enumerate(("name", "label")):
        sheet.write_string(0, c, column, bold)
    for r, (key, name) in enumerate((doc.get("aspects") or {}).items(), start=1):
        sheet.write_string(r, 0, key)
        sheet.write_string(r, 1, name)
    book.close()
    return out.getvalue()


def _write_sheet(sheet, columns: list[str], rows: list[dict[str, str]], bold, widths: dict[int, int]) -> None:
    for c, column in enumerate(columns):
        sheet.write_string(0, c, column, bold)
    for r, row in enumerate(rows, start=1):
        for c, column in enumerate(columns):
            if row.get(column):
                sheet.write_string(r, c, str(row[column]))
    for c, width in widths.items():
        sheet.set_column(c, c, width)


# -- reading ----------------------------------------------------------------------------------------
@dataclass
class _Row:
    sheet: str
    number: int  #: the row number as the spreadsheet shows it
    cells: dict[str, str]

    def get(self, column: str) -> str:
        return self.cells.get(column, "")


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("\xa0", " ").strip()


def _sheets(data: bytes) -> dict[str, list[_Row]]:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    out: dict[str, list[_Row]] = {}
    for name in book.sheet_names:
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        if not rows:
            out[name.strip().lower()] = []
            continue
        headers = [re.sub(r"\s+", " ", _cell_text(h)).strip() for h in rows[0]]
        parsed = []
        for number, values in enumerate(rows[1:], start=2):
            cells = {h: _cell_text(v) for h, v in zip(headers, values, strict=False) if h and _cell_text(v)}
            if cells:
                parsed.append(_Row(name, number, cells))
        out[name.strip().lower()] = parsed
    return out


_LANG = re.compile(r"^(label|hint|constraint_message)::(.+)$")
_VIETNAMESE = re.compile(r"\(vi\)|vietnam|tiếng việt", re.IGNORECASE)
_CODE = re.compile(r"\(([a-z]{2,3}(?:-[a-z0-9]{2,8})?)\)\s*$")
_EQ = re.compile(r"^\$\{([A-Za-z_][\w.-]*)\}\s*=\s*(?:'([^']*)'|\"([^\"]*)\"|(-?\d+))$")
_SELECTED = re.compile(r"^selected\(\s*\$\{([A-Za-z_][\w.-]*)\}\s*,\s*(?:'([^']*)'|\"([^\"]*)\")\s*\)$")
_BOUND = re.compile(r"^\.\s*(>=|<=|>|<)\s*(-?\d+(?:\.\d+)?)$")
_LENGTH = re.compile(r"^string-length\(\s*\.\s*\)\s*<=\s*(\d+)$")
_TRUE = {"yes", "true", "1", "true()", "có"}
_FALSE = {"no", "false", "0", "false()", "không", ""}


def _number_text(text: str) -> int | float:
    return float(text) if "." in text else int(text)


class _Reader:
    def __init__(self, sheets: dict[str, list[_Row]], filename: str):
        self.sheets = sheets
        self.file = filename
        self.problems: list[str] = []
        self.names: dict[str, str] = {}  # XLSForm name -> our id
        self.code_maps: dict[str, dict[str, str]] = {}  # list name -> choice name -> our code
        self.kinds: dict[str, str] = {}  # our id -> our type
        self.lists: dict[str, list[_Row]] = {}
        self.taken: set[str] = set()
        self.aspects: dict[str, str] = {}
        self.scales: dict[str, list[str]] = {}
        self.language: str | None = None
        self.translations: dict[str, str] = {}  # language code -> its column name (Khmer (km))
        self.scale_translations: dict[str, dict[str, list[str]]] = {}
        self.yesno_translations: dict[str, list[str]] = {}
        self.quick: list[str] = []  # scale questions with the appearance "quick" (the one-tap rating)

    def bad(self, row: _Row | None, message: str) -> None:
        where = f"trang {row.sheet}, dòng {row.number}" if row else self.file
        self.problems.append(f"{where}: {message}")

    def text(self, row: _Row, column: str) -> str:
        """A cell in the form's language: the plain column, else the Vietnamese (or only) one."""
        if row.get(column):
            return row.get(column)
        if self.language:
            return row.get(f"{column}::{self.language}")
        return ""

    def read(self) -> dict:
        survey = self.sheets.get("survey")
        if survey is None:
            raise XLSFormError([f"{self.file}: không có trang “survey” (tệp có phải XLSForm không?)."])
        settings = (self.sheets.get("settings") or [None])[0]
        self.pick_language(settings)
        for row in self.sheets.get("choices") or []:
            if not row.get("list_name"):
                self.bad(row, "thiếu “list_name”.")
                continue
            self.lists.setdefault(row.get("list_name"), []).append(row)
        for row in self.sheets.get("aspects") or []:
            if row.get("name") and row.get("label"):
                self.aspects[row.get("name")] = row.get("label")
        doc: dict[str, Any] = {}
        title = (settings.get("form_title") if settings else "") or ""
        form_id = (settings.get("form_id") if settings else "") or ""
        version_text = (settings.get("version") if settings else "") or "1"
        code = form_id if ID_PATTERN.match(form_id) else slug(form_id or title or self.file.rsplit(".", 1)[0], "phieu")
        doc["id"] = code
        if not version_text.isdigit() or int(version_text) < 1:
            self.bad(settings, f"phiên bản (version) “{version_text}” phải là số nguyên dương.")
            version = 1
        else:
            version = int(version_text)
        doc["version"] = version
        doc["title"] = title or code
        for row in self.sheets.get("titles") or []:
            if row.get("language") in self.translations and row.get("form_title"):
                doc[f"title::{row.get('language')}"] = row.get("form_title")
        if self.translations:
            doc["languages"] = {code: _CODE.sub("", name).strip() or code for code, name in self.translations.items()}
        sections = self.read_survey(survey, doc)
        if self.aspects:
            doc["aspects"] = dict(self.aspects)
        if self.scales:
            doc["scales"] = dict(self.scales)
        for code, scales in self.scale_translations.items():
            doc[f"scales::{code}"] = scales
        for code, labels in self.yesno_translations.items():
            doc[f"yesno::{code}"] = labels
        if self.quick:
            doc["quick"] = list(self.quick)
        doc["sections"] = sections
        # keep the documented key order (translations after what they translate)
        order = ("id", "version", "title", "intro", "languages", "aspects", "scales", "quick", "sections")
        doc = {k: doc[k] for k in sorted(doc, key=lambda k: (order.index(k.split("::")[0]) if k.split("::")[0] in order
                                                               else 6, k))}  # fmt: skip
        if self.problems:
            raise XLSFormError(self.problems)
        return doc

    def pick_language(self, settings: _Row | None) -> None:
        """The default language's columns (Vietnamese where there is one) and the translations."""
        headers = {h for rows in self.sheets.values() for row in rows for h in row.cells}
        names = sorted({m.group(2) for h in headers if (m := _LANG.match(h))})
        if not names:
            return
        vietnamese = [n for n in names if _VIETNAMESE.search(n)]
        wanted = settings.get("default_language") if settings else ""
        if vietnamese:
            self.language = vietnamese[0]
        elif "label" not in headers:
            self.language = wanted if wanted in names else names[0]
        for name in names:
            if name == self.language:
                continue
            match = _CODE.search(name)
            if not match or match.group(1) == "vi":
                self.problems.append(
                    f"{self.file}: cột ngôn ngữ “{name}”: hãy ghi mã ngôn ngữ trong ngoặc, ví dụ label::Khmer (km)."
                )
                continue
            self.translations[match.group(1)] = name

    def translate(self, row: _Row, column: str, target: dict, key: str) -> None:
        """Copy ``column``'s translations of ``row`` into ``target`` as ``key::<code>``."""
        for code, name in self.translations.items():
            value = row.get(f"{column}::{name}")
            if value:
                target[f"{key}::{code}"] = value

    def new_id(self, row: _Row, name: str) -> str:
        if not name:
            self.bad(row, "thiếu tên (name) của câu hỏi.")
            name = "cau"
        ours = name if ID_PATTERN.match(name) else slug(name, "cau")
        if name in self.names:
            self.bad(row, f"tên “{name}” bị trùng.")
        ours = unique(ours, self.taken)
        self.taken.add(ours)
        self.names[name] = ours
        return ours

    def read_survey(self, survey: list[_Row], doc: dict) -> list[dict]:
        sections: list[dict] = []
        section: dict | None = None
        repeat: dict | None = None
        for row in survey:
            kind = row.get("type")
            parts = kind.split()
            base = parts[0].lower() if parts else ""
            if base in ("begin", "end") and len(parts) == 2:  # "begin group", "end repeat"
                base = f"{base}_{parts[1].lower()}"
            for column in UNSUPPORTED_COLUMNS:
                if row.get(column):
                    self.bad(row, f"cột “{column}” chưa được hỗ trợ.")
            if not kind:
                if row.cells:
                    self.bad(row, "thiếu loại câu hỏi (type).")
                continue
            if base in IGNORED_TYPES:
                continue
            if base == "begin_group":
                if section is not None:
                    self.bad(row, "không hỗ trợ nhóm lồng trong nhóm; hãy tách thành các nhóm liền nhau.")
                    continue
                title = self.text(row, "label") or row.get("name")
                section = {"id": self.new_id(row, row.get("name") or slug(title)), "title": title}
                self.translate(row, "label", section, "title")
                section["questions"] = []
                sections.append(section)
                continue
            if base == "end_group":
                if repeat is not None:
                    self.bad(row, "end_group nằm trong một nhóm lặp chưa đóng (thiếu end_repeat).")
                section = None
                continue
            if base == "begin_repeat":
                if repeat is not None:
                    self.bad(row, "không hỗ trợ nhóm lặp lồng nhau.")
                    continue
                if row.get("units") not in ("assigned", "scope"):
                    self.bad(row, "nhóm lặp chỉ nhận được khi lặp theo đơn vị được đánh giá: ghi cột “units” là "
                                  "assigned hoặc scope.")  # fmt: skip
                    continue
                repeat = self.question_base(row)
                repeat.update({"type": "rate_units", "units": row.get("units"), "items": []})
                self.kinds[repeat["id"]] = "rate_units"
                self.place(sections, section, row, repeat, None)
                continue
            if base == "end_repeat":
                repeat = None
                continue
            if base == "note":
                label = self.text(row, "label")
                if section is None and not sections and "intro" not in doc:
                    doc["intro"] = label
                    self.translate(row, "label", doc, "intro")
                elif section is not None and not section["questions"] and "intro" not in section:
                    section["intro"] = label
                    self.translate(row, "label", section, "intro")
                    section.pop("questions")
                    section["questions"] = []
                else:
                    self.bad(row, "ghi chú (note) chỉ đặt được ở đầu phiếu hoặc đầu một nhóm.")
                continue
            question = self.question(row, base, parts, section)
            if question is not None:
                self.place(sections, section, row, question, repeat)
        if repeat is not None:
            self.problems.append(f"{self.file}: thiếu end_repeat cho nhóm lặp “{repeat['id']}”.")
        return sections

    def place(self, sections: list[dict], section: dict | None, row: _Row, question: dict, repeat: dict | None) -> None:
        if repeat is not None and question is not repeat:
            repeat["items"].append(question)
            return
        if section is None:
            if not sections or sections[-1].get("_implicit") is None:
                sections.append({"id": unique("phan_chung", self.taken), "title": "Thông tin chung",
                                 "questions": [], "_implicit": True})  # fmt: skip
                self.taken.add(sections[-1]["id"])
            sections[-1]["questions"].append(question)
        else:
            section["questions"].append(question)

    def question_base(self, row: _Row) -> dict:
        qid = self.new_id(row, row.get("name"))
        question: dict[str, Any] = {"id": qid, "type": "", "label": self.text(row, "label")}
        if not question["label"]:
            self.bad(row, "thiếu nhãn (label) của câu hỏi.")
        self.translate(row, "label", question, "label")
        if self.text(row, "hint"):
            question["help"] = self.text(row, "hint")
            self.translate(row, "hint", question, "help")
        if row.get("criterion"):
            question["criterion"] = row.get("criterion")
        if row.get("relevant"):
            condition = self.relevant(row)
            if condition:
                question["show_if"] = condition
        return question

    def question(self, row: _Row, base: str, parts: list[str], section: dict | None) -> dict | None:
        supported = {"select_one", "select_multiple", "integer", "decimal", "text"}
        if base not in supported:
            self.bad(row, f"loại “{row.get('type')}” chưa được hỗ trợ (chỉ nhận select_one, select_multiple, "
                          "integer, decimal, text, note, begin_group, begin_repeat theo đơn vị).")  # fmt: skip
            return None
        question = self.question_base(row)
        kind = "text"
        if base in ("select_one", "select_multiple"):
            if len(parts) != 2:
                self.bad(row, f"“{row.get('type')}” phải có dạng “{base} tên_danh_sách” (không hỗ trợ or_other).")
                return None
            kind = self.choice_question(row, question, base, parts[1], section)
        elif base in ("integer", "decimal"):
            kind = "number"
            if base == "decimal":
                question["integer"] = False
            self.bounds(row, question, base == "integer")
        else:
            kind = "longtext" if "multiline" in row.get("appearance").lower() else "text"
            constraint = row.get("constraint")
            if constraint:
                match = _LENGTH.match(constraint)
                if match:
                    question["max_length"] = int(match.group(1))
                else:
                    self.bad(row, f"ràng buộc “{constraint}” chưa được hỗ trợ (chỉ nhận string-length(.) <= N).")
        question["type"] = kind
        self.kinds[question["id"]] = kind
        required = row.get("required").lower()
        if required not in _TRUE | _FALSE:
            self.bad(row, f"cột required phải là yes hoặc no, nhận được “{row.get('required')}”.")
        is_required = required in _TRUE
        if is_required != (kind not in ("text", "longtext")):
            question["required"] = is_required
        order = ("id", "type", "label", "help", "required", "options", "scale", "aspect", "criterion", "min", "max",
                 "integer", "max_length", "show_if", "items", "units", "_list")  # fmt: skip
        return {k: question[k] for k in order if k in question} | {k: v for k, v in question.items() if "::" in k}

    def choice_question(self, row: _Row, question: dict, base: str, list_name: str, section: dict | None) -> str:
        rows = self.lists.get(list_name)
        if not rows:
            self.bad(row, f"danh sách lựa chọn “{list_name}” không có trong trang choices.")
            return "single"
        names = [r.get("name") for r in rows]
        labels = [self.text(r, "label") for r in rows]
        for r, label in zip(rows, labels, strict=True):
            if not label:
                self.bad(r, f"phương án “{r.get('name')}” thiếu nhãn (label).")
        translated = {code: [r.get(f"label::{name}") for r in rows] for code, name in self.translations.items()}
        translated = {code: labels for code, labels in translated.items() if all(labels)}
        if base == "select_one" and [(n, label) for n, label in zip(names, labels, strict=True)] == list(YESNO_CHOICES):
            self.code_maps[list_name] = {"yes": "yes", "no": "no"}
            for code, pair in translated.items():
                self.yesno_translations[code] = pair
            return "yesno"
        levels = [str(i) for i in range(1, len(names) + 1)]
        if base == "select_one" and names == levels and 2 <= len(names) <= 11:
            self.code_maps[list_name] = {n: n for n in names}
            name = SATISFACTION_5.name
            if labels != list(SATISFACTION_5.labels):
                name = list_name if ID_PATTERN.match(list_name) else slug(list_name, "thang")
                if self.scales.get(name, labels) != labels:
                    name = unique(name, set(self.scales))
                self.scales[name] = labels
                question["scale"] = name
            for code, levels_text in translated.items():
                self.scale_translations.setdefault(code, {})[name] = levels_text
            aspect = row.get("aspect")
            if not aspect:
                title = (section or {}).get("title") or "Đánh giá chung"
                aspect = next((k for k, v in self.aspects.items() if v == title), None) or unique(
                    slug(title, "khia_canh"), set(self.aspects)
                )
                self.aspects.setdefault(aspect, title)
            elif aspect not in self.aspects:
                if not ID_PATTERN.match(aspect):
                    self.aspects.setdefault(slug(aspect, "khia_canh"), aspect)
                    aspect = slug(aspect, "khia_canh")
                else:
                    self.aspects[aspect] = aspect.replace("_", " ").capitalize()
            question["aspect"] = aspect
            if "quick" in row.get("appearance").lower().split():
                self.quick.append(question["id"])
            return "scale"
        mapping: dict[str, str] = {}
        options = []
        for r, name, label in zip(rows, names, labels, strict=True):
            code = name if ID_PATTERN.match(name) else slug(name, "pa")
            if name in mapping:
                self.bad(r, f"mã phương án “{name}” bị trùng trong danh sách “{list_name}”.")
                continue
            code = unique(code, set(mapping.values()))
            mapping[name] = code
            option = {"code": code, "label": label}
            self.translate(r, "label", option, "label")
            options.append(option)
        self.code_maps[list_name] = mapping
        question["options"] = options
        question["_list"] = list_name
        return "single" if base == "select_one" else "multiple"

    def bounds(self, row: _Row, question: dict, integer: bool) -> None:
        constraint = row.get("constraint")
        if not constraint:
            return
        for part in re.split(r"\s+and\s+", constraint.strip()):
            match = _BOUND.match(part.strip())
            if not match:
                self.bad(row, f"ràng buộc “{constraint}” chưa được hỗ trợ (chỉ nhận dạng . >= a and . <= b).")
                return
            op, value = match.group(1), _number_text(match.group(2))
            if op in (">", "<"):
                if not integer or not isinstance(value, int):
                    self.bad(row, f"ràng buộc “{constraint}”: với số thập phân chỉ nhận >= và <=.")
                    return
                value = value + 1 if op == ">" else value - 1
            question["min" if op.startswith(">") else "max"] = value

    def relevant(self, row: _Row) -> dict | list | None:
        """``relevant`` as our skip logic: conditions joined by "and", each one question's answers
        joined by "or" (``${q} = 'x'``, ``selected(${q}, 'x')``)."""
        text = row.get("relevant").strip()
        conditions = []
        for part in _split_and(text):
            condition = self.one_condition(row, text, part)
            if condition is None:
                return None
            conditions.append(condition)
        if len({c["question"] for c in conditions}) != len(conditions):
            self.bad(row, f"điều kiện “{text}”: mỗi câu hỏi chỉ được dùng một lần (gộp các đáp án bằng or).")
            return None
        return conditions[0] if len(conditions) == 1 else conditions

    def one_condition(self, row: _Row, text: str, part: str) -> dict | None:
        target = None
        answers: list[str] = []
        for piece in re.split(r"\s+or\s+", part):
            piece = piece.strip()
            match = _EQ.match(piece) or _SELECTED.match(piece)
            if not match:
                self.bad(row, f"điều kiện “{text}” chưa được hỗ trợ (chỉ nhận ${{câu}} = 'mã' hoặc "
                              "selected(${câu}, 'mã'), nối bằng or và and).")  # fmt: skip
                return None
            name = match.group(1)
            value = next(g for g in match.groups()[1:] if g is not None)
            if target not in (None, name):
                self.bad(row, f"điều kiện “{text}”: các vế nối bằng or phải cùng một câu hỏi; "
                              "các câu khác nhau nối bằng and.")  # fmt: skip
                return None
            target = name
            answers.append(value)
        if target not in self.names:
            self.bad(row, f"điều kiện “{text}” trỏ tới câu “{target}” không đứng trước câu này.")
            return None
        return {"question": self.names[target], "answers": answers, "_raw": target}

    def finish(self, doc: dict) -> None:
        """Map the answers of skip rules to our option codes, once every list is known."""
        lists = {}
        for section in doc.get("sections") or []:
            section.pop("_implicit", None)
            for q in section.get("questions") or []:
                for item in [q, *(q.get("items") or [])]:
                    if "_list" in item:
                        lists[item["id"]] = item.pop("_list")
        for section in doc.get("sections") or []:
            for q in section.get("questions") or []:
                for item in [q, *(q.get("items") or [])]:
                    show_if = item.get("show_if")
                    for condition in show_if if isinstance(show_if, list) else [show_if] if show_if else []:
                        condition.pop("_raw", None)
                        mapping = self.code_maps.get(lists.get(condition["question"], ""), None)
                        if mapping is not None:
                            condition["answers"] = [mapping.get(a, slug(a, "pa")) for a in condition["answers"]]


def _split_and(text: str) -> list[str]:
    """The parts of ``a and (b or c)`` joined by "and" outside parentheses, outer parentheses removed.

    >>> _split_and("${a} = 'x' and (${b} = '1' or ${b} = '2')")
    ["${a} = 'x'", "${b} = '1' or ${b} = '2'"]
    """
    parts, depth, start, quote = [], 0, 0, None
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and re.match(r"\s+and\s+", text[i:]) and (i == 0 or text[i - 1] != "$"):
            parts.append(text[start:i])
            i += re.match(r"\s+and\s+", text[i:]).end()
            start = i
            continue
        i += 1
    parts.append(text[start:])
    out = []
    for part in parts:
        part = part.strip()
        while part.startswith("(") and part.endswith(")") and _balanced(part[1:-1]):
            part = part[1:-1].strip()
        out.append(part)
    return out


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if depth < 0:
            return False
    return depth == 0


def read_xlsform(data: bytes, filename: str = "phieu.xlsx") -> dict:
    """The definition (plain data, FORMAT.md) of an XLSForm workbook; XLSFormError otherwise."""
    try:
        sheets = _sheets(data)
    except Exception as exc:  # calamine raises its own error types for files it cannot read
        raise XLSFormError([f"{filename}: không đọc được tệp bảng tính ({type(exc).__name__})."]) from None
    reader = _Reader(sheets, filename)
    doc = reader.read()
    reader.finish(doc)
    return doc
