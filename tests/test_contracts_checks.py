"""docs/CONTRACTS.md's check table says what the registry declares: ids, notebooks, points, names read, modules."""
from __future__ import annotations

import re
from pathlib import Path

from autograder import checks

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
