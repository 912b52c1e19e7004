"""``python -m autograder grade DIR``: grade every submission in nbgrader's submitted layout.

DIR/<student>/<assignment>/<assignment>.ipynb.  Each submission is graded on its
own: a worker process copies the course gradebook into a fresh temporary
course folder and runs nbgrader's ``autograde`` there with the course pipeline
(``nbgrader_config.apply``): hidden tests restored, the notebook executed with a
per-cell timeout, the probes' lines judged by ``judge.JudgeHiddenTests`` outside
the kernel, verdicts and points left in the hidden-test cells and saved by
nbgrader's ``SaveAutoGrades``.  The worker reads the points back from that
gradebook (so this command, ``nbgrader autograde`` and formgrader's Autograde
button give the same grades) and runs ``generate_feedback`` with the hidden tests
stripped.  The main process then merges every result, in sorted order, into the
course gradebook, so one worker and N workers give the same grades; a manual
override whose automatic score changed under it is flagged for review
(``needs_manual_grade``) and listed in the summary.

Outputs (under --out): grades.csv, grades.json (with instructor detail),
feedback/<student>/<assignment>/<assignment>.html (for students),
autograded/<student>/<assignment>/<assignment>.ipynb (for the instructor only:
it still holds the hidden-test cells), summary.txt.  These hold AUTOGRADED points
only; after manual grading in formgrader, ``python -m autograder finalize``
exports the final grades and regenerates the feedback.
"""
from __future__ import annotations

import argparse
import ast
import csv
import json
import os
import queue
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from . import checks
from . import sandbox as sandbox_mod
from .judge import cells_by_gid as _cells_by_gid
from .judge import checks_of
from .nbgrader_config import ASSIGNMENTS, DEFAULT_TIMEOUT, REPO, apply, default_work, ensure_tools_on_path
from .probe import MARKER

SCOPE = "autograded only"  # what grades.csv / summary.txt hold; final grades: `python -m autograder finalize`

# Static source inspection: names whose import or use in a student's code deserves an instructor's look.
REFERENCE_NAMES = checks.reference_names()  # every check's forbidden references (the registry)


# =========================================================================== the worker side
def hidden_cell_changes(submitted, release, assignment):
    """Issues with the hidden-test cells of a submission, compared with the release version."""
    sub, rel = _cells_by_gid(submitted), _cells_by_gid(release)
    issues = []
    for cid in checks_of(assignment):
        if cid not in rel:
            continue
        if cid not in sub:
            issues.append(f"deleted test cell {cid} (restored by nbgrader and graded)")
        elif sub[cid].source.strip() != rel[cid].source.strip():
            issues.append(f"edited test cell {cid} (restored by nbgrader and graded)")
    return issues


def static_flags(nb):
    """Instructor flags from the student's own code: reference helpers imported, the autograder touched."""
    flags = []
    for c in nb.cells:
        meta = c.metadata.get("nbgrader", {})
        if c.cell_type != "code" or (meta.get("locked") and not meta.get("solution")):
            continue
        src = c.source
        if "autograder" in src or MARKER in src:
            flags.append(f"source mentions the autograder (cell {meta.get('grade_id', '?')})")
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("helpers"):
                hit = sorted(a.name for a in node.names if a.name in REFERENCE_NAMES)
                if hit:
                    flags.append(f"imports {', '.join(hit)} from {node.module} (cell {meta.get('grade_id', '?')})")
    return sorted(set(flags))


def _run_nbgrader(app_cls, cfg, assignment, student, **attrs):
    from nbgrader.coursedir import CourseDirectory
    cfg.CourseDirectory.assignment_id = assignment
    cfg.CourseDirectory.student_id = student
    app = app_cls(coursedir=CourseDirectory(config=cfg), config=cfg)
    for k, v in attrs.items():
        setattr(app, k, v)
    app.start()


