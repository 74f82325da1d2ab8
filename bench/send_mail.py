"""Benchmark: send 10,000 invitations by e-mail through the worker (issue 18).

A throwaway PostgreSQL database (``surveyapp_bench_mail``) with the demo campaign and 10,000
invited delegates; a real SMTP server (aiosmtpd) in its own process on loopback; the real worker
(``surveyapp worker --burst``, RQ on the local Redis, database 12) in its own process. Prints:

  queue     the web request that queues the send (10,000 message rows)
  send      messages per second from the first to the last message the server accepted, and the
            worker's CPU per message (user + system)
  ceiling   smtplib alone sending the same messages over one connection to the same server (no
            database, no rendering): the floor of any sender; ratio product / ceiling
  page      the group's send page (what the office watches) timed every 100 ms during the send,
            against the same page with nothing being sent: the page must not wait on the send

    .venv/bin/python bench/send_mail.py [--people 10000] [--profile worker.prof]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import resource
import smtplib
import socket
import statistics
import subprocess
import sys
import threading
import time
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from national import create_database, drop_database  # noqa: E402

from surveyapp import create_app  # noqa: E402
from surveyapp import migrate as migrations  # noqa: E402
from surveyapp.db import db, session  # noqa: E402
from surveyapp.demo import load_demo  # noqa: E402
from surveyapp.invitations.services import Person, add_invitations  # noqa: E402
from surveyapp.models import MessageSend, RespondentGroup, Unit  # noqa: E402

DB_NAME = "surveyapp_bench_mail"
REDIS_URL = "redis://127.0.0.1:6379/12"
SURVEYAPP = Path(sys.executable).parent / "surveyapp"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def smtp_sink(port: int, count, first, last, ready) -> None:
    """An SMTP server that accepts and counts (the time of the first and last message)."""
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            now = time.perf_counter()
            with count.get_lock():
                if count.value == 0:
                    first.value = now
                count.value += 1
                last.value = now
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    while True:
        time.sleep(3600)


def ceiling(port: int, people: int, size: int) -> float:
    """Seconds for smtplib alone to send ``people`` messages of ``size`` bytes on one connection."""
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "a@b.vn", "c@d.vn", "Mời tham gia khảo sát"
    mail.set_content("x" * size)
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for _ in range(people):
            smtp.send_message(mail)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--profile", help="write the worker's cProfile to this file")
    args = parser.parse_args()
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    url = create_database(DB_NAME)
    port = free_port()
    count, first, last = multiprocessing.Value("i", 0), multiprocessing.Value("d", 0.0), multiprocessing.Value("d", 0.0)
    ready = multiprocessing.Event()
    sink = multiprocessing.Process(target=smtp_sink, args=(port, count, first, last, ready), daemon=True)
    sink.start()
    ready.wait(10)
    mail = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_TLS": "none", "MAIL_FROM": "khaosat@noivu.example.vn",
            "REDIS_URL": REDIS_URL, "MESSAGE_RATE_EMAIL": "100000 per second"}  # fmt: skip
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", **mail})
    try:
        with app.app_context():
            migrations.upgrade(db.engine)
            s = session()
            demo = load_demo(s)
            group = s.query(RespondentGroup).filter_by(code="hdnd").one()
            district = s.query(Unit).filter_by(code="HDG-NGG").one()
            add_invitations(s, group, [Person(f"Đại biểu {i:05d}", "Đại biểu HĐND", district, "",
                                              f"db{i:05d}@hdnd.example.vn") for i in range(args.people)])  # fmt: skip
            s.commit()
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        client.post("/login", data={"csrf_token": token, "username": demo.admin_username,
                                    "password": demo.admin_password})  # fmt: skip
        compose = client.get(f"/admin/c/{demo.campaign_key}/g/hdnd/gui").get_data(as_text=True)
        ids = re.findall(r'name="people" value="(\d+)"[^>]*checked', compose)
        token = re.search(r'name="csrf_token" value="([^"]+)"', compose).group(1)
        subject = re.search(r'name="subject" value="([^"]*)"', compose).group(1)
        import html

        body = html.unescape(re.search(r'<textarea[^>]*name="body"[^>]*>(.*?)</textarea>', compose, re.S).group(1))
        form = {"csrf_token": token, "channel": "email", "kind": "invitation", "subject": html.unescape(subject),
                "body": body, "people": ids, "intent": "send"}  # fmt: skip
        start = time.perf_counter()
        sent = client.post(f"/admin/c/{demo.campaign_key}/g/hdnd/gui", data=form)
        queue_seconds = time.perf_counter() - start
        assert sent.status_code == 302, sent.get_data(as_text=True)[:500]
        send_page = sent.headers["Location"]

        def page_ms() -> float:
            t = time.perf_counter()
            assert client.get(send_page).status_code == 200
            return 1000 * (time.perf_counter() - t)

        idle = [page_ms() for _ in range(15)]
        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench", "REDIS_URL": REDIS_URL,
               "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_TLS": "none",
               "MAIL_FROM": mail["MAIL_FROM"], "MESSAGE_RATE_EMAIL": mail["MESSAGE_RATE_EMAIL"]}  # fmt: skip
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        busy: list[float] = []
        stop = threading.Event()

        def watch() -> None:
            while not stop.is_set():
                busy.append(page_ms())
                time.sleep(0.1)

        watcher = threading.Thread(target=watch)
        watcher.start()
        command = [str(SURVEYAPP), "worker", "--burst"]
        if args.profile:
            command = [sys.executable, "-m", "cProfile", "-o", args.profile, *command]
        worker = subprocess.run(command, env=env, capture_output=True, text=True)
        stop.set()
        watcher.join()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        assert worker.returncode == 0, worker.stderr[-2000:]
        delivered = count.value
        span = last.value - first.value
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        with app.app_context():
            finished = session().query(MessageSend).one().finished_at is not None
        size = len(body.encode()) * 2 + 600  # text + HTML parts and headers, roughly
        floor = ceiling(port, args.people, size)
        rate, floor_rate = delivered / span, args.people / floor
        print(f"people: {args.people}; delivered: {delivered}; send finished: {finished}")
        print(f"queue the send (one web request, {args.people} message rows): {queue_seconds * 1000:.0f} ms")
        print(f"send: {rate:.0f} messages/s over {span:.1f} s; worker CPU {1000 * cpu / delivered:.2f} ms per message "
              f"(incl. start-up)")  # fmt: skip
        print(f"ceiling (smtplib alone, one connection): {floor_rate:.0f} messages/s; "
              f"ratio product / ceiling = {rate / floor_rate:.2f}")  # fmt: skip
        print(f"send page with nothing sending: median {statistics.median(idle):.1f} ms; during the send: median "
              f"{statistics.median(busy):.1f} ms, p95 {sorted(busy)[int(0.95 * (len(busy) - 1))]:.1f} ms "
              f"({len(busy)} samples)")  # fmt: skip
        print("RESULT:", "PASS" if delivered == args.people and finished else "FAIL")
    finally:
        db.dispose(app)
        sink.terminate()
        drop_database(DB_NAME)


if __name__ == "__main__":
    main()
