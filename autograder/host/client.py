"""The driver's end of the function host: start it (sandboxed like the kernel), exec cells, call functions.

``FunctionHost`` owns one host process at a time.  Each request is one frame with the
next sequence number; the reply must carry that number, be the only frame waiting,
and stay under ``codec.MAX_FRAME``.  Anything else (an unsolicited or out-of-sequence
frame, a huge or unreadable reply) is a protocol violation: the call fails with
``violation`` set, the host is killed, and the next request starts a fresh one.  A call
past ``call_timeout`` kills the host the same way (the check gets 0; other checks are
unaffected because their cells are exec'd again in the new host).
"""
from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .. import timings
from . import grading_build
from .codec import HEADER, MAX_FRAME, ProtocolError, frame, from_wire, parse, to_wire

WARM_ENV = "AG_HOST_WARM"  # loop.WARM_ENV (the loop is not imported on the driver side)

AUTOGRADER_DIR = Path(__file__).resolve().parent.parent
PREPARED_NICE = 10  # a host started ahead yields the CPU to the kernel it overlaps (see prepare_host)
STARTUP_S = 60.0  # a fresh host's imports (numpy, torch, pandas) do not count against the first call

# The fixed preamble every graded cell runs after, in a fresh namespace: the stated imports
# and the course constants (the notebooks' "How your functions are graded" cell lists them).
PREAMBLE = ("import math\n"
            "import numpy as np\n"
            "import pandas as pd\n"
            "import torch\n"
            "import torch.nn.functional as F\n"
            "from helpers.course import N_CLASSES, TIERS\n")


def host_files() -> list[tuple[Path, Path]]:
    """(source, destination in the host's library folder): the loop, its codec and adapters, the captures."""
    files = []
    for name in ("__init__", "loop", "codec", "adapters"):
        files.append((AUTOGRADER_DIR / "host" / f"{name}.py", Path("autograder") / "host" / f"{name}.py"))
    for name in ("pristine", "encoding"):
        files.append((AUTOGRADER_DIR / "kernel" / f"{name}.py", Path("autograder") / "kernel" / f"{name}.py"))
    return files


class HostFailure(Exception):
    """The host died, timed out or broke the protocol; ``violation`` says whether it broke the protocol."""

    def __init__(self, message: str, violation: bool = False) -> None:
        super().__init__(message)
        self.violation = violation


