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
    part.write_text(part.read_text(encoding="utf-8") + "\n# %%\nimport numpy as np\n", encoding="utf-8")
    with pytest.raises(ValueError) as err:
        make_notebooks.cells_of("lab", folder=sources)
    msg = str(err.value)
    assert "lab_py_import_numpy_as_np" in msg and "lab_3_synthesis.py:" in msg and 'name="..."' in msg
    text = part.read_text(encoding="utf-8").replace("\n# %%\nimport numpy as np\n",
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
