"""``python -m autograder report``: the class report, from what ``grade`` wrote.

report.md with PNG plots (autograded points only): the score distribution of every check, the most
common failure messages, and for each predict-then-observe cycle the class's
predictions against the actual value (the records ``observe`` leaves in the
executed notebooks' output metadata).
"""
from __future__ import annotations

import argparse
import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from . import checks
from .nbgrader_config import default_work
from .results import SubmissionResult


def _observations(nb_path: Path) -> list[dict]:
    # observe() leaves its record in the output's metadata, which only this report reads.
    from helpers.notebook.predict import parse_observations
    return parse_observations(nb_path)


# A standalone number: not part of a name (f1_ci_table, T_d**2, week6_lab, x2), so those read as written.
_NUMBER = re.compile(r"(?<![\w.*^])[-+]?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?%?(?!\w|\.\w)")


def normalise_message(message: str) -> str:
    """Group failure messages that differ only in the numbers they quote: each standalone number
    becomes ``#``; digits inside names (``f1_ci_table``, ``T_d**2``) stay."""
    first = message.split(". ")[0]
    return _NUMBER.sub("#", first)[:160]


def flag_lines(results: list[SubmissionResult]) -> list[str]:
    """The report's flags section: per submission, each flag with the cell it names (edits of hidden or
    locked cells, late or edited predictions, verdict-like output, ignored files, ...).  Flags never
    change a grade; they are what deserves an instructor's look."""
    flagged = [r for r in results if r.flags]
    if not flagged:
        return []
    lines = ["## Flagged for the instructor", "", f"{len(flagged)} submission(s); flags never change a grade.", ""]
    for r in flagged:
        lines.append(f"- FLAG {r.student}/{r.assignment}:")
        lines += [f"  - {f}" for f in sorted(set(r.flags))]
    return lines + [""]


def build(grades_dir: Path | str, out_dir: Path | str) -> Path:
    """report.md and its PNG plots under ``out_dir``, from the grades.json ``grade`` wrote in ``grades_dir``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grades_dir, out_dir = Path(grades_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    results = [SubmissionResult.from_dict(d) for d in json.loads((grades_dir / "grades.json").read_text())]
    lines = ["# Class report", "", f"{len(results)} submission(s) graded.", "",
             "Scores here are **autograded points only** (the hidden-test checks, before any manual grading or "
             "override); final grades with the manual scores: `python -m autograder finalize` "
             "(final_grades.csv).", ""]
    lines += score_section(results, out_dir, plt)
    lines += failure_section(results)
    lines += issue_section(results)
    lines += flag_lines(results)
    lines += prediction_section(results, grades_dir, out_dir, plt)
    (out_dir / "report.md").write_text("\n".join(lines) + "\n")
    return out_dir / "report.md"


def score_section(results: list[SubmissionResult], out_dir: Path, plt: Any) -> list[str]:
    """The points-per-check histograms (scores.png) and their table; nothing when no check was graded."""
    per_check = defaultdict(list)
    for r in results:
        for cid, c in r.checks.items():
            per_check[cid].append(c["points"])
    cids = [c for c in checks.POINTS if per_check.get(c)]
    if not cids:
        return []
    cols = 4
    rows = (len(cids) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), squeeze=False)
    for ax, cid in zip(axes.flat, cids):
        mx = checks.POINTS[cid]
        counts = Counter(per_check[cid])
        ax.bar(range(mx + 1), [counts.get(k, 0) for k in range(mx + 1)], color="#4472c4")
        ax.set_title(f"{cid} (max {mx})", fontsize=8)
        ax.set_xticks(range(mx + 1))
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(cids):]:
        ax.axis("off")
    fig.suptitle("Points per check (number of submissions)")
    fig.tight_layout()
    fig.savefig(out_dir / "scores.png", dpi=110)
    plt.close(fig)
    lines = ["## Scores per check", "", "![scores](scores.png)", "",
             "| check | max | mean | full marks | zero |", "| --- | --- | --- | --- | --- |"]
    for cid in cids:
        v, mx = per_check[cid], checks.POINTS[cid]
        lines.append(f"| {cid} | {mx} | {sum(v) / len(v):.2f} | {sum(x == mx for x in v)} "
                     f"| {sum(x == 0 for x in v)} |")
    lines.append("")
    return lines


def failure_section(results: list[SubmissionResult]) -> list[str]:
    """The fifteen most common failure messages (numbers normalised), with their check and part."""
    failures = Counter()
    for r in results:
        for cid, c in r.checks.items():  # the judge's verdicts: parts with name, passed, message
            for p in c["parts"]:
                if not p["passed"] and p["message"]:
                    failures[(cid, p["name"], normalise_message(p["message"]))] += 1
    lines = ["## Most common failure messages", "", "| count | check | part | message |", "| --- | --- | --- | --- |"]
    for (cid, part, msg), n in failures.most_common(15):
        lines.append(f"| {n} | {cid} | {part} | {msg.replace('|', '/')} |")
    lines.append("")
    return lines


def issue_section(results: list[SubmissionResult]) -> list[str]:
    """The submissions not fully graded, one line per issue; nothing when there is none."""
    issues = [(r.student, r.assignment, i) for r in results for i in r.issues]
    if not issues:
        return []
    return ["## Not fully graded", "", *(f"- {s}/{a}: {i}" for s, a, i in issues), ""]


def prediction_section(results: list[SubmissionResult], grades_dir: Path, out_dir: Path, plt: Any) -> list[str]:
    """Each predict-then-observe key: the class's predictions against what the data showed (predict_<key>.png)."""
    preds = defaultdict(list)
    actual = defaultdict(list)
    for r in results:
        if not r.autograded:
            continue
        path = grades_dir / r.autograded
        if not path.exists():
            continue
        for rec in _observations(path):
            if isinstance(rec, dict) and "key" in rec:
                preds[rec["key"]].append(rec.get("prediction"))
                actual[rec["key"]].append(rec.get("actual"))
    lines = ["## Predictions against the actual values", ""]
    if not preds:
        lines += ["No predict-then-observe records were found in the graded notebooks.", ""]
    for key in sorted(preds):
        lines += prediction_plot(key, preds[key], actual[key], out_dir, plt)
    return lines


