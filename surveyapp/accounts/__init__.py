"""Staff accounts: administrators create and change them; every change is audited."""

from flask import Blueprint

bp = Blueprint("accounts", __name__, template_folder="templates")

from . import routes  # noqa: E402,F401  (routes attach themselves to bp)
