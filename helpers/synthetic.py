"""The embedded course data, by the name the notebooks use: ``helpers.synthetic``.

The generator lives in :mod:`helpers.data.synthetic` with the rest of the data
plumbing; this module keeps the student-facing names where the notebooks and
``help(helpers.synthetic)`` find them::

    >>> from helpers import synthetic
    >>> synthetic.arrays("vanilla")["logits"].shape
    (6430, 113)

``python -m helpers synthetic --out DIR`` writes every artifact to ``DIR``.
"""
from __future__ import annotations

from helpers.data.synthetic import GRID, NAMES, SEED, arrays, main, train_class_counts, write_all

__all__ = ["SEED", "NAMES", "GRID", "arrays", "write_all", "train_class_counts", "main"]
