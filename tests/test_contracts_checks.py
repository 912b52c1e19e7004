"""docs/CONTRACTS.md's check table says what the registry declares (ids, notebooks, points, names read,
modules), and the registry's order is where the notebook sources place the hidden tests."""
from __future__ import annotations

import re
from pathlib import Path

from autograder import checks
from autograder.checks import placement

CONTRACTS = Path(__file__).resolve().parent.parent / "docs" / "CONTRACTS.md"
HEADER = "| notebook | check id | points | student names | module | what is judged |"
NOTEBOOK = {"lab": "week6_lab", "homework": "week6_homework"}


def table_rows() -> list[tuple[str, str, int, tuple[str, ...], str]]:
    """(notebook, check id, points, names, module) per row of the check table, in order."""
    lines = CONTRACTS.read_text().splitlines()
    assert HEADER in lines, f"docs/CONTRACTS.md lost its check table (header {HEADER!r})"
    rows = []
    for line in lines[lines.index(HEADER) + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        names = tuple(re.findall(r"`(\w+)`", cells[3]))
        rows.append((NOTEBOOK[cells[0]], cells[1].strip("`"), int(cells[2]), names, cells[4].strip("`")))
    return rows


def module_of(check: checks.Check) -> str:
    """The file that declares a check (where its probe is defined)."""
    fn = getattr(check.probe, "func", check.probe)  # functools.partial for checks sharing a probe
    return fn.__module__.rsplit(".", 1)[-1] + ".py"


def test_check_table_matches_the_registry():
    registry = [(c.notebook, c.id, c.points, c.reads, module_of(c)) for c in checks.REGISTRY]
    assert table_rows() == registry


# --------------------------------------------------------------------------- positions come from the sources
def _copy_sources(tmp_path: Path) -> Path:
    notebooks = Path(__file__).resolve().parent.parent / "notebooks"
    for pattern in placement.SOURCE_PATTERNS.values():
        for part in notebooks.glob(pattern):
            (tmp_path / part.name).write_text(part.read_text(encoding="utf-8"), encoding="utf-8")
    return tmp_path


def test_every_check_has_its_hidden_test_and_the_registry_follows_them():
    order = placement.hidden_test_order()
    assert placement.unplaced(checks.REGISTRY) == []
    assert [c.id for c in checks.REGISTRY] == order["week6_lab"] + order["week6_homework"]
    assert list(checks.POINTS) == [c.id for c in checks.REGISTRY]  # grades.csv's column order


def test_moving_a_hidden_test_in_a_source_moves_its_check_and_nothing_else(tmp_path):
    folder = _copy_sources(tmp_path)
    first = folder / "lab_1_teacher.py"
    text = first.read_text()
    marker = next(line for line in text.splitlines() if 'check="lab_per_tier_f1"' in line)
    first.write_text(text.replace(marker + "\n", ""))
    last = folder / "lab_3_synthesis.py"
    last.write_text(last.read_text() + "\n" + marker + "\n")
    before = [c.id for c in checks.REGISTRY]
    after = [c.id for c in placement.in_source_order(checks.REGISTRY, folder)]
    lab = [cid for cid in before if cid.startswith("lab_") and cid != "lab_per_tier_f1"]
    assert after[:len(lab) + 1] == lab + ["lab_per_tier_f1"]
    assert after[len(lab) + 1:] == [cid for cid in before if cid.startswith("hw_")]


def test_a_check_without_a_cell_is_named_and_sorts_last_of_its_notebook(tmp_path):
    folder = _copy_sources(tmp_path)
    part = folder / "hw_1_diagnose.py"
    part.write_text("\n".join(line for line in part.read_text().splitlines() if 'check="hw_per_class_f1"' not in line))
    assert placement.unplaced(checks.REGISTRY, folder) == ["hw_per_class_f1"]
    ordered = [c.id for c in placement.in_source_order(checks.REGISTRY, folder)]
    assert ordered[-1] == "hw_per_class_f1" and ordered[0].startswith("lab_")
