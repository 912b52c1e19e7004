"""The kernel side of the autograder: what a student's kernel may import, and nothing else.

Since the function host (``autograder.host``), no probe runs in the kernel: the only
autograder code there is ``reporter`` (a value check's hidden-test cell prints the
student's named answers as one marked line) and what it needs.  It imports nothing of
the driver side, even inside functions (tests/test_kernel_files.py).

* ``reporter``: ``report(check_id, globals(), *names)``.
* ``encoding``: objects -> plain JSON data, and the JSON text (also used by the host's adapters).
* ``pristine``: builtins, numpy, torch and pandas captured at import (the host imports it
  before any student cell, so its adapters convert with pristine objects).
* ``wire``: the marker of the reporter's line (shared with the judge).
"""
from __future__ import annotations

from pathlib import Path

AUTOGRADER_DIR = Path(__file__).resolve().parent.parent

KERNEL_MODULES = ("__init__", "reporter", "encoding", "pristine", "wire")


def kernel_files() -> list[tuple[Path, Path]]:
    """(source file, destination relative to the kernel's library folder) for every file a kernel may import.

    The grading sandbox copies these and nothing else of the autograder: no check module, no
    probe, no answer key, no expected value.
    """
    return [(AUTOGRADER_DIR / "kernel" / f"{name}.py", Path("autograder") / "kernel" / f"{name}.py")
            for name in KERNEL_MODULES]
