"""Intervals that count respondents (issue 20, part 1): a criterion pools several items of the
same person, so its variance is the ratio estimator's with the respondent as the cluster, checked
against statsmodels' cluster-robust variance; the design effect is shown beside the interval."""

from __future__ import annotations

import io
import math
import random

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import func, select

from questionnaires.scoring import LevelCount, load_rules_text, respondents, score
from questionnaires.scoring.compute import fold
from questionnaires.scoring.stats import ClusterSums, ratio_variance, wilson_interval
from surveyapp.api.tokens import new_token
from surveyapp.campaigns.services import campaign_by_key
from surveyapp.demo.fake import fill
from surveyapp.models import Answer, RespondentGroup, Response, ResponseStatus, Unit
from surveyapp.results.services import (
    cluster_sums,
    compute,
    criterion_values,
    level_counts,
    questionnaires,
    quota_status,
    respondent_levels,
    rules_of,
    scored_units,
)

from .test_qr_posters import login

KEY = "ninh-giang-2023"


def sums_of(people: list[list[float]]) -> ClusterSums:
    """Respondent by respondent, each a list of their values on the criterion's items."""
    m = [len(p) for p in people]
    y = [sum(p) for p in people]
    return ClusterSums(len(people), sum(m), sum(y), sum(a * a for a in m), sum(b * b for b in y),
                       sum(a * b for a, b in zip(m, y, strict=True)))  # fmt: skip


def statsmodels_variance(people: list[list[float]]) -> float:
    """The mean of every answer with the respondent as the cluster: OLS on a constant."""
    values = np.array([v for p in people for v in p], dtype=float)
    groups = np.array([i for i, p in enumerate(people) for _ in p])
    fit = sm.OLS(values, np.ones_like(values)).fit(cov_type="cluster", cov_kwds={"groups": groups})
    return float(fit.cov_params()[0, 0])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]), min_size=1, max_size=15),
                min_size=2, max_size=40))  # fmt: skip
def test_the_ratio_variance_is_statsmodels_cluster_robust_variance(people):
    ours = ratio_variance(sums_of(people))
    theirs = statsmodels_variance(people)
    assert ours == pytest.approx(theirs, rel=1e-7, abs=1e-12)


def test_one_respondent_has_no_variance():
    assert ratio_variance(sums_of([[1.0, 0.0, 1.0]])) is None


RULES = """id: t
title: Thử
component_total: 2
criteria:
  - {{code: "1", name: Hài lòng, max: 2, method: share, positive: [4, 5], sources: [{{group: citizen, questions: [{items}]}}]}}
"""


def _scores(people: list[list[int]], items: list[str], questionnaire):
    """Score one unit whose respondents gave these levels (one list per person, one per item)."""
    counts: dict[tuple[str, int], int] = {}
    for person in people:
        for qid, level in zip(items, person, strict=True):
            counts[(qid, level)] = counts.get((qid, level), 0) + 1
    level_counts = [LevelCount("citizen", "X", q, lv, n) for (q, lv), n in counts.items()]
    rules = load_rules_text(RULES.format(items=", ".join(items)), {"citizen": questionnaire})
    positive = [[1.0 if level >= 4 else 0.0 for level in person] for person in people]
    clusters = {("citizen", "X", "1", 0): sums_of(positive)}
    plain = score(rules, level_counts, [("X", "Xã X")], {"citizen": questionnaire}).unit("X").criteria["1"]
    counted = score(rules, level_counts, [("X", "Xã X")], {"citizen": questionnaire},
                    clusters=clusters).unit("X").criteria["1"]  # fmt: skip
    return plain, counted


@pytest.fixture
def citizen_questionnaire():
    from questionnaires import BUILTIN_DIR, load_questionnaire

    return load_questionnaire(BUILTIN_DIR / "citizen_counter.yaml")


def test_a_person_who_answers_every_item_alike_counts_once_not_fifteen_times(citizen_questionnaire):
    """The issue's case: 15 items per citizen. When each person gives the same answer to all of
    them, the 15 answers carry one person's information: the design effect is about 15 and the
    interval is Wilson's on the 40 people, not on 600 answers."""
    items = [q.id for q in citizen_questionnaire.scale_items()][:15]
    assert len(items) == 15
    rng = random.Random(5)
    people = [[5 if rng.random() < 0.7 else 2] * 15 for _ in range(40)]
    plain, counted = _scores(people, items, citizen_questionnaire)
    assert plain.share == counted.share and plain.n == counted.n == 600
    assert plain.deff is None and counted.respondents == 40
    assert counted.deff == pytest.approx(15 * 40 / 39, rel=1e-9)  # 15 items, and n/(n − 1) of 40 people
    assert (counted.low, counted.high) == pytest.approx(wilson_interval(counted.share * 600 / counted.deff,
                                                                        600 / counted.deff), rel=1e-12)  # fmt: skip
    assert (counted.high - counted.low) > 3.5 * (plain.high - plain.low)  # √15 ≈ 3.9 times as wide


