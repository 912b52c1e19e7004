"""The synthetic copy in the course cache: ``<cache>/synthetic/<name>.npz``, written once, never torn.

``synthetic_path`` returns an artifact's file, generating all of them (with
``helpers.data.synthetic``) when the folder is missing or was written by other
generator code or seed (``.stamp`` holds a key of both).  Several processes may
ask at once (parallel test workers, two notebooks on a fresh cache), so writing
follows huggingface_hub's own rule for its cache:

* every file is written to a temporary name and moved into place
  (``helpers.fileio.atomic_write``), so a reader sees the old file or the new
  one, never half of one;
* the writer holds an exclusive ``fcntl.flock`` on ``<folder>/.lock``; a process
  that finds the copy stale waits for the lock, then looks again, and finds the
  copy the first one wrote instead of writing it a second time.

Where ``flock`` is unavailable (Windows, or a file system that refuses locks)
the lock is skipped, with one note on stderr: the writes are still atomic and
the generator is deterministic, so concurrent writers only duplicate work.
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from helpers.course import CACHE_ENV
from helpers.data.errors import summary
from helpers.data.manifest import ArtifactError
from helpers.data.settings import cache_dir
from helpers.fileio import atomic_write_text

__all__ = ["synthetic_path", "synthetic_dir", "generator_key", "cache_lock", "STAMP", "LOCK"]

STAMP = ".stamp"
LOCK = ".lock"
GENERATOR = "helpers.data.synthetic"

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]


def synthetic_dir(cache: str | os.PathLike | None = None) -> Path:
    """``<cache>/synthetic``: where the embedded course data is written."""
    return cache_dir(cache) / "synthetic"


def synthetic_path(name: str, cache: str | os.PathLike | None = None) -> Path:
    """``<cache>/synthetic/<name>.npz``, generated (all artifacts at once) when missing or stale."""
    synthetic = importlib.import_module(GENERATOR)  # at call time: tests swap in a small generator
    folder = synthetic_dir(cache)
    target = folder / f"{name}.npz"
    key = generator_key(synthetic)

    def fresh() -> bool:
        stamp = folder / STAMP
        return target.is_file() and stamp.is_file() and stamp.read_text() == key

    if fresh():
        return target
    try:
        with cache_lock(folder):
            if fresh():  # another process wrote it while this one waited for the lock
                return target
            paths = synthetic.write_all(folder)  # each file atomically
            atomic_write_text(folder / STAMP, key)  # last: the stamp vouches for complete files
    except Exception as err:  # the generator is ours; say where it failed
        raise ArtifactError(f"writing the synthetic course data to {folder} failed: {summary(err)}. "
                            f"Check that the folder is writable or set ${CACHE_ENV}.") from err
    path = Path(paths.get(name, target))
    if not path.is_file():
        raise ArtifactError(f"the synthetic generator has no artifact {name!r} (it wrote {sorted(paths)}).")
    return path


def generator_key(module: ModuleType) -> str:
    """Changes whenever the generator's code or seed changes, so stale copies are rewritten."""
    h = hashlib.sha256(repr(getattr(module, "SEED", None)).encode())
    src = getattr(module, "__file__", None)
    if src and os.path.isfile(src):
        h.update(Path(src).read_bytes())
    return h.hexdigest()


_warned = False


@contextlib.contextmanager
def cache_lock(folder: str | os.PathLike) -> Iterator[bool]:
    """Hold an exclusive lock on ``<folder>/.lock`` while writing the folder; yields whether it is held.

    Blocks until the lock is free.  Without ``fcntl`` (or where the file system
    refuses ``flock``) it yields False at once and says so once per process.
    """
    global _warned
    path = Path(folder) / LOCK
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as fh:
        held = False
        if fcntl is not None:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
                held = True
            except OSError as err:  # e.g. ENOLCK on some network file systems
                reason = f"flock failed on {path} ({err})"
        else:
            reason = "fcntl.flock is not available on this platform"
        if not held and not _warned:
            _warned = True
            print(f"[helpers.artifacts] note: {reason}; writing the synthetic copy without a lock "
                  f"(each file is still replaced atomically).", file=sys.stderr)
        try:
            yield held
        finally:
            if held:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
