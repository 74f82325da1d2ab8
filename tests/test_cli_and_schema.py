"""The command line (demo, campaigns, links, progress, check-questionnaires) and the migrations."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from surveyapp import migrate
from surveyapp.db import Base, make_engine
from surveyapp.models import CollectionPoint, Quota, RespondentGroup, Unit

from .conftest import hidden_fields
from .helpers import valid_answers


def test_demo_is_shaped_like_ninh_giang_and_idempotent(runner, dbs):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    lines = [line.split("\t") for line in first.output.strip().splitlines()]
    assert lines[0] == ["campaign", "ninh-giang-2023"]
    assert lines[1][:2] == ["admin", "admin"] and len(lines[1][2]) >= 10

    def shape():
        return (
            dbs.scalar(select(func.count()).select_from(Unit)),
            dbs.scalar(select(func.count()).select_from(RespondentGroup)),
            dbs.scalar(select(func.count()).select_from(CollectionPoint)),
            dbs.scalar(select(func.sum(Quota.target))),
        )

    assert shape() == (22, 5, 20, 1248)
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0 and second.output.splitlines()[0] == "campaign\tninh-giang-2023"
    assert shape() == (22, 5, 20, 1248)


def test_campaigns_command(runner, demo):
    result = runner.invoke(args=["campaigns"])
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "ninh-giang-2023\t2023\tĐiều tra xã hội học xác định Chỉ số CCHC cấp xã năm 2023 (dữ liệu mẫu)\topen"
    ]


def test_links_command(runner, demo):
    lines = runner.invoke(args=["links", "ninh-giang-2023"]).output.splitlines()
    assert len(lines) == 20
    unit_code, unit_name, group, form_url, png_url = lines[1].split("\t")
    assert (unit_code, unit_name, group) == ("HDG-NGG-02", "Xã An Đức", "citizen")
    code = form_url.rsplit("/", 1)[1]
    assert form_url == f"http://testserver/f/{code}" and png_url == f"http://testserver/qr/{code}.png"
    assert len(code) == 16


def test_progress_command_counts_responses(runner, client, demo):
    form_url = runner.invoke(args=["links", "ninh-giang-2023"]).output.splitlines()[1].split("\t")[3]
    path = form_url.removeprefix("http://testserver")
    hidden = hidden_fields(client.get(path).get_data(as_text=True))
    assert client.post(path, data={**hidden, **valid_answers()}).status_code == 200

    lines = [line.split("\t") for line in runner.invoke(args=["progress", "ninh-giang-2023"]).output.splitlines()]
    assert len(lines) == 24  # 20 communes × citizens + 4 groups at the district
    assert ["HDG-NGG-02", "citizen", "60", "1"] in lines
    assert ["HDG-NGG-01", "citizen", "60", "0"] in lines
    assert ["HDG-NGG", "hdnd", "30", "0"] in lines
    assert sum(int(line[2]) for line in lines) == 1248


def test_unknown_campaign_is_a_clear_error(runner, demo):
    result = runner.invoke(args=["progress", "khong-co"])
    assert result.exit_code != 0 and "Không có đợt khảo sát “khong-co”" in result.output


def test_check_questionnaires(runner, tmp_path):
    ok = runner.invoke(args=["check-questionnaires"])
    assert ok.exit_code == 0 and len(ok.output.splitlines()) == 4
    bad = tmp_path / "hong.yaml"
    bad.write_text(
        "id: hong\nversion: 1\ntitle: Hỏng\nsections:\n  - id: s\n    title: S\n    questions:\n"
        "      - {id: a, type: star, label: A}\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["check-questionnaires", str(bad)])
    assert result.exit_code == 1 and "hong.yaml, dòng 8, câu “a”: loại câu hỏi “star” không tồn tại" in result.output


def test_migrations_match_the_models_and_go_down_and_up(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'm.sqlite'}")
    migrate.upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    migrate.downgrade(engine, "base")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE name='response'").scalar() == 0
    migrate.upgrade(engine)
    engine.dispose()


def test_changed_questions_need_a_new_version(app, dbs):
    import pytest

    from questionnaires import BUILTIN_DIR, load_text
    from surveyapp.campaigns.services import VersionConflict, store_questionnaire

    text = (BUILTIN_DIR / "leader.yaml").read_text(encoding="utf-8")
    store_questionnaire(dbs, load_text(text, "leader.yaml"), text)
    dbs.commit()
    changed = text.replace("Quý lãnh đạo công tác tại cơ quan nào?", "Quý lãnh đạo làm việc ở đâu?")
    with pytest.raises(VersionConflict, match="hãy tăng số phiên bản"):
        store_questionnaire(dbs, load_text(changed, "leader.yaml"), changed)
    dbs.rollback()
    bumped = changed.replace("version: 1", "version: 2", 1)
    row = store_questionnaire(dbs, load_text(bumped, "leader.yaml"), bumped)
    assert row.version == 2


def test_upgrading_a_database_with_data_keeps_every_row(tmp_path):
    """Regression: SQLite table rebuilds used to cascade-delete quotas, points and rated units."""
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    migrate.upgrade(engine, "0002")
    now = "'2023-12-01 00:00:00'"
    statements = [
        "INSERT INTO unit (id, code, name, kind) VALUES (1, 'D', 'Huyện', 'huyện'), (2, 'C', 'Xã', 'xã')",
        f"INSERT INTO questionnaire_version (id, code, version, title, content_hash, source, created_at)"
        f" VALUES (1, 'q', 1, 'Phiếu', 'h', 's', {now})",
        f"INSERT INTO campaign (id, key, year, name, scope_unit_id, status, anonymous, quota_full_policy, created_at)"
        f" VALUES (1, 'c', 2023, 'Đợt', 1, 'open', 1, 'stop', {now})",
        "INSERT INTO respondent_group (id, campaign_id, code, name, position, questionnaire_version_id, mode)"
        " VALUES (1, 1, 'citizen', 'Người dân', 0, 1, 'counter')",
        "INSERT INTO group_rated_unit (group_id, unit_id) VALUES (1, 2)",
        "INSERT INTO quota (id, group_id, unit_id, target, received) VALUES (1, 1, 2, 60, 1)",
        f"INSERT INTO collection_point (id, group_id, unit_id, code, active, created_at)"
        f" VALUES (1, 1, 2, 'abc', 1, {now})",
        f"INSERT INTO response (id, submission_id, campaign_id, group_id, unit_id, questionnaire_version_id,"
        f" collection_point_id, channel, answers_hash, submitted_at, status, over_quota)"
        f" VALUES (1, 's1', 1, 1, 2, 1, 1, 'counter', 'h', {now}, 'valid', 0)",
        "INSERT INTO answer (id, response_id, question_id, subject_unit_id, value_num) VALUES (1, 1, 'a', 2, 4)",
    ]
    with engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)  # noqa: S608 - constant test data
    migrate.upgrade(engine)
    with engine.connect() as conn:
        counts = {
            table: conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()  # noqa: S608 - fixed names
            for table in ("group_rated_unit", "quota", "collection_point", "response", "answer")
        }
        access = conn.exec_driver_sql("SELECT counter_access FROM respondent_group").scalar()
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert counts == dict.fromkeys(counts, 1) and access == "poster"
    engine.dispose()
