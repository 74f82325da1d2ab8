"""Scoring rules: how a province turns answers into the survey points of its index.

A rules file (YAML, documented in ``questionnaires/SCORING.md``) lists the survey criteria, each
with a code, a name, its maximum points, the groups and questions it draws on with weights, and
a method (``share``, ``mean`` or ``bands``). Loading checks it against the campaign's groups and
questionnaires and raises :class:`RulesError` with every problem in Vietnamese.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import yaml

from ..model import Questionnaire, QuestionType

METHODS = ("share", "mean", "bands")
EFFECTS = ("flag", "zero", "exclude")
WEIGHT_TOLERANCE = 1e-6


class RulesError(ValueError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Band:
    minimum: float  #: lowest percentage (0–100) that earns ``points``; a tie counts for this band
    points: float


@dataclass(frozen=True)
class Source:
    group: str
    questions: tuple[str, ...]
    weight: float


@dataclass(frozen=True)
class Criterion:
    code: str
    name: str
    max_points: float
    method: str
    sources: tuple[Source, ...]
    positive: frozenset[int] | None = None  #: levels counted as positive; None = the top two
    bands: tuple[Band, ...] = ()
    bands_on: str = "share"  #: bands read the share (%) or the normalised mean (%)


#: what a margin can weight by besides a single-choice or yes/no question: the submission channel
CHANNELS = ("counter", "slip", "invitation", "paper")
DEFAULT_CAP = 5.0


@dataclass(frozen=True)
class Margin:
    """A known distribution of one group's respondents in each unit (issue 20, part 2)."""

    group: str
    by: str  #: "channel", or the id of a single-choice or yes/no question of the group
    shares: Mapping[str, float]  #: category → known share, for every unit
    units: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  #: unit code → its own shares

    def shares_for(self, unit: str) -> Mapping[str, float]:
        return self.units.get(unit, self.shares)


@dataclass(frozen=True)
class Weighting:
    margins: tuple[Margin, ...]
    cap: float = DEFAULT_CAP  #: no weight above this many times the mean


@dataclass(frozen=True)
class Rules:
    id: str
    title: str
    component_total: float
    criteria: tuple[Criterion, ...]
    #: a unit × group below this share of its quota has an insufficient sample
    min_share_of_quota: float = 1.0
    #: what an insufficient sample does to the unit's points: flag only, zero them, or exclude the unit
    insufficient_effect: str = "flag"
    source_text: str = field(default="", compare=False)
    #: weights for lopsided samples (None: none; the figures are then unweighted only)
    weighting: Weighting | None = None

    def criterion(self, code: str) -> Criterion:
        return next(c for c in self.criteria if c.code == code)


