"""Errors of the sampling planner, with Vietnamese messages a Home Affairs officer can act on."""

from __future__ import annotations


class SamplingError(ValueError):
    """Bad input to a sample-size, allocation, plan or draw function. ``str()`` is Vietnamese."""


class FrameError(SamplingError):
    """A frame file (the list of people a unit hands in) that cannot be drawn from."""
