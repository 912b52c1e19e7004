"""What is in the submitted folder, before any student code runs.

Submission files are hostile data.  ``discover`` walks nbgrader's submitted layout
(``<student>/<assignment>/<assignment>.ipynb``) with ``lstat`` only: a folder or notebook that is a
symlink, FIFO, device or socket, or a notebook over ``MAX_NOTEBOOK_BYTES``, is refused and named
(never followed, opened or copied); ``read_notebook_bytes`` opens the notebook itself with
``O_NOFOLLOW|O_NONBLOCK``, checks the open file is a regular one and reads at most the bound, so a
link or FIFO swapped in after discovery is refused too.  Only the notebook is graded: every other
entry of the folder is listed as ignored (the course notebooks need no extra files), so a shipped
``helpers/`` package or a link to the gradebook never reaches the grading folder.  Each folder
becomes a ``Submission`` to grade or a ``Problem`` that cannot be graded (unknown assignment, no or
several notebooks, a refused file, corrupt JSON).  ``hidden_cell_changes`` and ``static_flags``
read a submission's notebook without running it: what the student did to the hidden-test cells
(nbgrader restores them; the student is told), and what in their own code deserves an
instructor's look.
"""
from __future__ import annotations

import ast
import errno
import os
import stat
from pathlib import Path

from nbformat import NotebookNode

from . import checks
from .cells import cells_by_gid, grade_id
from .checks import checks_of
from .kernel.wire import MARKER
from .nbgrader_config import ASSIGNMENTS
from .results import Problem, Submission

# Static source inspection: names whose import or use in a student's code deserves an instructor's look.
# (The course's reference implementations in helpers, which the students are asked to write themselves.)
REFERENCE_NAMES = checks.reference_names()  # every check's forbidden references (the registry)

# The largest notebook accepted.  The course notebooks are ~100 KiB released and a few MiB executed
# with plots; anything far larger is refused before it is read into memory.
MAX_NOTEBOOK_BYTES = 64 << 20


class RefusedFile(ValueError):
    """A submission file that is not a regular file of an acceptable size (the message says what it is)."""


