"""nbgrader configuration for the course.

Source notebooks live in ``notebooks/<assignment>/``; everything nbgrader writes
(release, submitted, autograded, feedback, the gradebook) goes under one work
folder outside version control (``nbgrader_work/`` at the repository root, or
``$AUTOGRADER_WORK``).  ``apply`` fills a traitlets Config for that course; the
grading driver builds its configuration with it, and so does the repository
root's ``nbgrader_config.py``, which nbgrader reads from the current folder.  So
nbgrader's own tools work on this course from the repository root, with nothing
set by hand:

    nbgrader db student list                       # AUTOGRADER_WORK=... for another work folder
    nbgrader autograde week6_lab                   # the same judge, points and verdicts as `grade`
    nbgrader generate_feedback week6_lab
    nbgrader export
    nbgrader validate notebooks/week6_lab/week6_lab.ipynb

The autograde pipeline: ``PrefetchExpected`` (the run's expected values built on a background thread
while the kernel runs) -> ``GuardedExecute`` (timeouts, a stopped kernel, a scratch cwd,
output bounded in bytes) -> ``JudgeHiddenTests`` (``preprocessors/judge_hidden_tests.py``: function checks through the
function host, value checks from the reporter's line -> verdict and points, outside the kernel)
-> ``SanitizeSubmission`` (``sanitize.py``: no script, style, frames or handlers from student
outputs and markdown, before nbgrader saves the notebook formgrader renders) -> nbgrader's
``SaveAutoGrades``.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

# This file is also loaded as a plain nbgrader config file (see the end), so it imports nothing of
# the autograder package at the top: package imports happen inside the functions.
REPO = Path(__file__).resolve().parent.parent
ASSIGNMENTS = ("week6_lab", "week6_homework")
DEFAULT_TIMEOUT = 30  # seconds per cell
COURSE_ID = "week6"  # nbgrader's course id: the gradebook and the exchange are keyed by it
GRADEBOOK_NAME = "gradebook.db"  # in the work folder


# What a student sees in place of each solution: a cell that fails loudly, and
# says why, until they replace it.
CODE_STUB = ('# YOUR CODE HERE\n'
             'raise NotImplementedError("not implemented yet: replace this line with your code, then re-run the cell")')

def ensure_tools_on_path() -> None:
    """nbgrader shells out to `alembic` (new gradebooks) and kernels: make the running
    interpreter's bin folder (the venv) win on PATH, however we were started, and put
    this checkout on PYTHONPATH so kernels can import ``autograder.kernel.reporter``.  The
    autograder is instructor-only: it holds the answer key and the expected values,
    so it is not part of the package students install."""
    import sys
    bindir = str(Path(sys.executable).parent)
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if not parts or parts[0] != bindir:
        os.environ["PATH"] = os.pathsep.join([bindir, *parts])
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if str(REPO) not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([str(REPO), *paths])


def default_work() -> Path:
    """The course's work folder: ``$AUTOGRADER_WORK``, else ``nbgrader_work/`` (see ``autograder.settings``)."""
    from autograder.settings import work_folder
    return work_folder()


def apply(c: Any, *, work: Path | str, root: Path | str | None = None, source: Path | str | None = None,
          timeout: int = DEFAULT_TIMEOUT, interrupt_grace: int = 5, sandbox: bool | dict[str, Any] = True) -> Any:
    """Fill a traitlets Config ``c`` for a course whose nbgrader folders live under ``work``.

    ``sandbox``: True (default limits), a dict of ``SandboxKernelManager`` limits (``memory_mb``,
    ``max_processes``, ``wall_s``, ...), or False: autograde kernels run student code under
    bubblewrap (``autograder.sandbox``); breaches are appended to ``work/sandbox_breaches.jsonl``."""
    ensure_tools_on_path()
    work = Path(work).resolve()
    _course_directories(c, work, root, source)
    _pipelines(c, work, timeout, interrupt_grace)
    c.GenerateAssignment.create_assignment = True
    c.ClearSolutions.code_stub = {"python": CODE_STUB}
    c.Exchange.assignment_dir = str(work)
    # nbgrader's exchange defaults to /usr/local/share/nbgrader/exchange, which an ordinary user cannot
    # write (formgrader then shows a banner); this course hands notebooks out through an LMS or Kaggle,
    # so the exchange is a folder of the work folder's, made when the work folder exists.
    c.Exchange.root = str(work / "exchange")
    if work.is_dir():
        (work / "exchange").mkdir(exist_ok=True)
    from autograder.seeding import SECRET_NAME
    c.JudgeHiddenTests.secret_path = str(work / SECRET_NAME)  # one course secret for every way of grading
    c.JudgeHiddenTests.sandbox = bool(sandbox)  # the function host is sandboxed exactly when the kernel is
    c.JudgeHiddenTests.call_timeout = float(max(int(timeout), 10))  # a graded call gets a cell's time
    if sandbox:
        from autograder.sandbox import REPORT_NAME, configure
        configure(c, report_path=work / REPORT_NAME, **(sandbox if isinstance(sandbox, dict) else {}))
    return c


