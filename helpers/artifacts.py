"""Validated prediction sets, from the Hugging Face Hub or the embedded synthetic copy.

    >>> from helpers.artifacts import load
    >>> vanilla = load("vanilla")          # source="auto"
    >>> vanilla.logits.shape, vanilla.source
    ((6430, 113), 'hub')

Sources
-------
``"hub"``        the file named in ``data_manifest.yaml``, downloaded with
                 ``huggingface_hub`` into its cache (pinned revision,
                 ``HF_HUB_OFFLINE`` respected), retried with exponential backoff
                 on transient failures, then checked against the manifest's
                 size and sha256 (hashed here: the download itself checks size only).
``"synthetic"``  the embedded course data that ``helpers.synthetic`` generates
                 deterministically in the same schema, cached under
                 ``<cache>/synthetic/<name>.npz``.
``"auto"``       the Hub when it is configured and reachable (or the file is
                 already cached), else synthetic.  Chosen once per process and
                 announced once, so a notebook never mixes real and synthetic
                 arms; ``PredictionSet.source`` records the choice so that
                 tables and plots can say "SYNTHETIC DATA".
                 ``$COURSE_DATA_SOURCE=hub|synthetic`` overrides the choice.

Cache: ``$COURSE_CACHE``, else ``~/.cache/ecbs-week6`` (the notebooks point it
at ``/kaggle/working`` on Kaggle).  Hub files stay in the Hub's own cache
(``$HF_HUB_CACHE`` / ``$HF_HOME``).

Every failure raises ``ArtifactError`` (a ``ValueError``) whose message says
what went wrong and what to run next; nothing escapes as a raw numpy, zipfile
or HTTP traceback.  A file that fails its checksum, or cannot be read as an
npz, is moved out of the cache (to ``<cache>/quarantine/``) so that it is
never served again.

This module is the entry point: ``load``, ``PredictionSet`` and the choice of
the ``auto`` source.  The plumbing is the ``helpers.data`` package: Hub access
in ``helpers.data.hub``, checksums and quarantine in ``helpers.data.integrity``,
npz reading and schema validation in ``helpers.data.validation``, the
synthetic copy (written atomically, under a lock) in ``helpers.data.cache``;
their public names are re-exported here.
"""
from __future__ import annotations

import functools
import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers.course import SOURCE_ENV
from helpers.data import (
    ArtifactError,
    Entry,
    Manifest,
    cached_hub_path,
    fetch,
    load_manifest,
    offline,
    read_arrays,
    summary,
    synthetic_path,
)
from helpers.data.hub import head
from helpers.data.settings import DEFAULT_ENDPOINT, endpoint

# What students and notebooks use; the data plumbing's own names live in ``helpers.data``.
__all__ = ["ArtifactError", "PredictionSet", "SyntheticDataWarning", "load", "auto_source", "reset_auto_source",
           "SOURCES", "SOURCE_ENV"]

SOURCES = ("auto", "hub", "synthetic")


class SyntheticDataWarning(UserWarning):
    """Emitted once when ``source="auto"`` falls back to the embedded synthetic data."""


# --------------------------------------------------------------------------- result
@dataclass(eq=False)
class PredictionSet:
    """One model's predictions, validated against the manifest's schema.

    ``logits`` float32 (n, n_classes); ``labels`` and ``preds`` int64 (n,);
    ``tiers`` str (n,).  ``preds`` is the argmax of the logits when the file has
    none (``teacher_val``).  ``teacher_train_test`` holds logits only: its
    ``labels``, ``tiers`` and ``preds`` are None.  ``source`` is ``"hub"`` or
    ``"synthetic"``.
    """

    name: str
    source: str
    logits: np.ndarray
    labels: np.ndarray | None
    tiers: np.ndarray | None
    preds: np.ndarray | None
    path: Path | None = None
    revision: str | None = None

    @functools.cached_property
    def probs(self) -> np.ndarray:
        """Softmax of the logits (float64), computed once."""
        from helpers.metrics import softmax  # metrics pulls in pandas: pay only when asked

        return softmax(self.logits)

    @property
    def n_classes(self) -> int:
        return int(self.logits.shape[1])

    @property
    def synthetic(self) -> bool:
        return self.source == "synthetic"

    @property
    def label(self) -> str:
        """Name for tables and legends; synthetic data says so."""
        return f"{self.name} (SYNTHETIC)" if self.synthetic else self.name

    def __len__(self) -> int:
        return int(self.logits.shape[0])

    def __repr__(self) -> str:
        return (f"PredictionSet(name={self.name!r}, source={self.source!r}, n={len(self)}, "
                f"n_classes={self.n_classes}, path={str(self.path) if self.path else None!r})")


