"""The layers stay as they are (issue 16): the pure packages import no web, database or app code;
service modules import no routes, no forms and no request-handling Flask; models import no
routes. A new import across a line fails here, with the file and the import named."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PURE = ("questionnaires", "sampling")
#: what a pure package may not import (top-level module names)
NOT_IN_PURE = {"surveyapp", "flask", "flask_wtf", "wtforms", "sqlalchemy", "werkzeug"}
#: modules that hold the rules of the product, called by routes and commands alike
SERVICES = sorted(
    {*ROOT.glob("surveyapp/*/services.py"), ROOT / "surveyapp/collect/fast.py", ROOT / "surveyapp/collect/rows.py",
     ROOT / "surveyapp/tree.py", ROOT / "surveyapp/anonymity.py", ROOT / "surveyapp/audit.py"}
)  # fmt: skip
#: the Flask names a service may use today: the app's settings, and whether a request is on (for
#: the audit's user); anything else (request, abort, session, render_template …) belongs to routes
FLASK_ALLOWED = {"current_app", "has_request_context"}


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of every import in ``path``, relative ones resolved to dotted names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            out.append((module, [alias.name for alias in node.names]))
    return out


def test_pure_packages_import_no_web_database_or_app_code():
    found = []
    for package in PURE:
        for path in (ROOT / package).rglob("*.py"):
            for module, _names in _imports(path):
                if module.split(".")[0] in NOT_IN_PURE:
                    found.append(f"{path.relative_to(ROOT)}: {module}")
    assert not found, found


def _service_problems(paths) -> list[str]:
    found = []
    for path in paths:
        for module, names in _imports(path):
            last = module.rsplit(".", 1)[-1]
            if last in ("routes", "forms") or module.startswith(("wtforms", "flask_wtf")):
                found.append(f"{path.relative_to(ROOT)}: {module}")
            if module == "flask" and set(names) - FLASK_ALLOWED:
                found.append(f"{path.relative_to(ROOT)}: flask {sorted(set(names) - FLASK_ALLOWED)}")
            if module.endswith("models") and "routes" in names:
                found.append(f"{path.relative_to(ROOT)}: {module}")
    return found


def test_services_import_no_routes_forms_or_request_handling():
    found = _service_problems(SERVICES)
    assert not found, found
    assert len(SERVICES) > 10


def test_models_import_no_routes():
    found = [module for module, _ in _imports(ROOT / "surveyapp/models.py") if module.endswith(("routes", "forms"))]
    assert not found, found


def test_the_check_sees_a_bad_import():
    """The check itself: a service that imports a route module and Flask's request is caught."""
    bad = ROOT / "surveyapp" / "collect" / "_layers_probe.py"
    bad.write_text("from .routes import answer\nfrom flask import current_app, request\n", encoding="utf-8")
    try:
        assert [m for m, _ in _imports(bad)] == ["surveyapp.collect.routes", "flask"]
        assert _service_problems([bad]) == ["surveyapp/collect/_layers_probe.py: surveyapp.collect.routes",
                                            "surveyapp/collect/_layers_probe.py: flask ['request']"]  # fmt: skip
    finally:
        bad.unlink()
