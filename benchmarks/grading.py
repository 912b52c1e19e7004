"""Grading cost: autograding a submission (sandboxed, the default) versus plainly executing the same
notebook, where the time goes (per phase, from the worker's own timings), and a class of N
submissions (half lab, half homework) graded with 1 worker and with 2, sandboxed, with the
extrapolated time for a course of 200 students x 2 notebooks.

    python benchmarks/grading.py                 # N = 8 (make bench-grading): ~7 min on 2 idle cores
    python benchmarks/grading.py --n 40          # the class of 40: 30 min on 2 busy cores (load 4-6)
    python benchmarks/grading.py --sandbox-cost  # also kernel start and the class unsandboxed (x2 the time)

Prints numbers and ratios; asserts nothing (the targets: autograding at most 1.2x plain execution for
the lab and 1.5x for the homework; sandboxed grading at most 1.2x unsandboxed).  Everything is written
to a temporary folder.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from autograder.examples import make_examples as mk  # noqa: E402
from autograder.grading import TIMINGS_NAME  # noqa: E402
from autograder.nbgrader_config import ASSIGNMENTS, ensure_tools_on_path  # noqa: E402
from autograder.release import generate  # noqa: E402

# Submissions a class is made of: mostly right, some with the usual mistakes (no deliberate hangs).
CLASS_MIX = {"week6_lab": ["ex_solution", "ex_bug_missing_T2", "ex_colleague_loss", "ex_solution", "ex_blank",
                           "ex_kl_reversed", "ex_stderr_warnings", "ex_reduction_mean"],
             "week6_homework": ["hw_solution", "ex_unpaired_bootstrap", "hw_solution", "hw_bootstrap_90_percent",
                                "hw_solution", "hw_blank"]}
COURSE = (200, 2)  # students x notebooks of the extrapolation
CORES = (2, 8, 16)


def plain_execution(nb_path: Path, timeout: int, stop: str = "graceful") -> float:
    """Seconds to execute the notebook top to bottom in a fresh python3 kernel with nbclient, start and stop
    included: ``stop="graceful"`` as ``jupyter nbconvert --execute`` does it (the kernel asked to exit), or
    ``"immediate"`` (killed after the last cell, as grading now stops its kernels)."""
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(nb_path, as_version=4)
    t0 = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True, shutdown_kernel=stop,
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


def class_folder(examples_dir: Path, dest: Path, n: int) -> Path:
    """A class of ``n`` submissions: students alternately hand in the lab and the homework, each a copy
    of one of the CLASS_MIX examples (round robin)."""
    kinds = list(CLASS_MIX)
    for i in range(n):
        assignment = kinds[i % 2]
        names = CLASS_MIX[assignment]
        src = examples_dir / names[(i // 2) % len(names)] / assignment
        shutil.copytree(src, dest / f"student{i // 2:03d}" / assignment)
    return dest


def read_timings(out: Path) -> dict:
    """The run's timings.json (``autograder.grading.write_timings``)."""
    return json.loads((out / TIMINGS_NAME).read_text())


def profile_table(runs: list[dict]) -> str:
    """Mean seconds per phase and notebook over the submissions of ``runs`` (their timings.json)."""
    per: dict[str, list[dict]] = {}
    for run in runs:
        for s in run["submissions"]:
            per.setdefault(s["assignment"], []).append(s["timings"])
    names = list(dict.fromkeys(k for subs in per.values() for t in subs for k in t))
    cols = sorted(per)
    lines = [f"{'phase':<46}" + "".join(f"{a + ' (s)':>22}" for a in cols)]
    for name in names:
        lines.append(f"{name:<46}" + "".join(f"{statistics.mean(t.get(name, 0.0) for t in per[a]):>22.2f}"
                                                for a in cols))
    lines.append(f"{'total per submission':<46}" + "".join(
        f"{statistics.mean(sum(t.values()) for t in per[a]):>22.2f}" for a in cols))
    lines.append(f"{'submissions averaged':<46}" + "".join(f"{len(per[a]):>22}" for a in cols))
    return "\n".join(lines)


def overhead(ex: Path, tmp: Path, work: Path, args: argparse.Namespace) -> tuple[list[dict], list[dict]]:
    """Per notebook: plain execution (both stops, ``args.repeat`` runs each) vs the autograded submission's
    own seconds (worker timings of ``args.repeat`` copies; the first submission of the run, which fills
    the worker's caches, is left out), best of the runs on both sides and medians; the run's fixed start-up."""
    rows, runs = [], []
    for assignment, name in (("week6_lab", "ex_solution"), ("week6_homework", "hw_solution")):
        nb = ex / name / assignment / f"{assignment}.ipynb"
        plain, killed = [], []
        for _ in range(args.repeat):  # alternating, so a change of load hits both alike
            plain.append(plain_execution(nb, args.timeout))
            killed.append(plain_execution(nb, args.timeout, stop="immediate"))
        folder = tmp / f"single_{assignment}"
        for i in range(1 + args.repeat):
            shutil.copytree(ex / name / assignment, folder / f"s{i}" / assignment)
        out = tmp / f"out_single_{assignment}"
        wall = grade(folder, work, out, 1, args.timeout)
        t = read_timings(out)
        runs.append(t)
        per_sub = [sum(s["timings"].values()) for s in t["submissions"]]
        auto = per_sub[1:]
        rows.append({"notebook": assignment, "plain (s)": round(min(plain), 1), "autograde (s)": round(min(auto), 1),
                     "ratio": f"x{min(auto) / min(plain):.2f}",
                     "ratio of medians": f"x{statistics.median(auto) / statistics.median(plain):.2f}",
                     "plain, kernel killed (s)": round(min(killed), 1),
                     "ratio to it": f"x{min(auto) / min(killed):.2f}",
                     "run start-up (s)": round(wall - sum(per_sub), 1),
                     "of which preflight (s)": round(t["preflight_s"], 1)})
    return rows, runs


