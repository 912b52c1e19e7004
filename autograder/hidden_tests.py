"""Judging a notebook's hidden tests, outside the kernel: one grading truth for every way of grading.

``judge_notebook`` gives every check of an executed notebook its verdict; the preprocessor
``preprocessors.judge_hidden_tests.JudgeHiddenTests`` calls it inside nbgrader's autograde
pipeline (after execution, before ``SaveAutoGrades``) and writes the verdicts into the cells.
What runs where:

* FUNCTION checks: the student's kernel runs nothing for them (their hidden-test cell is a
  comment).  Here the judge finds, for each graded name, the cell that defines it (the
  last one before the check's test cell), starts the function host (``autograder.host``:
  a separate process in the kernel's sandbox shape, without references, answer key,
  expected values or the course secret), and runs the check's probe HERE with a namespace
  whose functions forward calls to the host.  Inputs are drawn from the run's seed
  (``seeding``: HMAC of the course secret, the assignment, the student and the notebook's
  cell sources); the expected entry for that seed is built here on the course references.
* VALUE checks (the student's own answers): their test cell calls the kernel's reporter,
  which prints the named values as one marked line; the judge requires exactly one such
  line there (else 0 and a flag) and runs the probe's value logic here on those plain values.
* A marked line anywhere else is never read, only flagged.

Each check's points come from the registry (``checks.verdict_of``, which calls the check's own
``Check.judge``).
"""
from __future__ import annotations

import ast
import json

from nbformat import NotebookNode
from nbgrader import utils

from . import checks, seeding, timings
from .cells import cells_by_gid, grade_id
from .checks import Verdict
from .checks.fix_rules import clean, last_binding
from .checks.runner import DEFAULT_SEED, Remote, collect
from .kernel.wire import MARKER

REFERENCE_STUB = "is not available to graded code"


def is_hidden_test(cell: NotebookNode) -> bool:
    """A graded, non-solution code cell of one of the registry's checks (nbgrader treats such a cell as locked)."""
    return (cell.cell_type == "code" and bool(utils.is_grade(cell)) and not utils.is_solution(cell)
            and grade_id(cell) in checks.POINTS)


def reference_flags(check: checks.Check, data: dict) -> list[str]:
    """A flag when graded code called a course reference (a stub in the host: the call failed, nothing gained)."""
    if REFERENCE_STUB in json.dumps(data, default=str):
        return [f"reference_call:{check.skill or check.id}: graded code called a course reference "
                "(a stub in the function host; that call failed)"]
    return []


class Unreadable:
    """A reported answer the reporter could not turn into plain data (the probe's read fails with ``reason``)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def marked_lines(cell: NotebookNode) -> list[str]:
    """The marked lines a cell printed on stdout (the marker removed)."""
    text = "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream" and o.get("name") == "stdout")
    return [line.strip()[len(MARKER):] for line in text.splitlines() if line.strip().startswith(MARKER)]


def _cell_failure(cell):
    errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    if not errors:
        return ""
    e = errors[0]
    ename, evalue = e.get("ename", "Error"), e.get("evalue", "")
    if ename == "AutograderNotRun":
        return evalue
    if ename in ("CellTimeoutError", "KeyboardInterrupt"):
        return "the test cell ran past the time limit"
    return f"the test cell raised {ename}: {evalue[:200]}"


def reported_values(cid: str, cell: NotebookNode) -> tuple[dict | None, str, list[str]]:
    """(namespace of reported values or None, reason when None, flags) of a value check's test cell."""
    payloads, others = [], 0
    for body in marked_lines(cell):
        try:
            p = json.loads(body)
        except ValueError:
            others += 1
            continue
        if isinstance(p, dict) and p.get("check") == cid and isinstance(p.get("values"), dict):
            payloads.append(p)
        else:
            others += 1
    extra = [f"{cid}: {others} other result line(s) in its test cell (ignored; printed by student code?)"] \
        if others else []
    if len(payloads) == 1:
        p = payloads[0]
        ns = dict(p["values"])
        ns.update({k: Unreadable(v) for k, v in (p.get("unreadable") or {}).items()})
        return ns, "", extra
    if len(payloads) > 1:
        reason = "more than one result line for this check in its test cell: tampering suspected"
        return None, reason, [f"{cid}: {reason}", *extra]
    return None, (_cell_failure(cell) or "the test cell printed no result (did it run?)"), extra


def defining_cells(nb: NotebookNode, names: tuple[str, ...], before: int) -> dict[str, int]:
    """{name: index of the last code cell before ``before`` whose top level binds it} (test cells excluded)."""
    found: dict[str, int] = {}
    for i, cell in enumerate(nb.cells[:before]):
        if cell.cell_type != "code" or is_hidden_test(cell):
            continue
        try:
            tree = ast.parse(clean(str(cell.source)))
        except SyntaxError:
            continue
        for name in names:
            if last_binding(tree, name) is not None:
                found[name] = i
    return found


