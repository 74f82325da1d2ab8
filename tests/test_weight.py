"""The citizen form's first load (HTML + CSS + JS, as sent compressed) stays under 30 KB."""

from __future__ import annotations

import gzip
import re

from sqlalchemy import select

from surveyapp.models import CollectionPoint

LIMIT = 30 * 1024


def test_first_load_is_under_30_kb_compressed(client, demo, dbs):
    code = dbs.scalars(select(CollectionPoint.code)).first()
    headers = {"Accept-Encoding": "gzip"}
    page = client.get(f"/f/{code}", headers=headers)
    assert page.headers["Content-Encoding"] == "gzip"
    html = gzip.decompress(page.data).decode("utf-8")
    assets = re.findall(r'(?:href|src)="(/(?:static|a)/[^"]+)"', html)
    assert sorted(a.rsplit(".", 1)[1] for a in assets) == ["css", "js"]
    linked = [u for u in re.findall(r'(?:href|src)="([^"]+)"', html) if not u.startswith("data:")]  # the icon
    assert "//" not in "".join(linked).replace("http://testserver", "")

    sizes = {f"/f/{code}": len(page.data)}
    for asset in assets:
        response = client.get(asset, headers=headers)
        assert response.status_code == 200 and response.headers["Content-Encoding"] == "gzip"
        sizes[asset] = len(response.data)
    total = sum(sizes.values())
    print(f"first load, compressed: {total} bytes {sizes}")
    assert total < LIMIT, sizes


def test_nothing_is_loaded_from_elsewhere(client, demo, dbs):
    code = dbs.scalars(select(CollectionPoint.code)).first()
    html = client.get(f"/f/{code}").get_data(as_text=True)
    assert not re.search(r'(?:href|src)="(?:https?:)?//', html)
    assert "default-src 'self'" in client.get(f"/f/{code}").headers["Content-Security-Policy"]
