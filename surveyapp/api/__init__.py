"""A read-only JSON API for other software (the province's scoring software, dashboards)."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")

from . import routes  # noqa: E402,F401  (routes attach themselves to bp)
