"""autograder.timings: per-phase seconds, each phase's own (exclusive) time, on a fake clock."""
from __future__ import annotations

import pytest

from autograder import timings


@pytest.fixture
def clock(monkeypatch):
    """A clock that moves only when the test says so."""
    now = [100.0]
    monkeypatch.setattr(timings.time, "perf_counter", lambda: now[0])

    def advance(seconds: float) -> None:
        now[0] += seconds
    return advance


def test_phases_are_exclusive_and_add_up(clock):
    timings.begin()
    with timings.phase("outer"):
        clock(0.02)
        with timings.phase("inner"):
            clock(0.05)
        with timings.phase("inner"):
            clock(0.01)
        clock(0.003)
    got = timings.end()
    assert got == {"inner": 0.06, "outer": 0.023}  # the inner phases are not counted in the outer one
    assert not timings.recording() and timings.end() == {}


def test_phases_outside_a_recording_record_nothing(clock):
    with timings.phase("anything"):
        clock(1.0)
    timings.add("x", 1.0)
    assert not timings.recording()
    timings.begin()
    assert timings.end() == {}


def test_a_background_threads_phases_are_not_mixed_into_the_recording(clock):
    """The expected values built on a background thread overlap the recorded phases: only the recording
    thread's phases count, or the phases would add up to more than the wall time."""
    import threading
    timings.begin()
    with timings.phase("kernel"):
        def elsewhere():
            with timings.phase("expected values"):
                clock(0.5)
            timings.add("expected values", 0.5)
        worker = threading.Thread(target=elsewhere)
        worker.start()
        worker.join()
        clock(0.25)
    assert timings.end() == {"kernel": 0.75}  # all of it the kernel's: the other thread's phase is not subtracted