class FunctionHost:
    """One host process for one submission's graded cells (see the module docstring)."""

    def __init__(self, *, sandbox: bool, call_timeout: float = 120.0, memory_mb: int = 4096,
                 max_processes: int = 64, max_frame: int = MAX_FRAME, warm_imports: tuple[str, ...] = ()) -> None:
        self.sandbox = bool(sandbox)
        self.warm_imports = tuple(warm_imports)  # imported by the host before its first request
        self.call_timeout = float(call_timeout)
        self.max_frame = int(max_frame)
        self.limits = [memory_mb << 20, 1 << 30, 0, max(max_processes * 8, 256)]
        self.root = Path(tempfile.mkdtemp(prefix="aghost-"))
        self.lib = self.root / "lib"
        self._prepare_lib()
        self.proc: subprocess.Popen | None = None
        self.startup_grace = 0.0  # added to the first request's time limit after a start (imports numpy, torch)
        self.seq = 0
        self.fenced_seq = 0  # the sequence number of the last fence request
        self.loaded: set[str] = set()
        self.cells: dict[str, str] = {}
        self.cell_errors: dict[str, list[str]] = {}
        self.dead_cells: dict[str, str] = {}  # cells whose exec hung or broke the host: never run again

    # ------------------------------------------------------------------ set-up
    def _prepare_lib(self) -> None:
        for src, dest in host_files():
            (self.lib / dest).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, self.lib / dest)
        (self.lib / "autograder" / "__init__.py").write_text('"""The function host\'s side only."""\n')
        grading_build.build(self.lib)
        for d in (self.lib, *self.lib.rglob("*")):
            if d.is_dir():
                os.chmod(d, 0o755)

    def _command(self, in_fd: int, out_fd: int, scratch: Path) -> tuple[list[str], dict[str, str]]:
        from .. import bwrap
        env = {k: v for k, v in os.environ.items() if k in bwrap.ENV_KEEP or k.startswith(bwrap.ENV_KEEP_PREFIX)}
        site_dirs = [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
        env.update(PYTHONPATH=os.pathsep.join([str(self.lib), *site_dirs]), HOME=str(scratch), TMPDIR=str(scratch),
                   PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="Agg")
        if self.warm_imports:
            env[WARM_ENV] = ",".join(self.warm_imports)
        cmd = [sys.executable, "-S", "-m", "autograder.host.loop", str(in_fd), str(out_fd)]
        if not self.sandbox:
            return cmd, env
        args = bwrap.host_bwrap_args(bwrap=bwrap.require_bwrap(), lib_dir=self.lib, cwd=scratch)
        env["HOME"] = env["TMPDIR"] = str(scratch)
        return bwrap.kernel_command(args, env, self.limits, cmd), {}

    def start(self, nice: int = 0) -> None:
        """Start a fresh host (the previous one, if any, is killed); ``nice`` > 0 runs it at that lower CPU
        priority (``nice -n``), for a host started ahead while a kernel still runs."""
        self.kill()
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        scratch = Path(tempfile.mkdtemp(prefix="scratch-", dir=self.root))
        cmd, env = self._command(req_r, rep_w, scratch)
        if nice > 0 and shutil.which("nice"):
            cmd = [shutil.which("nice"), "-n", str(int(nice)), *cmd]
        self.proc = subprocess.Popen(cmd, env=env or None, cwd=scratch, pass_fds=(req_r, rep_w),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        os.close(req_r)
        os.close(rep_w)
        self.wfd, self.rfd = req_w, rep_r
        self.loaded = set()
        self.startup_grace = STARTUP_S

    def kill(self) -> None:
        """Stop the host process and close its pipes (a later request starts a fresh host, cells exec'd again)."""
        self.loaded = set()
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, 9)
            except (ProcessLookupError, PermissionError):
                pass
            self.proc.wait()
            self.proc = None
            for fd in (self.wfd, self.rfd):
                try:
                    os.close(fd)
                except OSError:
                    pass

    def close(self) -> None:
        """Kill the host and remove its folder."""
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)

    # ------------------------------------------------------------------ requests
    def _read_exact(self, n: int, deadline: float) -> bytes:
        chunks, left = [], n
        while left:
            wait = deadline - time.monotonic()
            if wait <= 0:
                raise HostFailure("interrupted: the call ran past the time limit "
                                  f"({self.call_timeout:g} s per call)")
            ready, _, _ = select.select([self.rfd], [], [], wait)
            if not ready:
                continue
            b = os.read(self.rfd, min(left, 1 << 20))
            if not b:
                raise HostFailure("the function host stopped (killed, crashed or exited) during the call")
            chunks.append(b)
            left -= len(b)
        return b"".join(chunks)

    def request(self, payload: dict, timeout: float | None = None) -> dict:
        """Send one request and return its reply (decoded); raises HostFailure and kills the host on failure."""
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        self.seq += 1
        seq = self.seq
        deadline = time.monotonic() + (timeout or self.call_timeout) + self.startup_grace
        # The first request after a start waits for the host's imports: timed apart from the probe's calls.
        name = "function host: start and first exec" if self.startup_grace else None
        self.startup_grace = 0.0
        if name is None:
            return self._exchange(seq, payload, deadline)
        with timings.phase(name):
            return self._exchange(seq, payload, deadline)

    def _exchange(self, seq: int, payload: dict, deadline: float) -> dict:
        """Write request ``seq`` and read its reply by ``deadline`` (see ``request``)."""
        try:
            if select.select([self.rfd], [], [], 0)[0]:
                raise HostFailure("protocol violation: the host sent a frame nobody asked for", violation=True)
            os.write(self.wfd, frame(seq, payload))
            size = HEADER.unpack(self._read_exact(HEADER.size, deadline))[0]
            if size > self.max_frame:
                raise HostFailure(f"protocol violation: a reply of {size} bytes (at most {self.max_frame})",
                                  violation=True)
            reply = parse(self._read_exact(size, deadline))
            if reply["seq"] != seq:
                raise HostFailure(f"protocol violation: a frame numbered {reply['seq']} answered request {seq}",
                                  violation=True)
            # A second frame already waiting is a violation now; one still on its way is found by the next
            # request's check or by ``fence`` after the check's last call (the check gets 0 either way),
            # so no call waits here for a frame that almost never comes.
            if select.select([self.rfd], [], [], 0)[0]:
                raise HostFailure("protocol violation: more than one frame answered one request", violation=True)
            if "host_error" in reply:
                raise HostFailure(f"the function host could not answer: {reply['host_error']}")
            return {k: from_wire(v) for k, v in reply.items() if k != "seq"}
        except ProtocolError as exc:
            self.kill()
            raise HostFailure(f"protocol violation: {exc}", violation=True) from exc
        except (HostFailure, OSError) as exc:
            self.kill()
            if isinstance(exc, HostFailure):
                raise
            raise HostFailure(f"the function host's pipe broke ({exc})") from exc

    def fence(self) -> str | None:
        """After a check's last call: a frame the host sent unasked for that check's requests is a protocol
        violation (returned as the message, and the host is killed); None when none came.

        One ``fence`` request, answered by the loop only after every reply it wrote before: a second frame
        for an earlier request is read first (a number that does not answer the fence) or is found
        waiting beside it, however late the loop wrote it.  No fixed wait: one round trip."""
        if self.proc is None or self.proc.poll() is not None or self.seq == self.fenced_seq:
            return None  # no host, or no request since the last fence: nothing to vouch for
        try:
            self.fenced_seq = self.seq + 1
            self.request({"op": "fence"})
        except HostFailure as exc:
            return str(exc) if exc.violation else None  # a host that died is no stray frame: the next call says
        return None

    def add_cell(self, key: str, source: str) -> None:
        """Register a graded cell (exec'd in the host when one of its functions is first called)."""
        self.cells[key] = source

    def ensure(self, key: str) -> None:
        """Exec cell ``key`` in the current host unless it already ran there; raises HostFailure."""
        if key in self.dead_cells:
            raise HostFailure(self.dead_cells[key])
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        if key in self.loaded:
            return
        try:
            reply = self.request({"op": "exec", "cell": key, "source": self.cells[key], "preamble": PREAMBLE})
        except HostFailure as exc:
            self.dead_cells[key] = f"the cell that defines it did not finish in the host: {exc}"
            raise HostFailure(self.dead_cells[key], exc.violation) from exc
        self.cell_errors[key] = list(reply.get("errors", []))
        self.loaded.add(key)

    def call(self, key: str, name: str, args: tuple, adapter: str) -> dict:
        """The adapter's plain result of ``name(*args)`` from cell ``key``; a failure becomes {"ok": False, ...}."""
        try:
            self.ensure(key)
            reply = self.request({"op": "call", "cell": key, "name": name, "args": to_wire(tuple(args)),
                                  "adapter": adapter})
        except HostFailure as exc:
            out: dict[str, Any] = {"ok": False, "error": str(exc)}
            if exc.violation:
                out["violation"] = True
            if "time limit" in str(exc):
                out["interrupted"] = True
            return out
        return reply["result"]


