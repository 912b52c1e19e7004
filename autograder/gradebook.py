"""The course gradebook (nbgrader's ``gradebook.db``): read one submission's saved grades, merge a
grading run's results in, export it.

One worker grades each submission against its own copy of the gradebook; the main process then
merges every result, in sorted order, into the course gradebook, so one worker and N workers give
the same grades.  A manual score the instructor set in formgrader is kept; when the automatic score
under it changed and the two now disagree, the cell is flagged for review.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .nbgrader_config import COURSE_ID, GRADEBOOK_NAME, ensure_tools_on_path
from .results import SavedGrade, SubmissionResult

if TYPE_CHECKING:
    from nbgrader.api import Gradebook


def open_gradebook(db: Path) -> Gradebook:
    """nbgrader's Gradebook on the sqlite file ``db`` (use it as a context manager).  nbgrader runs
    `alembic` from PATH on an existing gradebook: the venv's bin folder goes first, however we started."""
    from nbgrader.api import Gradebook
    ensure_tools_on_path()
    return Gradebook(f"sqlite:///{db}", COURSE_ID)


def read_grades(db: Path, assignment: str, student: str) -> dict[str, SavedGrade]:
    """Every grade cell of one submission as nbgrader saved it, by cell name."""
    out = {}
    with open_gradebook(db) as gb:
        sub = gb.find_submission_notebook(assignment, assignment, student)
        for g in sub.grades:
            out[g.name] = SavedGrade(auto_score=g.auto_score, needs_manual_grade=bool(g.needs_manual_grade),
                                     max_score=g.max_score)
    return out


def _pts(x: float | None) -> str:
    return "none" if x is None else f"{float(x):g}"


def manual_sources(notebook: Path | str | None) -> dict[str, str] | None:
    """Source text of every manually graded cell of an (autograded) notebook, by grade id; None when
    there is no such notebook (a first grading).  A resubmission's unchanged cells keep their grade."""
    import nbformat
    from nbgrader.utils import is_grade

    from . import checks
    from .cells import grade_id
    if not notebook or not Path(notebook).is_file():
        return None
    try:
        nb = nbformat.read(notebook, as_version=4)
    except Exception:  # noqa: BLE001 - an unreadable old copy: treat every cell as changed
        return {}
    out = {}
    for cell in nb.cells:
        gid = grade_id(cell)
        if is_grade(cell) and gid and gid not in checks.POINTS:
            out[gid] = cell.source.strip()
    return out


def merge_into_gradebook(results: list[SubmissionResult], work: Path,
                         previous: dict[tuple[str, str], dict[str, str] | None] | None = None,
                         relook: dict[tuple[str, str], list[str]] | None = None) -> int:
    """Write every submission's grades into the course gradebook (sorted: deterministic).

    Automatic scores and nbgrader's needs_manual_grade come from each submission's
    own autograde.  A manual score the instructor set is kept; when the automatic
    score under it changed and the two now disagree, the cell is flagged for review
    (needs_manual_grade, as nbgrader's SaveAutoGrades does for overridden cells) and
    listed in the result's ``review``.  Returns the number of cells flagged.

    ``previous``: by (student, assignment), the manually graded cells' source text as last graded
    (``manual_sources`` of the old autograded notebook).  A manual grade on a cell whose text did not
    change is kept as final (not waiting for a manual grade); a graded cell whose text changed waits
    for a new manual grade and is listed in ``relook`` (filled in place) for the summary."""
    import warnings

    from sqlalchemy.exc import SAWarning
    warnings.simplefilter("ignore", SAWarning)  # nbgrader's own autoflush notices, harmless here
    flagged = 0
    with open_gradebook(Path(work) / GRADEBOOK_NAME) as gb:
        released = {a.name for a in gb.assignments}
        for r in results:  # a submission that could not be graded is recorded too, with zero points
            if r.assignment not in released:
                # A stray folder (a typo, an old assignment) has nowhere to go in the gradebook; it stays
                # in grades.csv and the summary with its problem, and never stops the class's merge.
                r.issues.append(f"not recorded in the gradebook: no released assignment {r.assignment!r}")
                continue
            gb.update_or_create_student(r.student)
            gb.update_or_create_submission(r.assignment, r.student)
            saved = r.grades or {cid: SavedGrade(auto_score=float(c["points"]), needs_manual_grade=False)
                                 for cid, c in r.checks.items()}
            r.review = []
            manual_now = manual_sources(Path(work) / "autograded" / r.student / r.assignment
                                        / f"{r.assignment}.ipynb") if previous else None
            for name, g in sorted(saved.items()):
                try:
                    grade = gb.find_grade(name, r.assignment, r.assignment, r.student)
                except Exception:  # noqa: BLE001 - cell not in this gradebook
                    continue
                before = (previous or {}).get((r.student, r.assignment))
                flagged += _update_grade(grade, name, g, r, before, manual_now, relook)
        gb.db.commit()
    return flagged


def _update_grade(grade: Any, name: str, g: SavedGrade, r: SubmissionResult, before: dict[str, str] | None,
                  manual_now: dict[str, str] | None, relook: dict[tuple[str, str], list[str]] | None) -> int:
    """One cell's new automatic score into its gradebook ``grade``, keeping or flagging a manual score;
    returns 1 when a manual score now disagrees with a changed automatic one (listed in ``r.review``)."""
    old, new = grade.auto_score, g.auto_score
    grade.auto_score = new
    if new is None and before is not None and name in before:  # a manually graded cell
        now = (manual_now or {}).get(name)
        if grade.manual_score is not None and now is not None and now == before[name]:
            grade.needs_manual_grade = False  # same text: the grade and comment stand
            return 0
        grade.needs_manual_grade = True
        if grade.manual_score is not None and relook is not None:
            relook.setdefault((r.student, r.assignment), []).append(
                f"{name}: the answer changed since its manual grade of {_pts(grade.manual_score)}; "
                "grade it again in formgrader")
        return 0
    if grade.manual_score is None:
        grade.needs_manual_grade = g.needs_manual_grade
    elif new is not None and old != new and float(grade.manual_score) != float(new):
        grade.needs_manual_grade = True
        r.review.append(f"{name}: the automatic score changed from {_pts(old)} to {_pts(new)} "
                        f"under a manual score of {_pts(grade.manual_score)}; review it in formgrader")
        return 1
    return 0


def cells_to_relook(work: Path) -> dict[tuple[str, str], list[str]]:
    """Every cell graded by hand that waits for a new manual look (its answer or its automatic score
    changed since), by (student, assignment): the course gradebook's own record, so it lasts across runs."""
    from nbgrader.api import Grade
    out: dict[tuple[str, str], list[str]] = {}
    with open_gradebook(Path(work) / GRADEBOOK_NAME) as gb:
        rows = gb.db.query(Grade).filter(Grade.needs_manual_grade.is_(True), Grade.manual_score.isnot(None)).all()
        for g in rows:
            sub = g.notebook.assignment
            out.setdefault((sub.student.id, sub.assignment.name), []).append(g.name)
    return {k: sorted(v) for k, v in sorted(out.items())}


def export_gradebook(work: Path, path: Path) -> None:
    """nbgrader's own CSV export of the course gradebook (what `nbgrader export` writes)."""
    from nbgrader.plugins import CsvExportPlugin
    with open_gradebook(Path(work) / GRADEBOOK_NAME) as gb:
        CsvExportPlugin(to=str(path)).export(gb)
