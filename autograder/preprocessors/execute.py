"""``GuardedExecute``: the course's replacement for nbgrader's ``Execute`` preprocessor.

``GuardedExecute`` replaces nbgrader's ``Execute`` in ``autograde``: a cell that
ignores the timeout interrupt, or a kernel that dies, stops the notebook there
(the cells that ran keep their outputs; the rest are marked as not run) instead
of hanging the grading run or losing the whole submission.  Nothing of the
autograder is loaded into the kernel at start: function checks run in the function
host (``autograder.host``), and a value check's test cell imports the reporter itself.

The kernel runs in a scratch folder of its own (empty, removed afterwards), not in the folder
nbgrader reads the submission from and writes the autograded notebook to: nothing a kernel does
reaches nbgrader's files or the gradebook, and it runs with Python's safe-path mode
(``PYTHONSAFEPATH=1``), so no file in its cwd shadows an installed package.  Its output is bounded
in bytes while it runs (``max_cell_output_bytes``, ``max_notebook_output_bytes``; one visible note
in the cell where the rest was dropped, found again by ``output_limit_issues``), and no single
kernel message larger than ``max_message_bytes`` is even read (zmq's ``MAXMSGSIZE``): a student
printing 300 MB keeps the grading process small.
"""
from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import zmq
import zmq.asyncio
from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from traitlets import Integer, Type

from .. import timings
from ..cells import grade_id

NOT_RUN = "AutograderNotRun"
STOPPED = "AutograderStopped"
SAFE_PATH_ENV = "PYTHONSAFEPATH"  # Python 3.11+: no cwd / script folder at the front of sys.path
OUTPUT_NOTE = "[autograder] output limit:"  # starts the note left where output was dropped
OUTPUT_TYPES = ("stream", "display_data", "execute_result", "error", "update_display_data")


