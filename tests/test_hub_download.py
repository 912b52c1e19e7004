"""The real Hub code path (hf_hub_download, HfApi) against a fake Hub on 127.0.0.1.

Nothing here leaves the machine: HF_ENDPOINT points at the fake server, and
every cache (Hub, course) lives under tmp_path.
"""
from __future__ import annotations

import re
import socket

import numpy as np
import pytest
import yaml
from fakehub import (
    REPOS,
    SMALL_MANIFEST,
    FakeHub,
    course_arrays,
    npz_bytes,
    point_hub_clients_at,
    publish_course,
    reset_hub_session,
    set_offline,
)

from helpers import artifacts, data
from helpers.artifacts import ArtifactError, load
from helpers.data import cli as data_cli
from helpers.data.manifest import load_manifest


@pytest.fixture
def sleeps(monkeypatch):
    waits = []
    monkeypatch.setattr("helpers.data.hub.sleep", waits.append)  # with_retries lives in helpers.data.hub
    return waits


@pytest.fixture
def online(tmp_path, monkeypatch, sleeps):
    """A fake Hub with the miniature course on it, and every env var pointing at tmp dirs."""

    hub = FakeHub()
    hub.start()
    published = publish_course(hub)
    manifest = tmp_path / "data_manifest.yaml"
    manifest.write_text(SMALL_MANIFEST)
    point_hub_clients_at(hub, monkeypatch, tmp_path, manifest)
    monkeypatch.delenv("COURSE_DATA_SOURCE", raising=False)
    artifacts.reset_auto_source()
    yield type("Online", (), {"hub": hub, "files": published, "manifest": manifest, "tmp": tmp_path})
    hub.stop()
    reset_hub_session()
    artifacts.reset_auto_source()


def _lock(*names):
    assert data_cli.main(["lock", *names]) == 0


def _blob_of(name):
    return data.cached_hub_path(load_manifest().entry(name)).resolve()


# --------------------------------------------------------------------------- success
def test_download_validates_and_converts(online):
    ps = load("vanilla", source="hub")
    want = course_arrays("vanilla")
    assert ps.source == "hub" and not ps.synthetic
    assert ps.logits.dtype == np.float32 and ps.labels.dtype == np.int64 and ps.preds.dtype == np.int64
    np.testing.assert_array_equal(ps.logits, want["logits"])
    np.testing.assert_array_equal(ps.tiers, want["val_tiers"])  # the val_tiers alias
    assert str(ps.path).startswith(str(online.tmp / "hf_cache"))
    teacher = load("teacher_val", source="hub")
    np.testing.assert_array_equal(teacher.preds, teacher.logits.argmax(1))  # no preds in the file
    tt = load("teacher_train_test", source="hub")
    assert tt.logits.dtype == np.float32 and tt.labels is None and tt.tiers is None and tt.preds is None


def test_pinned_file_is_served_from_cache_without_network(online):
    _lock("vanilla")
    load("vanilla", source="hub")
    before = len(online.hub.requests)
    load("vanilla", source="hub")  # commit revision + cached: no HEAD, no GET
    assert len(online.hub.requests) == before


# --------------------------------------------------------------------------- lock
def test_lock_pins_revision_sha256_and_size(online):
    assert data_cli.main(["lock"]) == 0
    text = online.manifest.read_text()
    assert "# miniature course manifest (tests)" in text and "# filled by data lock" in text  # comments kept
    man = load_manifest()
    for name, (repo_type, repo_id, filename, _) in REPOS.items():
        e = man.entry(name)
        repo = online.hub.repos[(repo_type, repo_id)]
        assert e.revision == repo.commit and e.is_pinned
        assert e.sha256 == repo.files[filename].sha256 and e.size == len(online.files[name])
    # distilled is not an LFS file: the Hub reports no sha256, so lock downloaded and hashed it.
    assert online.hub.count("GET", "/course/distilled/resolve/") == 1
    assert online.hub.count("GET", "/course/vanilla/resolve/") == 0
    # Pinned loads verify against the recorded values.
    assert load("distilled", source="hub").source == "hub"


