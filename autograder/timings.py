"""Where a submission's grading time goes: per-phase seconds, recorded in the worker process.

The worker opens one recording per submission (``begin`` ... ``end``); the pipeline's parts mark
their phases with ``phase(name)`` (kernel start, the notebook's cells, each check's probe, the
judge, nbgrader's own steps).  Phases nest, and each one keeps its *exclusive* time: a phase's
children are subtracted from it, so the recorded seconds add up to the submission's wall time
without counting anything twice (the judge's seconds do not include its probes').  Outside a
recording ``phase`` costs two clock reads and records nothing, so tests, ``nbgrader autograde``
and formgrader run the same code unchanged.  Only the thread that began the recording records:
work done on a background thread (the expected values built while the kernel runs) overlaps
the recorded phases, and the wait for it is what the waiting phase shows.

The numbers end up in ``SubmissionResult.timings`` and in ``timings.json`` next to grades.json;
``benchmarks/grading.py`` prints the profile table from them.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

_STATE: dict[str, object] = {"totals": None, "stack": [], "thread": None}


def begin() -> None:
    """Start recording a new submission's phases on this thread (any unfinished recording is dropped)."""
    _STATE["totals"], _STATE["stack"], _STATE["thread"] = {}, [], threading.get_ident()


def end() -> dict[str, float]:
    """Stop recording; the phases' exclusive seconds, rounded to milliseconds, in the order first seen."""
    totals = _STATE["totals"] or {}
    _STATE["totals"], _STATE["stack"], _STATE["thread"] = None, [], None
    return {name: round(s, 3) for name, s in totals.items()}


def add(name: str, seconds: float) -> None:
    """Add ``seconds`` to phase ``name`` of the current recording (nothing when none is open, or when
    called from another thread than the one recording)."""
    if recording():
        totals = _STATE["totals"]
        totals[name] = totals.get(name, 0.0) + max(0.0, float(seconds))


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Time the block as phase ``name``, less the time of the phases nested inside it."""
    if not recording():  # no recording, or a background thread's work: never mixed into the phases
        yield
        return
    stack: list[list[float]] = _STATE["stack"]  # one [children's seconds] per open phase
    stack.append([0.0])
    t0 = time.perf_counter()
    try:
        yield
    finally:
        elapsed = time.perf_counter() - t0
        children = stack.pop()[0]
        add(name, elapsed - children)
        if stack:
            stack[-1][0] += elapsed


def recording() -> bool:
    """Whether a submission's phases are being recorded, by this thread."""
    return _STATE["totals"] is not None and _STATE["thread"] == threading.get_ident()
