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

The split files are read by ``split_files``; the Hub is reached through
``helpers.data`` (its retry policy, error kinds and hashing) and
``snapshot_download``, which also finds the files again offline; the folder
is read back by ``course_data.course_config``.
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

from helpers.course import TIERS
from helpers.data import (
    ArtifactError,
    DatasetFiles,
    Manifest,
    classify,
    endpoint,
    fetch,
    hf_cache,
    is_commit,
    load_manifest,
    offline,
    retrying,
    sha256_of,
    summary,
)
from helpers.fileio import atomic_write, atomic_write_text

from .course_data import CARD, DEFAULT_OUT, OUTPUT_FILES, TEACHER_ENTRY
from .data import assign_tiers
from .errors import DataError, PrepareError
from .split_files import COURSE_DATA_URL, GET_SPLIT_FILES, SPLIT_FILES, examples, read_split_files, thousands

__all__ = ["PrepareError", "prepare", "read_split_files", "main", "SPLIT_FILES", "DEFAULT_OUT", "OUTPUT_FILES"]

DATASET = "course_dataset"
_RETRIES = 2  # after the first attempt: a TA at a terminal would rather rerun than wait a minute


# ----------------------------------------------------------------------------- the dataset files
def _hub_error(ds: DatasetFiles, what: str, err: BaseException) -> PrepareError:
    kind = classify(err)
    where = f"{ds.repo_type} {ds.repo_id} at revision {ds.revision!r}"
    hub = endpoint() or "https://huggingface.co"
    if kind == "missing":
        fix = (f"check repo_id, repo_type and revision of datasets.{ds.name} in data_manifest.yaml (a pinned "
               f"revision must be a commit of that repository); if it is gated, log in (`hf auth login`).")
    elif kind == "offline":
        fix = "go online: unset HF_HUB_OFFLINE (the Makefile sets it to 1) and run the command again."
    else:
        fix = "check the connection and run the command again; files already downloaded are kept."
    return PrepareError(f"--source hub: could not {what} {where} from {hub}: {summary(err).rstrip('.')}. "
                        f"To fix: {fix}")


def _retrying(fn, ds: DatasetFiles, what: str):
    """``fn()`` with the Hub layer's retry policy; failures become a PrepareError naming the fix."""
    return retrying(fn, subject=what, retries=_RETRIES, prefix="[prepare]",
                    fail=lambda kind, err, attempts: _hub_error(ds, what, err))


def _match(ds, names, commit) -> dict[str, list[str]]:
    matched = {}
    for split, pattern in ds.files.items():
        hits = sorted(n for n in names if fnmatch.fnmatchcase(n, pattern))
        if not hits:
            shown = sorted(n for n in names if not n.startswith("."))[:8]
            raise PrepareError(
                f"datasets.{ds.name}.files.{split} in data_manifest.yaml: no file of {ds.repo_id} at commit "
                f"{commit[:12]} matches {pattern!r}; the repository has {examples(shown, 8) or 'no files'}. "
                f"Fix the pattern (or the revision) in data_manifest.yaml.")
        matched[split] = hits
    return matched


