"""Benchmark: score a national-size campaign and export the scorers' workbook (issue 6: < 10 s).

Builds, in a throwaway PostgreSQL database, 3,321 communes under 34 provinces, a citizen group
with 60 per commune and 200,000 responses (about 3.8 million answers, made in SQL), then times:
  score     the SQL aggregate of answer counts and the pure scoring of every unit and criterion
  workbook  the workbook: summary, chart, one sheet per criterion, method, and the raw-data sheet
            (streamed; capped at 20,000 rows, the rest in the CSV export)
  csv       the full raw-data CSV of the 200,000 responses
Memory: peak resident size of this process (ru_maxrss), printed next to the sizes.

    .venv/bin/python bench/score_national.py [--responses 200000] [--runs 3] [--keep]
"""

from __future__ import annotations

import argparse
import gc
import io
import resource
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).parent))

from national import RULES, UNITS, build, create_database, drop_database  # noqa: E402

from questionnaires.scoring import LevelCount, score
from surveyapp import create_app
from surveyapp import migrate as migrations
from surveyapp.campaigns.services import campaign_by_key
from surveyapp.db import db, session
from surveyapp.models import Answer, RespondentGroup, Response, ResponseStatus, Unit
from surveyapp.results.exports import write_campaign_workbook
from surveyapp.results.services import (
    _READ,  # the answers compute() read, kept with its table
    alphas,
    cluster_sums,
    compute,
    counter_pressure,
    question_columns,
    questionnaires,
    quota_status,
    rank_ranges,
    raw_rows,
    respondent_levels,
    rules_of,
    scored_units,
    weighted,
)
from surveyapp.results.workbook import raw_csv

TARGET_SECONDS = 10.0


def national_rules() -> str:
    """The demo's citizen criteria only (the national campaign has no leader groups)."""
    keep, out = True, []
    for line in RULES.splitlines():
        if line.startswith("  - code:"):
            keep = any(code in line for code in ('"8.1.3"', '"9.1"', '"9.2"'))
        if line.startswith("component_total"):
            line = "component_total: 6"
        if keep:
            out.append(line)
    return "\n".join(out) + "\n"


#: the weighting the bench's rules add: the unit's citizens known to come half at the counter, half later
WEIGHTING = """
weighting:
  cap: 5
  margins:
    - group: citizen
      by: channel
      shares: {counter: 0.5, slip: 0.5}
"""


def plain_score(s, campaign):
    """The scoring of before issue 20, for the ratio it asks: one GROUP BY of valid scale answers
    per group × unit × item × level, then the pure scoring without the respondents' sums."""
    qs = questionnaires(campaign)
    rules = rules_of(campaign)
    scale = sorted({q.id for g in campaign.groups for q in qs[g.code].scale_items()})
    stmt = (
        select(RespondentGroup.code, Unit.code, Answer.question_id, Answer.value_num, func.count())
        .join(Response, Answer.response_id == Response.id).join(RespondentGroup, Response.group_id == RespondentGroup.id)
        .join(Unit, Answer.subject_unit_id == Unit.id)
        .where(Response.campaign_id == campaign.id, Response.status == ResponseStatus.VALID,
               Answer.value_num.is_not(None), Answer.question_id.in_(scale))
        .group_by(RespondentGroup.code, Unit.code, Answer.question_id, Answer.value_num)
    )  # fmt: skip
    counts = [LevelCount(g, u, q, int(v), n) for g, u, q, v, n in s.execute(stmt)]
    return score(rules, counts, scored_units(s, campaign, rules), qs, quota_status(s, campaign))


