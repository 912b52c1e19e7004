"""The judge inside nbgrader's autograde pipeline: one grading truth for every way of grading.

``JudgeHiddenTests`` runs after execution and before nbgrader's ``SaveAutoGrades``
(``nbgrader_config.apply`` puts it there), in the nbgrader process, never in the
kernel.  For every hidden-test cell it reads the probe's marked lines, judges them
with ``checks.judge`` against ``autograder/expected/*.json``, and REPLACES the cell's
outputs with

* a readable verdict (``display_data``, text/plain, tagged ``{"autograder": "verdict"}``):
  the points, each part passed or failed with its message, as students see it in
  the feedback (messages never quote an expected value; the raw probe line and
  its nonce are gone), and
* the points as an ``execute_result`` whose text is a number: that is what
  nbgrader's ``determine_grade`` turns into partial credit.

A missing, unreadable or forged probe line (no nonce of this run) gets 0 points
and says why.  So ``nbgrader autograde``, formgrader's Autograde button and
``python -m autograder grade`` all give the same points, and a blank submission
never earns any.

The full results (parts with the instructor's detail, flags, issues) go into the
notebook's metadata (``autograder``) for the grading driver's grades.json; the
autograded notebook stays with the instructor, and ``SanitizeFeedback`` drops that
metadata from what students receive.
"""
from __future__ import annotations

import json
from dataclasses import replace

from nbformat import NotebookNode
from nbformat.v4 import new_output
from nbgrader.preprocessors import NbGraderPreprocessor

from . import checks
from .checks import Verdict
from .kernel.wire import MARKER

VERDICT_TAG = {"autograder": "verdict"}
RESOURCE_KEY = "autograder"  # resources["autograder"]["nonce"]: set by GuardedExecute for this run


def cells_by_gid(nb: NotebookNode) -> dict:
    return {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade_id")}


def is_hidden_test(cell: NotebookNode) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return (cell.cell_type == "code" and meta.get("grade") and meta.get("locked") and not meta.get("solution")
            and meta.get("grade_id") in checks.POINTS)


def checks_of(assignment: str) -> list[str]:
    return [cid for cid, nb in checks.NOTEBOOK_OF.items() if nb == assignment]


def _judge_cell(cid, cell, nonce, expected):
    """(result, issues, flags) for one hidden-test cell of an executed notebook."""
    issues, flags = [], []
    text = "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream" and o.get("name") == "stdout")
    valid, forged, corrupt = [], 0, 0
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith(MARKER):
            continue
        try:
            payload = json.loads(line[len(MARKER):])
        except ValueError:
            corrupt += 1
            continue
        if isinstance(payload, dict) and nonce and payload.get("nonce") == nonce and payload.get("check") == cid:
            valid.append(payload)
        else:
            forged += 1
    if forged:
        flags.append(f"{cid}: {forged} result line(s) without this run's nonce (printed by student code?)")
    errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    if len(valid) == 1:
        result = checks.judge(cid, valid[0], expected)
        if errors:  # e.g. the cell timed out after the probe printed; the data stands
            issues.append(f"{cid}: {errors[0].get('ename')}: {errors[0].get('evalue', '')[:120]}")
        return result, issues, flags
    if len(valid) > 1:
        reason = "more than one result line for this check: tampering suspected"
        flags.append(f"{cid}: {reason}")
    elif errors:
        e = errors[0]
        ename, evalue = e.get("ename", "Error"), e.get("evalue", "")
        if ename == "AutograderNotRun":
            reason = evalue
        elif ename in ("CellTimeoutError", "KeyboardInterrupt"):
            reason = "the test cell ran past the time limit"
        else:
            reason = f"the test cell raised {ename}: {evalue[:200]}"
    elif forged and not nonce:
        reason = ("this run had no nonce, so no result line can be trusted "
                  "(was the notebook executed by the autograder?)")
    elif forged:
        reason = "the test cell printed no result line of this run (only lines without its nonce)"
    elif corrupt:
        reason = "the test cell printed an unreadable result line"
    else:
        reason = "the test cell printed no result (did it run?)"
    issues.append(f"{cid}: {reason}")
    return checks.not_graded(cid, reason), issues, flags


