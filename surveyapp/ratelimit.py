"""Rate limits on the public doors, per phone and per address.

Counted with `limits` (the library under flask-limiter) in ``RATELIMIT_STORAGE_URI``: Redis in
production, shared by every worker and server; memory in development and tests. flask-limiter
itself cost 1.3 ms of CPU per submission (its hooks run on every request and read the request
through many proxies); two direct fixed-window hits cost a fraction of that (bench/README.md).

If the counter store cannot be reached, answers are let through and the failure is logged: a
citizen's answer matters more than the limit.

A submission counts two limits (its phone's, its address's). limits sends one command per
counter; against Redis :func:`allow_all` sends both of limits' own increments (its
``incr_expire`` script, on the keys it would use) in one pipelined round trip: ≈ 5 % of a
worker's CPU per submission (bench/README.md). Tested against a real Redis (tests/test_abuse.py).
"""

from __future__ import annotations

import logging
from functools import lru_cache

from flask import Flask, current_app
from limits import RateLimitItem, parse
from limits.storage import RedisStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"])
    app.extensions["surveyapp.ratelimit"] = FixedWindowRateLimiter(storage)


@lru_cache(maxsize=32)
def _limit(text: str) -> RateLimitItem:
    return parse(text)


def allow_all(*hits: tuple[str, str, str]) -> bool:
    """Count one request under each ``(scope, key, limit)``, e.g. ``("device", hash, "10 per hour")``;
    False if any of the limits is spent.
    Every counter is counted, spent or not (a phone refused still counts against its address)."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return True
    limiter: FixedWindowRateLimiter = current_app.extensions["surveyapp.ratelimit"]
    try:
        items = [(_limit(limit), item_key) for *item_key, limit in hits]
        if isinstance(limiter.storage, RedisStorage):
            counts = _incr_together(limiter.storage, [(i.key_for(*k), i.get_expiry()) for i, k in items])
            return all(count <= item.amount for count, (item, _) in zip(counts, items, strict=True))
        return all([limiter.hit(item, *item_key) for item, item_key in items])
    except Exception:  # the counter store is down: let the answer in rather than lose it
        log.exception("rate-limit store unreachable; request allowed")
        return True


def _incr_together(storage: RedisStorage, keys: list[tuple[str, int]]) -> list[int]:
    """What ``storage.incr(key, expiry)`` does for each key, in one pipelined round trip."""
    from redis.exceptions import NoScriptError  # redis is installed with the production extra only

    script = storage.lua_incr_expire
    pipe = storage.get_connection().pipeline(transaction=False)
    for key, expiry in keys:
        pipe.evalsha(script.sha, 1, storage.prefixed_key(key), expiry, 1)
    try:
        return [int(count) for count in pipe.execute()]
    except NoScriptError:  # Redis has not seen the script since it started: every call failed alike
        return [storage.incr(key, expiry) for key, expiry in keys]  # limits loads it, then counts
