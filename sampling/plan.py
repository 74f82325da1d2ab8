"""A sampling plan: respondent groups × units → quotas, built from a plan definition.

A plan definition is a small YAML file (or the same text pasted in the web form)::

    groups:
      - group: citizen                 # a respondent group code of the campaign
        units: {under: HDG-NGG, kinds: [xã, thị trấn]}
        method: fixed                  # fixed | per_kind | proportional | neyman | margin | census
        per_unit: 60
      - group: hdnd
        method: census                 # a named list taken whole, counted at one unit
        unit: HDG-NGG
        size: 30

Method keys: ``fixed``: per_unit; ``per_kind``: sizes (type → number); ``proportional`` and
``neyman``: total (neyman also reads ``priors``: unit code → expected share satisfied);
``margin``: margin, optional confidence (0.95) and p (0.5); ``census``: unit, size. Every method
but census accepts ``min`` and ``max`` per unit; quotas never exceed a unit's frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import yaml

from . import allocation
from .allocation import Bounds, UnitFrame
from .errors import SamplingError
from .sizes import margin_of_error

METHODS = ("fixed", "per_kind", "proportional", "neyman", "margin", "census")
METHOD_KEYS = {
    "fixed": {"per_unit"},
    "per_kind": {"sizes"},
    "proportional": {"total"},
    "neyman": {"total", "priors"},
    "margin": {"margin", "confidence", "p"},
    "census": {"unit", "size"},
}
COMMON_KEYS = {"group", "method", "units", "min", "max", "note"}


@dataclass(frozen=True)
class PlanUnit:
    """A unit as the planner sees it."""

    code: str
    name: str
    kind: str
    parent_code: str | None = None
    frame: int | None = None


@dataclass(frozen=True)
class GroupRule:
    group: str
    method: str
    params: dict
    units: dict = field(default_factory=dict)  #: selector: under, kinds, codes
    minimum: int = 0
    maximum: int | None = None


@dataclass(frozen=True)
class PlanDefinition:
    rules: tuple[GroupRule, ...]
    source: str = ""


@dataclass(frozen=True)
class Cell:
    group: str
    unit_code: str
    quota: int
    #: the margin of error at 95 % that this quota gives (None when the frame is unknown)
    margin: float | None


@dataclass(frozen=True)
class Plan:
    cells: tuple[Cell, ...]

    @property
    def total(self) -> int:
        return sum(c.quota for c in self.cells)

    def quota(self, group: str, unit_code: str) -> int:
        for c in self.cells:
            if c.group == group and c.unit_code == unit_code:
                return c.quota
        raise KeyError((group, unit_code))

    def totals_by_group(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.cells:
            out[c.group] = out.get(c.group, 0) + c.quota
        return out

    def totals_by_unit(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.cells:
            out[c.unit_code] = out.get(c.unit_code, 0) + c.quota
        return out


def _int(value, what: str, where: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SamplingError(f"{where}: “{what}” phải là số nguyên từ {minimum} trở lên, nhận được {value!r}.")
    return value


def load_plan_text(text: str, filename: str = "kế hoạch") -> PlanDefinition:
    """Parse and check a plan definition; raises SamplingError naming the file and the group."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        where = f"{filename}, dòng {line + 1}" if line is not None else filename
        raise SamplingError(f"{where}: lỗi cú pháp YAML.") from None
    if not isinstance(data, dict) or not isinstance(data.get("groups"), list) or not data["groups"]:
        raise SamplingError(f"{filename}: kế hoạch phải có mục “groups” là danh sách các nhóm đối tượng.")
    rules, seen = [], set()
    for index, raw in enumerate(data["groups"], start=1):
        where = f"{filename}, nhóm thứ {index}"
        if not isinstance(raw, dict):
            raise SamplingError(f"{where}: mỗi nhóm phải là một bảng khoá: giá trị.")
        group = raw.get("group")
        if not isinstance(group, str) or not group:
            raise SamplingError(f"{where}: thiếu mã nhóm đối tượng (group).")
        where = f"{filename}, nhóm “{group}”"
        if group in seen:
            raise SamplingError(f"{where}: nhóm này được khai báo hai lần.")
        seen.add(group)
        method = raw.get("method")
        if method not in METHODS:
            raise SamplingError(f"{where}: phương pháp “{method}” không hợp lệ (hợp lệ: {', '.join(METHODS)}).")
        allowed = COMMON_KEYS | METHOD_KEYS[method]
        unknown = sorted(set(raw) - allowed)
        if unknown:
            raise SamplingError(f"{where}: mục không dùng được với phương pháp {method}: {', '.join(unknown)}.")
        params = {k: raw[k] for k in METHOD_KEYS[method] if k in raw}
        required = {"fixed": ["per_unit"], "per_kind": ["sizes"], "proportional": ["total"], "neyman": ["total"],
                    "margin": ["margin"], "census": ["unit", "size"]}[method]  # fmt: skip
        for key in required:
            if key not in params:
                raise SamplingError(f"{where}: phương pháp {method} cần mục “{key}”.")
        for key in ("per_unit", "total", "size"):
            if key in params:
                _int(params[key], key, where)
        if "sizes" in params:
            if not isinstance(params["sizes"], dict) or not params["sizes"]:
                raise SamplingError(f"{where}: “sizes” phải liệt kê số phiếu theo loại đơn vị, ví dụ {{xã: 150}}.")
            for kind, n in params["sizes"].items():
                _int(n, f"sizes.{kind}", where)
        units = raw.get("units") or {}
        if method != "census" and not units:
            raise SamplingError(f"{where}: cần chọn đơn vị (units: under / kinds / codes).")
        if not isinstance(units, dict) or set(units) - {"under", "kinds", "codes"}:
            raise SamplingError(f"{where}: “units” chỉ nhận các mục under, kinds, codes.")
        minimum = _int(raw.get("min", 0), "min", where)
        maximum = raw.get("max")
        if maximum is not None:
            maximum = _int(maximum, "max", where)
        try:
            Bounds(minimum, maximum)
        except SamplingError as exc:
            raise SamplingError(f"{where}: {exc}") from None
        rules.append(GroupRule(group, method, params, units, minimum, maximum))
    return PlanDefinition(tuple(rules), text)