def _replace(src, dest):
    """Copy src over dest; nbgrader leaves its outputs read-only, so a regrade removes the old copy first."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.unlink(missing_ok=True)
    shutil.copyfile(src, dest)


def read_grades(db, assignment, student):
    """Every grade cell of one submission as nbgrader saved it: name -> auto_score, needs_manual_grade, max."""
    from nbgrader.api import Gradebook
    out = {}
    with Gradebook(f"sqlite:///{db}", "week6") as gb:
        sub = gb.find_submission_notebook(assignment, assignment, student)
        for g in sub.grades:
            out[g.name] = {"auto_score": g.auto_score, "needs_manual_grade": bool(g.needs_manual_grade),
                           "max": g.max_score}
    return out


def grade_job(job):
    """Grade one submission in its own temporary course folder. Never raises."""
    import nbformat
    from nbgrader.converters import Autograde, GenerateFeedback
    from traitlets.config import Config

    student, assignment = job["student"], job["assignment"]
    nb_name = f"{assignment}.ipynb"
    result = {"student": student, "assignment": assignment, "issues": list(job.get("issues", [])),
              "flags": [], "checks": {}, "status": "graded"}
    tmp = Path(tempfile.mkdtemp(prefix=f"ag_{student}_{assignment}_", dir=job.get("tmp_root")))
    try:
        course = tmp / "course"
        course.mkdir()
        shutil.copy(job["base_db"], course / "gradebook.db")
        sub_dir = course / "submitted" / student / assignment
        shutil.copytree(job["submission_dir"], sub_dir, ignore=shutil.ignore_patterns("*.ipynb", ".*"))
        shutil.copy(job["notebook"], sub_dir / nb_name)
        submitted = nbformat.read(sub_dir / nb_name, as_version=4)
        release = nbformat.read(job["release_nb"], as_version=4)
        result["issues"] += hidden_cell_changes(submitted, release, assignment)
        result["flags"] += static_flags(submitted)

        os.environ["IPYTHONDIR"] = job["ipython_dir"]  # a clean IPython profile, not the instructor's
        cfg = apply(Config(), work=course, root=course, source=job["source"], timeout=job["timeout"],
                    sandbox=job.get("sandbox", True))
        t0 = time.monotonic()
        try:  # the course pipeline: execute, judge outside the kernel, SaveAutoGrades
            _run_nbgrader(Autograde, cfg, assignment, student, force=True, create_student=True)
        except Exception as exc:  # noqa: BLE001 - nbgrader failed on this submission only
            result["issues"].append(f"nbgrader autograde failed: {exc}")
        result["autograde_s"] = round(time.monotonic() - t0, 2)
        executed = course / "autograded" / student / assignment / nb_name
        judged = nbformat.read(executed, as_version=4).metadata.get("autograder") if executed.exists() else None
        if not judged:
            result["status"] = "not graded"
            for cid in checks_of(assignment):
                result["checks"][cid] = checks.not_graded(cid, "the notebook could not be autograded").to_dict()
            return result
        result["checks"] = judged["checks"]
        result["issues"] += judged["issues"]
        result["flags"] += judged["flags"]
        # The points are what nbgrader saved from the judge's cell outputs: read them back.
        result["grades"] = read_grades(course / "gradebook.db", assignment, student)
        for cid, r in result["checks"].items():
            saved = result["grades"].get(cid, {}).get("auto_score")
            if saved is None:
                result["issues"].append(f"{cid}: nbgrader saved no automatic score; 0 points")
                saved = 0.0
            elif float(saved) != float(r["points"]):  # pragma: no cover - the judge and nbgrader disagree
                result["issues"].append(f"{cid}: the gradebook holds {saved} points, the judge gave {r['points']}")
            r["points"] = int(saved) if float(saved).is_integer() else float(saved)
        limits = job.get("sandbox", True)
        if limits:  # the sandbox limits this submission's code hit (its own only)
            memory_mb = limits.get("memory_mb") if isinstance(limits, dict) else None
            result["issues"] += sandbox_mod.read_report(course / sandbox_mod.REPORT_NAME,
                                                        nbformat.read(executed, as_version=4), memory_mb)
        try:
            _run_nbgrader(GenerateFeedback, cfg, assignment, student, force=True)
        except Exception as exc:  # noqa: BLE001
            result["issues"].append(f"feedback generation failed: {exc}")
        # The executed notebook still holds the hidden-test cells: it goes to the
        # instructor's autograded/ folder, never next to the feedback students receive.
        out, graded_dir = Path(job["out_dir"]), Path(job["autograded_dir"])
        out.mkdir(parents=True, exist_ok=True)
        _replace(executed, graded_dir / nb_name)
        fb = course / "feedback" / student / assignment / nb_name.replace(".ipynb", ".html")
        if fb.exists():
            _replace(fb, out / fb.name)
        result["feedback"] = str(out / fb.name) if fb.exists() else None
        result["autograded"] = str(graded_dir / nb_name)
        return result
    except Exception as exc:  # noqa: BLE001 - a driver bug must not take the class down
        result["status"] = "not graded"
        result["issues"].append(f"grading error: {type(exc).__name__}: {exc}")
        for cid in checks_of(assignment):
            result["checks"].setdefault(cid, checks.not_graded(cid, "grading error").to_dict())
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def worker_main():
    """A long-lived worker: one JSON job per stdin line; writes the result file, then prints 'done'."""
    import logging
    logging.basicConfig(level=logging.ERROR)
    ensure_tools_on_path()
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # anything else printing to stdout goes to stderr; the protocol line stays clean
    for line in sys.stdin:
        job = json.loads(line)
        result = grade_job(job)
        Path(job["result_path"]).write_text(json.dumps(result, allow_nan=True))
        out.write("done\n")
        out.flush()


# =========================================================================== the driver side
class Worker:
    def __init__(self, log):
        self.log = log
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([sys.executable, "-m", "autograder.grading", "--worker"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                                     text=True, start_new_session=True, cwd=REPO)

    def run(self, job, limit):
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        deadline = time.monotonic() + limit
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                return f"grading this submission took longer than {limit:.0f} s; it was stopped"
            ready, _, _ = select.select([self.proc.stdout], [], [], min(left, 5.0))
            if ready:
                line = self.proc.stdout.readline()
                if line.strip() == "done":
                    return None
                if not line:
                    self.kill()
                    return "the grading worker died"

    def kill(self):
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
            self.proc = None

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def discover(submitted):
    """(jobs, problems): one job per student/assignment; problems for what cannot be graded."""
    import nbformat
    jobs, problems = [], []
    for sdir in sorted(p for p in Path(submitted).iterdir() if p.is_dir() and not p.name.startswith(".")):
        for adir in sorted(p for p in sdir.iterdir() if p.is_dir() and not p.name.startswith(".")):
            student, assignment = sdir.name, adir.name
            if assignment not in ASSIGNMENTS:
                problems.append({"student": student, "assignment": assignment,
                                 "issues": [f"unknown assignment folder {adir.name!r}; expected one of {ASSIGNMENTS}"]})
                continue
            issues = []
            path = adir / f"{assignment}.ipynb"
            if not path.exists():
                others = sorted(adir.glob("*.ipynb"))
                if len(others) == 1:
                    issues.append(f"wrong file name: {others[0].name} (expected {path.name}); graded as {path.name}")
                    path = others[0]
                else:
                    names = ", ".join(p.name for p in others) or "no notebook"
                    problems.append({"student": student, "assignment": assignment,
                                     "issues": [f"wrong file name: found {names}, expected {path.name}"]})
                    continue
            try:
                nbformat.read(path, as_version=4)
            except Exception as exc:  # noqa: BLE001 - corrupt JSON or an invalid notebook
                problems.append({"student": student, "assignment": assignment,
                                 "issues": issues + [f"corrupt notebook JSON ({path.name}): {str(exc)[:160]}"]})
                continue
            jobs.append({"student": student, "assignment": assignment, "notebook": str(path),
                         "submission_dir": str(adir), "issues": issues})
    return jobs, problems


def _failed_result(p):
    return {"student": p["student"], "assignment": p["assignment"], "issues": p["issues"], "flags": [],
            "status": "not graded", "checks": {cid: checks.not_graded(cid, p["issues"][0]).to_dict()
                                               for cid in checks_of(p["assignment"])}}


def run_jobs(jobs, workers, limit_for, log):
    q = queue.Queue()
    for j in jobs:
        q.put(j)
    lock = threading.Lock()
    done = {}

    def loop():
        w = Worker(log)
        try:
            while True:
                try:
                    job = q.get_nowait()
                except queue.Empty:
                    return
                problem = w.run(job, limit_for(job))
                if problem is None and Path(job["result_path"]).exists():
                    res = json.loads(Path(job["result_path"]).read_text())
                else:
                    res = _failed_result({**job, "issues": job["issues"] + [problem or "no result"]})
                with lock:
                    done[(job["student"], job["assignment"])] = res
                print(f"  graded {job['student']}/{job['assignment']}: "
                      f"{sum(r['points'] for r in res['checks'].values())}/"
                      f"{sum(r['max'] for r in res['checks'].values())}", flush=True)
        finally:
            w.close()

    threads = [threading.Thread(target=loop, daemon=True) for _ in range(max(1, workers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done


def merge_into_gradebook(results, work):
    """Write every submission's grades into the course gradebook (sorted: deterministic).

    Automatic scores and nbgrader's needs_manual_grade come from each submission's
    own autograde.  A manual score the instructor set is kept; when the automatic
    score under it changed and the two now disagree, the cell is flagged for review
    (needs_manual_grade, as nbgrader's SaveAutoGrades does for overridden cells) and
    listed in the result's ``review``.  Returns the number of cells flagged."""
    import warnings

    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning
    warnings.simplefilter("ignore", SAWarning)  # nbgrader's own autoflush notices, harmless here
    flagged = 0
    with Gradebook(f"sqlite:///{Path(work) / 'gradebook.db'}", "week6") as gb:
        for r in results:  # a submission that could not be graded is recorded too, with zero points
            gb.update_or_create_student(r["student"])
            gb.update_or_create_submission(r["assignment"], r["student"])
            saved = r.get("grades") or {cid: {"auto_score": float(c["points"]), "needs_manual_grade": False}
                                        for cid, c in r["checks"].items()}
            r["review"] = []
            for name, g in sorted(saved.items()):
                try:
                    grade = gb.find_grade(name, r["assignment"], r["assignment"], r["student"])
                except Exception:  # noqa: BLE001 - cell not in this gradebook
                    continue
                old, new = grade.auto_score, g["auto_score"]
                grade.auto_score = new
                if grade.manual_score is None:
                    grade.needs_manual_grade = g["needs_manual_grade"]
                elif new is not None and old != new and float(grade.manual_score) != float(new):
                    grade.needs_manual_grade = True
                    flagged += 1
                    r["review"].append(f"{name}: the automatic score changed from {_pts(old)} to {_pts(new)} "
                                       f"under a manual score of {_pts(grade.manual_score)}; review it in formgrader")
        gb.db.commit()
    return flagged


def _pts(x):
    return "none" if x is None else f"{float(x):g}"


def export_gradebook(work, path):
    """nbgrader's own CSV export of the course gradebook (what `nbgrader export` writes)."""
    from nbgrader.api import Gradebook
    from nbgrader.plugins import CsvExportPlugin
    with Gradebook(f"sqlite:///{Path(work) / 'gradebook.db'}", "week6") as gb:
        CsvExportPlugin(to=str(path)).export(gb)


def write_outputs(results, out, sandboxed=True):
    out.mkdir(parents=True, exist_ok=True)
    all_checks = list(checks.POINTS)
    with open(out / "grades.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["student", "assignment", *[f"{c}{s}" for c in all_checks for s in ("", "_max")],
                    "total", "total_max", "scope"])
        for r in results:
            row = [r["student"], r["assignment"]]
            for cid in all_checks:
                c = r["checks"].get(cid)
                row += [c["points"], c["max"]] if c else ["", ""]
            row += [sum(c["points"] for c in r["checks"].values()), sum(c["max"] for c in r["checks"].values()), SCOPE]
            w.writerow(row)
    stable = [{k: v for k, v in r.items() if k not in ("autograde_s",)} for r in results]
    (out / "grades.json").write_text(json.dumps(stable, indent=1, sort_keys=True, allow_nan=True) + "\n")
    lines = [f"Graded {len(results)} submission(s).",
             "Points here are AUTOGRADED ONLY (hidden-test checks). Manually graded answers and overrides are in",
             "the gradebook: grade them in formgrader (`make formgrader`), then `python -m autograder finalize`",
             "writes the final grades (final_grades.csv) and regenerates the feedback.",
             ("Student code ran in a bubblewrap sandbox (no network; no access to the answer key, other "
             "submissions or your files)." if sandboxed else
             "UNSANDBOXED (--unsandboxed): student code ran with your rights and could read the answer key, "
             "the source notebooks, the gradebook and other submissions.")]
    partial = [r for r in results if r["issues"] or r["status"] != "graded"]
    lines.append(f"{len(partial)} not fully graded:" if partial else "Every submission was fully graded.")
    for r in partial:
        lines.append(f"- {r['student']}/{r['assignment']} ({r['status']}):")
        lines += [f"    {i}" for i in r["issues"]]
    flagged = [r for r in results if r["flags"]]
    if flagged:
        lines.append(f"Flagged for the instructor ({len(flagged)}):")
        for r in flagged:
            lines.append(f"- {r['student']}/{r['assignment']}:")
            lines += [f"    {f}" for f in sorted(set(r["flags"]))]
    review = [r for r in results if r.get("review")]
    if review:
        lines.append(f"Manual overrides to review: the automatic score changed under them ({len(review)}):")
        for r in review:
            lines.append(f"- {r['student']}/{r['assignment']}:")
            lines += [f"    {f}" for f in r["review"]]
    text = "\n".join(lines) + "\n"
    (out / "summary.txt").write_text(text)
    return text


