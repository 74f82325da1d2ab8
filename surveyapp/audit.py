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
}