def prediction_plot(key: str, p: list, a: list, out_dir: Path, plt: Any) -> list[str]:
    """One key's plot (a histogram for numbers, bars for choices) and the lines that show it."""
    fig, ax = plt.subplots(figsize=(5, 2.8))
    numeric = all(isinstance(x, (int, float)) for x in p + a)
    if numeric:
        ax.hist(p, bins=min(20, max(5, len(p))), color="#a5a5a5", label="predictions")
        true = sorted(a)[len(a) // 2]
        ax.axvline(true, color="#c00000", lw=2, label=f"actual (median) {true:.3f}")
        ax.legend(fontsize=7)
        ax.set_xlabel("predicted value")
        summary = f"{len(p)} predictions, median {sorted(p)[len(p) // 2]:.3f}; actual {true:.3f}"
    else:
        counts = Counter(map(str, p))
        true = Counter(map(str, a)).most_common(1)[0][0]
        names = sorted(set(counts) | {true})
        ax.bar(names, [counts.get(n, 0) for n in names],
               color=["#c00000" if n == true else "#a5a5a5" for n in names])
        ax.set_xlabel("predicted choice (red: what the data showed)")
        summary = (f"{len(p)} predictions: " + ", ".join(f"{n} {counts.get(n, 0)}" for n in names)
                   + f"; actual {true} (red)")
    ax.set_title(key, fontsize=9)
    ax.set_ylabel("students")
    fig.tight_layout()
    fig.savefig(out_dir / f"predict_{key}.png", dpi=110)
    plt.close(fig)
    return [f"### {key}", "", summary, "", f"![{key}](predict_{key}.png)", ""]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m autograder report", description=__doc__.splitlines()[0])
    ap.add_argument("--grades", type=Path, default=None,
                    help="the --out folder of `grade` (default nbgrader_work/grades)")
    ap.add_argument("--out", type=Path, default=None, help="report folder (default <grades>/report)")
    args = ap.parse_args(argv)
    grades = (args.grades or default_work() / "grades").resolve()
    if not (grades / "grades.json").exists():
        print(f"error: no grades.json in {grades}; run `python -m autograder grade` first")
        return 2
    path = build(grades, args.out or grades / "report")
    print(f"wrote {path}")
    return 0
