"""What the grading driver's parts hand each other, as typed records.

``submissions.discover`` finds ``Submission``s (and ``Problem``s it cannot grade); ``grading.grade``
turns each into a ``GradeJob``; a worker process (``worker.py``) grades it and writes a
``SubmissionResult``; the pool (``pool.py``) collects them, ``gradebook.merge_into_gradebook`` adds
each one's ``review`` list, ``outputs.write_outputs`` writes them to grades.csv / grades.json /
summary.txt, and ``report`` reads grades.json back.  ``finalize`` reads the course gradebook into
``FinalSubmission``s.

A job and its result cross a process boundary (one JSON line in, one JSON file out), so each has
an explicit ``to_dict``/``from_dict``: the JSON is the stable format (grades.json is read by
instructors' scripts), the dataclass the type the code uses.

The verdict of one check (``Verdict``) is the judge's (``autograder.checks``/``judge``), kept as
its plain dict: the driver only reads ``points``, ``max`` and, in the report, ``parts`` (each with
``name``, ``passed`` and ``message``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import checks
from .checks import checks_of

Verdict = dict[str, Any]  # autograder.checks.Verdict.to_dict(): the form the notebook metadata and grades.json hold
# The sandbox setting of a job: False (unsandboxed) or the SandboxKernelManager limits to apply.
SandboxSetting = bool | dict[str, Any]


@dataclass
class Submission:
    """One student's notebook for one assignment, found in the submitted folder."""

    student: str
    assignment: str
    notebook: Path                 # the notebook to grade (it may carry another name: see issues)
    folder: Path                   # <submitted>/<student>/<assignment>/, copied with the notebook
    issues: list[str] = field(default_factory=list)


@dataclass
class Problem:
    """A submission that cannot be graded at all; it is recorded with zero points and its reason."""

    student: str
    assignment: str
    issues: list[str]


@dataclass
class GradeJob:
    """Everything a worker process needs to grade one submission, and where its outputs go."""

    student: str
    assignment: str
    notebook: Path
    submission_dir: Path
    issues: list[str]
    base_db: Path                  # the course gradebook as it was when the run started
    ipython_dir: Path              # a clean IPython profile, not the instructor's
    source: Path                   # the source notebooks (nbgrader's source_directory)
    timeout: int                   # seconds per cell
    sandbox: SandboxSetting
    tmp_root: Path                 # where the job's temporary course folder is made
    release_nb: Path               # the released notebook: its hidden-test cells are the reference
    out_dir: Path                  # feedback/<student>/<assignment>/ under --out
    autograded_dir: Path           # autograded/<student>/<assignment>/ under --out
    result_path: Path              # the worker writes the SubmissionResult's JSON here

    _PATHS = ("notebook", "submission_dir", "base_db", "ipython_dir", "source", "tmp_root", "release_nb",
              "out_dir", "autograded_dir", "result_path")

    def to_dict(self) -> dict[str, Any]:
        """The job as JSON-ready values (paths as strings): one line on the worker's stdin."""
        return {"student": self.student, "assignment": self.assignment, "issues": list(self.issues),
                "timeout": self.timeout, "sandbox": self.sandbox,
                **{name: str(getattr(self, name)) for name in self._PATHS}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GradeJob:
        """The job a ``to_dict`` wrote."""
        return cls(student=d["student"], assignment=d["assignment"], issues=list(d["issues"]),
                   timeout=int(d["timeout"]), sandbox=d["sandbox"],
                   **{name: Path(d[name]) for name in cls._PATHS})


@dataclass
class SavedGrade:
    """One grade cell of a submission as nbgrader's SaveAutoGrades left it in the gradebook."""

    auto_score: float | None
    needs_manual_grade: bool
    max_score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"auto_score": self.auto_score, "needs_manual_grade": self.needs_manual_grade, "max": self.max_score}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SavedGrade:
        return cls(auto_score=d["auto_score"], needs_manual_grade=bool(d["needs_manual_grade"]),
                   max_score=d.get("max"))


@dataclass
class SubmissionResult:
    """The autograded outcome of one submission (one row of grades.csv, one entry of grades.json)."""

    student: str
    assignment: str
    status: str = "graded"                      # "graded" or "not graded"
    issues: list[str] = field(default_factory=list)   # why it is not fully graded (the student's)
    flags: list[str] = field(default_factory=list)    # for the instructor's eyes (suspicious source)
    checks: dict[str, Verdict] = field(default_factory=dict)
    grades: dict[str, SavedGrade] | None = None       # what nbgrader saved; None: nbgrader never got that far
    autograde_s: float | None = None                  # seconds nbgrader autograde took (not in grades.json)
    timings: dict[str, float] | None = None           # seconds per grading phase (timings.json, not grades.json)
    feedback: str | None = None                       # the student's feedback HTML (None: none was written)
    autograded: str | None = None                     # the executed notebook; None: the worker never got there
    review: list[str] | None = None                   # set by the gradebook merge: overrides to look at again

    @property
    def points(self) -> float:
        return sum(c["points"] for c in self.checks.values())

    @property
    def max_points(self) -> float:
        return sum(c["max"] for c in self.checks.values())

    @classmethod
    def not_graded(cls, student: str, assignment: str, issues: list[str]) -> SubmissionResult:
        """Zero points on every check of the assignment, the first issue given as the reason."""
        return cls(student=student, assignment=assignment, status="not graded", issues=list(issues),
                   checks={cid: checks.not_graded(cid, issues[0]).to_dict() for cid in checks_of(assignment)})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values; an optional field is left out until a step has set it, as grades.json has it."""
        d: dict[str, Any] = {"student": self.student, "assignment": self.assignment, "status": self.status,
                             "issues": list(self.issues), "flags": list(self.flags), "checks": self.checks}
        if self.grades is not None:
            d["grades"] = {name: g.to_dict() for name, g in self.grades.items()}
        if self.autograde_s is not None:
            d["autograde_s"] = self.autograde_s
        if self.timings is not None:
            d["timings"] = dict(self.timings)
        if self.autograded is not None:  # the two are written together, at the end of a worker's job
            d["autograded"], d["feedback"] = self.autograded, self.feedback
        if self.review is not None:
            d["review"] = list(self.review)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SubmissionResult:
        """The result a ``to_dict`` wrote (a worker's result file, or one entry of grades.json)."""
        grades = d.get("grades")
        return cls(student=d["student"], assignment=d["assignment"], status=d["status"],
                   issues=list(d["issues"]), flags=list(d["flags"]), checks=dict(d["checks"]),
                   grades=None if grades is None else {n: SavedGrade.from_dict(g) for n, g in grades.items()},
                   autograde_s=d.get("autograde_s"), timings=d.get("timings"), feedback=d.get("feedback"),
                   autograded=d.get("autograded"),
                   review=None if d.get("review") is None else list(d["review"]))


@dataclass
class FinalCell:
    """One graded cell of a submission after manual grading (``finalize``)."""

    name: str
    kind: str                      # "autograded" (a check) or "manual"
    auto: float | None
    manual: float | None
    extra: float | None            # extra credit
    final: float                   # nbgrader's score: the manual one where set, else the automatic one
    max_score: float
    needs_manual: bool
    comment: str


@dataclass
class FinalSubmission:
    """Every graded cell of one submission, as the gradebook holds them after manual grading."""

    student: str
    assignment: str
    cells: list[FinalCell]
