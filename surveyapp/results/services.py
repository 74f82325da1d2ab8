"""Scoring against the database: one SQL aggregate of answer counts feeds the pure scoring code."""

from __future__ import annotations

import json
import math
import weakref
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import chain

import numpy as np
from sqlalchemy import BigInteger, and_, case, cast, distinct, func, literal, or_, select, text
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from questionnaires import Question, Questionnaire, QuestionType
from questionnaires.scoring import LevelCount, Rules, ScoreTable, load_rules_text, respondents, score
from questionnaires.scoring.ranks import RankRange
from questionnaires.scoring.stats import ClusterSums, Difference, Gap, cronbach_alpha_from_sums, share_gap, units_differ
from questionnaires.scoring.weights import Weights, rake

from ..campaigns.services import cells
from ..collect.quality import CHANNEL_NAMES
from ..collect.services import questionnaire_of
from ..models import (
    Answer,
    Campaign,
    GroupMode,
    Quota,
    RespondentGroup,
    Response,
    ResponseStatus,
    ScoredChannels,
    Unit,
)
from ..web import VIETNAM, vn_number


class NoRules(LookupError):
    pass


def questionnaires(campaign: Campaign) -> dict[str, Questionnaire]:
    return {g.code: questionnaire_of(g.questionnaire_version) for g in campaign.groups}


@dataclass(frozen=True)
class SourceNames:
    """Names for the codes a rules file uses: its groups and their questions."""

    groups: dict[str, str]
    questions: dict[tuple[str, str], str]

    def group(self, code: str) -> str:
        return self.groups.get(code, code)

    def question(self, group: str, qid: str) -> str:
        return self.questions.get((group, qid), qid)


def source_names(campaign: Campaign) -> SourceNames:
    qs = questionnaires(campaign)
    return SourceNames(
        {g.code: g.name for g in campaign.groups},
        {(code, q.id): q.label for code, questionnaire in qs.items() for q in question_columns(questionnaire)},
    )


def rules_of(campaign: Campaign) -> Rules:
    if not campaign.scoring_rules:
        raise NoRules("Đợt khảo sát chưa có quy tắc tính điểm.")
    return load_rules_text(campaign.scoring_rules, questionnaires(campaign), f"quy tắc của {campaign.key}")


def level_counts(s: Session, campaign: Campaign) -> list[LevelCount]:
    """Valid scale answers per group × subject unit × question × level."""
    return respondents.level_counts(respondent_levels(s, campaign), questionnaires(campaign))


