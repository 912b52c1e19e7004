"""``python -m autograder collect ZIP --assignment A [--lms canvas]``: an LMS download into nbgrader's
submitted layout, through nbgrader's own ``zip_collect``.

The archive is copied under the work folder (``<work>/downloaded/<assignment>/archive/``, outside
version control with the rest of it), extracted next to it by nbgrader's ``ExtractorPlugin``, and
every file is matched by a named preset per LMS (``PRESETS``) or by ``--regex``: a Python regular
expression with the named groups ``student_id`` and ``file_id``, matched from the start of the
file's path inside the archive (``alice/week6_lab.ipynb``, not the absolute path).  The matched
notebooks land in ``<work>/submitted/<student_id>/<assignment>/``, where ``grade`` finds them.

It says what it skipped and why (no match, not a notebook, a name that is not the assignment's),
and fails (exit 1) when it collected no notebook at all: a wrong preset is caught here, not as an
empty grading run.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .nbgrader_config import ASSIGNMENTS, default_work

# Matched from the start of each file's path inside the archive.  A resubmission's "-1" suffix
# (Canvas) is dropped from the notebook's name.
PRESETS = {
    # Canvas "Download submissions": lastfirst_12345_67890_week6_lab.ipynb (LATE_ after the name when late)
    "canvas": r"(?:.*/)?(?P<student_id>[^/_]+)_(?:LATE_)?\d+_\d+_(?P<file_id>[^/]+?)(?:-\d+)?\.ipynb$",
    # Moodle: one folder per student, "Ada Lovelace_1234_assignsubmission_file_/week6_lab.ipynb"
    "moodle": r"(?:.*/)?[^/]*?_(?P<student_id>\d+)_assignsubmission_file_/(?:.*/)?(?P<file_id>[^/]+)\.ipynb$",
    # Blackboard: "Week 6 lab_alice_attempt_2026-01-30-15-00-00_week6_lab.ipynb"
    "blackboard": r"(?:.*/)?[^/]*?_(?P<student_id>[^/_]+)_attempt_[0-9-]+_(?P<file_id>[^/]+)\.ipynb$",
    # Brightspace/D2L: "12345-67890 - Ada Lovelace - Jan 30, 2026 1500 PM - week6_lab.ipynb" (id: the first number)
    "brightspace": r"(?:.*/)?(?P<student_id>\d+)-\d+ - [^/]*? - (?P<file_id>[^/ ]+)\.ipynb$",
    # A plain archive of one folder per student: alice/week6_lab.ipynb
    "folders": r"(?:.*/)?(?P<student_id>[^/]+)/(?P<file_id>[^/]+)\.ipynb$",
}


@dataclass
class Collected:
    """What one collect run did: the notebooks placed, by student, and every file skipped, with why."""

    placed: dict[str, list[str]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    misnamed: list[str] = field(default_factory=list)


def _collector_class(regex: str, base: Path, record: Collected) -> type:
    """nbgrader's FileNameCollectorPlugin, matching ``regex`` on the path inside the archive and
    recording each file it skips, with the reason."""
    from nbgrader.plugins import FileNameCollectorPlugin

    pattern = re.compile(regex)

    class CourseCollector(FileNameCollectorPlugin):
        def collect(self, submitted_file: str) -> dict | None:
            rel = os.path.relpath(submitted_file, base).replace(os.sep, "/")
            if not rel.endswith(".ipynb"):
                record.skipped.append(f"{rel}: not a notebook")
                return None
            m = pattern.match(rel)
            if not m or "student_id" not in m.groupdict() or "file_id" not in m.groupdict():
                record.skipped.append(f"{rel}: does not match the file-name pattern")
                return None
            student, name = m.group("student_id"), m.group("file_id") + ".ipynb"
            record.placed.setdefault(student, []).append(name)
            return {"student_id": student, "file_id": name}

    return CourseCollector


def collect(archive: Path | str, assignment: str, work: Path | str, regex: str, force: bool = False) -> Collected:
    """Collect ``archive`` (a zip, or one downloaded notebook) for ``assignment`` into ``work``'s
    submitted folder with nbgrader's zip_collect; returns what was placed and what was skipped."""
    from nbgrader.apps.zipcollectapp import ZipCollectApp
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    from .nbgrader_config import apply

    archive, work = Path(archive).resolve(), Path(work).resolve()
    downloaded = work / "downloaded"
    staging = downloaded / assignment / "archive"
    extracted = downloaded / assignment / "extracted"
    shutil.rmtree(staging, ignore_errors=True)  # this download only, never an older one's files
    shutil.rmtree(extracted, ignore_errors=True)
    staging.mkdir(parents=True)
    shutil.copy(archive, staging / archive.name)

    record = Collected()
    cfg = apply(Config(), work=work, root=work, sandbox=False)
    cfg.CourseDirectory.assignment_id = assignment
    cfg.ZipCollectApp.downloaded_directory = "downloaded"  # joined to the course root: the work folder
    cfg.ZipCollectApp.force = force
    # nbgrader extracts a zip into a folder named after it: paths are matched from inside the archive.
    inside = extracted / archive.stem if zipfile.is_zipfile(archive) else extracted
    cfg.ZipCollectApp.collector_plugin = _collector_class(regex, inside, record)
    app = ZipCollectApp(config=cfg)
    app.coursedir = CourseDirectory(config=cfg, parent=app)
    app.init_plugins()
    try:
        app.extract_archive_files()
        app.process_extracted_files()
    except SystemExit:  # nbgrader's fail(): it logged why (usually: already collected, no --force)
        raise SystemExit(f"error: nbgrader zip_collect stopped for {assignment}: a student's submitted folder "
                         f"already holds an earlier collection. Pass --force to replace it (their earlier "
                         f"files under {work / 'submitted'} are removed), or move them away first") from None
    for student, names in sorted(record.placed.items()):
        record.misnamed += [f"{student}: {n} (expected {assignment}.ipynb; `grade` grades it and notes the name "
                            "in the summary)" for n in names if n != f"{assignment}.ipynb"]
    return record


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m autograder collect", description=__doc__.splitlines()[0])
    ap.add_argument("archive", type=Path, help="the LMS download: a .zip of submissions (or one notebook)")
    ap.add_argument("--assignment", required=True, choices=ASSIGNMENTS, help="the assignment these submissions are for")
    ap.add_argument("--lms", default="canvas", choices=sorted(PRESETS),
                    help="file-name preset of your LMS (default canvas); see --regex for another layout")
    ap.add_argument("--regex", default=None,
                    help="instead of a preset: a regular expression with the named groups student_id and "
                         "file_id, matched from the start of each path inside the archive, e.g. "
                         r"'(?P<student_id>[^/]+)/(?P<file_id>[^/]+)\.ipynb$'")
    ap.add_argument("--work", type=Path, default=None, help="nbgrader work folder (default nbgrader_work/)")
    ap.add_argument("--force", action="store_true",
                    help="replace what an earlier collect placed for the same students")
    args = ap.parse_args(argv)
    if not args.archive.is_file():
        print(f"error: {args.archive}: no such file; give the archive you downloaded from your LMS "
              "(make collect ZIP=path/to/download.zip ASSIGNMENT=week6_lab)", file=sys.stderr)
        return 2
    regex = args.regex or PRESETS[args.lms]
    try:
        re.compile(regex)
    except re.error as exc:
        print(f"error: --regex {regex!r} is not a valid regular expression ({exc})", file=sys.stderr)
        return 2
    work = (args.work or default_work()).resolve()
    if not (work / "release" / args.assignment).is_dir():
        print(f"error: {args.assignment} was not released in {work}; run `make release` first "
              "(collect checks notebook names against the release)", file=sys.stderr)
        return 2
    record = collect(args.archive, args.assignment, work, regex, args.force)
    how = f"--regex {regex!r}" if args.regex else f"--lms {args.lms} ({regex})"
    for line in record.skipped:
        print(f"skipped {line}")
    for line in record.misnamed:
        print(f"note: {line}")
    n = sum(map(len, record.placed.values()))
    if not n:
        print(f"error: collected no notebook from {args.archive} with {how}; {len(record.skipped)} file(s) "
              "skipped (listed above). Pick the preset of your LMS (--lms), or give --regex with the named "
              "groups student_id and file_id, matched against the paths listed above", file=sys.stderr)
        return 1
    print(f"collected {n} notebook(s) of {len(record.placed)} student(s) into {work / 'submitted'} "
          f"({len(record.skipped)} file(s) skipped); next: make grade")
    return 0


if __name__ == "__main__":
    sys.exit(main())
