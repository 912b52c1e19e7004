"""Grade one submission: the worker process of ``python -m autograder grade``.

``grade_job`` copies the course gradebook into a fresh temporary course folder and runs
nbgrader's ``autograde`` there with the course pipeline (``nbgrader_config.apply``): hidden tests
restored, the notebook executed with a per-cell timeout (in the sandbox unless the job says
otherwise), the probes' lines judged by ``JudgeHiddenTests`` (``preprocessors/judge_hidden_tests.py``)
outside the kernel, verdicts and points left in the hidden-test cells and saved by nbgrader's
``SaveAutoGrades``.  It reads
the points back from that gradebook (so ``grade``, ``nbgrader autograde`` and formgrader's
Autograde button give the same grades) and runs ``generate_feedback`` with the hidden tests
stripped.  It never raises: whatever goes wrong costs this submission its points, with the
reason, never the class its grades.

``python -m autograder.worker`` is the long-lived process the pool (``pool.py``) starts: one
``GradeJob`` as a JSON line on stdin, the ``SubmissionResult`` written to the job's result
file, then ``done`` on stdout.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from . import checks, timings
from . import sandbox as sandbox_mod
from .checks import checks_of
from .flags import duplicate_id_issues, notebook_edit_flags, output_flags
from .gradebook import read_grades
from .host.client import discard_prepared, prepare_host
from .nbgrader_config import apply, ensure_tools_on_path, run_nbgrader
from .outputs import replace_file, write_new_file
from .preprocessors.execute import output_limit_issues
from .results import GradeJob, SubmissionResult
from .seeding import SECRET_NAME
from .submissions import (
    RefusedFile,
    folder_entries,
    hidden_cell_changes,
    parse_notebook,
    read_notebook_bytes,
    static_flags,
)

DONE = "done"  # the worker's one line on stdout per job
# Modules a prepared function host imports while the kernel runs.  The homework's fit_temperature is
# fitted with a torch optimizer, whose first use imports torch._dynamo (3-5 s of a fresh host's time);
# the lab's graded functions use no optimizer, so its hosts are not made to pay for the import.
HOST_WARM_IMPORTS = {"week6_homework": ("torch._dynamo",)}
# The executed notebook may be larger than the submitted one (outputs), within the output limits.
MAX_EXECUTED_BYTES = 256 << 20


def grade_job(job: GradeJob) -> SubmissionResult:
    """Grade one submission in its own temporary course folder. Never raises.

    ``result.timings`` holds the seconds of each phase of this submission (``autograder.timings``)."""
    nb_name = f"{job.assignment}.ipynb"
    result = SubmissionResult(student=job.student, assignment=job.assignment, issues=list(job.issues))
    timings.begin()
    tmp = Path(tempfile.mkdtemp(prefix=f"ag_{job.student}_{job.assignment}_", dir=job.tmp_root))
    try:
        with timings.phase("worker: copy, checks of the file, outputs"):
            return _grade_in(job, result, tmp, nb_name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        result.timings = timings.end()


def _grade_in(job: GradeJob, result: SubmissionResult, tmp: Path, nb_name: str) -> SubmissionResult:
    """``grade_job``'s work in the temporary folder ``tmp``; never raises."""
    try:
        course = tmp / "course"
        if not _stage_submission(job, result, course, nb_name):
            return result
        cfg = _autograde(job, result, course)
        graded_nb = _read_back(job, result, course, nb_name)
        if graded_nb is None:
            return not_graded(result, "the notebook could not be autograded")
        _feedback_and_outputs(job, result, course, nb_name, cfg)
        return result
    except Exception as exc:  # noqa: BLE001 - a driver bug must not take the class down
        result.issues.append(f"grading error: {type(exc).__name__}: {exc}")
        return not_graded(result, "grading error")


def _stage_submission(job: GradeJob, result: SubmissionResult, course: Path, nb_name: str) -> bool:
    """A temporary nbgrader course holding the gradebook and the submitted notebook only, with the static
    flags and issues of the submission recorded; False (``result`` marked not graded) when it is refused."""
    import nbformat
    student, assignment = job.student, job.assignment
    course.mkdir()
    shutil.copy(job.base_db, course / "gradebook.db")
    sub_dir = course / "submitted" / student / assignment
    sub_dir.mkdir(parents=True)
    # Only the notebook, read as hostile data (no link followed, no FIFO opened, a byte bound),
    # goes into the grading folder; everything else in the submission folder is named, not copied.
    try:
        data = read_notebook_bytes(job.notebook)
        submitted = parse_notebook(data)
    except RefusedFile as exc:
        not_graded(result, f"notebook {exc}")
        return False
    write_new_file(sub_dir / nb_name, data)
    refused, ignored = folder_entries(job.submission_dir, job.notebook)
    result.issues += [f"refused {what} in the submission folder: not followed, not copied" for what in refused]
    if ignored:
        result.flags.append("files in the submission folder that were ignored (not copied, not run): "
                            + ", ".join(ignored))
    release = nbformat.read(job.release_nb, as_version=4)
    result.issues += hidden_cell_changes(submitted, release, assignment)
    result.flags += static_flags(submitted)
    result.flags += notebook_edit_flags(submitted, release)
    result.issues += duplicate_id_issues(submitted)
    return True


