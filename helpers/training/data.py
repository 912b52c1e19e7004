"""Training data: reading, label ids, teacher-logit alignment, tokens and batches.

Every check that can fail does so here, before a model is built: a teacher
file that is one row short, or in a different order from the training texts,
must stop the run before it spends an hour distilling the wrong targets.
"""
from __future__ import annotations

import csv
import hashlib
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from helpers.course import N_CLASSES, TIER_CLASS_COUNTS, TIERS

from .course_data import course_config
from .errors import DataError, TeacherAlignmentError

if TYPE_CHECKING:
    from .config import TrainConfig

__all__ = [
    "DataError", "TeacherAlignmentError", "Split", "TrainingData", "texts_digest", "read_split",
    "load_teacher", "check_teacher_alignment", "assign_tiers", "load_training_data", "tokenize",
    "length_grouped_batches", "shard_batch", "collate", "eval_shard",
]

TIER_NAMES = TIERS


def texts_digest(texts: Sequence[str]) -> str:
    """sha256 over the texts in order (NUL-separated): changes if any text or the order changes."""
    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


def array_digest(*arrays: np.ndarray) -> str:
    """sha256 over arrays' dtype, shape and bytes: the run card's record of what was trained on."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(str((a.dtype.str, a.shape)).encode())
        h.update(a.tobytes())
    return h.hexdigest()


# ----------------------------------------------------------------------------- reading
@dataclass
class Split:
    texts: list
    raw_labels: list
    tiers: list | None = None
    row_ids: np.ndarray | None = None


def _records(path: Path):
    suffix = "".join(path.suffixes[-2:]).lower() if path.suffix == ".gz" else path.suffix.lower()
    if suffix == ".csv":
        with open(path, newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))
    if suffix == ".jsonl":
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    if suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict):  # column-oriented {"text": [...], "label": [...]}
            keys = list(data)
            return [dict(zip(keys, row)) for row in zip(*(data[k] for k in keys))]
        return data
    if suffix == ".parquet":
        import pandas as pd
        return pd.read_parquet(path).to_dict("records")
    raise DataError(f"{path}: expected a .csv, .jsonl, .json or .parquet file.")


def read_split(path: str | os.PathLike, text_column: str = "text", label_column: str = "label",
               tier_column: str = "tier", *, what: str = "train_file") -> Split:
    """One split's texts, raw labels, optional tiers and row ids; ``what`` names it in errors."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{what}: no such file {str(path)!r}.")
    rows = _records(path)
    if not rows:
        raise DataError(f"{what}: {path} has no rows.")
    missing = [c for c in (text_column, label_column) if c not in rows[0]]
    if missing:
        raise DataError(f"{what}: {path} has no column(s) {missing}; its columns are {sorted(rows[0])}. "
                        f"Name the right ones with --text-column / --label-column.")
    texts = ["" if r[text_column] is None else str(r[text_column]) for r in rows]
    labels = [r[label_column] for r in rows]
    if any(v is None or v == "" for v in labels):
        bad = next(i for i, v in enumerate(labels) if v is None or v == "")
        raise DataError(f"{what}: row {bad} of {path} has no label.")
    tiers = [str(r[tier_column]) for r in rows] if tier_column in rows[0] else None
    row_ids = None
    for key in ("row_id", "id", "idx"):
        if key in rows[0]:
            row_ids = np.asarray([int(r[key]) for r in rows], dtype=np.int64)
            break
    return Split(texts, labels, tiers, row_ids)


def _as_int(v):
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return int(v)
    if isinstance(v, str) and v.strip().lstrip("-").isdigit():
        return int(v)
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return None


