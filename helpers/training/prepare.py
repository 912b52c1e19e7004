"""``python -m helpers train prepare``: from the course dataset on the Hub to training files.

One command turns the Hub dataset (``datasets.course_dataset`` in
``data_manifest.yaml``) and the course's four split files into the folder that
``python -m helpers train --data course --prepared DIR`` reads::

    python -m helpers train prepare --split-dir applied-deep-learning/data --out out/course_data

What it does, in the course's own order (``utils/data_utils.py`` of
earino/applied-deep-learning): rows of the dataset's train split at
``train_indices.json`` (in that order) followed by the whole test split form
train+test, the rows at ``val_indices.json`` form validation; each raw
"Issue" goes through ``label_merge_mapping.json`` (old -> canonical; keys
starting with ``_`` are comments) and rows whose canonical label is not in
``label_list.json`` are dropped; class id = position in the label list; tiers
by training-frequency rank (``helpers.training.data.assign_tiers``: top 20
head, next 40 mid, the rest tail).  The counts must come out as the manifest's
``dims`` (79,278 / 6,430 / 113 for the course): the teacher logits are aligned
with exactly those rows.

Written into ``--out`` (the card last, so a folder with a card is complete):

* ``train_test.jsonl`` and ``val.jsonl``: one object per row, ``text``,
  ``label`` (class id), ``label_name``, ``tier``;
* ``label_list.json``: the class names in class-id order;
* ``prepare_card.json``: the dataset commit, sha256 of every input and
  output, counts, dropped rows, tier sizes.

The split files are read by ``split_files``; the dataset's files come from
``hub_dataset`` (the data layer's retry policy and typed ``HubError`` messages,
``snapshot_download``, which also finds the files again offline); the folder
is read back by ``course_data.course_config``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers.course import TIERS
from helpers.data import (
    ArtifactError,
    DatasetFiles,
    HubError,
    Manifest,
    fetch,
    is_commit,
    load_manifest,
    sha256_of,
)
from helpers.fileio import atomic_write, atomic_write_text

from .course_data import CARD, DEFAULT_OUT, OUTPUT_FILES, TEACHER_ENTRY
from .data import assign_tiers
from .errors import DataError, PrepareError
from .hub_dataset import download_dataset, read_parquet
from .split_files import COURSE_DATA_URL, GET_SPLIT_FILES, SPLIT_FILES, examples, read_split_files, thousands

__all__ = ["PrepareError", "prepare", "read_split_files", "main", "SPLIT_FILES", "DEFAULT_OUT", "OUTPUT_FILES"]

DATASET = "course_dataset"


# ----------------------------------------------------------------------------- assembling
def _teacher_rows(spec: str, manifest: Manifest) -> tuple[str, tuple[int, ...], str]:
    """(path, logits shape, sha256) of the teacher file named by --teacher-logits (a path, or `hub`)."""
    if spec == "hub":
        try:
            path = fetch(manifest.entry(TEACHER_ENTRY))
        except Exception as err:
            raise PrepareError(f"--teacher-logits hub: could not fetch {TEACHER_ENTRY}: {err}") from None
    else:
        path = Path(spec)
        if not path.is_file():
            raise PrepareError(f"--teacher-logits: no such file {str(path)!r}; expected the course's teacher npz "
                               f"(`python -m helpers data fetch teacher_train_test` prints its path), or `hub`.")
    try:
        with np.load(path, allow_pickle=False) as z:
            if "logits" not in z.files:
                raise PrepareError(f"--teacher-logits: {path} has no `logits` array (it has {z.files}).")
            shape = tuple(z["logits"].shape)
    except (OSError, ValueError) as err:
        if isinstance(err, PrepareError):
            raise
        raise PrepareError(f"--teacher-logits: {path} is not a readable npz file ({err}).") from None
    return str(path), shape, sha256_of(path)


def _pick(rows, texts, labels, merge, index):
    """Texts, class ids and per-split drop counts for the given rows of one dataset split."""
    out_t, out_y, dropped = [], [], Counter()
    for i in rows:
        raw = labels[i]
        canonical = merge.get(raw, raw) if raw is not None else None
        cid = index.get(canonical)
        if cid is None:
            dropped[canonical] += 1
            continue
        t = texts[i]
        out_t.append("" if t is None else str(t))
        out_y.append(cid)
    return out_t, np.asarray(out_y, dtype=np.int64), dropped


def _write_jsonl(path: Path, texts, ids, names, tiers) -> None:
    with atomic_write(path) as tmp, open(tmp, "w", encoding="utf-8") as f:  # streamed: 79k rows
        for t, y in zip(texts, ids):
            f.write(json.dumps({"text": t, "label": int(y), "label_name": names[y], "tier": str(tiers[y])},
                               ensure_ascii=False) + "\n")


def _write_json(path: Path, obj) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


@dataclass
class Prepared:
    """The canonical split of one dataset commit: texts and class ids of train+test and validation."""

    texts: list[str]
    y: np.ndarray
    val_texts: list[str]
    val_y: np.ndarray
    from_train_indices: int
    from_test_split: int
    dropped: dict[str, Counter]  # "train_indices" / "test_split" / "val_indices" -> canonical label -> rows

    def all_dropped(self) -> Counter:
        """Rows dropped over the three selections, by canonical label."""
        return sum(self.dropped.values(), Counter())


def _dataset_section(manifest: Manifest | str | os.PathLike | None) -> tuple[Manifest, DatasetFiles]:
    """The manifest and its ``datasets.course_dataset``, which must name a train and a test pattern."""
    try:
        m = manifest if manifest is not None and not isinstance(manifest, (str, os.PathLike)) \
            else load_manifest(manifest)
        ds = m.dataset(DATASET)
    except ArtifactError as err:
        raise PrepareError(f"data_manifest.yaml: {err} (prepare needs datasets.{DATASET}; see "
                           f"helpers/training/README.md).") from None
    for split in ("train", "test"):
        if split not in ds.files:
            raise PrepareError(f"datasets.{DATASET}.files in data_manifest.yaml has no {split!r} pattern "
                               f"(it has {list(ds.files)}); expected train and test.")
    return m, ds


def _check_label_count(names: list[str], want: dict) -> None:
    if want["n_classes"] is not None and len(names) != want["n_classes"]:
        raise PrepareError(f"--split-dir: label_list.json has {thousands(len(names))} labels; expected "
                           f"{thousands(want['n_classes'])} (dims.n_classes in data_manifest.yaml, the teacher's "
                           f"columns). Use the label_list.json of the course repository. " + GET_SPLIT_FILES)


def _check_indices(split: dict, n_train_rows: int, commit: str) -> None:
    """Every index of the split files must point into the dataset's train split at this commit."""
    for key, fname in (("train", "train_indices.json"), ("val", "val_indices.json")):
        bad = split[key][split[key] >= n_train_rows]
        if bad.size:
            raise PrepareError(
                f"--split-dir: {fname} holds {thousands(bad.size)} row index(es) past the end of the dataset's train "
                f"split ({thousands(n_train_rows)} rows at commit {commit[:12]}, so indices must be "
                f"0..{thousands(n_train_rows - 1)}),"
                f" e.g. {examples(np.unique(bad).tolist())}. The split files and the dataset revision do not belong "
                f"together: use the four files of the course repository ({COURSE_DATA_URL}) with the dataset "
                f"revision the course used (datasets.{DATASET}.revision in data_manifest.yaml).")