def file_kind(mode: int) -> str:
    """What an ``lstat`` mode is, in words, for the summary."""
    for test, name in ((stat.S_ISLNK, "a symlink"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a folder"), (stat.S_ISREG, "a file")):
        if test(mode):
            return name
    return "a special file"


def describe(path: Path) -> str:
    """``path`` and what it is, without following it: 'x.ipynb (a symlink to /y)'."""
    try:
        st = os.lstat(path)
    except OSError as exc:
        return f"{path.name} (unreadable: {exc.strerror})"
    kind = file_kind(st.st_mode)
    if stat.S_ISLNK(st.st_mode):
        try:
            kind += f" to {os.readlink(path)}"
        except OSError:
            pass
    return f"{path.name} ({kind})"


def read_notebook_bytes(path: Path | str, max_bytes: int = MAX_NOTEBOOK_BYTES) -> bytes:
    """The bytes of a submitted notebook, read without following a link or blocking on a FIFO.

    Raises ``RefusedFile`` (naming the file and what it is) for anything but a regular file of at
    most ``max_bytes``: checked by ``lstat`` first, then on the open descriptor itself (``fstat``),
    and the read stops one byte past the bound, so a file that grows meanwhile is refused too."""
    path = Path(path)
    try:
        st = os.lstat(path)
    except OSError as exc:
        raise RefusedFile(f"{path.name}: cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(st.st_mode):
        raise RefusedFile(f"{describe(path)} is not a regular file; refused, not followed")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        what = "a symlink" if exc.errno == errno.ELOOP else exc.strerror
        raise RefusedFile(f"{path.name}: refused ({what})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise RefusedFile(f"{path.name} is {file_kind(st.st_mode)}, not a regular file; refused")
        if st.st_size > max_bytes:
            raise RefusedFile(f"{path.name} is {st.st_size} bytes, over the {max_bytes}-byte limit; refused")
        chunks, total = [], 0
        while total <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > max_bytes:
            raise RefusedFile(f"{path.name} grew past the {max_bytes}-byte limit while it was read; refused")
        return b"".join(chunks)
    finally:
        os.close(fd)


def parse_notebook(data: bytes) -> NotebookNode:
    """A notebook (version 4) from its bytes; raises ValueError-like errors for corrupt JSON."""
    import nbformat
    return nbformat.reads(data.decode("utf-8"), as_version=4)


def folder_entries(folder: Path, notebook: Path | None) -> tuple[list[str], list[str]]:
    """(refused, ignored): entries of a submission folder other than ``notebook``, named with what
    they are.  Refused: links, FIFOs, devices, sockets (never followed); ignored: regular files and
    folders, which are not copied into the grading folder.  Hidden entries are skipped silently."""
    refused, ignored = [], []
    for entry in sorted(os.listdir(folder)):
        p = folder / entry
        if notebook is not None and p == notebook:
            continue
        try:
            mode = os.lstat(p).st_mode
        except OSError:
            continue
        if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
            if not entry.startswith("."):
                ignored.append(entry + ("/" if stat.S_ISDIR(mode) else ""))
        else:
            refused.append(describe(p))
    return refused, ignored


def hidden_cell_changes(submitted: NotebookNode, release: NotebookNode, assignment: str) -> list[str]:
    """Issues with the hidden-test cells of a submission, compared with the release version."""
    sub, rel = cells_by_gid(submitted), cells_by_gid(release)
    issues = []
    for cid in checks_of(assignment):
        if cid not in rel:
            continue
        if cid not in sub:
            issues.append(f"deleted test cell {cid} (restored by nbgrader and graded)")
        elif sub[cid].source.strip() != rel[cid].source.strip():
            issues.append(f"edited test cell {cid} (restored by nbgrader and graded)")
    return issues


def static_flags(nb: NotebookNode) -> list[str]:
    """Instructor flags from the student's own code: reference helpers imported, the autograder touched."""
    from nbgrader import utils  # here, not at the top: importing nbgrader takes seconds, the driver's start none

    flags = []
    for c in nb.cells:
        if c.cell_type != "code" or utils.is_locked(c):  # instructor cells: nbgrader restores them
            continue
        src = c.source
        if "autograder" in src or MARKER in src:
            flags.append(f"source mentions the autograder (cell {grade_id(c) or '?'})")
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("helpers"):
                hit = sorted(a.name for a in node.names if a.name in REFERENCE_NAMES)
                if hit:
                    flags.append(f"imports {', '.join(hit)} from {node.module} (cell {grade_id(c) or '?'})")
    return sorted(set(flags))


def _subfolders(folder: Path) -> tuple[list[Path], list[str]]:
    """Real sub-folders of ``folder`` (not hidden), and the entries refused there: a symlinked folder
    (to a classmate's, say) is named, never followed; stray files at this level are skipped."""
    dirs, refused = [], []
    for entry in sorted(os.listdir(folder)):
        if entry.startswith("."):
            continue
        p = folder / entry
        try:
            mode = os.lstat(p).st_mode
        except OSError:
            continue
        if stat.S_ISDIR(mode):
            dirs.append(p)
        elif not stat.S_ISREG(mode):
            refused.append(describe(p))
    return dirs, refused


def discover(submitted: Path) -> tuple[list[Submission], list[Problem]]:
    """One Submission per student/assignment folder; a Problem for each that cannot be graded."""
    found, problems = [], []
    students, refused = _subfolders(Path(submitted))
    for what in refused:  # a student "folder" that is a link: whose work would it be?
        problems.append(Problem(what.split(" ", 1)[0], "-", [f"student folder {what}: refused, not followed"]))
    for sdir in students:
        assignments, refused = _subfolders(sdir)
        for what in refused:
            problems.append(Problem(sdir.name, what.split(" ", 1)[0],
                                    [f"assignment folder {what}: refused, not followed"]))
        for adir in assignments:
            student, assignment = sdir.name, adir.name
            if assignment not in ASSIGNMENTS:
                problems.append(Problem(student, assignment,
                                        [f"unknown assignment folder {adir.name!r}; expected one of {ASSIGNMENTS}"]))
                continue
            issues = []
            path = adir / f"{assignment}.ipynb"
            if not os.path.lexists(path):
                others = sorted(p for p in adir.iterdir() if p.name.endswith(".ipynb"))
                if len(others) == 1:
                    issues.append(f"wrong file name: {others[0].name} (expected {path.name}); graded as {path.name}")
                    path = others[0]
                else:
                    names = ", ".join(p.name for p in others) or "no notebook"
                    problems.append(Problem(student, assignment,
                                            [f"wrong file name: found {names}, expected {path.name}"]))
                    continue
            try:
                parse_notebook(read_notebook_bytes(path))
            except RefusedFile as exc:
                problems.append(Problem(student, assignment, issues + [f"notebook {exc}"]))
                continue
            except Exception as exc:  # noqa: BLE001 - corrupt JSON or an invalid notebook
                problems.append(Problem(student, assignment,
                                        issues + [f"corrupt notebook JSON ({path.name}): {str(exc)[:160]}"]))
                continue
            found.append(Submission(student, assignment, notebook=path, folder=adir, issues=issues))
    return found, problems
