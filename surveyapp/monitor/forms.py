"""The quality review's forms, parsed and checked by WTForms (a bad post is a Vietnamese message,
never a server error)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, Field, SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, Length, StopValidation

from ..messages import VietnameseTranslations
from .services import DECISIONS

NOTE_MAX = 500
#: responses decided at once, at most (the page lists 500)
IDS_MAX = 500


class IdsField(Field):
    """Numbers of rows ticked in a list (responses, people): whole numbers, at most ``most``."""

    def __init__(self, label=None, validators=None, *, what: str = "phiếu", most: int = IDS_MAX, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.what, self.most = what, most

    def process_formdata(self, valuelist):
        self.data = []
        if len(valuelist) > self.most:
            raise ValueError(f"Chọn tối đa {self.most} {self.what} mỗi lần.")
        for value in valuelist:
            if not (value.isascii() and value.isdigit()) or len(value) > 18:
                raise ValueError(f"Danh sách {self.what} đã chọn không hợp lệ; vui lòng tải lại trang.")
            self.data.append(int(value))

    def pre_validate(self, form):
        if not self.process_errors and not self.data:
            raise StopValidation(f"Vui lòng chọn ít nhất một {self.what}.")

    def _value(self):
        return ""


class ReviewForm(FlaskForm):
    class Meta:
        csrf = False  # CSRFProtect checks every post of the app

        def get_translations(self, form):
            return VietnameseTranslations()

    ids = IdsField()
    decision = SelectField(choices=[SelectChoice(k, v) for k, v in DECISIONS.items()], validate_choice=True)
    note = StringField(validators=[InputRequired("Vui lòng ghi lý do."),
                                   Length(max=NOTE_MAX, message=f"Lý do dài tối đa {NOTE_MAX} ký tự.")])  # fmt: skip

    def first_error(self) -> str:
        for field in (self.ids, self.decision, self.note):
            if field.errors:
                message = field.errors[0]
                return "Vui lòng chọn giữ, loại hoặc khôi phục." if field is self.decision else message
        return ""


#: the emblem stays small: the citizen's first load (page, style, script, emblem) is under 30 KB
EMBLEM_MAX = 12 * 1024
EMBLEM_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg", b"RIFF": "image/webp"}


def emblem_type(data: bytes) -> str | None:
    """The image type of an uploaded emblem by its first bytes (PNG, JPEG, WebP); None for anything else."""
    for magic, mime in EMBLEM_TYPES.items():
        if data.startswith(magic) and (mime != "image/webp" or data[8:12] == b"WEBP"):
            return mime
    return None


class IssuerForm(FlaskForm):
    """Who issues the survey, as the citizen form names it, and an optional emblem."""

    class Meta:
        csrf = False  # CSRFProtect checks every post of the app

        def get_translations(self, form):
            return VietnameseTranslations()

    issuer = StringField(validators=[Length(max=300, message="Tên cơ quan dài tối đa 300 ký tự.")])
    emblem = FileField()
    remove_emblem = BooleanField()

    def emblem_bytes(self) -> tuple[bytes, str] | None:
        """The uploaded emblem and its type; None when none was chosen. ValueError (Vietnamese) when unusable."""
        upload = self.emblem.data
        if upload is None or not getattr(upload, "filename", ""):
            return None
        data = upload.read(EMBLEM_MAX + 1)
        if len(data) > EMBLEM_MAX:
            raise ValueError(f"Hình biểu trưng phải nhỏ hơn {EMBLEM_MAX // 1024} KB để trang mở nhanh trên điện thoại.")
        mime = emblem_type(data)
        if mime is None:
            raise ValueError("Hình biểu trưng phải là tệp PNG, JPEG hoặc WebP.")
        return data, mime
