"""Is this the file ``data_manifest.yaml`` pins?  Size, sha256, and quarantine for a file that is not.

A file that fails its check, or cannot be read as an npz, is moved to
``<cache>/quarantine/`` (the Hub cache's blob with it) so that it is never
served again; the message says how to download it afresh and, if the mismatch
persists, how to find out why before re-pinning.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path
from typing import NoReturn

from helpers.data.errors import where
from helpers.data.manifest import ArtifactError, Entry
from helpers.data.settings import cache_dir

__all__ = ["sha256_of", "verify_file", "quarantine"]

_CHUNK = 1 << 20


def sha256_of(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_file(entry: Entry, path: str | os.PathLike, *, quarantine: bool = True,
                cache: str | os.PathLike | None = None) -> Path:
    """Check size and sha256 against the manifest (when pinned); quarantine and raise on mismatch."""
    path = Path(path)
    size = path.stat().st_size
    if entry.size is not None and size != entry.size:
        _mismatch(entry, path, "size", f"{entry.size} bytes", f"{size} bytes", quarantine, cache)
    if entry.sha256 is not None:
        actual = sha256_of(path)
        if actual != entry.sha256:
            _mismatch(entry, path, "sha256", entry.sha256, actual, quarantine, cache)
    return path


def _mismatch(entry: Entry, path: Path, what: str, expected: str, actual: str, move: bool,
              cache: str | os.PathLike | None) -> NoReturn:
    moved = quarantine(path, entry.name, cache) if move else None
    fate = (f"The bad copy was moved to {moved} and will not be used again." if moved
            else "The bad copy is still in the cache.")
    raise ArtifactError(
        f"Checksum mismatch for {entry.name!r}: file {path} ({where(entry)})\n"
        f"  expected {what}: {expected}\n"
        f"  actual   {what}: {actual}\n"
        f"{fate} Re-download it with `python -m helpers data fetch {entry.name} --force`. "
        f"If the mismatch persists, the file on the Hub differs from the one data_manifest.yaml was "
        f"locked to: find out why before re-pinning with `python -m helpers data lock {entry.name}`.")


def quarantine(path: Path, name: str, cache: str | os.PathLike | None = None) -> Path | None:
    """Move a bad file (and, for the Hub cache, the blob its symlink points at) out of the way.

    Returns where it went, or None when it could only be deleted: serving it
    again is the one thing not allowed.
    """
    qdir = cache_dir(cache) / "quarantine"
    try:
        qdir.mkdir(parents=True, exist_ok=True)
        real = path.resolve()
        dest = qdir / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{real.name}"
        shutil.move(str(real), str(dest))
        if path.is_symlink() or path.exists():
            path.unlink()
        return dest
    except OSError:
        for p in (path.resolve(), path):
            try:
                p.unlink()
            except OSError:
                pass
        return None