def _text_bytes(value: Any) -> int:
    if isinstance(value, str):
        return len(value.encode("utf-8", "surrogatepass"))
    if isinstance(value, dict):
        return sum(_text_bytes(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_text_bytes(v) for v in value)
    return len(repr(value))


def message_bytes(msg_type: str, content: dict[str, Any]) -> int:
    """How many bytes of notebook output one iopub message would add (text, data, traceback)."""
    if msg_type == "stream":
        return _text_bytes(content.get("text", ""))
    if msg_type == "error":
        return _text_bytes([content.get("ename", ""), content.get("evalue", ""), content.get("traceback", [])])
    return _text_bytes(content.get("data", {}))


def output_limit_issues(nb: NotebookNode | None) -> list[str]:
    """One issue per cell of an executed notebook where GuardedExecute dropped output."""
    issues = []
    for i, cell in enumerate(nb.cells if nb is not None else []):
        for o in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if o.get("output_type") == "stream" and OUTPUT_NOTE in o.get("text", ""):
                name = grade_id(cell) or f"#{i}"
                note = o.text[o.text.index(OUTPUT_NOTE) + len(OUTPUT_NOTE):].strip().splitlines()[0]
                issues.append(f"output limit in cell {name}: {note}")
                break
    return issues


def _error(ename: str, evalue: str) -> NotebookNode:
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class GuardedExecute(Execute):
    interrupt_grace = Integer(
        5, help="Seconds a kernel gets to answer after a timeout interrupt before it is stopped."
    ).tag(config=True)

    max_cell_output_bytes = Integer(
        1 << 20, help="Bytes of output one cell may add (text, data, tracebacks); the rest is dropped, with a "
                      "note in that cell.").tag(config=True)
    max_notebook_output_bytes = Integer(
        20 << 20, help="Bytes of output the whole notebook may add; past it every cell's output is dropped, "
                       "with a note.").tag(config=True)
    max_message_bytes = Integer(
        8 << 20, help="Largest single message read from the kernel (zmq MAXMSGSIZE); a larger one is never "
                      "read into memory (the connection drops it and reconnects).").tag(config=True)

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
        # The kernel's cwd: an empty folder of its own, never the one nbgrader reads and writes (a kernel
        # there could replace the notebook nbgrader writes back with a link, or ship a helpers/ package).
        scratch = Path(tempfile.mkdtemp(prefix="ag-cwd-"))
        meta = resources.setdefault("metadata", {})
        path_before = meta.get("path")
        meta["path"] = str(scratch)
        self._ag_nb_bytes = 0
        env_before = {k: os.environ.get(k) for k in (SAFE_PATH_ENV,)}
        os.environ[SAFE_PATH_ENV] = "1"
        self._ag_seen_code = False
        try:
            with timings.phase("kernel start and stop"):  # less the cells, timed in preprocess_cell
                return super().preprocess(nb, resources, km)
        finally:
            for k, v in env_before.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            if path_before is None:
                meta.pop("path", None)
            else:
                meta["path"] = path_before
            shutil.rmtree(scratch, ignore_errors=True)

    async def async_start_new_kernel_client(self) -> Any:
        """nbclient's client, whose iopub socket never reads a message over ``max_message_bytes``
        (libzmq drops the connection instead of allocating it; ``_ag_fresh_iopub`` reconnects)."""
        make = self.km.client
        limit = int(self.max_message_bytes)

        def bounded_client(**kw: Any) -> Any:
            kc = make(**kw)
            plain = kc.connect_iopub

            def connect_iopub(identity: bytes | None = None) -> Any:
                kc.context.setsockopt(zmq.MAXMSGSIZE, limit)  # the context's default for this socket only
                try:
                    return plain(identity=identity)
                finally:
                    kc.context.sockopts.pop(zmq.MAXMSGSIZE, None)

            kc.connect_iopub = connect_iopub
            return kc

        self.km.client = bounded_client
        try:
            return await super().async_start_new_kernel_client()
        finally:
            del self.km.client  # the manager's own method again

    def on_cell_executed(self, **kwargs: Any) -> Any:
        """nbgrader adds the reply's error to the cell when no iopub error matched it: cut it to the
        cell's output budget first (the shell reply is not counted by ``process_message``)."""
        content = kwargs["execute_reply"]["content"]
        if content.get("status") == "error":
            room = max(1024, self.max_cell_output_bytes - self._ag_cell_bytes)
            content["evalue"] = str(content.get("evalue", ""))[:room]
            kept, used = [], 0
            for line in content.get("traceback") or []:
                used += len(line)
                if used > room:
                    break
                kept.append(line)
            content["traceback"] = kept
        return super().on_cell_executed(**kwargs)

    async def _ag_fresh_iopub(self) -> None:
        """Replace the iopub socket (libzmq does not reconnect one it dropped for an oversized message)
        and wait briefly for the kernel's welcome on it, so the next cell's output is not missed."""
        channel = self.kc.iopub_channel
        old, channel.socket = channel.socket, self.kc.connect_iopub(identity=self.kc.session.bsession)
        old.close(linger=0)
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            try:
                msg = await ensure_async(channel.get_msg(timeout=max(0.05, deadline - time.monotonic())))
            except Exception:  # queue.Empty: an older kernel sends no welcome; go on after the wait
                return
            if msg.get("msg_type") == "iopub_welcome":
                return

    start_new_kernel_client = run_sync(async_start_new_kernel_client)

    def process_message(self, msg: dict[str, Any], cell: NotebookNode, cell_index: int) -> NotebookNode | None:
        """nbclient's handling, with output counted in bytes as it arrives: past the cell's or the
        notebook's budget it is dropped, and the cell gets one note saying so."""
        if msg.get("msg_type") in OUTPUT_TYPES:
            size = message_bytes(msg["msg_type"], msg.get("content") or {})
            cell_full = self._ag_cell_bytes + size > self.max_cell_output_bytes
            nb_full = self._ag_nb_bytes + size > self.max_notebook_output_bytes
            if cell_full or nb_full:
                room = min(self.max_cell_output_bytes - self._ag_cell_bytes,
                           self.max_notebook_output_bytes - self._ag_nb_bytes)
                if msg["msg_type"] == "stream" and room > 0 and not self._ag_cell_cut:  # keep what fits
                    head = msg["content"].get("text", "").encode("utf-8", "surrogatepass")[:room]
                    msg["content"]["text"] = head.decode("utf-8", "ignore")
                    self._ag_cell_bytes += len(head)
                    self._ag_nb_bytes += len(head)
                    if head:
                        super().process_message(msg, cell, cell_index)
                if not self._ag_cell_cut:
                    self._ag_cell_cut = True
                    what = (f"this cell's output passed {self.max_cell_output_bytes} bytes" if cell_full else
                            f"the notebook's output passed {self.max_notebook_output_bytes} bytes")
                    cell.outputs.append(new_output("stream", name="stderr",
                                                   text=f"\n{OUTPUT_NOTE} {what}; the rest was dropped\n"))
                return None
            self._ag_cell_bytes += size
            self._ag_nb_bytes += size
        return super().process_message(msg, cell, cell_index)

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
        self._ag_cell_bytes, self._ag_cell_cut = 0, False
        meta = cell.metadata.get("nbgrader", {})
        # The first code cell is the notebook's imports: the part a prepared kernel could save.
        first = cell.cell_type == "code" and not self._ag_seen_code
        name = ("cells: first (imports)" if first else
                "cells: hidden tests" if meta.get("grade") and meta.get("locked") and not meta.get("solution")
                else "cells: student")
        self._ag_seen_code = self._ag_seen_code or cell.cell_type == "code"
        try:
            with timings.phase(name):
                cell, resources = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            breach = getattr(self.km, "breach", None)  # set by the sandbox when a limit stopped the kernel
            self._ag_stop = f"not run: the kernel died in cell {index}" + (f" ({breach})" if breach else "")
            cell.outputs.append(_error(STOPPED, (f"{breach}: " if breach else "") +
                                       "the kernel died while this cell ran (killed or crashed); "
                                       "the cells after it were not run"))
            return cell, self.resources
        except CellTimeoutError as exc:
            if "IOPub" in str(exc) and not self._ag_timed_out:  # the reply came, the output stopped:
                run_sync(self._ag_fresh_iopub)()              # a message over max_message_bytes was dropped
                cell.outputs.append(new_output("stream", name="stderr", text=(
                    f"\n{OUTPUT_NOTE} a single output over {self.max_message_bytes} bytes was dropped, "
                    "with what followed it in this cell\n")))
                return cell, self.resources
            # no reply and no idle output after the interrupt: probably swallowed
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
