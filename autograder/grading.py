"""``python -m autograder grade DIR``: grade every submission in nbgrader's submitted layout.

DIR/<student>/<assignment>/<assignment>.ipynb.  Each submission is graded on its
own: a worker process copies the released gradebook into a fresh temporary
course folder, runs nbgrader's ``autograde`` there (hidden tests restored, the
notebook executed with a per-cell timeout), reads the probes' marked lines from
the executed notebook, judges them with ``checks.py`` outside the kernel, writes
the points into that gradebook and runs ``generate_feedback`` with the hidden
tests stripped.  The main process then merges every result, in sorted order,
into the course gradebook, so one worker and N workers give the same grades.

Outputs (under --out): grades.csv, grades.json (with instructor detail),
feedback/<student>/<assignment>/<assignment>.html (for students),
autograded/<student>/<assignment>/<assignment>.ipynb (for the instructor only:
it still holds the hidden-test cells), summary.txt.
"""
from __future__ import annotations

import argparse
import ast
import csv
import json
import os
import queue
import secrets
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from . import checks, sandbox as sandbox_mod
from .nbgrader_config import ASSIGNMENTS, DEFAULT_TIMEOUT, REPO, apply, default_work, ensure_tools_on_path
from .probe import MARKER, NONCE_ENV

STARTUP = ("# Written by the autograder: import the probe before any student code runs, so it\n"
           "# captures pristine numpy/torch/builtins and reads this run's nonce.\n"
           "import autograder.probe  # noqa: F401\n")

# Static source inspection: names whose import or use in a student's code deserves an instructor's look.
REFERENCE_NAMES = {"kd_loss", "kd_loss_terms", "per_tier_f1", "per_tier_ece", "coverage_table",
                   "paired_bootstrap", "paired_bootstrap_loop", "per_class_f1", "per_tier_js",
                   "js_divergence", "fit_temperature", "ece"}


# =========================================================================== the worker side
def checks_of(assignment):
    return [cid for cid, nb in checks.NOTEBOOK_OF.items() if nb == assignment]