def _assemble(split: dict, data: dict, names: list[str]) -> Prepared:
    """Train+test (rows at train_indices.json, then the whole test split) and validation, labels merged."""
    index = {label: i for i, label in enumerate(names)}
    merge = split["merge"]
    tr_t, tr_y, tr_drop = _pick(split["train"], *data["train"], merge, index)
    te_t, te_y, te_drop = _pick(range(len(data["test"][0])), *data["test"], merge, index)
    va_t, va_y, va_drop = _pick(split["val"], *data["train"], merge, index)
    return Prepared(texts=tr_t + te_t, y=np.concatenate([tr_y, te_y]), val_texts=va_t, val_y=va_y,
                    from_train_indices=len(tr_t), from_test_split=len(te_t),
                    dropped={"train_indices": tr_drop, "test_split": te_drop, "val_indices": va_drop})


def _check_counts(rows: Prepared, want: dict) -> None:
    """The row counts must be the manifest's dims: the teacher logits are aligned with exactly those rows."""
    problems = []
    if want["n_train_test"] is not None and len(rows.texts) != want["n_train_test"]:
        problems.append(f"{thousands(len(rows.texts))} train+test rows ({thousands(rows.from_train_indices)} at "
                        f"train_indices.json + {thousands(rows.from_test_split)} of the test split), expected "
                        f"{thousands(want['n_train_test'])} (dims.n_train_test)")
    if want["n_val"] is not None and len(rows.val_texts) != want["n_val"]:
        problems.append(f"{thousands(len(rows.val_texts))} validation rows, expected {thousands(want['n_val'])} "
                        f"(dims.n_val)")
    if not problems:
        return
    dropped, why = rows.all_dropped(), ""
    if dropped:
        top = ", ".join(f"{k!r} ({thousands(v)} rows)" for k, v in dropped.most_common(5))
        why = (f" {thousands(sum(dropped.values()))} row(s) were dropped because their label after "
               f"label_merge_mapping.json is not in label_list.json (the course drops its rarest classes "
               f"this way, so some are expected): {top}" + (", ..." if len(dropped) > 5 else "") + ".")
    raise PrepareError(
        "--split-dir: the canonical split gives " + "; ".join(problems) + " in data_manifest.yaml." + why
        + f" The teacher logits are aligned with exactly the course's rows, so this cannot train. To fix: "
        f"use the four split files from one commit of the course repository ({COURSE_DATA_URL}) and the "
        f"dataset revision the course used; if the course changed its split on purpose, update dims in "
        f"data_manifest.yaml together with new teacher logits.")