class GcClock:
    """Seconds Python's cyclic garbage collector paused this process (``gc.callbacks``)."""

    def __init__(self):
        self.seconds, self._started = 0.0, 0.0
        gc.callbacks.append(self._tick)

    def _tick(self, phase: str, _info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--responses", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    url = create_database()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    try:
        with app.app_context():
            migrations.upgrade(db.engine)
            started = time.perf_counter()
            build(args.responses)
            s = session()
            campaign = campaign_by_key(s, "quoc-gia")
            campaign.scoring_rules = national_rules() + WEIGHTING
            # a third of the citizens answered later, on a slip: the counter-vs-later check and the
            # weighting to the known half-and-half have something to do
            s.execute(text("UPDATE response SET channel = 'slip' WHERE id % 3 = 0"))
            s.commit()
            # the steady state of a campaign in the field (autovacuum has run), not the minute after
            # a bulk load: the first reads would set the hint bits of 3 million new rows
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE response, answer"))
            answers = s.execute(text("SELECT count(*) FROM answer")).scalar()
            print(f"built {UNITS} communes, {args.responses} responses, {answers} answers in "
                  f"{time.perf_counter() - started:.1f} s; peak RSS so far {rss_mb():.0f} MB")  # fmt: skip
            score_t, book_t, csv_t, alpha_t, plain_t, weighted_t, gc_t = [], [], [], [], [], [], []
            clock = GcClock()
            parts: dict[str, list[float]] = {}
            for _ in range(args.runs):
                s.expire_all()
                paused = clock.seconds
                t0 = time.perf_counter()
                table, _counts = compute(s, campaign)
                t1 = time.perf_counter()
                score_t.append(t1 - t0)
                weighted(s, campaign, table)
                weighted_t.append(time.perf_counter() - t1)
                gc_t.append(clock.seconds - paused)
                t1 = time.perf_counter()
                plain_score(s, campaign)
                plain_t.append(time.perf_counter() - t1)
                t1 = time.perf_counter()
                buffer = io.BytesIO()
                write_campaign_workbook(s, campaign, buffer, table=table)
                t2 = time.perf_counter()
                group = campaign.groups[0]
                size = sum(len(chunk) for chunk in raw_csv(question_columns(questionnaires(campaign)["citizen"]),
                                                            raw_rows(s, campaign, group)))  # fmt: skip
                t3 = time.perf_counter()
                alphas(s, campaign)  # the results page's reliability table
                t4 = time.perf_counter()
                for name, part, extra in (("the answers read once (respondent_levels)", respondent_levels, ()),
                                          ("respondent sums of that read (clustered intervals)", cluster_sums,
                                           (table.rules, _READ[id(table)][2])),
                                          ("counter vs later, from compute's read", counter_pressure, (table,)),
                                          ("counter vs later, read alone", counter_pressure, ()),
                                          ("rank ranges, from compute's read (bootstrap)", rank_ranges, (table,))):  # fmt: skip
                    started_part = time.perf_counter()
                    part(s, campaign, *extra)
                    parts.setdefault(name, []).append(time.perf_counter() - started_part)
                alpha_t.append(t4 - t3)
                book_t.append(t2 - t1)
                csv_t.append(t3 - t2)
            ranked = sum(1 for u in table.units if u.rank)
            print(f"scored units: {len(table.units)} (ranked {ranked}); workbook {len(buffer.getvalue()) / 1e6:.1f} MB; "
                  f"CSV {size / 1e6:.1f} MB")  # fmt: skip
            score_m, book_m, csv_m = (statistics.median(x) for x in (score_t, book_t, csv_t))
            print(f"score (SQL aggregate + scoring): median {score_m:.2f} s")
            print(f"workbook (incl. 20,000-row raw sheet): median {book_m:.2f} s")
            print(f"score + workbook: median {score_m + book_m:.2f} s (target < {TARGET_SECONDS:.0f} s); "
                  f"ratio to target {(score_m + book_m) / TARGET_SECONDS:.2f}")  # fmt: skip
            plain_m = statistics.median(plain_t)
            weighted_m = statistics.median(weighted_t)
            print(f"weighting (each unit raked to the channel margin, scored again): median {weighted_m:.2f} s")
            print(f"scoring as before issue 20 (a GROUP BY of answer counts, no respondent sums): median {plain_m:.2f} s; "
                  f"the score with clustered intervals and weighting is {(score_m + weighted_m) / plain_m:.2f}× that "
                  "(issue 20: at most 2×)")  # fmt: skip
            print(
                "  each run: score "
                + ", ".join(f"{x:.2f}" for x in score_t)
                + "; weighting "
                + ", ".join(f"{x:.2f}" for x in weighted_t)
                + "; as before "
                + ", ".join(f"{x:.2f}" for x in plain_t)
            )
            print(
                f"  of which Python's garbage collector (score and weighting): median {statistics.median(gc_t):.2f} s"
            )
            print(f"full raw CSV: median {csv_m:.2f} s")
            print(
                f"Cronbach's alpha of every group and aspect (results page): median {statistics.median(alpha_t):.2f} s"
            )
            for name, times in parts.items():
                print(f"  of which {name}: median {statistics.median(times):.2f} s")
            print(f"peak RSS: {rss_mb():.0f} MB")
            print("RESULT:", "PASS" if score_m + book_m < TARGET_SECONDS else "FAIL")
        db.dispose(app)
    finally:
        if not args.keep:
            drop_database()


if __name__ == "__main__":
    main()
