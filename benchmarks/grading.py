"""Grading cost: autograding one submission (sandboxed, the default) versus plainly executing the
same notebook, and a class of N synthetic submissions graded with 1 worker and with 2, each both
sandboxed (bubblewrap) and --unsandboxed.

    python benchmarks/grading.py            # N = 40 (about 40 minutes on 2 cores)
    python benchmarks/grading.py --n 6      # a quick look

Prints numbers and ratios; asserts nothing (the targets: an autograding overhead of at most 50%
over plain execution, and sandboxed grading at most 1.2x the unsandboxed time).  Everything is
written to a temporary folder.
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


def plain_execution(nb_path: Path, timeout: int) -> float:
    """Seconds to execute the notebook as a student would (nbclient, python3 kernel)."""
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(nb_path, as_version=4)
    t0 = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(nb_path.parent)}}).execute()
    return time.perf_counter() - t0


def kernel_start(sandboxed: bool, work: Path) -> float:
    """Seconds to start a grading kernel, import what the notebooks import, and stop it."""
    from nbformat.v4 import new_code_cell, new_notebook
    from traitlets.config import Config

    from autograder.nbgrader_config import apply
    from autograder.preprocessors.execute import GuardedExecute
    cfg = apply(Config(), work=work, sandbox=sandboxed)
    nb = new_notebook(cells=[new_code_cell("import numpy, pandas, torch, matplotlib.pyplot, helpers.kd")])
    t0 = time.perf_counter()
    GuardedExecute(config=cfg).preprocess(nb, {"metadata": {"path": str(work)}})
    return time.perf_counter() - t0


def grade(sub: Path, work: Path, out: Path, workers: int, timeout: int, sandboxed: bool = True) -> float:
    """Seconds for ``python -m autograder grade`` on the class folder ``sub``."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "autograder", "grade", str(sub), "--work", str(work), "--out", str(out),
                    "--workers", str(workers), "--timeout", str(timeout), *([] if sandboxed else ["--unsandboxed"])],
                   check=True, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def class_folder(examples_dir: Path, dest: Path, n: int, assignment: str = "week6_lab") -> Path:
    """A class of ``n`` students, each a copy of one of the CLASS_MIX examples (round robin)."""
    names = [x for x in CLASS_MIX if mk.EXAMPLES[x][0] == assignment]
    for i in range(n):
        src = examples_dir / names[i % len(names)] / assignment
        shutil.copytree(src, dest / f"student{i:03d}" / assignment)
    return dest


def main(argv: list[str] | None = None) -> int:
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
        starts = {True: [], False: []}
        for _ in range(args.repeat + 2):  # alternating, so load changes hit both alike
            for sandboxed in (False, True):
                starts[sandboxed].append(kernel_start(sandboxed, work))
        print(f"kernel start + imports + stop, best of {args.repeat + 2}: unsandboxed {min(starts[False]):.2f} s, "
              f"sandboxed {min(starts[True]):.2f} s (x{min(starts[True]) / min(starts[False]):.2f})\n")
        print("autograding (sandboxed) vs plain execution, per submission:")
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
        import pandas as pd
        cls = class_folder(ex, tmp / "class", args.n)
        rows, csvs = [], {}
        for workers in (1, 2):
            for sandboxed in (False, True):
                key = f"w{workers}_{'sandboxed' if sandboxed else 'unsandboxed'}"
                t = grade(cls, work, tmp / key, workers, args.timeout, sandboxed)
                csvs[key] = (tmp / key / "grades.csv").read_text()
                rows.append({"workers": workers, "mode": "sandboxed" if sandboxed else "unsandboxed",
                             "seconds": round(t, 1), "s per submission": round(t / args.n, 1)})
        df = pd.DataFrame(rows)
        base = df[df["mode"] == "unsandboxed"].set_index("workers")["seconds"]
        df["vs unsandboxed"] = [f"x{r.seconds / base[r.workers]:.2f}" for r in df.itertuples()]
        print(f"\nclass of {args.n} lab submissions on {os.cpu_count()} cores:")
        print(df.to_string(index=False))
        print(f"identical grades.csv in all four runs: {len(set(csvs.values())) == 1}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