def test_lock_reports_a_file_missing_from_the_repo(online):
    online.manifest.write_text(SMALL_MANIFEST.replace("filename: val_logits.npz", "filename: nope.npz"))
    with pytest.raises(ArtifactError, match=r"no file 'nope.npz'.*val_logits.npz.*Fix 'filename'"):
        data_cli.lock(load_manifest(), ["teacher_val"])


# --------------------------------------------------------------------------- integrity
def _assert_mismatch_message(msg, name, expected, actual):
    assert f"Checksum mismatch for '{name}'" in msg
    assert "file " in msg and "val_predictions.npz" in msg
    assert f"expected sha256: {expected}" in msg and f"actual   sha256: {actual}" in msg
    assert f"python -m helpers data fetch {name} --force" in msg


def test_checksum_mismatch_on_download_is_quarantined(online):
    _lock("vanilla")
    good = online.files["vanilla"]
    bad = bytearray(good)
    bad[-100] ^= 0xFF  # same size, different bytes: only the sha256 can tell
    online.hub.tamper("model", "course/vanilla", "val_predictions.npz", bytes(bad))
    with pytest.raises(ArtifactError) as info:
        load("vanilla", source="hub")
    import hashlib

    _assert_mismatch_message(str(info.value), "vanilla", hashlib.sha256(good).hexdigest(),
                             hashlib.sha256(bad).hexdigest())
    assert data.cached_hub_path(load_manifest().entry("vanilla")) is None  # not served again
    assert list((online.tmp / "course" / "quarantine").iterdir())
    online.hub.tamper("model", "course/vanilla", "val_predictions.npz", None)
    gets = online.hub.count("GET", "/course/vanilla/")
    assert load("vanilla", source="hub").source == "hub"
    assert online.hub.count("GET", "/course/vanilla/") == gets + 1  # downloaded afresh


def test_corrupt_cached_file_is_not_served_next_time(online):
    _lock("vanilla")
    load("vanilla", source="hub")
    blob = _blob_of("vanilla")
    blob.chmod(0o644)
    data = bytearray(blob.read_bytes())
    data[10] ^= 0xFF
    blob.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="Checksum mismatch for 'vanilla'"):
        load("vanilla", source="hub")
    assert not blob.exists()
    assert load("vanilla", source="hub").source == "hub"  # re-downloaded, verified


def test_size_mismatch_is_reported_before_hashing(online):
    _lock("vanilla")
    load("vanilla", source="hub")
    blob = _blob_of("vanilla")
    blob.chmod(0o644)
    blob.write_bytes(blob.read_bytes()[:-10])
    with pytest.raises(ArtifactError, match=r"expected size: \d+ bytes\n  actual   size: \d+ bytes"):
        load("vanilla", source="hub")


def test_truncated_npz_from_the_hub_is_quarantined(online):
    online.hub.add_file("model", "course/vanilla", "val_predictions.npz", online.files["vanilla"][:300])
    with pytest.raises(ArtifactError) as info:
        load("vanilla", source="hub")
    msg = str(info.value)
    assert "cannot read" in msg and "truncated or corrupt npz" in msg
    assert "python -m helpers data fetch vanilla --force" in msg
    assert data.cached_hub_path(load_manifest().entry("vanilla")) is None


def test_schema_errors_surface_through_the_hub_path(online):
    arrays = course_arrays("vanilla")
    arrays["labels"] = arrays["labels"] + 10
    online.hub.add_file("model", "course/vanilla", "val_predictions.npz", npz_bytes(arrays))
    with pytest.raises(ArtifactError, match=r"'labels' is out of range: values from 10 to 14"):
        load("vanilla", source="hub")


# --------------------------------------------------------------------------- retries
def test_transient_503_on_head_is_retried(online, sleeps):
    online.hub.fail("HEAD", "/course/vanilla/resolve/", 503, times=1)
    assert load("vanilla", source="hub").source == "hub"
    assert sleeps == [data.BACKOFF_S]


def test_transient_errors_back_off_exponentially_on_get(online, sleeps):
    online.hub.fail("GET", "/course/vanilla/resolve/", 502, times=2)
    assert load("vanilla", source="hub").source == "hub"
    assert sleeps == [data.BACKOFF_S, 2 * data.BACKOFF_S]


