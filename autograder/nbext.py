"""The course's nbgrader preprocessors (the judge itself is in ``judge.py``).

``GuardedExecute`` replaces nbgrader's ``Execute`` in ``autograde``: a cell that
ignores the timeout interrupt, or a kernel that dies, stops the notebook there
(the cells that ran keep their outputs; the rest are marked as not run) instead
of hanging the grading run or losing the whole submission.  Nothing of the
autograder is loaded into the kernel at start: function checks run in the function
host (``autograder.host``), and a value check's test cell imports the reporter itself.

``SanitizeFeedback`` runs in ``generate_feedback``: hidden test cells lose their
source and show only the judge's verdict (nbgrader would otherwise show the
hidden tests); the reporter's marked lines are removed everywhere, and so is the
judge's instructor detail in the notebook metadata.
"""
from __future__ import annotations

import asyncio
import time
from typing import Any

from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbformat.v4 import new_output
from nbgrader import utils
from nbgrader.preprocessors import Execute, NbGraderPreprocessor, OverwriteCells
from traitlets import Integer, Type

from .judge import is_verdict
from .kernel.wire import MARKER

NOT_RUN = "AutograderNotRun"
STOPPED = "AutograderStopped"


def _error(ename: str, evalue: str) -> NotebookNode:
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class GuardedExecute(Execute):
    interrupt_grace = Integer(
        5, help="Seconds a kernel gets to answer after a timeout interrupt before it is stopped."
    ).tag(config=True)

    sandbox_kernel_manager_class = Type(
        None, allow_none=True, klass="jupyter_client.manager.KernelManager",
        help="Kernel manager to use instead of nbgrader's (which passes its own as a keyword and so beats "
             "the config): autograder.sandbox.SandboxKernelManager runs the kernel under bubblewrap."
    ).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any] | None = None,
                   km: Any = None) -> tuple[NotebookNode, dict[str, Any]]:
        self._ag_stop = None
        if self.sandbox_kernel_manager_class is not None:
            self.kernel_manager_class = self.sandbox_kernel_manager_class
        resources = resources if resources is not None else {}
        return super().preprocess(nb, resources, km)

    async def _async_handle_timeout(self, timeout, cell=None):
        self._ag_timed_out = True
        return await super()._async_handle_timeout(timeout, cell)

    async def _ag_responds(self):
        """True when the kernel answers a no-op within the grace period (the interrupt worked)."""
        msg_id = self.kc.execute("", silent=True, store_history=False)
        deadline = time.monotonic() + self.interrupt_grace
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=left))
            except Exception:  # queue.Empty: nothing within the grace period
                return False
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                return True

    def preprocess_cell(self, cell: NotebookNode, resources: dict[str, Any],
                        index: int) -> tuple[NotebookNode, dict[str, Any]]:
        if self._ag_stop:
            if cell.cell_type == "code":
                cell.outputs = [_error(NOT_RUN, self._ag_stop)]
                cell.execution_count = None
            return cell, self.resources
        self._ag_timed_out = False
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            breach = getattr(self.km, "breach", None)  # set by the sandbox when a limit stopped the kernel
            self._ag_stop = f"not run: the kernel died in cell {index}" + (f" ({breach})" if breach else "")
            cell.outputs.append(_error(STOPPED, (f"{breach}: " if breach else "") +
                                       "the kernel died while this cell ran (killed or crashed); "
                                       "the cells after it were not run"))
            return cell, self.resources
        except CellTimeoutError:  # no reply and no idle output after the interrupt: probably swallowed
            self._ag_timed_out = True
            cell.outputs.append(_error("CellTimeoutError", "the cell ran past the time limit"))
        if self._ag_timed_out and cell.cell_type == "code":
            alive = False
            try:
                alive = run_sync(self._ag_responds)()
            except DeadKernelError:
                alive = False
            if not alive:
                self._ag_stop = f"not run: cell {index} ignored the timeout interrupt and the kernel was stopped"
                cell.outputs.append(_error(STOPPED, "this cell kept running after the time limit and ignored the "
                                                    "interrupt; the kernel was stopped and later cells not run"))
                try:
                    run_sync(self._ag_kill)()
                except Exception:  # noqa: BLE001 - the kernel may already be gone
                    pass
        return cell, self.resources

    async def _ag_kill(self):
        await ensure_async(self.km.shutdown_kernel(now=True))
        await asyncio.sleep(0)


class RestoringOverwriteCells(OverwriteCells):
    """nbgrader's OverwriteCells, with deleted grade cells put back after the nearest preceding
    cell that is still there (nbgrader 0.9.6 assumes that cell is a grade or solution cell and
    fails with a KeyError when it is a locked instructor cell)."""

    def add_missing_grade_cells(self, nb: NotebookNode,
                                resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        source_nb = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        source_ids = [c.name for c in source_nb.source_cells]
        solution_ids = {c.name for c in source_nb.solution_cells}
        for grade_cell in source_nb.grade_cells:
            present = {c.metadata.get("nbgrader", {}).get("grade_id"): i for i, c in enumerate(nb.cells)
                       if utils.is_grade(c) or utils.is_solution(c) or utils.is_locked(c)}
            if grade_cell.name in present or grade_cell.name not in source_ids:
                continue
            self.log.warning("Missing grade cell %s encountered, adding to notebook", grade_cell.name)
            pos = source_ids.index(grade_cell.name)
            cell = self.missing_cell_transform(source_nb.source_cells[pos], grade_cell.max_score,
                                               is_solution=grade_cell.name in solution_ids)
            before = [present[i] for i in reversed(source_ids[:pos]) if i in present]
            nb.cells.insert(before[0] + 1 if before else 0, cell)
        return nb, resources


class SanitizeFeedback(NbGraderPreprocessor):
    """Hide hidden tests, expected values and the reporter's lines from the feedback students receive."""

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        nb.metadata.pop("autograder", None)  # the judge's full results, with the instructor's detail
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell: NotebookNode, resources: dict[str, Any],
                        index: int) -> tuple[NotebookNode, dict[str, Any]]:
        meta = cell.metadata.get("nbgrader", {})
        cell.metadata.pop("autograder", None)
        if cell.cell_type == "code" and meta.get("grade") and meta.get("locked") and not meta.get("solution"):
            cell.source = f"# Autograder check: {meta.get('grade_id', '')} (hidden test; its result is below)"
            verdicts = [o for o in cell.get("outputs", []) if is_verdict(o)]
            cell.outputs = verdicts or [new_output("stream", name="stdout",
                                                   text="No autograder result for this check.\n")]
        elif cell.cell_type == "code":
            kept = []
            for out in cell.get("outputs", []):
                if out.get("output_type") == "stream" and MARKER in out.get("text", ""):
                    out.text = "".join(line for line in out.text.splitlines(True) if MARKER not in line)
                    if not out.text:
                        continue
                kept.append(out)
            cell.outputs = kept
        return cell, resources