def respondent_levels(s: Session, campaign: Campaign, every_channel: bool = False) -> list[respondents.Block]:
    """Every valid respondent (group × unit rated × response) with the level of each scale item
    of the group's questionnaire (``questionnaires.scoring.respondents``): one pass over the
    campaign's answers, the levels packed in SQL into 64-bit integers (a few bits a level), so the
    database sends one short row a respondent instead of one row an answer. A scale item has one
    answer per response and unit rated (the form, the paper entry and the import check it).

    (A join on a VALUES list of levels had run as a nested loop on planners without statistics,
    20 s on PostgreSQL for the demo; CASE columns per criterion source took 12 s for a national
    campaign: bench/README.md.)"""
    qs = questionnaires(campaign)
    items = {g.id: [q.id for q in qs[g.code].scale_items()] for g in campaign.groups}
    items = {gid: ids for gid, ids in items.items() if ids}
    if not items:
        return []
    hi = max(len(q.scale.labels) for g in campaign.groups for q in qs[g.code].scale_items())
    bits = respondents.bits_for(hi)
    # one slot per scale item of any group, so the packing needs no group: the answers are summed
    # alone, then joined to their 200,000 responses (not 3 million answers to their responses: a
    # third faster, bench/README.md). A question that is a scale in one group and a number in
    # another cannot spill into its neighbours: only levels that fit a slot are packed, and each
    # group unpacks only its own items' slots.
    slots = sorted({q for ids in items.values() for q in ids})
    plan = respondents.pack_plan(slots, bits)
    level = cast(Answer.value_num, BigInteger)
    multipliers = [case({q: literal(k, BigInteger) for q, k in part.items()}, value=Answer.question_id,
                        else_=literal(0, BigInteger)) for part in plan]  # fmt: skip
    columns = [cast(func.sum(level * m), BigInteger).label(f"p{c}") for c, m in enumerate(multipliers)]
    people = select(Response.id).where(Response.campaign_id == campaign.id, Response.status == ResponseStatus.VALID,
                                       Response.group_id.in_(list(items)))  # fmt: skip
    if campaign.scored_channels == ScoredChannels.LATER and not every_channel:  # the counter's own answers left out
        counter = [g.id for g in campaign.groups if g.mode == GroupMode.COUNTER]
        people = people.where(or_(Response.channel != "counter", Response.group_id.not_in(counter or [-1])))
    packed = (
        select(Answer.response_id, Answer.subject_unit_id, *columns)
        .where(Answer.response_id.in_(people), Answer.value_num.between(1, (1 << bits) - 1),
               Answer.question_id.in_(slots))
        .group_by(Answer.response_id, Answer.subject_unit_id)
        .subquery()
    )  # fmt: skip
    side = case({c: literal(k) for c, k in respondents.CHANNEL_SIDES.items()}, value=Response.channel, else_=literal(0))
    stmt = select(Response.group_id, packed.c.subject_unit_id, Response.id, side,
                  *(packed.c[f"p{c}"] for c in range(len(plan))))  # fmt: skip
    stmt = stmt.join(packed, packed.c.response_id == Response.id)
    if s.get_bind().dialect.name == "postgresql":
        # PostgreSQL's JIT compiles this one aggregate for 0.35 s of its 4 s and gains nothing
        # measurable back (EXPLAIN ANALYZE, bench/README.md); for this transaction only
        s.execute(text("SET LOCAL jit = off"))
    found = s.execute(stmt).all()
    # flattened first: numpy reads plain ints 20 times faster than it reads Row objects
    rows = np.fromiter(chain.from_iterable(found), dtype=np.int64, count=len(found) * (4 + len(plan)))
    rows = rows.reshape(-1, 4 + len(plan))
    where = {q: k for k, q in enumerate(slots)}
    codes = dict(s.execute(select(Unit.id, Unit.code)).all())
    blocks = []
    for g in campaign.groups:
        if g.id not in items:
            continue
        mine = rows[rows[:, 0] == g.id]
        mine = mine[np.lexsort((mine[:, 2], mine[:, 1]))]  # by unit, then response: a fixed order
        levels = respondents.unpack(mine[:, 4:], len(slots), bits)[:, [where[q] for q in items[g.id]]]
        blocks.append(respondents.Block.of(g.code, items[g.id], [codes[u] for u in mine[:, 1].tolist()], levels,
                                           mine[:, 3], mine[:, 2]))  # fmt: skip
    return blocks


def criterion_values(rules: Rules, qs: dict[str, Questionnaire]) -> list[tuple[str, int, str, str, int, float]]:
    """(criterion, source number, group, question, level, value) for every level of every scale
    item a criterion draws on: 1/0 for a positive level (share and bands on share), the level
    normalised to 0–1 for a mean, as ``questionnaires.scoring.compute`` counts them (the tests
    build the respondents' sums from each answer with it)."""
    from questionnaires.scoring.compute import _positive_levels

    rows = []
    for c in rules.criteria:
        by_share = c.method == "share" or (c.method == "bands" and c.bands_on == "share")
        for k, source in enumerate(c.sources):
            for qid in source.questions:
                hi = len(qs[source.group].question(qid).scale.labels)
                wanted = _positive_levels(c, 1, hi)
                for level in range(1, hi + 1):
                    value = (1.0 if level in wanted else 0.0) if by_share else (level - 1) / (hi - 1)
                    rows.append((c.code, k, source.group, qid, level, value))
    return rows


def _moments(per, m, y):
    """The outer sums of per-respondent columns ``m`` and ``y``: people with m > 0, Σm, Σy, Σm², Σy², Σmy."""
    m, y = per.c[m], per.c[y]
    return [func.sum(case((m > 0, 1), else_=0)), func.sum(m), func.sum(y), func.sum(m * m), func.sum(y * y),
            func.sum(m * y)]  # fmt: skip


def _sums(row, start: int) -> ClusterSums:
    n, m, y, mm, yy, my = (row[start + k] or 0 for k in range(6))
    return ClusterSums(int(n), float(m), float(y), float(mm), float(yy), float(my))


