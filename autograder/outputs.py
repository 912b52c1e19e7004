"""What ``python -m autograder grade`` writes under --out: grades.csv, grades.json and summary.txt.

These hold AUTOGRADED points only (``SCOPE``); after manual grading in formgrader,
``python -m autograder finalize`` exports the final grades.  grades.json keeps every result's
detail for the instructor (and ``python -m autograder report``); the feedback HTML and the
autograded notebooks are copied into place by the worker with ``replace_file``.
"""
from __future__ import annotations

import csv
import json
import os
import secrets
import stat
from pathlib import Path

from . import checks
from .results import SubmissionResult

SCOPE = "autograded only"  # what grades.csv / summary.txt hold; final grades: `python -m autograder finalize`


def write_new_file(dest: Path | str, data: bytes) -> None:
    """Write ``data`` to ``dest`` without ever writing through a link: the bytes go to a new file
    (``O_EXCL|O_NOFOLLOW``) next to ``dest``, which then replaces ``dest`` by rename, so whatever
    ``dest`` was (a symlink to the gradebook, a FIFO, a read-only copy from nbgrader), it is replaced
    as a name, and the file it pointed to is never opened."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o644)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def replace_file(src: Path | str, dest: Path | str) -> None:
    """Copy src over dest, following no link at either end: src must be a regular file (opened with
    ``O_NOFOLLOW``, checked on the descriptor), dest is replaced by rename (``write_new_file``), which
    also works over the read-only copies nbgrader leaves."""
    fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise ValueError(f"replace_file: src {src} is not a regular file; refused to copy it")
        data = fh.read()
    write_new_file(dest, data)


def write_grades_csv(results: list[SubmissionResult], path: Path) -> None:
    """One row per submission: points and max of every check (blank where the assignment has none), totals."""
    all_checks = list(checks.POINTS)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["student", "assignment", *[f"{c}{s}" for c in all_checks for s in ("", "_max")],
                    "total", "total_max", "scope"])
        for r in results:
            row = [r.student, r.assignment]
            for cid in all_checks:
                c = r.checks.get(cid)
                row += [c["points"], c["max"]] if c else ["", ""]
            row += [r.points, r.max_points, SCOPE]
            w.writerow(row)


def write_grades_json(results: list[SubmissionResult], path: Path) -> None:
    """Every result in full (the instructor's detail included), without the run's timings: two runs
    of the same submissions write the same file."""
    stable = []
    for r in results:
        d = r.to_dict()
        d.pop("autograde_s", None)
        d.pop("timings", None)
        stable.append(d)
    path.write_text(json.dumps(stable, indent=1, sort_keys=True, allow_nan=True) + "\n")


def summary_text(results: list[SubmissionResult], sandboxed: bool = True) -> str:
    """What the instructor reads first: what the points cover, how student code ran, and every
    submission that was not fully graded, was flagged, or has a manual override to review."""
    lines = [f"Graded {len(results)} submission(s).",
             "Points here are AUTOGRADED ONLY (hidden-test checks). Manually graded answers and overrides are in",
             "the gradebook: grade them in formgrader (`make formgrader`), then `python -m autograder finalize`",
             "writes the final grades (final_grades.csv) and regenerates the feedback.",
             ("Student code ran in a bubblewrap sandbox (no network; no access to the answer key, other "
              "submissions or your files)." if sandboxed else
              "UNSANDBOXED (--unsandboxed): student code ran with your rights and could read the answer key, "
              "the source notebooks, the gradebook and other submissions.")]
    partial = [r for r in results if r.issues or r.status != "graded"]
    lines.append(f"{len(partial)} not fully graded:" if partial else "Every submission was fully graded.")
    for r in partial:
        lines.append(f"- {r.student}/{r.assignment} ({r.status}):")
        lines += [f"    {i}" for i in r.issues]
    flagged = [r for r in results if r.flags]
    if flagged:
        lines.append(f"Flagged for the instructor ({len(flagged)}):")
        for r in flagged:
            lines.append(f"- {r.student}/{r.assignment}:")
            lines += [f"    {f}" for f in sorted(set(r.flags))]
    review = [r for r in results if r.review]
    if review:
        lines.append(f"Manual overrides to review: the automatic score changed under them ({len(review)}):")
        for r in review:
            lines.append(f"- {r.student}/{r.assignment}:")
            lines += [f"    {f}" for f in r.review]
    return "\n".join(lines) + "\n"


def write_outputs(results: list[SubmissionResult], out: Path, sandboxed: bool = True, extra: str = "") -> str:
    """grades.csv, grades.json and summary.txt under ``out`` (``extra``, e.g. the similarity report,
    appended to the summary); returns the summary's text."""
    out.mkdir(parents=True, exist_ok=True)
    write_grades_csv(results, out / "grades.csv")
    write_grades_json(results, out / "grades.json")
    text = summary_text(results, sandboxed) + extra
    (out / "summary.txt").write_text(text)
    return text
