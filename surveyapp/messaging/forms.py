"""The compose form, parsed and checked by WTForms (a bad post is a Vietnamese message)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import Length

from ..messages import VietnameseTranslations
from ..models import SendChannel, SendKind
from ..monitor.forms import IdsField
from .services import CHANNEL_NAMES, KIND_NAMES

#: people ticked at once, at most (a province's delegates and leaders are a few thousand)
PEOPLE_MAX = 20_000


class ComposeForm(FlaskForm):
    class Meta:
        csrf = False  # CSRFProtect checks every post of the app

        def get_translations(self, form):
            return VietnameseTranslations()

    channel = SelectField(choices=[SelectChoice(c.value, CHANNEL_NAMES[c]) for c in SendChannel], validate_choice=True)
    kind = SelectField(choices=[SelectChoice(k.value, KIND_NAMES[k]) for k in SendKind], validate_choice=True)
    subject = StringField(validators=[Length(max=300, message="Tiêu đề dài tối đa 300 ký tự.")])
    body = TextAreaField(validators=[Length(max=5000, message="Nội dung dài tối đa 5.000 ký tự.")])
    people = IdsField(what="người", most=PEOPLE_MAX)
    #: whose message the preview shows
    preview = StringField()
    intent = SelectField(
        choices=[SelectChoice("preview", "Xem trước"), SelectChoice("send", "Gửi")], validate_choice=True
    )

    def errors_list(self) -> list[str]:
        found = []
        for field in (self.channel, self.kind, self.subject, self.body, self.people, self.intent):
            found += [e for e in field.errors if e not in found]
        return found
