"""Planning the sample: quotas from a plan definition, the plan summary, draws from frames."""

from flask import Blueprint

bp = Blueprint("planning", __name__, template_folder="templates")

from . import routes  # noqa: E402,F401  (routes attach themselves to bp)
