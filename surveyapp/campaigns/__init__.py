"""Running a campaign: the staff pages, QR codes and the printable posters."""

from flask import Blueprint

bp = Blueprint("campaigns", __name__, template_folder="templates")

from . import routes  # noqa: E402,F401  (routes attach themselves to bp)
