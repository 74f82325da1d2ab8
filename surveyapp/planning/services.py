"""Plans and draws against the database. Functions flush; the caller commits once."""

from __future__ import annotations

import json

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from sampling import Plan, PlanUnit, SamplingError, margin_of_error
from sampling.export import SummaryRow
from sampling.frames import Draw, Frame

from ..campaigns.services import ensure_collection_points
from ..models import Campaign, FrameDraw, GroupMode, Quota, RespondentGroup, Response, ResponseStatus, Unit
from ..tree import descendants


def plan_units(s: Session, campaign: Campaign) -> list[PlanUnit]:
    """The campaign's scope unit and every active unit below it, as the planner sees them."""
    units = [campaign.scope_unit, *descendants(s, campaign.scope_unit_id)]
    codes = {u.id: u.code for u in units}
    parents = {u.id: u.parent_id for u in units}
    return [
        PlanUnit(
            u.code, u.name, u.kind, codes.get(parents[u.id]) if u.id != campaign.scope_unit_id else None, u.frame_size
        )
        for u in units
    ]


def apply_plan(s: Session, campaign: Campaign, plan: Plan) -> int:
    """Replace the quotas of every group the plan names, in one step; returns the cells written.

    Public (counter) groups get a collection point in every unit that now has a quota.
    """
    groups = {g.code: g for g in campaign.groups}
    unknown = sorted({c.group for c in plan.cells} - set(groups))
    if unknown:
        known = ", ".join(sorted(groups)) or "chưa có nhóm nào"
        raise SamplingError(f"Đợt khảo sát không có nhóm đối tượng: {', '.join(unknown)} (các nhóm có: {known}).")
    codes = {c.unit_code for c in plan.cells}
    units = {u.code: u for u in s.scalars(select(Unit).where(Unit.code.in_(codes)))}
    missing = sorted(codes - set(units))
    if missing:
        raise SamplingError(f"Không có đơn vị mã: {', '.join(missing)}.")
    touched = {c.group for c in plan.cells}
    s.execute(delete(Quota).where(Quota.group_id.in_([groups[g].id for g in touched])))
    for cell in plan.cells:
        s.add(Quota(group_id=groups[cell.group].id, unit_id=units[cell.unit_code].id, target=cell.quota, received=0))
    s.flush()
    _recount(s, campaign, [groups[g] for g in touched])
    for code in touched:
        group = groups[code]
        if group.mode == GroupMode.COUNTER:
            ensure_collection_points(s, group, [units[c.unit_code] for c in plan.cells if c.group == code])
    return len(plan.cells)


def _recount(s: Session, campaign: Campaign, groups: list[RespondentGroup]) -> None:
    """New quota rows start from the responses already accepted, so a re-plan mid-survey is safe."""
    counts = s.execute(
        select(Response.group_id, Response.unit_id, func.count())
        .where(Response.group_id.in_([g.id for g in groups]), Response.status == ResponseStatus.VALID)
        .group_by(Response.group_id, Response.unit_id)
    ).all()
    for group_id, unit_id, n in counts:
        s.execute(update(Quota).where(Quota.group_id == group_id, Quota.unit_id == unit_id).values(received=n))


def summary_rows(s: Session, campaign: Campaign) -> list[SummaryRow]:
    """The campaign's quotas with the margin of error at 95 % each gives.

    Counter groups use the unit's frame size (unknown frame: infinite population); invitation
    and paper groups are censuses of their list, so their margin is 0.
    """
    rows = s.execute(
        select(RespondentGroup.name, RespondentGroup.mode, Unit.code, Unit.name, Unit.frame_size, Quota.target)
        .join(RespondentGroup, Quota.group_id == RespondentGroup.id)
        .join(Unit, Quota.unit_id == Unit.id)
        .where(RespondentGroup.campaign_id == campaign.id)
        .order_by(RespondentGroup.position, Unit.code)
    )
    out = []
    for group_name, mode, code, name, frame, target in rows:
        if target < 1:
            margin = None
        elif mode != GroupMode.COUNTER:
            margin = 0.0
        elif frame is None:
            margin = margin_of_error(target)
        else:
            margin = margin_of_error(min(target, frame), N=frame) if frame > 1 else 0.0
        out.append(SummaryRow(group_name, code, name, target, margin))
    return out


def record_draw(
    s: Session, campaign: Campaign, group: RespondentGroup, unit: Unit, frame: Frame, result: Draw
) -> FrameDraw:
    row = FrameDraw(
        campaign_id=campaign.id,
        group_id=group.id,
        unit_id=unit.id,
        method=result.method,
        seed=result.seed,
        frame_sha256=frame.sha256,
        frame_size=len(frame),
        sample_size=len(result.selected),
        reserve_size=len(result.reserve),
        selected_ids=json.dumps([frame.ids[i] for i in result.selected], ensure_ascii=False),
        reserve_ids=json.dumps([frame.ids[i] for i in result.reserve], ensure_ascii=False),
    )
    s.add(row)
    s.flush()
    return row