def test_independent_answers_keep_their_interval(citizen_questionnaire):
    """Answers that vary within each person as much as between people: deff near 1, and a deff
    below 1 never narrows the printed interval below the independent one."""
    items = [q.id for q in citizen_questionnaire.scale_items()][:10]
    rng = random.Random(11)
    people = [[5 if rng.random() < 0.6 else 1 for _ in items] for _ in range(300)]
    plain, counted = _scores(people, items, citizen_questionnaire)
    assert 0.8 < counted.deff < 1.25, counted.deff
    assert counted.low <= plain.low + 1e-12 and counted.high >= plain.high - 1e-12


@pytest.fixture
def answered(demo, dbs):
    campaign = campaign_by_key(dbs, KEY)
    fill(dbs, campaign, share=0.5, seed=7)
    dbs.commit()
    return campaign


def test_the_sql_sums_equal_sums_made_from_each_response(dbs, answered):
    """cluster_sums against the same sums built in Python from every valid answer."""
    campaign = answered
    rules = rules_of(campaign)
    found = cluster_sums(dbs, campaign, rules)
    values: dict[tuple[str, str, int], list[tuple[str, int, float]]] = {}
    for c, k, g, q, lv, y in criterion_values(rules, questionnaires(campaign)):
        values.setdefault((g, q, lv), []).append((c, k, y))
    per: dict[tuple, list[float]] = {}
    rows = dbs.execute(
        select(RespondentGroup.code, Unit.code, Response.id, Answer.question_id, Answer.value_num)
        .join(Response, Answer.response_id == Response.id).join(RespondentGroup, Response.group_id == RespondentGroup.id)
        .join(Unit, Answer.subject_unit_id == Unit.id)
        .where(Response.campaign_id == campaign.id, Response.status == ResponseStatus.VALID,
               Answer.value_num.is_not(None))
    )  # fmt: skip
    for group, unit, rid, qid, level in rows:
        for criterion, k, y in values.get((group, qid, int(level)), []):
            per.setdefault((group, unit, criterion, k, rid), []).append(y)
    expected: dict[tuple, list[list[float]]] = {}
    for (group, unit, criterion, k, _rid), ys in per.items():
        expected.setdefault((group, unit, criterion, k), []).append(ys)
    assert set(found) == set(expected) and len(found) > 20
    for key, people in expected.items():
        want = sums_of(people)
        got = found[key]
        assert got.respondents == want.respondents and got.m == want.m, key
        for field in ("y", "mm", "yy", "my"):
            assert getattr(got, field) == pytest.approx(getattr(want, field), rel=1e-9), (key, field)


def plain_level_counts(dbs, campaign, later_only: bool = False) -> dict[tuple, int]:
    """The counts as one GROUP BY of the answers, row by row (the oracle of the packed read)."""
    scale = {(g.code, q.id) for g in campaign.groups for q in questionnaires(campaign)[g.code].scale_items()}
    stmt = (
        select(RespondentGroup.code, Unit.code, Answer.question_id, Answer.value_num, func.count())
        .join(Response, Answer.response_id == Response.id).join(RespondentGroup, Response.group_id == RespondentGroup.id)
        .join(Unit, Answer.subject_unit_id == Unit.id)
        .where(Response.campaign_id == campaign.id, Response.status == ResponseStatus.VALID,
               Answer.value_num.is_not(None))
        .group_by(RespondentGroup.code, Unit.code, Answer.question_id, Answer.value_num)
    )  # fmt: skip
    if later_only:
        stmt = stmt.where((Response.channel != "counter") | (RespondentGroup.mode != "counter"))
    return {(g, u, q, int(v)): n for g, u, q, v, n in dbs.execute(stmt) if (g, q) in scale}


@pytest.mark.parametrize("scored", ["all", "later"])
def test_the_answers_read_once_give_the_plain_counts(dbs, answered, scored):
    """compute() reads each respondent's levels packed into integers: unpacked, they count exactly
    what a GROUP BY over every answer counts (every group, item, level; the later-only mode too)."""
    campaign = answered
    campaign.scored_channels = scored
    dbs.flush()
    counts = level_counts(dbs, campaign)
    got = {(c.group, c.unit, c.question, c.level): c.n for c in counts}
    want = plain_level_counts(dbs, campaign, later_only=scored == "later")
    assert len(got) == len(counts) and got == want and sum(want.values()) > 1000
    assert scored == "later" or len({g for g, *_ in want}) == len(
        [g for g in campaign.groups if questionnaires(campaign)[g.code].scale_items()]
    )
    assert compute(dbs, campaign)[1] == counts


