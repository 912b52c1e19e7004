"""The percent-format notebook sources: markers, roles, spans, and the errors that name the source line."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "notebooks"))

import nbsource  # noqa: E402

from autograder.checks import POINTS  # noqa: E402

SOURCE = '''"""A part's docstring: not a cell."""

# %% [markdown]
# ## A heading with {R("teacher_f1_tail", ".3f")} and {C("teacher_tail_lowest")}
#
# A literal {"head": 0.61} stays as written.

# %% grade_id="x_imports"
import numpy as np

# %% role="solution" grade_id="x_answer"
def f(x):
    ### BEGIN SOLUTION
    return np.asarray(x)
    ### END SOLUTION

# %% role="hidden_test" check="lab_per_tier_f1" skill="per-tier macro F1"

# %% [markdown] role="reveal" name="r1" after="k1,k2"
# **Reveal.** {R("n_val")}

# %% role="solution" grade_id="y_answer" same_as="x_answer"
'''


def _cells(tmp_path, text):
    path = tmp_path / "part.py"
    path.write_text(text)
    return nbsource.read_cells(path)


def test_a_source_file_becomes_the_cells_it_declares(tmp_path):
    source = _cells(tmp_path, SOURCE)
    assert [c.meta.get("role") for c in source] == [None, None, "solution", "hidden_test", "reveal", "solution"]
    reveals, solutions = {}, {"x_answer": source[2].body}
    cells = [nbsource.to_cell(c, reveals, solutions) for c in source]
    heading, imports, answer, test, reveal, copy = cells
    assert heading.source == ("## A heading with <!-- reveal:teacher_f1_tail:.3f -->?<!-- /reveal --> and "
                              "<!-- claim:teacher_tail_lowest -->\n\nA literal {\"head\": 0.61} stays as written.")
    assert imports.source == "import numpy as np" and imports.metadata.nbgrader["locked"]
    assert answer.metadata.nbgrader["solution"] and answer.source.startswith("def f(x):")
    assert test.metadata.nbgrader["points"] == POINTS["lab_per_tier_f1"]
    assert "graded outside this notebook" in test.source and "report(" not in test.source  # a function check
    assert reveal.source.endswith('reveal("r1")')
    assert reveals == {"r1": (("k1", "k2"), "**Reveal.** <!-- reveal:n_val -->?<!-- /reveal -->")}
    assert copy.source == answer.source and copy.metadata.nbgrader["grade_id"] == "y_answer"


@pytest.mark.parametrize("text, words", [
    ('# %% role="hidden_test" check="lab_nonexistent" skill="x"\n', ["part.py:1", "lab_nonexistent", "POINTS"]),
    ('# %% role="manual" grade_id="m"\n', ["part.py:1", "points"]),
    ('# %% role="oracle"\n', ["part.py:1", "unknown role"]),
    ('# %% role="solution" grade_id="s"\nreturn 1\n', ["part.py:1", "BEGIN SOLUTION"]),
])
def test_a_bad_cell_names_its_source_line(tmp_path, text, words):
    with pytest.raises(ValueError) as err:
        nbsource.to_cell(_cells(tmp_path, text)[0], {}, {})
    assert all(w in str(err.value) for w in words), str(err.value)


def test_markdown_lines_must_be_comments_and_markers_must_parse(tmp_path):
    with pytest.raises(ValueError, match="part.py:2: a markdown cell's lines are comments"):
        _cells(tmp_path, "# %% [markdown]\nnot a comment\n")
    with pytest.raises(ValueError, match="part.py:1: cannot read the cell marker"):
        _cells(tmp_path, "# %% role=solution\n")
