"""Named respondents and single-use codes: invitation lists, personal links, QR slips."""

from flask import Blueprint

bp = Blueprint("invitations", __name__, template_folder="templates")

#: endpoints that take file uploads bigger than a citizen's form (see web.reject_malformed_body)
UPLOAD_ENDPOINTS = {"invitations.import_list", "setup.units_preview", "setup.units_apply", "planning.draws"}

from . import routes  # noqa: E402,F401  (routes attach themselves to bp)
