"""Data plumbing: where the course artifacts are, how they get onto disk, and whether they are right.

The student-facing entry point is :func:`helpers.artifacts.load`; this package
is what it stands on, grouped one job per module:

``manifest``    ``data_manifest.yaml`` read into frozen dataclasses, validated field by field
``hub``         downloads from the Hugging Face Hub: cache locations, retries, the ``HEAD`` probe
``validation``  an artifact's npz read and checked against the manifest's array schema
``synthetic``   the embedded course data, generated deterministically in the same schema
``cli``         ``python -m helpers data {lock,fetch,verify,list}``

Other modules import the names below, never a ``_private`` one.
"""
from __future__ import annotations

from helpers.data.hub import (
    BACKOFF_MAX_S,
    BACKOFF_S,
    DEFAULT_CACHE,
    PROBE_TIMEOUT_S,
    RETRIES,
    cache_dir,
    cached_hub_path,
    fetch,
    sha256_of,
    verify_file,
    with_retries,
)
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
from helpers.data.validation import read_arrays, validate_arrays

__all__ = [
    "ArtifactError", "ManifestError", "Manifest", "Entry", "ArrayField", "DatasetFiles", "load_manifest",
    "manifest_path", "fetch", "cached_hub_path", "with_retries", "sha256_of", "verify_file", "cache_dir",
    "read_arrays", "validate_arrays", "DEFAULT_CACHE", "RETRIES", "BACKOFF_S", "BACKOFF_MAX_S",
    "PROBE_TIMEOUT_S",
]