class _Run:
    """One notebook's judging: its function host (started on first use), seeds and flags."""

    def __init__(self, nb: NotebookNode, base_seed: int | None, expected: dict | None, host_options: dict) -> None:
        self.nb, self.base_seed, self.expected, self.host_options = nb, base_seed, expected, host_options
        self.host = None

    def function_host(self):
        if self.host is None:
            from .host.client import FunctionHost, take_prepared
            # The worker may have started this submission's host already (its imports overlap the kernel's).
            self.host = take_prepared(**self.host_options) or FunctionHost(**self.host_options)
        return self.host

    def close(self) -> None:
        if self.host is not None:
            self.host.close()

    def entry(self, check) -> tuple[dict, int]:
        if self.base_seed is None:  # the stored entries of the DEFAULT seed (tests, build-expected)
            stored = self.expected if self.expected is not None else checks.load_expected(check.notebook)
            return stored[check.id], DEFAULT_SEED
        return seeding.expected_for(check, self.base_seed)

    def grade_check(self, check, cell, index: int) -> tuple[Verdict, list[str], list[str]]:
        """(verdict, issues, flags) of one check."""
        cid, issues, flags = check.id, [], []
        if check.kind == "value":
            ns, reason, flags = reported_values(cid, cell)
            if ns is None:
                return checks.not_graded(cid, reason), [f"{cid}: {reason}"], flags
        else:
            ns = {}
            where = defining_cells(self.nb, check.reads, index)
            for name in check.reads:
                if name in where:
                    key, source = f"cell{where[name]}", str(self.nb.cells[where[name]].source)
                    self.function_host().add_cell(key, source)
                    ns[name] = Remote(self.function_host(), key, name, source)
        with timings.phase(f"expected values: {cid}"):  # built for this run's seed (cached per seed)
            entry, seed = self.entry(check)
        with timings.phase(f"probe: {cid}"):
            data, run_flags = collect(check, ns, seed)
            stray = self.host.fence() if self.host is not None and check.kind != "value" else None
        if stray and not any(f.startswith("protocol_violation") for f in run_flags):  # late: still this check's
            run_flags.append(f"protocol_violation: {stray}")
        flags += [f"{cid}: {f}" for f in run_flags]
        flags += [f"{cid}: {f}" for f in reference_flags(check, data)]
        payload = {"data": data, "flags": [f.split(": ", 1)[1] for f in flags if f.startswith(f"{cid}: ")]}
        result = checks.verdict_of(cid, payload, {cid: entry})
        return result, issues, flags


def judge_notebook(nb: NotebookNode, assignment: str, expected: dict | None = None, base_seed: int | None = None,
                   host_options: dict | None = None) -> tuple[dict[str, Verdict], list[str], list[str]]:
    """Judge every check of an executed notebook; returns (verdicts by check, issues, flags).

    ``base_seed`` None: the DEFAULT seed's inputs and the stored (or given) expected entries;
    else the run's seed (``seeding.submission_seed``) and entries built for it.
    """
    results, issues, flags = {}, [], []
    index = {id(c): i for i, c in enumerate(nb.cells)}
    cells = cells_by_gid(nb)
    run = _Run(nb, base_seed, expected, {"sandbox": False, **(host_options or {})})
    value_cells = {id(cells[cid]) for cid in checks.checks_of(assignment)
                   if cid in cells and checks.BY_ID[cid].kind == "value"}
    try:
        for cid in checks.checks_of(assignment):
            cell = cells.get(cid)
            if cell is None:
                results[cid] = checks.not_graded(cid, "the test cell is missing from the graded notebook")
                issues.append(f"{cid}: test cell missing after autograde")
                continue
            results[cid], i, f = run.grade_check(checks.BY_ID[cid], cell, index[id(cell)])
            issues += i
            flags += f
    finally:
        run.close()
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        name = grade_id(cell) or f"#{i}"
        if id(cell) not in value_cells and marked_lines(cell):  # never read: only flagged
            flags.append(f"cell {name}: printed {len(marked_lines(cell))} result line(s) outside a value check's "
                         "test cell (ignored; printed by student code?)")
        if name in results:
            continue
        for o in cell.get("outputs", []):  # student cells that timed out or stopped the kernel
            if o.get("output_type") == "error" and o.get("ename") in ("CellTimeoutError", "AutograderStopped"):
                issues.append(f"cell {name} (#{i}): {o.get('evalue') or 'ran past the time limit'}")
                break
    for cid, r in results.items():
        flags += [f"{cid}: {f}" for f in r.flags if f"{cid}: {f}" not in flags]
    return results, issues, flags
