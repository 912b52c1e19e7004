"""Run the grading kernel, and so every line of student code, inside a bubblewrap sandbox.

bubblewrap (``bwrap``, Debian/Ubuntu package ``bubblewrap``; the engine Flatpak uses) builds a
private mount, pid, network and IPC namespace for one process tree without root.  The kernel of
a submission sees, read-only, only what it needs to run: the system (``/usr``, ``/etc``, ...),
the Python environment (the venv and the interpreter it links to), the ``helpers`` package
students have anyway, and a copy of the kernel side (``autograder.kernel``: the value checks'
reporter and its encoding; no check, no answer key, no expected values, nothing else).
It can write only its own scratch folder (its cwd, empty) and a private ``/tmp`` and home.  The
instructor's checkout (answer key, expected values, source notebooks), the gradebook, other
submissions and the instructor's home do not exist in its view of the filesystem.  It has no
network: not even loopback reaches the outside, so the kernel talks to nbclient over unix
sockets (jupyter's ``ipc`` transport) in a per-kernel folder bound into the sandbox.

Limits, per kernel: address space, file size and CPU seconds by ``setrlimit`` inside the
sandbox (a few lines of Python exec'd before the kernel); process count, total resident memory
and wall time by a watchdog thread in the grading process that watches the sandbox's pid
namespace and kills the whole namespace on a breach.  A breach ends that kernel only; the
reason is kept on the kernel manager (``breach``), logged, and appended as one JSON line to
``report_path`` so the grading driver reports it for that submission.

The bwrap command line, the kernel's environment and the rlimit preamble are built in
``autograder.bwrap``; this module holds the kernel manager that uses them, its watchdog and the
breach report.

Wiring (see ``autograder.nbgrader_config.apply(..., sandbox=True)``)::

    c.GuardedExecute.sandbox_kernel_manager_class = SandboxKernelManager
    c.SandboxKernelManager.memory_mb / max_processes / wall_s / cpu_s / file_mb / report_path
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from nbformat import NotebookNode
from traitlets import Float, Integer, Unicode

from .bwrap import bwrap_args, kernel_command, kernel_env, require_bwrap
from .cells import grade_id
from .kernel import kernel_files

REPORT_NAME = "sandbox_breaches.jsonl"  # under the nbgrader work folder (see nbgrader_config.apply)


def _ns_inode(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{pid}/ns/pid").st_ino
    except OSError:
        return None


def _children(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    stat = fh.read()
                if int(stat[stat.rindex(b")") + 2:].split()[1]) == pid:
                    kids.append(int(entry))
            except (OSError, ValueError):
                continue
    return kids


def sandbox_processes(ns_ino: int) -> tuple[list[int], int]:
    """The pids in the pid namespace ``ns_ino`` and their total resident bytes (shared pages counted
    once per process: an upper bound, see ``proportional_memory``)."""
    pids, rss = [], 0
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.stat(f"/proc/{entry}/ns/pid").st_ino != ns_ino:
                continue
            with open(f"/proc/{entry}/statm", "rb") as fh:
                rss += int(fh.read().split()[1]) * page
            pids.append(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    return pids, rss


# Pss is read only for a handful of processes: reading it takes each process's memory-map lock,
# which a fork bomb holds nearly all the time (and the process limit stops those anyway).
PSS_MAX_PROCESSES = 8


def proportional_memory(pids: list[int]) -> int:
    """Total proportional set size (Pss) of ``pids``, bytes: pages shared after a fork count once."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
                for line in fh:
                    if line.startswith(b"Pss:"):
                        total += int(line.split()[1]) << 10
                        break
        except (OSError, ValueError, IndexError):
            continue
    return total


