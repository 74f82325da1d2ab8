"""How sure is a rank (issue 20, part 4): bootstrap over each unit's respondents with a recorded
seed; the range of ranks each unit holds in 95 % of the replicates, on the results page, in the
workbook and in the API."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from questionnaires.scoring.ranks import bootstrap_ranks, point_totals
from surveyapp.api.tokens import new_token
from surveyapp.campaigns.services import campaign_by_key
from surveyapp.demo.fake import fill
from surveyapp.models import Answer, RespondentGroup, Response, Unit
from surveyapp.results.services import RANK_SEED, compute, rank_ranges, respondent_people

from .test_qr_posters import login

KEY = "ninh-giang-2023"


@pytest.fixture
def answered(demo, dbs):
    campaign = campaign_by_key(dbs, KEY)
    fill(dbs, campaign, share=0.6, seed=9)
    dbs.commit()
    return campaign


def test_the_bootstrap_recomputes_the_tables_totals(dbs, answered):
    """Without resampling, the per-respondent sums give the scores table's totals (before each
    criterion's rounding to two decimals): the replicates recompute the same thing."""
    table, _ = compute(dbs, answered)
    specs, people = respondent_people(dbs, answered, table.rules)
    totals = point_totals(table.rules, specs, people, [u.unit for u in table.units])
    for u in table.units:
        if u.total is not None:
            assert totals[u.unit] == pytest.approx(u.total, abs=0.005 * len(table.rules.criteria)), u.unit


def test_ranges_hold_the_rank_and_repeat_with_the_seed(dbs, answered):
    table, _ = compute(dbs, answered)
    first, again = rank_ranges(dbs, answered, table), rank_ranges(dbs, answered, table)
    assert first == again and len(first) == len([u for u in table.units if u.rank is not None]) > 10
    for u in table.units:
        if u.rank is not None:
            r = first[u.unit]
            assert 1 <= r.low <= r.high <= len(first)
    assert any(r.high - r.low >= 3 for r in first.values())  # 30 people a commune: ranks are uncertain
    specs, people = respondent_people(dbs, answered, table.rules)
    ranked = [u.unit for u in table.units if u.rank is not None]
    other = bootstrap_ranks(table.rules, specs, people, ranked, seed=RANK_SEED + 1)
    assert other != first or all(r.certain for r in first.values())  # the seed is what makes it repeat


def test_a_unit_everyone_praises_is_surely_first(dbs, answered):
    citizen = dbs.scalars(select(RespondentGroup.id).where(RespondentGroup.code == "citizen")).one()
    unit = dbs.scalars(select(Unit.id).where(Unit.code == "HDG-NGG-07")).one()
    ids = select(Response.id).where(Response.group_id == citizen, Response.unit_id == unit).scalar_subquery()
    dbs.execute(update(Answer).where(Answer.response_id.in_(ids), Answer.value_num.is_not(None)).values(value_num=5))
    dbs.commit()
    table, _ = compute(dbs, answered)
    ranges = rank_ranges(dbs, answered, table)
    assert table.unit("HDG-NGG-07").rank == 1
    mine = ranges["HDG-NGG-07"]
    assert mine.low == 1  # every citizen pleased: first in most replicates
    widest = max(r.high - r.low for r in ranges.values())
    assert mine.high - mine.low < widest  # and far surer of its place than the most uncertain unit


def test_the_ranges_are_on_the_results_page_in_the_workbook_and_the_api(client, demo, dbs, answered):
    table, _ = compute(dbs, answered)
    ranges = rank_ranges(dbs, answered, table)
    login(client, demo.admin_username, demo.admin_password)
    page = client.get(f"/admin/c/{KEY}/results").get_data(as_text=True)
    assert f"hạt giống {RANK_SEED}" in page and "khoảng 95%" in page
    some = next(u for u in table.units if u.rank is not None and not ranges[u.unit].certain)
    row = re.search(
        rf'<td class="r nowrap">{some.rank}<br><span class="muted"[^>]*>([^<]+)</span></td><td><a href="[^"]*/{some.unit}"',
        page,
    )
    assert row and row.group(1) == f"{ranges[some.unit].low}–{ranges[some.unit].high}"
    book = load_workbook(io.BytesIO(client.get(f"/admin/c/{KEY}/results.xlsx").data), read_only=True)
    rows = list(book["Tổng hợp"].iter_rows(values_only=True))
    heads = rows[2]
    col = heads.index("Khoảng hạng (95%)")
    [line] = [r for r in rows[3:] if r[1] == some.unit]
    assert line[col] == f"{ranges[some.unit].low}–{ranges[some.unit].high}"
    token = new_token(dbs, "kiểm tra")
    dbs.commit()
    api = client.get(f"/api/campaigns/{KEY}/scores", headers={"Authorization": f"Bearer {token}"}).get_json()
    [unit] = [u for u in api["units"] if u["unit_code"] == some.unit]
    assert unit["rank_range"] == [ranges[some.unit].low, ranges[some.unit].high]