def test_persistent_5xx_gives_up_with_advice(online, sleeps):
    online.hub.fail("HEAD", "/course/vanilla/resolve/", 503, times=100)
    with pytest.raises(ArtifactError) as info:
        load("vanilla", source="hub")
    msg = str(info.value)
    assert "kept failing" in msg and f"after {data.RETRIES + 1} attempt(s)" in msg and "HTTP 503" in msg
    assert "source='synthetic'" in msg
    # typed: the class says what to do, the parts are there for a caller to reuse
    assert isinstance(info.value, data.HubTransient) and info.value.retry
    assert "HTTP 503" in info.value.problem and "python -m helpers data fetch vanilla" in info.value.fix
    assert info.value.original is not None
    assert len(sleeps) == data.RETRIES


def test_404_is_not_retried(online, sleeps):
    online.manifest.write_text(SMALL_MANIFEST.replace("filename: val_logits.npz", "filename: missing.npz"))
    with pytest.raises(ArtifactError) as info:
        load("teacher_val", source="hub")
    msg = str(info.value)
    assert "missing.npz" in msg and "not retried" in msg and "data_manifest.yaml" in msg
    assert isinstance(info.value, data.HubMissing) and not info.value.retry
    assert "entry 'teacher_val' in data_manifest.yaml" in info.value.fix
    assert sleeps == []
    assert online.hub.count("HEAD", "missing.npz") == 1


def test_unknown_repo_401_is_not_retried(online, sleeps):
    online.manifest.write_text(SMALL_MANIFEST.replace("repo_id: course/vanilla", "repo_id: course/gone"))
    with pytest.raises(ArtifactError, match=r"course/gone.*not retried.*log in"):
        load("vanilla", source="hub")
    assert sleeps == []


def _closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_no_network_says_so_and_points_at_the_embedded_data(online, monkeypatch, sleeps):
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")
    with pytest.raises(ArtifactError) as info:
        load("vanilla", source="hub")
    msg = str(info.value)
    assert msg.startswith("No network: cannot connect to the Hugging Face Hub")
    assert "load('vanilla', source='synthetic')" in msg and "python -m helpers data fetch vanilla" in msg
    assert len(sleeps) == data.RETRIES  # connection errors are transient: retried with backoff


def test_offline_mode_not_cached(online, monkeypatch):
    set_offline(monkeypatch, True)
    with pytest.raises(ArtifactError) as info:
        load("vanilla", source="hub")
    msg = str(info.value)
    assert "offline mode is on (HF_HUB_OFFLINE=1)" in msg and "source='synthetic'" in msg
    assert isinstance(info.value, data.HubOffline) and "unset HF_HUB_OFFLINE" in info.value.fix
    assert online.hub.requests == []


def test_offline_mode_serves_the_verified_cache(online, monkeypatch):
    _lock("vanilla")
    load("vanilla", source="hub")
    n = len(online.hub.requests)
    set_offline(monkeypatch, True)
    assert load("vanilla", source="hub").source == "hub"
    assert len(online.hub.requests) == n


# --------------------------------------------------------------------------- auto
def test_auto_uses_the_hub_when_reachable_and_says_so(online, capsys):
    assert load("vanilla").source == "hub"
    assert "from the Hugging Face Hub" in capsys.readouterr().err
    assert load("teacher_val").source == "hub"
    assert "Hugging Face Hub" not in capsys.readouterr().err  # announced once per process
    assert artifacts.auto_source() == "hub"


