"""Work that must not hold up a web request (sending invitations, later the heavy exports): a
job queue on RQ over Redis, with ``surveyapp worker`` taking the jobs.

RQ because it is small, kept, and stores nothing but Redis keys: the product already needs Redis
in production for its rate limits, and the state that matters (which message went, which did
not) lives in the database, so a job is only "go and work on send 12"; running it twice, or
after a worker was killed, does no harm (surveyapp/messaging/work.py). The worker is RQ's
``SimpleWorker``: jobs run in the worker's own process, so the app and its connection pool are
made once, not forked per job.

Without ``REDIS_URL`` (a laptop) a job runs in a thread of the process that queued it, and
``surveyapp worker --burst`` finishes anything a stopped process left.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
import uuid
from datetime import timedelta

from flask import Flask, current_app

log = logging.getLogger(__name__)

#: the jobs there are, by name: module and function, each taking plain arguments
JOBS = {
    "send": "surveyapp.messaging.work:run_send",
    "reminders": "surveyapp.messaging.work:run_reminders",
    "tick": "surveyapp.messaging.work:tick",
    "export": "surveyapp.results.exports:run_export",
}
#: how often the periodic work (reminders due) runs while a worker is up
TICK_SECONDS = 600
#: the app a worker made for its jobs (set by ``surveyapp worker``)
_worker_app: Flask | None = None


def _target(name: str):
    module, function = JOBS[name].split(":")
    return getattr(importlib.import_module(module), function)


def redis_connection(url: str):
    import redis

    return redis.Redis.from_url(url)


def queue(config) -> object:
    """The app's RQ queue (``REDIS_URL``; its name ``QUEUE_NAME``, default "surveyapp")."""
    from rq import Queue

    return Queue(config["QUEUE_NAME"], connection=redis_connection(config["REDIS_URL"]))


def enqueue(name: str, *args, delay: float = 0.0) -> str:
    """Queue job ``name``; returns its id. The caller has committed what the job reads."""
    app = current_app._get_current_object()
    url = app.config["REDIS_URL"]
    job_id = f"{name}-{'-'.join(map(str, args))}-{uuid.uuid4().hex[:8]}"
    if url:
        options = {"job_id": job_id, "job_timeout": 6 * 3600, "result_ttl": 3600, "failure_ttl": 7 * 86400}
        q = queue(app.config)
        if delay > 0:
            q.enqueue_in(timedelta(seconds=delay), run, name, *args, **options)
        else:
            q.enqueue(run, name, *args, **options)
    else:
        threading.Thread(target=_in_thread, args=(app, name, args, delay), name=job_id, daemon=True).start()
    return job_id


def _in_thread(app: Flask, name: str, args: tuple, delay: float) -> None:
    if delay > 0:
        time.sleep(delay)
    try:
        with app.app_context():
            _target(name)(*args)
    except Exception:  # a thread has nobody to raise to: log it; the work's state is in the database
        log.exception("job %s%r failed", name, args)


def run(name: str, *args) -> None:
    """What a worker executes: the job in a fresh app context (its own database session)."""
    app = _worker_app
    if app is None:  # a worker started with plain ``rq worker``
        from . import create_app

        app = create_app()
        set_worker_app(app)
    with app.app_context():
        _target(name)(*args)


def ensure_tick(config) -> bool:
    """Keep one periodic ``tick`` scheduled, however many workers start; True when one was added."""
    from rq.registry import ScheduledJobRegistry

    q = queue(config)
    waiting = [*ScheduledJobRegistry(queue=q).get_job_ids(), *q.get_job_ids()]
    if any(job_id.startswith("tick-") for job_id in waiting):
        return False
    q.enqueue_in(timedelta(seconds=TICK_SECONDS), run, "tick", job_id=f"tick-{uuid.uuid4().hex[:8]}",
                 job_timeout=3600, result_ttl=600, failure_ttl=86400)  # fmt: skip
    return True


def set_worker_app(app: Flask) -> None:
    global _worker_app
    _worker_app = app
