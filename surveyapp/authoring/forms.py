"""The builder's forms, read into plain values with a Vietnamese message per field.

The builder's question form is shaped by the question's type and by the draft (which earlier
questions a skip rule may use), so it is read by hand from ``request.form`` rather than declared
as a FlaskForm; CSRF is checked for the whole app by CSRFProtect, and every value is checked here
and then by the questionnaire loader itself.
"""

from __future__ import annotations

import re
import unicodedata

from werkzeug.datastructures import MultiDict

from questionnaires import QuestionType
from questionnaires import editing as ed

LABEL_MAX = 1000
HELP_MAX = 2000
NEW = "__new__"

FIELD_MESSAGES = {
    "label_empty": "Vui lòng nhập câu hỏi.",
    "too_long": "Dài quá {max} ký tự.",
    "control_chars": "Có ký tự điều khiển không in được; hãy gõ lại nội dung này.",
    "bad_type": "Loại câu hỏi không hợp lệ.",
    "not_number": "Phải là một số, ví dụ 0 hoặc 2,5.",
    "bad_length": "Số ký tự tối đa phải là số nguyên từ 1 đến 10000.",
    "scale_levels": "Thang đo mới cần từ 2 đến 11 mức, mỗi mức một dòng, không trùng nhau.",
    "aspect_empty": "Vui lòng chọn khía cạnh hoặc nhập tên khía cạnh mới.",
    "show_if_answers": "Chọn ít nhất một câu trả lời làm hiện câu này.",
    "option_code": "Mã “{code}” không hợp lệ: chỉ chữ thường không dấu, số và dấu gạch dưới, bắt đầu bằng chữ.",
    "criterion": "Mã tiêu chí dạng số cách nhau bởi dấu chấm, ví dụ 8.1.3.",
}

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: str | None, limit: int, errors: dict, key: str, *, multiline: bool = False) -> str:
    text = unicodedata.normalize("NFC", (value or "").replace("\r\n", "\n"))
    if _CONTROL.search(text) or (not multiline and "\n" in text.strip()):
        errors[key] = FIELD_MESSAGES["control_chars"]
        return ""
    text = text.strip()
    if len(text) > limit:
        errors[key] = FIELD_MESSAGES["too_long"].format(max=limit)
    return text


def parse_number(value: str | None, errors: dict, key: str) -> float | int | None:
    text = (value or "").strip().replace(" ", "").replace(",", ".")
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        errors[key] = FIELD_MESSAGES["not_number"]
        return None
    if number != number or number in (float("inf"), float("-inf")) or abs(number) > 1e12:
        errors[key] = FIELD_MESSAGES["not_number"]
        return None
    return int(number) if number.is_integer() else number


def parse_question(form: MultiDict, doc: ed.Document, qid: str | None) -> tuple[ed.QuestionEdit, dict[str, str]]:
    """The builder's question form as an edit of ``doc``; errors maps a field to its message.
    A new aspect or scale the form asks for is added to ``doc`` (the caller works on a copy)."""
    errors: dict[str, str] = {}
    qtype = form.get("type", "")
    if qtype not in {t.value for t in QuestionType}:
        errors["type"] = FIELD_MESSAGES["bad_type"]
        qtype = QuestionType.TEXT.value
    label = clean_text(form.get("label"), LABEL_MAX, errors, "label", multiline=True)
    if not label and "label" not in errors:
        errors["label"] = FIELD_MESSAGES["label_empty"]
    edit = ed.QuestionEdit(
        label=label,
        qtype=qtype,
        help=clean_text(form.get("help"), HELP_MAX, errors, "help", multiline=True),
        required=form.get("required") == "1",
        criterion=clean_text(form.get("criterion"), 32, errors, "criterion"),
    )
    if edit.criterion and not re.fullmatch(r"\d+(\.\d+)*", edit.criterion):
        errors["criterion"] = FIELD_MESSAGES["criterion"]
    match qtype:
        case QuestionType.SINGLE | QuestionType.MULTIPLE:
            labels, codes = form.getlist("opt_label"), form.getlist("opt_code")
            for i, raw_label in enumerate(labels):
                option_label = clean_text(raw_label, 300, errors, f"opt_{i}")
                code = (codes[i] if i < len(codes) else "").strip()
                if code and not ed.is_identifier(code):
                    errors[f"opt_{i}"] = FIELD_MESSAGES["option_code"].format(code=code)
                edit.options.append((code, option_label))
        case QuestionType.SCALE:
            scale = form.get("scale") or "satisfaction5"
            if scale == NEW:
                lines = [x.strip() for x in (form.get("scale_labels") or "").splitlines() if x.strip()]
                if not 2 <= len(lines) <= 11 or len(set(lines)) != len(lines) or any(len(x) > 100 for x in lines):
                    errors["scale"] = FIELD_MESSAGES["scale_levels"]
                else:
                    scale = ed.add_scale(doc, lines)
            edit.scale = scale
            aspect = form.get("aspect") or ""
            if aspect == NEW:
                name = clean_text(form.get("aspect_new"), 200, errors, "aspect")
                if name:
                    aspect = ed.add_aspect(doc, name)
                elif "aspect" not in errors:
                    errors["aspect"] = FIELD_MESSAGES["aspect_empty"]
            edit.aspect = aspect or None
            edit.quick = form.get("quick") == "1"
        case QuestionType.NUMBER:
            edit.minimum = parse_number(form.get("min"), errors, "min")
            edit.maximum = parse_number(form.get("max"), errors, "max")
            edit.integer = form.get("integer") == "1"
        case QuestionType.TEXT | QuestionType.LONGTEXT:
            length = parse_number(form.get("max_length"), errors, "max_length")
            if length is not None and (not isinstance(length, int) or not 1 <= length <= 10000):
                errors["max_length"] = FIELD_MESSAGES["bad_length"]
            edit.max_length = int(length) if isinstance(length, int) else None
        case QuestionType.RATE_UNITS:
            edit.units = form.get("units") if form.get("units") in ("assigned", "scope") else "assigned"
    for lang in doc.get("languages") or {}:
        edit.translations[lang] = {
            "label": clean_text(form.get(f"label::{lang}"), LABEL_MAX, errors, f"label::{lang}", multiline=True),
            "help": clean_text(form.get(f"help::{lang}"), HELP_MAX, errors, f"help::{lang}", multiline=True),
        }
        if qtype in (QuestionType.SINGLE, QuestionType.MULTIPLE):
            edit.option_translations[lang] = [
                clean_text(v, 300, errors, f"opt_{i}") for i, v in enumerate(form.getlist(f"opt_label::{lang}"))
            ]
    for suffix in CONDITION_ROWS:
        target = form.get(f"show_if_question{suffix}") or ""
        if not target:
            continue
        prefix = f"{target}:"
        answers = [v[len(prefix) :] for v in form.getlist(f"show_if_answers{suffix}") if v.startswith(prefix)]
        if not answers:
            errors[f"show_if{suffix}"] = FIELD_MESSAGES["show_if_answers"]
        edit.conditions.append((target, answers))
    return edit, errors


#: the builder offers two skip-logic conditions (both must hold): fields show_if_question, …_2
CONDITION_ROWS = ("", "_2")
