"""Rate limits on the public doors, per phone and per address.

Counted with `limits` (the library under flask-limiter) in ``RATELIMIT_STORAGE_URI``: Redis in
production, shared by every worker and server; memory in development and tests. flask-limiter
itself cost 1.3 ms of CPU per submission (its hooks run on every request and read the request
through many proxies); two direct fixed-window hits cost a fraction of that (bench/README.md).

If the counter store cannot be reached, answers are let through and the failure is logged: a
citizen's answer matters more than the limit.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from flask import Flask, current_app
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"])
    app.extensions["surveyapp.ratelimit"] = FixedWindowRateLimiter(storage)


@lru_cache(maxsize=32)
def _limit(text: str) -> RateLimitItem:
    return parse(text)


def allow(scope: str, key: str, limit: str) -> bool:
    """Count one request for ``key`` in ``scope``; False once ``limit`` ("10 per hour") is spent."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return True
    try:
        return current_app.extensions["surveyapp.ratelimit"].hit(_limit(limit), scope, key)
    except Exception:  # the counter store is down: let the answer in rather than lose it
        log.exception("rate-limit store unreachable; request allowed")
        return True
