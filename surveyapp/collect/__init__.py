"""Collecting answers: the public mobile form behind each QR code."""

from flask import Blueprint

bp = Blueprint("collect", __name__, template_folder="templates")


@bp.record_once
def _template_helpers(state) -> None:
    from .forms import condition_answers, condition_field, condition_text, field_name

    state.app.jinja_env.globals.update(
        field_name=field_name, condition_field=condition_field, condition_text=condition_text,
        condition_answers=condition_answers,
    )  # fmt: skip


from . import kiosk, routes  # noqa: E402,F401  (routes attach themselves to bp)
