"""autograder.seeding: the run's seed, and its expected entries built here or ahead on a background thread."""
from __future__ import annotations

import os
import threading
from types import SimpleNamespace

import pytest

from autograder import seeding


@pytest.fixture
def built(monkeypatch):
    """Fake checks' entries: (check id, seed) -> the thread that built it; a check named 'broken' raises."""
    log, nice, gate = [], [], threading.Event()
    main_nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    monkeypatch.setattr(seeding, "_CACHE", {})

    def entry(check, seed):
        if check.id == "slow":
            gate.wait(10)
        if check.id == "broken":
            raise ValueError("the reference could not run on these inputs")
        log.append((check.id, threading.current_thread().name))
        nice.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) - main_nice)
        return {"reference": seed}
    import autograder.build_expected as be
    monkeypatch.setattr(be, "expected_entry", entry)
    return SimpleNamespace(log=log, nice=nice, gate=gate)


def _check(cid):
    return SimpleNamespace(id=cid, sanity=None)


def test_the_seed_depends_on_the_secret_student_and_sources_only():
    a = seeding.submission_seed(b"s" * 32, "week6_lab", "amy", "d1")
    assert a == seeding.submission_seed(b"s" * 32, "week6_lab", "amy", "d1") and 0 < a < 2 ** 63
    assert len({a, seeding.submission_seed(b"t" * 32, "week6_lab", "amy", "d1"),
                seeding.submission_seed(b"s" * 32, "week6_lab", "bob", "d1"),
                seeding.submission_seed(b"s" * 32, "week6_lab", "amy", "d2")}) == 4


def test_entries_built_ahead_are_the_ones_the_judge_gets(built):
    checks = [_check("one"), _check("two")]
    seeding.prefetch(checks, base=7)
    got = [seeding.expected_for(c, 7) for c in checks]
    assert got == [({"reference": seeding.check_seed(7, c.id, 0)}, seeding.check_seed(7, c.id, 0)) for c in checks]
    assert [name.startswith("expected-values") for _, name in built.log] == [True, True]  # none built twice
    assert [nice == seeding.BACKGROUND_NICE for nice in built.nice] == [True, True]       # behind the kernel
    assert seeding.expected_for(checks[0], 7) == got[0] and len(built.log) == 2           # cached per seed


def test_an_error_of_the_work_ahead_is_raised_where_the_entry_is_asked_for(built):
    seeding.prefetch([_check("broken")], base=8)
    with pytest.raises(ValueError, match="could not run"):
        seeding.expected_for(_check("broken"), 8)


def test_work_for_an_earlier_run_is_dropped_and_the_entry_built_in_place(built):
    seeding.prefetch([_check("slow"), _check("other")], base=9)   # 'slow' holds the thread; 'other' waits behind it
    seeding.prefetch([_check("next")], base=10)                   # the next submission: 'other' is dropped
    built.gate.set()
    assert seeding.expected_for(_check("next"), 10)[1] == seeding.check_seed(10, "next", 0)
    # Asked for anyway (its run's judge came late): built here, on the asking thread.
    assert seeding.expected_for(_check("other"), 9)[1] == seeding.check_seed(9, "other", 0)
    assert ("other", threading.current_thread().name) in built.log
