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
"""
from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from .data import DataError, assign_tiers

__all__ = ["PrepareError", "prepare", "read_split_files", "course_config", "main", "SPLIT_FILES",
           "DEFAULT_OUT", "OUTPUT_FILES"]

SPLIT_FILES = ("train_indices.json", "val_indices.json", "label_merge_mapping.json", "label_list.json")
OUTPUT_FILES = ("train_test.jsonl", "val.jsonl", "label_list.json")
CARD = "prepare_card.json"
DEFAULT_OUT = "out/course_data"
DATASET = "course_dataset"
COURSE_DATA_URL = "https://github.com/earino/applied-deep-learning/tree/main/data"
_GET_SPLIT_FILES = (f"Download them from the course's GitHub repository ({COURSE_DATA_URL}), e.g. "
                    f"`git clone --depth 1 https://github.com/earino/applied-deep-learning` and pass "
                    f"--split-dir applied-deep-learning/data.")
_ATTEMPTS = 3


class PrepareError(DataError):
    """The course data cannot be prepared as given; the message names the input, what was expected and the fix."""


def _sha256_file(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _n(x: int) -> str:
    return f"{x:,}"


def _examples(values, k=3) -> str:
    return ", ".join(repr(v) for v in list(values)[:k])


# ----------------------------------------------------------------------------- the split files
def read_split_files(split_dir) -> dict:
    """The four canonical split files, parsed and checked on their own (no dataset needed)."""
    folder = Path(split_dir)
    if not folder.is_dir():
        raise PrepareError(f"--split-dir: no such folder {str(folder)!r}; expected a folder holding "
                           f"{', '.join(SPLIT_FILES)}. " + _GET_SPLIT_FILES)
    missing = [name for name in SPLIT_FILES if not (folder / name).is_file()]
    if missing:
        raise PrepareError(f"--split-dir: {folder} is missing {', '.join(missing)} (expected all four: "
                           f"{', '.join(SPLIT_FILES)}). " + _GET_SPLIT_FILES)
    raw = {}
    for name in SPLIT_FILES:
        try:
            raw[name] = json.loads((folder / name).read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise PrepareError(f"--split-dir: {folder / name} is not valid JSON ({err}). "
                               + _GET_SPLIT_FILES) from None

    out = {"dir": folder, "sha256": {name: _sha256_file(folder / name) for name in SPLIT_FILES}}
    for name, key in (("train_indices.json", "train"), ("val_indices.json", "val")):
        idx = raw[name]
        if not (isinstance(idx, list) and idx and all(isinstance(i, int) and not isinstance(i, bool) for i in idx)):
            raise PrepareError(f"--split-dir: {name} must be a non-empty JSON list of row indices (integers), "
                               f"got {type(idx).__name__}"
                               + (f" starting {_examples(idx)}" if isinstance(idx, list) else "") + ". "
                               + _GET_SPLIT_FILES)
        arr = np.asarray(idx, dtype=np.int64)
        if arr.min() < 0:
            raise PrepareError(f"--split-dir: {name} holds negative indices, e.g. {_examples(arr[arr < 0])}; "
                               f"expected row indices into the dataset's train split (0 or more). "
                               + _GET_SPLIT_FILES)
        uniq, counts = np.unique(arr, return_counts=True)
        if (counts > 1).any():
            dup = uniq[counts > 1]
            raise PrepareError(f"--split-dir: {name} lists {_n(dup.size)} row(s) more than once, e.g. "
                               f"{_examples(dup.tolist())}; expected each row at most once. " + _GET_SPLIT_FILES)
        out[key] = arr
    both = np.intersect1d(out["train"], out["val"])
    if both.size:
        raise PrepareError(f"--split-dir: {_n(both.size)} row(s) are in both train_indices.json and "
                           f"val_indices.json, e.g. {_examples(both.tolist())}; validation rows must never be "
                           f"trained on. Use the two files from the same commit of the course repository. "
                           + _GET_SPLIT_FILES)

    mapping = raw["label_merge_mapping.json"]
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for k, v in mapping.items()
                                                if not str(k).startswith("_")):
        raise PrepareError("--split-dir: label_merge_mapping.json must be a JSON object of old label -> "
                           f"canonical label (strings), got {type(mapping).__name__}. " + _GET_SPLIT_FILES)
    out["merge"] = {k: v for k, v in mapping.items() if not str(k).startswith("_")}  # "_..." keys: comments

    labels = raw["label_list.json"]
    if not (isinstance(labels, list) and labels and all(isinstance(x, str) for x in labels)):
        raise PrepareError("--split-dir: label_list.json must be a non-empty JSON list of label names "
                           f"(strings, in class-id order), got {type(labels).__name__}. " + _GET_SPLIT_FILES)
    dup = [x for x, c in Counter(labels).items() if c > 1]
    if dup:
        raise PrepareError(f"--split-dir: label_list.json names {_examples(dup)} more than once; each class "
                           f"must appear once. " + _GET_SPLIT_FILES)
    out["labels"] = labels
    return out


# ----------------------------------------------------------------------------- the dataset files
def _hub_error(ds, what: str, err: BaseException) -> PrepareError:
    from helpers.data import errors, settings

    kind = errors.classify(err)
    where = f"{ds.repo_type} {ds.repo_id} at revision {ds.revision!r}"
    endpoint = settings.endpoint() or "https://huggingface.co"
    if kind == "missing":
        fix = (f"check repo_id, repo_type and revision of datasets.{ds.name} in data_manifest.yaml (a pinned "
               f"revision must be a commit of that repository); if it is gated, log in (`hf auth login`).")
    elif kind == "offline":
        fix = "go online: unset HF_HUB_OFFLINE (the Makefile sets it to 1) and run the command again."
    else:
        fix = "check the connection and run the command again; files already downloaded are kept."
    return PrepareError(f"--source hub: could not {what} {where} from {endpoint}: "
                        f"{errors.summary(err).rstrip('.')}. "
                        f"To fix: {fix}")


def _retrying(fn, ds, what):
    from helpers.data import errors, hub

    for attempt in range(_ATTEMPTS):
        try:
            return fn()
        except Exception as err:  # classified: only transient failures are retried
            if errors.classify(err) != "transient" or attempt == _ATTEMPTS - 1:
                raise _hub_error(ds, what, err) from None
            wait = min(hub.BACKOFF_MAX_S, hub.BACKOFF_S * 2 ** attempt)
            print(f"[prepare] {what}: {errors.summary(err)}; retry {attempt + 1}/{_ATTEMPTS - 1} in {wait:g}s",
                  file=sys.stderr)
            hub.sleep(wait)


def _match(ds, names, commit) -> dict[str, list[str]]:
    matched = {}
    for split, pattern in ds.files.items():
        hits = sorted(n for n in names if fnmatch.fnmatchcase(n, pattern))
        if not hits:
            shown = sorted(n for n in names if not n.startswith("."))[:8]
            raise PrepareError(
                f"datasets.{ds.name}.files.{split} in data_manifest.yaml: no file of {ds.repo_id} at commit "
                f"{commit[:12]} matches {pattern!r}; the repository has {_examples(shown, 8) or 'no files'}. "
                f"Fix the pattern (or the revision) in data_manifest.yaml.")
        matched[split] = hits
    return matched


def _download(ds) -> tuple[str, dict[str, list[Path]], dict[str, list[str]]]:
    """(commit, split -> local paths, split -> repo paths) for the dataset's files at its revision."""
    from helpers.data import settings

    cache = settings.hf_cache()
    if settings.offline():
        return _from_cache(ds, cache)
    from huggingface_hub import HfApi, hf_hub_download

    endpoint = settings.endpoint()
    info = _retrying(lambda: HfApi(endpoint=endpoint).repo_info(ds.repo_id, repo_type=ds.repo_type,
                                                                revision=ds.revision), ds, "list the files of")
    commit = info.sha
    names = [s.rfilename for s in (info.siblings or [])]
    matched = _match(ds, names, commit)
    paths = {}
    for split, files in matched.items():
        paths[split] = [Path(_retrying(
            lambda f=f: hf_hub_download(ds.repo_id, f, repo_type=ds.repo_type, revision=commit,
                                        cache_dir=cache, endpoint=endpoint), ds, f"download {f} of"))
            for f in files]
    if ds.revision != commit:  # as hf_hub_download does for a branch: lets an offline rerun find this commit
        ref = _storage(ds, cache) / "refs" / ds.revision
        ref.parent.mkdir(parents=True, exist_ok=True)
        ref.write_text(commit)
    return commit, paths, matched


