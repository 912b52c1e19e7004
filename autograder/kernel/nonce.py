"""This run's nonce: read from the file the driver names, and the file deleted, at kernel start.

Only lines carrying the nonce count (the driver ignores the rest), and the file is
gone before student code runs, so a student cannot forge a result line.
"""
from __future__ import annotations

from .pristine import OS, PY
from .wire import NONCE_ENV


def read_nonce() -> str:
    """The nonce in the file ``$AUTOGRADER_NONCE_FILE`` names ("" when unset or unreadable); deletes the file."""
    path = OS.environ_pop(NONCE_ENV, None)
    if not path:
        return ""
    try:
        with PY.open(path, encoding="ascii") as fh:
            value = fh.read().strip()
        OS.unlink(path)
        return value
    except PY.OSError:
        return ""