def _autograde(job: GradeJob, result: SubmissionResult, course: Path):
    """nbgrader's autograde with the course pipeline (execute, judge outside the kernel, SaveAutoGrades);
    returns the traitlets Config it ran with."""
    from nbgrader.converters import Autograde
    from traitlets.config import Config

    os.environ["IPYTHONDIR"] = str(job.ipython_dir)  # a clean IPython profile, not the instructor's
    cfg = apply(Config(), work=course, root=course, source=job.source, timeout=job.timeout, sandbox=job.sandbox)
    # The course secret of the real work folder (WORK/release/<a>/<a>.ipynb -> WORK), not of this
    # temporary course: the same submission must draw the same inputs in every run.
    cfg.JudgeHiddenTests.secret_path = str(Path(job.release_nb).resolve().parents[2] / SECRET_NAME)
    t0 = time.monotonic()
    # This submission's function host, started now so that its imports overlap the kernel's run; the
    # judge takes it (same options as it would start one with), else it is closed below.
    prepare_host(HOST_WARM_IMPORTS.get(job.assignment, ()), sandbox=cfg.JudgeHiddenTests.sandbox,
                 call_timeout=cfg.JudgeHiddenTests.call_timeout)
    try:
        with timings.phase("nbgrader autograde: its own steps"):  # less execution and judging
            run_nbgrader(Autograde, cfg, job.assignment, job.student, force=True, create_student=True)
    except Exception as exc:  # noqa: BLE001 - nbgrader failed on this submission only
        result.issues.append(f"nbgrader autograde failed: {exc}")
    finally:
        discard_prepared()
    result.autograde_s = round(time.monotonic() - t0, 2)
    return cfg


def _read_back(job: GradeJob, result: SubmissionResult, course: Path, nb_name: str):
    """The executed notebook (None when there is none to trust), with the judge's verdicts, issues and flags
    and the points nbgrader saved in the gradebook copied into ``result``."""
    student, assignment = job.student, job.assignment
    executed = course / "autograded" / student / assignment / nb_name
    try:
        graded_nb = parse_notebook(read_notebook_bytes(executed, MAX_EXECUTED_BYTES))
    except (OSError, ValueError):  # RefusedFile included: no executed notebook, or not one to trust
        return None
    judged = graded_nb.metadata.get("autograder")
    if not judged:
        return None
    result.checks = judged["checks"]
    result.issues += judged["issues"]
    result.flags += judged["flags"]
    # The points are what nbgrader saved from the judge's cell outputs: read them back.
    result.grades = read_grades(course / "gradebook.db", assignment, student)
    for cid, r in result.checks.items():
        g = result.grades.get(cid)
        saved = g.auto_score if g is not None else None
        if saved is None:
            result.issues.append(f"{cid}: nbgrader saved no automatic score; 0 points")
            saved = 0.0
        elif float(saved) != float(r["points"]):  # pragma: no cover - the judge and nbgrader disagree
            result.issues.append(f"{cid}: the gradebook holds {saved} points, the judge gave {r['points']}")
        r["points"] = int(saved) if float(saved).is_integer() else float(saved)
    if job.sandbox:  # the sandbox limits this submission's code hit (its own only)
        memory_mb = job.sandbox.get("memory_mb") if isinstance(job.sandbox, dict) else None
        result.issues += sandbox_mod.read_report(course / sandbox_mod.REPORT_NAME, graded_nb, memory_mb)
    result.issues += output_limit_issues(graded_nb)
    result.flags += output_flags(graded_nb)
    return graded_nb


def _feedback_and_outputs(job: GradeJob, result: SubmissionResult, course: Path, nb_name: str, cfg) -> None:
    """nbgrader's feedback, then the feedback HTML and the executed notebook moved to the instructor's folders."""
    from nbgrader.converters import GenerateFeedback
    try:
        with timings.phase("nbgrader feedback"):
            run_nbgrader(GenerateFeedback, cfg, job.assignment, job.student, force=True)
    except Exception as exc:  # noqa: BLE001
        result.issues.append(f"feedback generation failed: {exc}")
    # The executed notebook still holds the hidden-test cells: it goes to the
    # instructor's autograded/ folder, never next to the feedback students receive.
    out, graded_dir = job.out_dir, job.autograded_dir
    out.mkdir(parents=True, exist_ok=True)
    executed = course / "autograded" / job.student / job.assignment / nb_name
    replace_file(executed, graded_dir / nb_name)
    fb = course / "feedback" / job.student / job.assignment / nb_name.replace(".ipynb", ".html")
    if fb.exists():
        replace_file(fb, out / fb.name)
    result.feedback = str(out / fb.name) if fb.exists() else None
    result.autograded = str(graded_dir / nb_name)


def not_graded(result: SubmissionResult, reason: str) -> SubmissionResult:
    """``result`` marked not graded: every check of its assignment not yet judged gets 0 points and ``reason``
    (which is also added to the issues when it is not there yet)."""
    result.status = "not graded"
    if not any(reason in i for i in result.issues):
        result.issues.append(reason)
    for cid in checks_of(result.assignment):
        result.checks.setdefault(cid, checks.not_graded(cid, reason).to_dict())
    return result


def worker_main() -> None:
    """A long-lived worker: one JSON job per stdin line; writes the result file, then prints 'done'."""
    import logging
    logging.basicConfig(level=logging.ERROR)
    ensure_tools_on_path()
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # anything else printing to stdout goes to stderr; the protocol line stays clean
    for line in sys.stdin:
        job = GradeJob.from_dict(json.loads(line))
        result = grade_job(job)
        write_new_file(job.result_path, json.dumps(result.to_dict(), allow_nan=True).encode())
        out.write(DONE + "\n")
        out.flush()


if __name__ == "__main__":
    worker_main()
