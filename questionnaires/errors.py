"""Every message a questionnaire author can see, in one place.

Messages are Vietnamese templates; ``DefinitionProblem`` fills them and prefixes the file,
the line and the question they are about, so an author can go straight to the spot.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MESSAGES: dict[str, str] = {
    "not_utf8": "tệp không phải văn bản UTF-8 (hãy lưu lại với mã hoá UTF-8)",
    "yaml_syntax": "lỗi cú pháp YAML: {detail}",
    "not_mapping": "nội dung tệp phải là một bảng khoá: giá trị (id, version, title, sections…)",
    "missing_key": "thiếu mục bắt buộc “{key}”",
    "unknown_key": "mục “{key}” không được hỗ trợ (các mục hợp lệ: {allowed})",
    "bad_id": "mã “{value}” không hợp lệ: chỉ dùng chữ thường không dấu, số và dấu gạch dưới, "
    "bắt đầu bằng chữ (ví dụ: q1_thu_tuc)",
    "bad_version": "phiên bản phải là số nguyên dương, nhận được “{value}”",
    "empty_label": "thiếu nội dung “{key}” (câu chữ hiển thị cho người trả lời)",
    "not_list": "mục “{key}” phải là một danh sách",
    "not_mapping_item": "mỗi phần tử của “{key}” phải là một bảng khoá: giá trị",
    "no_sections": "phiếu phải có ít nhất một phần (sections) có câu hỏi",
    "no_questions": "phần “{section}” không có câu hỏi nào",
    "duplicate_question": "mã câu hỏi “{qid}” bị trùng (đã dùng ở dòng {first_line})",
    "duplicate_section": "mã phần “{value}” bị trùng",
    "unknown_type": "loại câu hỏi “{value}” không tồn tại (các loại hợp lệ: {allowed})",
    "no_options": "câu hỏi lựa chọn phải có ít nhất 2 phương án (options)",
    "duplicate_option": "mã phương án “{value}” bị trùng",
    "unknown_scale": "thang đo “{value}” chưa được khai báo trong mục scales",
    "bad_scale_levels": "thang đo “{scale}” phải có từ 2 đến 11 mức, mỗi mức có nhãn khác nhau",
    "scale_needs_aspect": "câu hỏi thang đo phải ghi khía cạnh đánh giá (aspect)",
    "unknown_aspect": "khía cạnh “{value}” chưa được khai báo trong mục aspects",
    "bad_bounds": "giới hạn số không hợp lệ: min ({min}) phải là số và nhỏ hơn hoặc bằng max ({max})",
    "bad_number": "“{key}” phải là một số, nhận được “{value}”",
    "bad_bool": "“{key}” phải là true hoặc false, nhận được “{value}”",
    "show_if_shape": "điều kiện hiển thị (show_if) phải có dạng {{question: mã_câu, answers: [mã_trả_lời, …]}} "
    "hoặc một danh sách các điều kiện như vậy",
    "show_if_missing_question": "điều kiện hiển thị trỏ tới câu hỏi “{value}” không có trong phiếu",
    "show_if_later_question": "điều kiện hiển thị phải trỏ tới một câu hỏi đứng trước, câu “{value}” nằm sau câu này",
    "show_if_repeated": "mỗi câu hỏi chỉ dùng một lần trong điều kiện hiển thị (gộp các đáp án vào một điều kiện)",
    "show_if_self": "điều kiện hiển thị không được trỏ tới chính câu hỏi này",
    "show_if_bad_target": "điều kiện hiển thị trỏ tới câu “{value}” không phải câu lựa chọn, có/không hoặc thang đo",
    "show_if_missing_option": "điều kiện hiển thị dùng đáp án “{value}” không có trong câu “{target}”",
    "rate_units_needs_items": "câu “đánh giá từng đơn vị” phải có danh sách câu hỏi con (items)",
    "rate_units_nested": "không được lồng câu “đánh giá từng đơn vị” bên trong một câu cùng loại",
    "bad_units_scope": "phạm vi đơn vị “{value}” không hợp lệ (hợp lệ: {allowed})",
    "unknown_language": "“{key}”: ngôn ngữ “{value}” chưa khai báo trong mục languages (đã khai báo: {known})",
    "bad_language": "mã ngôn ngữ “{value}” không hợp lệ (ví dụ: km, en; tiếng Việt là ngôn ngữ chính, không khai báo)",
    "bad_yesno": "nhãn có/không của ngôn ngữ “{value}” phải là hai nhãn, ví dụ [Có, Không]",
    "bad_scale_translation": "bản dịch thang đo “{scale}” sang “{value}” phải có đúng {levels} mức",
    "quick_shape": "đánh giá nhanh bằng mặt cười hỏi 1 hoặc {most} câu, không hơn (mục quick: danh sách mã câu hỏi)",
    "quick_unknown": "đánh giá nhanh (quick) nêu câu “{value}” không có trong phiếu (hoặc nằm trong câu "
    "“đánh giá từng đơn vị”)",
    "quick_not_faces": "câu hỏi đánh giá nhanh phải là câu thang đo đúng {levels} mức (năm mặt cười)",
    "quick_conditional": "câu hỏi đánh giá nhanh được hỏi đầu tiên nên không thể có điều kiện hiển thị (show_if)",
    "quick_repeated": "mỗi câu chỉ được nêu một lần trong đánh giá nhanh (quick)",
    "bad_criterion": "mã tiêu chí “{value}” không hợp lệ (dạng số cách nhau bởi dấu chấm, ví dụ 8.1.3)",
}


@dataclass(frozen=True)
class DefinitionProblem:
    """One problem in a questionnaire file, located as precisely as the loader can."""

    code: str
    file: str
    line: int | None = None
    question: str | None = None
    params: dict = field(default_factory=dict)

    @property
    def message(self) -> str:
        return MESSAGES[self.code].format(**self.params)

    def __str__(self) -> str:
        where = [self.file]
        if self.line is not None:
            where.append(f"dòng {self.line}")
        if self.question:
            where.append(f"câu “{self.question}”")
        return f"{', '.join(where)}: {self.message}"


class DefinitionError(ValueError):
    """Raised when a questionnaire file is invalid; carries every problem found, not just the first."""

    def __init__(self, problems: list[DefinitionProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
