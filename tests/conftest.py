"""What every test shares: offline by default, a headless plotting backend, the repository root.

``make test`` exports HF_HUB_OFFLINE=1 and MPLBACKEND=Agg; setting them here
too means a bare ``pytest`` behaves the same (no test may reach the network,
no test may open a window).  A test that needs the fake Hub online turns
offline mode off for itself (``tests/fakehub.py``).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The checkout's root folder (where pyproject.toml lives)."""
    return ROOT


@pytest.fixture
def course_cache(tmp_path, monkeypatch) -> Path:
    """A private, empty course cache for one test, offline."""
    cache = tmp_path / "course_cache"
    monkeypatch.setenv("COURSE_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return cache


@pytest.fixture(scope="module", autouse=True)
def close_function_hosts():
    """After each test module, stop the function host that tests/checkgrading.py started (if one did)."""
    yield
    grading = sys.modules.get("checkgrading")
    if grading is not None:
        grading.close_hosts()