def _download(ds: DatasetFiles) -> tuple[str, dict[str, list[Path]], dict[str, list[str]]]:
    """(commit, split -> local paths, split -> repo paths) for the dataset's files at its revision.

    Online: one listing of the repository at the revision (to match the
    patterns, or to say which files exist when one matches nothing), then
    ``snapshot_download`` of exactly the matched files, which also records the
    branch's commit in the Hub cache.  Offline: ``snapshot_download`` with
    ``local_files_only`` finds that snapshot again.
    """
    from huggingface_hub import HfApi, snapshot_download

    repo = {"repo_id": ds.repo_id, "repo_type": ds.repo_type, "cache_dir": hf_cache()}
    if offline():
        try:
            folder = Path(snapshot_download(revision=ds.revision, local_files_only=True,
                                            allow_patterns=sorted(ds.files.values()), **repo))
        except Exception as err:  # LocalEntryNotFoundError: no snapshot of that revision in the cache
            from huggingface_hub import constants

            raise PrepareError(f"--source hub: offline mode is on (HF_HUB_OFFLINE=1) and {ds.repo_id} at revision "
                               f"{ds.revision!r} is not in the Hub cache ({hf_cache() or constants.HF_HUB_CACHE}; "
                               f"{summary(err)}). To fix: unset HF_HUB_OFFLINE (the Makefile sets it to 1) and run "
                               f"the command again online once.") from None
        names = [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()]
        matched = _match(ds, names, folder.name)
        return folder.name, {s: [folder / f for f in fs] for s, fs in matched.items()}, matched

    api = HfApi(endpoint=endpoint())
    info = _retrying(lambda: api.repo_info(ds.repo_id, repo_type=ds.repo_type, revision=ds.revision),
                     ds, "list the files of")
    matched = _match(ds, [s.rfilename for s in (info.siblings or [])], info.sha)
    wanted = sorted({f for files in matched.values() for f in files})
    folder = Path(_retrying(lambda: snapshot_download(revision=ds.revision, allow_patterns=wanted,
                                                      endpoint=endpoint(), **repo), ds, "download"))
    if folder.name != info.sha:
        raise PrepareError(f"--source hub: {ds.repo_id} at revision {ds.revision!r} moved from commit "
                           f"{info.sha[:12]} to {folder.name[:12]} during the download. To fix: run the command "
                           f"again (or pin datasets.{ds.name}.revision to a commit in data_manifest.yaml).")
    return info.sha, {s: [folder / f for f in fs] for s, fs in matched.items()}, matched


def _read_parquet(paths, ds, split) -> tuple[list, list]:
    try:
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - pyarrow is in the train extra
        raise PrepareError("reading the dataset needs pyarrow: pip install -e \".[train]\"") from None
    texts, labels = [], []
    for path in paths:
        columns = pq.read_schema(path).names
        missing = [c for c in (ds.text_column, ds.label_column) if c not in columns]
        if missing:
            raise PrepareError(f"datasets.{ds.name} in data_manifest.yaml: the {split} file {Path(path).name} has no "
                               f"column(s) {missing}; its columns are {columns}. Fix text_column/label_column.")
        table = pq.read_table(path, columns=[ds.text_column, ds.label_column])
        texts += table.column(ds.text_column).to_pylist()
        labels += table.column(ds.label_column).to_pylist()
    return texts, labels


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


