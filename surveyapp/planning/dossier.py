"""The methodology dossier (hồ sơ chọn mẫu, issue 19, part 2): everything an inspector needs to
reproduce a campaign's sample, as a Word document the office can edit and sign, or a PDF (the same
blocks, surveyapp/documents.py): the scope and fieldwork dates, the plan as applied (each group's
method and inputs, in words and as the plan text itself), the quotas per unit × group with what
was received, every random draw (method, seed, frame size, sha256 of the list handed in, the
drawn record ids and the reserve in order) and how to repeat it, and the responses by outcome
(valid, excluded) per group.

Only what the database already keeps goes in: record ids of the frames, never contacts; no answer.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sampling.plan import load_plan_text

from ..documents import Block, Heading, Para, Table, save
from ..models import Campaign, FrameDraw, Quota, RespondentGroup, Response, ResponseStatus, Unit
from .plan_form import METHOD_NAMES

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
PARAM_NAMES = {
    "per_unit": "số phiếu mỗi đơn vị", "sizes": "số phiếu theo loại đơn vị", "total": "tổng số phiếu",
    "priors": "tỷ lệ hài lòng dự kiến", "margin": "sai số cho phép", "confidence": "độ tin cậy",
    "p": "tỷ lệ giả định", "unit": "đơn vị", "size": "số người trong danh sách",
}  # fmt: skip
DRAW_NAMES = {"simple": "ngẫu nhiên đơn giản", "systematic": "hệ thống (khoảng cách đều, điểm đầu ngẫu nhiên)"}


def _n(x) -> str:
    """Vietnamese number: 1.234 and 0,05."""
    if isinstance(x, float) and not x.is_integer():
        return f"{x:,.4g}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return f"{int(x):,}".replace(",", ".")


def _day(d) -> str:
    return d.strftime("%d/%m/%Y") if d else "—"


def _moment(at: datetime) -> str:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M")


def _params(params: dict) -> str:
    parts = []
    for key, value in params.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {_n(v) if isinstance(v, int | float) else v}" for k, v in value.items())
        elif isinstance(value, int | float):
            value = _n(value) if key != "margin" else f"{_n(100 * value)} %" if value < 1 else _n(value)
        parts.append(f"{PARAM_NAMES.get(key, key)}: {value}")
    return "; ".join(parts)


def _where(selector: dict, names: dict[str, str]) -> str:
    """A plan rule's units in words: "thuộc Huyện Ninh Giang; loại: xã, thị trấn"."""
    if not selector:
        return "mọi đơn vị thuộc phạm vi"
    parts = []
    if selector.get("under"):
        parts.append(f"thuộc {names.get(selector['under'], selector['under'])}")
    if selector.get("kinds"):
        parts.append("loại: " + ", ".join(map(str, selector["kinds"])))
    if selector.get("codes"):
        parts.append("đơn vị: " + ", ".join(names.get(c, c) for c in selector["codes"]))
    return "; ".join(parts)