def judge_notebook(nb: NotebookNode, nonce: str, assignment: str,
                   expected: dict | None = None) -> tuple[dict[str, Verdict], list[str], list[str]]:
    """Judge every check of an executed notebook; returns (verdicts by check, issues, flags)."""
    cells = cells_by_gid(nb)
    expected = checks.load_expected(assignment) if expected is None else expected
    results, issues, flags = {}, [], []
    for cid in checks_of(assignment):
        cell = cells.get(cid)
        if cell is None:
            results[cid] = checks.not_graded(cid, "the test cell is missing from the graded notebook")
            issues.append(f"{cid}: test cell missing after autograde")
            continue
        results[cid], i, f = _judge_cell(cid, cell, nonce, expected)
        issues += i
        flags += f
    for i, cell in enumerate(nb.cells):  # student cells that timed out or stopped the kernel
        if cell.cell_type != "code" or cell.metadata.get("nbgrader", {}).get("grade_id") in results:
            continue
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error" and o.get("ename") in ("CellTimeoutError", "AutograderStopped"):
                name = cell.metadata.get("nbgrader", {}).get("grade_id", f"#{i}")
                issues.append(f"cell {name} (#{i}): {o.get('evalue') or 'ran past the time limit'}")
                break
    for cid, r in results.items():
        flags += [f"{cid}: {f}" for f in r.flags]
    return results, issues, flags


def verdict_text(r: Verdict) -> str:
    """What the instructor (formgrader) and the student (feedback) read under a hidden test."""
    lines = [f"Autograder: {r.check}: {r.points} / {r.max} points"]
    if r.note:
        lines.append(f"  note: {r.note}")
    for p in r.parts:
        mark = "ok" if p.passed else "--"
        lines.append(f"  [{mark}] {p.name} ({p.points}/{p.max})" + (f": {p.message}" if p.message else ""))
    return "\n".join(lines) + "\n"


def score_text(points: float) -> str:
    """The execute_result text nbgrader's determine_grade reads: a plain number."""
    return repr(float(points))


def verdict_outputs(r: Verdict, execution_count: int | None = None) -> list:
    """The hidden-test cell's outputs: the readable verdict and the score nbgrader reads."""
    points = min(max(float(r.points), 0.0), float(r.max))
    return [new_output("display_data", data={"text/plain": verdict_text(r)}, metadata=dict(VERDICT_TAG)),
            new_output("execute_result", data={"text/plain": score_text(points)}, metadata={},
                       execution_count=execution_count)]


def is_verdict(output: dict) -> bool:
    return output.get("output_type") == "display_data" and output.get("metadata", {}).get("autograder") == "verdict"


class JudgeHiddenTests(NbGraderPreprocessor):
    """Judge the probe lines of every hidden-test cell and leave the verdict and the score in its outputs."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        assignment = self._assignment(nb, resources)
        if assignment is None:  # no hidden test of this course in it: nothing to judge
            return nb, resources
        nonce = (resources.get(RESOURCE_KEY) or {}).get("nonce", "")
        results, issues, flags = judge_notebook(nb, nonce, assignment)
        for cid, cell in cells_by_gid(nb).items():
            if not is_hidden_test(cell):
                continue
            if cid not in results:  # another assignment's test pasted in: never credited here
                r = checks.not_graded(cid, f"{cid} is not a check of {assignment}")
                cell.outputs = verdict_outputs(replace(r, max=cell.metadata["nbgrader"].get("points", r.max)))
                issues.append(f"{cid}: not a check of {assignment}; 0 points")
                continue
            cell.outputs = verdict_outputs(results[cid], cell.get("execution_count"))
        nb.metadata["autograder"] = {"assignment": assignment,
                                     "checks": {cid: r.to_dict() for cid, r in results.items()}, "issues": issues,
                                     "flags": sorted(set(flags)), "nonce_set": bool(nonce)}
        self.log.info("judged %d check(s) of %s: %s / %s points", len(results), assignment,
                      sum(r.points for r in results.values()), sum(r.max for r in results.values()))
        return nb, resources

    @staticmethod
    def _assignment(nb, resources):
        named = (resources.get("nbgrader") or {}).get("notebook")
        if named in checks.EXPECTED_FILE:
            return named
        found = [checks.NOTEBOOK_OF[cid] for cid, cell in cells_by_gid(nb).items() if is_hidden_test(cell)]
        return max(sorted(set(found)), key=found.count) if found else None