def prepare(split_dir: str | os.PathLike, out: str | os.PathLike = DEFAULT_OUT, *, source: str = "hub",
            manifest: Manifest | str | os.PathLike | None = None, teacher_logits: str | None = None,
            log: Callable[[str], object] = print) -> dict:
    """Build the prepared folder; returns the card (also written to ``out/prepare_card.json``)."""
    t0 = time.perf_counter()
    if source != "hub":
        raise PrepareError(f"--source: expected 'hub', got {source!r}.")
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
    want = {"n_train_test": m.dims.get("n_train_test"), "n_val": m.dims.get("n_val"),
            "n_classes": m.dims.get("n_classes")}

    split = read_split_files(split_dir)  # before any download: a missing file costs nothing
    names = split["labels"]
    if want["n_classes"] is not None and len(names) != want["n_classes"]:
        raise PrepareError(f"--split-dir: label_list.json has {thousands(len(names))} labels; expected "
                           f"{thousands(want['n_classes'])} (dims.n_classes in data_manifest.yaml, the teacher's "
                           f"columns). Use the label_list.json of the course repository. " + GET_SPLIT_FILES)
    teacher = None
    if teacher_logits is not None:  # read it up front: a wrong file fails before the download
        teacher = _teacher_rows(teacher_logits, m)

    log(f"[prepare] {ds.repo_id} at {ds.revision}: listing and downloading {dict(ds.files)}")
    commit, paths, matched = _download(ds)
    data = {s: _read_parquet(paths[s], ds, s) for s in ("train", "test")}
    n_train_rows, n_test_rows = len(data["train"][0]), len(data["test"][0])
    log(f"[prepare] commit {commit}: train split {thousands(n_train_rows)} rows, "
        f"test split {thousands(n_test_rows)} rows")

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

    index = {label: i for i, label in enumerate(names)}
    merge = split["merge"]
    tr_t, tr_y, tr_drop = _pick(split["train"], *data["train"], merge, index)
    te_t, te_y, te_drop = _pick(range(n_test_rows), *data["test"], merge, index)
    va_t, va_y, va_drop = _pick(split["val"], *data["train"], merge, index)
    texts, y = tr_t + te_t, np.concatenate([tr_y, te_y])
    dropped = tr_drop + te_drop + va_drop

    problems = []
    if want["n_train_test"] is not None and len(texts) != want["n_train_test"]:
        problems.append(f"{thousands(len(texts))} train+test rows ({thousands(len(tr_t))} at train_indices.json + "
                        f"{thousands(len(te_t))} of the test split), expected {thousands(want['n_train_test'])} "
                        f"(dims.n_train_test)")
    if want["n_val"] is not None and len(va_t) != want["n_val"]:
        problems.append(f"{thousands(len(va_t))} validation rows, expected {thousands(want['n_val'])} (dims.n_val)")
    if problems:
        why = ""
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
    if teacher is not None and (teacher[1][0] != len(texts) or (len(teacher[1]) > 1 and teacher[1][1] != len(names))):
        raise PrepareError(
            f"--teacher-logits: {teacher[0]} holds logits of shape {teacher[1]}; expected ({thousands(len(texts))}, "
            f"{len(names)}): one row per prepared train+test row, in the same order, one column per label in "
            f"label_list.json. It belongs to another split or dataset: use the course's file "
            f"(`--teacher-logits hub`, i.e. teacher_train_test in data_manifest.yaml) or recompute it on "
            f"train_test.jsonl.")

    tier_of = assign_tiers(y, len(names))
    counts = np.bincount(y, minlength=len(names))
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / CARD).unlink(missing_ok=True)  # no card while the folder is half-written
    _write_jsonl(out_dir / "train_test.jsonl", texts, y, names, tier_of)
    _write_jsonl(out_dir / "val.jsonl", va_t, va_y, names, tier_of)
    _write_json(out_dir / "label_list.json", names)

    card = {
        "what": "python -m helpers train prepare: the course dataset with the canonical split, ready for "
                "`python -m helpers train --data course --prepared <this folder>`",
        "dataset": {"name": DATASET, "repo_id": ds.repo_id, "repo_type": ds.repo_type, "revision": ds.revision,
                    "commit": commit, "text_column": ds.text_column, "label_column": ds.label_column,
                    "files": {s: [{"path": f, "sha256": sha256_of(p), "size": os.path.getsize(p)}
                                  for f, p in zip(matched[s], paths[s])] for s in ("train", "test")},
                    "rows": {"train": n_train_rows, "test": n_test_rows}},
        "split_files": {"dir": str(Path(split_dir).resolve()), "sha256": split["sha256"]},
        "counts": {"train_test": len(texts), "from_train_indices": len(tr_t), "from_test_split": len(te_t),
                   "val": len(va_t), "n_classes": len(names),
                   "dropped": {"train_indices": sum(tr_drop.values()), "test_split": sum(te_drop.values()),
                               "val_indices": sum(va_drop.values())},
                   "dropped_labels": {str(k): v for k, v in dropped.most_common()}},
        "expected": want,
        "tiers": {t: int((tier_of == t).sum()) for t in TIERS},
        "classes_without_training_rows": [names[i] for i in np.flatnonzero(counts == 0)],
        "teacher_logits": None if teacher is None else {"path": teacher[0], "shape": list(teacher[1]),
                                                        "sha256": teacher[2]},
        "outputs": {name: {"sha256": sha256_of(out_dir / name)} for name in OUTPUT_FILES},
        "seconds": round(time.perf_counter() - t0, 2),
    }
    card["outputs"]["train_test.jsonl"]["rows"] = len(texts)
    card["outputs"]["val.jsonl"]["rows"] = len(va_t)
    _write_json(out_dir / CARD, card)
    log(f"[prepare] wrote {out_dir}: {thousands(len(texts))} train+test rows, {thousands(len(va_t))} val rows, "
        f"{len(names)} classes (tiers {card['tiers']}); dropped {thousands(sum(dropped.values()))} row(s) whose label "
        f"is not in label_list.json")
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
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