def grade(submitted, work, out, workers=1, timeout=DEFAULT_TIMEOUT, source=None, job_timeout=None,
          sandbox=True):
    """``sandbox``: True (bubblewrap, default limits), a dict of limits (see autograder.sandbox), or
    False (student code runs unsandboxed; the summary says so).  Without bwrap, refuses unless False."""
    import nbformat
    ensure_tools_on_path()
    if sandbox:
        try:
            sandbox_mod.require_bwrap()
        except sandbox_mod.SandboxUnavailable as exc:
            raise SystemExit(f"error: {exc}") from None
    work, out = Path(work).resolve(), Path(out).resolve()
    source = Path(source or REPO / "notebooks").resolve()
    if not (work / "gradebook.db").exists():
        raise SystemExit(f"no gradebook in {work}: run `python -m autograder release --work {work}` first")
    jobs, problems = discover(submitted)
    scratch = Path(tempfile.mkdtemp(prefix="autograder_"))
    try:
        base_db = scratch / "base.db"
        shutil.copy(work / "gradebook.db", base_db)  # every job starts from the same gradebook
        ipy = scratch / "ipython"  # the probe is imported at kernel start by GuardedExecute
        ipy.mkdir()
        n_code = {}
        for a in ASSIGNMENTS:
            rel = work / "release" / a / f"{a}.ipynb"
            if rel.exists():
                n_code[a] = sum(c.cell_type == "code" for c in nbformat.read(rel, as_version=4).cells)

        def limit_for(job):
            return job_timeout or (n_code[job["assignment"]] + 4) * (timeout + 10) + 120

        for j in list(jobs):
            if j["assignment"] not in n_code:
                jobs.remove(j)
                problems.append({**j, "issues": j["issues"] + [f"{j['assignment']} was not released in {work}"]})
                continue
            j.update(base_db=str(base_db), ipython_dir=str(ipy), source=str(source), timeout=timeout,
                     sandbox=False if not sandbox else {"wall_s": float(limit_for(j)),
                                                        **(sandbox if isinstance(sandbox, dict) else {})},
                     tmp_root=str(scratch), release_nb=str(work / "release" / j["assignment"] / f"{j['assignment']}.ipynb"),
                     out_dir=str(out / "feedback" / j["student"] / j["assignment"]),
                     autograded_dir=str(out / "autograded" / j["student"] / j["assignment"]),
                     result_path=str(scratch / f"result_{j['student']}_{j['assignment']}.json"))

        out.mkdir(parents=True, exist_ok=True)
        with open(out / "workers.log", "w") as log:  # nbgrader's own log, for the instructor's debugging
            done = run_jobs(jobs, workers, limit_for, log)
        results = [done[k] for k in sorted(done)] + [_failed_result(p) for p in problems]
        results.sort(key=lambda r: (r["student"], r["assignment"]))
        for r in results:  # autograded notebooks and feedback into the course work folder too
            for kind, sub in (("autograded", "autograded"), ("feedback", "feedback")):
                if r.get(kind):
                    _replace(r[kind], work / sub / r["student"] / r["assignment"] / Path(r[kind]).name)
            for kind in ("autograded", "feedback"):
                if r.get(kind):
                    r[kind] = str(Path(r[kind]).relative_to(out))
        merge_into_gradebook(results, work)  # before write_outputs: it adds each result's review list
        export_gradebook(work, out / "nbgrader_export.csv")
        return results, write_outputs(results, out, sandboxed=bool(sandbox))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m autograder grade", description=__doc__.splitlines()[0])
    ap.add_argument("submitted", type=Path, help="folder in nbgrader's submitted layout: <student>/<assignment>/")
    ap.add_argument("--work", type=Path, default=None, help="nbgrader work folder with the release (default nbgrader_work/)")
    ap.add_argument("--out", type=Path, default=None, help="where grades.csv, feedback/ and summary.txt go (default <work>/grades)")
    ap.add_argument("--workers", type=int, default=1, help="submissions graded in parallel (default 1)")
    ap.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT, help="seconds per cell (default 30)")
    ap.add_argument("--job-timeout", type=int, default=None, help="last-resort seconds per submission")
    ap.add_argument("--source", type=Path, default=None, help="source notebooks folder (default notebooks/)")
    ap.add_argument("--unsandboxed", action="store_true",
                    help="run student code WITHOUT the bubblewrap sandbox (it can then read the answer key, "
                         "the gradebook and other submissions); only where bwrap cannot be installed")
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
                             sandbox=False if args.unsandboxed else (limits or True))
    print(summary, end="")
    print(f"Wrote {out / 'grades.csv'}, {out / 'summary.txt'} and feedback/ in {time.monotonic() - t0:.0f} s.")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--worker"]:
        worker_main()
    else:
        sys.exit(main())
