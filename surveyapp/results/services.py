"""Scoring against the database: one SQL aggregate of answer counts feeds the pure scoring code."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
from sqlalchemy import and_, case, distinct, func, or_, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from questionnaires import Question, Questionnaire, QuestionType
from questionnaires.scoring import LevelCount, Rules, ScoreTable, load_rules_text, score
from questionnaires.scoring.ranks import RankRange
from questionnaires.scoring.stats import ClusterSums, Difference, Gap, cronbach_alpha_from_sums, share_gap, units_differ

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
from ..web import VIETNAM


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
    """Valid scale answers per group × subject unit × question × level: one SQL aggregate."""
    scale_ids = {q.id for q in questionnaires(campaign).values() for q in q.scale_items()}
    stmt = (
        select(RespondentGroup.code, Unit.code, Answer.question_id, Answer.value_num, func.count())
        .select_from(Answer)
        .join(Response, Answer.response_id == Response.id)
        .join(RespondentGroup, Response.group_id == RespondentGroup.id)
        .join(Unit, Answer.subject_unit_id == Unit.id)
        .where(
            Response.campaign_id == campaign.id,
            Response.status == ResponseStatus.VALID,
            Answer.value_num.is_not(None),
            Answer.question_id.in_(scale_ids),
        )
        .group_by(RespondentGroup.code, Unit.code, Answer.question_id, Answer.value_num)
    )
    if campaign.scored_channels == ScoredChannels.LATER:  # the counter's own answers left out
        stmt = stmt.where(or_(Response.channel != "counter", RespondentGroup.mode != GroupMode.COUNTER))
    return [LevelCount(g, u, q, int(level), n) for g, u, q, level, n in s.execute(stmt)]


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


def _later_only(stmt, campaign: Campaign):
    """Leave out the counter groups' answers given at the counter when the campaign scores only
    answers given later (``Campaign.scored_channels``)."""
    if campaign.scored_channels != ScoredChannels.LATER:
        return stmt
    return stmt.where(or_(Response.channel != "counter", RespondentGroup.mode != GroupMode.COUNTER))


def _moments(per, m, y):
    """The outer sums of per-respondent columns ``m`` and ``y``: people with m > 0, Σm, Σy, Σm², Σy², Σmy."""
    m, y = per.c[m], per.c[y]
    return [func.sum(case((m > 0, 1), else_=0)), func.sum(m), func.sum(y), func.sum(m * m), func.sum(y * y),
            func.sum(m * y)]  # fmt: skip


def _sums(row, start: int) -> ClusterSums:
    n, m, y, mm, yy, my = (row[start + k] or 0 for k in range(6))
    return ClusterSums(int(n), float(m), float(y), float(mm), float(yy), float(my))


def _per_respondent(campaign: Campaign, rules: Rules):
    """The statement giving, per respondent (group, unit rated, response), for each criterion's
    source how many of its items they answered (``m<i>``) and what their answers add up to
    (``y<i>``: 1/0 positive, or the level normalised to 0–1), with the sources' (group, criterion,
    source number) in column order. CASE columns over one pass of the campaign's answers, the
    shape of ``level_counts`` (a join on a VALUES list of levels ran as a nested loop on planners
    without statistics: 20 s on PostgreSQL for the demo)."""
    from questionnaires.scoring.compute import _positive_levels

    qs = questionnaires(campaign)
    specs, columns, questions = [], [], set()
    for c in rules.criteria:
        by_share = c.method == "share" or (c.method == "bands" and c.bands_on == "share")
        for k, source in enumerate(c.sources):
            items = list(source.questions)
            questions.update(items)
            values = []
            for qid in items:
                hi = len(qs[source.group].question(qid).scale.labels)
                if by_share:
                    wanted = sorted(_positive_levels(c, 1, hi))
                    values.append((and_(Answer.question_id == qid, Answer.value_num.in_(wanted)), 1.0))
                else:
                    values.append((Answer.question_id == qid, (Answer.value_num - 1) / float(hi - 1)))
            mine = and_(RespondentGroup.code == source.group, Answer.question_id.in_(items))
            i = len(specs)
            columns += [func.sum(case((mine, 1), else_=0)).label(f"m{i}"),
                        func.sum(case((mine, case(*values, else_=0.0)), else_=0.0)).label(f"y{i}")]  # fmt: skip
            specs.append((source.group, c.code, k))
    if not specs:
        return [], None
    stmt = _later_only(
        select(RespondentGroup.code.label("grp"), Answer.subject_unit_id.label("unit_id"), *columns)
        .select_from(Answer)
        .join(Response, Answer.response_id == Response.id)
        .join(RespondentGroup, Response.group_id == RespondentGroup.id)
        .where(Response.campaign_id == campaign.id, Response.status == ResponseStatus.VALID,
               Answer.value_num.is_not(None), Answer.question_id.in_(questions))
        .group_by(RespondentGroup.code, Answer.subject_unit_id, Answer.response_id),
        campaign,
    )  # fmt: skip
    return specs, stmt


def cluster_sums(s: Session, campaign: Campaign, rules: Rules) -> dict[tuple[str, str, str, int], ClusterSums]:
    """(group, unit, criterion, source number) → the respondents' sums of that source
    (``ClusterSums``): one SQL aggregate over ``_per_respondent``."""
    specs, stmt = _per_respondent(campaign, rules)
    if not specs:
        return {}
    per = stmt.subquery()
    outer = [x for i in range(len(specs)) for x in _moments(per, f"m{i}", f"y{i}")]
    totals = select(per.c.grp, Unit.code, *outer).join(Unit, Unit.id == per.c.unit_id).group_by(per.c.grp, Unit.code)
    found = {}
    for row in s.execute(totals):
        for i, (group, code, k) in enumerate(specs):
            sums = _sums(row, 2 + 6 * i)
            if group == row[0] and sums.respondents:
                found[(group, row[1], code, k)] = sums
    return found


#: the seed of the rank ranges' bootstrap, shown on the results page (same answers, same ranges)
RANK_SEED = 20_250_701


def respondent_people(s: Session, campaign: Campaign, rules: Rules) -> tuple[list, dict]:
    """The rows of ``_per_respondent`` as arrays: (specs, (group, unit code) → ``People``)."""
    import numpy as np

    from questionnaires.scoring.ranks import People

    specs, stmt = _per_respondent(campaign, rules)
    if not specs:
        return [], {}
    codes = dict(s.execute(select(Unit.id, Unit.code)).all())
    rows: dict[tuple[str, str], list] = {}
    for row in s.execute(stmt):
        rows.setdefault((row[0], codes[row[1]]), []).append(row[2:])
    people = {}
    for key, values in rows.items():
        data = np.asarray(values, dtype=float)
        people[key] = People(m=data[:, 0::2], y=data[:, 1::2])
    return specs, people


def rank_ranges(s: Session, campaign: Campaign, table: ScoreTable) -> RankRanges:
    """Unit code → the range of ranks it holds in 95 % of bootstrap samples of its respondents
    (``questionnaires.scoring.ranks``), for the units the table ranks."""
    from questionnaires.scoring.ranks import bootstrap_ranks, replicates_for

    specs, people = respondent_people(s, campaign, table.rules)
    if not specs:
        return RankRanges({}, 0)
    ranked = [u.unit for u in table.units if u.rank is not None]
    zeroed = frozenset(u.unit for u in table.units if u.insufficient and table.rules.insufficient_effect == "zero")
    replicates = replicates_for(sum(len(p.m) for p in people.values()))
    found = bootstrap_ranks(table.rules, specs, people, ranked, replicates=replicates, seed=RANK_SEED, zeroed=zeroed)
    return RankRanges(found, replicates)


class RankRanges(dict):
    """Unit code → ``RankRange``, and how many bootstrap replicates made them."""

    def __init__(self, found: dict[str, RankRange], replicates: int):
        super().__init__(found)
        self.replicates = replicates


def channel_sums(s: Session, campaign: Campaign) -> dict[tuple[str, str], ClusterSums]:
    """(unit, "counter" | "later") → the respondents' sums of satisfied answers (SIPAS: the top two
    levels of a scale of four or more, else the top one) in the counter groups: answers given at
    the counter (the poster's QR) against answers given later (a slip taken home). Paper is in
    neither: where it was filled in is not known."""
    qs = questionnaires(campaign)
    satisfied, items = [], set()
    for g in campaign.groups:
        if g.mode != GroupMode.COUNTER:
            continue
        for q in qs[g.code].scale_items():
            hi = len(q.scale.labels)
            wanted = [hi - 1, hi] if hi >= 4 else [hi]
            items.add(q.id)
            satisfied.append((and_(RespondentGroup.code == g.code, Answer.question_id == q.id,
                                   Answer.value_num.in_(wanted)), 1.0))  # fmt: skip
    if not satisfied:
        return {}
    side = case((Response.channel == "counter", "counter"), else_="later")
    per = (
        select(Response.unit_id.label("unit_id"), side.label("side"), func.count().label("m"),
               func.sum(case(*satisfied, else_=0.0)).label("y"))
        .select_from(Answer)
        .join(Response, Answer.response_id == Response.id)
        .join(RespondentGroup, Response.group_id == RespondentGroup.id)
        .where(Response.campaign_id == campaign.id, Response.status == ResponseStatus.VALID,
               Response.channel.in_(("counter", "slip")), RespondentGroup.mode == GroupMode.COUNTER,
               Answer.value_num.is_not(None), Answer.question_id.in_(items))
        .group_by(Response.unit_id, Response.channel, Answer.response_id)
    ).subquery()  # fmt: skip
    stmt = select(Unit.code, per.c.side, *_moments(per, "m", "y")).join(Unit, Unit.id == per.c.unit_id)
    return {(row[0], row[1]): _sums(row, 2) for row in s.execute(stmt.group_by(Unit.code, per.c.side))}


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


def counter_pressure(s: Session, campaign: Campaign) -> list[PressureRow]:
    """Units that collect both at the counter and later: the share satisfied each way and whether
    the counter's is higher beyond chance (issue 20, part 3); flagged units first."""
    found = channel_sums(s, campaign)
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


def compute(s: Session, campaign: Campaign, rules: Rules | None = None) -> tuple[ScoreTable, list[LevelCount]]:
    """The points of every unit under the campaign's rules (or under ``rules``, for a preview)."""
    rules = rules or rules_of(campaign)
    counts = level_counts(s, campaign)
    table = score(rules, counts, scored_units(s, campaign, rules), questionnaires(campaign), quota_status(s, campaign),
                  clusters=cluster_sums(s, campaign, rules))  # fmt: skip
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
        for qid, code, num, text in zip(qids, codes, nums, texts, strict=True):
            value = text if text is not None else code if code is not None else num
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
