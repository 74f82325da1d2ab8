"""Named respondents and single-use codes: invitation lists, personal links, QR slips."""

from flask import Blueprint

bp = Blueprint("invitations", __name__, template_folder="templates")

from . import routes  # noqa: E402,F401  (routes attach themselves to bp)
