"""``--data course``: the training files of a folder ``python -m helpers train prepare`` wrote.

Resolved in one place, ``course_config``, which both the command line and a
library call of ``train(cfg)`` (through ``load_training_data``) go through, so
both read the folder ``cfg.prepared`` names (default ``out/course_data``).
The folder is checked against its card before anything is read: a missing or
edited file means the folder is no longer what ``prepare`` wrote.
"""
from __future__ import annotations

import json
from pathlib import Path

from helpers.data import fetch, load_manifest, sha256_of

from .config import DEFAULT_PREPARED, TrainConfig
from .errors import DataError

__all__ = ["course_config", "CARD", "OUTPUT_FILES", "DEFAULT_OUT", "TEACHER_ENTRY"]

CARD = "prepare_card.json"
OUTPUT_FILES = ("train_test.jsonl", "val.jsonl", "label_list.json")
DEFAULT_OUT = DEFAULT_PREPARED
TEACHER_ENTRY = "teacher_train_test"


def course_config(cfg: TrainConfig, prepared: str | None = None) -> TrainConfig:
    """The ``TrainConfig`` that reads a prepared folder (``prepared``, else ``cfg.prepared``), checked against its card.

    The text files and label list come from the folder; the teacher logits
    (kd recipe) from the manifest's ``teacher_train_test`` unless
    ``cfg.teacher_logits`` names a file.  Raises ``DataError`` naming the fix.
    """
    folder = Path(prepared or cfg.prepared or DEFAULT_OUT)
    card_path = folder / CARD
    redo = (f"run `python -m helpers train prepare --split-dir DIR --out {folder}` (see "
            f"helpers/training/README.md)")
    if not card_path.is_file():
        raise DataError(f"--prepared: {folder} holds no {CARD}, so it is not (or not completely) a prepared course "
                        f"folder; expected the --out of `train prepare`. To fix: {redo}, or pass --prepared with the "
                        f"folder it wrote.")
    card = json.loads(card_path.read_text(encoding="utf-8"))
    for name in OUTPUT_FILES:
        path = folder / name
        want = card.get("outputs", {}).get(name, {}).get("sha256")
        if not path.is_file() or sha256_of(path) != want:
            raise DataError(f"--prepared: {path} is {'missing' if not path.is_file() else 'changed'} since "
                            f"`train prepare` wrote it (its sha256 is recorded in {card_path}). To fix: {redo}.")
    teacher = cfg.teacher_logits
    if teacher is None and cfg.recipe == "kd":
        try:
            teacher = str(fetch(load_manifest().entry(TEACHER_ENTRY)))
        except Exception as err:
            raise DataError(f"--data course: could not fetch the teacher logits ({TEACHER_ENTRY}): {err} "
                            f"Or pass a local copy with --teacher-logits.") from None
    return cfg.replace(data="files", prepared=str(folder), train_file=str(folder / "train_test.jsonl"),
                       val_file=str(folder / "val.jsonl"), label_list=str(folder / "label_list.json"),
                       text_column="text", label_column="label", tier_column="tier", teacher_logits=teacher)