def blocks(s: Session, campaign: Campaign, now: datetime | None = None) -> list[Block]:
    """The dossier, as blocks for Word or PDF."""
    now = now or datetime.now(UTC)
    groups = {g.id: g for g in s.scalars(select(RespondentGroup).where(RespondentGroup.campaign_id == campaign.id))}
    units = {u.id: u for u in s.scalars(select(Unit))}
    out: list[Block] = [
        Para(campaign.issuer_text.upper(), bold=True),
        Heading(f"HỒ SƠ CHỌN MẪU\n{campaign.name}", 0),
        Para(f"Lập lúc {_moment(now)} (giờ Việt Nam) từ dữ liệu của hệ thống khảo sát."),
    ]

    out.append(Heading("1. Phạm vi và thời gian"))
    out.append(Table(["Mục", "Nội dung"], [
        ["Đợt khảo sát", f"{campaign.name} (mã {campaign.key}, năm {campaign.year})"],
        ["Phạm vi", units[campaign.scope_unit_id].name],
        ["Thời gian thu thập", f"{_day(campaign.starts_on)} – {_day(campaign.ends_on)}"],
        ["Nhóm đối tượng", "; ".join(g.name for g in groups.values())],
        ["Khảo sát ẩn danh", "Có" if campaign.anonymous else "Không"],
    ], [5, 12]))  # fmt: skip

    out.append(Heading("2. Kế hoạch mẫu"))
    if campaign.sampling_plan:
        definition = load_plan_text(campaign.sampling_plan)
        by_code = {g.code: g for g in groups.values()}
        rows = []
        for rule in definition.rules:
            group = by_code.get(rule.group)
            bounds = []
            if rule.minimum:
                bounds.append(f"tối thiểu {_n(rule.minimum)}")
            if rule.maximum is not None:
                bounds.append(f"tối đa {_n(rule.maximum)}")
            where = _where(rule.units, {u.code: u.name for u in units.values()})
            rows.append([group.name if group else rule.group, METHOD_NAMES.get(rule.method, rule.method),
                         "; ".join(x for x in (_params(rule.params), ", ".join(bounds)) if x), where])  # fmt: skip
        out.append(Table(["Nhóm", "Phương pháp", "Tham số", "Đơn vị áp dụng"], rows, [3.5, 4.5, 5.5, 3.5]))
        out.append(Para("Kế hoạch đúng như đã áp dụng (văn bản gốc, để chạy lại bằng lệnh “surveyapp plan”):"))
        out.append(Para(campaign.sampling_plan.strip(), code=True))
    else:
        out.append(Para("Đợt khảo sát chưa áp dụng kế hoạch mẫu; chỉ tiêu (nếu có) được nhập trực tiếp."))

    out.append(Heading("3. Chỉ tiêu và số phiếu đã nhận theo đơn vị"))
    quotas = s.execute(
        select(Quota.group_id, Quota.unit_id, Quota.target, Quota.received)
        .where(Quota.group_id.in_(list(groups) or [-1]))
    ).all()  # fmt: skip
    quota_rows = sorted(quotas, key=lambda q: (groups[q.group_id].name, units[q.unit_id].name))
    rows = [[groups[q.group_id].name, units[q.unit_id].name, _n(q.target), _n(q.received)] for q in quota_rows]
    rows.append(["Tổng", "", _n(sum(q.target for q in quotas)), _n(sum(q.received for q in quotas))])
    out.append(Table(["Nhóm", "Đơn vị", "Chỉ tiêu", "Đã nhận"], rows, [4.5, 6.5, 3, 3], total=True))

    out.append(Heading("4. Các lần chọn ngẫu nhiên từ danh sách"))
    draws = list(s.scalars(select(FrameDraw).where(FrameDraw.campaign_id == campaign.id).order_by(FrameDraw.id)))
    if not draws:
        out.append(Para("Đợt khảo sát không có lần chọn ngẫu nhiên nào từ danh sách của đơn vị."))
    for k, draw in enumerate(draws, start=1):
        group, unit = groups.get(draw.group_id), units[draw.unit_id]
        out.append(Heading(f"4.{k}. {unit.name} · {group.name if group else ''}", 2))
        out.append(Table(["Mục", "Nội dung"], [
            ["Thời điểm chọn", _moment(draw.created_at)],
            ["Phương pháp", DRAW_NAMES.get(draw.method, draw.method)],
            ["Hạt giống (seed)", str(draw.seed)],
            ["Số bản ghi trong danh sách", _n(draw.frame_size)],
            ["Dấu SHA-256 của tệp danh sách", draw.frame_sha256],
            ["Số người được chọn / dự phòng", f"{_n(draw.sample_size)} / {_n(draw.reserve_size)}"],
        ], [6, 11]))  # fmt: skip
        selected, reserve = json.loads(draw.selected_ids), json.loads(draw.reserve_ids)
        out.append(Para(f"Mã bản ghi được chọn, theo thứ tự chọn: {', '.join(map(str, selected)) or '—'}."))
        out.append(Para(f"Danh sách dự phòng, theo thứ tự dùng: {', '.join(map(str, reserve)) or '—'}."))
        out.append(Para("Kiểm tra lại: cùng tệp danh sách (đúng dấu SHA-256 trên) và cùng hạt giống cho đúng những "
                        "người này:"))  # fmt: skip
        out.append(Para(f"surveyapp draw TỆP --n {draw.sample_size} --reserve {draw.reserve_size} --method "
                        f"{draw.method} --seed {draw.seed} --out ket-qua.xlsx", code=True))  # fmt: skip
    out.append(Para("Người thay thế từ danh sách dự phòng được lấy theo đúng thứ tự trên; hệ thống chưa ghi "
                    "lại từng lần thay thế và lý do (ghi vào biên bản nếu có)."))  # fmt: skip

    out.append(Heading("5. Phiếu đã nhận theo kết quả"))
    counts: dict = defaultdict(lambda: defaultdict(int))
    for group_id, status, n in s.execute(
        select(Response.group_id, Response.status, func.count()).where(Response.campaign_id == campaign.id)
        .group_by(Response.group_id, Response.status)
    ):  # fmt: skip
        counts[group_id][status] += n
    out.append(Table(["Nhóm", "Hợp lệ", "Bị loại sau kiểm tra chất lượng", "Tổng"], [
        [g.name, _n(counts[g.id][ResponseStatus.VALID]), _n(counts[g.id][ResponseStatus.EXCLUDED]),
         _n(sum(counts[g.id].values()))] for g in groups.values()
    ], [6, 3, 5, 3]))  # fmt: skip
    out.append(Para("Hồ sơ không chứa thông tin liên hệ hay câu trả lời của ai: chỉ mã bản ghi trong danh sách "
                    "đơn vị nộp, và số phiếu."))  # fmt: skip
    return out


def write(s: Session, campaign: Campaign, path) -> None:
    """The dossier as Word (.docx) or PDF (.pdf), by the extension of ``path``."""
    save(blocks(s, campaign), f"Hồ sơ chọn mẫu · {campaign.name}", path)