def respondent_people(s: Session, campaign: Campaign, rules: Rules, blocks=None) -> tuple[list, dict]:
    """(specs, (group, unit code) → ``People``): every respondent's count and sum per criterion
    source, from ``respondent_levels`` (or the ``blocks`` already read)."""
    if blocks is None:
        blocks = respondent_levels(s, campaign)
    return respondents.source_specs(rules), respondents.people(blocks, rules, questionnaires(campaign))


def cluster_sums(s: Session, campaign: Campaign, rules: Rules, blocks=None) -> respondents.Sums:
    """(group, unit, criterion, source number) → the respondents' sums of that source (``ClusterSums``)."""
    _specs, everyone = respondent_people(s, campaign, rules, blocks)
    return respondents.cluster_sums(rules, everyone)


#: the seed of the rank ranges' bootstrap, shown on the results page (same answers, same ranges)
RANK_SEED = 20_250_701


def rank_ranges(s: Session, campaign: Campaign, table: ScoreTable) -> RankRanges:
    """Unit code → the range of ranks it holds in 95 % of bootstrap samples of its respondents
    (``questionnaires.scoring.ranks``), for the units the table ranks. The respondents are those
    the table was computed from when ``compute`` made it (read once), else read again."""
    from questionnaires.scoring.ranks import bootstrap_ranks, replicates_for

    read = _READ.get(id(table))
    specs, people = read[:2] if read is not None else respondent_people(s, campaign, table.rules)
    if not specs:
        return RankRanges({}, 0)
    ranked = [u.unit for u in table.units if u.rank is not None]
    zeroed = frozenset(u.unit for u in table.units if u.insufficient and table.rules.insufficient_effect == "zero")
    replicates = replicates_for(sum(len(p.m) for p in people.values()))
    found = bootstrap_ranks(table.rules, specs, people, ranked, replicates=replicates, seed=RANK_SEED, zeroed=zeroed)
    return RankRanges(found, replicates)


#: id(table) → the (specs, people, blocks) ``compute`` made it from, while the table lives
_READ: dict[int, tuple[list, dict, list]] = {}


class RankRanges(dict):
    """Unit code → ``RankRange``, and how many bootstrap replicates made them."""

    def __init__(self, found: dict[str, RankRange], replicates: int):
        super().__init__(found)
        self.replicates = replicates


def channel_sums(s: Session, campaign: Campaign, blocks=None) -> dict[tuple[str, str], ClusterSums]:
    """(unit, "counter" | "later") → the respondents' sums of satisfied answers (SIPAS: the top two
    levels of a scale of four or more, else the top one) in the counter groups: answers given at
    the counter (the poster's QR) against answers given later (a slip taken home). Paper is in
    neither: where it was filled in is not known. From ``respondent_levels`` of every channel (or
    the ``blocks`` already read, when they hold every channel)."""
    counter = [g.code for g in campaign.groups if g.mode == GroupMode.COUNTER]
    if not counter:
        return {}
    if blocks is None:
        blocks = respondent_levels(s, campaign, every_channel=True)
    return respondents.channel_sums(blocks, questionnaires(campaign), counter)


@dataclass(frozen=True)
class Weighted:
    """The campaign's figures weighted to the known margins of its rules (issue 20, part 2), and
    per (group, unit) the weights that made them (effective sample size, whether the margins were
    met, categories nobody in the unit falls in)."""

    table: ScoreTable
    cells: dict[tuple[str, str], Weights]


def weighted(s: Session, campaign: Campaign, table: ScoreTable) -> Weighted | None:
    """The scores again with every respondent weighted (``questionnaires.scoring.weights``): each
    group × unit raked to the rules' margins, the weights capped; None when the rules weight
    nothing. From the answers ``compute`` read for ``table``."""
    weighting = table.rules.weighting
    if weighting is None:
        return None
    read = _READ.get(id(table))
    blocks = read[2] if read is not None else respondent_levels(s, campaign)
    by_group: dict[str, list] = {}
    for margin in weighting.margins:
        by_group.setdefault(margin.group, []).append(margin)
    group_ids = {g.code: g.id for g in campaign.groups}
    weights, cells = {}, {}
    for block in blocks:
        margins = by_group.get(block.group)
        if not margins:
            continue
        columns = [_categories(s, campaign, group_ids[block.group], block, m.by) for m in margins]
        w = np.ones(len(block.levels))
        for i, unit in enumerate(block.units):
            rows = slice(block.starts[i], block.starts[i + 1])
            found = rake([c[rows] for c in columns], [m.shares_for(unit) for m in margins], cap=weighting.cap)
            w[rows] = found.weights
            cells[(block.group, unit)] = found
        weights[block.group] = w
    qs = questionnaires(campaign)
    rules = table.rules
    everyone = respondents.people(blocks, rules, qs, weights)
    scored = score(rules, (), [(u.unit, u.name) for u in table.units], qs, quota_status(s, campaign),
                   clusters=respondents.cluster_sums(rules, everyone),
                   cells=respondents.cells(blocks, qs, weights))  # fmt: skip
    return Weighted(scored, cells)


