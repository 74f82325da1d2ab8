"""The audit log: one call records who changed what. It flushes with the change it describes, so
both commit together or not at all."""

from __future__ import annotations

import json

from flask import has_request_context
from sqlalchemy.orm import Session

from .models import AuditEvent


def record(s: Session, action: str, target: str, **details) -> None:
    """Add an audit event for the signed-in user (or the command line when there is none)."""
    user_id = None
    if has_request_context():
        from .auth import current_user

        user = current_user()
        user_id = user.id if user is not None else None
    s.add(AuditEvent(user_id=user_id, action=action, target=target,
                     details=json.dumps(details, ensure_ascii=False, default=str)))  # fmt: skip
    s.flush()


#: Vietnamese names of audited actions, for the log page
ACTIONS = {
    "campaign.plan_applied": "Áp dụng kế hoạch mẫu",
    "campaign.settings_changed": "Sửa thiết lập đợt khảo sát",
    "campaign.created": "Tạo đợt khảo sát",
    "campaign.copied": "Sao chép đợt khảo sát",
    "campaign.group_added": "Thêm nhóm đối tượng",
    "campaign.opened": "Mở đợt khảo sát",
    "campaign.closed": "Đóng đợt khảo sát",
    "campaign.reopened": "Mở lại đợt khảo sát đã đóng",
    "campaign.rules_changed": "Đổi quy tắc tính điểm",
    "units.imported": "Nhập danh sách đơn vị",
    "frame.drawn": "Chọn mẫu ngẫu nhiên từ danh sách",
    "unit.changed": "Sửa đơn vị",
    "group.access_changed": "Đổi cách người dân trả lời",
    "slips.created": "Tạo phiếu QR dùng một lần",
    "invitations.imported": "Nhập danh sách mời",
    "invitation.added": "Thêm người được mời",
    "invitation.revoked": "Thu hồi đường dẫn",
    "invitation.reissued": "Cấp lại đường dẫn",
    "response.excluded": "Loại phiếu",
    "response.kept": "Giữ phiếu bị gắn cờ",
    "response.restored": "Khôi phục phiếu đã loại",
    "user.created": "Tạo tài khoản",
    "user.changed": "Sửa tài khoản",
    "user.password_reset": "Đặt lại mật khẩu",
    "api_token.created": "Tạo mã truy cập API",
    "questionnaire.draft_created": "Soạn phiếu hỏi (bản nháp)",
    "questionnaire.published": "Xuất bản phiếu hỏi",
    "questionnaire.imported": "Nhập phiếu hỏi từ tệp",
    "group.questionnaire_changed": "Đổi phiếu hỏi của nhóm",
    "paper.corrected": "Sửa phiếu giấy đã nhập",
    "campaign.issuer_changed": "Đổi cơ quan ban hành phiếu",
    "paper.deleted": "Xoá phiếu giấy đã nhập",
    "messages.queued": "Gửi lời mời / thư nhắc",
    "group.reminders_changed": "Đổi lịch nhắc tự động",
}


# -- the log in sentences ---------------------------------------------------------------------------
#: what each recorded detail is, in words
DETAIL_NAMES = {
    "note": "lý do", "flags": "cờ", "unit": "đơn vị", "group": "nhóm", "count": "số phiếu", "batch": "đợt in",
    "people": "số người", "file": "tệp", "version": "phiên bản", "title": "tên", "before": "trước", "after": "sau",
    "total": "tổng chỉ tiêu", "cells": "số ô chỉ tiêu", "new": "đơn vị mới", "changed": "đơn vị sửa",
    "retired": "đơn vị giải thể", "year": "năm", "scope": "phạm vi", "source": "sao chép từ đợt", "seed": "số khởi tạo",
    "role": "vai trò", "active": "đang hoạt động", "questionnaire": "phiếu hỏi", "mode": "hình thức",
    "copied_from": "sao chép từ", "quota_full_policy": "khi đủ chỉ tiêu", "min_seconds_per_question":
    "số giây tối thiểu mỗi câu", "burst_limit": "số phiếu mỗi máy mỗi giờ",
    "check_opening_hours": "kiểm tra giờ làm việc",
    "counter_access": "cách trả lời", "paper_number": "số phiếu", "drawn": "số người được chọn",
    "frame_size": "số dòng danh sách", "issuer": "cơ quan ban hành", "emblem": "hình biểu trưng",
    "channel": "kênh", "kind": "loại thư", "resend_of": "gửi lại từ lần gửi số",
}  # fmt: skip
VALUE_NAMES = {
    "stop": "ngừng nhận", "accept": "vẫn nhận, đánh dấu vượt chỉ tiêu", "poster": "chỉ mã QR dán tại quầy",
    "slips": "chỉ phiếu QR dùng một lần", "both": "cả hai", "counter": "quét mã QR tại quầy",
    "invitation": "mời cá nhân", "paper": "phiếu giấy", "admin": "Quản trị (Phòng/Sở Nội vụ)",
    "unit_officer": "Cán bộ đơn vị", "scorer": "Tổ chấm điểm", "clerk": "Nhập liệu", "too_fast": "trả lời quá nhanh",
    "straight_lining": "mọi câu thang đo cùng một mức", "burst": "nhiều phiếu từ một máy",
    "address_burst": "nhiều phiếu từ một mạng", "off_hours": "ngoài giờ làm việc",
    "email": "email", "sms": "tin nhắn SMS", "zalo": "Zalo", "reminder": "nhắc trả lời",
}  # fmt: skip


