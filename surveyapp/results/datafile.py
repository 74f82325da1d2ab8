"""One group's answers for SPSS (.sav), Stata (.dta) or any other tool (CSV + an XLSX codebook)
(issue 19, part 4): the raw export's rows and anonymity (a running number, the unit, the channel,
the Vietnam date; no id, no time of day, no invitation), with variable labels (the question's
wording), value labels (the options' and the scale's Vietnamese labels) and missing values
declared: a question the respondent was not asked (skip logic, or another unit's row) is -8 in
SPSS and ``.a`` in Stata, one asked and left unanswered -9 and ``.b``. pyreadstat writes the files.

Variables: ``stt``, ``nhom``, ``ma_don_vi``, ``don_vi``, ``kenh``, ``ngay``, then one per question
(its id) in form order, a multiple-choice question one 0/1 variable per option
(``<id>_<n>``); a single choice is numbered 1…k in the order of its options, yes/no is 1/0, a
scale its level. Stata names are at most 32 characters and its labels 80: the codebook says
which name is which question.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field

import xlsxwriter

from questionnaires.logic import is_visible
from questionnaires.model import NO, YES, Question, Questionnaire, QuestionType

from .services import RawRow, question_columns

FORMATS = ("sav", "dta", "csv")
NOT_ASKED, NO_ANSWER = -8, -9
MISSING_LABELS = {NOT_ASKED: "Không hỏi (theo điều kiện hoặc không áp dụng)", NO_ANSWER: "Không trả lời"}
STATA_MISSING = {NOT_ASKED: "a", NO_ANSWER: "b"}
FIXED = (
    ("stt", "Số thứ tự phiếu"),
    ("nhom", "Nhóm đối tượng"),
    ("ma_don_vi", "Mã đơn vị"),
    ("don_vi", "Đơn vị"),
    ("kenh", "Kênh thu thập"),
    ("ngay", "Ngày trả lời (giờ Việt Nam)"),
)
TYPE_NAMES = {
    QuestionType.SINGLE: "một lựa chọn", QuestionType.MULTIPLE: "nhiều lựa chọn (0/1 mỗi phương án)",
    QuestionType.SCALE: "thang đo", QuestionType.YESNO: "có/không", QuestionType.NUMBER: "số",
    QuestionType.TEXT: "chữ", QuestionType.LONGTEXT: "chữ",
}  # fmt: skip


@dataclass
class Variable:
    name: str
    label: str
    question: Question | None = None
    option: str | None = None  #: for a multiple-choice question: the option this 0/1 variable is
    values: dict[int, str] = field(default_factory=dict)  #: value labels
    text: bool = False

    def value(self, answer) -> float | str | None:
        """The stored answer as this variable's value (None: no answer)."""
        q = self.question
        if answer in (None, ""):
            return None
        match q.type:
            case QuestionType.MULTIPLE:
                return 1 if self.option in str(answer).split(";") else 0
            case QuestionType.SINGLE:
                codes = [o.code for o in q.options]
                return codes.index(answer) + 1 if answer in codes else None
            case QuestionType.YESNO:
                return 1 if answer == YES else 0 if answer == NO else None
            case QuestionType.SCALE | QuestionType.NUMBER:
                return float(answer)
        return str(answer)


def variables(questionnaire: Questionnaire, limit: int = 64) -> list[Variable]:
    """The variables of a group's data file, names unique within ``limit`` characters."""
    taken = {name for name, _label in FIXED}
    out = [Variable(name, label, text=name not in ("stt", "ngay")) for name, label in FIXED]

    def named(base: str) -> str:
        name, n = base[:limit], 2
        while name in taken:
            suffix = f"_{n}"
            name, n = base[: limit - len(suffix)] + suffix, n + 1
        taken.add(name)
        return name

    for q in question_columns(questionnaire):
        if q.type is QuestionType.MULTIPLE:
            for i, option in enumerate(q.options, start=1):
                out.append(Variable(named(f"{q.id}_{i}"), f"{q.label}: {option.label}", q, option.code,
                                    {1: "Có chọn", 0: "Không chọn"}))  # fmt: skip
            continue
        values: dict[int, str] = {}
        if q.type is QuestionType.SINGLE:
            values = {i: o.label for i, o in enumerate(q.options, start=1)}
        elif q.type is QuestionType.YESNO:
            values = {1: q.yesno[0].label, 0: q.yesno[1].label}
        elif q.type is QuestionType.SCALE:
            values = {level: q.scale.label(level) for level in q.scale.levels}
        text = q.type in (QuestionType.TEXT, QuestionType.LONGTEXT)
        out.append(Variable(named(q.id), q.label, q, None, values, text))
    return out


def _given(questionnaire: Questionnaire, values: dict) -> dict[str, frozenset[str]]:
    given = {}
    for qid, answer in values.items():
        if questionnaire.has_question(qid) and answer not in (None, ""):
            q = questionnaire.question(qid)
            if q.type is QuestionType.SCALE:
                given[qid] = frozenset({str(int(float(answer)))})
            else:
                given[qid] = frozenset(str(answer).split(";"))
    return given


def records(questionnaire: Questionnaire, variables_: list[Variable], rows: Iterable[RawRow]):
    """One list of values per row: answers, or NOT_ASKED / NO_ANSWER (numeric variables; text
    variables are "" when missing)."""
    top = {q.id for q in questionnaire.top_questions() if q.type is not QuestionType.RATE_UNITS}
    for row in rows:
        given = _given(questionnaire, row.values)
        own = any(qid in top for qid in row.values)  # the response's own row, not a rated unit's
        out: list = [row.number, row.group, row.unit_code, row.unit_name, row.channel, row.day]
        for var in variables_[len(FIXED) :]:
            q = var.question
            value = var.value(row.values.get(q.id))
            if value is None:
                applies = (q.id in top) == own and is_visible(q, given)
                value = "" if var.text else (NO_ANSWER if applies else NOT_ASKED)
            out.append(value)
        yield out


