"""The course dataset's files from the Hub, for ``train prepare``: listed, matched, downloaded, read.

``download_dataset`` lists the repository at the manifest's revision once, matches
each split's file pattern (``datasets.course_dataset.files``), and downloads exactly
those files with ``snapshot_download`` (which records the commit in the Hub cache and
finds the snapshot again offline).  Every Hub failure is the data layer's typed
``HubError`` (``helpers.data.errors``) for this dataset, with its retry policy;
``read_parquet`` reads the two columns the manifest names.
"""
from __future__ import annotations

import fnmatch
from pathlib import Path

from helpers.data import DatasetFiles, HubOffline, HubSubject, endpoint, hf_cache, offline, retrying

from .errors import PrepareError
from .split_files import examples

_RETRIES = 2  # after the first attempt: a TA at a terminal would rather rerun than wait a minute


def _retrying(fn, ds: DatasetFiles, what: str):
    """``fn()`` with the Hub layer's retry policy; a failure is raised as its typed ``HubError``."""
    return retrying(fn, subject=HubSubject.of_dataset(ds), what=what, retries=_RETRIES, prefix="[prepare]")


def _match(ds: DatasetFiles, names: list[str], commit: str) -> dict[str, list[str]]:
    """split -> the repository's files matching its pattern; a pattern matching nothing names what exists."""
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


def download_dataset(ds: DatasetFiles) -> tuple[str, dict[str, list[Path]], dict[str, list[str]]]:
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
            raise HubOffline.explain(err, HubSubject.of_dataset(ds), what="download") from None
        names = [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()]
        matched = _match(ds, names, folder.name)
        return folder.name, {s: [folder / f for f in fs] for s, fs in matched.items()}, matched

    api = HfApi(endpoint=endpoint())
    info = _retrying(lambda: api.repo_info(ds.repo_id, repo_type=ds.repo_type, revision=ds.revision),
                     ds, "listing")
    matched = _match(ds, [s.rfilename for s in (info.siblings or [])], info.sha)
    wanted = sorted({f for files in matched.values() for f in files})
    folder = Path(_retrying(lambda: snapshot_download(revision=ds.revision, allow_patterns=wanted,
                                                      endpoint=endpoint(), **repo), ds, "download"))
    if folder.name != info.sha:
        raise PrepareError(f"--source hub: {ds.repo_id} at revision {ds.revision!r} moved from commit "
                           f"{info.sha[:12]} to {folder.name[:12]} during the download. To fix: run the command "
                           f"again (or pin datasets.{ds.name}.revision to a commit in data_manifest.yaml).")
    return info.sha, {s: [folder / f for f in fs] for s, fs in matched.items()}, matched


def read_parquet(paths: list[Path], ds: DatasetFiles, split: str) -> tuple[list, list]:
    """(texts, labels) of one split's parquet files, in file order; the manifest names the two columns."""
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
