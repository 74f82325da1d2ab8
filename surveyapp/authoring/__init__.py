"""Home Affairs writes its own questionnaires: the library, the builder, publishing versions,
XLSForm in and out, and which version each group answers."""

from flask import Blueprint

bp = Blueprint("authoring", __name__, template_folder="templates")

from . import routes, rules_routes  # noqa: E402,F401  (routes attach themselves to bp)
