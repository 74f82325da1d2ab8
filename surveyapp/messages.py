"""Every message a citizen or an official reads on an error or notice page, in one place."""

from __future__ import annotations

PAGES: dict[str, tuple[str, str]] = {
    # key: (title, explanation)
    "not_found": ("Không tìm thấy trang", "Đường dẫn không đúng hoặc đã hết hiệu lực. Vui lòng quét lại mã QR."),
    "point_unknown": (
        "Không tìm thấy phiếu khảo sát",
        "Mã QR hoặc đường dẫn này không thuộc đợt khảo sát nào. Vui lòng quét lại mã QR tại nơi làm thủ tục.",
    ),
    "point_inactive": (
        "Mã QR này đã ngừng sử dụng",
        "Nơi làm thủ tục đã thay mã QR mới. Vui lòng quét mã QR đang dán tại quầy.",
    ),
    "campaign_closed": (
        "Đợt khảo sát đã kết thúc",
        "Cảm ơn ông/bà đã quan tâm. Đợt khảo sát này đã đóng nên không nhận thêm phiếu.",
    ),
    "campaign_draft": (
        "Đợt khảo sát chưa bắt đầu",
        "Đợt khảo sát này chưa mở. Vui lòng quay lại sau khi cơ quan thông báo bắt đầu.",
    ),
    "quota_full": (
        "Đã đủ số phiếu cần thiết",
        "Cảm ơn ông/bà rất nhiều. Nơi này đã nhận đủ số phiếu khảo sát của đợt này nên không cần ông/bà trả lời thêm.",
    ),
    "csrf": (
        "Phiên trả lời đã hết hạn",
        "Trang đã mở quá lâu hoặc trình duyệt không giữ cookie. Vui lòng tải lại trang rồi gửi phiếu lại; "
        "câu trả lời đã lưu trên máy sẽ được điền lại.",
    ),
    "too_large": ("Dữ liệu gửi lên quá lớn", "Phiếu gửi lên vượt quá dung lượng cho phép. Vui lòng rút gọn ý kiến."),
    "bad_encoding": (
        "Dữ liệu không đọc được",
        "Nội dung gửi lên không phải văn bản Unicode (UTF-8) hợp lệ. Vui lòng tải lại trang và gửi lại.",
    ),
    "nul_byte": (
        "Có một ký tự không hợp lệ",
        "Nội dung gửi lên có một ký tự không in được (ký tự rỗng), thường do dán từ nơi khác vào. Vui lòng xoá "
        "đoạn vừa dán, gõ lại bằng bàn phím rồi gửi. Các câu trả lời khác vẫn còn trên máy.",
    ),
    "bad_content_type": ("Dữ liệu không đúng dạng", "Phiếu phải được gửi từ biểu mẫu của trang khảo sát."),
    "unknown_fields": (
        "Phiếu có câu hỏi lạ",
        "Dữ liệu gửi lên có câu hỏi không thuộc phiếu này (có thể phiếu đã được cập nhật). "
        "Vui lòng tải lại trang và trả lời lại.",
    ),
    "bad_submission": (
        "Mã phiếu không hợp lệ",
        "Không xác định được phiếu này. Vui lòng tải lại trang khảo sát và trả lời lại.",
    ),
    "submission_conflict": (
        "Phiếu này đã được gửi với câu trả lời khác",
        "Mã phiếu này đã được dùng để gửi một bộ câu trả lời khác, nên không thể ghi nhận lần gửi này. "
        "Nếu muốn trả lời lại, vui lòng tải lại trang để mở phiếu mới.",
    ),
    "poster_disabled": (
        "Vui lòng dùng phiếu có mã QR riêng",
        "Nơi này phát cho mỗi người một phiếu nhỏ có mã QR riêng kèm kết quả giải quyết. Vui lòng quét mã trên "
        "phiếu đó để trả lời.",
    ),
    "slips_disabled": (
        "Mã QR này chưa được dùng",
        "Đợt khảo sát này chỉ nhận ý kiến qua mã QR dán tại quầy. Vui lòng quét mã QR tại nơi làm thủ tục.",
    ),
    "slip_used": (
        "Mã QR này đã được dùng",
        "Mỗi phiếu nhỏ chỉ dùng để trả lời một lần và phiếu này đã được trả lời. Cảm ơn ông/bà.",
    ),
    "invitation_unknown": (
        "Không tìm thấy thư mời",
        "Đường dẫn không đúng hoặc đã được thay bằng đường dẫn mới. Vui lòng kiểm tra lại tin nhắn hoặc thư mời.",
    ),
    "invitation_revoked": (
        "Đường dẫn này đã hết hiệu lực",
        "Đường dẫn này đã được thu hồi. Nếu Quý vị vẫn cần trả lời, vui lòng liên hệ Phòng Nội vụ "
        "để nhận đường dẫn mới.",
    ),
    "already_answered": (
        "Phiếu đã được ghi nhận",
        "Đường dẫn này đã được dùng để gửi phiếu trả lời, nên không nhận thêm phiếu thứ hai. Cảm ơn Quý vị.",
    ),
    "dossier_used": (
        "Hồ sơ này đã có phiếu",
        "Mỗi hồ sơ chỉ được trả lời một phiếu và mã hồ sơ này đã có phiếu, nên phiếu vừa gửi không được ghi "
        "nhận. Cảm ơn ông/bà. Nếu ông/bà chưa trả lời lần nào, vui lòng kiểm tra lại mã hồ sơ trên giấy hẹn.",
    ),
    "more_expired": (
        "Đã hết thời gian góp ý thêm",
        "Đánh giá của ông/bà đã được ghi nhận. Phần góp ý thêm chỉ mở trong 30 phút sau khi đánh giá và chỉ "
        "trên chính thiết bị đã đánh giá, nên lần này không ghi nhận thêm. Cảm ơn ông/bà.",
    ),
    "kiosk_unpaired": (
        "Máy tính bảng chưa được ghép nối",
        "Phiếu chưa được ghi nhận vì máy này chưa được cán bộ ghép nối với nơi làm thủ tục. "
        "Vui lòng nhờ cán bộ tại quầy tạo mã ghép nối, hoặc quét mã QR dán tại quầy bằng điện thoại.",
    ),
    "kiosk_revoked": (
        "Máy tính bảng này đã ngừng lấy ý kiến",
        "Cán bộ đã thu hồi máy này nên phiếu không được ghi nhận. Ông/bà vui lòng quét mã QR dán tại quầy "
        "bằng điện thoại, hoặc báo cán bộ tại quầy.",
    ),
    "rate_limited": (
        "Gửi quá nhiều lần",
        "Thiết bị hoặc mạng này đã gửi rất nhiều phiếu trong thời gian ngắn. Vui lòng chờ ít phút rồi gửi lại; "
        "câu trả lời của ông/bà vẫn được giữ trên máy.",
    ),
    "bad_request": ("Yêu cầu không hợp lệ", "Yêu cầu gửi lên không đúng. Vui lòng tải lại trang và thử lại."),
    "forbidden": ("Không có quyền truy cập", "Tài khoản của bạn không được xem trang này."),
    "method": ("Thao tác không hợp lệ", "Trang này không hỗ trợ thao tác vừa thực hiện."),
    "server_error": (
        "Hệ thống đang gặp sự cố",
        "Xin lỗi, đã có lỗi phía máy chủ. Câu trả lời của ông/bà vẫn được giữ trên máy; "
        "vui lòng thử gửi lại sau ít phút.",
    ),
}

