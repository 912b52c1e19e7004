"""``python -m autograder grade DIR``: grade every submission in nbgrader's submitted layout.

DIR/<student>/<assignment>/<assignment>.ipynb.  Each submission is graded on its
own: a worker process (``worker.py``) copies the course gradebook into a fresh
temporary course folder and runs nbgrader's ``autograde`` there with the course
pipeline (``nbgrader_config.apply``): hidden tests restored, the notebook executed
with a per-cell timeout, the probes' lines judged by ``preprocessors.judge_hidden_tests.JudgeHiddenTests``
outside the kernel, verdicts and points left in the hidden-test cells and saved by
nbgrader's ``SaveAutoGrades``.  The worker reads the points back from that
gradebook (so this command, ``nbgrader autograde`` and formgrader's Autograde
button give the same grades) and runs ``generate_feedback`` with the hidden tests
stripped.  The main process then merges every result, in sorted order, into the
course gradebook (``gradebook.py``), so one worker and N workers give the same
grades; a manual override whose automatic score changed under it is flagged for
review (``needs_manual_grade``) and listed in the summary.

Before any of that, ``preflight.check_kernel`` runs one kernel started exactly as a submission's
and refuses the run (nothing graded, nothing changed) when it cannot import ``helpers`` and the
kernel side or computes a known value differently.  During the run, a submission whose kernel
could not import a module the grader has is a grader-side failure: no feedback, no gradebook
change, a summary section of its own; several in a row stop the run.  ``--student ID`` grades
that student only and merges their rows into the class's existing outputs.

The parts: ``submissions`` (what is in DIR), ``worker`` (one submission), ``pool``
(workers, time limits), ``gradebook`` (merge, export), ``outputs`` (grades.csv,
grades.json, summary.txt), ``results`` (the records they pass each other).  This
module wires them together: ``grade(...)`` and the command line.

Outputs (under --out): grades.csv, grades.json (with instructor detail),
feedback/<student>/<assignment>/<assignment>.html (for students),
autograded/<student>/<assignment>/<assignment>.ipynb (for the instructor only:
it still holds the hidden-test cells), summary.txt (with the similarity report's top pairs;
side-by-side pages under similarity/).  These hold AUTOGRADED points
only; after manual grading in formgrader, ``python -m autograder finalize``
exports the final grades and regenerates the feedback.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from . import seeding
from .bwrap import SandboxUnavailable, require_bwrap
from .classoutputs import load_results, merge_class_outputs
from .gradebook import cells_to_relook, export_gradebook, manual_sources, merge_into_gradebook
from .nbgrader_config import ASSIGNMENTS, DEFAULT_TIMEOUT, REPO, default_work, ensure_tools_on_path
from .outputs import replace_file, write_outputs
from .pool import run_jobs
from .preflight import STOP_AFTER, EnvironmentWatch, PreflightFailed, check_host, check_kernel, environment_error
from .results import GradeJob, Problem, SandboxSetting, SubmissionResult
from .similarity import similarity_report
from .submissions import discover


def _load_previous(out: Path) -> dict[tuple[str, str], SubmissionResult]:
    """The class's results from an earlier run's grades.json under ``out`` (empty when there is none)."""
    try:
        return load_results(out)
    except (ValueError, KeyError, TypeError) as exc:
        raise SystemExit(f"error: {out / 'grades.json'} cannot be read ({exc}); regrade the whole class (without "
                         "--student) to rewrite it") from None


TIMINGS_NAME = "timings.json"


def write_timings(path: Path, results: list[SubmissionResult], preflight_s: float, workers: int) -> None:
    """The run's profile: the preflight's seconds and each graded submission's per-phase seconds
    (``autograder.timings``), kept out of grades.json so that two runs still write the same grades."""
    import json
    rows = [{"student": r.student, "assignment": r.assignment, "status": r.status, "timings": r.timings}
            for r in results if r.timings]
    path.write_text(json.dumps({"preflight_s": round(preflight_s, 3), "workers": workers, "submissions": rows},
                               indent=1) + "\n")


def _extra_summary(grader_side: list[SubmissionResult], stopped: str | None,
                   relook: dict[tuple[str, str], list[str]],
                   pending: dict[tuple[str, str], list[str]] | None = None) -> str:
    """The summary's lines this module adds: a stopped run, grader-side failures, and every cell graded
    by hand that waits for a new look (``pending``, from the gradebook; ``relook`` says why for this run's)."""
    lines = []
    if stopped:
        lines.append(f"RUN STOPPED: {stopped}.")
    if grader_side:
        lines.append(f"Grader-side failures, NOT the students' fault ({len(grader_side)}): no feedback was written "
                     "for them and the gradebook was not changed; fix the environment and grade them again:")
        lines += [f"- {r.student}/{r.assignment}: {r.issues[-1]}" for r in grader_side]
    pending = dict(pending or {})
    if pending:
        lines.append(f"Cells that need a new manual look ({sum(map(len, pending.values()))}): graded by hand, then the "
                     "answer or its automatic score changed; unchanged answers keep their manual grade and comment:")
        for key, cells in pending.items():
            lines.append(f"- {key[0]}/{key[1]}:")
            said = {i.split(":", 1)[0]: i for i in relook.get(key, [])}
            lines += [f"    {said.get(c, c + ': look at it again in formgrader')}" for c in cells]
    return "\n".join(lines) + "\n" if lines else ""


def grade(submitted: Path | str, work: Path | str, out: Path | str, workers: int = 1,
          timeout: int = DEFAULT_TIMEOUT, source: Path | str | None = None, job_timeout: int | None = None,
          sandbox: SandboxSetting = True, students: list[str] | None = None,
          preflight: bool = True) -> tuple[list[SubmissionResult], str]:
    """Grade every submission under ``submitted`` against the release in ``work``; returns the results
    (sorted by student, assignment) and the summary's text, both also written under ``out``.

    ``sandbox``: True (bubblewrap, default limits), a dict of limits (see autograder.sandbox), or
    False (student code runs unsandboxed; the summary says so).  Without bwrap, refuses unless False.
    ``students``: grade only these students' submissions and merge their rows into the class's
    existing grades.csv/grades.json/summary (and report, when there is one).  ``preflight``: first
    check that a submission-like kernel works (``autograder.preflight``); refuse, grading nothing, if not."""
    import nbformat
    ensure_tools_on_path()
    if sandbox:
        try:
            require_bwrap()
        except SandboxUnavailable as exc:
            raise SystemExit(f"error: {exc}") from None
    work, out = Path(work).resolve(), Path(out).resolve()
    source = Path(source or REPO / "notebooks").resolve()
    if not (work / "gradebook.db").exists():
        raise SystemExit(f"no gradebook in {work}: run `python -m autograder release --work {work}` first")
    found, problems = discover(Path(submitted))
    # The course secret that seeds every submission's inputs: made once here, before the workers read it.
    seeding.course_secret(work / seeding.SECRET_NAME)
    if students:
        wanted = set(students)
        found = [s for s in found if s.student in wanted]
        problems = [p for p in problems if p.student in wanted]
        missing = sorted(wanted - {s.student for s in found} - {p.student for p in problems})
        if missing:
            raise SystemExit(f"error: --student {', '.join(missing)}: no submission under {submitted}/<student>/; "
                             f"expected {Path(submitted) / missing[0] / '<assignment>'}. Check the id "
                             "(folder names are the student ids)")
    earlier = _load_previous(out) if students else {}
    t_preflight = time.monotonic()
    if preflight and found:
        try:
            check_kernel(sandbox)
            check_host(sandbox)
        except PreflightFailed as exc:
            raise SystemExit(f"error: {exc}") from None
    t_preflight = time.monotonic() - t_preflight
    scratch = Path(tempfile.mkdtemp(prefix="autograder_"))
    try:
        base_db = scratch / "base.db"
        shutil.copy(work / "gradebook.db", base_db)  # every job starts from the same gradebook
        ipy = scratch / "ipython"  # the kernels' IPython folder
        ipy.mkdir()
        n_code = {}
        for a in ASSIGNMENTS:
            rel = work / "release" / a / f"{a}.ipynb"
            if rel.exists():
                n_code[a] = sum(c.cell_type == "code" for c in nbformat.read(rel, as_version=4).cells)

        def limit_for(job: GradeJob) -> float:
            return job_timeout or (n_code[job.assignment] + 4) * (timeout + 10) + 120

        jobs = []
        for s in found:
            if s.assignment not in n_code:
                problems.append(Problem(s.student, s.assignment,
                                        s.issues + [f"{s.assignment} was not released in {work}"]))
                continue
            job = GradeJob(student=s.student, assignment=s.assignment, notebook=s.notebook, submission_dir=s.folder,
                           issues=list(s.issues), base_db=base_db, ipython_dir=ipy, source=source, timeout=timeout,
                           sandbox=False, tmp_root=scratch,
                           release_nb=work / "release" / s.assignment / f"{s.assignment}.ipynb",
                           out_dir=out / "feedback" / s.student / s.assignment,
                           autograded_dir=out / "autograded" / s.student / s.assignment,
                           result_path=scratch / f"result_{s.student}_{s.assignment}.json")
            if sandbox:  # the sandbox's wall-time limit is the job's; the given limits on top
                job.sandbox = {"wall_s": float(limit_for(job)), **(sandbox if isinstance(sandbox, dict) else {})}
            jobs.append(job)

        watch = EnvironmentWatch(min(STOP_AFTER, max(1, len(jobs))))
        env_errors: dict[tuple[str, str], str] = {}

        def after(res: SubmissionResult) -> None:
            problem = environment_error(res.autograded)
            if problem:
                env_errors[(res.student, res.assignment)] = problem
            watch.record(problem)

        out.mkdir(parents=True, exist_ok=True)
        with open(out / "workers.log", "w") as log:  # nbgrader's own log, for the instructor's debugging
            done = run_jobs(jobs, workers, limit_for, log, after=after, stop=watch.stop)
        grader_side = []
        for j in jobs:
            key = (j.student, j.assignment)
            if key not in done:  # never started: the run stopped
                done[key] = SubmissionResult.not_graded(j.student, j.assignment, j.issues + [
                    "not graded: the run stopped on repeated grader-side environment errors (not the student's "
                    "fault)"])
                grader_side.append(done[key])
            elif key in env_errors:  # zeros the student did not earn: no feedback, no gradebook change
                r = done[key]
                r.status, r.issues = "not graded", r.issues + [env_errors[key]]
                for path in (r.feedback, work / "feedback" / j.student / j.assignment / f"{j.assignment}.html"):
                    if path:
                        Path(path).unlink(missing_ok=True)
                r.feedback = None
                grader_side.append(r)
        results = [done[k] for k in sorted(done)]
        results += [SubmissionResult.not_graded(p.student, p.assignment, p.issues) for p in problems]
        results.sort(key=lambda r: (r.student, r.assignment))
        previous = {}
        skip = {(r.student, r.assignment) for r in grader_side}
        for r in results:  # autograded notebooks and feedback into the course work folder too
            old = work / "autograded" / r.student / r.assignment / f"{r.assignment}.ipynb"
            previous[(r.student, r.assignment)] = manual_sources(old)  # before the new one replaces it
            if r.autograded:
                if (r.student, r.assignment) not in skip:
                    replace_file(r.autograded, work / "autograded" / r.student / r.assignment
                                 / Path(r.autograded).name)
                r.autograded = str(Path(r.autograded).relative_to(out))
            if r.feedback:
                replace_file(r.feedback, work / "feedback" / r.student / r.assignment / Path(r.feedback).name)
                r.feedback = str(Path(r.feedback).relative_to(out))
        relook: dict[tuple[str, str], list[str]] = {}
        merge_into_gradebook([r for r in results if (r.student, r.assignment) not in skip], work,
                             previous=previous, relook=relook)  # before write_outputs: it adds each review list
        export_gradebook(work, out / "nbgrader_export.csv")
        if not students:  # a whole run's profile (a one-student regrade leaves the class's file as it was)
            write_timings(out / TIMINGS_NAME, results, t_preflight, workers)
        if students:  # this student's rows replace theirs in the class's outputs; everyone else's stay
            _, text = merge_class_outputs(out, results, sandboxed=bool(sandbox), earlier=earlier)
        else:
            text = write_outputs(results, out, sandboxed=bool(sandbox),
                                 extra=similarity_report(submitted, out))  # never changes a grade
        extra = _extra_summary(grader_side, watch.reason, relook, cells_to_relook(work))
        if extra:
            text += extra
            (out / "summary.txt").write_text(text)
        if students and (out / "report" / "report.md").is_file():
            from .report import build
            build(out, out / "report")
        return results, text
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m autograder grade", description=__doc__.splitlines()[0])
    ap.add_argument("submitted", type=Path, help="folder in nbgrader's submitted layout: <student>/<assignment>/")
    ap.add_argument("--work", type=Path, default=None,
                    help="nbgrader work folder with the release (default nbgrader_work/)")
    ap.add_argument("--out", type=Path, default=None,
                    help="where grades.csv, feedback/ and summary.txt go (default <work>/grades)")
    ap.add_argument("--workers", type=int, default=1, help="submissions graded in parallel (default 1)")
    ap.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT, help="seconds per cell (default 30)")
    ap.add_argument("--job-timeout", type=int, default=None, help="last-resort seconds per submission")
    ap.add_argument("--source", type=Path, default=None, help="source notebooks folder (default notebooks/)")
    ap.add_argument("--unsandboxed", action="store_true",
                    help="run student code WITHOUT the bubblewrap sandbox (it can then read the answer key, "
                         "the gradebook and other submissions); only where bwrap cannot be installed")
    ap.add_argument("--student", action="append", default=None, metavar="ID",
                    help="regrade only this student (repeatable); their rows replace theirs in the class's "
                         "grades.csv, grades.json, summary and report")
    ap.add_argument("--skip-preflight", action="store_true",
                    help="do not check first that a submission-like kernel imports helpers and runs a check")
    ap.add_argument("--memory-mb", type=int, default=None, help="sandbox: memory per submission, MiB (default 4096)")
    ap.add_argument("--max-processes", type=int, default=None, help="sandbox: processes per submission (default 64)")
    args = ap.parse_args(argv)
    work = (args.work or default_work()).resolve()
    out = (args.out or work / "grades").resolve()
    if not args.submitted.is_dir():
        print(f"error: {args.submitted} is not a folder of submissions", file=sys.stderr)
        return 2
    t0 = time.monotonic()
    limits = {k: v for k, v in (("memory_mb", args.memory_mb), ("max_processes", args.max_processes)) if v}
    if args.unsandboxed and limits:
        ap.error("--memory-mb/--max-processes are sandbox limits; they cannot be combined with --unsandboxed")
    results, summary = grade(args.submitted, work, out, args.workers, args.timeout, args.source, args.job_timeout,
                             sandbox=False if args.unsandboxed else (limits or True), students=args.student,
                             preflight=not args.skip_preflight)
    print(summary, end="")
    print(f"Wrote {out / 'grades.csv'}, {out / 'summary.txt'} and feedback/ in {time.monotonic() - t0:.0f} s.")
    return 1 if "RUN STOPPED" in summary or "Grader-side failures" in summary else 0


if __name__ == "__main__":
    sys.exit(main())
