"""Writing files so that a reader never sees half of one.

Every file the suite writes where another process (a parallel test worker, a
second notebook, a resumed training run) may read it goes through
:func:`atomic_write`: the bytes land in a temporary file in the same folder,
are flushed to disk, and only then replace the target with ``os.replace``,
which is atomic on POSIX and Windows.  A kill in the middle leaves the old
file (or none) and at worst a stray ``.<name>.tmp-*`` file, never a torn one.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_write", "atomic_write_bytes", "atomic_write_text"]


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success move it onto ``path``.

    Parameters
    ----------
    path : str or os.PathLike
        The file to create or replace.  Its folder is created if missing.

    Yields
    ------
    pathlib.Path
        Where to write.  Anything that writes a file by name (``np.savez``,
        ``torch.save``, ``df.to_csv``) can write there.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "a.npy"
    >>> with atomic_write(target) as tmp:
    ...     np.save(tmp, np.arange(3))
    >>> np.load(target).tolist()
    [0, 1, 2]
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.tmp-", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:  # the data reaches the disk before the rename makes it visible
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically and return the path."""
    with atomic_write(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically and return the path."""
    with atomic_write(path) as tmp:
        tmp.write_text(text, encoding=encoding)
    return Path(path)