@dataclass(frozen=True)
class WeightedRow:
    """One unit's weighted figures beside the unweighted ones (results page, workbook, API)."""

    unit_code: str
    unit_name: str
    total: float | None
    weighted_total: float | None
    rank: int | None
    weighted_rank: int | None
    points: dict[str, tuple[float | None, float | None]]  #: criterion → (unweighted, weighted) points
    respondents: int  #: the weighted groups' respondents in the unit
    effective_n: float  #: Kish's effective sample size of the same
    notes: tuple[str, ...]  #: margins not met, categories nobody falls in (Vietnamese)

    @property
    def change(self) -> float | None:
        if self.total is None or self.weighted_total is None:
            return None
        return round(self.weighted_total - self.total, 2)


#: an effective sample below this share of the respondents is noted as lopsided
LOPSIDED = 0.5


def weighted_rows(campaign: Campaign, table: ScoreTable, result: Weighted) -> list[WeightedRow]:
    """Per unit of ``table`` (its order): points and totals unweighted and weighted, the effective
    sample size and what the weighting could not do."""
    weighting = table.rules.weighting
    names = _category_names(campaign, weighting)
    rows = []
    for u in table.units:
        w = result.table.unit(u.unit)
        cells = [result.cells[(m, u.unit)] for m in sorted({m.group for m in weighting.margins})
                 if (m, u.unit) in result.cells]  # fmt: skip
        notes = []
        for cell in cells:
            if not cell.converged:
                notes.append(f"chưa đạt đúng tỷ lệ đã biết: trọng số bị chặn ở {weighting.cap:g} lần mức trung bình"
                             .replace(".", ","))  # fmt: skip
            for k, category in cell.empty:
                margin = weighting.margins[k]
                notes.append(f"không có ai thuộc loại “{names.get((margin.group, margin.by, category), category)}”: "
                             "phần của loại này chia cho các loại khác")  # fmt: skip
        n = sum(len(c.weights) for c in cells)
        effective = sum(c.effective_n for c in cells)
        if n and effective < LOPSIDED * n:
            notes.append(f"mẫu lệch nhiều: số người hiệu dụng chỉ bằng {vn_number(100 * effective / n, 0)}% số người")
        points = {c.code: (u.criteria[c.code].points, w.criteria[c.code].points) for c in table.rules.criteria}
        rows.append(WeightedRow(u.unit, u.name, u.total, w.total, u.rank, w.rank, points, n, effective,
                                tuple(dict.fromkeys(notes))))  # fmt: skip
    return rows


def margin_descriptions(campaign: Campaign, weighting) -> list[str]:
    """Each margin in words: "Kênh trả lời: mã QR tại quầy 40%, phiếu QR riêng 60%" (the common
    shares; units with their own are counted)."""
    names = _category_names(campaign, weighting)
    qs = questionnaires(campaign)
    out = []
    for m in weighting.margins:
        what = "Kênh trả lời" if m.by == "channel" else qs[m.group].question(m.by).label.rstrip("?")
        parts = ", ".join(f"{names[(m.group, m.by, c)]} {vn_number(100 * share, 1)}%" for c, share in m.shares.items())
        own = f"; {len(m.units)} đơn vị có tỷ lệ riêng" if m.units else ""
        out.append(f"{what}: {parts}{own}")
    return out


