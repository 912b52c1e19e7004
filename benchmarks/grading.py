"""Grading cost: autograding one submission versus plainly executing the same notebook, and a
class of N synthetic submissions graded with 1 worker and with 2.

    python benchmarks/grading.py            # N = 40 (about 30 minutes on 2 cores)
    python benchmarks/grading.py --n 6      # a quick look

Prints numbers and ratios; asserts nothing (the target is an autograding overhead of at most
50% over plain execution).  Everything is written to a temporary folder.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from autograder.examples import make_examples as mk  # noqa: E402
from autograder.nbgrader_config import ASSIGNMENTS, ensure_tools_on_path  # noqa: E402
from autograder.release import generate  # noqa: E402

# Submissions a class is made of: mostly right, some with the usual mistakes (no deliberate hangs).
CLASS_MIX = ["ex_solution", "ex_bug_missing_T2", "ex_unpaired_bootstrap", "ex_colleague_loss", "ex_blank",
             "ex_kl_reversed", "ex_stderr_warnings", "ex_reduction_mean"]


def plain_execution(nb_path, timeout):
    """Seconds to execute the notebook as a student would (nbclient, python3 kernel)."""
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(nb_path, as_version=4)
    t0 = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(nb_path.parent)}}).execute()
    return time.perf_counter() - t0


def grade(sub, work, out, workers, timeout):
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "autograder", "grade", str(sub), "--work", str(work), "--out", str(out),
                    "--workers", str(workers), "--timeout", str(timeout)], check=True, cwd=REPO,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def class_folder(examples_dir, dest, n, assignment="week6_lab"):
    names = [x for x in CLASS_MIX if mk.EXAMPLES[x][0] == assignment]
    for i in range(n):
        src = examples_dir / names[i % len(names)] / assignment
        shutil.copytree(src, dest / f"student{i:03d}" / assignment)
    return dest


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=40, help="class size (default 40)")
    ap.add_argument("--repeat", type=int, default=2, help="single-submission repetitions (default 2)")
    ap.add_argument("--timeout", type=int, default=60, help="per-cell timeout in seconds")
    args = ap.parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    ensure_tools_on_path()
    tmp = Path(tempfile.mkdtemp(prefix="bench_grading_"))
    try:
        work, ex = tmp / "work", tmp / "examples"
        generate(work, REPO / "notebooks", ASSIGNMENTS)
        mk.make(work / "release", ex, names=["hw_solution", *dict.fromkeys(CLASS_MIX)])
        print(f"{'notebook':<16}{'plain exec (s)':>15}{'autograde (s)':>15}{'overhead':>10}{'run start-up (s)':>18}")
        for assignment, name in (("week6_lab", "ex_solution"), ("week6_homework", "hw_solution")):
            nb = ex / name / assignment / f"{assignment}.ipynb"
            plain = min(plain_execution(nb, args.timeout) for _ in range(args.repeat))
            times = {}
            for k in (1, 1 + args.repeat):  # the marginal cost of a submission, once the run is started
                folder = tmp / f"k{k}_{assignment}"
                for i in range(k):
                    shutil.copytree(ex / name / assignment, folder / f"s{i}" / assignment)
                times[k] = grade(folder, work, tmp / f"out_k{k}_{assignment}", 1, args.timeout)
            auto = (times[1 + args.repeat] - times[1]) / args.repeat
            print(f"{assignment:<16}{plain:>15.1f}{auto:>15.1f}{(auto / plain - 1):>10.0%}{times[1] - auto:>18.1f}")
        cls = class_folder(ex, tmp / "class", args.n)
        t1 = grade(cls, work, tmp / "out_w1", 1, args.timeout)
        t2 = grade(cls, work, tmp / "out_w2", 2, args.timeout)
        same = (tmp / "out_w1" / "grades.csv").read_text() == (tmp / "out_w2" / "grades.csv").read_text()
        print(f"class of {args.n} lab submissions on {os.cpu_count()} cores: 1 worker {t1:.0f} s "
              f"({t1 / args.n:.1f} s each), 2 workers {t2:.0f} s ({t2 / args.n:.1f} s each), "
              f"speed-up x{t1 / t2:.2f}; identical grades.csv: {same}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
