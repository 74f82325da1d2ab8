"""Home Affairs sets up its own campaign: the unit tree, campaigns, groups, opening and closing."""

from flask import Blueprint

bp = Blueprint("setup", __name__, template_folder="templates")

from . import routes  # noqa: E402,F401  (routes attach themselves to bp)
