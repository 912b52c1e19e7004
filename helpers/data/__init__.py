"""Data plumbing: where the course artifacts are, how they get onto disk, and whether they are right.

The student-facing entry point is :func:`helpers.artifacts.load`; this package
is what it stands on, grouped one job per module:

``manifest``    ``data_manifest.yaml`` read (and re-pinned by ``data lock``) into a ``Manifest``
``schema``      its records (``Entry``, ``ArrayField``, ``DatasetFiles``), validated field by field
``settings``    cache locations, the Hub endpoint and offline mode, read at call time
``hub``         downloads from the Hugging Face Hub: the ``HEAD`` probe, retries with backoff
``errors``      a Hub failure sorted by huggingface_hub's typed errors into a typed ``HubError``
                (``HubOffline``, ``HubMissing``, ``HubTransient``, ``HubFailed``) carrying its message and fix
``integrity``   size and sha256 against the manifest; quarantine for a file that fails
``validation``  an artifact's npz read and checked against the manifest's array schema
``cache``       the synthetic copy in the course cache: atomic files under a lock, regenerated when stale
``synthetic``   the embedded course data, generated deterministically in the same schema
``cli``         ``python -m helpers data {lock,fetch,verify,list}``

Other modules import the names below, never a ``_private`` one.
"""
from __future__ import annotations

from helpers.data.cache import cache_lock, synthetic_dir, synthetic_path
from helpers.data.errors import (
    HubError,
    HubFailed,
    HubMissing,
    HubOffline,
    HubSubject,
    HubTransient,
    classify,
    hub_error,
    summary,
)
from helpers.data.hub import (
    BACKOFF_MAX_S,
    BACKOFF_S,
    PROBE_TIMEOUT_S,
    RETRIES,
    cached_hub_path,
    fetch,
    retrying,
    with_retries,
)
from helpers.data.integrity import quarantine, sha256_of, verify_file
from helpers.data.manifest import (
    ArrayField,
    ArtifactError,
    DatasetFiles,
    Entry,
    Manifest,
    ManifestError,
    load_manifest,
    manifest_path,
)
from helpers.data.settings import DEFAULT_CACHE, cache_dir, endpoint, hf_cache, is_commit, offline
from helpers.data.validation import read_arrays, validate_arrays

__all__ = [
    "ArtifactError", "ManifestError", "Manifest", "Entry", "ArrayField", "DatasetFiles", "load_manifest",
    "manifest_path", "fetch", "cached_hub_path", "retrying", "with_retries", "classify", "summary",
    "hub_error", "HubError", "HubOffline", "HubMissing", "HubTransient", "HubFailed", "HubSubject",
    "sha256_of", "verify_file", "quarantine", "read_arrays", "validate_arrays",
    "synthetic_path", "synthetic_dir", "cache_lock",
    "cache_dir", "endpoint", "hf_cache", "offline", "is_commit",
    "DEFAULT_CACHE", "RETRIES", "BACKOFF_S", "BACKOFF_MAX_S", "PROBE_TIMEOUT_S",
]