# --------------------------------------------------------------------------- CLI
def test_fetch_verify_and_list(online, capsys):
    _lock()
    assert data_cli.main(["fetch", "vanilla", "teacher_val"]) == 0
    out = capsys.readouterr().out
    assert "fetched vanilla" in out and "verified sha256" in out
    assert data_cli.main(["verify"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"vanilla\s+ok", out) and re.search(r"teacher_train_test\s+not cached", out)
    blob = _blob_of("vanilla")
    blob.chmod(0o644)
    blob.write_bytes(b"x" * blob.stat().st_size)
    assert data_cli.main(["verify", "vanilla"]) == 1
    out = capsys.readouterr().out
    assert "MISMATCH" in out and "data fetch vanilla --force" in out
    assert data_cli.main(["fetch", "vanilla", "--force"]) == 0  # the advertised fix works
    assert data_cli.main(["verify", "vanilla"]) == 0
    capsys.readouterr()
    assert data_cli.main(["list"]) == 0
    table = capsys.readouterr().out
    assert "course/vanilla (model)" in table and "pinned" in table


def test_cli_errors_are_one_line_not_tracebacks(online, capsys):
    assert data_cli.main(["fetch", "nope"]) == 1
    assert "name must be one of" in capsys.readouterr().err
    assert yaml.safe_load(online.manifest.read_text())["artifacts"]["vanilla"]["sha256"] is None


def _fake_generator(monkeypatch):
    import sys
    import types
    from pathlib import Path

    def write_all(directory, seed=0):
        Path(directory).mkdir(parents=True, exist_ok=True)
        paths = {n: Path(directory) / f"{n}.npz" for n in REPOS}
        for n, p in paths.items():
            np.savez(p, **course_arrays(n, seed=1))
        return paths

    module = types.ModuleType("helpers.data.synthetic")
    module.SEED, module.write_all = 1, write_all
    monkeypatch.setitem(sys.modules, "helpers.data.synthetic", module)


def test_auto_falls_back_to_synthetic_when_the_hub_is_unreachable(online, monkeypatch, capsys):
    _fake_generator(monkeypatch)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")
    with pytest.warns(artifacts.SyntheticDataWarning, match="the Hub did not answer for course/vanilla"):
        ps = load("vanilla")
    assert ps.source == "synthetic" and ps.label == "vanilla (SYNTHETIC)"


def test_auto_offline_uses_the_hub_cache_only_when_every_notebook_file_is_there(online, monkeypatch):
    _fake_generator(monkeypatch)
    load("vanilla", source="hub")
    set_offline(monkeypatch, True)
    with pytest.warns(artifacts.SyntheticDataWarning, match="2 of the notebook artifacts are not in the Hub cache"):
        assert load("vanilla").source == "synthetic"  # never a mix of real and synthetic arms
    artifacts.reset_auto_source()
    set_offline(monkeypatch, False)
    for name in ("teacher_val", "distilled"):
        load(name, source="hub")
    set_offline(monkeypatch, True)
    assert load("vanilla").source == "hub"


def test_lock_refuses_offline_with_a_clear_message(online, monkeypatch, capsys):
    set_offline(monkeypatch, True)
    assert data_cli.main(["lock"]) == 1
    assert "offline mode is on (HF_HUB_OFFLINE=1)" in capsys.readouterr().err
    assert online.hub.requests == [] and "sha256: null" in online.manifest.read_text()


# --------------------------------------------------------------------------- error kinds
def test_errors_are_classified_by_huggingface_hubs_types():
    from huggingface_hub.errors import OfflineModeIsEnabled
    from huggingface_hub.utils import LocalEntryNotFoundError

    from helpers.data.errors import HubFailed, HubMissing, HubOffline, HubTransient, classify, is_connect

    def wrapped(inner: BaseException, outer: BaseException) -> BaseException:
        try:
            try:
                raise inner
            except BaseException as e:
                raise outer from e
        except BaseException as e:
            return e

    assert classify(OfflineModeIsEnabled("offline")) is HubOffline
    assert classify(wrapped(OfflineModeIsEnabled("offline"), RuntimeError("wrapped"))) is HubOffline
    assert classify(LocalEntryNotFoundError("not in the cache")) is HubMissing
    assert classify(TimeoutError("slow")) is HubTransient
    refused = wrapped(ConnectionRefusedError("refused"), RuntimeError("the client's wrapper"))
    assert classify(refused) is HubTransient and is_connect(refused)
    assert classify(ValueError("a bug")) is HubFailed and not is_connect(ValueError("a bug"))
    assert classify(OSError("Consistency check failed: file should be of size 10 but has size 3")) is HubTransient
    # a class merely *named* like a transient error is not one: the types decide, not the names
    assert classify(type("ConnectError", (Exception,), {})("lookalike")) is HubFailed
