"""Benchmark: the quota dashboard for the whole country (issue 5: < 300 ms of server time).

3,321 communes × 5 groups (16,605 quota cells) and 200,000 responses in a throwaway PostgreSQL
database (bench/national.py). Times, as medians, through the real app (login, request, render):
  page      GET /admin/c/<campaign>/dashboard (sorted by lag; the 300 most lagging cells shown,
            totals over all 16,605)
  filtered  the same filtered to one province (about 490 cells, all shown)
  ceiling   the dashboard's SQL query alone on the same connection pool (the floor of any page)
and prints page / ceiling.

    .venv/bin/python bench/dashboard_national.py [--responses 200000] [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from werkzeug.security import generate_password_hash

sys.path.insert(0, str(Path(__file__).parent))

from national import build, create_database, drop_database  # noqa: E402

from surveyapp import create_app  # noqa: E402
from surveyapp import migrate as migrations  # noqa: E402
from surveyapp.campaigns.services import campaign_by_key, cells  # noqa: E402
from surveyapp.db import db, session  # noqa: E402
from surveyapp.models import Role, User  # noqa: E402

TARGET_MS = 300.0


def timed(fn, runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(1000 * (time.perf_counter() - start))
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--responses", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    url = create_database()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    try:
        with app.app_context():
            migrations.upgrade(db.engine)
            build(args.responses, extra_groups=4)
            s = session()
            s.add(User(username="bench", password_hash=generate_password_hash("bench-password"), role=Role.ADMIN))
            s.commit()
            campaign = campaign_by_key(s, "quoc-gia")
            total_cells = len(cells(s, campaign))
            ceiling = timed(lambda: cells(session(), campaign), args.runs)
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        client.post("/login", data={"csrf_token": token, "username": "bench", "password": "bench-password"})

        def get(path: str) -> None:
            response = client.get(path)
            assert response.status_code == 200, response.status_code

        get("/admin/c/quoc-gia/dashboard")  # warm the caches once
        full = timed(lambda: get("/admin/c/quoc-gia/dashboard"), args.runs)
        province = timed(lambda: get("/admin/c/quoc-gia/dashboard?parent=T07"), args.runs)
        print(f"cells: {total_cells} (3,321 communes × 5 groups); responses: {args.responses}; runs: {args.runs}")
        print(f"dashboard page, whole country: median {full:.0f} ms (target < {TARGET_MS:.0f} ms)")
        print(f"dashboard page, one province:  median {province:.0f} ms")
        print(f"ceiling (the SQL query alone): median {ceiling:.0f} ms; ratio page / ceiling = {full / ceiling:.2f}")
        print("RESULT:", "PASS" if full < TARGET_MS and province < TARGET_MS else "FAIL")
        db.dispose(app)
    finally:
        if not args.keep:
            drop_database()


if __name__ == "__main__":
    main()
