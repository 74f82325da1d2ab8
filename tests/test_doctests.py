"""The examples in the pure packages' docstrings stay true (they are the quickest documentation of
a formula: a wrong one misleads the next reader)."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["questionnaires.labels", "questionnaires.scoring.compute", "questionnaires.scoring.stats",
           "questionnaires.scoring.ranks", "sampling.outcomes"]  # fmt: skip


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
