"""Reading an artifact's npz and validating it against the manifest's array schema.

One job: turn a file on disk into ``{role: array}`` that is known to be right.
``read_arrays`` opens the npz once (``_read_npz``: zip magic, missing keys,
pickled arrays only from sha256-pinned files, corrupt files quarantined or the
synthetic copy marked stale) and ``validate_arrays`` checks rank, dtype family,
row agreement, exact shapes, finiteness, tier names and class-id ranges, casting
logits to float32 and ids to int64.  Every failure is an ``ArtifactError``.
"""
from __future__ import annotations

import os
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from helpers.data.integrity import quarantine
from helpers.data.manifest import ArrayField, ArtifactError, Entry, Manifest

__all__ = ["read_arrays", "validate_arrays"]

_STRING_KINDS = "US"


def read_arrays(path: Path, entry: Entry, manifest: Manifest, *, origin: str, trusted: bool = False,
                cache: str | os.PathLike | None = None) -> dict[str, np.ndarray]:
    """Read the npz once and return {role: array}, validated and cast (logits float32, ids int64)."""
    raw = _read_npz(path, entry, origin=origin, trusted=trusted, cache=cache)
    return validate_arrays(raw, entry, manifest, where=f"{entry.name!r} ({path})")


def _read_npz(path: Path, entry: Entry, *, origin: str, trusted: bool, cache) -> dict[str, np.ndarray]:
    keys = [f.key for f in entry.schema.values()]
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
        if magic != b"PK\x03\x04":
            kind = "a single .npy array" if magic == b"\x93NUM" else "not a zip archive"
            raise _Corrupt(f"not an npz file ({kind}; first bytes {magic!r})")
        # Object arrays need pickle; allowed only for files whose sha256 was checked.
        with np.load(path, allow_pickle=trusted) as z:
            present = list(z.files)
            missing = [k for k in keys if k not in present]
            if missing:
                raise ArtifactError(
                    f"{entry.name!r} ({path}): missing key(s) {missing}; the file has {present}. "
                    f"Expected keys {keys} (see schema of {entry.name!r} in data_manifest.yaml).")
            return {k: z[k] for k in keys}
    except ArtifactError:
        raise
    except (_Corrupt, zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError) as err:
        if isinstance(err, ValueError) and "allow_pickle" in str(err):
            raise ArtifactError(
                f"{entry.name!r} ({path}): holds object (pickled) arrays, which are loaded only from files "
                f"whose sha256 is pinned in data_manifest.yaml. Pin it with "
                f"`python -m helpers data lock {entry.name}`.") from None
        reason = str(err) if isinstance(err, _Corrupt) else f"truncated or corrupt npz ({type(err).__name__}: {err})"
        if origin == "hub":
            moved = quarantine(path, entry.name, cache)
            fix = (f"It was moved out of the cache{f' to {moved}' if moved else ''}. Re-download it with "
                   f"`python -m helpers data fetch {entry.name} --force`.")
        else:
            (path.parent / ".stamp").unlink(missing_ok=True)
            fix = "The synthetic copy will be regenerated on the next load."
        raise ArtifactError(f"{entry.name!r}: cannot read {path}: {reason}. {fix}") from None


class _Corrupt(Exception):
    pass


def _dtype_ok(arr: np.ndarray, want: str) -> bool:
    kind = arr.dtype.kind
    if want == "float":
        return kind == "f"
    if want == "int":
        return kind in "iu"
    if want == "str":
        return kind in _STRING_KINDS or (kind == "O" and all(isinstance(v, str) for v in arr.ravel()))
    return arr.dtype.name == want


_FAMILY_TEXT = {"float": "float (any width)", "int": "int (any width)", "str": "str"}


def validate_arrays(raw: Mapping[str, np.ndarray], entry: Entry, manifest: Manifest, *,
                    where: str | None = None) -> dict[str, np.ndarray]:
    """Check every array of an entry against its schema; returns {role: cast array}."""
    where = where or repr(entry.name)
    fields = list(entry.schema.values())

    for f in fields:
        a = raw[f.key]
        if a.ndim != len(f.shape):
            raise ArtifactError(f"{where}: array {f.key!r} has shape {a.shape}, expected "
                                f"{_shape_text(f, manifest)}.")
        if not _dtype_ok(a, f.dtype):
            raise ArtifactError(f"{where}: array {f.key!r} has dtype {a.dtype}, expected "
                                f"{_FAMILY_TEXT.get(f.dtype, f.dtype)}.")

    rows = {f.key: raw[f.key].shape[0] for f in fields}
    if len(set(rows.values())) > 1:
        listing = ", ".join(f"{k}: {n}" for k, n in rows.items())
        raise ArtifactError(f"{where}: rows mismatched across keys ({listing}); every array must hold "
                            f"one row per example.")

    for f in fields:
        a = raw[f.key]
        if a.shape != manifest.shape_of(f):
            raise ArtifactError(f"{where}: array {f.key!r} has shape {a.shape}, expected "
                                f"{_shape_text(f, manifest)}.")

    out: dict[str, np.ndarray] = {}
    for f in fields:
        out[f.role] = _cast_and_check(raw[f.key], f, manifest, where)
    return out


def _shape_text(f: ArrayField, manifest: Manifest) -> str:
    named = "(" + ", ".join(str(d) for d in f.shape) + ("," if len(f.shape) == 1 else "") + ")"
    return f"{named} = {manifest.shape_of(f)}"


def _cast_and_check(a: np.ndarray, f: ArrayField, manifest: Manifest, where: str) -> np.ndarray:
    if f.role == "logits" or f.dtype.startswith("float"):
        out = np.ascontiguousarray(a, dtype=np.float32)
        bad = int(out.size - np.count_nonzero(np.isfinite(out)))
        if bad:
            raise ArtifactError(f"{where}: array {f.key!r} has {bad} non-finite value(s) (NaN or inf).")
        return out
    if f.values is not None or f.dtype == "str":
        out = a.astype(str)
        if f.values is not None:
            found = set(np.unique(out).tolist())
            unknown = sorted(found - set(f.values))
            if unknown:
                raise ArtifactError(f"{where}: array {f.key!r} has unknown tier name(s) {unknown}; "
                                    f"allowed: {list(f.values)}.")
        return out
    out = np.asarray(a, dtype=np.int64)
    if f.classes is not None and out.size:
        n = manifest.dims[f.classes]
        lo, hi = int(out.min()), int(out.max())
        if lo < 0 or hi >= n:
            n_bad = int(np.count_nonzero((out < 0) | (out >= n)))
            raise ArtifactError(f"{where}: array {f.key!r} is out of range: values from {lo} to {hi}, "
                                f"expected class ids in [0, {n - 1}] ({f.classes} = {n}); "
                                f"{n_bad} row(s) outside.")
    return out
