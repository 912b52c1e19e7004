"""``python -m autograder formgrader`` (``make formgrader``): nbgrader's formgrader for this course.

Starts a Jupyter server on 127.0.0.1 in the repository root, where nbgrader
finds the course configuration (``nbgrader_config.py``), with nbgrader's server
extensions (formgrader among them), waits until it answers and prints the URL to
open.  Formgrader's Autograde button runs the same pipeline as
``python -m autograder grade`` (the judge is part of it), so both give the same
points.  Ctrl-C stops the server.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

from .nbgrader_config import REPO, default_work, ensure_tools_on_path
from .settings import WORK_ENV


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(work: Path | str | None = None, port: int | None = None, token: str | None = None,
          root: Path = REPO, log: IO[str] | None = None) -> tuple[subprocess.Popen[bytes], str, str]:
    """Start the server; returns (process, base URL, token).  The course config is read from ``root``."""
    ensure_tools_on_path()
    port = port or free_port()
    token = token or secrets.token_hex(16)
    env = dict(os.environ)
    if work is not None:
        env[WORK_ENV] = str(Path(work).resolve())
    cmd = [sys.executable, "-m", "jupyter_server", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
           "--ServerApp.port_retries=0", f"--ServerApp.root_dir={root}", "--ServerApp.open_browser=False",
           f"--IdentityProvider.token={token}", "--ServerApp.default_url=/formgrader"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI containers; instructors run it as themselves
        cmd.append("--ServerApp.allow_root=True")
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT if log else None,
                            start_new_session=True)
    return proc, f"http://127.0.0.1:{port}", token


def wait_ready(proc: subprocess.Popen[bytes], base: str, token: str, timeout: float = 120) -> None:
    """Block until formgrader answers (its status API); raise with the reason when the server stops or times out."""
    deadline = time.monotonic() + timeout
    req = urllib.request.Request(f"{base}/formgrader/api/status", headers={"Authorization": f"token {token}"})
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the Jupyter server exited with code {proc.returncode} before formgrader answered")
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                if json.loads(resp.read()).get("status") is not None:
                    return
        except (urllib.error.URLError, ConnectionError, ValueError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"formgrader did not answer at {base} within {timeout} s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m autograder formgrader", description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=None,
                    help="nbgrader work folder (default nbgrader_work/ or $AUTOGRADER_WORK)")
    ap.add_argument("--port", type=int, default=None, help="port on 127.0.0.1 (default: a free one)")
    ap.add_argument("--source", type=Path, default=REPO / "notebooks",
                    help="source notebooks, for the grader's sheet (default notebooks/)")
    args = ap.parse_args(argv)
    work = (args.work or default_work()).resolve()
    if not (work / "gradebook.db").exists():
        print(f"note: no gradebook in {work} yet; formgrader will show an empty course until you run "
              f"`python -m autograder release`", file=sys.stderr)
    from .grader_sheet import grader_sheet
    from .nbgrader_config import ASSIGNMENTS
    sheets = grader_sheet(args.source, work, ASSIGNMENTS)
    proc, base, token = start(work, args.port)
    try:
        wait_ready(proc, base, token)
        print(f"\nformgrader for this course (work folder {work}):\n\n    {base}/formgrader?token={token}\n\n"
              "Open it in a browser on this machine (ssh -L <port>:127.0.0.1:<port> from elsewhere). "
              "Ctrl-C stops the server.\n"
              f"Grader's sheet (points, rubric and model answer of every manual cell): {sheets[1]} "
              f"(and {sheets[0].name})", flush=True)
        return proc.wait()
    except KeyboardInterrupt:
        return 0
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    sys.exit(main())
