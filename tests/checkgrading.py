"""Grading student code without nbgrader, shared by the check modules' tests (tests/checks/ and others).

Student code runs in a real function host (one unsandboxed host process per test module, closed by
``close_hosts``; the sandboxed host is tested in host/test_client.py), the probe runs here with the
DEFAULT seed against the stored expected values; value checks go through the kernel's reporter line as
plain values.  The end-to-end test (test_autograder_e2e.py) repeats the important cases through nbgrader.
"""
from __future__ import annotations

import ast
import itertools
from pathlib import Path

import nbformat

from autograder import checks
from autograder.checks.fix_rules import last_binding
from autograder.checks.runner import DEFAULT_SEED, Remote, collect
from autograder.hidden_tests import reference_flags, reported_values
from autograder.host.client import FunctionHost
from autograder.kernel.encoding import encode, plain
from autograder.kernel.wire import MARKER

ROOT = Path(__file__).resolve().parent.parent
LAB_NB = ROOT / "notebooks" / "week6_lab" / "week6_lab.ipynb"
EXPECTED = {**checks.load_expected("week6_lab"), **checks.load_expected("week6_homework")}

_CELLS = itertools.count()
_HOST: list[FunctionHost] = []


def close_hosts() -> None:
    """Stop the function host started by ``host`` (tests/conftest.py calls it after each test module)."""
    while _HOST:
        _HOST.pop().close()
def host() -> FunctionHost:
    """The module's function host (started on first use)."""
    if not _HOST:
        _HOST.append(FunctionHost(sandbox=False, call_timeout=60))
    return _HOST[0]


def reporter_line(check_id: str, source: str, names: tuple[str, ...]) -> str:
    """What the kernel's reporter prints for a cell: run it here, as the kernel would, then report."""
    ns: dict = {}
    exec(source, ns)
    values, missing, unreadable = {}, [], {}
    for n in names:
        if n not in ns:
            missing.append(n)
        else:
            try:
                values[n] = plain(ns[n])
            except Exception as exc:  # noqa: BLE001
                unreadable[n] = str(exc)
    return MARKER + " " + encode({"check": check_id, "values": values, "missing": missing,
                                  "unreadable": unreadable}) + "\n"


def grade(check_id, source, seed=DEFAULT_SEED, expected=None):
    """Grade ``source`` as the cell that defines the check's names (function checks: in the host), on
    inputs drawn from ``seed`` (``expected``: that seed's entries; the stored default-seed ones if None)."""
    check = checks.BY_ID[check_id]
    if check.kind == "value":
        cell = nbformat.v4.new_code_cell("")
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout",
                                               text=reporter_line(check_id, source, check.reads))]
        ns, reason, _ = reported_values(check_id, cell)
        assert ns is not None, reason
    else:
        key = f"c{next(_CELLS)}"
        host().add_cell(key, source)
        tree = ast.parse(source or "pass")
        ns = {n: Remote(host(), key, n, source) for n in check.reads if last_binding(tree, n) is not None}
    data, flags = collect(check, ns, seed)
    flags += reference_flags(check, data)
    return checks.verdict_of(check_id, {"data": data, "flags": flags}, EXPECTED if expected is None else expected)


def parts(result):
    """{part name: points} of a verdict."""
    return {p.name: p.points for p in result.parts}


def executed_notebook(cells: list) -> nbformat.NotebookNode:
    """A notebook of locked, graded test cells: (grade id, outputs) each, as autograde leaves them."""
    nb = nbformat.v4.new_notebook()
    for gid, outputs in cells:
        c = nbformat.v4.new_code_cell("")
        c.metadata["nbgrader"] = {"grade": True, "grade_id": gid, "locked": True, "solution": False, "points": 1}
        c.outputs = outputs
        nb.cells.append(c)
    return nb


def report_line(check_id: str, values: dict) -> str:
    """The reporter's marked line for ``values``, as a value check's test cell prints it."""
    return MARKER + " " + encode({"check": check_id, "values": values, "missing": [], "unreadable": {}}) + "\n"