def load_rules_text(text: str, questionnaires: Mapping[str, Questionnaire], filename: str = "quy-tac.yaml") -> Rules:
    """Parse and check a rules file against ``questionnaires`` (group code → its questionnaire)."""
    problems: list[str] = []

    def bad(where: str, message: str) -> None:
        problems.append(f"{filename}{', ' + where if where else ''}: {message}")

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise RulesError([f"{filename}{f', dòng {mark.line + 1}' if mark else ''}: lỗi cú pháp YAML."]) from None
    if not isinstance(data, dict):
        raise RulesError([f"{filename}: tệp quy tắc phải là một bảng khoá: giá trị (id, title, criteria…)."])
    for key in ("id", "title", "component_total", "criteria"):
        if data.get(key) is None:
            bad("", f"thiếu mục bắt buộc “{key}”.")
    total = data.get("component_total")
    if total is not None and (not isinstance(total, int | float) or isinstance(total, bool) or total <= 0):
        bad("", f"“component_total” phải là số điểm dương, nhận được {total!r}.")
    insufficient = data.get("insufficient_sample") or {}
    if not isinstance(insufficient, dict):
        bad("insufficient_sample", "phải là một bảng khoá: giá trị (min_share_of_quota, effect).")
        insufficient = {}
    min_share = insufficient.get("min_share_of_quota", 1.0)
    effect = insufficient.get("effect", "flag")
    if not isinstance(min_share, int | float) or not 0 <= min_share <= 1:
        bad("insufficient_sample", "“min_share_of_quota” phải từ 0 đến 1.")
    if effect not in EFFECTS:
        bad("insufficient_sample", f"“effect” phải là một trong: {', '.join(EFFECTS)}.")

    criteria, codes = [], set()
    raw_criteria = data.get("criteria") or []
    if not isinstance(raw_criteria, list) or not raw_criteria:
        bad("", "“criteria” phải là danh sách tiêu chí, có ít nhất một tiêu chí.")
        raw_criteria = []
    for index, raw in enumerate(raw_criteria, start=1):
        if not isinstance(raw, dict):
            bad(f"tiêu chí thứ {index}", "mỗi tiêu chí phải là một bảng khoá: giá trị.")
            continue
        code = str(raw.get("code", "")).strip()
        where = f"tiêu chí “{code or index}”"
        if not code:
            bad(where, "thiếu mã tiêu chí (code).")
        elif code in codes:
            bad(where, "mã tiêu chí bị trùng.")
        codes.add(code)
        name = str(raw.get("name") or "").strip()
        if not name:
            bad(where, "thiếu tên tiêu chí (name).")
        max_points = raw.get("max")
        if not isinstance(max_points, int | float) or isinstance(max_points, bool) or max_points <= 0:
            bad(where, f"điểm tối đa (max) phải là số dương, nhận được {max_points!r}.")
            max_points = 0
        method = raw.get("method")
        if method not in METHODS:
            bad(where, f"phương pháp “{method}” không hợp lệ (hợp lệ: {', '.join(METHODS)}).")
        sources = _sources(raw, where, questionnaires, bad)
        positive = raw.get("positive")
        if positive is not None:
            if not isinstance(positive, list) or not positive or not all(isinstance(x, int) for x in positive):
                bad(where, "“positive” phải là danh sách mức được tính là tích cực, ví dụ [4, 5].")
                positive = None
            else:
                positive = frozenset(positive)
        bands = _bands(raw, where, max_points, bad) if method == "bands" else ()
        bands_on = raw.get("bands_on", "share")
        if bands_on not in ("share", "mean"):
            bad(where, "“bands_on” phải là share hoặc mean.")
        criteria.append(Criterion(code, name, float(max_points), method, tuple(sources), positive, bands, bands_on))

    if total and criteria and not problems:
        summed = sum(c.max_points for c in criteria)
        if not math.isclose(summed, total, abs_tol=1e-9):
            bad("", f"tổng điểm tối đa của các tiêu chí ({_num(summed)}) khác điểm của phần điều tra "
                f"({_num(total)}).")  # fmt: skip
    weighting = _weighting(data.get("weighting"), questionnaires, bad) if data.get("weighting") is not None else None
    if problems:
        raise RulesError(problems)
    return Rules(str(data["id"]), str(data["title"]), float(total), tuple(criteria), float(min_share), effect, text,
                 weighting)  # fmt: skip


