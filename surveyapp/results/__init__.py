"""Results for the scorers: points per unit and criterion, statistics, charts and the workbook."""

from flask import Blueprint

bp = Blueprint("results", __name__, template_folder="templates")

from . import routes  # noqa: E402,F401  (routes attach themselves to bp)