def _cells_by_gid(nb):
    return {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade_id")}


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


def read_results(nb, nonce, assignment, expected):
    """Judge every check of the executed notebook; returns (results by check, issues, flags)."""
    cells = _cells_by_gid(nb)
    results, issues, flags = {}, [], []
    for cid in checks_of(assignment):
        cell = cells.get(cid)
        if cell is None:
            results[cid] = checks.not_graded(cid, "the test cell is missing from the graded notebook")
            issues.append(f"{cid}: test cell missing after autograde")
            continue
        text = "".join(o.get("text", "") for o in cell.get("outputs", [])
                       if o.get("output_type") == "stream" and o.get("name") == "stdout")
        valid, forged, corrupt = [], 0, 0
        for line in text.splitlines():
            line = line.strip()
            if not line.startswith(MARKER):
                continue
            try:
                payload = json.loads(line[len(MARKER):])
            except ValueError:
                corrupt += 1
                continue
            if isinstance(payload, dict) and nonce and payload.get("nonce") == nonce and payload.get("check") == cid:
                valid.append(payload)
            else:
                forged += 1
        if forged:
            flags.append(f"{cid}: {forged} result line(s) without this run's nonce (printed by student code?)")
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if len(valid) == 1:
            results[cid] = checks.judge(cid, valid[0], expected)
            if errors:  # e.g. the cell timed out after the probe printed; the data stands
                issues.append(f"{cid}: {errors[0].get('ename')}: {errors[0].get('evalue', '')[:120]}")
            continue
        if len(valid) > 1:
            reason = "more than one result line for this check: tampering suspected"
            flags.append(f"{cid}: {reason}")
        elif errors:
            e = errors[0]
            ename, evalue = e.get("ename", "Error"), e.get("evalue", "")
            if ename == "AutograderNotRun":
                reason = evalue
            elif ename in ("CellTimeoutError", "KeyboardInterrupt"):
                reason = "the test cell ran past the time limit"
            else:
                reason = f"the test cell raised {ename}: {evalue[:200]}"
        elif corrupt:
            reason = "the test cell printed an unreadable result line"
        else:
            reason = "the test cell printed no result (did it run?)"
        results[cid] = checks.not_graded(cid, reason)
        issues.append(f"{cid}: {reason}")
    for i, cell in enumerate(nb.cells):  # student cells that timed out or stopped the kernel
        if cell.cell_type != "code" or cell.metadata.get("nbgrader", {}).get("grade_id") in results:
            continue
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error" and o.get("ename") in ("CellTimeoutError", "AutograderStopped"):
                name = cell.metadata.get("nbgrader", {}).get("grade_id", f"#{i}")
                issues.append(f"cell {name} (#{i}): {o.get('evalue') or 'ran past the time limit'}")
                break
    return results, issues, flags


def verdict_text(r):
    lines = [f"Autograder: {r['check']}: {r['points']} / {r['max']} points"]
    if r.get("note"):
        lines.append(f"  note: {r['note']}")
    for p in r["parts"]:
        mark = "ok" if p["passed"] else "--"
        lines.append(f"  [{mark}] {p['name']} ({p['points']}/{p['max']})" + (f": {p['message']}" if p["message"] else ""))
    return "\n".join(lines) + "\n"


def _run_nbgrader(app_cls, cfg, assignment, student, **attrs):
    from nbgrader.coursedir import CourseDirectory
    cfg.CourseDirectory.assignment_id = assignment
    cfg.CourseDirectory.student_id = student
    app = app_cls(coursedir=CourseDirectory(config=cfg), config=cfg)
    for k, v in attrs.items():
        setattr(app, k, v)
    app.start()


def grade_job(job):
    """Grade one submission in its own temporary course folder. Never raises."""
    import nbformat
    from nbgrader.api import Gradebook
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

        nonce = secrets.token_hex(16)
        nonce_file = tmp / "nonce"
        nonce_file.write_text(nonce)
        os.environ[NONCE_ENV] = str(nonce_file)
        os.environ["IPYTHONDIR"] = job["ipython_dir"]
        cfg = apply(Config(), work=course, root=course, source=job["source"], timeout=job["timeout"],
                    sandbox=job.get("sandbox", True))
        t0 = time.monotonic()
        try:
            _run_nbgrader(Autograde, cfg, assignment, student, force=True, create_student=True)
        except Exception as exc:  # noqa: BLE001 - nbgrader failed on this submission only
            result["issues"].append(f"nbgrader autograde failed: {exc}")
        result["autograde_s"] = round(time.monotonic() - t0, 2)
        executed = course / "autograded" / student / assignment / nb_name
        expected = checks.load_expected(assignment)
        if not executed.exists():
            result["status"] = "not graded"
            for cid in checks_of(assignment):
                result["checks"][cid] = checks.not_graded(cid, "the notebook could not be autograded")
            return result
        nb = nbformat.read(executed, as_version=4)
        res, issues, flags = read_results(nb, nonce, assignment, expected)
        result["checks"], result["issues"], result["flags"] = res, result["issues"] + issues, result["flags"] + flags
        limits = job.get("sandbox", True)
        if limits:  # the sandbox limits this submission's code hit (its own only)
            memory_mb = limits.get("memory_mb") if isinstance(limits, dict) else None
            result["issues"] += sandbox_mod.read_report(course / sandbox_mod.REPORT_NAME, nb, memory_mb)
        for cid, r in res.items():
            result["flags"] += [f"{cid}: {f}" for f in r.get("flags", [])]
        # Points into this submission's gradebook; verdicts into the notebook for the feedback.
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "week6") as gb:
            for cid, r in res.items():
                try:
                    grade = gb.find_grade(cid, assignment, assignment, student)
                except Exception:  # noqa: BLE001 - cell not in this gradebook
                    continue
                grade.auto_score = float(r["points"])
                grade.needs_manual_grade = False
            gb.db.commit()
        cells = _cells_by_gid(nb)
        for cid, r in res.items():
            if cid in cells:
                cells[cid].metadata["autograder"] = {"text": verdict_text(r)}
        executed.chmod(executed.stat().st_mode | stat.S_IWUSR)  # nbgrader leaves it read-only
        nbformat.write(nb, executed)
        try:
            _run_nbgrader(GenerateFeedback, cfg, assignment, student, force=True)
        except Exception as exc:  # noqa: BLE001
            result["issues"].append(f"feedback generation failed: {exc}")
        # The executed notebook still holds the hidden-test cells: it goes to the
        # instructor's autograded/ folder, never next to the feedback students receive.
        out, graded_dir = Path(job["out_dir"]), Path(job["autograded_dir"])
        out.mkdir(parents=True, exist_ok=True)
        graded_dir.mkdir(parents=True, exist_ok=True)
        copy_over(executed, graded_dir / nb_name)
        fb = course / "feedback" / student / assignment / nb_name.replace(".ipynb", ".html")
        if fb.exists():
            copy_over(fb, out / fb.name)
        result["feedback"] = str(out / fb.name) if fb.exists() else None
        result["autograded"] = str(graded_dir / nb_name)
        return result
    except Exception as exc:  # noqa: BLE001 - a driver bug must not take the class down
        result["status"] = "not graded"
        result["issues"].append(f"grading error: {type(exc).__name__}: {exc}")
        for cid in checks_of(assignment):
            result["checks"].setdefault(cid, checks.not_graded(cid, "grading error"))
        return result
    finally:
        os.environ.pop(NONCE_ENV, None)
        shutil.rmtree(tmp, ignore_errors=True)