class SandboxKernelManager(AsyncKernelManager):
    """An AsyncKernelManager whose kernel runs under bubblewrap (see the module docstring)."""

    memory_mb = Integer(4096, help="Address space per process and total resident memory of the sandbox, MiB."
                        ).tag(config=True)
    max_processes = Integer(64, help="Processes the sandbox may hold at once (threads are not counted)."
                            ).tag(config=True)
    wall_s = Float(3600.0, help="Seconds the kernel may live before it is stopped.").tag(config=True)
    cpu_s = Integer(0, help="CPU seconds per kernel process (0: no limit; the per-cell timeout applies)."
                    ).tag(config=True)
    file_mb = Integer(1024, help="Largest file the kernel may write, MiB.").tag(config=True)
    tmp_mb = Integer(512, help="Size of the kernel's private /tmp, MiB.").tag(config=True)
    poll_s = Float(0.05, help="Watchdog period, seconds.").tag(config=True)
    report_path = Unicode("", help="File that gets one JSON line per limit breach (empty: none).").tag(config=True)
    run_root = Unicode("", help="Where per-kernel folders are made (default: the system temp dir; "
                                "keep it short: unix socket paths are limited to 107 bytes).").tag(config=True)

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.transport = "ipc"
        self.breach = None
        self._sb_run = None
        self._sb_stop = threading.Event()
        self._sb_thread = None

    # ------------------------------------------------------------------ launch
    def _sb_prepare(self, cwd):
        run = Path(tempfile.mkdtemp(prefix="agk", dir=self.run_root or None))
        self._sb_run = run
        if len(str(run / "ipc" / "k-99")) > 100:  # AF_UNIX paths: 107 bytes at most
            raise ValueError(f"SandboxKernelManager.run_root: {run.parent} is too long a path for the kernel's "
                             f"unix sockets ({len(str(run))} characters); use a short folder such as /tmp")
        ipc, lib, home = run / "ipc", run / "lib", run / "home"
        for d in (ipc, lib / "autograder", home / ".config" / "matplotlib", home / "ipython"):
            d.mkdir(parents=True)
        (lib / "autograder" / "__init__.py").write_text(
            '"""The kernel side only: the rest of the autograder stays outside."""\n')
        for src, dest in kernel_files():  # autograder.kernel's reporter and encoding: no answers
            (lib / dest).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, lib / dest)
        # The IPython profile (its startup files).
        src_ipy = os.environ.get("IPYTHONDIR")
        if src_ipy and (Path(src_ipy) / "profile_default" / "startup").is_dir():
            shutil.copytree(Path(src_ipy) / "profile_default" / "startup",
                            home / "ipython" / "profile_default" / "startup")
        # matplotlib's font list, so each kernel does not rebuild it in its empty home (fonts are public).
        for d in {os.environ.get("MPLCONFIGDIR"), os.path.join(os.environ.get("XDG_CACHE_HOME") or
                                                               os.path.expanduser("~/.cache"), "matplotlib")}:
            for f in sorted(Path(d).glob("fontlist-v*.json")) if d and os.path.isdir(d) else []:
                shutil.copy(f, home / ".config" / "matplotlib" / f.name)
        os.chmod(lib, 0o555)
        self.connection_file = str(ipc / "kernel.json")
        self.ip = str(ipc / "k")
        cwd = Path(cwd or home).resolve()
        return cwd, lib, home

    async def _async_pre_start_kernel(self, **kw):
        bwrap = require_bwrap()
        self.breach = None
        cwd, lib, home = self._sb_prepare(kw.get("cwd"))
        cmd, kw = await super()._async_pre_start_kernel(**kw)
        # A SIGINT to the process group would reach bwrap, not the kernel: interrupt by message.
        self.kernel_spec.interrupt_mode = "message"
        kw["env"] = kernel_env(kw.get("env") or os.environ, lib_dir=lib, home_dir=home,
                               ipython_dir=home / "ipython")
        limits = [self.memory_mb << 20, self.file_mb << 20, self.cpu_s, max(self.max_processes * 8, 256)]
        args = bwrap_args(bwrap=bwrap, cwd=cwd, run_dir=self._sb_run / "ipc", lib_dir=lib, home_dir=home,
                          tmp_mb=self.tmp_mb, python=cmd[0] if cmd else None)
        wrapped = kernel_command(args, kw["env"], limits, cmd)
        kw["cwd"] = str(self._sb_run)
        return wrapped, kw

    async def _async_post_start_kernel(self, **kw):
        await super()._async_post_start_kernel(**kw)
        proc = getattr(self.provisioner, "process", None)
        if proc is not None:
            self._sb_stop.clear()
            self._sb_thread = threading.Thread(target=self._sb_watch, args=(proc.pid,), daemon=True,
                                               name="autograder-sandbox-watchdog")
            self._sb_thread.start()

    # ------------------------------------------------------------------ watchdog
    def _sb_watch(self, bwrap_pid):
        started = time.monotonic()
        ns, init = None, None
        while not self._sb_stop.wait(self.poll_s):
            if ns is None:  # bwrap's child is pid 1 of the sandbox's pid namespace
                kids = _children(bwrap_pid)
                if not kids:
                    if not os.path.exists(f"/proc/{bwrap_pid}"):
                        return
                    continue
                init, ns = kids[0], _ns_inode(kids[0])
                if ns is None or ns == _ns_inode(os.getpid()):
                    ns = None
                    continue
            pids, rss = sandbox_processes(ns)
            if not pids:
                return
            reason = None
            if len(pids) > self.max_processes + 1:  # + bwrap's own pid 1
                reason = f"process limit ({self.max_processes} processes) exceeded"
            elif (rss > self.memory_mb << 20 and len(pids) <= PSS_MAX_PROCESSES
                  and proportional_memory(pids) > self.memory_mb << 20):
                reason = f"memory limit ({self.memory_mb} MiB) exceeded"
            elif time.monotonic() - started > self.wall_s:
                reason = f"wall-time limit ({self.wall_s:.0f} s) exceeded"
            if reason:
                self._sb_breach(reason, bwrap_pid, init)
                return

    def _sb_breach(self, reason, bwrap_pid, init):
        self.breach = f"sandbox: {reason}; the kernel was stopped"
        for pid in (init, bwrap_pid):  # pid 1 of the namespace takes every process in it along
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, TypeError):
                pass
        self.log.warning("autograder %s (kernel in %s)", self.breach, self._sb_cwd_hint())
        if self.report_path:
            line = json.dumps({"reason": reason, "message": self.breach, "cwd": self._sb_cwd_hint(),
                               "time": time.time()})
            with open(self.report_path, "a") as fh:
                fh.write(line + "\n")

    def _sb_cwd_hint(self):
        return str((self._launch_args or {}).get("cwd", "")) if isinstance(self._launch_args, dict) else ""

    # ------------------------------------------------------------------ shutdown
    async def _async_cleanup_resources(self, restart=False):
        self._sb_stop.set()
        await super()._async_cleanup_resources(restart=restart)
        if not restart and self._sb_run is not None:
            run, self._sb_run = self._sb_run, None
            try:
                os.chmod(run / "lib", 0o755)
            except OSError:
                pass
            shutil.rmtree(run, ignore_errors=True)

    # AsyncKernelManager binds these names to KernelManager's functions, not to overrides: nbclient
    # calls cleanup_resources() directly when the kernel is already dead (e.g. stopped by a limit).
    cleanup_resources = _async_cleanup_resources
    pre_start_kernel = _async_pre_start_kernel
    post_start_kernel = _async_post_start_kernel


