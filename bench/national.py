"""A national-size campaign in a throwaway PostgreSQL database, for the benchmarks.

3,321 communes under 34 provinces, a citizen group (60 per commune) and optionally more groups,
and N responses with about 15 answers each, all made in SQL.
"""

from __future__ import annotations

import os

from sqlalchemy import create_engine, text

from questionnaires import BUILTIN_DIR
from surveyapp.campaigns.services import store_questionnaire_file
from surveyapp.db import db, session
from surveyapp.models import Campaign, CampaignStatus, GroupMode, RespondentGroup, Unit
from surveyapp.results.services import questionnaires

ADMIN_URL = os.environ.get("BENCH_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1/postgres")
DB_NAME = "surveyapp_bench_national"
UNITS = 3321
PROVINCES = 34
RULES = (BUILTIN_DIR.parent / "rules" / "ninh_giang_2023.yaml").read_text(encoding="utf-8")


def create_database(name: str = DB_NAME) -> str:
    """A new empty PostgreSQL database ``name`` (dropped first if left over); returns its URL."""
    drop_database(name)
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_database(name: str = DB_NAME) -> None:
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def build(responses: int, extra_groups: int = 0) -> None:
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
    leader = store_questionnaire_file(s, BUILTIN_DIR / "leader.yaml")
    for n in range(extra_groups):
        s.add(RespondentGroup(campaign_id=campaign.id, code=f"g{n}", name=f"Nhóm lãnh đạo {n}", position=n + 1,
                              questionnaire_version_id=leader.id, mode=GroupMode.INVITATION))  # fmt: skip
    s.commit()
    scale = [q.id for q in questionnaires(campaign)["citizen"].scale_items() if q.id != "feedback_handling"]
    ids = dict(campaign=campaign.id, group=group.id, version=version.id)
    statements = [
        "SELECT setseed(0.2026)",
        "INSERT INTO quota (group_id, unit_id, target, received) SELECT g.id, u.id, CASE WHEN g.code = 'citizen' THEN 60"
        " ELSE 3 END, 0 FROM unit u CROSS JOIN respondent_group g WHERE u.kind = 'xã'",
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