def select_units(units: Sequence[PlanUnit], selector: dict, where: str) -> list[PlanUnit]:
    """Units matching a selector: ``under`` (descendants of a code), ``kinds``, ``codes``."""
    by_code = {u.code: u for u in units}
    chosen = list(units)
    if "under" in selector:
        root = selector["under"]
        if root not in by_code:
            raise SamplingError(f"{where}: không có đơn vị mã “{root}”.")
        children: dict[str | None, list[PlanUnit]] = {}
        for u in units:
            children.setdefault(u.parent_code, []).append(u)
        below, stack = [], [root]
        while stack:
            for child in children.get(stack.pop(), []):
                below.append(child)
                stack.append(child.code)
        chosen = below
    if "kinds" in selector:
        kinds = set(selector["kinds"])
        chosen = [u for u in chosen if u.kind in kinds]
    if "codes" in selector:
        missing = [c for c in selector["codes"] if c not in by_code]
        if missing:
            raise SamplingError(f"{where}: không có đơn vị mã {', '.join(missing)}.")
        codes = set(selector["codes"])
        chosen = [u for u in chosen if u.code in codes]
    if not chosen:
        raise SamplingError(f"{where}: không có đơn vị nào khớp với lựa chọn {selector}.")
    return sorted(chosen, key=lambda u: u.code)


def build_plan(definition: PlanDefinition, units: Sequence[PlanUnit], filename: str = "kế hoạch") -> Plan:
    """Quotas for every group and unit of the definition."""
    by_code = {u.code: u for u in units}
    cells: list[Cell] = []
    for rule in definition.rules:
        where = f"{filename}, nhóm “{rule.group}”"
        p = rule.params
        try:
            if rule.method == "census":
                unit = p["unit"]
                if unit not in by_code:
                    raise SamplingError(f"không có đơn vị mã “{unit}”")
                cells.append(Cell(rule.group, unit, allocation.census({unit: p["size"]})[unit], 0.0))
                continue
            chosen = select_units(units, rule.units, where)
            priors = p.get("priors") or {}
            frames = [UnitFrame(u.code, u.kind, u.frame, priors.get(u.code)) for u in chosen]
            bounds = Bounds(rule.minimum, rule.maximum)
            match rule.method:
                case "fixed":
                    quotas = allocation.fixed_per_unit(frames, p["per_unit"], bounds)
                case "per_kind":
                    quotas = allocation.per_kind(frames, p["sizes"], bounds)
                case "proportional":
                    quotas = allocation.proportional(frames, p["total"], bounds)
                case "neyman":
                    quotas = allocation.neyman(frames, p["total"], bounds)
                case "margin":
                    quotas = allocation.own_margin(
                        frames, p["margin"], p.get("confidence", 0.95), p.get("p", 0.5), bounds
                    )
                case _:  # pragma: no cover - load_plan_text allows only METHODS
                    raise SamplingError(f"phương pháp “{rule.method}” không hợp lệ")
        except SamplingError as exc:
            message = str(exc)
            raise SamplingError(message if message.startswith(filename) else f"{where}: {message}") from None
        for u in chosen:
            n = quotas[u.code]
            cells.append(Cell(rule.group, u.code, n, _margin(n, u.frame)))
    return Plan(tuple(cells))


def _margin(n: int, frame: int | None) -> float | None:
    if n < 1:
        return None
    if frame is None:
        return margin_of_error(n)
    if frame < n:  # pragma: no cover - allocation caps quotas at the frame
        return None
    return margin_of_error(n, N=frame) if frame > 1 else 0.0