def write(path: str, fmt: str, questionnaire: Questionnaire, rows: Iterable[RawRow], file_label: str = "") -> int:
    """The data file at ``path``; the number of rows written."""
    import pandas as pd
    import pyreadstat

    if fmt == "csv":
        return write_csv(path, questionnaire, rows)
    limit = 32 if fmt == "dta" else 64
    vs = variables(questionnaire, limit)
    data = list(records(questionnaire, vs, rows))
    columns = {}
    for i, var in enumerate(vs):
        cells = [r[i] for r in data]
        if var.name == "ngay":
            columns[var.name] = pd.Series(cells, dtype=object)
        elif fmt == "dta" and not var.text and var.name != "stt":
            cells = [STATA_MISSING.get(c, c) if isinstance(c, int | float) else c for c in cells]
            columns[var.name] = pd.Series(cells, dtype=object)
        else:
            columns[var.name] = pd.Series(cells, dtype=object if var.text else float)
    frame = pd.DataFrame(columns)
    cut = 80 if fmt == "dta" else 256
    labels = {v.name: v.label if len(v.label) <= cut else v.label[: cut - 1] + "…" for v in vs}
    numeric = [v for v in vs if v.question is not None and not v.text]
    if fmt == "sav":
        value_labels = {v.name: {**v.values, **MISSING_LABELS} for v in numeric}
        missing = {v.name: [NO_ANSWER, NOT_ASKED] for v in numeric}
        pyreadstat.write_sav(frame, path, file_label=file_label, column_labels=labels,
                             variable_value_labels=value_labels, missing_ranges=missing)  # fmt: skip
    else:
        value_labels = {v.name: {**v.values, **{STATA_MISSING[k]: t for k, t in MISSING_LABELS.items()}}
                        for v in numeric}  # fmt: skip
        missing = {v.name: list(STATA_MISSING.values()) for v in numeric}
        pyreadstat.write_dta(frame, path, file_label=file_label[:80], column_labels=labels,
                             variable_value_labels=value_labels, missing_user_values=missing)  # fmt: skip
    return len(data)


def write_csv(path: str, questionnaire: Questionnaire, rows: Iterable[RawRow], codebook: bool = True) -> int:
    """CSV (UTF-8 with a BOM, for Excel) of the same codes, and its codebook beside it."""
    vs = variables(questionnaire)
    n = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([v.name for v in vs])
        for record in records(questionnaire, vs, rows):
            record[5] = record[5].strftime("%d/%m/%Y")
            writer.writerow(["'" + c if isinstance(c, str) and c[:1] in ("=", "+", "-", "@") else c for c in record])
            n += 1
    if codebook:
        write_codebook(codebook_path(path), questionnaire)
    return n


def codebook_path(path: str) -> str:
    return path[: -len(".csv")] + "-codebook.xlsx" if path.endswith(".csv") else path + "-codebook.xlsx"


def write_codebook(target, questionnaire: Questionnaire) -> None:
    """What each variable is: name, question, type, values and the missing codes (XLSX)."""
    book = xlsxwriter.Workbook(target, {"in_memory": True})
    head = book.add_format({"bold": True, "bg_color": "#eef0f3", "text_wrap": True, "valign": "top"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    sheet = book.add_worksheet("Biến")
    for c, (title, width) in enumerate([("Tên biến", 22), ("Tên biến Stata", 22), ("Câu hỏi", 60), ("Loại", 18),
                                        ("Giá trị", 50)]):  # fmt: skip
        sheet.write_string(0, c, title, head)
        sheet.set_column(c, c, width)
    stata = {v.label + (v.option or ""): v.name for v in variables(questionnaire, 32)}
    for r, v in enumerate(variables(questionnaire), start=1):
        kind = TYPE_NAMES.get(v.question.type, "") if v.question else ("số" if v.name == "stt" else "chữ")
        shown = "; ".join(f"{k} = {t}" for k, t in v.values.items())
        if v.question is not None and not v.text:
            shown = "; ".join(x for x in (shown, f"{NOT_ASKED} = {MISSING_LABELS[NOT_ASKED]}",
                                          f"{NO_ANSWER} = {MISSING_LABELS[NO_ANSWER]}") if x)  # fmt: skip
        for c, text in enumerate([v.name, stata.get(v.label + (v.option or ""), v.name), v.label, kind, shown]):
            sheet.write_string(r, c, text, wrap)
    sheet.freeze_panes(1, 0)
    about = book.add_worksheet("Ghi chú")
    about.set_column(0, 0, 100)
    for r, line in enumerate([
        f"{questionnaire.title} (mã {questionnaire.code}, phiên bản {questionnaire.version})",
        "Mỗi dòng là một phiếu (với câu “đánh giá từng đơn vị”: một phiếu × một đơn vị được đánh giá).",
        "Không có mã phiếu, giờ gửi hay thông tin người trả lời: chỉ số thứ tự, đơn vị, kênh và ngày.",
        f"{NOT_ASKED}: câu không được hỏi (điều kiện hiển thị, hoặc dòng của đơn vị khác); "
        f"{NO_ANSWER}: câu được hỏi nhưng không trả lời. Trong SPSS đó là giá trị thiếu khai báo; "
        "trong Stata là .a và .b.",
    ]):  # fmt: skip
        about.write_string(r, 0, line, wrap)
    book.close()
    if isinstance(target, io.BytesIO):
        target.seek(0)
