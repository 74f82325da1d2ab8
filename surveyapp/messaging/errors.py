"""Every message this package shows an officer, in one place (as pyxform's errors.py): a code
that tests and logs can name, a Vietnamese text with its blanks."""

from __future__ import annotations

from enum import StrEnum


class Problem(StrEnum):
    # templates
    UNKNOWN_PLACEHOLDER = "Mẫu có chỗ điền “{{{name}}}” mà phần mềm không biết. Chỉ dùng: {known}."
    UNCLOSED_BRACE = "Mẫu có dấu “{{” chưa đóng bằng “}}” (ở “{near}”)."
    EMPTY_BODY = "Nội dung thư không được để trống."
    NO_LINK = "Nội dung phải có {{đường dẫn}}: thiếu nó người nhận không mở được phiếu của mình."
    SUBJECT_NEEDED = "Email cần có tiêu đề."
    TOO_LONG = "{what} dài quá {limit} ký tự."
    # recipients and addresses
    NOBODY = "Không có ai để gửi: {why}"
    BAD_EMAIL = "Địa chỉ email “{value}” không hợp lệ."
    BAD_PHONE = "Số điện thoại “{value}” không phải số di động Việt Nam hợp lệ (ví dụ 0912 345 678)."
    NO_ADDRESS = "Chưa có {what}."
    # channels
    NOT_CONFIGURED = "Chưa cấu hình gửi {channel}: {how}"
    SMTP_UNREACHABLE = "Không kết nối được máy chủ thư {host}:{port} ({detail})."
    SMTP_LOGIN = "Máy chủ thư từ chối đăng nhập ({detail})."
    SMTP_REFUSED = "Máy chủ thư từ chối người nhận ({detail})."
    SMTP_TEMPORARY = "Máy chủ thư tạm thời chưa nhận thư ({detail})."
    PROVIDER_UNREACHABLE = "Không kết nối được {provider} ({detail})."
    PROVIDER_ERROR = "{provider} báo lỗi máy chủ ({detail}); sẽ thử lại."
    PROVIDER_REFUSED = "{provider} từ chối tin nhắn: {detail}."
    STOPPED_MIDWAY = (
        "Tiến trình gửi dừng đột ngột khi đang trao thư cho nhà cung cấp: không rõ thư đã đi hay chưa. "
        "Phần mềm không tự gửi lại (để không ai nhận hai lần); bấm “Gửi lại” nếu người này báo chưa nhận."
    )
    GAVE_UP = "Đã thử {tries} lần không được; lần cuối: {last}"
    # returns
    BOUNCED = "Thư bị máy chủ của người nhận trả lại: {detail}"
    PROVIDER_UNDELIVERED = "{provider} báo tin không đến được máy người nhận: {detail}"
    BOUNCE_MAILBOX = "Không đọc được hộp thư nhận thư trả lại (BOUNCE_MAILBOX): {detail}"

    def text(self, **blanks) -> str:
        return self.value.format(**blanks)