def _storage(ds, cache) -> Path:
    from huggingface_hub import constants
    from huggingface_hub.file_download import repo_folder_name

    return Path(cache or constants.HF_HUB_CACHE) / repo_folder_name(repo_id=ds.repo_id, repo_type=ds.repo_type)


def _from_cache(ds, cache) -> tuple[str, dict[str, list[Path]], dict[str, list[str]]]:
    """Offline (HF_HUB_OFFLINE=1): the files from the Hub cache, as an earlier online run left them."""
    storage = _storage(ds, cache)
    commit = ds.revision
    ref = storage / "refs" / ds.revision
    if ref.is_file():
        commit = ref.read_text().strip()
    snapshot = storage / "snapshots" / commit
    if not snapshot.is_dir():
        raise PrepareError(f"--source hub: offline mode is on (HF_HUB_OFFLINE=1) and {ds.repo_id} at revision "
                           f"{ds.revision!r} is not in the Hub cache ({storage}). To fix: unset HF_HUB_OFFLINE "
                           f"(the Makefile sets it to 1) and run the command again online once.")
    names = [p.relative_to(snapshot).as_posix() for p in snapshot.rglob("*") if p.is_file()]
    matched = _match(ds, names, commit)
    return commit, {s: [snapshot / f for f in fs] for s, fs in matched.items()}, matched


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
def _teacher_rows(spec, manifest) -> tuple[str, tuple[int, ...], str]:
    """(path, logits shape, sha256) of the teacher file named by --teacher-logits (a path, or `hub`)."""
    if spec == "hub":
        from helpers.data import hub
        try:
            path = hub.fetch(manifest.entry("teacher_train_test"))
        except Exception as err:
            raise PrepareError(f"--teacher-logits hub: could not fetch teacher_train_test: {err}") from None
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
    return str(path), shape, _sha256_file(path)


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
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for t, y in zip(texts, ids):
            f.write(json.dumps({"text": t, "label": int(y), "label_name": names[y], "tier": str(tiers[y])},
                               ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def _write_json(path: Path, obj) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def prepare(split_dir, out=DEFAULT_OUT, *, source="hub", manifest=None, teacher_logits=None, log=print) -> dict:
    """Build the prepared folder; returns the card (also written to ``out/prepare_card.json``)."""
    from helpers.data.manifest import ArtifactError, load_manifest

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
        raise PrepareError(f"--split-dir: label_list.json has {_n(len(names))} labels; expected "
                           f"{_n(want['n_classes'])} (dims.n_classes in data_manifest.yaml, the teacher's "
                           f"columns). Use the label_list.json of the course repository. " + _GET_SPLIT_FILES)
    teacher = None
    if teacher_logits is not None:  # read it up front: a wrong file fails before the download
        teacher = _teacher_rows(teacher_logits, m)

    log(f"[prepare] {ds.repo_id} at {ds.revision}: listing and downloading {dict(ds.files)}")
    commit, paths, matched = _download(ds)
    data = {s: _read_parquet(paths[s], ds, s) for s in ("train", "test")}
    n_train_rows, n_test_rows = len(data["train"][0]), len(data["test"][0])
    log(f"[prepare] commit {commit}: train split {_n(n_train_rows)} rows, test split {_n(n_test_rows)} rows")

    for key, fname in (("train", "train_indices.json"), ("val", "val_indices.json")):
        bad = split[key][split[key] >= n_train_rows]
        if bad.size:
            raise PrepareError(
                f"--split-dir: {fname} holds {_n(bad.size)} row index(es) past the end of the dataset's train "
                f"split ({_n(n_train_rows)} rows at commit {commit[:12]}, so indices must be "
                f"0..{_n(n_train_rows - 1)}),"
                f" e.g. {_examples(np.unique(bad).tolist())}. The split files and the dataset revision do not belong "
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
        problems.append(f"{_n(len(texts))} train+test rows ({_n(len(tr_t))} at train_indices.json + "
                        f"{_n(len(te_t))} of the test split), expected {_n(want['n_train_test'])} "
                        f"(dims.n_train_test)")
    if want["n_val"] is not None and len(va_t) != want["n_val"]:
        problems.append(f"{_n(len(va_t))} validation rows, expected {_n(want['n_val'])} (dims.n_val)")
    if problems:
        why = ""
        if dropped:
            top = ", ".join(f"{k!r} ({_n(v)} rows)" for k, v in dropped.most_common(5))
            why = (f" {_n(sum(dropped.values()))} row(s) were dropped because their label after "
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
            f"--teacher-logits: {teacher[0]} holds logits of shape {teacher[1]}; expected ({_n(len(texts))}, "
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
                    "files": {s: [{"path": f, "sha256": _sha256_file(p), "size": os.path.getsize(p)}
                                  for f, p in zip(matched[s], paths[s])] for s in ("train", "test")},
                    "rows": {"train": n_train_rows, "test": n_test_rows}},
        "split_files": {"dir": str(Path(split_dir).resolve()), "sha256": split["sha256"]},
        "counts": {"train_test": len(texts), "from_train_indices": len(tr_t), "from_test_split": len(te_t),
                   "val": len(va_t), "n_classes": len(names),
                   "dropped": {"train_indices": sum(tr_drop.values()), "test_split": sum(te_drop.values()),
                               "val_indices": sum(va_drop.values())},
                   "dropped_labels": {str(k): v for k, v in dropped.most_common()}},
        "expected": want,
        "tiers": {t: int((tier_of == t).sum()) for t in ("head", "mid", "tail")},
        "classes_without_training_rows": [names[i] for i in np.flatnonzero(counts == 0)],
        "teacher_logits": None if teacher is None else {"path": teacher[0], "shape": list(teacher[1]),
                                                        "sha256": teacher[2]},
        "outputs": {name: {"sha256": _sha256_file(out_dir / name)} for name in OUTPUT_FILES},
        "seconds": round(time.perf_counter() - t0, 2),
    }
    card["outputs"]["train_test.jsonl"]["rows"] = len(texts)
    card["outputs"]["val.jsonl"]["rows"] = len(va_t)
    _write_json(out_dir / CARD, card)
    log(f"[prepare] wrote {out_dir}: {_n(len(texts))} train+test rows, {_n(len(va_t))} val rows, "
        f"{len(names)} classes (tiers {card['tiers']}); dropped {_n(sum(dropped.values()))} row(s) whose label "
        f"is not in label_list.json")
    if not _is_commit(ds.revision):
        log(f"[prepare] datasets.{DATASET}.revision is {ds.revision!r}; to pin it, set it to {commit} in "
            f"data_manifest.yaml")
    return card


def _is_commit(revision: str) -> bool:
    return len(revision) == 40 and all(c in "0123456789abcdef" for c in revision)


# ----------------------------------------------------------------------------- training from the folder
def course_config(cfg, prepared=None):
    """``--data course``: the TrainConfig reading a prepared folder (checked against its card).

    The text files and label list come from the folder; the teacher logits
    (kd recipe) from the manifest's ``teacher_train_test`` unless
    ``--teacher-logits`` names a file.
    """
    folder = Path(prepared or DEFAULT_OUT)
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
        if not path.is_file() or _sha256_file(path) != want:
            raise DataError(f"--prepared: {path} is {'missing' if not path.is_file() else 'changed'} since "
                            f"`train prepare` wrote it (its sha256 is recorded in {card_path}). To fix: {redo}.")
    teacher = cfg.teacher_logits
    if teacher is None and cfg.recipe == "kd":
        try:
            from helpers.data import hub
            from helpers.data.manifest import load_manifest
            teacher = str(hub.fetch(load_manifest().entry("teacher_train_test")))
        except Exception as err:
            raise DataError(f"--data course: could not fetch the teacher logits (teacher_train_test): {err} "
                            f"Or pass a local copy with --teacher-logits.") from None
    return cfg.replace(data="files", train_file=str(folder / "train_test.jsonl"), val_file=str(folder / "val.jsonl"),
                       label_list=str(folder / "label_list.json"), text_column="text", label_column="label",
                       tier_column="tier", teacher_logits=teacher)


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


def main(argv=None) -> int:
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