# --------------------------------------------------------------------------- entry point
def load(name: str, source: str = "auto", *, manifest: Manifest | str | os.PathLike | None = None,
         cache: str | os.PathLike | None = None) -> PredictionSet:
    """Load one artifact of ``data_manifest.yaml`` as a validated ``PredictionSet``.

    Parameters
    ----------
    name : str
        Manifest entry: ``teacher_val``, ``teacher_train_test``, ``vanilla``,
        ``distilled`` or ``grid_Td{T}_a{100*alpha}``.
    source : {"auto", "hub", "synthetic"}
        Where the arrays come from (see the module docstring).
    manifest : Manifest or path, optional
        Defaults to ``$COURSE_MANIFEST`` or the repository's ``data_manifest.yaml``.
    cache : path, optional
        Course cache (synthetic copies, quarantine); defaults to ``$COURSE_CACHE``.
    """
    if source not in SOURCES:
        raise ArtifactError(f"source must be one of {list(SOURCES)}, got {source!r}.")
    if not isinstance(name, str):
        raise ArtifactError(f"name must be a str (a manifest entry), got {type(name).__name__}.")
    man = manifest if isinstance(manifest, Manifest) else load_manifest(manifest)
    entry = man.entry(name)
    chosen = _choose_source(entry, man) if source == "auto" else source

    if chosen == "hub":
        path = fetch(entry, cache=cache)
        arrays = read_arrays(path, entry, man, origin="hub", trusted=entry.sha256 is not None, cache=cache)
        revision = entry.revision
    else:
        path = synthetic_path(name, cache)
        arrays = read_arrays(path, entry, man, origin="synthetic", trusted=True, cache=cache)
        revision = None

    logits = arrays["logits"]
    preds = arrays.get("preds")
    if preds is None and "labels" in arrays:
        preds = logits.argmax(axis=1).astype(np.int64)
    return PredictionSet(name=name, source=chosen, logits=logits, labels=arrays.get("labels"),
                         tiers=arrays.get("tiers"), preds=preds, path=path, revision=revision)


# --------------------------------------------------------------------------- auto: choose once
_AUTO: dict[str, str] = {}  # {"source": ..., "reason": ...} once decided


def _choose_source(entry: Entry, manifest: Manifest) -> str:
    if "source" in _AUTO:
        return _AUTO["source"]
    forced = os.environ.get(SOURCE_ENV, "").strip().lower()
    if forced:
        if forced not in ("hub", "synthetic"):
            raise ArtifactError(f"${SOURCE_ENV} must be 'hub' or 'synthetic' (or unset), got {forced!r}.")
        choice, reason = forced, f"${SOURCE_ENV}={forced}"
    else:
        choice, reason = _probe(entry, manifest)
    _AUTO.update(source=choice, reason=reason)
    _announce(choice, reason)
    return choice


def reset_auto_source() -> None:
    """Forget the process-wide ``auto`` choice (tests; or after going online)."""
    _AUTO.clear()


def auto_source() -> str | None:
    """What ``source="auto"`` resolved to in this process, or None if not yet decided."""
    return _AUTO.get("source")


def _probe(entry: Entry, manifest: Manifest) -> tuple[str, str]:
    """Hub if it answers a quick HEAD, or if every notebook artifact is cached; else synthetic."""
    # "hub" must hold for the whole notebook, not just this first file.
    wanted = [e for e in manifest.entries.values() if set(e.used_by) & {"lab", "homework"}] or [entry]
    missing = [e.name for e in wanted if cached_hub_path(e) is None]
    if offline():
        if not missing:
            return "hub", "offline, from the Hub cache"
        return "synthetic", (f"HF_HUB_OFFLINE is set and {len(missing)} of the notebook artifacts are not "
                             f"in the Hub cache (e.g. {missing[0]})")
    try:
        head(entry)
    except Exception as err:  # any failure to reach the file means: use what is cached, else the embedded copy
        if not missing:
            return "hub", f"the Hub did not answer ({summary(err)}), but every notebook artifact is cached"
        return "synthetic", f"the Hub did not answer for {entry.repo_id} ({summary(err)})"
    return "hub", f"{endpoint() or DEFAULT_ENDPOINT} answered for {entry.repo_id}"


def _announce(choice: str, reason: str) -> None:
    if choice == "synthetic":
        msg = ("USING SYNTHETIC COURSE DATA: " + reason + ". Every table and figure is computed from "
               "the embedded synthetic copy (same schema, numbers near the published ones), not "
               "the real model outputs. For the real data go online and run "
               "`python -m helpers data fetch`, then restart the kernel.")
        # One loud warning (shown in notebooks as a highlighted stderr block);
        # callers that silence warnings still see the source in every title.
        warnings.warn(msg, SyntheticDataWarning, stacklevel=4)
    else:
        print(f"[helpers.artifacts] Using the course artifacts from the Hugging Face Hub ({reason}).",
              file=sys.stderr)
