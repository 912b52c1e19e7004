"""``python -m autograder demo --out OUT``: the grading half of the main job.

Releases both notebooks (demo flag: reveals may be synthetic), generates the
example submissions, grades them, and writes grades.csv, the feedback, the
summary and the class report under OUT/grading/.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from .examples import make_examples as mk
from .grading import grade
from .nbgrader_config import ASSIGNMENTS, REPO
from .release import ReleaseRefused, generate, preflight
from .report import build as build_report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m autograder demo", description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=REPO / "out")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=30, help="seconds per cell")
    ap.add_argument("--all", action="store_true", help="every example (default: a quick subset)")
    ap.add_argument("--unsandboxed", action="store_true",
                    help="grade without the bubblewrap sandbox (where bwrap is not installed; not with --all: "
                         "it includes hostile examples)")
    args = ap.parse_args(argv)
    if args.unsandboxed and args.all:
        ap.error("--all grades the hostile examples (fork bomb, filesystem hunt, ...): only inside the sandbox")
    t0 = time.monotonic()
    root = args.out.resolve() / "grading"
    work = root / "nbgrader_work"
    try:
        preflight(REPO / "notebooks", ASSIGNMENTS, allow_synthetic=True, check_reveals=False)
    except ReleaseRefused as exc:
        print(f"release refused: {exc}")
        return 1
    generate(work, REPO / "notebooks", ASSIGNMENTS)
    names = list(mk.EXAMPLES) if args.all else [*mk.QUICK, "ex_bug_missing_T2", "ex_unpaired_bootstrap",
                                                   "ex_calls_reference", "ex_corrupt_json"]
    mk.make(work / "release", root / "submitted", names=names)
    results, summary = grade(root / "submitted", work, root / "grades", args.workers, args.timeout,
                             sandbox=not args.unsandboxed)
    report = build_report(root / "grades", root / "grades" / "report")
    print(summary, end="")
    print(f"grading demo: {len(results)} submissions -> {root / 'grades' / 'grades.csv'}, feedback/, {report} "
          f"({time.monotonic() - t0:.0f} s)")
    return 0