def extrapolate(n: int, seconds: float, workers: int, fixed: float) -> list[dict]:
    """Course time on more cores: workers = cores, each submission costing the core-seconds it cost here."""
    core_s = (seconds - fixed) * workers / n  # measured with `workers` workers on this machine's cores
    total = COURSE[0] * COURSE[1]
    return [{"cores (= workers)": c, "minutes for 200 x 2": round((fixed + total * core_s / c) / 60, 1)}
            for c in CORES]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=8, help="class size in submissions, half lab, half homework (default 8)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="plain executions of each kind and autograded copies per notebook (default 3)")
    ap.add_argument("--timeout", type=int, default=60, help="per-cell timeout in seconds")
    ap.add_argument("--sandbox-cost", action="store_true",
                    help="also time kernel start in and out of the sandbox and grade the class --unsandboxed")
    args = ap.parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    ensure_tools_on_path()
    tmp = Path(tempfile.mkdtemp(prefix="bench_grading_"))
    try:
        import pandas as pd
        t_all = time.perf_counter()
        print(f"{os.cpu_count()} cores, load average at start {os.getloadavg()[0]:.2f}")
        work, ex = tmp / "work", tmp / "examples"
        generate(work, REPO / "notebooks", ASSIGNMENTS)
        mk.make(work / "release", ex, names=list(dict.fromkeys(n for v in CLASS_MIX.values() for n in v)))
        if args.sandbox_cost:
            starts = {True: [], False: []}
            for _ in range(args.repeat + 2):  # alternating, so load changes hit both alike
                for sandboxed in (False, True):
                    starts[sandboxed].append(kernel_start(sandboxed, work))
            print(f"kernel start + imports + stop, best of {args.repeat + 2}: unsandboxed {min(starts[False]):.2f} s,"
                  f" sandboxed {min(starts[True]):.2f} s (x{min(starts[True]) / min(starts[False]):.2f})\n")
        rows, single_runs = overhead(ex, tmp, work, args)
        print(f"autograding (sandboxed, 1 worker) vs plain execution, per submission, best of {args.repeat} "
              "(ratio: to `jupyter nbconvert --execute`'s run, the kernel asked to exit; ratio to it: to the same "
              "run with the kernel killed after the last cell, as grading stops it):")
        print(pd.DataFrame(rows).to_string(index=False))
        cls = class_folder(ex, tmp / "class", args.n)
        results, csvs, class_runs = [], {}, {}
        for workers in (1, 2):
            for sandboxed in ((True, False) if args.sandbox_cost else (True,)):
                key = f"w{workers}_{'sandboxed' if sandboxed else 'unsandboxed'}"
                t = grade(cls, work, tmp / key, workers, args.timeout, sandboxed)
                csvs[key] = (tmp / key / "grades.csv").read_text()
                class_runs[key] = read_timings(tmp / key)
                results.append({"workers": workers, "mode": "sandboxed" if sandboxed else "unsandboxed",
                                "seconds": round(t, 1), "s per submission": round(t / args.n, 2)})
        df = pd.DataFrame(results)
        if args.sandbox_cost:
            base = df[df["mode"] == "unsandboxed"].set_index("workers")["seconds"]
            df["vs unsandboxed"] = [f"x{r.seconds / base[r.workers]:.2f}" for r in df.itertuples()]
        print(f"\nwhere the time goes: mean seconds per submission and phase (sandboxed, 1 worker; the "
              f"single-submission runs and the class of {args.n}):")
        print(profile_table([*single_runs, class_runs["w1_sandboxed"]]))
        print(f"\nclass of {args.n} submissions (half lab, half homework) on {os.cpu_count()} cores:")
        print(df.to_string(index=False))
        print(f"identical grades.csv in all {len(csvs)} runs: {len(set(csvs.values())) == 1}")
        two = df[(df["workers"] == 2) & (df["mode"] == "sandboxed")].iloc[0]
        fixed = statistics.mean(r["run start-up (s)"] for r in rows)
        print(f"\nEXTRAPOLATION (not measured): {COURSE[0]} students x {COURSE[1]} notebooks = "
              f"{COURSE[0] * COURSE[1]} submissions, one worker per core, each submission costing the core-seconds "
              f"it cost here with 2 workers on {os.cpu_count()} cores ({(two.seconds - fixed) * 2 / args.n:.1f} s), "
              f"plus the run's fixed start-up ({fixed:.0f} s); assumes linear scaling (memory, disk and the "
              "gradebook merge not limiting) and cores as fast as these:")
        print(pd.DataFrame(extrapolate(args.n, two.seconds, 2, fixed)).to_string(index=False))
        print(f"\nbenchmark wall time {time.perf_counter() - t_all:.0f} s, load average at end "
              f"{os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
