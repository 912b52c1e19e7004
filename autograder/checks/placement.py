"""Where each check sits: the order in which the notebook sources place their hidden tests.

A check's rank is never written by hand.  The notebook sources
(``notebooks/lab_*.py`` then ``notebooks/hw_*.py``, each notebook's parts in name
order, as ``notebooks/make_notebooks.py`` joins them) hold one
``# %% role="hidden_test" check="<id>" ...`` marker per check; their order is the
registry's order, and so the order of grades.csv's columns.  Moving a hidden test
in a source moves its column; adding one needs no renumbering anywhere.

This module is copied into the grading kernel with the other check modules.  The
kernel never sees the notebook sources (and never needs an order: it looks probes
up by id), so there :func:`in_source_order` keeps the declaration order.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TypeVar

from .base import NOTEBOOKS

#: The checkout's notebook sources (absent in the grading kernel's copy).
SOURCES = Path(__file__).resolve().parents[2] / "notebooks"
#: Each notebook's source files, joined in name order (lab_0_intro.py, lab_1_teacher.py, ...).
SOURCE_PATTERNS = {"week6_lab": "lab_*.py", "week6_homework": "hw_*.py"}

_MARKER = re.compile(r"^# %%(?: \[markdown\])?(?P<meta> .*)?$")
_ROLE = re.compile(r'\brole="hidden_test"')
_CHECK = re.compile(r'\bcheck="(?P<id>[^"]+)"')

C = TypeVar("C")


def source_parts(notebook: str, folder: Path = SOURCES) -> list[Path]:
    """The source files of ``notebook`` (``week6_lab`` or ``week6_homework``) in the order they are joined."""
    if notebook not in SOURCE_PATTERNS:
        raise ValueError(f"source_parts: notebook must be one of {sorted(SOURCE_PATTERNS)}, got {notebook!r}")
    return sorted(Path(folder).glob(SOURCE_PATTERNS[notebook]), key=lambda p: p.name)


def hidden_test_order(folder: Path = SOURCES) -> dict[str, list[str]]:
    """notebook -> the check ids of its hidden-test markers, in the order its sources place them.

    Empty lists where the sources are absent (the grading kernel's copy).
    """
    order: dict[str, list[str]] = {}
    for notebook in NOTEBOOKS:
        ids: list[str] = []
        for part in source_parts(notebook, folder):
            for line in part.read_text(encoding="utf-8").splitlines():
                marker = _MARKER.match(line)
                if marker and marker["meta"] and _ROLE.search(marker["meta"]):
                    found = _CHECK.search(marker["meta"])
                    if found:  # a marker without check= is reported by the notebook builder, with its line
                        ids.append(found["id"])
        order[notebook] = ids
    return order


def in_source_order(checks: Iterable[C], folder: Path = SOURCES) -> tuple[C, ...]:
    """``checks`` ordered by notebook (``NOTEBOOKS``), then where the sources place their hidden tests.

    A check whose cell is not (yet) in the sources keeps its declaration order after the placed
    ones of its notebook: the registry still imports while a newcomer writes the cell, and the
    notebook builder and the tests name what is missing.
    """
    declared = list(checks)
    order = hidden_test_order(folder)
    rank = {(nb, cid): i for nb, ids in order.items() for i, cid in enumerate(ids)}
    unplaced = len(rank) + len(declared)

    def sort_key(item: tuple[int, C]) -> tuple[int, int, int]:
        i, check = item
        notebook, cid = check.notebook, check.id
        return NOTEBOOKS.index(notebook), rank.get((notebook, cid), unplaced), i

    return tuple(c for _, c in sorted(enumerate(declared), key=sort_key))


def unplaced(checks: Sequence, folder: Path = SOURCES) -> list[str]:
    """Ids of ``checks`` with no hidden test in their notebook's sources (a cell to add, or a wrong notebook)."""
    order = hidden_test_order(folder)
    return [c.id for c in checks if c.id not in order.get(c.notebook, [])]
