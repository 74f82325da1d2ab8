"""Load benchmark: concurrent citizens load the form and submit it, against gunicorn + PostgreSQL.

Each wrk client repeats: GET the form (device cookie, CSRF token, submission id), POST the
answers. Reported: submissions per second, p50/p99 latency of all requests, and, in the same run,
the ceiling: the same stack answering a POST with one INSERT. Targets (issue 7, 2 cores):
≥ 400 submissions/s, p99 < 150 ms at 64 clients, ≥ half of the ceiling.

All clients come from 127.0.0.1, so the per-address and per-device rate limits are raised for the
run (they are tested on their own in tests/test_abuse.py); their counters still go to Redis.

    .venv/bin/python bench/load.py [--connections 64] [--seconds 20] [--runs 3] [--workers 5] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from national import create_database, drop_database  # noqa: E402  (bench/ is on the path)
from sqlalchemy import create_engine, text  # noqa: E402

from surveyapp import create_app  # noqa: E402
from surveyapp import migrate as migrations  # noqa: E402
from surveyapp.db import db, session  # noqa: E402
from surveyapp.demo import load_demo  # noqa: E402
from tests.helpers import valid_answers  # noqa: E402

DB_NAME = "surveyapp_bench_load"
BIN = Path(sys.executable).parent
SECRET = "bench-secret-key"  # noqa: S105 - a throwaway database


def prepare(url: str) -> str:
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET})
    with app.app_context():
        migrations.upgrade(db.engine)
        s = session()
        load_demo(s)
        s.execute(text("UPDATE quota SET target = 10000000"))
        s.execute(text("CREATE TABLE bench_ceiling (id bigserial PRIMARY KEY, at timestamptz)"))
        s.commit()
        code = s.execute(text("SELECT code FROM collection_point ORDER BY id LIMIT 1")).scalar()
    db.dispose(app)
    return code


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


#: the app server under test: gunicorn (production's), or granian (--server granian, to compare)
SERVER = "gunicorn"


def serve(module: str, port: int, workers: int, url: str, threads: int = 1) -> subprocess.Popen:
    # gunicorn binds with SO_REUSEPORT: a forgotten server on the same port would silently take a
    # share of the connections (and its CPU would be counted); refuse to measure alongside one
    if not port_is_free(port):
        raise RuntimeError(f"something already listens on 127.0.0.1:{port}; stop it first")
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET, "BIND": f"127.0.0.1:{port}",
           "WEB_CONCURRENCY": str(workers), "THREADS": str(threads), "MAX_REQUESTS": "0", "ACCESS_LOG": "0", "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
           "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15", "RATELIMIT_PER_ADDRESS": "10000000 per hour",
           "RATELIMIT_PER_DEVICE": "10000000 per hour", "DATABASE_POOL_SIZE": "4"}  # fmt: skip
    command = [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), module]
    if SERVER == "granian":
        command = [str(BIN / "granian"), "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
                   "--workers", str(workers), "--blocking-threads", str(threads), "--no-ws", module]  # fmt: skip
    process = subprocess.Popen(
        command,
        cwd=ROOT / ("bench" if module.startswith("ceiling") else "."), env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    for _ in range(100):
        try:
            urllib.request.urlopen(
                f"http://127.0.0.1:{port}/healthz" if module == "wsgi:app" else f"http://127.0.0.1:{port}/", timeout=1
            )
            return process
        except urllib.error.HTTPError:
            return process  # answering (404 on the ceiling app's root)
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("gunicorn did not start: " + process.stderr.read().decode()[-2000:])


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds() -> dict[int, tuple[str, float]]:
    """CPU time used so far by each process of the stack (from /proc), by pid: (part, seconds)."""
    used: dict[int, tuple[str, float]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        # "gunicorn": the app server's processes, whichever server runs (granian with --server granian)
        role = "gunicorn" if b"gunicorn" in cmdline or b"granian" in cmdline else "postgres" if name == "postgres" else (
            "redis" if name.startswith("redis") else None)  # fmt: skip
        if role:
            used[int(stat.parent.name)] = (role, (int(fields[11]) + int(fields[12])) / TICK)
    return used


def cpu_used(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]) -> dict[str, float]:
    """CPU seconds per part between two readings (a process that ended in between is not counted)."""
    used: dict[str, float] = {}
    for pid, (role, seconds) in after.items():
        used[role] = used.get(role, 0.0) + seconds - before.get(pid, (role, 0.0))[1]
    return used


def wrk(script: str, url: str, connections: int, seconds: int, env: dict | None = None) -> dict[str, float]:
    """Run wrk; returns its RESULT line's figures and the CPU seconds each part of the stack used."""
    before, wrk_before = cpu_seconds(), resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(ROOT / "bench" / script), url],
        capture_output=True, text=True, env={**os.environ, **(env or {})},
    )  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"wrk failed: {done.stdout[-1500:]} {done.stderr[-1500:]}")
    after, wrk_after = cpu_seconds(), resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT"))
    result = {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", line)}
    for role, seconds in cpu_used(before, after).items():
        result[f"cpu_{role}"] = seconds
    result["cpu_wrk"] = (wrk_after.ru_utime + wrk_after.ru_stime) - (wrk_before.ru_utime + wrk_before.ru_stime)
    return result


def settle(engine) -> None:
    """The same starting state for every measured window: the ceiling's rows gone (else their
    vacuum runs inside the next window), then a checkpoint (else one lands in some windows only,
    with the full-page writes after it). No ANALYZE: statistics taken while ``response`` is
    empty make the prepared statement's generic plan scan the whole table for the burst counts
    until autovacuum analyzes it again (measured: 4.7 ms of PostgreSQL CPU per submission
    instead of 0.6)."""
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE bench_ceiling"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("CHECKPOINT"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() + 1)  # gunicorn.conf.py's default
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--server", choices=("gunicorn", "granian"), default="gunicorn")
    args = parser.parse_args()
    global SERVER
    SERVER = args.server
    url = create_database(DB_NAME)
    code = prepare(url)
    answers = urlencode(valid_answers(), doseq=True)
    engine = create_engine(url)
    subs, p50s, p99s, ceilings, ceiling_p99s, stored_ok = [], [], [], [], [], True
    cpu: dict[str, list[float]] = {}  # CPU ms per submission (per request for the ceiling), by part
    try:
        for _ in range(args.runs):
            app_server = serve("wsgi:app", 8701, args.workers, url, args.threads)
            try:
                with engine.connect() as conn:
                    before = conn.execute(text("SELECT count(*) FROM response")).scalar()
                settle(engine)
                r = wrk("submit.lua", "http://127.0.0.1:8701", args.connections, args.seconds,
                        {"FORM_PATH": f"/f/{code}", "ANSWERS": answers})  # fmt: skip
                with engine.connect() as conn:
                    stored = conn.execute(text("SELECT count(*) FROM response")).scalar() - before
                # requests still in flight when wrk stops counting may be stored without being counted
                stored_ok &= stored >= r["posts_ok"] and r["posts_failed"] == 0
                print(f"run: {r['posts_ok']:.0f} submissions answered 200, {r['posts_failed']:.0f} failed, {stored} stored",
                      flush=True)  # fmt: skip
                subs.append(r["posts_ok"] / r["seconds"])
                p50s.append(r["p50_ms"])
                p99s.append(r["p99_ms"])
                for role in ("gunicorn", "postgres", "redis", "wrk"):
                    cpu.setdefault(role, []).append(1000 * r.get(f"cpu_{role}", 0.0) / max(r["posts_ok"], 1))
            finally:
                app_server.terminate()
                app_server.wait(10)
            ceiling_server = serve("ceiling_app:app", 8702, args.workers, url, args.threads)
            try:
                settle(engine)
                c = wrk("insert.lua", "http://127.0.0.1:8702/insert", args.connections, args.seconds)
                ceilings.append(c["requests"] / c["seconds"])
                ceiling_p99s.append(c["p99_ms"])
                for role in ("gunicorn", "postgres"):
                    cpu.setdefault(f"ceiling {role}", []).append(1000 * c.get(f"cpu_{role}", 0.0) / c["requests"])
            finally:
                ceiling_server.terminate()
                ceiling_server.wait(10)
        # wrk cannot read a compressed page for its tokens, so the submissions above ask for none;
        # a phone asks for gzip or brotli: what that adds to each GET, measured on the form alone
        app_server = serve("wsgi:app", 8701, args.workers, url, args.threads)
        try:
            get_cpu = {}
            for accept in ("", "gzip, deflate, br", "", "gzip, deflate, br"):
                g = wrk(
                    "form_get.lua", f"http://127.0.0.1:8701/f/{code}", args.connections, 5, {"ACCEPT_ENCODING": accept}
                )
                get_cpu.setdefault(accept, []).append(1000 * g.get("cpu_gunicorn", 0.0) / g["requests"])
        finally:
            app_server.terminate()
            app_server.wait(10)
    finally:
        engine.dispose()
        drop_database(DB_NAME)
    sub, ceiling = statistics.median(subs), statistics.median(ceilings)
    p50, p99 = statistics.median(p50s), statistics.median(p99s)
    print(
        f"{args.connections} connections, {args.workers} gunicorn workers × {args.threads} threads, {args.seconds} s × {args.runs} runs"
    )
    print(f"submissions: median {sub:.0f}/s (runs: {', '.join(f'{x:.0f}' for x in subs)}); each = GET form + POST")
    print(f"latency of all requests (GET and POST): p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    print(
        f"ceiling (one INSERT per POST, same stack): median {ceiling:.0f}/s, p99 {statistics.median(ceiling_p99s):.1f} ms"
    )
    print("CPU per submission (GET + POST), ms: " + ", ".join(
        f"{role} {statistics.median(v):.2f}" for role, v in cpu.items() if not role.startswith("ceiling")))  # fmt: skip
    print("CPU per ceiling request, ms: " + ", ".join(
        f"{role.split()[1]} {statistics.median(v):.2f}" for role, v in cpu.items() if role.startswith("ceiling")))  # fmt: skip
    ours = sum(statistics.median(v) for role, v in cpu.items() if role in ("gunicorn", "postgres", "redis"))
    bare = sum(statistics.median(v) for role, v in cpu.items() if role.startswith("ceiling"))
    # the machine's speed drifts; this ratio does not: what one submission costs in bare INSERT requests
    print(f"CPU of one submission / CPU of one ceiling request: {ours / bare:.1f}")
    print(
        f"ratio submissions / ceiling: {sub / ceiling:.2f} (counted per request, GET and POST: {2 * sub / ceiling:.2f})"
    )
    plain, compressed = statistics.median(get_cpu[""]), statistics.median(get_cpu["gzip, deflate, br"])
    ours_gz = ours + compressed - plain
    print(f"a phone's GET (gzip/brotli) costs gunicorn {compressed:.2f} ms instead of {plain:.2f}: at "
          f"{ours_gz:.2f} ms per submission instead of {ours:.2f}, about {sub * ours / ours_gz:.0f} submissions/s")  # fmt: skip
    print(f"no failed submission, every 200 stored: {'yes' if stored_ok else 'NO'}")
    passed = sub >= 400 and p99 < 150 and sub / ceiling >= 0.5 and stored_ok
    print("RESULT:", "PASS" if passed else "FAIL")


if __name__ == "__main__":
    main()
