"""The one-tap rating (issue 22, part 2): a questionnaire whose ``quick`` names one or two
five-level scale questions opens, on a counter's poster, slip or tablet, with those questions
alone, each as five large faces. A tap on the last face sends the rating: it is stored as a
response like any other (the same quotas, flags, dossier code and scores), the other questions
left unanswered.

The thank-you page then offers "Góp ý thêm": the whole questionnaire, the rating already filled
in, whose answers are added to the same response, once. What lets the phone (or tablet) do that
is a signed value on the thank-you page, never in an address (access logs keep addresses): the
response's submission id and a keyed hash of the device cookie, valid ``MORE_MINUTES``. Another
phone cannot use it, and two posts racing add the answers once (``Response.more_added`` is the
gate, set by one ``UPDATE … WHERE NOT more_added``). The rating's answers stay as first sent.
"""

from __future__ import annotations

from flask import current_app, render_template, request
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import insert, select, update
from werkzeug.datastructures import MultiDict

from ..models import Answer, Channel, Response
from . import door, quality
from .forms import build_form_class, field_name

#: the form field carrying the signed value of "tell us more"
FIELD = "more"
#: how long after the rating its "tell us more" can be answered
MORE_MINUTES = 30
OPEN, SEND = "more_open", "more_send"


def asks_quick(ctx, questionnaire) -> bool:
    """Counter channels open with the one-tap rating; personal links and paper ask everything."""
    return bool(questionnaire.quick) and ctx.channel in (Channel.COUNTER, Channel.SLIP)


def form_class_of(questionnaire):
    """The rating's form: only the quick questions are validated and stored."""
    return build_form_class(questionnaire.quick_part, {})


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="surveyapp: tell us more")


def _device() -> str:
    cookie = request.cookies.get(door.DEVICE_COOKIE) or ""
    key = quality.hash_key(current_app.config["SECRET_KEY"], "tell us more")
    return quality.keyed_hash(key, "device", cookie)[:24]


def more_token(submission_id: str) -> str:
    """The signed value of the thank-you page's "Góp ý thêm" for this phone."""
    return _serializer().dumps([submission_id, _device()])


def read_more_token(token: str) -> str | None:
    """The submission id ``token`` was made for, if it is recent and this phone's."""
    if not token or len(token) > 400:
        return None
    try:
        submission_id, device = _serializer().loads(token, max_age=MORE_MINUTES * 60)
    except (BadData, TypeError, ValueError):
        return None
    return submission_id if isinstance(submission_id, str) and device == _device() else None


def rated(s, ctx, submission_id: str) -> Response | None:
    """The rating ``submission_id`` stored for this group and unit (told more of or not)."""
    response = s.scalar(select(Response).where(Response.submission_id == submission_id))
    if response is None or response.group_id != ctx.group.id or response.unit_id != ctx.unit.id:
        return None
    return response


def rating_data(s, response: Response, questionnaire) -> MultiDict:
    """The rating's stored answers as form data (the faces as they were tapped)."""
    quick = set(questionnaire.quick)
    rows = s.execute(
        select(Answer.question_id, Answer.value_num).where(Answer.response_id == response.id)
    ).all()  # fmt: skip
    return MultiDict([(field_name(questionnaire.question(qid), None), str(int(num)))
                      for qid, num in rows if qid in quick and num is not None])  # fmt: skip


def merged(form_data: MultiDict, rating: MultiDict, questionnaire) -> MultiDict:
    """What the citizen posted for the rest, with the rating as it was stored (not as re-posted)."""
    quick = {field_name(q, None) for q in questionnaire.quick_questions()}
    out = MultiDict([(k, v) for k in form_data for v in form_data.getlist(k) if k not in quick])
    for k in rating:
        out.add(k, rating[k])
    return out


def add_more(s, response: Response, rows, questionnaire) -> bool:
    """The further answers added to the rating, once; False when they were already (the caller commits)."""
    gate = (
        update(Response.__table__)
        .where(Response.__table__.c.id == response.id, Response.__table__.c.more_added.is_(False))
        .values(more_added=True)
    )
    if s.execute(gate).rowcount != 1:
        s.rollback()
        return False
    quick = set(questionnaire.quick)
    more = [r for r in rows if r.question_id not in quick]
    if more:
        s.execute(
            insert(Answer.__table__),
            [{"response_id": response.id, "question_id": r.question_id, "subject_unit_id": r.subject_unit_id,
              "value_code": r.value_code, "value_num": r.value_num, "value_text": r.value_text} for r in more],
        )  # fmt: skip
    return True


def render(page: dict, form, csrf_token, status: int = 200, **extra):
    """The rating page: the quick questions as faces, the dossier code where the group asks it."""
    errors = getattr(form, "error_count", 0)
    return render_template("collect/quick.html", form=form, errors=errors, csrf_token=csrf_token,
                           faces=FACES, **page, **extra), status  # fmt: skip


#: the five faces, level 1 to 5: the mouth's curve (SVG path); their colours are form.css's .f1 … .f5
FACES = ("M14 35 Q24 26 34 35", "M15 34 Q24 29 33 34", "M15 32 L33 32", "M15 30 Q24 36 33 30", "M13 29 Q24 41 35 29")