class Names:
    """Names of the things a log refers to by code (units, campaigns, groups, invitations)."""

    def __init__(self, s: Session, targets: list[str]):
        """``targets``: the events' targets; of the invitations only those named are read."""
        from sqlalchemy import select

        from .models import Campaign, Invitation, RespondentGroup, Unit

        self.units = dict(s.execute(select(Unit.code, Unit.name)).all())
        self.campaigns = dict(s.execute(select(Campaign.key, Campaign.name)).all())
        self.groups = {(key, code): name for key, code, name in s.execute(
            select(Campaign.key, RespondentGroup.code, RespondentGroup.name).join(Campaign))}  # fmt: skip
        named = {int(t[11:]) for t in targets if t.startswith("invitation:") and t[11:].isdigit() and len(t) < 30}
        self.invitations = {
            str(i): n for i, n in s.execute(select(Invitation.id, Invitation.full_name).where(Invitation.id.in_(named)))
        } if named else {}  # fmt: skip

    def campaign(self, key: str) -> str:
        return f"đợt “{self.campaigns[key]}”" if key in self.campaigns else f"đợt {key}"

    def group(self, key: str, code: str) -> str:
        name = self.groups.get((key, code))
        return f"nhóm “{name}” của {self.campaign(key)}" if name else f"nhóm {code} của {self.campaign(key)}"


def describe_target(target: str, names: Names) -> str:
    """``campaign:ninh-giang-2023`` → ``đợt “Điều tra … 2023”``; an unknown kind stays as written."""
    kind, _, ref = target.partition(":")
    match kind:
        case "campaign":
            return names.campaign(ref)
        case "group":
            key, _, code = ref.partition("/")
            return names.group(key, code)
        case "response":
            return f"phiếu số {ref}"
        case "invitation":
            person = names.invitations.get(ref)
            return f"đường dẫn mời của “{person}”" if person else f"đường dẫn mời số {ref}"
        case "unit":
            return f"đơn vị “{names.units[ref]}”" if ref in names.units else f"đơn vị {ref}"
        case "user":
            return f"tài khoản “{ref}”"
        case "questionnaire":
            return f"phiếu hỏi mã {ref}"
        case "file":
            return f"tệp “{ref}”"
        case "api_token":
            return f"mã truy cập API “{ref}”"
    return target


def _value(key: str, value, names: Names) -> str:
    if isinstance(value, bool):
        return "có" if value else "không"
    if value is None or value == "":
        return "không có"
    if isinstance(value, list):
        return ", ".join(_value(key, v, names) for v in value) or "không có"
    if isinstance(value, dict):
        return "; ".join(f"{DETAIL_NAMES.get(k, k)} {_value(k, v, names)}" for k, v in value.items())
    if isinstance(value, float | int):
        from questionnaires.labels import vn_number

        return vn_number(value)
    text = str(value)
    if key in ("unit", "scope", "retired") and text in names.units:
        return names.units[text]
    if key == "flags":
        return ", ".join(VALUE_NAMES.get(f, f) for f in text.split()) or "không có"
    return VALUE_NAMES.get(text, text)


def describe_details(details: str | None, names: Names, group_of: str | None = None) -> str:
    """The recorded details as a sentence: ``lý do: Phiếu thử; cờ: trả lời quá nhanh``."""
    if not details:
        return ""
    try:
        data = json.loads(details)
    except ValueError:
        return details
    if not isinstance(data, dict):
        return str(data)
    parts = []
    for key, value in data.items():
        if key == "group" and group_of and isinstance(value, str):
            shown = names.groups.get((group_of, value), value)
        else:
            shown = _value(key, value, names)
        parts.append(f"{DETAIL_NAMES.get(key, key)}: {shown}")
    return "; ".join(parts)
