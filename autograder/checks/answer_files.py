"""The answer key and expected-value files: where the driver reads them (never copied into a kernel).

The files live in ``autograder/expected/`` and ``autograder/answer_key.json``,
outside the folders the grading sandbox copies (``autograder.kernel.kernel_files``).
"""
from __future__ import annotations

import json
from pathlib import Path

AUTOGRADER_DIR = Path(__file__).resolve().parent.parent
EXPECTED_DIR = AUTOGRADER_DIR / "expected"
EXPECTED_FILE = {"week6_lab": "lab.json", "week6_homework": "homework.json"}


def load_expected(notebook: str) -> dict:
    """{check id: expected entry} of one notebook (``python -m autograder build-expected`` writes them)."""
    return json.loads((EXPECTED_DIR / EXPECTED_FILE[notebook]).read_text())


def load_answer_key() -> dict:
    """The answer key: the bug hunt's real statements and hints, the lab's readings (driver only)."""
    return json.loads((AUTOGRADER_DIR / "answer_key.json").read_text())
