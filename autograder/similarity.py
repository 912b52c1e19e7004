"""``python -m autograder similarity DIR``: which submissions' graded functions look alike.

Per assignment, each graded function a student writes (``FUNCTIONS``: the solution cells that define
the student functions of docs/CONTRACTS.md) is compared with the same function of every other
submission, and with the course's reference implementation in ``helpers`` (``REFERENCES``, read
with ``inspect.getsource``), by copydetect's winnowing fingerprints (names and literals are
normalised away, so renaming variables does not hide a copy).  It never changes a grade: it lists
the most similar pairs in summary.txt (``grade`` runs it at the end) and writes a side-by-side page
per pair under ``<out>/similarity/`` (every line HTML-escaped) with an ``index.html``.

Without the ``copydetect`` package the report is skipped with a note; nothing else changes.
"""
from __future__ import annotations

import argparse
import ast
import html
import importlib
import inspect
import io
import re
import sys
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

from nbformat import NotebookNode
from nbgrader import utils

from .submissions import discover, parse_notebook, read_notebook_bytes

# The student functions of docs/CONTRACTS.md, per assignment.
FUNCTIONS = {
    "week6_lab": ("kd_loss_fn", "fixed_kd_loss", "per_tier_f1", "per_tier_ece", "coverage_table"),
    "week6_homework": ("per_class_f1", "per_tier_js", "fit_temperature", "reproducible_fraction",
                       "paired_bootstrap_ci"),
}
# Each function's reference in helpers ("module:function"); reproducible_fraction has none.
REFERENCES = {
    "kd_loss_fn": "helpers.kd:kd_loss", "fixed_kd_loss": "helpers.kd:kd_loss",
    "per_tier_f1": "helpers.metrics_f1:per_tier_f1", "per_tier_ece": "helpers.metrics_calibration:per_tier_ece",
    "coverage_table": "helpers.metrics:coverage_table", "per_class_f1": "helpers.metrics_f1:per_class_f1",
    "per_tier_js": "helpers.metrics:per_tier_js", "fit_temperature": "helpers.calibration:fit_temperature",
    "paired_bootstrap_ci": "helpers.bootstrap:paired_bootstrap",
}
REFERENCE = "(course reference)"  # the pseudo-student the references are filed under
NOISE_T, GUARANTEE_T = 25, 30     # copydetect's defaults: k-gram length and the match it always finds
MIN_SCORE = 0.6                   # pairs below this are not listed in the summary
TOP = 15                          # pairs listed in the summary


@dataclass
class Pair:
    """Two submissions' versions of one function and how much of them matches."""

    assignment: str
    function: str
    a: str
    b: str
    score: float                  # the larger of the two shares of matched tokens (0..1)
    page: str = ""                # the side-by-side page, relative to the similarity folder


def is_stub(node: ast.FunctionDef) -> bool:
    """True for a function the student has not written: a docstring, ``pass``, ``...`` or a raise only
    (the released stub raises NotImplementedError; every unanswered notebook would match every other)."""
    body = [n for n in node.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
    return all(isinstance(n, (ast.Pass, ast.Raise)) for n in body)


def function_sources(nb: NotebookNode, names: tuple[str, ...]) -> dict[str, str]:
    """The source of each function in ``names`` that a solution cell of ``nb`` defines (top level),
    unless it is still a stub (``is_stub``)."""
    out: dict[str, str] = {}
    for cell in nb.cells:
        if cell.cell_type != "code" or not utils.is_solution(cell):
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name in names and not is_stub(node):
                out[node.name] = ast.get_source_segment(cell.source, node) or ""
    return out


def reference_sources() -> dict[str, str]:
    """The course's reference implementation of each function that has one (``REFERENCES``)."""
    out = {}
    for name, where in REFERENCES.items():
        module, func = where.split(":")
        try:
            out[name] = inspect.getsource(getattr(importlib.import_module(module), func))
        except (ImportError, AttributeError, OSError, TypeError):  # a reference moved: compare without it
            continue
    return out


def compare(sources: dict[str, dict[str, str]], assignment: str) -> list[Pair]:
    """Every pair of submissions (and each against the reference) per function, most similar first."""
    from copydetect import CodeFingerprint, compare_files
    pairs = []
    for func in FUNCTIONS[assignment]:
        prints = {}
        for who, funcs in sources.items():
            if funcs.get(func, "").strip():
                prints[who] = CodeFingerprint(f"{func}.py", NOISE_T, GUARANTEE_T - NOISE_T + 1,
                                              fp=io.StringIO(funcs[func]))
        for a, b in combinations(sorted(prints), 2):
            _, (s1, s2), _ = compare_files(prints[a], prints[b])
            pairs.append(Pair(assignment, func, a, b, round(float(max(s1, s2)), 3)))
    return sorted(pairs, key=lambda p: (-p.score, p.assignment, p.function, p.a, p.b))


def _page(pair: Pair, left: str, right: str) -> str:
    esc = html.escape
    cols = "".join(f"<td><h2>{esc(who)}</h2><pre>{esc(src)}</pre></td>" for who, src in ((pair.a, left),
                                                                                        (pair.b, right)))
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<title>{esc(pair.function)}: {esc(pair.a)} / {esc(pair.b)}</title></head><body>"
            f"<h1>{esc(pair.assignment)}: {esc(pair.function)}, similarity {pair.score:.0%}</h1>"
            "<p>copydetect (winnowing); for the instructor's judgement, never a grade.</p>"
            f"<table><tr>{cols}</tr></table></body></html>\n")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:80]