def _course_directories(c: Any, work: Path, root: Path | str | None, source: Path | str | None) -> None:
    """nbgrader's folders and gradebook, all under ``work`` (the sources from the checkout by default)."""
    c.CourseDirectory.root = str(Path(root or work).resolve())
    c.CourseDirectory.source_directory = str(Path(source or REPO / "notebooks").resolve())
    c.CourseDirectory.release_directory = str(work / "release")
    c.CourseDirectory.submitted_directory = str(work / "submitted")
    c.CourseDirectory.autograded_directory = str(work / "autograded")
    c.CourseDirectory.feedback_directory = str(work / "feedback")
    c.CourseDirectory.db_url = f"sqlite:///{work / GRADEBOOK_NAME}"
    c.CourseDirectory.course_id = COURSE_ID
    c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*"]


def _pipelines(c: Any, work: Path, timeout: int, interrupt_grace: int) -> None:
    """The preprocessors of autograde (execution, judge, saving) and of generate_feedback, and the pages'
    rendering."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        ClearOutput,
        DeduplicateIds,
        GetGrades,
        IgnorePattern,
        LimitOutput,
        OverwriteKernelspec,
        SaveAutoGrades,
    )

    from autograder.feedback import configure as configure_pending_feedback
    from autograder.preprocessors.check_cell_metadata import CompiledCheckCellMetadata
    from autograder.preprocessors.execute import GuardedExecute
    from autograder.preprocessors.judge_hidden_tests import JudgeHiddenTests
    from autograder.preprocessors.overwrite_cells import RestoringOverwriteCells
    from autograder.preprocessors.prefetch_expected import PrefetchExpected
    from autograder.preprocessors.sanitize_feedback import SanitizeFeedback
    from autograder.sanitize import SanitizeSubmission
    from autograder.sanitize import configure as sanitize_html


    c.Execute.kernel_name = "python3"
    c.Execute.timeout = int(timeout)
    c.GuardedExecute.timeout = int(timeout)
    c.GuardedExecute.interrupt_grace = int(interrupt_grace)
    c.GuardedExecute.kernel_name = "python3"
    # After the last cell the kernel is killed, not asked to stop: nothing of its state is kept, and a graceful
    # stop (the student's atexit handlers, ipykernel's own shutdown) took 1.5-2.5 s of every submission.
    c.GuardedExecute.shutdown_kernel = "immediate"
    # The judge reads the reporter's lines before LimitOutput could shorten them, and leaves the
    # points where SaveAutoGrades (nbgrader's determine_grade) reads them.
    from autograder.preprocessors.class_outputs import RecordClassOutputs
    c.Autograde.autograde_preprocessors = [PrefetchExpected, GuardedExecute, IgnorePattern, ClearMetadataPreprocessor,
                                           JudgeHiddenTests, LimitOutput, SanitizeSubmission, SaveAutoGrades,
                                           AssignLatePenalties, CompiledCheckCellMetadata, RecordClassOutputs]
    # Formgrader's Autograde button and `nbgrader autograde` keep the class's grades.csv current (a
    # temporary course, as `grade`'s workers use, has no grades folder: the step does nothing there).
    c.RecordClassOutputs.grades_dir = str(work / "grades")
    c.Autograde.sanitize_preprocessors = [ClearOutput, DeduplicateIds, OverwriteKernelspec, RestoringOverwriteCells,
                                          CompiledCheckCellMetadata]
    c.OverwriteCells.add_missing_cells = True  # a deleted test cell comes back and is graded
    c.GenerateFeedback.preprocessors = [GetGrades, SanitizeFeedback, SanitizeSubmission, CSSHTMLHeaderPreprocessor]
    configure_pending_feedback(c)  # unscored written answers say "pending manual grading", not 0
    sanitize_html(c)  # student outputs and markdown reach no page as script, style, frames or handlers
    # Formgrader's page and the feedback HTML: no bare score echo under hidden tests, wrapped verdicts,
    # readable tables (render-time only: the graded notebook keeps the score nbgrader reads).
    from autograder.preprocessors.grader_view import GraderView
    c.HTMLExporter.preprocessors = [GraderView]
    c.CSSHTMLHeaderPreprocessor.enabled = False  # GraderView writes that header itself (it would replace ours)
    c.GraderView.enabled = True


def autograde_blockers(work: Path | str, assignment: str | None, students: list[str] | None = None) -> list[str]:
    """Submissions that nbgrader's own ``autograde`` would break on or mishandle: links, FIFOs, devices or
    sockets anywhere in the folder (nbgrader's copy follows and blocks on them), no ``<assignment>.ipynb`` (with
    --force it empties their autograded folder and formgrader answers HTTP 500 for them) or a notebook
    that is not valid JSON (it stops the run).  ``grade`` handles both; one line each, with the fix."""
    import json
    out = []
    root = Path(work) / "submitted"
    for folder in sorted(root.glob(f"*/{assignment or '*'}")):
        student, a = folder.parent.name, folder.name
        if not folder.is_dir() or (students and student not in students) or a not in ASSIGNMENTS:
            continue
        special = _special_entries(folder)
        if special:  # nbgrader's own copy follows links and blocks on FIFOs: never hand it these
            out.append(f"{student}/{a}: holds {', '.join(special[:5])}: links, FIFOs, devices and sockets are "
                       "refused (grade names and skips them)")
            continue
        nb = folder / f"{a}.ipynb"
        if not nb.is_file():
            names = ", ".join(p.name for p in folder.glob("*.ipynb")) or "no notebook"
            out.append(f"{student}/{a}: holds {names}, not {a}.ipynb")
            continue
        try:
            json.loads(nb.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            out.append(f"{student}/{a}: {a}.ipynb is not valid notebook JSON ({type(exc).__name__})")
    return out


def _special_entries(folder: Path) -> list[str]:
    """Entries under ``folder`` (the folder itself included) that are not plain files or folders, found
    with lstat only (nothing is followed), as paths relative to ``folder``'s parent."""
    import os
    import stat
    found = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        here = Path(dirpath)
        if here == folder and not stat.S_ISDIR(os.lstat(here).st_mode):
            return [here.name]
        for name in dirnames + filenames:
            mode = os.lstat(here / name).st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                found.append(str((here / name).relative_to(folder.parent)))
    if folder.is_symlink():
        found.insert(0, folder.name)
    return found


