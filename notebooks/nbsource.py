"""Read the notebooks' percent-format sources into nbgrader cells (schema_version 3).

Each notebook is written as a few plain Python files (one per act or part, listed in
``make_notebooks.py``) in the percent format that Jupytext and VS Code read: a line
``# %%`` starts a code cell, ``# %% [markdown]`` a markdown cell whose lines are
comments.  Code cells are real Python, so ruff lints them before any build.  Text
above a file's first ``# %%`` (its docstring) is not part of the notebook.

The rest of a cell's marker line is ``key="value"`` metadata (values are JSON) that
gives the cell its nbgrader role:

* no ``role``: an instructor cell, locked (read-only).  Its grade_id is
  ``<prefix>_<name>``, the name derived from the cell itself (:func:`locked_name`: ``md_``
  or ``py_`` and the first words of its first line), never from where it sits, so
  inserting or moving a cell changes no other id; ``name="..."`` on the marker sets the
  name instead (for two cells that begin alike, or to keep an id through a reworded first
  line), and ``grade_id="..."`` the whole id;
* ``role="setup"`` (no body): the first code cell, built by ``make_notebooks.setup_cell``;
* ``role="solution" grade_id="..."``: an autograded answer (``### BEGIN SOLUTION`` ...
  ``### END SOLUTION``); ``same_as="<grade_id>"`` and no body reuses another cell's
  model solution, so one written twice (the lab's and the homework's) cannot drift;
* ``role="hidden_test" check="..." skill="..."``: an autograder test cell, exactly the
  shape docs/CONTRACTS.md fixes; its points come from ``autograder.checks.POINTS``
  (declared once, there);
* ``[markdown] role="manual" grade_id="..." points=N``: a manually graded answer, the
  body its model answer (cleared on release);
* ``role="predict" key="..."``: a prediction cell (an answer without points,
  grade_id ``predict_<key>``), the body exactly what the student sees;
* ``[markdown] role="reveal" name="..." after="key[,key]"``: a locked ``reveal(name)``
  cell (grade_id ``<prefix>_reveal_<name>``); the markdown body is the reveal's text,
  written to ``helpers/reveal_text.b64`` (obfuscated).
  A reveal (the answer to a prediction) never sits in a notebook cell, where a student
  could read it before predicting; ``helpers.notebook.predict.reveal`` shows it only after the
  prediction is recorded and observed.

In markdown, ``{R("key")}`` or ``{R("key", "fmt")}`` is a reveal number that
``python -m helpers reveals`` fills from the artifacts, and ``{C("name")}`` marks a
qualitative claim that ``helpers.tools.reveal_claims.CLAIMS`` checks against the same facts.
"""
from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import nbformat.v4 as v4
from nbformat import NotebookNode

MARKER = re.compile(r"^# %%(?P<markdown> \[markdown\])?(?P<meta>(?: \w+=\S.*)?)$")
META = re.compile(r' (\w+)=("(?:[^"\\]|\\.)*"|-?\d+)')
SPAN = re.compile(r'\{R\("(?P<key>[^"]+)"(?:, "(?P<fmt>[^"]+)")?\)\}|\{C\("(?P<claim>[^"]+)"\)\}')


