"""gunicorn settings for production: ``gunicorn -c gunicorn.conf.py wsgi:app`` (see README, Production)."""

import json
import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
# one worker per core and one more: on 2 cores shared with PostgreSQL, 2 or 3 workers had the lowest
# p99 and CPU per submission, 4 and 5 spent more switching between processes (bench/README.md,
# 2026-11-22: p99 80 / 102 / 176 / 163 ms for 2 / 3 / 4 / 5 workers); requests are short and the
# proxy buffers slow phones
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
worker_class = "gthread"
# one thread per worker measured best on 2 cores (bench/README.md: the GIL and five workers × four
# threads cost more than they hid); raise it where the database is farther away
threads = int(os.environ.get("THREADS", 1))
# every worker gets its own listening socket and the kernel spreads connections across them;
# without it one worker took most of the keep-alive connections and the others sat idle
reuse_port = True
timeout = 30
graceful_timeout = 20
keepalive = 5
# workers are replaced now and then (a leak would stay bounded); 0 turns it off (bench/load.py,
# whose CPU accounting needs the same processes from start to end)
max_requests = int(os.environ.get("MAX_REQUESTS", 5000))
max_requests_jitter = max_requests // 10
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = None if os.environ.get("ACCESS_LOG") == "0" else "-"
errorlog = "-"
# one JSON object per request; the path is redacted of personal codes by the app's log filter
access_log_format = json.dumps(
    {"time": "%(t)s", "method": "%(m)s", "path": "%(U)s", "status": "%(s)s", "bytes": "%(B)s", "ms": "%(M)s"}
)


def post_worker_init(worker):
    """Once the app is loaded: its objects leave the garbage collector's view (gc.freeze), and
    young-generation collections run every 20,000 allocations instead of 700. A submission
    allocates thousands of short-lived objects (form fields, rows); measured on 2 cores this cut
    gunicorn's CPU per submission by about 15 % (bench/README.md)."""
    import gc

    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
