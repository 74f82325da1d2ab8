"""The quality review's forms, parsed and checked by WTForms (a bad post is a Vietnamese message,
never a server error)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import Field, SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, Length, StopValidation

from ..messages import VietnameseTranslations
from .services import DECISIONS

NOTE_MAX = 500
#: responses decided at once, at most (the page lists 500)
IDS_MAX = 500


class IdsField(Field):
    """Response numbers ticked in the list: whole numbers, at most ``IDS_MAX``."""

    def process_formdata(self, valuelist):
        self.data = []
        if len(valuelist) > IDS_MAX:
            raise ValueError(f"Chọn tối đa {IDS_MAX} phiếu mỗi lần.")
        for value in valuelist:
            if not value.isdigit() or len(value) > 18:
                raise ValueError("Danh sách phiếu đã chọn không hợp lệ; vui lòng tải lại trang.")
            self.data.append(int(value))

    def pre_validate(self, form):
        if not self.process_errors and not self.data:
            raise StopValidation("Vui lòng chọn ít nhất một phiếu.")

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
