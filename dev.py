#!/usr/bin/env python3
"""The README's two commands, with nothing but Python 3.11 on the machine.

    python3 dev.py serve   # set up, load the demo campaign, serve on http://127.0.0.1:5000
    python3 dev.py test    # set up, lint, run every test (extra arguments go to pytest)

Both make a virtual environment in .venv and install the project into it; they reinstall only
when pyproject.toml changed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"


def run(*args: str | Path, **kwargs) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], check=True, cwd=ROOT, **kwargs)


def setup(extra: str) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this script may be started by an older python3
        sys.exit("Cần Python 3.11 trở lên (Python 3.11 or newer is required).")
    if not PYTHON.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extra.encode()).hexdigest()
    stamp = VENV / f".installed-{extra or 'app'}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    # the venv module seeds an old pip and setuptools (65.5 on Python 3.11: CVE-2025-47273 and older)
    run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip", "setuptools>=78.1.1")
    run(PYTHON, "-m", "pip", "install", "--quiet", "-e", f".[{extra}]" if extra else ".")
    stamp.write_text(digest)


def serve(args: list[str]) -> None:
    setup("")
    run(BIN / "surveyapp", "demo", "--answers")
    print("Mở http://127.0.0.1:5000/admin/ và đăng nhập bằng tài khoản in ở dòng 'admin' phía trên.", flush=True)
    os.execv(BIN / "surveyapp", [str(BIN / "surveyapp"), "run", "--host", "127.0.0.1", "--port", "5000", *args])  # noqa: S606


#: what the browser, QR and bounce-mailbox tests drive: Debian's Chromium, zbarimg and Dovecot (IMAP)
TOOLS = {"chromium": "chromium", "zbarimg": "zbar-tools", "dovecot": "dovecot-imapd"}


def tools() -> None:
    """Install the browser and QR decoder the tests use, when this machine lets us (root with
    apt); otherwise say exactly what to install (those tests are then reported as skipped)."""
    import shutil

    missing = [package for command, package in TOOLS.items() if shutil.which(command) is None]
    if not missing:
        return
    can = hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get")
    if can:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        try:
            run("apt-get", "update", "-qq", env=env)
            run("apt-get", "install", "-y", "-qq", *missing, env=env)
            return
        except subprocess.CalledProcessError:
            pass
    print(f"Chưa có {', '.join(missing)}: các bài kiểm tra trình duyệt và mã QR sẽ bị bỏ qua. "
          f"Cài bằng: sudo apt-get install {' '.join(missing)}", flush=True)  # fmt: skip


def workers() -> int:
    """Test workers: one per core, at most four (pytest-xdist; each its own databases)."""
    return max(1, min(4, os.cpu_count() or 1))


def test(args: list[str]) -> None:
    setup("test")
    tools()
    run(BIN / "ruff", "check", ".")
    run(BIN / "ruff", "format", "--check", ".")
    started = time.monotonic()
    if any(a in ("-n", "-m", "-p") or a.startswith(("-n", "-m", "-p")) for a in args):
        run(PYTHON, "-m", "pytest", *args)  # the caller chose workers or a selection: as asked
    else:
        # the suite on every core, each test file on one worker; then the tests that must run with
        # nothing beside them (they restart a server the others use); none selected is fine
        n = workers()
        spread = ["-n", str(n), "--dist", "loadfile"] if n > 1 else []
        run(PYTHON, "-m", "pytest", *spread, "-m", "not alone", *args)
        alone = subprocess.run([str(PYTHON), "-m", "pytest", "-m", "alone", *args], cwd=ROOT)
        if alone.returncode not in (0, 5):  # 5: no test collected (the selection has none)
            raise subprocess.CalledProcessError(alone.returncode, "pytest -m alone")
    minutes, seconds = divmod(round(time.monotonic() - started), 60)
    print(f"Bộ kiểm thử chạy trong {minutes} phút {seconds} giây (the suite took {minutes} min {seconds} s, "
          f"{workers()} workers).", flush=True)  # fmt: skip


def main() -> None:
    commands = {"serve": serve, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    try:
        commands[sys.argv[1]](sys.argv[2:])
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode)


if __name__ == "__main__":
    main()
