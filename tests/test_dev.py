"""The README's test command installs the browser and QR decoder itself where it can (issue 16,
item 7): as root with apt it runs apt-get; otherwise it says exactly what to install."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def dev():
    spec = importlib.util.spec_from_file_location("dev_script", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _missing(*commands):
    real = shutil.which
    return lambda name, *a, **k: None if name in commands else (f"/usr/bin/{name}" if name == "apt-get" else real(name))


def test_as_root_with_apt_it_installs_what_is_missing(dev, monkeypatch):
    calls = []
    monkeypatch.setattr(shutil, "which", _missing("chromium", "zbarimg"))
    monkeypatch.setattr(dev.os, "geteuid", lambda: 0, raising=False)
    monkeypatch.setattr(dev, "run", lambda *args, **kwargs: calls.append([str(a) for a in args]))
    dev.tools()
    assert calls == [["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium", "zbar-tools"]]


def test_otherwise_it_says_what_to_install(dev, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(shutil, "which", _missing("zbarimg"))
    monkeypatch.setattr(dev.os, "geteuid", lambda: 1000, raising=False)
    monkeypatch.setattr(dev, "run", lambda *args, **kwargs: calls.append(args))
    dev.tools()
    assert not calls and "sudo apt-get install zbar-tools" in capsys.readouterr().out


def test_nothing_happens_when_everything_is_there(dev, monkeypatch):
    calls = []
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: f"/usr/bin/{name}")
    monkeypatch.setattr(dev, "run", lambda *args, **kwargs: calls.append(args))
    dev.tools()
    assert not calls


def _test_calls(dev, monkeypatch, args, cores=2, alone_code=0):
    calls = []
    monkeypatch.setattr(dev, "setup", lambda extra: None)
    monkeypatch.setattr(dev, "tools", lambda: None)
    monkeypatch.setattr(dev.os, "cpu_count", lambda: cores)
    monkeypatch.setattr(dev, "run", lambda *a, **k: calls.append([str(x) for x in a[1:]]))

    class Done:
        returncode = alone_code

    monkeypatch.setattr(dev.subprocess, "run", lambda a, **k: calls.append([str(x) for x in a[1:]]) or Done())
    dev.test(args)
    return [c for c in calls if c[:2] == ["-m", "pytest"]]


def test_the_suite_runs_on_every_core_then_the_tests_that_run_alone(dev, monkeypatch, capsys):
    """Issue 16, item 6: the workers (one test file each at a time), then the `alone` tests (they
    restart PostgreSQL, which every worker uses); "none collected" (5) is not a failure."""
    spread, alone = _test_calls(dev, monkeypatch, ["-q"], alone_code=5)
    assert spread == ["-m", "pytest", "-n", "2", "--dist", "loadfile", "-m", "not alone", "-q"]
    assert alone == ["-m", "pytest", "-m", "alone", "-q"]
    assert "the suite took" in capsys.readouterr().out
    [one] = _test_calls(dev, monkeypatch, ["-q"], cores=1)[:1]
    assert "-n" not in one
    with pytest.raises(dev.subprocess.CalledProcessError):
        _test_calls(dev, monkeypatch, ["-q"], alone_code=1)


def test_a_chosen_selection_runs_as_asked(dev, monkeypatch):
    assert _test_calls(dev, monkeypatch, ["-m", "browser"]) == [["-m", "pytest", "-m", "browser"]]
    assert _test_calls(dev, monkeypatch, ["-n0", "tests/test_dev.py"]) == [["-m", "pytest", "-n0", "tests/test_dev.py"]]
