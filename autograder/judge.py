"""The judge inside nbgrader's autograde pipeline: one grading truth for every way of grading.

``JudgeHiddenTests`` runs after execution and before nbgrader's ``SaveAutoGrades``
(``nbgrader_config.apply`` puts it there), in the nbgrader process, never in the
kernel.  What runs where:

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

It then REPLACES each hidden-test cell's outputs with

* a readable verdict (``display_data``, text/plain, tagged ``{"autograder": "verdict"}``):
  the points, each part passed or failed with its message, as students see it in
  the feedback (messages never quote an expected value), and
* the points as an ``execute_result`` whose text is a number: that is what
  nbgrader's ``determine_grade`` turns into partial credit.

So ``nbgrader autograde``, formgrader's Autograde button and ``python -m autograder grade``
all give the same points, and a blank submission never earns any.  The full results
(parts with the instructor's detail, flags, issues) go into the notebook's metadata
(``autograder``) for the grading driver's grades.json; ``SanitizeFeedback`` drops that
metadata from what students receive.
"""
from __future__ import annotations

import ast
import json
from dataclasses import replace

from nbformat import NotebookNode
from nbformat.v4 import new_output
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Float, Unicode

from . import checks, seeding, timings
from .checks import Verdict
from .checks.fix_rules import clean, last_binding
from .checks.runner import DEFAULT_SEED, Remote, collect
from .kernel.wire import MARKER

VERDICT_TAG = {"autograder": "verdict"}
REFERENCE_STUB = "is not available to graded code"


def cells_by_gid(nb: NotebookNode) -> dict:
    """{grade_id: cell} of the notebook's nbgrader cells."""
    return {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade_id")}


def is_hidden_test(cell: NotebookNode) -> bool:
    """A locked, graded, non-solution code cell of one of the registry's checks."""
    meta = cell.metadata.get("nbgrader", {})
    return (cell.cell_type == "code" and meta.get("grade") and meta.get("locked") and not meta.get("solution")
            and meta.get("grade_id") in checks.POINTS)


def checks_of(assignment: str) -> list[str]:
    """The check ids of one assignment, in the registry's order."""
    return [cid for cid, nb in checks.NOTEBOOK_OF.items() if nb == assignment]


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

    def judge(self, check, cell, index: int) -> tuple[Verdict, list[str], list[str]]:
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
            stray = self.host.stray_frame() if self.host is not None and check.kind != "value" else None
        if stray and not any(f.startswith("protocol_violation") for f in run_flags):  # late: still this check's
            run_flags.append(f"protocol_violation: {stray}")
        flags += [f"{cid}: {f}" for f in run_flags]
        flags += [f"{cid}: {f}" for f in reference_flags(check, data)]
        payload = {"data": data, "flags": [f.split(": ", 1)[1] for f in flags if f.startswith(f"{cid}: ")]}
        result = checks.judge(cid, payload, {cid: entry})
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
    value_cells = {id(cells[cid]) for cid in checks_of(assignment)
                   if cid in cells and checks.BY_ID[cid].kind == "value"}
    try:
        for cid in checks_of(assignment):
            cell = cells.get(cid)
            if cell is None:
                results[cid] = checks.not_graded(cid, "the test cell is missing from the graded notebook")
                issues.append(f"{cid}: test cell missing after autograde")
                continue
            results[cid], i, f = run.judge(checks.BY_ID[cid], cell, index[id(cell)])
            issues += i
            flags += f
    finally:
        run.close()
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        name = cell.metadata.get("nbgrader", {}).get("grade_id", f"#{i}")
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
    """Judge every hidden-test cell (function checks through the host, value checks from the reporter's line)."""

    sandbox = Bool(False, help="Run the function host under bubblewrap (as the grading kernel is).").tag(config=True)
    secret_path = Unicode("", help="The course secret's file (created 0600 on first use); empty: "
                                   "<work folder>/course_secret.").tag(config=True)
    call_timeout = Float(120.0, help="Seconds one call of a student function may take in the host.").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        assignment = self._assignment(nb, resources)
        if assignment is None:  # no hidden test of this course in it: nothing to judge
            return nb, resources
        student = str((resources.get("nbgrader") or {}).get("student") or "")
        secret = seeding.course_secret(self.secret_path or self._default_secret())
        base = seeding.submission_seed(secret, assignment, student, seeding.notebook_digest(nb))
        with timings.phase("judge (verdicts, host stop)"):
            results, issues, flags = judge_notebook(
                nb, assignment, base_seed=base,
                host_options={"sandbox": self.sandbox, "call_timeout": self.call_timeout})
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
                                     "flags": sorted(set(flags))}
        self.log.info("judged %d check(s) of %s: %s / %s points", len(results), assignment,
                      sum(r.points for r in results.values()), sum(r.max for r in results.values()))
        return nb, resources

    @staticmethod
    def _default_secret():
        from .settings import work_folder
        return work_folder() / seeding.SECRET_NAME

    @staticmethod
    def _assignment(nb, resources):
        named = (resources.get("nbgrader") or {}).get("notebook")
        if named in checks.EXPECTED_FILE:
            return named
        found = [checks.NOTEBOOK_OF[cid] for cid, cell in cells_by_gid(nb).items() if is_hidden_test(cell)]
        return max(sorted(set(found)), key=found.count) if found else None