def test_a_number_under_another_groups_scale_item_changes_no_count(dbs, answered):
    """The read packs every group's scale items into shared slots: an answer of another group
    under the same question id (a number there, or any stray level) is neither counted nor able
    to carry into the neighbouring items' bits."""
    campaign = answered
    qs = questionnaires(campaign)
    before = level_counts(dbs, campaign)
    citizen_items = {q.id for q in qs["citizen"].scale_items()}
    others = [
        g
        for g in campaign.groups
        if g.code != "citizen" and not citizen_items & {q.id for q in qs[g.code].scale_items()}
    ]
    assert others
    response = dbs.scalars(select(Response).where(Response.group_id == others[0].id,
                                                  Response.status == ResponseStatus.VALID)).first()  # fmt: skip
    first, second = sorted(citizen_items)[:2]
    dbs.add_all([Answer(response_id=response.id, question_id=first, subject_unit_id=response.unit_id, value_num=1000),
                 Answer(response_id=response.id, question_id=second, subject_unit_id=response.unit_id, value_num=3)])  # fmt: skip
    dbs.commit()
    assert level_counts(dbs, campaign) == before and len(before) > 100


def test_the_cells_folded_from_the_read_are_those_of_the_level_counts_to_the_bit(dbs, answered):
    """compute() and the weighting hand score() the answers folded straight from the respondents'
    rows (``respondents.cells``): the same Cell per group × unit × question, float for float, as
    folding the level counts one by one, unweighted and with uneven weights; the table the same."""
    campaign = answered
    qs = questionnaires(campaign)
    blocks = respondent_levels(dbs, campaign)
    rng = np.random.default_rng(3)
    uneven = {b.group: rng.uniform(0.2, 5.0, len(b.levels)) for b in blocks}
    for weights in (None, uneven):
        folded = fold(respondents.level_counts(blocks, qs, weights))
        direct = respondents.cells(blocks, qs, weights)
        assert direct.keys() == folded.keys() and len(direct) > 50
        for key, cell in folded.items():
            got = direct[key]
            assert (got.n, got.total, got.squares, got.levels) == (cell.n, cell.total, cell.squares, cell.levels), key
            assert type(got.n) is type(cell.n), key  # whole answers stay whole numbers
    rules = rules_of(campaign)
    table, counts = compute(dbs, campaign)
    units = scored_units(dbs, campaign, rules)
    again = score(rules, counts, units, qs, quota_status(dbs, campaign), clusters=cluster_sums(dbs, campaign, rules))
    assert again.units == table.units and any(u.total for u in table.units)


def test_the_design_effect_is_on_the_results_page_and_in_the_workbook(client, demo, dbs, answered):
    table, _counts = compute(dbs, answered)
    unit = next(u for u in table.units if any(s.deff for s in u.criteria.values()))
    shown = next(s for s in unit.criteria.values() if s.deff)
    assert shown.deff > 1 and shown.respondents > 0 and not math.isnan(shown.low)
    login(client, demo.admin_username, demo.admin_password)
    page = client.get(f"/admin/c/{KEY}/results/u/{unit.unit}").get_data(as_text=True)
    assert "Hệ số thiết kế" in page and f"{shown.deff:.2f}".replace(".", ",") in page
    book = load_workbook(io.BytesIO(client.get(f"/admin/c/{KEY}/results.xlsx").data), read_only=True)
    sheet = list(book[f"TC {shown.code}"].iter_rows(values_only=True))
    heads = sheet[3]
    assert "Hệ số thiết kế (deff)" in heads and "Số người trả lời" in heads
    [line] = [r for r in sheet[4:] if r[0] == unit.unit]
    assert line[heads.index("Hệ số thiết kế (deff)")] == pytest.approx(shown.deff)
    assert line[heads.index("Số người trả lời")] == shown.respondents
    token = new_token(dbs, "kiểm tra")
    dbs.commit()
    api = client.get(f"/api/campaigns/{KEY}/scores", headers={"Authorization": f"Bearer {token}"}).get_json()
    [row] = [u for u in api["units"] if u["unit_code"] == unit.unit]
    [criterion] = [c for c in row["criteria"] if c["code"] == shown.code]
    assert criterion["design_effect"] == pytest.approx(shown.deff, rel=1e-5)
    assert criterion["respondents"] == shown.respondents
