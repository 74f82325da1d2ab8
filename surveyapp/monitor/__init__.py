"""Watching a campaign: the live quota dashboard, data quality review, settings and the audit log."""

from flask import Blueprint

bp = Blueprint("monitor", __name__, template_folder="templates")

from . import routes  # noqa: E402,F401  (routes attach themselves to bp)