def _category_names(campaign: Campaign, weighting) -> dict[tuple[str, str, str], str]:
    """(group, margin, category) → its Vietnamese name: the channel's, or the option's label."""
    qs = questionnaires(campaign)
    names = {}
    for m in weighting.margins:
        if m.by == "channel":
            names.update({(m.group, m.by, c): CHANNEL_NAMES.get(c, c) for c in m.shares})
        else:
            q = qs[m.group].question(m.by)
            options = (
                {"yes": "Có", "no": "Không"} if q.type == QuestionType.YESNO else {o.code: o.label for o in q.options}
            )
            names.update({(m.group, m.by, c): options.get(c, c) for c in m.shares})
    return names


def _categories(s: Session, campaign: Campaign, group_id: int, block: respondents.Block, by: str) -> list:
    """Each row's category of a margin: its channel, or its response's answer to question ``by``."""
    if by == "channel":
        return [respondents.CHANNEL_OF.get(int(code)) for code in block.sides]
    answered = dict(s.execute(
        select(Answer.response_id, Answer.value_code).join(Response, Answer.response_id == Response.id)
        .where(Response.campaign_id == campaign.id, Response.group_id == group_id, Answer.question_id == by,
               Answer.value_code.is_not(None))
    ).all())  # fmt: skip
    return [answered.get(int(r)) for r in block.responses]


@dataclass(frozen=True)
class PressureRow:
    unit_code: str
    unit_name: str
    counter_people: int
    later_people: int
    gap: Gap | None

    @property
    def flagged(self) -> bool:
        return self.gap is not None and self.gap.first_higher


def counter_pressure(s: Session, campaign: Campaign, table: ScoreTable | None = None) -> list[PressureRow]:
    """Units that collect both at the counter and later: the share satisfied each way and whether
    the counter's is higher beyond chance (issue 20, part 3); flagged units first. With the
    ``table`` ``compute`` just made, from the answers it read (when it read every channel)."""
    read = _READ.get(id(table)) if table is not None else None
    every = read is not None and campaign.scored_channels != ScoredChannels.LATER
    found = channel_sums(s, campaign, read[2] if every else None)
    both = sorted({u for u, side in found if side == "counter"} & {u for u, side in found if side == "later"})
    names = dict(s.execute(select(Unit.code, Unit.name).where(Unit.code.in_(both))).all()) if both else {}
    rows = [PressureRow(u, names[u], found[(u, "counter")].respondents, found[(u, "later")].respondents,
                        share_gap(found[(u, "counter")], found[(u, "later")])) for u in both]  # fmt: skip
    return sorted(rows, key=lambda r: (not r.flagged, -(r.gap.difference if r.gap else -9), r.unit_code))


def quota_status(s: Session, campaign: Campaign) -> dict[tuple[str, str], tuple[int, int]]:
    """(group, unit) → (target, valid responses) for every quota of the campaign: one query."""
    return {(c.group_code, c.unit_code): (c.target, c.valid) for c in cells(s, campaign)}


def scored_units(s: Session, campaign: Campaign, rules: Rules) -> list[tuple[str, str]]:
    """The units the rules score: counter groups' quota units and the units other groups rate."""
    used = {src.group for c in rules.criteria for src in c.sources}
    groups = [g for g in campaign.groups if g.code in used]
    ids: set[int] = set()
    counter = [g.id for g in groups if g.mode == GroupMode.COUNTER]
    if counter:
        ids.update(s.scalars(select(Quota.unit_id).where(Quota.group_id.in_(counter))))
    for g in groups:
        if g.mode != GroupMode.COUNTER:
            ids.update(u.id for u in g.rated_units)
    rows = s.execute(select(Unit.code, Unit.name).where(Unit.id.in_(ids)).order_by(Unit.code)) if ids else []
    return [(code, name) for code, name in rows]


class LevelCounts(Sequence):
    """The level counts of ``compute``'s read (``respondents.level_counts``), made when first
    asked for: the results pages use them, the scores, the workbook and the API do not (a
    national campaign has 250,000 of them: 0.6 s and a heavier garbage collector, bench/README.md)."""

    def __init__(self, blocks: list[respondents.Block], qs: dict[str, Questionnaire]):
        self._source: tuple | None = (blocks, qs)
        self._counts: list[LevelCount] = []

    def _all(self) -> list[LevelCount]:
        if self._source is not None:
            self._counts, self._source = respondents.level_counts(*self._source), None
        return self._counts

    def __getitem__(self, index):
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._all())

    def __iter__(self):
        return iter(self._all())

    def __eq__(self, other) -> bool:
        return self._all() == (other._all() if isinstance(other, LevelCounts) else other)

    __hash__ = None


