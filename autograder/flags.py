"""Instructor flags read from a submission's notebook: what a grade alone would not show.

Each flag names the cell (its nbgrader grade id, else its position ``#i``), and ends in
``SubmissionResult.flags``, so summary.txt and the class report (``report.py``) list it under the
submission.  Flags never change a grade.

* ``notebook_edit_flags(submitted, release)``: the notebook's JSON edited where a student has no
  business (a hidden or locked cell's points, grade/solution/locked flags or cell type; the
  kernelspec), cells with duplicated grade ids, and predictions made or changed after their
  observation (from the notebook's own execution counts, and from the record ``observe`` printed).
* ``output_flags(executed)``: student cells whose output looks like the autograder's own (a verdict
  line, the probe's result marker), which could mislead a reader of the feedback.
* ``duplicate_ids(nb)``: grade ids that occur more than once, with their cells (also an issue: nbgrader
  cannot grade such a notebook, and says only "see the above traceback").
"""
from __future__ import annotations

import ast
import math
import re
from collections import defaultdict
from typing import Any

from nbformat import NotebookNode
from nbgrader import utils

from .cells import grade_id, is_verdict, nbgrader_fields
from .hidden_tests import is_hidden_test
from .kernel.wire import MARKER

# The nbgrader cell metadata a student must not change, and the notebook metadata.
LOCKED_FIELDS = ("grade", "solution", "locked", "points", "task")
# Output a student cell has no reason to print: the judge's verdict line or the probe's marker.
VERDICT_LIKE = re.compile(rf"Autograder:\s*\S+\s*:?.*\bpoints?\b|{re.escape(MARKER)}"
                          r"|No autograder result for this check")
PREDICT_PREFIX = "predict_"
OBSERVE_CALL = re.compile(r"""\bobserve\(\s*["']([A-Za-z0-9_]+)["']""")
OBSERVE_RECORD = "PREDICT_OBSERVE_JSON "  # helpers.notebook.predict.MARKER (helpers is not imported here)


def cell_name(cell: NotebookNode, index: int) -> str:
    """The cell's grade id, else its position: how flags and issues name a cell."""
    return grade_id(cell) or f"#{index}"


def duplicate_ids(nb: NotebookNode) -> dict[str, list[int]]:
    """Grade ids that occur in more than one cell, with those cells' positions."""
    where: dict[str, list[int]] = defaultdict(list)
    for i, c in enumerate(nb.cells):
        gid = grade_id(c)
        if gid:
            where[gid].append(i)
    return {gid: pos for gid, pos in where.items() if len(pos) > 1}


def _metadata_flags(submitted: NotebookNode, release: NotebookNode) -> list[str]:
    flags = []
    sub_cells: dict[str, list[NotebookNode]] = defaultdict(list)
    for c in submitted.cells:
        gid = grade_id(c)
        if gid:
            sub_cells[gid].append(c)
    for c in release.cells:
        gid = grade_id(c)
        if not gid or not sub_cells.get(gid):
            continue
        kind = "hidden" if is_hidden_test(c) else "locked" if utils.is_locked(c) else "answer"
        # The stored fields themselves, not nbgrader's reading of them: any edit is flagged.
        meta = nbgrader_fields(c)
        for sc in sub_cells[gid]:
            smeta = nbgrader_fields(sc)
            if sc.cell_type != c.cell_type:
                flags.append(f"cell {gid}: {kind} cell's type changed from {c.cell_type} to {sc.cell_type}")
            for f in LOCKED_FIELDS:
                if smeta.get(f) != meta.get(f):
                    flags.append(f"cell {gid}: {kind} cell's nbgrader {f} changed from {meta.get(f)!r} "
                                 f"to {smeta.get(f)!r}")
    released = {grade_id(c) for c in release.cells}
    for i, c in enumerate(submitted.cells):
        gid = grade_id(c)
        if gid and gid not in released and (utils.is_grade(c) or utils.is_locked(c)):
            flags.append(f"cell {cell_name(c, i)}: graded/locked nbgrader metadata on a cell the release does "
                         "not have")
    sk, rk = submitted.metadata.get("kernelspec", {}), release.metadata.get("kernelspec", {})
    for f in ("name", "language"):
        if sk.get(f) != rk.get(f):
            flags.append(f"notebook kernelspec {f} changed from {rk.get(f)!r} to {sk.get(f)!r}")
    return flags