def configure(c: Any, *, report_path: Path | str | None = None, **limits: Any) -> Any:
    """Route a traitlets Config's GuardedExecute kernels into the sandbox (needs bwrap)."""
    c.GuardedExecute.sandbox_kernel_manager_class = SandboxKernelManager
    for k, v in limits.items():
        if not SandboxKernelManager.class_traits(config=True).get(k):
            raise ValueError(f"sandbox limit {k!r} is not one of "
                             f"{sorted(SandboxKernelManager.class_traits(config=True))}")
        setattr(c.SandboxKernelManager, k, v)
    if report_path:
        c.SandboxKernelManager.report_path = str(report_path)
    return c


def read_report(path: Path | str | None, nb: NotebookNode | None = None, memory_mb: int | None = None) -> list[str]:
    """Breach messages for one submission: the watchdog's report lines, and cells of the executed
    notebook ``nb`` that failed on the sandbox's per-process memory limit."""
    out = []
    p = Path(path) if path else None
    if p is not None and p.is_file():
        for line in p.read_text().splitlines():
            try:
                out.append(json.loads(line)["message"])
            except (ValueError, KeyError, TypeError):
                continue
    if nb is not None:
        mb = memory_mb or SandboxKernelManager.memory_mb.default_value
        for i, cell in enumerate(nb.cells):
            for o in cell.get("outputs", []) if cell.cell_type == "code" else []:
                if o.get("output_type") != "error":
                    continue
                text = f"{o.get('ename', '')}: {o.get('evalue', '')}"
                if o.get("ename") == "MemoryError" or "can't allocate memory" in text or "std::bad_alloc" in text:
                    name = grade_id(cell) or f"#{i}"
                    out.append(f"sandbox: memory limit ({mb} MiB) exceeded in cell {name}: {text[:120]}")
                    break
    return out
