"""A whole campaign exported to one file imports into an empty database and scores the same."""

from __future__ import annotations

from sqlalchemy import func, select

from surveyapp import create_app
from surveyapp.campaigns.services import campaign_by_key, progress
from surveyapp.db import db, session
from surveyapp.demo.fake import fill
from surveyapp.invitations.services import Person, add_invitations, make_slips
from surveyapp.models import Answer, RespondentGroup, Response, Slip, Unit
from surveyapp.results.services import compute


def test_export_then_import_into_an_empty_database_scores_the_same(app, demo, dbs, runner, tmp_path):
    campaign = campaign_by_key(dbs, demo.campaign_key)
    fill(dbs, campaign, share=0.4, seed=11)
    hdnd = dbs.scalars(select(RespondentGroup).where(RespondentGroup.code == "hdnd")).one()
    district = dbs.scalars(select(Unit).where(Unit.code == "HDG-NGG")).one()
    [invitation] = add_invitations(dbs, hdnd, [Person("Nguyễn Văn Mời", "Đại biểu", district, "0912")])
    invitation.used = True
    citizen = dbs.scalars(select(RespondentGroup).where(RespondentGroup.code == "citizen")).one()
    make_slips(dbs, citizen, dbs.scalars(select(Unit).where(Unit.code == "HDG-NGG-03")).one(), 3)
    dbs.commit()
    before, _ = compute(dbs, campaign_by_key(dbs, demo.campaign_key))

    out = tmp_path / "dot.jsonl.gz"
    assert runner.invoke(args=["export-campaign", demo.campaign_key, str(out)]).exit_code == 0

    empty = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite'}", "SECRET_KEY": "other"})
    result = empty.test_cli_runner().invoke(args=["import-campaign", str(out)])
    assert result.exit_code == 0, result.output
    with empty.app_context():
        s = session()
        copy = campaign_by_key(s, demo.campaign_key)
        after, _ = compute(s, copy)
        assert [(u.unit, u.total, u.rank) for u in after.units] == [(u.unit, u.total, u.rank) for u in before.units]
        for a, b in zip(after.units, before.units, strict=True):
            assert {k: v.points for k, v in a.criteria.items()} == {k: v.points for k, v in b.criteria.items()}
        assert [(r.unit_code, r.group_code, r.target, r.received) for r in progress(s, copy)] == [
            (r.unit_code, r.group_code, r.target, r.received) for r in progress(dbs, campaign)
        ]
        assert s.scalar(select(func.count()).select_from(Response)) == dbs.scalar(
            select(func.count()).select_from(Response)
        )
        assert s.scalar(select(func.count()).select_from(Answer)) == dbs.scalar(
            select(func.count()).select_from(Answer)
        )
        # answered, recorded as a claim under the new database's ids and key (the campaign is anonymous)
        from surveyapp.invitations.services import group_invitations

        hdnd_copy = next(g for g in copy.groups if g.code == "hdnd")
        assert [(i.full_name, i.answered, i.used) for i in group_invitations(s, hdnd_copy)] == [
            ("Nguyễn Văn Mời", True, False)
        ]
        assert s.scalar(select(func.count()).select_from(Slip)) == 3
        again = empty.test_cli_runner().invoke(args=["import-campaign", str(out)])
        assert again.exit_code == 1 and "đã có trong cơ sở dữ liệu này" in again.output
        s.close()
    db.dispose(empty)


def test_import_refuses_other_files(app, runner, tmp_path):
    import gzip

    bad = tmp_path / "x.jsonl.gz"
    with gzip.open(bad, "wt", encoding="utf-8") as handle:
        handle.write('{"type": "something"}\n')
    result = runner.invoke(args=["import-campaign", str(bad)])
    assert result.exit_code == 1 and "không phải tệp xuất đợt khảo sát" in result.output
