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
import io
import os
import resource
import statistics
import time

from sqlalchemy import create_engine, text

from questionnaires import BUILTIN_DIR
from surveyapp import create_app
from surveyapp import migrate as migrations
from surveyapp.campaigns.services import campaign_by_key, store_questionnaire_file
from surveyapp.db import db, session
from surveyapp.models import Campaign, CampaignStatus, GroupMode, RespondentGroup, Unit
from surveyapp.results.routes import raw_sheet_specs
from surveyapp.results.services import compute, question_columns, questionnaires, raw_rows
from surveyapp.results.workbook import raw_csv, write_workbook

ADMIN_URL = os.environ.get("BENCH_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1/postgres")
DB_NAME = "surveyapp_bench_national"
UNITS = 3321
PROVINCES = 34
TARGET_SECONDS = 10.0
RULES = (BUILTIN_DIR.parent / "rules" / "ninh_giang_2023.yaml").read_text(encoding="utf-8")


def create_database() -> str:
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {DB_NAME}"))
    admin.dispose()
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{DB_NAME}"


def drop_database() -> None:
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)"))
    admin.dispose()


def build(responses: int) -> None:
    s = session()
    country = Unit(code="VN", name="Việt Nam", kind="quốc gia")
    s.add(country)
    s.flush()
    provinces = [Unit(code=f"T{p:02d}", name=f"Tỉnh {p}", kind="tỉnh", parent_id=country.id) for p in range(PROVINCES)]
    s.add_all(provinces)
    s.flush()
    s.add_all(
        Unit(code=f"X{i:04d}", name=f"Xã {i}", kind="xã", parent_id=provinces[i % PROVINCES].id, frame_size=2000)
        for i in range(UNITS)
    )
    version = store_questionnaire_file(s, BUILTIN_DIR / "citizen_counter.yaml")
    campaign = Campaign(key="quoc-gia", year=2026, name="Khảo sát quốc gia (thử tải)", scope_unit=country,
                        status=CampaignStatus.OPEN, scoring_rules=None)  # fmt: skip
    s.add(campaign)
    s.flush()
    group = RespondentGroup(campaign_id=campaign.id, code="citizen", name="Người dân", position=0,
                            questionnaire_version_id=version.id, mode=GroupMode.COUNTER)  # fmt: skip
    s.add(group)
    s.commit()
    scale = [q.id for q in questionnaires(campaign)["citizen"].scale_items() if q.id != "feedback_handling"]
    ids = dict(campaign=campaign.id, group=group.id, version=version.id)
    statements = [
        "SELECT setseed(0.2026)",
        "INSERT INTO quota (group_id, unit_id, target, received) SELECT :group, id, 60, 60 FROM unit WHERE kind = 'xã'",
        "CREATE TEMP TABLE communes AS SELECT row_number() OVER (ORDER BY id) - 1 AS i, id FROM unit WHERE kind = 'xã'",
        # 200,000 responses spread over the communes
        f"""INSERT INTO response (submission_id, campaign_id, group_id, unit_id, questionnaire_version_id, channel,
                answers_hash, submitted_at, status, over_quota)
            SELECT md5(g::text)::uuid::text, :campaign, :group, c.id, :version, 'counter', 'bench',
                   timestamptz '2026-11-01' + (g % 43200) * interval '1 minute', 'valid', false
            FROM generate_series(1, {responses}) g JOIN communes c ON c.i = g % {UNITS}""",
        # each commune has its own leaning; each respondent a mood around it; each item noise around that
        """CREATE TEMP TABLE moods AS
            SELECT r.id, r.unit_id, least(5, greatest(1, 3.6 + (r.unit_id % 7) * 0.15 - 0.4 + (random() - 0.5) * 1.6)) AS m
            FROM response r""",
        f"""INSERT INTO answer (response_id, question_id, subject_unit_id, value_num)
            SELECT m.id, q, m.unit_id, least(5, greatest(1, round(m.m + (random() - 0.5) * 1.5)))
            FROM moods m CROSS JOIN unnest(ARRAY{scale!r}) AS q""",
        """INSERT INTO answer (response_id, question_id, subject_unit_id, value_code)
            SELECT m.id, 'procedure_field', m.unit_id, (ARRAY['land', 'civil_status', 'certification'])[1 + (m.id % 3)]
            FROM moods m""",
        """INSERT INTO answer (response_id, question_id, subject_unit_id, value_text)
            SELECT m.id, 'suggestion', m.unit_id, '=1+1 góp ý số ' || m.id FROM moods m WHERE m.id % 10 = 0""",
        "ANALYZE",
    ]
    with db.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement), {k: v for k, v in ids.items() if f":{k}" in statement})


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
            campaign.scoring_rules = national_rules()
            s.commit()
            answers = s.execute(text("SELECT count(*) FROM answer")).scalar()
            print(f"built {UNITS} communes, {args.responses} responses, {answers} answers in "
                  f"{time.perf_counter() - started:.1f} s; peak RSS so far {rss_mb():.0f} MB")  # fmt: skip
            score_t, book_t, csv_t = [], [], []
            for _ in range(args.runs):
                s.expire_all()
                t0 = time.perf_counter()
                table, _counts = compute(s, campaign)
                t1 = time.perf_counter()
                buffer = io.BytesIO()
                write_workbook(buffer, campaign.name, table, raw_sheet_specs(campaign))
                t2 = time.perf_counter()
                group = campaign.groups[0]
                size = sum(len(chunk) for chunk in raw_csv(question_columns(questionnaires(campaign)["citizen"]),
                                                            raw_rows(s, campaign, group)))  # fmt: skip
                t3 = time.perf_counter()
                score_t.append(t1 - t0)
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
            print(f"full raw CSV: median {csv_m:.2f} s")
            print(f"peak RSS: {rss_mb():.0f} MB")
            print("RESULT:", "PASS" if score_m + book_m < TARGET_SECONDS else "FAIL")
        app.extensions["surveyapp.db"].dispose()
    finally:
        if not args.keep:
            drop_database()


if __name__ == "__main__":
    main()