def compute(s: Session, campaign: Campaign, rules: Rules | None = None) -> tuple[ScoreTable, LevelCounts]:
    """The points of every unit under the campaign's rules (or under ``rules``, for a preview):
    the answers read once (``respondent_levels``) for the counts, the intervals and the ranks."""
    rules = rules or rules_of(campaign)
    blocks = respondent_levels(s, campaign)
    qs = questionnaires(campaign)
    counts = LevelCounts(blocks, qs)
    specs, everyone = respondent_people(s, campaign, rules, blocks)
    table = score(rules, (), scored_units(s, campaign, rules), qs, quota_status(s, campaign),
                  clusters=respondents.cluster_sums(rules, everyone), cells=respondents.cells(blocks, qs))  # fmt: skip
    _READ[id(table)] = (specs, everyone, blocks)
    weakref.finalize(table, _READ.pop, id(table), None)
    return table, counts


@dataclass(frozen=True)
class AspectAlpha:
    group: str
    aspect: str
    name: str
    items: int
    observations: int  #: complete rows: a respondent, or for rate_units items a respondent × unit rated
    alpha: float
    respondents: int = 0  #: the distinct people behind ``observations``


def alphas(s: Session, campaign: Campaign) -> list[AspectAlpha]:
    """Cronbach's alpha per group and aspect, from sums computed in SQL over complete respondents
    (a respondent, for a rated unit, who answered every scale item of the aspect): one query per
    group, one pass over its answers (two per aspect took 11.6 s on a 200,000-response campaign;
    this takes 1.5 s)."""
    out = []
    for group in campaign.groups:
        questionnaire = questionnaire_of(group.questionnaire_version)
        by_aspect: dict[str, list[str]] = defaultdict(list)
        for q in questionnaire.scale_items():
            by_aspect[q.aspect].append(q.id)
        by_aspect = {aspect: ids for aspect, ids in by_aspect.items() if len(ids) >= 2}
        if not by_aspect:
            continue
        # one row per respondent and rated unit, one column per item (its value, or NULL)
        item_ids = [q for ids in by_aspect.values() for q in ids]
        person = (
            select(
                Answer.response_id.label("rid"),
                *(
                    func.max(case((Answer.question_id == q, Answer.value_num))).label(f"v{i}")
                    for i, q in enumerate(item_ids)
                ),
            )
            .join(Response, Answer.response_id == Response.id)
            .where(
                Response.group_id == group.id,
                Response.status == ResponseStatus.VALID,
                Answer.question_id.in_(item_ids),
                Answer.value_num.is_not(None),
            )
            .group_by(Answer.response_id, Answer.subject_unit_id)
            .subquery()
        )
        column = {q: person.c[f"v{i}"] for i, q in enumerate(item_ids)}
        # per aspect, over the respondents who answered all its items: how many, Σ and Σ² of each
        # item, Σ² of the respondent's aspect total
        selected = []
        for ids in by_aspect.values():
            complete = and_(*(column[q].is_not(None) for q in ids))
            total = sum((column[q] for q in ids[1:]), column[ids[0]])
            selected.append(func.count().filter(complete))
            selected.append(func.count(distinct(person.c.rid)).filter(complete))
            selected.append(func.sum(total * total).filter(complete))
            for q in ids:
                selected += [func.sum(column[q]).filter(complete), func.sum(column[q] * column[q]).filter(complete)]
        values = iter(s.execute(select(*selected)).one())
        for aspect, ids in by_aspect.items():
            n, people, person_squares = next(values) or 0, next(values) or 0, next(values)
            item_sums, item_squares = [], []
            for _ in ids:
                item_sums.append(next(values))
                item_squares.append(next(values))
            alpha = (
                cronbach_alpha_from_sums(len(ids), n, item_sums, item_squares, sum(item_sums), person_squares)
                if n >= 2
                else math.nan
            )
            out.append(AspectAlpha(group.code, aspect, questionnaire.aspects[aspect], len(ids), n, alpha, people))
    return out


