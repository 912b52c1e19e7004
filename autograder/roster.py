"""``python -m autograder roster CSV``: the class list into the course gradebook, so nbgrader's tools
and formgrader show names (without it they list each student as "None, None").

The CSV needs a header with an id column (``id``, ``student_id``, ``username`` or ``login``: the
folder name under ``submitted/``) and may have ``first_name``/``last_name`` (or ``first``/``last``,
or one ``name`` column, split at the last space) and ``email``.  Importing again updates names
and adds new students; grades are never touched.
"""
from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
from pathlib import Path

from .gradebook import open_gradebook
from .nbgrader_config import GRADEBOOK_NAME, default_work

ID_COLUMNS = ("id", "student_id", "username", "login", "sis_login_id")
FIRST_COLUMNS = ("first_name", "first", "given_name")
LAST_COLUMNS = ("last_name", "last", "family_name", "surname")


class RosterError(ValueError):
    """The roster CSV cannot be read as one (the message names the column or row and the fix)."""


@dataclass
class Student:
    """One roster row."""

    id: str
    first_name: str | None
    last_name: str | None
    email: str | None


def _pick(row: dict[str, str], names: tuple[str, ...]) -> str | None:
    for n in names:
        v = (row.get(n) or "").strip()
        if v:
            return v
    return None


def read_roster(path: Path | str) -> list[Student]:
    """The students of a roster CSV (see the module docstring for its columns)."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise RosterError(f"{path}: no rows; expected a header line (id,first_name,last_name,email) and one row "
                          "per student")
    header = {k.strip().lower(): k for k in rows[0] if k}
    if not any(c in header for c in ID_COLUMNS):
        raise RosterError(f"{path}: no id column; expected one of {', '.join(ID_COLUMNS)} in the header, got "
                          f"{', '.join(header) or 'nothing'}. The id is the student's folder name under submitted/")
    out, seen = [], set()
    for i, raw in enumerate(rows, start=2):
        row = {(k or "").strip().lower(): v for k, v in raw.items()}
        sid = _pick(row, ID_COLUMNS)
        if not sid:
            raise RosterError(f"{path}, line {i}: empty student id; fill it in or delete the line")
        if sid in seen:
            raise RosterError(f"{path}, line {i}: student id {sid!r} appears twice; keep one line per student")
        seen.add(sid)
        first, last = _pick(row, FIRST_COLUMNS), _pick(row, LAST_COLUMNS)
        if first is None and last is None and _pick(row, ("name", "student")):
            first, _, last = _pick(row, ("name", "student")).rpartition(" ")
            first, last = (first or None), (last or None)
        out.append(Student(sid, first, last, _pick(row, ("email", "e-mail"))))
    return out


def import_roster(students: list[Student], work: Path | str) -> int:
    """Add or update every student in the course gradebook; returns how many there were."""
    db = Path(work) / GRADEBOOK_NAME
    if not db.is_file():
        raise RosterError(f"no gradebook in {work}; run `make release` first (it creates the gradebook)")
    with open_gradebook(db) as gb:
        for s in students:
            gb.update_or_create_student(s.id, first_name=s.first_name, last_name=s.last_name, email=s.email)
    return len(students)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m autograder roster", description=__doc__.splitlines()[0])
    ap.add_argument("csv", type=Path, help="roster CSV: id (or student_id/username), first_name, last_name, email")
    ap.add_argument("--work", type=Path, default=None, help="nbgrader work folder (default nbgrader_work/)")
    args = ap.parse_args(argv)
    if not args.csv.is_file():
        print(f"error: {args.csv}: no such file; give your class list as CSV (make roster CSV=roster.csv)",
              file=sys.stderr)
        return 2
    work = (args.work or default_work()).resolve()
    try:
        n = import_roster(read_roster(args.csv), work)
    except RosterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"imported {n} student(s) into {work / GRADEBOOK_NAME}; formgrader and `nbgrader db student list` "
          "show their names")
    return 0


if __name__ == "__main__":
    sys.exit(main())