def _check_teacher(teacher: tuple[str, tuple[int, ...], str] | None, n_rows: int, n_classes: int) -> None:
    if teacher is None:
        return
    path, shape, _ = teacher
    if shape[0] != n_rows or (len(shape) > 1 and shape[1] != n_classes):
        raise PrepareError(
            f"--teacher-logits: {path} holds logits of shape {shape}; expected ({thousands(n_rows)}, "
            f"{n_classes}): one row per prepared train+test row, in the same order, one column per label in "
            f"label_list.json. It belongs to another split or dataset: use the course's file "
            f"(`--teacher-logits hub`, i.e. teacher_train_test in data_manifest.yaml) or recompute it on "
            f"train_test.jsonl.")


def _write_folder(out_dir: Path, rows: Prepared, names: list[str], tier_of: np.ndarray) -> None:
    """The three data files; any card of an earlier run is removed first (no card while half-written)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / CARD).unlink(missing_ok=True)
    _write_jsonl(out_dir / "train_test.jsonl", rows.texts, rows.y, names, tier_of)
    _write_jsonl(out_dir / "val.jsonl", rows.val_texts, rows.val_y, names, tier_of)
    _write_json(out_dir / "label_list.json", names)


def _card(ds: DatasetFiles, download: tuple[str, dict, dict], n_rows: dict[str, int], split_dir, split: dict,
          rows: Prepared, names: list[str], tier_of: np.ndarray, want: dict, teacher, out_dir: Path) -> dict:
    """prepare_card.json: the inputs (dataset commit and files, split files) by hash, the counts, the outputs."""
    commit, paths, matched = download
    dropped = rows.all_dropped()
    counts = np.bincount(rows.y, minlength=len(names))
    card = {
        "what": "python -m helpers train prepare: the course dataset with the canonical split, ready for "
                "`python -m helpers train --data course --prepared <this folder>`",
        "dataset": {"name": DATASET, "repo_id": ds.repo_id, "repo_type": ds.repo_type, "revision": ds.revision,
                    "commit": commit, "text_column": ds.text_column, "label_column": ds.label_column,
                    "files": {s: [{"path": f, "sha256": sha256_of(p), "size": os.path.getsize(p)}
                                  for f, p in zip(matched[s], paths[s])] for s in ("train", "test")},
                    "rows": n_rows},
        "split_files": {"dir": str(Path(split_dir).resolve()), "sha256": split["sha256"]},
        "counts": {"train_test": len(rows.texts), "from_train_indices": rows.from_train_indices,
                   "from_test_split": rows.from_test_split, "val": len(rows.val_texts), "n_classes": len(names),
                   "dropped": {k: sum(v.values()) for k, v in rows.dropped.items()},
                   "dropped_labels": {str(k): v for k, v in dropped.most_common()}},
        "expected": want,
        "tiers": {t: int((tier_of == t).sum()) for t in TIERS},
        "classes_without_training_rows": [names[i] for i in np.flatnonzero(counts == 0)],
        "teacher_logits": None if teacher is None else {"path": teacher[0], "shape": list(teacher[1]),
                                                        "sha256": teacher[2]},
        "outputs": {name: {"sha256": sha256_of(out_dir / name)} for name in OUTPUT_FILES},
    }
    card["outputs"]["train_test.jsonl"]["rows"] = len(rows.texts)
    card["outputs"]["val.jsonl"]["rows"] = len(rows.val_texts)
    return card


def prepare(split_dir: str | os.PathLike, out: str | os.PathLike = DEFAULT_OUT, *, source: str = "hub",
            manifest: Manifest | str | os.PathLike | None = None, teacher_logits: str | None = None,
            log: Callable[[str], object] = print) -> dict:
    """Build the prepared folder; returns the card (also written to ``out/prepare_card.json``).

    Every input is checked before the download where it can be (manifest, split files,
    teacher file), so a mistake costs nothing; then download, select, check the counts,
    write the data files and, last, the card.
    """
    t0 = time.perf_counter()
    if source != "hub":
        raise PrepareError(f"--source: expected 'hub', got {source!r}.")
    m, ds = _dataset_section(manifest)
    want = {k: m.dims.get(k) for k in ("n_train_test", "n_val", "n_classes")}
    split = read_split_files(split_dir)
    names = split["labels"]
    _check_label_count(names, want)
    teacher = None if teacher_logits is None else _teacher_rows(teacher_logits, m)

    log(f"[prepare] {ds.repo_id} at {ds.revision}: listing and downloading {dict(ds.files)}")
    download = download_dataset(ds)
    commit = download[0]
    data = {s: read_parquet(download[1][s], ds, s) for s in ("train", "test")}
    n_rows = {s: len(data[s][0]) for s in ("train", "test")}
    log(f"[prepare] commit {commit}: train split {thousands(n_rows['train'])} rows, "
        f"test split {thousands(n_rows['test'])} rows")
    _check_indices(split, n_rows["train"], commit)
    rows = _assemble(split, data, names)
    _check_counts(rows, want)
    _check_teacher(teacher, len(rows.texts), len(names))

    tier_of = assign_tiers(rows.y, len(names))
    out_dir = Path(out)
    _write_folder(out_dir, rows, names, tier_of)
    card = _card(ds, download, n_rows, split_dir, split, rows, names, tier_of, want, teacher, out_dir)
    card["seconds"] = round(time.perf_counter() - t0, 2)
    _write_json(out_dir / CARD, card)
    log(f"[prepare] wrote {out_dir}: {thousands(len(rows.texts))} train+test rows, {thousands(len(rows.val_texts))} "
        f"val rows, {len(names)} classes (tiers {card['tiers']}); dropped {thousands(sum(rows.all_dropped().values()))}"
        f" row(s) whose label is not in label_list.json")
    if not is_commit(ds.revision):
        log(f"[prepare] datasets.{DATASET}.revision is {ds.revision!r}; to pin it, set it to {commit} in "
            f"data_manifest.yaml")
    return card


# ----------------------------------------------------------------------------- command line
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m helpers train prepare",
        description="Download the course dataset from the Hub (datasets.course_dataset in data_manifest.yaml), "
                    "apply the canonical split and label merge, and write train_test.jsonl, val.jsonl, "
                    "label_list.json and prepare_card.json for `python -m helpers train --data course`.")
    p.add_argument("--split-dir", required=True,
                   help=f"folder with {', '.join(SPLIT_FILES)} (the course repository's data/ folder)")
    p.add_argument("--out", default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    p.add_argument("--source", default="hub", choices=("hub",), help="where the dataset comes from (default hub)")
    p.add_argument("--teacher-logits", help="also check the row count of this teacher npz (a path, or `hub` for "
                                            "teacher_train_test from the manifest)")
    p.add_argument("--manifest", help="path to data_manifest.yaml (default: $COURSE_MANIFEST or the repo root)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        prepare(args.split_dir, args.out, source=args.source, manifest=args.manifest,
                teacher_logits=args.teacher_logits)
    except (DataError, HubError) as err:  # each names the input or the Hub call, and the fix
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
