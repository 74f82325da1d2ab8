"""Sending invitations and reminders from the product (e-mail, SMS, Zalo), by a worker, with
where every message stands."""

from flask import Blueprint

bp = Blueprint("messaging", __name__, template_folder="templates")

from . import routes  # noqa: E402,F401  (routes attach themselves to bp)
