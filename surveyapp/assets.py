"""Static files fetched once (issue 17, part 3): each is linked under a name carrying a hash of
its content (``/a/form-3f2c9a1b0d4e.css``) and served with ``Cache-Control: public,
max-age=31536000, immutable``, so a phone that has it never asks again, and a changed file is a
new name. ``/static/…`` still serves the same files, revalidated. A tiny icon is inlined in every
page's head (no request), and ``/favicon.ico`` answers the browsers that ask for it anyway."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from flask import Flask, abort, current_app, send_from_directory

YEAR = 31_536_000
NAME = re.compile(r"^(?P<stem>[a-z0-9_.]+)-(?P<digest>[0-9a-f]{12})\.(?P<ext>css|js)$")
#: the product's mark: a red square with a white tick, as a data: address (no request)
ICON_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#9b1c1c"/>'
    '<path d="M4 8.5l2.5 2.5L12 5.5" fill="none" stroke="#fff" stroke-width="2"/></svg>'
)
ICON_DATA = "data:image/svg+xml," + ICON_SVG.replace("<", "%3C").replace(">", "%3E").replace("#", "%23").replace(
    '"', "'"
)

_digests: dict[tuple[str, float], str] = {}


def _digest(path: Path) -> str:
    """The first 12 hex digits of the file's sha256, computed once per version of the file."""
    key = (str(path), path.stat().st_mtime)
    found = _digests.get(key)
    if found is None:
        found = _digests[key] = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return found


def asset_url(filename: str) -> str:
    """The address of a static file under its content hash (for templates: ``asset('form.css')``)."""
    stem, _, ext = filename.rpartition(".")
    return f"/a/{stem}-{_digest(Path(current_app.static_folder) / filename)}.{ext}"


def serve_asset(name: str):
    match = NAME.match(name)
    if match is None:
        abort(404)
    filename = f"{match['stem']}.{match['ext']}"
    path = Path(current_app.static_folder) / filename
    if not path.is_file() or _digest(path) != match["digest"]:
        abort(404)  # an old name: the page that linked it is older than the file
    response = send_from_directory(current_app.static_folder, filename, max_age=YEAR)
    response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    return response


def favicon():
    response = current_app.response_class(ICON_SVG, mimetype="image/svg+xml")
    response.headers["Cache-Control"] = f"public, max-age={YEAR}"
    return response


def init_app(app: Flask) -> None:
    app.add_url_rule("/a/<name>", "asset", serve_asset)
    app.add_url_rule("/favicon.ico", "favicon", favicon)
    app.jinja_env.globals.update(asset=asset_url, icon_data=ICON_DATA)