def copy_over(src, dst):
    """shutil.copy, also over a read-only earlier copy (nbgrader makes its outputs read-only)."""
    dst = Path(dst)
    if dst.is_file() or dst.is_symlink():
        dst.unlink()
    return shutil.copy(src, dst)


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
            "status": "not graded", "checks": {cid: checks.not_graded(cid, p["issues"][0])
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
    """Write every submission's points into the course gradebook (sorted: deterministic)."""
    import warnings

    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning
    warnings.simplefilter("ignore", SAWarning)  # nbgrader's own autoflush notices, harmless here
    with Gradebook(f"sqlite:///{Path(work) / 'gradebook.db'}", "week6") as gb:
        for r in results:  # a submission that could not be graded is recorded too, with zero points
            gb.update_or_create_student(r["student"])
            gb.update_or_create_submission(r["assignment"], r["student"])
            for cid, c in r["checks"].items():
                try:
                    grade = gb.find_grade(cid, r["assignment"], r["assignment"], r["student"])
                except Exception:  # noqa: BLE001
                    continue
                grade.auto_score = float(c["points"])
                grade.needs_manual_grade = False
        gb.db.commit()


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
                    "total", "total_max"])
        for r in results:
            row = [r["student"], r["assignment"]]
            for cid in all_checks:
                c = r["checks"].get(cid)
                row += [c["points"], c["max"]] if c else ["", ""]
            row += [sum(c["points"] for c in r["checks"].values()), sum(c["max"] for c in r["checks"].values())]
            w.writerow(row)
    stable = [{k: v for k, v in r.items() if k not in ("autograde_s",)} for r in results]
    (out / "grades.json").write_text(json.dumps(stable, indent=1, sort_keys=True, allow_nan=True) + "\n")
    lines = [f"Graded {len(results)} submission(s).",
             "Student code ran in a bubblewrap sandbox (no network; no access to the answer key, other "
             "submissions or your files)." if sandboxed else
             "UNSANDBOXED (--unsandboxed): student code ran with your rights and could read the answer key, "
             "the source notebooks, the gradebook and other submissions."]
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
        ipy = scratch / "ipython"
        (ipy / "profile_default" / "startup").mkdir(parents=True)
        (ipy / "profile_default" / "startup" / "00-autograder-probe.py").write_text(STARTUP)
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
                    dest = work / sub / r["student"] / r["assignment"] / Path(r[kind]).name
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    copy_over(r[kind], dest)
            for kind in ("autograded", "feedback"):
                if r.get(kind):
                    r[kind] = str(Path(r[kind]).relative_to(out))
        merge_into_gradebook(results, work)
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