def _predicted_value(source: str, key: str) -> Any:
    """The literal value of the last ``predict(key, value, ...)`` call in ``source`` (None: none)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    found = None
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "predict"
                and len(node.args) >= 2 and isinstance(node.args[0], ast.Constant) and node.args[0].value == key):
            try:
                found = ast.literal_eval(node.args[1])
            except ValueError:
                continue
    return found


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return str(a).strip().lower() == str(b).strip().lower()


def _observed_record(cell: NotebookNode, key: str) -> dict[str, Any] | None:
    import json
    for o in cell.get("outputs", []):
        for line in o.get("text", "").splitlines() if o.get("output_type") == "stream" else []:
            if line.startswith(OBSERVE_RECORD):
                try:
                    rec = json.loads(line[len(OBSERVE_RECORD):])
                except ValueError:
                    continue
                if isinstance(rec, dict) and rec.get("key") == key:
                    return rec
    return None


def _prediction_flags(nb: NotebookNode) -> list[str]:
    flags = []
    observers: dict[str, list[tuple[int, NotebookNode]]] = defaultdict(list)
    for i, c in enumerate(nb.cells):
        if c.cell_type == "code":
            for key in set(OBSERVE_CALL.findall(c.source)):
                observers[key].append((i, c))
    for c in nb.cells:
        gid = grade_id(c) or ""
        if c.cell_type != "code" or not gid.startswith(PREDICT_PREFIX):
            continue
        key = gid[len(PREDICT_PREFIX):]
        for j, obs in observers.get(key, []):
            p_run, o_run = c.get("execution_count"), obs.get("execution_count")
            if isinstance(p_run, int) and isinstance(o_run, int) and p_run > o_run:
                flags.append(f"cell {gid}: prediction run (execution {p_run}) after its observation in cell "
                             f"{cell_name(obs, j)} (execution {o_run})")
            rec = _observed_record(obs, key)
            now = _predicted_value(c.source, key)
            if rec is not None and now is not None and not _same(now, rec.get("prediction")):
                flags.append(f"cell {gid}: prediction edited after its observation: the observation in cell "
                             f"{cell_name(obs, j)} recorded {rec.get('prediction')!r}, the cell now predicts {now!r}")
    return flags


def notebook_edit_flags(submitted: NotebookNode, release: NotebookNode) -> list[str]:
    """Flags from the submitted notebook itself, compared with the release (see the module docstring)."""
    flags = _metadata_flags(submitted, release)
    for gid, pos in duplicate_ids(submitted).items():
        flags.append(f"grade id {gid} appears in {len(pos)} cells (positions {', '.join(map(str, pos))})")
    return flags + _prediction_flags(submitted)


def duplicate_id_issues(submitted: NotebookNode) -> list[str]:
    """Issues naming duplicated grade ids (nbgrader refuses such a notebook with a bare traceback)."""
    return [f"grade id {gid} is used by {len(pos)} cells (positions {', '.join(map(str, pos))}); nbgrader needs "
            f"each grade id once: keep one cell {gid} (delete or rename the copies)"
            for gid, pos in duplicate_ids(submitted).items()]


def output_flags(nb: NotebookNode | None) -> list[str]:
    """Student cells (not hidden tests) whose outputs look like the autograder's verdicts or marker."""
    flags = []
    for i, c in enumerate(nb.cells if nb is not None else []):
        if c.cell_type != "code" or is_hidden_test(c):
            continue
        for o in c.get("outputs", []):
            if is_verdict(o):
                flags.append(f"cell {cell_name(c, i)}: an output tagged as an autograder verdict")
                break
            texts = [o.get("text", "")] if o.get("output_type") == "stream" else \
                [v for v in (o.get("data") or {}).values() if isinstance(v, str)]
            hit = next((m.group(0) for t in texts for m in [VERDICT_LIKE.search(t)] if m), None)
            if hit:
                flags.append(f"cell {cell_name(c, i)}: prints a verdict-like line ({hit[:60]!r})")
                break
    return flags
