"""Run grading jobs in worker processes, a few at a time, each with a time limit.

Each pool thread owns one long-lived worker process (``python -m autograder.worker``) and feeds
it one ``GradeJob`` at a time.  A job that runs past its limit, or a worker that dies, costs that
submission its points (a ``SubmissionResult.not_graded`` with the reason) and the worker is
replaced; the other submissions are graded as usual.
"""
from __future__ import annotations

import json
import os
import queue
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import IO

from .nbgrader_config import REPO
from .results import GradeJob, SubmissionResult
from .worker import DONE

POLL_S = 5.0  # how often a waiting pool thread checks its worker's time limit


class WorkerProcess:
    """One worker subprocess, started on first use and replaced after it is killed."""

    def __init__(self, log: IO[str] | None) -> None:
        self.log = log
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "autograder.worker"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                                     text=True, start_new_session=True, cwd=REPO)

    def run(self, job: GradeJob, limit: float) -> str | None:
        """Grade ``job`` within ``limit`` seconds: None when the worker wrote its result, else what went wrong."""
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        self.proc.stdin.write(json.dumps(job.to_dict()) + "\n")
        self.proc.stdin.flush()
        deadline = time.monotonic() + limit
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                return f"grading this submission took longer than {limit:.0f} s; it was stopped"
            ready, _, _ = select.select([self.proc.stdout], [], [], min(left, POLL_S))
            if ready:
                line = self.proc.stdout.readline()
                if line.strip() == DONE:
                    return None
                if not line:
                    self.kill()
                    return "the grading worker died"

    def kill(self) -> None:
        """Stop the worker and everything it started (its kernels, the sandbox) at once."""
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
            self.proc = None

    def close(self) -> None:
        """Let the worker finish (its stdin closes), or kill it after 10 s."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def run_jobs(jobs: list[GradeJob], workers: int, limit_for: Callable[[GradeJob], float],
             log: IO[str] | None, after: Callable[[SubmissionResult], None] | None = None,
             stop: threading.Event | None = None) -> dict[tuple[str, str], SubmissionResult]:
    """Grade every job with ``workers`` worker processes; results by (student, assignment).

    ``after`` sees each result as it arrives; once ``stop`` is set no further job starts (the jobs
    left have no result: the caller says why)."""
    q: queue.Queue[GradeJob] = queue.Queue()
    for j in jobs:
        q.put(j)
    lock = threading.Lock()
    done: dict[tuple[str, str], SubmissionResult] = {}

    def loop() -> None:
        w = WorkerProcess(log)
        try:
            while stop is None or not stop.is_set():
                try:
                    job = q.get_nowait()
                except queue.Empty:
                    return
                problem = w.run(job, limit_for(job))
                if problem is None and job.result_path.exists():
                    res = SubmissionResult.from_dict(json.loads(job.result_path.read_text()))
                else:
                    res = SubmissionResult.not_graded(job.student, job.assignment,
                                                      job.issues + [problem or "no result"])
                if after is not None:
                    after(res)
                with lock:
                    done[(job.student, job.assignment)] = res
                print(f"  graded {job.student}/{job.assignment}: {res.points}/{res.max_points}", flush=True)
        finally:
            w.close()

    threads = [threading.Thread(target=loop, daemon=True) for _ in range(max(1, workers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done
