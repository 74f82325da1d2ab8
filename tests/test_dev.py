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
