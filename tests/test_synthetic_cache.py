"""The synthetic copy in the course cache under concurrency: written once, under a lock, never torn.

Parallel workers (pytest-xdist, two notebooks) on a fresh cache all find it
missing at once.  Each file is replaced atomically and the writer holds a
``flock`` on ``<cache>/synthetic/.lock``, so the others wait and then read the
copy the first one wrote.  These tests use the real generator in real
processes, with the cache under tmp_path.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from helpers.data import cache

CHILD = r"""
import hashlib, json, os, sys, time, warnings
from pathlib import Path
go = Path(sys.argv[1])
while not go.exists():
    time.sleep(0.005)
from helpers import artifacts
warnings.simplefilter("ignore")
out = {}
for name in ("vanilla", "teacher_train_test"):
    ps = artifacts.load(name, source="synthetic")
    out[name] = {"sha": hashlib.sha256(ps.logits.tobytes()).hexdigest(), "inode": os.stat(ps.path).st_ino}
print(json.dumps(out))
"""


def _env(cache_root) -> dict:
    return {**os.environ, "COURSE_CACHE": str(cache_root), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}


def test_two_processes_on_a_fresh_cache_read_one_complete_copy(tmp_path):
    root = tmp_path / "cache"
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, str(go)], env=_env(root), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    time.sleep(0.5)  # both are importing and waiting
    go.touch()
    results = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert results[0] == results[1]  # same arrays, and the same file: the second process did not rewrite it
    folder = root / "synthetic"
    assert (folder / cache.STAMP).is_file()
    assert not [p.name for p in folder.iterdir() if ".tmp-" in p.name]  # no temporary file left behind


def test_a_writer_waits_for_the_lock_holder(tmp_path):
    root = tmp_path / "cache"
    folder = root / "synthetic"
    code = "from helpers.data.cache import synthetic_path; print(synthetic_path('vanilla'))"
    with cache.cache_lock(folder) as held:
        assert held
        child = subprocess.Popen([sys.executable, "-c", code], env=_env(root), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        time.sleep(3.0)
        assert child.poll() is None, child.communicate()[1]  # blocked on the lock
        assert not (folder / "vanilla.npz").exists()
    out, err = child.communicate(timeout=300)
    assert child.returncode == 0, err
    assert out.strip() == str(folder / "vanilla.npz") and (folder / "vanilla.npz").is_file()


def test_without_flock_the_cache_is_written_unlocked_and_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cache, "fcntl", None)
    monkeypatch.setattr(cache, "_warned", False)
    with cache.cache_lock(tmp_path) as held:
        assert held is False
    with cache.cache_lock(tmp_path):
        pass
    err = capsys.readouterr().err
    assert err.count("fcntl.flock is not available") == 1 and "replaced atomically" in err


@pytest.mark.skipif(cache.fcntl is None, reason="needs fcntl")
def test_a_file_system_that_refuses_flock_falls_back(tmp_path, monkeypatch, capsys):
    class NoLocks:
        LOCK_EX, LOCK_UN = 2, 8

        @staticmethod
        def flock(fd, op):
            raise OSError(37, "No locks available")

    monkeypatch.setattr(cache, "fcntl", NoLocks)
    monkeypatch.setattr(cache, "_warned", False)
    with cache.cache_lock(tmp_path) as held:
        assert held is False
    assert "flock failed" in capsys.readouterr().err
