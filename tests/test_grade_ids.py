"""Grade ids are names, not positions: a locked cell's id comes from the cell, so inserting a cell renames
nothing else; and ``release`` refuses a rebuild that would give an id in the course gradebook to another cell."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "notebooks"))

import make_notebooks  # noqa: E402
import nbsource  # noqa: E402

from autograder.checks import placement  # noqa: E402


@pytest.fixture()
def sources(tmp_path) -> Path:
    """A copy of the notebook sources (never the checkout's)."""
    for pattern in placement.SOURCE_PATTERNS.values():
        for part in (ROOT / "notebooks").glob(pattern):
            (tmp_path / part.name).write_text(part.read_text(encoding="utf-8"), encoding="utf-8")
    return tmp_path


def ids_and_sources(kind: str, folder: Path) -> dict[str, tuple[str, str]]:
    return {c.metadata["nbgrader"]["grade_id"]: (c.cell_type, c.source)
            for c in make_notebooks.cells_of(kind, folder=folder)}


def test_the_checkout_builds_with_named_locked_cells():
    for kind, target in make_notebooks.TARGETS.items():
        for cell in make_notebooks.cells_of(kind):
            meta = cell.metadata["nbgrader"]
            if not (meta["grade"] or meta["solution"]):
                assert meta["locked"] and meta["grade_id"].startswith(f"{target.prefix}_")
                assert not re.fullmatch(rf"{target.prefix}_(co|ma)\d{{3}}", meta["grade_id"])  # no position in it
                assert len(meta["grade_id"]) <= 64


def test_inserting_cells_mid_notebook_renames_no_other_cell(sources):
    before = ids_and_sources("lab", sources)
    # A markdown and a code cell in the middle of the first act, before many locked cells.
    first_marker = next(line for line in (sources / "lab_1_teacher.py").read_text().splitlines()
                        if line.startswith("# %%"))
    part = sources / "lab_1_teacher.py"
    text = part.read_text(encoding="utf-8")
    text = text.replace(first_marker, "# %% [markdown]\n# ## A new aside on class balance\n\n"
                        "# %%\n# A new helper the instructor added mid-term\nbalance = None\n\n" + first_marker, 1)
    part.write_text(text, encoding="utf-8")
    after = ids_and_sources("lab", sources)
    added = set(after) - set(before)
    assert added == {"lab_md_a_new_aside_on_class_balance", "lab_py_a_new_helper_the_instructor_added"}
    assert set(before) <= set(after)
    assert {gid: after[gid] for gid in before} == before  # every old id names the same cell as before


def test_two_locked_cells_that_begin_alike_must_be_named(sources):
    part = sources / "lab_3_synthesis.py"
    twice = "\n# %%\nimport numpy as np\n" * 2  # two locked cells whose first lines agree
    part.write_text(part.read_text(encoding="utf-8") + twice, encoding="utf-8")
    with pytest.raises(ValueError) as err:
        make_notebooks.cells_of("lab", folder=sources)
    msg = str(err.value)
    assert "lab_py_import_numpy_as_np" in msg and "lab_3_synthesis.py:" in msg and 'name="..."' in msg
    text = part.read_text(encoding="utf-8").replace(twice, "\n# %%\nimport numpy as np\n"
                                                    '\n# %% name="numpy_again"\nimport numpy as np\n')
    part.write_text(text, encoding="utf-8")
    assert "lab_numpy_again" in ids_and_sources("lab", sources)


def test_a_locked_cell_name_comes_from_its_first_line_or_its_marker(tmp_path):
    path = tmp_path / "part.py"
    path.write_text('# %% [markdown]\n# ## Act 2: {R("n_val")} rows, distillation of a *teacher* in depth\n\n'
                    '# %%\n\n# Sanity check (not graded)\nx = 1\n\n'
                    '# %% name="kept_name"\n# Reworded first line\n\n'
                    '# %% [markdown] role="reveal" name="r1" after="k"\n# text\n\n'
                    '# %%\n\n# %% name="Bad Name"\nx = 2\n')
    cells = nbsource.read_cells(path)
    names = [nbsource.locked_name(c) for c in cells[:4]]
    assert names == ["md_act_2_rows_distillation_of_a", "py_sanity_check_not_graded", "kept_name", "reveal_r1"]
    with pytest.raises(ValueError, match=r'part.py:\d+: a locked cell .* add name="..."'):
        nbsource.locked_name(cells[4])
    with pytest.raises(ValueError, match="name= must be lower-case words"):
        nbsource.locked_name(cells[5])


# --------------------------------------------------------------------------- release refuses a reassigned id
def record_release(work: Path, source: Path, assignment: str) -> None:
    """The gradebook as nbgrader's generate_assignment leaves it: every nbgrader cell of the notebook."""
    import nbformat

    from autograder.gradebook import open_gradebook
    from autograder.nbgrader_config import GRADEBOOK_NAME, ensure_tools_on_path
    ensure_tools_on_path()
    nb = nbformat.read(source / assignment / f"{assignment}.ipynb", as_version=4)
    with open_gradebook(work / GRADEBOOK_NAME) as gb:
        gb.add_assignment(assignment)
        gb.add_notebook(assignment, assignment)
        for cell in nb.cells:
            meta = cell.metadata["nbgrader"]
            if meta.get("grade"):
                gb.add_grade_cell(meta["grade_id"], assignment, assignment, max_score=meta["points"],
                                  cell_type=cell.cell_type)
            if meta.get("solution"):
                gb.add_solution_cell(meta["grade_id"], assignment, assignment)
            gb.add_source_cell(meta["grade_id"], assignment, assignment, cell_type=cell.cell_type,
                               locked=bool(meta.get("locked")), source=cell.source, checksum=None)


@pytest.fixture()
def released(tmp_path):
    """(work folder with a gradebook of the lab as released, a copy of the source notebooks folder)."""
    import shutil
    source = tmp_path / "source"
    shutil.copytree(ROOT / "notebooks" / "week6_lab", source / "week6_lab")
    work = tmp_path / "work"
    work.mkdir()
    record_release(work, source, "week6_lab")
    return work, source


def edit_cell(source: Path, gid: str, change) -> None:
    import nbformat
    path = source / "week6_lab" / "week6_lab.ipynb"
    nb = nbformat.read(path, as_version=4)
    (i,) = [i for i, c in enumerate(nb.cells) if c.metadata["nbgrader"]["grade_id"] == gid]
    nb.cells[i] = change(nb.cells[i])
    nbformat.write(nb, path)


def test_release_refuses_an_id_the_gradebook_holds_for_another_cell(released):
    from autograder.release import ReleaseRefused, grade_id_check
    work, source = released
    grade_id_check(work, source, ["week6_lab"])  # the same notebook again: nothing to refuse
    edit_cell(source, "lab_md_act_1_the_teacher", lambda c: (c.update(source=c.source + " (fixed a typo)"), c)[1])
    grade_id_check(work, source, ["week6_lab"])  # a small edit keeps the cell's meaning

    import nbformat.v4 as v4

    def replace_text(cell):
        cell.source = "# A different cell entirely\nprint('the layout changed and this id moved here')"
        return cell

    def to_code(cell):
        new = v4.new_code_cell(cell.source, metadata=cell.metadata)
        new["id"] = cell["id"]
        return new
    edit_cell(source, "lab_imports", replace_text)
    edit_cell(source, "lab_md_per_tier_macro_f1", to_code)
    with pytest.raises(ReleaseRefused) as err:
        grade_id_check(work, source, ["week6_lab"])
    msg = str(err.value)
    assert "week6_lab: lab_md_per_tier_macro_f1: was a locked markdown cell, now a locked code cell" in msg
    assert "week6_lab: lab_imports: its text is" in msg
    assert "lab_md_act_1_the_teacher" not in msg
    assert 'name="..."' in msg and "--allow-changed-ids" in msg


def test_release_command_stops_before_nbgrader_and_the_flag_lets_it_through(released, capsys, monkeypatch):
    from autograder import release
    work, source = released
    edit_cell(source, "lab_setup", lambda c: (c.update(source="x = 1"), c)[1])
    called = []
    monkeypatch.setattr(release, "generate", lambda w, s, a: called.append(a) or {x: w for x in a})
    args = ["--work", str(work), "--source", str(source), "--assignment", "week6_lab",
            "--allow-synthetic-reveals", "--allow-private-install", "--skip-reveals-check"]
    assert release.main(args) == 1 and called == []
    assert "release refused:" in capsys.readouterr().err
    assert release.main([*args, "--allow-changed-ids"]) == 0 and called == [("week6_lab",)]


def test_no_gradebook_yet_means_nothing_to_compare(tmp_path):
    from autograder.release import grade_id_check
    grade_id_check(tmp_path, ROOT / "notebooks", ["week6_lab", "week6_homework"])
