"""The course's four split files: which dataset rows are train and validation, and the label rules.

``train_indices.json`` and ``val_indices.json`` (row indices into the Hub
dataset's train split), ``label_merge_mapping.json`` (old label -> canonical;
keys starting with ``_`` are comments) and ``label_list.json`` (class names in
class-id order) come from the course's GitHub repository, not the Hub.  They
are read and checked here on their own, before anything is downloaded, so a
missing or malformed file costs nothing; ``prepare`` applies them.
"""
from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from helpers.data import sha256_of

from .errors import PrepareError

__all__ = ["read_split_files", "SPLIT_FILES", "COURSE_DATA_URL", "GET_SPLIT_FILES", "thousands", "examples"]

SPLIT_FILES = ("train_indices.json", "val_indices.json", "label_merge_mapping.json", "label_list.json")
COURSE_DATA_URL = "https://github.com/earino/applied-deep-learning/tree/main/data"
GET_SPLIT_FILES = (f"Download them from the course's GitHub repository ({COURSE_DATA_URL}), e.g. "
                   f"`git clone --depth 1 https://github.com/earino/applied-deep-learning` and pass "
                   f"--split-dir applied-deep-learning/data.")


def thousands(x: int) -> str:
    """A count as messages print it: ``79,278``."""
    return f"{x:,}"


def examples(values: Iterable, k: int = 3) -> str:
    """The first ``k`` values, for a message that shows what was found."""
    return ", ".join(repr(v) for v in list(values)[:k])


def read_split_files(split_dir: str | os.PathLike) -> dict:
    """The four canonical split files, parsed and checked on their own (no dataset needed)."""
    folder = Path(split_dir)
    if not folder.is_dir():
        raise PrepareError(f"--split-dir: no such folder {str(folder)!r}; expected a folder holding "
                           f"{', '.join(SPLIT_FILES)}. " + GET_SPLIT_FILES)
    missing = [name for name in SPLIT_FILES if not (folder / name).is_file()]
    if missing:
        raise PrepareError(f"--split-dir: {folder} is missing {', '.join(missing)} (expected all four: "
                           f"{', '.join(SPLIT_FILES)}). " + GET_SPLIT_FILES)
    raw = {}
    for name in SPLIT_FILES:
        try:
            raw[name] = json.loads((folder / name).read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise PrepareError(f"--split-dir: {folder / name} is not valid JSON ({err}). "
                               + GET_SPLIT_FILES) from None

    out = {"dir": folder, "sha256": {name: sha256_of(folder / name) for name in SPLIT_FILES}}
    for name, key in (("train_indices.json", "train"), ("val_indices.json", "val")):
        idx = raw[name]
        if not (isinstance(idx, list) and idx and all(isinstance(i, int) and not isinstance(i, bool) for i in idx)):
            raise PrepareError(f"--split-dir: {name} must be a non-empty JSON list of row indices (integers), "
                               f"got {type(idx).__name__}"
                               + (f" starting {examples(idx)}" if isinstance(idx, list) else "") + ". "
                               + GET_SPLIT_FILES)
        arr = np.asarray(idx, dtype=np.int64)
        if arr.min() < 0:
            raise PrepareError(f"--split-dir: {name} holds negative indices, e.g. {examples(arr[arr < 0])}; "
                               f"expected row indices into the dataset's train split (0 or more). "
                               + GET_SPLIT_FILES)
        uniq, counts = np.unique(arr, return_counts=True)
        if (counts > 1).any():
            dup = uniq[counts > 1]
            raise PrepareError(f"--split-dir: {name} lists {thousands(dup.size)} row(s) more than once, e.g. "
                               f"{examples(dup.tolist())}; expected each row at most once. " + GET_SPLIT_FILES)
        out[key] = arr
    both = np.intersect1d(out["train"], out["val"])
    if both.size:
        raise PrepareError(f"--split-dir: {thousands(both.size)} row(s) are in both train_indices.json and "
                           f"val_indices.json, e.g. {examples(both.tolist())}; validation rows must never be "
                           f"trained on. Use the two files from the same commit of the course repository. "
                           + GET_SPLIT_FILES)

    mapping = raw["label_merge_mapping.json"]
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for k, v in mapping.items()
                                                if not str(k).startswith("_")):
        raise PrepareError("--split-dir: label_merge_mapping.json must be a JSON object of old label -> "
                           f"canonical label (strings), got {type(mapping).__name__}. " + GET_SPLIT_FILES)
    out["merge"] = {k: v for k, v in mapping.items() if not str(k).startswith("_")}  # "_..." keys: comments

    labels = raw["label_list.json"]
    if not (isinstance(labels, list) and labels and all(isinstance(x, str) for x in labels)):
        raise PrepareError("--split-dir: label_list.json must be a non-empty JSON list of label names "
                           f"(strings, in class-id order), got {type(labels).__name__}. " + GET_SPLIT_FILES)
    dup = [x for x, c in Counter(labels).items() if c > 1]
    if dup:
        raise PrepareError(f"--split-dir: label_list.json names {examples(dup)} more than once; each class "
                           f"must appear once. " + GET_SPLIT_FILES)
    out["labels"] = labels
    return out
