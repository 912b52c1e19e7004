"""The kernel side of the autograder: what runs inside the student's kernel, and nothing else.

``autograder.probe`` (the entry every hidden-test cell imports) is built from this
package and from the check modules of ``autograder.checks`` (their probes and fixed
inputs).  The grading sandbox copies exactly those files into the kernel
(``kernel_files``); the judges in the check modules run in the driver and import
what they need (answer key, expected values, course data) inside their bodies,
so nothing a kernel can read tells it an answer.

* ``pristine``: builtins, numpy, torch, pandas, sys and os taken at import, before any
  student cell runs; kernel functions use only these captures.
* ``encoding``: returned objects -> plain JSON data, and the JSON text itself.
* ``runner``: ``Runner`` calls student functions (errors, interrupts, calls into the
  course's references); helpers that read the student's namespace.
* ``wire``: the marker and the nonce's environment variable (shared with the driver).
* ``nonce``: this run's nonce, read and deleted at import.
"""
from __future__ import annotations

from pathlib import Path

AUTOGRADER_DIR = Path(__file__).resolve().parent.parent


def kernel_files() -> list[tuple[Path, Path]]:
    """(source file, destination relative to the kernel's library folder) for every file a kernel may import.

    The grading sandbox copies these and nothing else of the autograder: the probe
    entry, this package and the check modules.  Answer key and expected values live
    outside those folders (``autograder/answer_key.json``, ``autograder/expected/``)
    and are never listed.
    """
    files = [(AUTOGRADER_DIR / "probe.py", Path("autograder") / "probe.py")]
    for package in ("kernel", "checks"):
        for src in sorted((AUTOGRADER_DIR / package).glob("*.py")):
            files.append((src, Path("autograder") / package / src.name))
    return files
