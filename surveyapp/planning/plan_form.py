"""The sampling plan as a form: one row per respondent group, the method named in Vietnamese, read
into the plan's plain data (sampling/plan.py) so the form and the YAML are the same plan. The
planner itself (``sampling.load_plan_text`` and ``build_plan``) checks it and words the errors."""

from __future__ import annotations

from typing import Any

import yaml
from werkzeug.datastructures import MultiDict

METHOD_NAMES = {
    "": "Không lập chỉ tiêu cho nhóm này",
    "fixed": "Cố định mỗi đơn vị",
    "per_kind": "Theo loại đơn vị (xã, phường …)",
    "proportional": "Tỷ lệ theo quy mô (số hồ sơ của đơn vị)",
    "neyman": "Phân bổ tối ưu Neyman (theo quy mô và độ phân tán)",
    "margin": "Theo sai số cho phép của từng đơn vị",
    "census": "Toàn bộ danh sách (tổng điều tra)",
}
CONFIDENCE = {"0.9": "90 %", "0.95": "95 %", "0.99": "99 %"}


def _number(text: str | None, errors: dict, key: str, *, integer: bool = True) -> int | float | None:
    value = (text or "").strip().replace(" ", "").replace(".", "" if integer else ".").replace(",", ".")
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        errors[key] = "Phải là một số" + (" nguyên, ví dụ 60." if integer else ", ví dụ 5 hoặc 2,5.")
        return None
    if integer:
        if not number.is_integer() or number < 0:
            errors[key] = "Phải là một số nguyên từ 0 trở lên, ví dụ 60."
            return None
        return int(number)
    return number


def parse(form: MultiDict, groups: list[str], kinds: list[str]) -> tuple[dict, dict[str, str]]:
    """The plan's plain data from the form (groups left at "no quota" are left out)."""
    errors: dict[str, str] = {}
    rules = []
    for code in groups:
        p = f"g_{code}_"
        method = form.get(p + "method", "")
        if method not in METHOD_NAMES:
            errors[p + "method"] = "Phương pháp không hợp lệ."
            continue
        if not method:
            continue
        rule: dict[str, Any] = {"group": code, "method": method}
        if method != "census":
            units: dict[str, Any] = {}
            if form.get(p + "under"):
                units["under"] = form.get(p + "under")
            chosen = [k for k in form.getlist(p + "kinds") if k in kinds]
            if chosen:
                units["kinds"] = chosen
            rule["units"] = units
        match method:
            case "fixed":
                rule["per_unit"] = _number(form.get(p + "per_unit"), errors, p + "per_unit")
            case "per_kind":
                rule["sizes"] = {
                    kind: n for kind in kinds
                    if (n := _number(form.get(f"{p}size_{kind}"), errors, f"{p}size_{kind}")) is not None
                }  # fmt: skip
            case "proportional" | "neyman":
                rule["total"] = _number(form.get(p + "total"), errors, p + "total")
            case "margin":
                margin = _number(form.get(p + "margin"), errors, p + "margin", integer=False)
                rule["margin"] = margin / 100 if margin is not None else None
                if form.get(p + "confidence") in CONFIDENCE:
                    rule["confidence"] = float(form.get(p + "confidence"))
            case "census":
                rule["unit"] = form.get(p + "unit", "")
                rule["size"] = _number(form.get(p + "size"), errors, p + "size")
        if method != "census":
            for key in ("min", "max"):
                value = _number(form.get(p + key), errors, p + key)
                if value is not None:
                    rule[key] = value
        rules.append({k: v for k, v in rule.items() if v is not None})
    return {"groups": rules}, errors


def to_text(data: dict) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def view(text: str | None) -> dict[str, dict]:
    """The form's values per group from a plan's text (the last applied, or the example)."""
    try:
        data = yaml.safe_load(text or "") or {}
    except yaml.YAMLError:
        return {}
    out = {}
    for raw in data.get("groups") or [] if isinstance(data, dict) else []:
        if not isinstance(raw, dict) or not isinstance(raw.get("group"), str):
            continue
        units = raw.get("units") or {}
        margin = raw.get("margin")
        out[raw["group"]] = {
            "method": raw.get("method", ""),
            "under": units.get("under", "") if isinstance(units, dict) else "",
            "kinds": list(units.get("kinds") or []) if isinstance(units, dict) else [],
            "per_unit": raw.get("per_unit", ""),
            "sizes": raw.get("sizes") or {},
            "total": raw.get("total", ""),
            "margin": str(margin * 100).replace(".", ",").removesuffix(",0") if isinstance(margin, int | float) else "",
            "confidence": str(raw.get("confidence", 0.95)),
            "unit": raw.get("unit", ""),
            "size": raw.get("size", ""),
            "min": raw.get("min", ""),
            "max": raw.get("max", ""),
        }
    return out
