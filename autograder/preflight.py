"""Refuse a grading run before it harms: a kernel started exactly as the submissions' are must work.

When the environment is wrong (the venv's ``helpers`` is an editable install of another checkout
than the one ``grade`` runs from and the sandbox bound the wrong folder, the kernel side of the
autograder cannot be imported, bubblewrap cannot start a kernel), every check of every submission
fails the same way, and each student would be told it was their fault.  So before grading,
``check_kernel`` executes one small notebook with the course's own ``GuardedExecute`` (the same
kernel manager, sandbox and IPython profile as a submission): it imports ``helpers`` and the
kernel side (``autograder.kernel.reporter``) and evaluates a known value.  ``check_host`` does the
same for the function host (``autograder.host``), where graded functions run: a known function,
exec'd and called through the same sandbox, must give the known answer.  If anything
differs from what this process computes, ``PreflightFailed`` says which ``helpers`` the kernel's
interpreter resolves, which folders the sandbox binds, what the kernel said, and how to fix it.

During a run, ``environment_error`` tells a grader-side failure in one executed notebook (a
module the grading interpreter has but the kernel could not import) from a student's mistake,
and ``EnvironmentWatch`` stops the run when it hits several submissions in a row.

"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import bwrap
from .bwrap import kernel_python, resolve_packages
from .nbgrader_config import REPO

MARKER = "AUTOGRADER_PREFLIGHT "
# A known value from helpers, computed here and in the kernel: equal when both run the same code.
KNOWN_P, KNOWN_Q = [[0.5, 0.5]], [[0.9, 0.1]]
PREFLIGHT_CELL = (
    "import json\n"
    "import helpers\n"
    "import autograder.kernel.reporter\n"
    "from helpers.metrics import js_divergence\n"
    f"print({MARKER!r} + json.dumps({{'helpers': list(helpers.__path__), "
    f"'value': float(js_divergence({KNOWN_P!r}, {KNOWN_Q!r}))}}))\n"
)
# Submissions in a row that fail on the environment before the run stops (fewer when the run is smaller).
STOP_AFTER = 3


class PreflightFailed(RuntimeError):
    """The grading kernel cannot run the course's checks here; the message names the cause and the fix."""


@dataclass
class KernelReport:
    """What the preflight kernel did: the helpers it imported, the value, or the error it printed."""

    helpers: list[str] = field(default_factory=list)
    value: float | None = None
    error: str = ""


def _fix_hint(kernel_helpers: list[str], bound: list[str] | None = None) -> str:
    ours = str(REPO / "helpers")
    if bound is not None and kernel_helpers and not set(kernel_helpers) <= set(bound):
        return (f"the sandbox binds {', '.join(bound) or 'nothing'} but the kernel imports helpers from "
                f"{', '.join(kernel_helpers)}: report this as a bug of autograder.bwrap.package_dirs; meanwhile "
                f"reinstall the venv from this checkout (`{kernel_python()} -m pip install -e {REPO}`)")
    if kernel_helpers and ours not in kernel_helpers:
        return (f"the venv's `helpers` is not this checkout's ({ours}): reinstall it from here with "
                f"`{kernel_python()} -m pip install -e {REPO}` (or `make venv` in this checkout), or run "
                "grade from the checkout the venv was installed from")
    if not kernel_helpers:
        return (f"the kernel's interpreter ({kernel_python()}) cannot import `helpers` at all: install it with "
                f"`{kernel_python()} -m pip install -e {REPO}` (or `make venv`)")
    return ("run `make venv` in this checkout, check `bwrap` works (`bwrap --unshare-all --ro-bind / / true`), "
            "and see workers.log; --unsandboxed grades without the sandbox only where bwrap cannot work")


def run_kernel(sandbox: Any, timeout: int = 120, cell: str = PREFLIGHT_CELL) -> KernelReport:
    """Execute ``cell`` in one kernel configured exactly as a submission's (``nbgrader_config.apply``,
    ``GuardedExecute``, the sandbox when ``sandbox`` is not False); returns what it printed."""
    import nbformat
    from traitlets.config import Config

    from .nbgrader_config import apply, ensure_tools_on_path
    from .preprocessors.execute import GuardedExecute

    ensure_tools_on_path()
    scratch = Path(tempfile.mkdtemp(prefix="ag-preflight-"))
    before = os.environ.get("IPYTHONDIR")
    try:
        (scratch / "ipython").mkdir()
        (scratch / "nb").mkdir()
        os.environ["IPYTHONDIR"] = str(scratch / "ipython")  # a clean profile, as the worker sets it
        cfg = apply(Config(), work=scratch, root=scratch, timeout=timeout,
                    sandbox={"wall_s": float(timeout) + 60, **(sandbox if isinstance(sandbox, dict) else {})}
                    if sandbox else False)
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        ex = GuardedExecute(config=cfg)
        report = KernelReport()
        try:
            nb, _ = ex.preprocess(nb, {"metadata": {"path": str(scratch / "nb")}})
        except Exception as exc:  # noqa: BLE001 - the kernel did not start: that is the finding
            report.error = f"{type(exc).__name__}: {str(exc).strip()[:600]}"
            return report
        for out in nb.cells[0].get("outputs", []):
            if out.get("output_type") == "error":
                report.error = f"{out.get('ename')}: {out.get('evalue')}"
            for line in str(out.get("text", "")).splitlines():
                if line.startswith(MARKER):
                    data = json.loads(line[len(MARKER):])
                    report.helpers, report.value = list(data["helpers"]), float(data["value"])
        if report.value is None and not report.error:
            report.error = "the kernel printed nothing (it may have died at start; see workers.log)"
        return report
    finally:
        if before is None:
            os.environ.pop("IPYTHONDIR", None)
        else:
            os.environ["IPYTHONDIR"] = before
        shutil.rmtree(scratch, ignore_errors=True)