def _meta(grade_id: str, *, grade: bool = False, solution: bool = False, locked: bool = False,
          points: int | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _clean(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


def R(key: str, fmt: str | None = None) -> str:
    """The placeholder of reveal number ``key`` (``fmt``: a format spec), filled by ``helpers.tools.reveals``."""
    fmt = f":{fmt}" if fmt else ""
    return f"<!-- reveal:{key}{fmt} -->?<!-- /reveal -->"


def C(name: str) -> str:
    """The marker of claim ``name``, checked by ``helpers.tools.reveal_claims.CLAIMS``."""
    return f"<!-- claim:{name} -->"


def spans(text: str) -> str:
    """Markdown with its ``{R(...)}`` and ``{C(...)}`` written out as the placeholders the renderer fills."""
    return SPAN.sub(lambda m: C(m["claim"]) if m["claim"] else R(m["key"], m["fmt"]), text)


def md(text: str, grade_id: str | None = None) -> NotebookNode:
    """A markdown cell; with ``grade_id``, locked."""
    cell = v4.new_markdown_cell(_clean(text))
    if grade_id:
        cell.metadata.update(_meta(grade_id, locked=True))
    return cell


def code(src: str, grade_id: str | None = None) -> NotebookNode:
    """A code cell; with ``grade_id``, locked."""
    cell = v4.new_code_cell(_clean(src))
    if grade_id:
        cell.metadata.update(_meta(grade_id, locked=True))
    return cell


def solution(src: str, grade_id: str) -> NotebookNode:
    """An autograded answer cell; its model answer sits between the BEGIN/END SOLUTION markers."""
    src = _clean(src)
    if "### BEGIN SOLUTION" not in src or "### END SOLUTION" not in src:
        raise ValueError(f"solution cell {grade_id!r}: its source needs ### BEGIN SOLUTION and ### END SOLUTION "
                         "around the model answer (nbgrader replaces that block with a stub on release)")
    cell = v4.new_code_cell(src)
    cell.metadata.update(_meta(grade_id, solution=True))
    return cell


# In grading, ``autograder.kernel.reporter`` is importable (the grading kernel has it on its
# path).  Run from the instructor's checkout (Jupyter, ``nbgrader validate``) the
# kernel starts in the notebook's folder, so the hidden test finds the checkout
# above it.  The whole block is removed on release: students never see it.
FIND_REPORTER = ("try:\n"
                 "    import autograder.kernel.reporter\n"
                 "except ModuleNotFoundError:  # a source notebook run from the checkout: find it above this folder\n"
                 "    import pathlib, sys\n"
                 "    sys.path[:0] = [str(p) for p in pathlib.Path.cwd().parents "
                 "if (p / \"autograder\" / \"kernel\" / \"reporter.py\").is_file()][:1]\n")


def hidden_test(check_id: str, skill: str) -> NotebookNode:
    """The autograder cell of ``check_id``, worth the points ``autograder.checks.POINTS`` gives it.

    A function check's cell runs nothing: the autograder calls the function in a separate
    process.  A value check's cell reports the named answers as plain values.
    """
    from autograder.checks import BY_ID, POINTS  # points are declared once, with the check

    if check_id not in POINTS:
        raise ValueError(f"hidden test {check_id!r}: no such check in autograder.checks.POINTS "
                         f"({', '.join(sorted(POINTS))}); add the check to the autograder first, or fix the id")
    check = BY_ID[check_id]
    if check.kind == "value":
        names = ", ".join(f'"{n}"' for n in check.reads)
        src = (f"# Autograder check: {skill}. Your answers are read here as plain values;\n"
               f"# they are judged outside this notebook.\n"
               f"### BEGIN HIDDEN TESTS\n"
               f"{FIND_REPORTER}"
               f"from autograder.kernel.reporter import report; report(\"{check_id}\", globals(), {names})\n"
               f"### END HIDDEN TESTS")
    else:
        src = (f"# Autograder check: {skill}. The autograder calls your function in a separate\n"
               f"# process: its own cell only, after the stated imports, on inputs drawn for this submission.\n"
               f"### BEGIN HIDDEN TESTS\n"
               f"# Nothing runs here: {check_id} is graded outside this notebook.\n"
               f"### END HIDDEN TESTS")
    cell = v4.new_code_cell(src)
    cell.metadata.update(_meta(check_id, grade=True, locked=True, points=POINTS[check_id]))
    return cell


def manual(grade_id: str, points: int, model_answer: str) -> NotebookNode:
    """A manually graded markdown answer; the source is the model answer (cleared on release)."""
    cell = v4.new_markdown_cell(_clean(model_answer))
    cell.metadata.update(_meta(grade_id, grade=True, solution=True, points=points))
    return cell


def predict(key: str, src: str) -> NotebookNode:
    """The PREDICT cell: instructions in comments, the example prediction as the solution."""
    return solution(src, f"predict_{key}")


def reveal(name: str) -> NotebookNode:
    """The locked cell that shows reveal ``name`` (its text lives, obfuscated, in helpers/reveal_text.b64)."""
    return code(f"""
# REVEAL: shown only after your prediction is recorded and observed. Write your reconciliation first.
reveal("{name}")
""")


#: How many words of a locked cell's first line make its name: enough to tell cells apart, short
#: enough that rewording the rest of the line keeps the id.
LABEL_WORDS = 6
NAME_CHARS = 48  # with the notebook prefix and md_/py_, well inside nbformat's 64-character cell ids
NAME = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)*")


def locked_name(cell: SourceCell) -> str:
    """The stable name of a locked (instructor) cell: the grade_id without its notebook prefix.

    ``name="..."`` on the marker when given; a reveal cell's is ``reveal_<its reveal name>``;
    otherwise ``md_`` or ``py_`` and the first ``LABEL_WORDS`` words of the cell's first line
    (its heading or leading comment), lower-cased.  It depends on nothing but the cell, so
    inserting, deleting or moving other cells never renames it.
    """
    if cell.meta.get("role") == "reveal":
        return f"reveal_{cell.meta['name']}"
    if "name" in cell.meta:
        name = cell.meta["name"]
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise ValueError(f"{cell.where()}: name= must be lower-case words joined by _ (e.g. "
                             f'name="tier_table_intro"), got {name!r}')
        return name
    line = next((ln for ln in cell.body.splitlines() if ln.strip()), "")
    words = re.findall(r"[a-z0-9]+", SPAN.sub(" ", line).lower())[:LABEL_WORDS]
    if not words:
        raise ValueError(f"{cell.where()}: a locked cell is named after the words of its first line, and this one "
                         'has none; add name="..." to its marker (lower-case words joined by _)')
    while len(words) > 1 and len("_".join(words)) > NAME_CHARS:  # nbformat caps cell ids at 64 characters
        words.pop()
    return ("md_" if cell.markdown else "py_") + "_".join(words)[:NAME_CHARS]


@dataclass
class SourceCell:
    """One cell as written in a source file: its role's metadata and its body (markdown uncommented)."""

    path: Path
    line: int
    markdown: bool
    meta: dict
    body: str

    def where(self) -> str:
        return f"{self.path.name}:{self.line}"


def read_cells(path: Path) -> list[SourceCell]:
    """The cells of one percent-format source file, in order."""
    cells: list[SourceCell] = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").split("\n"), start=1):
        m = MARKER.match(line)
        if m:
            meta = {key: json.loads(value) for key, value in META.findall(m["meta"])}
            if "".join(f" {k}={v}" for k, v in META.findall(m["meta"])) != m["meta"]:
                raise ValueError(f"{path.name}:{number}: cannot read the cell marker {line!r}: after `# %%` write "
                                 'an optional [markdown], then key="value" pairs (JSON values)')
            cells.append(SourceCell(Path(path), number, bool(m["markdown"]), meta, ""))
        elif cells:
            cell = cells[-1]
            if cell.markdown and line and not line.startswith("#"):
                raise ValueError(f"{path.name}:{number}: a markdown cell's lines are comments; got {line!r}")
            if cell.markdown:
                line = line[2:] if line.startswith("# ") else line[1:]
            cell.body += line + "\n"
    for cell in cells:
        cell.body = cell.body.strip("\n")
    return cells


def to_cell(cell: SourceCell, reveals: dict, solutions: dict[str, str]) -> NotebookNode | None:
    """The nbformat cell for ``cell`` (None for the set-up placeholder); reveal texts go into ``reveals``."""
    meta, body = dict(cell.meta), cell.body
    role = meta.pop("role", "markdown" if cell.markdown else "code")
    if role in ("markdown", "code"):
        meta.pop("name", None)  # a locked cell's name becomes its grade_id in make_notebooks
    try:
        if role == "markdown":
            return md(spans(body), **meta)
        if role == "code":
            return code(body, **meta)
        if role == "setup":
            return None
        if role == "solution":
            if "same_as" in meta:
                body = solutions[meta.pop("same_as")]
            return solution(body, **meta)
        if role == "hidden_test":
            return hidden_test(meta["check"], meta["skill"])
        if role == "manual":
            return manual(meta["grade_id"], meta["points"], spans(body))
        if role == "predict":
            return predict(meta["key"], body)
        if role == "reveal":
            reveals[meta["name"]] = (tuple(meta["after"].split(",")), spans(body))
            return reveal(meta["name"])
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{cell.where()}: a {role} cell's marker lacks or misnames a key ({exc}); "
                         "see notebooks/nbsource.py for each role's keys") from exc
    except ValueError as exc:
        raise ValueError(f"{cell.where()}: {exc}") from exc
    raise ValueError(f"{cell.where()}: unknown role {role!r}; one of setup, solution, hidden_test, manual, "
                     "predict, reveal (or none)")