def _weighting(raw, questionnaires: Mapping[str, Questionnaire], bad) -> Weighting | None:
    where = "gia quyền khi mẫu lệch"
    if not isinstance(raw, dict):
        bad(where, "phải ghi các biên (nhóm đối tượng, biến, tỷ lệ đã biết) và trọng số tối đa.")
        return None
    cap = raw.get("cap", DEFAULT_CAP)
    if not isinstance(cap, int | float) or isinstance(cap, bool) or cap <= 1:
        bad(
            where,
            f"trọng số tối đa (số lần trọng số trung bình) phải là số lớn hơn 1, nhận được {_shown(cap)}.",
        )
        cap = DEFAULT_CAP
    raw_margins = raw.get("margins")
    if not isinstance(raw_margins, list) or not raw_margins:
        bad(where, "cần ít nhất một biên: nhóm đối tượng, biến và tỷ lệ đã biết của từng loại.")
        return None
    margins, seen = [], set()
    for index, m in enumerate(raw_margins, start=1):
        here = f"{where}, biên thứ {index}"
        if not isinstance(m, dict):
            bad(here, "mỗi biên phải ghi nhóm đối tượng, biến và tỷ lệ đã biết của từng loại.")
            continue
        group, by = m.get("group"), m.get("by")
        questionnaire = questionnaires.get(group)
        if questionnaire is None:
            known = ", ".join(sorted(questionnaires)) or "không có"
            bad(here, f"nhóm đối tượng “{group}” không có trong đợt khảo sát (các nhóm: {known}).")
            continue
        if by == "channel":
            categories = set(CHANNELS)
        else:
            question = next((q for q in questionnaire.top_questions() if q.id == by), None)
            if question is None or question.type not in (QuestionType.SINGLE, QuestionType.YESNO):
                bad(here, f"biến của biên phải là kênh trả lời hoặc một câu hỏi chọn một / có-không của nhóm "
                    f"“{group}”, nhận được “{by}”.")  # fmt: skip
                continue
            categories = {"yes", "no"} if question.type == QuestionType.YESNO else {o.code for o in question.options}
        if (group, by) in seen:
            bad(here, f"biến “{by}” của nhóm “{group}” đã có ở một biên khác.")
        seen.add((group, by))
        shares = _shares(m.get("shares"), categories, here, bad)
        units = {}
        raw_units = m.get("units") or {}
        if not isinstance(raw_units, dict):
            bad(here, "tỷ lệ riêng theo đơn vị phải ghi: mã đơn vị → tỷ lệ đã biết của đơn vị đó.")
            raw_units = {}
        for code, raw_shares in raw_units.items():
            units[str(code)] = _shares(raw_shares, categories, f"{here}, đơn vị “{code}”", bad)
        margins.append(Margin(str(group), str(by), shares, units))
    return Weighting(tuple(margins), float(cap))


def _shares(raw, categories: set[str], where: str, bad) -> dict[str, float]:
    """Known shares per category: numbers from 0 to 1 adding up to 1 (percentages are refused)."""
    if not isinstance(raw, dict) or not raw:
        bad(where, "cần tỷ lệ đã biết của từng loại, từ 0 đến 1 (0 % đến 100 %), ví dụ counter: 0.6 và slip: 0.4.")
        return {}
    out = {}
    for key, value in raw.items():
        key = str(key)
        if key not in categories:
            bad(where, f"loại “{key}” không có (các loại: {', '.join(sorted(categories))}).")
        elif not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 1:
            bad(where, f"tỷ lệ của “{key}” phải là số từ 0 đến 1 (0 % đến 100 %), nhận được {_shown(value)}"
                f"{_percent(value)}.")  # fmt: skip
        else:
            out[key] = float(value)
    if out and len(out) == len(raw) and not math.isclose(sum(out.values()), 1.0, abs_tol=WEIGHT_TOLERANCE):
        bad(where, f"tổng các tỷ lệ phải bằng 1 (100 %), hiện là {_num(sum(out.values()))}"
            f"{_percent(sum(out.values()))}.")  # fmt: skip
    return out


def _num(x: float) -> str:
    return f"{x:g}".replace(".", ",")


def _shown(value) -> str:
    """A value as the officer typed it: numbers with a decimal comma, anything else quoted."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _num(value)
    return f"“{value}”"


def _percent(value) -> str:
    """' (90 %)' beside a share, for the rules form where shares are typed in percent."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f" ({_num(round(value * 100, 6))} %)"
    return ""