def check_kernel(sandbox: Any, timeout: int = 120) -> KernelReport:
    """Raise PreflightFailed, naming the cause and the fix, unless a submission-like kernel imports
    ``helpers`` and the kernel side and computes the known value as this process does."""
    from helpers.metrics import js_divergence

    expected = float(js_divergence(KNOWN_P, KNOWN_Q))
    report = run_kernel(sandbox, timeout)
    if report.value is not None and abs(report.value - expected) <= 1e-12 and not report.error:
        return report
    resolved = resolve_packages(kernel_python())
    bound = bwrap.package_dirs(python=kernel_python()) if sandbox else None
    why = report.error or f"the known value came out {report.value}, expected {expected} (a different helpers)"
    raise PreflightFailed(
        "grading refused before any submission was graded: a kernel started as the submissions' kernels are "
        f"could not run the course's checks.\n  kernel said: {why}\n"
        f"  kernel interpreter: {kernel_python()}\n"
        f"  helpers that interpreter resolves: {', '.join(resolved) or 'none (it cannot import helpers)'}\n"
        f"  helpers this grading checkout holds: {REPO / 'helpers'}\n"
        f"  folders the sandbox binds for helpers: "
        f"{'(unsandboxed: none; the kernel sees this machine)' if bound is None else ', '.join(bound) or 'none'}\n"
        f"  fix: {_fix_hint(resolved, bound)}.\nNothing was graded; no grade or feedback changed.")


HOST_CELL = "def preflight_sum(x):\n    return float(np.asarray(x).sum())\n"


def check_host(sandbox: Any, timeout: float = 120.0) -> None:
    """Raise PreflightFailed unless a function host started as the grading run's (sandboxed when
    ``sandbox`` is) execs a known cell and returns the known value."""
    from .host.client import FunctionHost

    host = FunctionHost(sandbox=bool(sandbox), call_timeout=timeout)
    try:
        host.add_cell("preflight", HOST_CELL)
        result = host.call("preflight", "preflight_sum", ([1.0, 2.0, 3.5],), "plain")
    finally:
        host.close()
    if result.get("ok") and result.get("value") == 6.5:
        return
    raise PreflightFailed(
        "grading refused before any submission was graded: the function host, where graded functions run, "
        f"could not run a known function.\n  host said: {result.get('error') or result}\n"
        f"  interpreter: {kernel_python()}; sandboxed: {bool(sandbox)}\n"
        f"  fix: {_fix_hint(resolve_packages(kernel_python()))}.\nNothing was graded; no grade or feedback changed.")


def environment_error(notebook: Path | str | None) -> str | None:
    """The grader-side failure in one executed notebook, or None: a module the kernel could not import
    although this (grading) interpreter can (``helpers``, the autograder's kernel side, numpy...)."""
    import importlib.util

    import nbformat
    if not notebook or not Path(notebook).is_file():
        return None
    try:
        nb = nbformat.read(notebook, as_version=4)
    except Exception:  # noqa: BLE001 - unreadable: not an environment finding
        return None
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") != "error" or out.get("ename") not in ("ModuleNotFoundError", "ImportError"):
                continue
            evalue = str(out.get("evalue", ""))
            if "No module named" not in evalue:
                continue
            name = evalue.split("No module named", 1)[1].strip(" '\"").split("'")[0]
            try:  # the full dotted name: a student's `helpers.no_such_module` is their own mistake
                present = bool(name) and importlib.util.find_spec(name) is not None
            except (ImportError, ValueError):
                present = False
            if present:
                return (f"grader-side environment error: the kernel could not import {name!r}, which the grading "
                        f"environment has ({evalue}); not the student's fault")
    return None


class EnvironmentWatch:
    """Counts submissions in a row that failed on the environment; ``stop`` is set after ``limit``."""

    def __init__(self, limit: int = STOP_AFTER) -> None:
        self.limit = max(1, limit)
        self.in_row = 0
        self.reason: str | None = None
        self.stop = threading.Event()
        self._lock = threading.Lock()

    def record(self, problem: str | None) -> None:
        """One graded submission's environment problem (None: it ran as a submission should)."""
        with self._lock:
            self.in_row = self.in_row + 1 if problem else 0
            if problem and self.in_row >= self.limit and not self.stop.is_set():
                self.reason = (f"the run stopped after {self.in_row} submissions in a row failed on the grading "
                               f"environment (last: {problem}); fix the environment and grade again")
                self.stop.set()
