"""Paper: printable A4 forms with answer codes, and the clerks' keyboard-only entry screen."""

from flask import Blueprint

bp = Blueprint("paper", __name__, template_folder="templates")

from . import routes  # noqa: E402,F401  (routes attach themselves to bp)