def differences(
    counts: list[LevelCount], questionnaires_: dict[str, Questionnaire]
) -> list[tuple[str, str, Difference]]:
    """For each scale question of each group: do units differ? (chi-square on units × levels)."""
    tables: dict[tuple[str, str], dict[str, dict[int, int]]] = defaultdict(lambda: defaultdict(dict))
    for c in counts:
        tables[(c.group, c.question)][c.unit][c.level] = c.n
    out = []
    for (group, qid), by_unit in sorted(tables.items()):
        q = questionnaires_[group].question(qid)
        levels = range(1, len(q.scale.labels) + 1)
        matrix = np.array([[row.get(level, 0) for level in levels] for row in by_unit.values()])
        out.append((group, qid, units_differ(matrix)))
    return out


def distributions(counts: list[LevelCount], unit: str | None = None) -> dict[tuple[str, str], dict[int, int]]:
    """(group, question) → level → answers, over all units or one unit."""
    out: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
    for c in counts:
        if unit is None or c.unit == unit:
            cell = out[(c.group, c.question)]
            cell[c.level] = cell.get(c.level, 0) + c.n
    return out


@dataclass(frozen=True)
class RawRow:
    number: int
    group: str  #: the group's name
    unit_code: str
    unit_name: str
    channel: str  #: in words ("mã QR tại quầy" …)
    day: date  #: the Vietnam date it was submitted
    values: dict[str, str | float]  #: stored codes and numbers (labels are the export's job)


def raw_rows(s: Session, campaign: Campaign, group: RespondentGroup, batch: int = 5_000) -> Iterator[RawRow]:
    """Anonymised answers of one group, one row per response and unit rated, streamed in batches.

    Rows carry a running number, never a database id, submission id, time of day or invitation.
    The database folds each response's answers into arrays (PostgreSQL ``array_agg``, SQLite
    ``json_group_array``), so Python handles one row per response, not one per answer.
    """
    units = {uid: (code, name) for uid, code, name in s.execute(select(Unit.id, Unit.code, Unit.name))}
    sqlite = s.get_bind().dialect.name == "sqlite"
    answers = (
        select(Response.id.label("rid"), Response.channel, Response.submitted_at, Answer.subject_unit_id,
               Answer.question_id, Answer.value_code, Answer.value_num, Answer.value_text, Answer.id.label("aid"))
        .join(Answer, Answer.response_id == Response.id)
        .where(Response.group_id == group.id, Response.status == ResponseStatus.VALID)
    )  # fmt: skip
    if sqlite:  # json_group_array keeps the order of an ordered subquery
        a = answers.order_by(Response.id, Answer.subject_unit_id, Answer.id).subquery()

        def fold(column):
            return func.json_group_array(column)
    else:
        a = answers.subquery()

        def fold(column):
            return func.array_agg(aggregate_order_by(column, a.c.aid))

    stmt = (
        select(
            a.c.rid,
            func.min(a.c.channel),
            func.min(a.c.submitted_at),
            a.c.subject_unit_id,
            fold(a.c.question_id),
            fold(a.c.value_code),
            fold(a.c.value_num),
            fold(a.c.value_text),
        )  # fmt: skip
        .group_by(a.c.rid, a.c.subject_unit_id)
        .order_by(a.c.rid, a.c.subject_unit_id)
        .execution_options(yield_per=batch)
    )
    for number, (_rid, channel, submitted, subject, qids, codes, nums, texts) in enumerate(s.execute(stmt), start=1):
        if sqlite:
            qids, codes, nums, texts = (json.loads(x) for x in (qids, codes, nums, texts))
        values: dict[str, str | float] = {}
        for qid, code, num, said in zip(qids, codes, nums, texts, strict=True):
            value = said if said is not None else code if code is not None else num
            if qid in values and code is not None:
                values[qid] = f"{values[qid]};{code}"
            else:
                values[qid] = value
        at = datetime.fromisoformat(submitted) if isinstance(submitted, str) else submitted
        code, name = units[subject]
        day = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(VIETNAM).date()
        yield RawRow(number, group.name, code, name, CHANNEL_NAMES.get(channel, channel), day, values)


def question_columns(questionnaire: Questionnaire) -> list[Question]:
    """Every answerable question in form order, items of rate_units included: the raw columns."""
    out = []
    for q in questionnaire.top_questions():
        out.extend(q.items if q.type is QuestionType.RATE_UNITS else [q])
    return out