def encode_labels(train_raw: Sequence, val_raw: Sequence, n_classes_hint: int | None = None,
                  label_list: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Class ids for both splits and the class names (id order).

    Integer labels are taken as ids.  String labels are looked up in the label
    list (the course's ``label_list.json``) when one is given, else in the
    sorted set of training labels (and the run card records that order).
    """
    names = None
    if label_list is not None:
        names = [str(x) for x in json.loads(Path(label_list).read_text(encoding="utf-8"))]
    as_int = [_as_int(v) for v in train_raw] + [_as_int(v) for v in val_raw]
    if all(v is not None for v in as_int):
        ids = np.asarray(as_int, dtype=np.int64)
        n_classes = names and len(names) or n_classes_hint or int(ids.max()) + 1
        if ids.min() < 0 or ids.max() >= n_classes:
            raise DataError(f"labels must be class ids in [0, {n_classes - 1}], got values from "
                            f"{ids.min()} to {ids.max()}.")
        names = names or [str(i) for i in range(n_classes)]
    else:
        if names is None:
            names = sorted({str(v) for v in train_raw})
        index = {n: i for i, n in enumerate(names)}
        unknown = sorted({str(v) for v in list(train_raw) + list(val_raw)} - set(index))
        if unknown:
            raise DataError(f"{len(unknown)} label(s) are not in the label list, e.g. {unknown[:3]}; "
                            f"pass the course's label list with --label-list.")
        ids = np.asarray([index[str(v)] for v in list(train_raw) + list(val_raw)], dtype=np.int64)
        n_classes = len(names)
    if n_classes_hint is not None and n_classes != n_classes_hint:
        raise TeacherAlignmentError(f"the teacher logits have {n_classes_hint} columns but the labels define "
                                    f"{n_classes} classes; the teacher's class order must be the label list's.")
    return ids[:len(train_raw)], ids[len(train_raw):], names


def assign_tiers(train_labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Tier of every class by training frequency rank: the course's 20 / 40 / 53 split of
    113 classes (head = top 20, mid = next 40, tail = the rest; ``helpers.course``), scaled to ``n_classes``."""
    counts = np.bincount(np.asarray(train_labels), minlength=n_classes)
    order = np.lexsort((np.arange(n_classes), -counts))  # most frequent first, ties by id
    n_head = max(1, int(round(n_classes * TIER_CLASS_COUNTS["head"] / N_CLASSES)))
    n_mid = max(1, int(round(n_classes * TIER_CLASS_COUNTS["mid"] / N_CLASSES)))
    tier = np.empty(n_classes, dtype="<U4")
    tier[order[:n_head]] = "head"
    tier[order[n_head:n_head + n_mid]] = "mid"
    tier[order[n_head + n_mid:]] = "tail"
    return tier


# ----------------------------------------------------------------------------- teacher
def load_teacher(path: str | os.PathLike) -> dict:
    """The teacher npz: ``logits`` (2-D) and, when present, ``text_sha256`` and ``row_ids``."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"teacher_logits: no such file {str(path)!r}.")
    with np.load(path, allow_pickle=False) as z:
        if "logits" not in z.files:
            raise DataError(f"teacher_logits: {path} has no `logits` array (it has {z.files}).")
        out = {"logits": np.asarray(z["logits"])}
        for key in ("text_sha256", "row_ids"):
            if key in z.files:
                out[key] = z[key]
    if out["logits"].ndim != 2:
        raise DataError(f"teacher_logits: `logits` must be 2-D (n_train, n_classes), got {out['logits'].shape}.")
    if "text_sha256" in out:
        out["text_sha256"] = str(np.asarray(out["text_sha256"]).reshape(-1)[0])
    return out


def check_teacher_alignment(teacher: dict, texts: Sequence[str], labels: np.ndarray, row_ids: np.ndarray | None = None,
                            *, check_agreement: bool = True) -> None:
    """Raise TeacherAlignmentError unless the teacher rows match the texts in count and order.

    Exact checks where the teacher file carries them (``text_sha256`` of the
    ordered texts, or ``row_ids`` against the training file's id column); in
    any case a statistical one: the teacher's top-1 must agree with the hard
    labels far more often than it would under a shuffled pairing.  A file that
    is shifted or shuffled by even one row falls to chance agreement.
    """
    logits = teacher["logits"]
    n = len(texts)
    if logits.shape[0] != n:
        raise TeacherAlignmentError(
            f"the teacher logits have {logits.shape[0]:,} rows but the training data has {n:,} texts; they must "
            f"be aligned row for row (the course's file covers train+test combined, 79,278 rows).")
    if not np.isfinite(logits.astype(np.float32)).all():
        raise TeacherAlignmentError("the teacher logits contain NaN or infinite values.")
    if "text_sha256" in teacher and teacher["text_sha256"] != texts_digest(texts):
        raise TeacherAlignmentError(
            "the teacher logits were computed on different texts or a different order: their text_sha256 "
            "does not match the training texts'. Rebuild the training file in the teacher's order.")
    if "row_ids" in teacher and row_ids is not None:
        ids = np.asarray(teacher["row_ids"]).astype(np.int64)
        if ids.shape != row_ids.shape or not np.array_equal(ids, row_ids):
            first = int(np.argmax(ids != row_ids)) if ids.shape == row_ids.shape else 0
            raise TeacherAlignmentError(f"the teacher's row_ids differ from the training file's ids "
                                        f"(first difference at row {first}).")
    if check_agreement and n >= 50:
        labels = np.asarray(labels)
        top1 = logits.argmax(axis=1)
        agree = float((top1 == labels).mean())
        c = logits.shape[1]
        chance = float((np.bincount(labels, minlength=c) / n) @ (np.bincount(top1, minlength=c) / n))
        margin = max(0.05, 4.0 * math.sqrt(max(chance * (1 - chance), 1e-12) / n))
        if agree < chance + margin:
            raise TeacherAlignmentError(
                f"the teacher's top-1 agrees with the training labels on {agree:.1%} of rows, no better than "
                f"a shuffled pairing ({chance:.1%}); the teacher logits look misaligned with the texts (shifted "
                f"or reordered). If the teacher really is this weak, pass --no-check-teacher-agreement.")


# ----------------------------------------------------------------------------- assembling
@dataclass
class TrainingData:
    train_texts: list
    train_labels: np.ndarray
    val_texts: list
    val_labels: np.ndarray
    val_tiers: np.ndarray
    label_names: list
    teacher_logits: np.ndarray | None  # float16 (n_train, n_classes)
    digests: dict

    @property
    def n_classes(self) -> int:
        return len(self.label_names)


def load_training_data(cfg: TrainConfig) -> TrainingData:
    """Both splits, label ids, tiers and the aligned teacher logits, checked before any model is built."""
    if cfg.data == "course":  # the folder cfg.prepared names, resolved as the command line does
        cfg = course_config(cfg)
    train = read_split(cfg.train_file, cfg.text_column, cfg.label_column, cfg.tier_column, what="train_file")
    val = read_split(cfg.val_file, cfg.text_column, cfg.label_column, cfg.tier_column, what="val_file")
    teacher = load_teacher(cfg.teacher_logits) if cfg.teacher_logits else None
    hint = teacher["logits"].shape[1] if teacher is not None else None
    y_train, y_val, names = encode_labels(train.raw_labels, val.raw_labels, hint, cfg.label_list)
    if teacher is not None:
        check_teacher_alignment(teacher, train.texts, y_train, train.row_ids,
                                check_agreement=cfg.check_teacher_agreement)
    if val.tiers is not None and set(val.tiers) <= set(TIER_NAMES):
        tiers = np.asarray(val.tiers, dtype="<U4")
    else:
        tiers = assign_tiers(y_train, len(names))[y_val]
    teacher_logits = None if teacher is None else teacher["logits"].astype(np.float16)
    digests = {
        "train_texts_sha256": texts_digest(train.texts),
        "train_labels_sha256": array_digest(y_train),
        "val_texts_sha256": texts_digest(val.texts),
        "val_labels_sha256": array_digest(y_val, tiers),
        "teacher_logits_sha256": None if teacher_logits is None else array_digest(teacher_logits),
    }
    return TrainingData(train.texts, y_train, val.texts, y_val, tiers, names, teacher_logits, digests)


# ----------------------------------------------------------------------------- tokens and batches
def tokenize(tokenizer: Any, texts: Sequence[str], max_length: int, chunk: int = 8192) -> list[np.ndarray]:
    """Token ids per text (truncated to max_length, with special tokens, no padding)."""
    out = []
    for start in range(0, len(texts), chunk):
        enc = tokenizer(texts[start:start + chunk], truncation=True, max_length=max_length,
                        add_special_tokens=True, padding=False, return_attention_mask=False)
        out.extend(np.asarray(ids, dtype=np.int32) for ids in enc["input_ids"])
    return out


def length_grouped_batches(lengths: np.ndarray, batch_size: int, seed: int, epoch: int, *,
                           group_by_length: bool = True, mega: int = 50) -> list[np.ndarray]:
    """The epoch's global batches (index arrays), a pure function of (seed, epoch).

    Shuffle, cut into mega-batches of ``mega * batch_size`` rows, sort each by
    length so a batch holds texts of similar length (little padding), then
    shuffle the batch order.  The longest batch goes first so that running out
    of memory happens in the first step rather than an hour in.  Being a pure
    function is what makes resuming exact: a resumed run rebuilds the same list
    and skips the batches already done.
    """
    lengths = np.asarray(lengths)
    rng = np.random.default_rng([int(seed), int(epoch)])
    perm = rng.permutation(lengths.size)
    if not group_by_length:
        return [perm[i:i + batch_size] for i in range(0, perm.size, batch_size)]
    batches = []
    for start in range(0, perm.size, mega * batch_size):
        chunk = perm[start:start + mega * batch_size]
        chunk = chunk[np.argsort(-lengths[chunk], kind="stable")]
        batches.extend(chunk[i:i + batch_size] for i in range(0, chunk.size, batch_size))
    order = rng.permutation(len(batches))
    batches = [batches[i] for i in order]
    longest = max(range(len(batches)), key=lambda i: (lengths[batches[i]].max(), -i))
    batches[0], batches[longest] = batches[longest], batches[0]
    return batches


def shard_batch(batch: np.ndarray, rank: int, world: int) -> tuple[np.ndarray, np.ndarray]:
    """This process's part of a global batch, and a mask of which rows are real.

    Contiguous slices (the batch is length-sorted, so each slice pads little).
    A process whose slice is empty gets one duplicate row with weight zero: DDP
    needs every process to run a forward and backward on every step.
    """
    per = -(-len(batch) // world)
    part = np.asarray(batch[rank * per:(rank + 1) * per])
    if part.size == 0:
        return np.asarray(batch[:1]), np.zeros(1, dtype=bool)
    return part, np.ones(part.size, dtype=bool)


def eval_shard(lengths: np.ndarray, rank: int, world: int) -> np.ndarray:
    """Validation rows for this process: length-sorted, interleaved across processes."""
    order = np.argsort(-np.asarray(lengths), kind="stable")
    return order[rank::world]


def collate(tokens: Sequence[np.ndarray], indices: Sequence[int], pad_id: int,
            multiple_of: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad the selected rows to the longest of them (dynamic padding)."""
    seqs = [tokens[i] for i in indices]
    width = max(s.size for s in seqs)
    if multiple_of:
        width = -(-width // multiple_of) * multiple_of
    ids = np.full((len(seqs), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(seqs), width), dtype=np.int64)
    for row, s in enumerate(seqs):
        ids[row, :s.size] = s
        mask[row, :s.size] = 1
    return torch.from_numpy(ids), torch.from_numpy(mask)
