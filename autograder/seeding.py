"""Per-run inputs: the course secret, a submission's seed, and the expected values for it (driver side).

Inputs are drawn per run from ``seed = HMAC(course secret, assignment | student |
sha256(the notebook's cell sources))``: grading the same submission twice gives the same
grade, while a resubmission (one carrying a lookup table of last time's inputs, say)
gets new inputs.  The host never sees the seed or the secret.  The secret is a file in
the grading work folder, created 0600 on first use; ``nbgrader autograde``, formgrader
and ``python -m autograder grade`` read the same one through the course config.

For the drawn seed the expected entry is built here by running the same probe on the
course references in-process (``build_expected.expected_entry``), then the check's
``sanity``; a seed that fails it is replaced by the next one derived from it (at most
``MAX_ATTEMPTS``).  Entries are cached per (check, seed), so grading the same seed again
costs nothing.

They depend only on the seed, and the seed only on the notebook's cell sources, which are
known before the kernel runs: ``prefetch`` starts building a run's entries on a background
thread then (``preprocessors/prefetch_expected.py``), and ``expected_for`` waits for that work
instead of repeating it.  Nothing of the student's runs on that thread: it is the course
references on drawn inputs, in the driver.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

SECRET_NAME = "course_secret"
MAX_ATTEMPTS = 5
_CACHE: dict[tuple[str, int], dict] = {}
# Entries being built ahead, by (check id, base seed); one background thread builds them in order.
_PENDING: dict[tuple[str, int], Future] = {}
_LOCK = threading.Lock()
_BUILDER: list[ThreadPoolExecutor] = []
BACKGROUND_NICE = 10  # the background thread yields the CPU to the kernel it overlaps


def course_secret(path: Path | str) -> bytes:
    """The course secret in ``path``, created (0600, 32 random bytes as hex) when missing."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another grader made it first: read theirs
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32) + "\n")
    text = path.read_text().strip()
    if len(text) < 32:
        raise ValueError(f"course secret {path}: expected at least 32 characters, found {len(text)}; delete the "
                         "file to have a new one made (grades of earlier runs will then draw other inputs)")
    return text.encode()


def notebook_digest(nb: Any) -> str:
    """sha256 of the notebook's cell sources, in order (what the student wrote; outputs do not count)."""
    h = hashlib.sha256()
    for cell in nb.cells:
        h.update(cell.cell_type.encode() + b"\0" + str(cell.source).encode("utf-8") + b"\0")
    return h.hexdigest()


def submission_seed(secret: bytes, assignment: str, student: str, digest: str) -> int:
    """The run's base seed: HMAC-SHA256(secret, "assignment|student|digest"), 63 bits, never the DEFAULT seed."""
    mac = hmac.new(secret, f"{assignment}|{student}|{digest}".encode(), hashlib.sha256).digest()
    return int.from_bytes(mac[:8], "big") >> 1 or 1


def check_seed(base: int, check_id: str, attempt: int) -> int:
    """The seed of one check's inputs: derived from the base seed, the check and the attempt number."""
    mac = hashlib.sha256(f"{base}|{check_id}|{attempt}".encode()).digest()
    return int.from_bytes(mac[:8], "big") >> 1 or 1


def prefetch(checks: list[Any], base: int) -> None:
    """Start building the expected entries of ``checks`` for the run seeded ``base``, in that order, on a
    background thread; ``expected_for`` then waits for each instead of building it again.  Work pending
    for another run's seed is dropped (that run is over)."""
    with _LOCK:
        for key in [k for k in _PENDING if k[1] != base]:
            _PENDING.pop(key).cancel()
        if not _BUILDER:
            _BUILDER.append(ThreadPoolExecutor(max_workers=1, thread_name_prefix="expected-values",
                                               initializer=_yield_cpu))
        for check in checks:
            if (check.id, base) not in _PENDING:
                _PENDING[(check.id, base)] = _BUILDER[0].submit(_build, check, base)


def _yield_cpu() -> None:
    """Lower the background thread's CPU priority (Linux: per thread), so the kernel it overlaps runs first."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + BACKGROUND_NICE)
    except (AttributeError, OSError):  # not Linux, or not allowed: the same work at the same priority
        pass


def expected_for(check: Any, base: int) -> tuple[dict, int]:
    """(expected entry, seed) for one check of a run: the first derived seed whose entry passes ``sanity``.

    Built here, or by the background work ``prefetch`` started for this run (waited for; its errors are
    raised here as if it had run here)."""
    with _LOCK:
        pending = _PENDING.pop((check.id, base), None)
    if pending is not None:  # a cancelled one was dropped from _PENDING by prefetch: never found here
        return pending.result()
    return _build(check, base)


def _build(check: Any, base: int) -> tuple[dict, int]:
    """``expected_for``'s work: the entry of the first derived seed that passes the check's sanity."""
    from .build_expected import expected_entry
    last = None
    for attempt in range(MAX_ATTEMPTS):
        seed = check_seed(base, check.id, attempt)
        key = (check.id, seed)
        if key not in _CACHE:
            entry = expected_entry(check, seed)
            try:
                if check.sanity is not None:
                    check.sanity(entry, seed)
            except AssertionError as exc:
                last = exc
                continue
            _CACHE[key] = entry
        return _CACHE[key], seed
    raise RuntimeError(f"{check.id}: {MAX_ATTEMPTS} drawn seeds in a row failed the check's sanity ({last}); "
                       "the input builders need fixing")
