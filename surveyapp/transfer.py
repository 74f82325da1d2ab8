"""A whole campaign in one file and back: units, questionnaires, groups, quotas, collection points,
invitations' state, slips and responses with their answers.

The file is gzip-compressed JSON lines, one record a line (``{"type": …}``), written and read as
a stream so a national campaign fits in bounded memory. Import goes into a database that does not
have the campaign yet (typically an empty one), in one transaction: all or nothing.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from . import anonymity
from .models import (
    Answer,
    Campaign,
    CollectionPoint,
    Invitation,
    InvitationClaim,
    QuestionnaireVersion,
    Quota,
    RespondentGroup,
    Response,
    Slip,
    Unit,
)

FORMAT = "surveyapp-campaign/1"
BATCH = 5_000


class TransferError(ValueError):
    pass


def _iso(value):
    return value.isoformat() if isinstance(value, date | datetime) else value


def export_campaign(s: Session, campaign: Campaign, path: Path) -> dict[str, int]:
    counts: dict[str, int] = {}

    def emit(handle, record_type: str, /, **fields) -> None:
        counts[record_type] = counts.get(record_type, 0) + 1
        line = json.dumps({"type": record_type, **{k: _iso(v) for k, v in fields.items()}}, ensure_ascii=False)
        handle.write(line + "\n")

    units = {u.id: u for u in s.scalars(select(Unit))}
    groups = {g.id: g for g in campaign.groups}
    with gzip.open(path, "wt", encoding="utf-8") as out:
        emit(out, "header", format=FORMAT, campaign=campaign.key)
        chain, unit = [], campaign.scope_unit
        while unit is not None:  # the scope's ancestors first, so parents always come before children
            chain.append(unit)
            unit = unit.parent
        for u in [*reversed(chain), *descendants_all(s, campaign.scope_unit_id)]:
            emit(
                out,
                "unit",
                code=u.code,
                name=u.name,
                kind=u.kind,
                parent=u.parent.code if u.parent else None,
                frame_size=u.frame_size,
                opening_hours=u.opening_hours,
                retired_at=u.retired_at,
            )
        # every version the groups use now and every version a response answered (a group may have
        # switched versions during the campaign: each response keeps its own)
        answered = select(Response.questionnaire_version_id).where(Response.campaign_id == campaign.id).distinct()
        used_versions = {g.questionnaire_version for g in groups.values()} | set(
            s.scalars(select(QuestionnaireVersion).where(QuestionnaireVersion.id.in_(answered)))
        )
        version_refs = {v.id: [v.code, v.version] for v in used_versions}
        for v in sorted(used_versions, key=lambda v: (v.code, v.version)):
            emit(
                out,
                "questionnaire",
                code=v.code,
                version=v.version,
                title=v.title,
                content_hash=v.content_hash,
                source=v.source,
            )
        emit(
            out,
            "campaign",
            key=campaign.key,
            year=campaign.year,
            name=campaign.name,
            scope=campaign.scope_unit.code,
            status=campaign.status,
            anonymous=campaign.anonymous,
            quota_full_policy=campaign.quota_full_policy,
            starts_on=campaign.starts_on,
            ends_on=campaign.ends_on,
            scoring_rules=campaign.scoring_rules,
            min_seconds_per_question=campaign.min_seconds_per_question,
            burst_limit=campaign.burst_limit,
            check_opening_hours=campaign.check_opening_hours,
            scored_channels=campaign.scored_channels,
        )
        for g in groups.values():
            emit(
                out,
                "group",
                code=g.code,
                name=g.name,
                position=g.position,
                questionnaire=g.questionnaire_version.code,
                version=g.questionnaire_version.version,
                mode=g.mode,
                counter_access=g.counter_access,
                rated=[u.code for u in g.rated_units],
            )
        ids = list(groups)
        for q in s.scalars(select(Quota).where(Quota.group_id.in_(ids))):
            emit(
                out,
                "quota",
                group=groups[q.group_id].code,
                unit=units[q.unit_id].code,
                target=q.target,
                received=q.received,
            )
        for p in s.scalars(select(CollectionPoint).where(CollectionPoint.group_id.in_(ids))):
            emit(out, "point", group=groups[p.group_id].code, unit=units[p.unit_id].code, code=p.code, active=p.active)
        invitations = {}
        from .invitations.services import group_invitations

        answered: set[int] = set()
        for g in groups.values():  # an anonymous campaign keeps this in claims, not on the invitation
            answered |= {i.id for i in group_invitations(s, g) if i.answered}
        for i in s.scalars(select(Invitation).where(Invitation.group_id.in_(ids))):
            invitations[i.id] = i.code
            emit(
                out,
                "invitation",
                group=groups[i.group_id].code,
                unit=units[i.unit_id].code,
                full_name=i.full_name,
                position=i.position,
                phone=i.phone,
                email=i.email,
                code=i.code,
                used=i.id in answered,
                revoked=i.revoked,
            )
        for sl in s.scalars(select(Slip).where(Slip.group_id.in_(ids))):
            emit(
                out,
                "slip",
                group=groups[sl.group_id].code,
                unit=units[sl.unit_id].code,
                code=sl.code,
                batch=sl.batch,
                used=sl.used,
            )
        points = {p.id: p.code for p in s.scalars(select(CollectionPoint).where(CollectionPoint.group_id.in_(ids)))}
        for r, answers in _responses(s, campaign):
            emit(
                out,
                "response",
                submission_id=r.submission_id,
                group=groups[r.group_id].code,
                unit=units[r.unit_id].code,
                point=points.get(r.collection_point_id),
                questionnaire=version_refs[r.questionnaire_version_id],
                language=r.language,
                channel=r.channel,
                answers_hash=r.answers_hash,
                started_at=r.started_at,
                submitted_at=r.submitted_at,
                status=r.status,
                over_quota=r.over_quota,
                invitation=invitations.get(r.invitation_id),
                paper_number=r.paper_number,
                flags=r.flags,
                review_note=r.review_note,
                reviewed_at=r.reviewed_at,
                answers=[
                    [a.question_id, units[a.subject_unit_id].code, a.value_code, a.value_num, a.value_text]
                    for a in answers
                ],
            )
    return counts


def descendants_all(s: Session, unit_id: int) -> list[Unit]:
    """Every unit below, retired ones included, parents before children."""
    out, frontier = [], [unit_id]
    while frontier:
        level = list(s.scalars(select(Unit).where(Unit.parent_id.in_(frontier)).order_by(Unit.code)))
        out.extend(level)
        frontier = [u.id for u in level]
    return out


def _responses(s: Session, campaign: Campaign) -> Iterator[tuple[Response, list[Answer]]]:
    last = 0
    while True:
        batch = list(
            s.scalars(
                select(Response)
                .where(Response.campaign_id == campaign.id, Response.id > last)
                .order_by(Response.id)
                .limit(BATCH)
            )
        )
        if not batch:
            return
        answers: dict[int, list[Answer]] = {r.id: [] for r in batch}
        for a in s.scalars(select(Answer).where(Answer.response_id.in_(answers)).order_by(Answer.id)):
            answers[a.response_id].append(a)
        for r in batch:
            yield r, answers[r.id]
        last = batch[-1].id
        s.expunge_all()


def _date(value, kind=date):
    if value is None:
        return None
    return date.fromisoformat(value) if kind is date else datetime.fromisoformat(value)


def import_campaign(s: Session, path: Path) -> dict[str, int]:
    """Load an exported campaign; flushes, the caller commits (or rolls back on error)."""
    counts: dict[str, int] = {}
    units = {u.code: u for u in s.scalars(select(Unit))}
    versions: dict[tuple[str, int], QuestionnaireVersion] = {}
    groups: dict[str, RespondentGroup] = {}
    points: dict[str, int] = {}
    invitations: dict[str, int] = {}
    campaign = None
    pending: list[tuple[dict, list]] = []

    def flush_responses() -> None:
        if not pending:
            return
        ids = s.scalars(
            insert(Response).returning(Response.id, sort_by_parameter_order=True), [row for row, _ in pending]
        ).all()
        rows = [
            {
                "response_id": rid,
                "question_id": q,
                "subject_unit_id": units[u].id,
                "value_code": c,
                "value_num": n,
                "value_text": t,
            }
            for rid, (_, answers) in zip(ids, pending, strict=True)
            for q, u, c, n, t in answers
        ]
        if rows:
            s.execute(insert(Answer), rows)
        pending.clear()

    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            record = json.loads(line)
            kind = record.pop("type")
            counts[kind] = counts.get(kind, 0) + 1
            if number == 1:
                if kind != "header" or record.get("format") != FORMAT:
                    raise TransferError(f"{path.name}: không phải tệp xuất đợt khảo sát của phần mềm này.")
                if s.scalar(select(Campaign.id).where(Campaign.key == record["campaign"])):
                    raise TransferError(f"Đợt khảo sát “{record['campaign']}” đã có trong cơ sở dữ liệu này.")
            elif kind == "unit":
                unit = units.get(record["code"])
                if unit is None:
                    unit = units[record["code"]] = Unit(code=record["code"])
                    s.add(unit)
                unit.name, unit.kind, unit.frame_size = record["name"], record["kind"], record["frame_size"]
                unit.opening_hours = record["opening_hours"]
                unit.retired_at = _date(record["retired_at"], datetime)
                unit.parent = units[record["parent"]] if record["parent"] else None
            elif kind == "questionnaire":
                s.flush()
                found = s.scalar(
                    select(QuestionnaireVersion).where(
                        QuestionnaireVersion.code == record["code"], QuestionnaireVersion.version == record["version"]
                    )
                )
                if found is not None and found.content_hash != record["content_hash"]:
                    raise TransferError(
                        f"Phiếu “{record['code']}” phiên bản {record['version']} đã có với nội dung khác."
                    )
                if found is None:
                    found = QuestionnaireVersion(**record)
                    s.add(found)
                versions[(record["code"], record["version"])] = found
            elif kind == "campaign":
                scope = units[record.pop("scope")]
                record["starts_on"], record["ends_on"] = _date(record["starts_on"]), _date(record["ends_on"])
                campaign = Campaign(scope_unit=scope, **record)
                s.add(campaign)
                s.flush()
            elif kind == "group":
                rated = [units[c] for c in record.pop("rated")]
                version = versions[(record.pop("questionnaire"), record.pop("version"))]
                group = RespondentGroup(campaign_id=campaign.id, questionnaire_version_id=version.id, **record)
                group.rated_units = rated
                s.add(group)
                s.flush()
                groups[group.code] = group
            elif kind == "quota":
                s.add(
                    Quota(
                        group_id=groups[record["group"]].id,
                        unit_id=units[record["unit"]].id,
                        target=record["target"],
                        received=record["received"],
                    )
                )
            elif kind == "point":
                point = CollectionPoint(
                    group_id=groups[record["group"]].id,
                    unit_id=units[record["unit"]].id,
                    code=record["code"],
                    active=record["active"],
                )
                s.add(point)
                s.flush()
                points[point.code] = point.id
            elif kind == "invitation":
                group = groups[record.pop("group")]
                record["group_id"], record["unit_id"] = group.id, units[record.pop("unit")].id
                answered = record["used"] and campaign.anonymous
                if answered:  # recorded as a claim under this database's ids, as the app records it
                    record["used"] = False
                invitation = Invitation(**record)
                s.add(invitation)
                s.flush()
                if answered:
                    s.add(InvitationClaim(hash=anonymity.claim_hash(campaign.id, invitation.id), group_id=group.id))
                invitations[invitation.code] = invitation.id
            elif kind == "slip":
                s.add(
                    Slip(
                        group_id=groups[record["group"]].id,
                        unit_id=units[record["unit"]].id,
                        code=record["code"],
                        batch=record["batch"],
                        used=record["used"],
                    )
                )
            elif kind == "response":
                answers = record.pop("answers")
                group = groups[record.pop("group")]
                unit_code, point, invitation = record.pop("unit"), record.pop("point"), record.pop("invitation")
                answered = record.pop("questionnaire", None)  # dumps before versions were kept per response lack it
                version = versions[tuple(answered)] if answered else group.questionnaire_version
                row = {
                    **record,
                    "campaign_id": campaign.id,
                    "group_id": group.id,
                    "unit_id": units[unit_code].id,
                    "collection_point_id": points.get(point),
                    "invitation_id": invitations.get(invitation),
                    "questionnaire_version_id": version.id,
                }
                for key in ("started_at", "submitted_at", "reviewed_at"):
                    row[key] = _date(row[key], datetime)
                pending.append((row, answers))
                if len(pending) >= BATCH:
                    s.flush()
                    flush_responses()
            else:
                raise TransferError(f"{path.name}, dòng {number}: loại bản ghi “{kind}” không rõ.")
    s.flush()
    flush_responses()
    s.flush()
    if campaign is None:
        raise TransferError(f"{path.name}: tệp không có đợt khảo sát nào.")
    return counts