FIELD_ERRORS: dict[str, str] = {
    "dossier_missing": "Vui lòng nhập mã hồ sơ ghi trên Giấy tiếp nhận hồ sơ và hẹn trả kết quả.",
    "dossier_malformed": "Mã hồ sơ gồm chữ, số và các dấu . - /, dài từ 4 đến 40 ký tự, như in trên giấy hẹn. "
    "Vui lòng kiểm tra lại.",
    "required": "Vui lòng trả lời câu này.",
    "invalid_choice": "Lựa chọn không hợp lệ, vui lòng chọn lại.",
    "not_integer": "Vui lòng nhập một số nguyên.",
    "not_number": "Vui lòng nhập một số.",
    "range": "Vui lòng nhập số từ {min} đến {max}.",
    "min": "Vui lòng nhập số không nhỏ hơn {min}.",
    "max": "Vui lòng nhập số không lớn hơn {max}.",
    "too_long": "Vui lòng viết không quá {max} ký tự.",
    "form_has_errors": "Còn {count} câu chưa đúng hoặc chưa trả lời. Vui lòng xem các câu được đánh dấu đỏ.",
}

#: WTForms' own English messages, in Vietnamese (WTForms ships no Vietnamese catalogue).
WTFORMS_VI: dict[str, str] = {
    "Not a valid choice.": FIELD_ERRORS["invalid_choice"],
    "Not a valid choice": FIELD_ERRORS["invalid_choice"],
    "'%(value)s' is not a valid choice for this field.": FIELD_ERRORS["invalid_choice"],
    "'%(value)s' are not valid choices for this field.": FIELD_ERRORS["invalid_choice"],
    "Not a valid integer value.": FIELD_ERRORS["not_integer"],
    "Not a valid float value.": FIELD_ERRORS["not_number"],
    "Not a valid decimal value.": FIELD_ERRORS["not_number"],
    "This field is required.": FIELD_ERRORS["required"],
    "Invalid input.": "Giá trị không hợp lệ.",
}


def page(key: str) -> tuple[str, str]:
    return PAGES[key]


class VietnameseTranslations:
    """The gettext interface WTForms asks its Meta for."""

    def gettext(self, string: str) -> str:
        return WTFORMS_VI.get(string, string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)
