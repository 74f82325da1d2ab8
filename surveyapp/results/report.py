"""The annual survey report (báo cáo kết quả điều tra xã hội học, issue 19, part 1), first version:
the method (fieldwork dates, plan, quotas and responses, draws, exclusions), the results (points per
unit and criterion with 95 % intervals and the insufficient-sample marks, ranking, satisfaction per
aspect of each counter group) and an annex page per unit, as Word or PDF from the same blocks
(surveyapp/documents.py).

One source: the points are ``compute``'s table, the one the results page and the workbook show,
written with the same Vietnamese rounding (``vn_number``, two decimals for points), so the report
agrees with both to the last digit. Not yet: charts, open-text themes, the background job.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from questionnaires.labels import vn_number
from questionnaires.scoring import satisfaction

from ..documents import Block, Heading, Para, Table, save
from ..models import Campaign, FrameDraw, GroupMode, Quota, Response, ResponseStatus
from ..planning.dossier import VIETNAM, _day
from .services import compute, questionnaires
from .workbook import flags_text


def _pts(x) -> str:
    return "—" if x is None else vn_number(x, 2)


def _pct(x) -> str:
    return "—" if x is None or x != x else f"{vn_number(100 * x, 1)} %"


def blocks(s: Session, campaign: Campaign, now: datetime | None = None) -> list[Block]:
    now = now or datetime.now(UTC)
    table, counts = compute(s, campaign)
    rules = table.rules
    qs = questionnaires(campaign)
    groups = list(campaign.groups)
    out: list[Block] = [
        Para(campaign.issuer_text.upper(), bold=True),
        Heading(f"BÁO CÁO KẾT QUẢ ĐIỀU TRA XÃ HỘI HỌC\n{campaign.name}", 0),
        Para(f"Số liệu đến {now.astimezone(VIETNAM):%d/%m/%Y %H:%M} (giờ Việt Nam). Điểm tính theo {rules.title}."),
    ]

    out.append(Heading("I. Phương pháp"))
    anonymous = "Khảo sát ẩn danh: phiếu không gắn với người trả lời." if campaign.anonymous else ""
    out.append(Para(f"Thời gian thu thập: {_day(campaign.starts_on)} – {_day(campaign.ends_on)}. "
                    f"Phạm vi: {campaign.scope_unit.name}. {anonymous}"))  # fmt: skip
    quota = defaultdict(lambda: [0, 0])
    for group_id, target, received in s.execute(
        select(Quota.group_id, func.sum(Quota.target), func.sum(Quota.received)).group_by(Quota.group_id)
    ):  # fmt: skip
        quota[group_id] = [int(target or 0), int(received or 0)]
    outcome = defaultdict(lambda: defaultdict(int))
    for group_id, status, n in s.execute(
        select(Response.group_id, Response.status, func.count()).where(Response.campaign_id == campaign.id)
        .group_by(Response.group_id, Response.status)
    ):  # fmt: skip
        outcome[group_id][status] = n
    rows = []
    for g in groups:
        target, _received = quota[g.id]
        valid, excluded = outcome[g.id][ResponseStatus.VALID], outcome[g.id][ResponseStatus.EXCLUDED]
        rate = _pct(valid / target) if target else "—"
        rows.append([g.name, vn_number(target), vn_number(valid), vn_number(excluded), rate])
    rows.append(["Tổng", vn_number(sum(quota[g.id][0] for g in groups)),
                 vn_number(sum(outcome[g.id][ResponseStatus.VALID] for g in groups)),
                 vn_number(sum(outcome[g.id][ResponseStatus.EXCLUDED] for g in groups)), ""])  # fmt: skip
    out.append(Table(["Nhóm đối tượng", "Chỉ tiêu", "Phiếu hợp lệ", "Bị loại khi kiểm tra", "Đạt so với chỉ tiêu"],
                     rows, [6, 2.5, 2.5, 3, 3], total=True))  # fmt: skip
    draws = s.scalar(select(func.count()).select_from(FrameDraw).where(FrameDraw.campaign_id == campaign.id))
    out.append(Para(f"Chọn mẫu: {vn_number(draws or 0)} lần chọn ngẫu nhiên từ danh sách của đơn vị; hạt giống, "
                    "dấu của danh sách và mã bản ghi được chọn ở Hồ sơ chọn mẫu (kèm theo). Phiếu bị loại là phiếu "
                    "cán bộ rà soát loại sau các kiểm tra chất lượng (trả lời quá nhanh, chọn một mức cho mọi câu, "
                    "gửi dồn dập từ một thiết bị, ngoài giờ làm việc)."))  # fmt: skip

    out.append(Heading("II. Kết quả"))
    out.append(Heading("1. Điểm điều tra xã hội học theo đơn vị và tiêu chí", 2))
    head = ["Hạng", "Đơn vị", *[f"{c.code} (/{vn_number(c.max_points)})" for c in rules.criteria],
            f"Tổng (/{vn_number(rules.component_total)})"]  # fmt: skip
    ranked = sorted(table.units, key=lambda u: (u.rank is None, u.rank or 0, u.name))
    rows = [[str(u.rank or "—"), u.name, *[_pts(u.criteria[c.code].points) for c in rules.criteria], _pts(u.total)]
            for u in ranked]  # fmt: skip
    out.append(Table(head, rows))
    marked = [u for u in ranked if any(sc.flags for sc in u.criteria.values())]
    if marked:
        out.append(Para("Ghi chú: " + "; ".join(
            f"{u.name}: {flags_text(dict.fromkeys(f for sc in u.criteria.values() for f in sc.flags))}"
            for u in marked) + "."))  # fmt: skip
    out.append(Heading("2. Mức độ hài lòng của người dân, tổ chức", 2))
    for g in groups:
        if g.mode != GroupMode.COUNTER:
            continue
        _items, aspects, overall = satisfaction(qs[g.code], g.code, counts)
        out.append(Para(f"{g.name}: hài lòng chung {_pct(overall.share)} ({vn_number(overall.n)} câu trả lời; "
                        "mức 4–5 là hài lòng).", bold=True))  # fmt: skip
        out.append(Table(["Khía cạnh", "Tỷ lệ hài lòng", "Số câu trả lời"],
                         [[a.label, _pct(a.share), vn_number(a.n)] for _k, a in aspects], [10, 3.5, 3.5]))  # fmt: skip

    out.append(Heading("Phụ lục: kết quả của từng đơn vị", new_page=True))
    for k, u in enumerate(sorted(table.units, key=lambda u: u.name)):
        out.append(Heading(f"{u.name} ({u.unit})", 2, new_page=k > 0))  # a page each: sent to the unit alone
        out.append(Para(f"Tổng điểm: {_pts(u.total)}/{vn_number(rules.component_total)}; "
                        f"xếp hạng: {u.rank or '—'}/{len([x for x in table.units if x.rank])}."))  # fmt: skip
        rows = []
        for c in rules.criteria:
            sc = u.criteria[c.code]
            interval = f"{_pct(sc.low)} – {_pct(sc.high)}" if sc.low is not None and sc.low == sc.low else "—"
            rows.append([f"{c.code} {c.name}", _pct(sc.value), interval, vn_number(sc.n), _pts(sc.points),
                         flags_text(sc.flags) or ""])  # fmt: skip
        out.append(Table(["Tiêu chí", "Giá trị", "Khoảng 95%", "Câu trả lời", "Điểm", "Ghi chú"], rows,
                         [5.5, 2, 3.5, 2, 1.5, 2.5]))  # fmt: skip
    return out


def write(s: Session, campaign: Campaign, path) -> None:
    save(blocks(s, campaign), f"Báo cáo kết quả điều tra · {campaign.name}", path)