def _sources(raw: dict, where: str, questionnaires: Mapping[str, Questionnaire], bad) -> list[Source]:
    out = []
    raw_sources = raw.get("sources")
    if not isinstance(raw_sources, list) or not raw_sources:
        bad(where, "cần ít nhất một nguồn (sources: nhóm đối tượng và câu hỏi).")
        return out
    for raw_source in raw_sources:
        if not isinstance(raw_source, dict):
            bad(where, "mỗi nguồn phải là một bảng khoá: giá trị.")
            continue
        group = raw_source.get("group")
        questionnaire = questionnaires.get(group)
        if questionnaire is None:
            known = ", ".join(sorted(questionnaires)) or "không có"
            bad(where, f"nhóm đối tượng “{group}” không có trong đợt khảo sát (các nhóm: {known}).")
            continue
        weight = raw_source.get("weight", 1.0 if len(raw_sources) == 1 else None)
        if not isinstance(weight, int | float) or isinstance(weight, bool) or weight <= 0:
            bad(where, f"nguồn “{group}”: trọng số (weight) phải là số dương.")
            weight = 0.0
        questions = raw_source.get("questions")
        aspect = raw_source.get("aspect")
        scale_items = {q.id: q for q in questionnaire.scale_items()}
        if questions is None and aspect is None:
            bad(where, f"nguồn “{group}”: cần liệt kê câu hỏi (questions) hoặc khía cạnh (aspect).")
            continue
        if aspect is not None:
            chosen = [q.id for q in scale_items.values() if q.aspect == aspect]
            if not chosen:
                bad(
                    where,
                    f"nguồn “{group}”: phiếu “{questionnaire.code}” không có câu thang đo nào "
                    f"thuộc khía cạnh “{aspect}”.",
                )
                continue
        else:
            chosen = list(questions) if isinstance(questions, list) else []
            for qid in chosen:
                if not questionnaire.has_question(qid):
                    bad(where, f"nguồn “{group}”: câu hỏi “{qid}” không có trong phiếu “{questionnaire.code}”.")
                elif questionnaire.question(qid).type is not QuestionType.SCALE:
                    bad(where, f"nguồn “{group}”: câu hỏi “{qid}” không phải câu thang đo nên không tính điểm được.")
            if not chosen:
                bad(where, f"nguồn “{group}”: danh sách câu hỏi trống.")
            scales = {questionnaire.question(q).scale.name for q in chosen if q in scale_items}
            if len(scales) > 1:
                bad(where, f"nguồn “{group}”: các câu hỏi dùng các thang đo khác nhau ({', '.join(sorted(scales))}).")
        out.append(Source(group, tuple(chosen), float(weight)))
    weights = [s.weight for s in out]
    if out and len(out) == len(raw_sources) and not math.isclose(sum(weights), 1.0, abs_tol=WEIGHT_TOLERANCE):
        bad(where, f"tổng trọng số các nguồn phải bằng 1, hiện là {_num(sum(weights))}.")
    return out


def _bands(raw: dict, where: str, max_points: float, bad) -> tuple[Band, ...]:
    raw_bands = raw.get("bands")
    if not isinstance(raw_bands, list) or not raw_bands:
        bad(where, "phương pháp bands cần danh sách ngưỡng (bands: [{min: 95, points: 2}, …]).")
        return ()
    bands = []
    for b in raw_bands:
        if (
            not isinstance(b, dict)
            or not isinstance(b.get("min"), int | float)
            or not isinstance(b.get("points"), int | float)
        ):
            bad(where, "mỗi ngưỡng phải có dạng {min: phần trăm, points: điểm}.")
            return ()
        bands.append(Band(float(b["min"]), float(b["points"])))
    mins = [b.minimum for b in bands]
    if any(a <= b for a, b in zip(mins, mins[1:], strict=False)):
        bad(where, "các ngưỡng phải xếp từ cao xuống thấp, không trùng nhau (ví dụ 95, 90, 80, 0).")
    if any(not 0 <= m <= 100 for m in mins):
        bad(where, "ngưỡng phần trăm phải từ 0 đến 100.")
    if any(b.points < 0 or b.points > max_points for b in bands):
        bad(where, f"điểm của mỗi ngưỡng phải từ 0 đến điểm tối đa ({_num(max_points)}).")
    points = [b.points for b in bands]
    if any(a < b for a, b in zip(points, points[1:], strict=False)):
        bad(where, "ngưỡng cao hơn không được cho ít điểm hơn ngưỡng thấp hơn.")
    return tuple(bands)