def similarity_report(submitted: Path | str, out: Path | str, top: int = TOP,
                      min_score: float = MIN_SCORE) -> str:
    """Compare the submissions under ``submitted``; write the pages under ``out``/similarity/ and return
    the summary's section (a note instead when copydetect is not installed)."""
    try:
        import copydetect  # noqa: F401
    except ImportError:
        return ("Similarity report skipped: the copydetect package is not installed "
                "(pip install copydetect, or the `grade` extra).\n")
    found, _ = discover(Path(submitted))
    folder = Path(out) / "similarity"
    folder.mkdir(parents=True, exist_ok=True)
    refs = reference_sources()
    listed: list[Pair] = []
    for assignment, names in FUNCTIONS.items():
        sources = {REFERENCE: {k: v for k, v in refs.items() if k in names}}
        for s in found:
            if s.assignment == assignment:
                try:
                    sources[s.student] = function_sources(parse_notebook(read_notebook_bytes(s.notebook)), names)
                except Exception:  # noqa: BLE001 - a notebook refused here is already reported by grade
                    continue
        if len(sources) < 2:
            continue
        for p in compare(sources, assignment):
            if p.score < min_score:
                break
            p.page = f"{_slug(assignment)}__{_slug(p.function)}__{_slug(p.a)}__{_slug(p.b)}.html"
            (folder / p.page).write_text(_page(p, sources[p.a][p.function], sources[p.b][p.function]))
            listed.append(p)
    listed.sort(key=lambda p: (-p.score, p.assignment, p.function, p.a, p.b))
    rows = "".join(f"<tr><td>{p.score:.0%}</td><td>{html.escape(p.assignment)}</td><td>{html.escape(p.function)}"
                   f"</td><td><a href='{html.escape(p.page)}'>{html.escape(p.a)} / {html.escape(p.b)}</a></td></tr>"
                   for p in listed)
    (folder / "index.html").write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Similarity</title></head><body>"
        f"<h1>Graded functions at least {min_score:.0%} alike</h1><table>"
        f"<tr><th>similarity</th><th>assignment</th><th>function</th><th>pair</th></tr>{rows}</table>"
        "</body></html>\n")
    lines = [f"Similarity of graded functions (copydetect; never changes a grade): {len(listed)} pair(s) at or "
             f"above {min_score:.0%}, pages under {folder}" + (":" if listed else ".")]
    lines += [f"- {p.score:.0%} {p.assignment} {p.function}: {p.a} / {p.b}" for p in listed[:top]]
    if len(listed) > top:
        lines.append(f"- ... {len(listed) - top} more in similarity/index.html")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """``python -m autograder similarity DIR [--out OUT]``: the report alone, without grading."""
    from .nbgrader_config import default_work
    ap = argparse.ArgumentParser(prog="python -m autograder similarity", description=__doc__.splitlines()[0])
    ap.add_argument("submitted", type=Path, help="folder in nbgrader's submitted layout: <student>/<assignment>/")
    ap.add_argument("--out", type=Path, default=None, help="where similarity/ goes (default nbgrader_work/grades)")
    ap.add_argument("--min-score", type=float, default=MIN_SCORE, help=f"list pairs at least this alike "
                                                                       f"(0..1, default {MIN_SCORE})")
    args = ap.parse_args(argv)
    if not args.submitted.is_dir():
        print(f"error: {args.submitted} is not a folder of submissions (expected <student>/<assignment>/)",
              file=sys.stderr)
        return 2
    if not 0.0 <= args.min_score <= 1.0:
        ap.error(f"--min-score must be between 0 and 1, got {args.min_score}")
    print(similarity_report(args.submitted, (args.out or default_work() / "grades").resolve(),
                            min_score=args.min_score), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