def guard_nbgrader_autograde(argv: list[str], work: Path | str) -> None:
    """When nbgrader's own ``autograde`` command loads this config, refuse (exit 2, before it touches
    anything) if a submission would break it, naming each and pointing to ``grade``, which grades them."""
    import sys
    if len(argv) < 2 or argv[1] != "autograde" or "--help" in argv or "--help-all" in argv:
        return
    positional, students, rest = [], [], list(argv[2:])
    while rest:
        arg = rest.pop(0)
        if arg in ("--student", "--assignment") and rest:  # traitlets also accepts --student=ID
            arg = f"{arg}={rest.pop(0)}"
        if arg.startswith("--student="):
            students.append(arg.split("=", 1)[1])
        elif arg.startswith("--assignment="):
            positional.append(arg.split("=", 1)[1])
        elif not arg.startswith("-"):
            positional.append(arg)
    blockers = autograde_blockers(work, positional[0] if positional else None, students or None)
    if blockers:
        print("nbgrader autograde refused (nothing was changed): these submissions would break it "
              "(a wrong notebook name makes --force empty their autograded folder and formgrader fail):\n  "
              + "\n  ".join(blockers) + "\nGrade them with `make grade` (or `make grade ARGS=\"--student ID\"`), "
              "which grades a wrong-named notebook and records a corrupt one, or fix the files first.",
              file=sys.stderr)
        raise SystemExit(2)


def run_nbgrader(app_cls: type, cfg: Any, assignment: str, student: str | None = None, **attrs: Any) -> None:
    """Run one nbgrader converter (GenerateAssignment, Autograde, GenerateFeedback) with the Config ``cfg``
    (from ``apply``) on one assignment, one student's submission only when ``student`` is given;
    ``attrs`` are set on the app first (``force=True``, ``create_student=True``)."""
    from nbgrader.coursedir import CourseDirectory
    cfg.CourseDirectory.assignment_id = assignment
    if student is not None:
        cfg.CourseDirectory.student_id = student
    app = app_cls(coursedir=CourseDirectory(config=cfg), config=cfg)
    for k, v in attrs.items():
        setattr(app, k, v)
    app.start()


if "get_config" in globals():  # loaded by nbgrader / traitlets as a config file (cwd autograder/)
    import sys as _sys
    if str(REPO) not in _sys.path:  # the nbgrader console script does not put the checkout on sys.path
        _sys.path.insert(0, str(REPO))
    apply(get_config(), work=default_work(), root=REPO)  # noqa: F821