# --------------------------------------------------------------------------- a host started ahead
# The worker starts the submission's host when its notebook starts executing, so the host's imports
# (numpy, torch, pandas: ~2 s) run while the kernel does, not after it.  It is the same host the judge
# would start (same options, same sandbox), only earlier; it serves that one submission and is then
# closed, whether the judge took it or not.  No student code runs in it before the judge's first exec.
_PREPARED: dict[str, Any] = {}


def prepare_host(warm_imports: tuple[str, ...] = (), **options: Any) -> None:
    """Start a function host with ``options`` (FunctionHost's) for the submission about to be judged; it
    imports ``warm_imports`` before the judge's first request.  It starts at ``PREPARED_NICE``: its imports
    then use a core the kernel leaves idle instead of slowing the kernel down (a host started again after
    a failure runs at the normal priority)."""
    discard_prepared()
    host = FunctionHost(warm_imports=warm_imports, **options)
    host.start(nice=PREPARED_NICE)
    _PREPARED.update(host=host, options=dict(options))


def take_prepared(**options: Any) -> FunctionHost | None:
    """The host ``prepare_host`` started, when it was started with exactly ``options`` (else None, and
    it is closed); at most once: the next call gets None until ``prepare_host`` runs again."""
    host, started_with = _PREPARED.pop("host", None), _PREPARED.pop("options", None)
    if host is not None and started_with != options:
        host.close()
        return None
    return host


def discard_prepared() -> None:
    """Close a prepared host nobody took (a notebook with no function check, a failed autograde)."""
    host = take_prepared(**_PREPARED.get("options", {}))
    if host is not None:
        host.close()

