"""Anonymity of invited respondents against someone who holds the database and the logs (issue 14,
findings 1 and 2): 20 named delegates of an anonymous campaign save drafts, then submit in an
order of their own; nothing in the database (rows, system columns, dumps taken while drafts
existed and after) nor in the logs joins any invitation to any response better than chance."""

from __future__ import annotations

import logging
import random
import subprocess

import pytest
from sqlalchemy import select, text

from surveyapp.invitations.services import Person, add_invitations
from surveyapp.models import Invitation, InvitationClaim, InvitationDraft, RespondentGroup, Response, Unit

from .conftest import PG_URL, count, hidden_fields
from .test_invitations import leader_answers

N = 20


@pytest.fixture
def delegates(demo, dbs):
    group = dbs.scalars(select(RespondentGroup).where(RespondentGroup.code == "hdnd")).one()
    units = dbs.scalars(select(Unit).where(Unit.code.in_(["HDG-NGG-02", "HDG-NGG-03", "HDG-NGG-04"]))).all()
    group.rated_units = list(units)
    district = dbs.scalars(select(Unit).where(Unit.code == "HDG-NGG")).one()
    people = [Person(f"Đại biểu số {i:02d}", "Đại biểu HĐND huyện", district, f"09{i:08d}") for i in range(N)]
    invitations = add_invitations(dbs, group, people)
    dbs.commit()
    return invitations, sorted(units, key=lambda u: u.code)


def _run(client, invitations, units, between=None):
    """Every delegate opens the form and saves half of it; ``between`` looks at the database then;
    then each submits, in an order unrelated to the invitations'."""
    pages = {}
    for inv in invitations:
        html = client.get(f"/i/{inv.code}").get_data(as_text=True)
        half = {k: v for k, v in leader_answers(units).items() if k.endswith(f"__{units[0].id}")}
        saved = client.post(f"/i/{inv.code}", data={**hidden_fields(html), **half, "intent": "save"})
        assert saved.status_code == 200
        pages[inv.code] = html
    if between:
        between()
    order = list(invitations)
    random.Random(7).shuffle(order)
    for inv in order:
        resumed = client.get(f"/i/{inv.code}").get_data(as_text=True)
        done = client.post(f"/i/{inv.code}", data={**hidden_fields(resumed), **leader_answers(units)})
        assert done.status_code == 200
    return order


def _rows(dbs, model) -> list[dict]:
    dbs.expire_all()
    key = next(iter(model.__table__.primary_key.columns))
    return [
        {c.key: getattr(r, c.key) for c in model.__table__.columns} for r in dbs.scalars(select(model).order_by(key))
    ]


def test_no_row_links_an_invitation_to_its_response(client, delegates, dbs, caplog):
    invitations, units = delegates
    caplog.set_level(logging.DEBUG)
    before = _rows(dbs, Invitation)
    drafts: list[dict] = []
    _run(client, invitations, units, between=lambda: drafts.extend(_rows(dbs, InvitationDraft)))
    responses = _rows(dbs, Response)
    assert len(responses) == N and len(drafts) == N
    # the invitation rows are exactly as they were: nothing about answering is written on them
    assert _rows(dbs, Invitation) == before
    # drafts named no invitation, and no response took the id its draft carried
    ids = {str(i.id) for i in invitations} | {i.code for i in invitations}
    assert not {str(v) for d in drafts for v in d.values()} & ids
    draft_ids = {d["submission_token"].split(".")[0] for d in drafts}
    assert not draft_ids & {r["submission_id"] for r in responses}
    assert all(r["invitation_id"] is None for r in responses)
    # one claim per answer, none of them any plain value of an invitation
    claims = [c["hash"] for c in _rows(dbs, InvitationClaim)]
    assert len(claims) == N and not set(claims) & ids
    assert count(dbs, InvitationDraft) == 0
    # and no log line carries a personal code or an invitation's id next to a response's
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert not any(inv.code in logged for inv in invitations)
    # a second answer on the same link is still refused
    html = client.get(f"/i/{invitations[0].code}")
    assert html.status_code == 410


@pytest.mark.skipif(not PG_URL, reason="system columns and pg_dump are PostgreSQL's: runs in the PostgreSQL pass of .ci/run")  # fmt: skip
def test_no_system_column_or_dump_links_them_on_postgresql(client, delegates, dbs, tmp_path):
    invitations, units = delegates
    system = text("SELECT id, xmin::text AS xmin, ctid::text AS ctid FROM invitation ORDER BY id")
    before = dbs.execute(system).all()
    dumps = []

    def dump(name: str):
        path = tmp_path / f"{name}.sql"
        url = PG_URL.replace("postgresql+psycopg://", "postgresql://")
        subprocess.run(["pg_dump", "--data-only", "--inserts", f"--file={path}", url], check=True)
        dumps.append(path.read_text(encoding="utf-8"))

    _run(client, invitations, units, between=lambda: dump("during-drafts"))
    dump("after")
    dbs.expire_all()
    # the invitation rows were never rewritten: same row versions, same place on disk
    assert dbs.execute(system).all() == before
    # so no response shares a transaction (xmin) with, or was written next to, an invitation
    response_xmins = {x for (x,) in dbs.execute(text("SELECT xmin::text FROM response"))}
    invitation_xmins = {x for _id, x, _ctid in before}
    assert not response_xmins & invitation_xmins
    linked = dbs.execute(text(
        "SELECT count(*) FROM invitation i JOIN response r ON r.xmin = i.xmin"
    )).scalar()  # fmt: skip
    assert linked == 0
    # in either dump, each response's submission id appears once (its own row), and no claim or
    # draft row holds an invitation's id or personal code
    submission_ids = [r.submission_id for r in dbs.scalars(select(Response))]
    for content in dumps[1:]:
        assert all(content.count(sid) == 1 for sid in submission_ids)
    during = dumps[0]
    draft_lines = [line for line in during.splitlines() if line.startswith("INSERT INTO public.invitation_draft")]
    assert len(draft_lines) == N
    for inv in invitations:
        assert not any(inv.code in line or f"({inv.id}," in line for line in draft_lines)
