"""helpers.artifacts without a Hub: the synthetic source, `auto`, and array validation messages."""
from __future__ import annotations

import sys
import types
import warnings

import numpy as np
import pytest
from fakehub import SMALL_MANIFEST, course_arrays

from helpers import artifacts, data
from helpers.artifacts import ArtifactError, PredictionSet, SyntheticDataWarning, load
from helpers.data.manifest import load_manifest


@pytest.fixture
def course(tmp_path, monkeypatch):
    """Miniature manifest + a stand-in synthetic generator writing the miniature arrays, offline."""
    from huggingface_hub import constants

    manifest = tmp_path / "data_manifest.yaml"
    manifest.write_text(SMALL_MANIFEST)
    calls = []

    def write_all(directory, seed=0):
        from pathlib import Path

        calls.append(directory)
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        paths = {}
        for name in ("teacher_val", "teacher_train_test", "vanilla", "distilled"):
            paths[name] = out / f"{name}.npz"
            np.savez(paths[name], **course_arrays(name, seed))
        return paths

    fake = types.ModuleType("helpers.data.synthetic")
    fake.SEED = 0
    fake.write_all = write_all
    monkeypatch.setitem(sys.modules, "helpers.data.synthetic", fake)
    monkeypatch.setenv("COURSE_MANIFEST", str(manifest))
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path / "course"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf_cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.delenv("COURSE_DATA_SOURCE", raising=False)
    artifacts.reset_auto_source()
    yield type("Course", (), {"tmp": tmp_path, "calls": calls, "manifest": load_manifest(manifest)})
    artifacts.reset_auto_source()


# --------------------------------------------------------------------------- synthetic source
def test_synthetic_source_returns_a_validated_prediction_set(course):
    ps = load("vanilla", source="synthetic")
    want = course_arrays("vanilla")
    assert isinstance(ps, PredictionSet) and ps.source == "synthetic" and ps.synthetic
    assert ps.path == course.tmp / "course" / "synthetic" / "vanilla.npz"
    assert ps.logits.dtype == np.float32 and ps.labels.dtype == np.int64 and ps.preds.dtype == np.int64
    assert ps.tiers.dtype.kind == "U" and set(ps.tiers) == {"head", "mid", "tail"}
    np.testing.assert_array_equal(ps.preds, want["preds"])
    assert ps.n_classes == 5 and len(ps) == 12 and ps.label == "vanilla (SYNTHETIC)"
    np.testing.assert_allclose(ps.probs.sum(axis=1), 1.0)
    assert ps.probs is ps.probs  # computed once


def test_teacher_val_preds_are_the_argmax_and_train_test_is_logits_only(course):
    t = load("teacher_val", source="synthetic")
    np.testing.assert_array_equal(t.preds, t.logits.argmax(axis=1))
    tt = load("teacher_train_test", source="synthetic")
    assert tt.logits.dtype == np.float32 and tt.logits.shape == (20, 5)
    assert tt.labels is None and tt.tiers is None and tt.preds is None


def test_synthetic_copy_is_generated_once_and_regenerated_when_the_generator_changes(course):
    load("vanilla", source="synthetic")
    load("distilled", source="synthetic")
    assert len(course.calls) == 1
    sys.modules["helpers.data.synthetic"].SEED = 1  # a different generator key
    load("vanilla", source="synthetic")
    assert len(course.calls) == 2


def test_corrupt_synthetic_copy_is_regenerated_on_next_load(course):
    path = load("vanilla", source="synthetic").path
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ArtifactError, match="regenerated on the next load"):
        load("vanilla", source="synthetic")
    assert load("vanilla", source="synthetic").logits.shape == (12, 5)


# --------------------------------------------------------------------------- auto
def test_auto_falls_back_to_synthetic_loudly_once(course, capsys):
    with pytest.warns(SyntheticDataWarning, match="USING SYNTHETIC COURSE DATA: HF_HUB_OFFLINE"):
        assert load("vanilla").source == "synthetic"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second announcement would raise here
        assert load("teacher_val").source == "synthetic"
    assert capsys.readouterr().err == ""
    assert artifacts.auto_source() == "synthetic"


def test_auto_source_can_be_forced_by_env(course, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_SOURCE", "synthetic")
    with pytest.warns(SyntheticDataWarning, match="COURSE_DATA_SOURCE=synthetic"):
        assert load("vanilla").source == "synthetic"
    artifacts.reset_auto_source()
    monkeypatch.setenv("COURSE_DATA_SOURCE", "cloud")
    with pytest.raises(ArtifactError, match=r"\$COURSE_DATA_SOURCE must be 'hub' or 'synthetic'"):
        load("vanilla")


def test_argument_validation(course):
    with pytest.raises(ArtifactError, match=r"source must be one of \['auto', 'hub', 'synthetic'\], got 'web'"):
        load("vanilla", source="web")
    with pytest.raises(ArtifactError, match=r"name must be one of \['teacher_val'.*got 'vanila'"):
        load("vanila", source="synthetic")
    with pytest.raises(ArtifactError, match="name must be a str"):
        load(3, source="synthetic")
    assert issubclass(ArtifactError, ValueError)


# --------------------------------------------------------------------------- validation messages
def _write(tmp_path, arrays, name="f.npz"):
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


def _read(course, path, name="vanilla", origin="synthetic"):
    entry = course.manifest.entry(name)
    return data.read_arrays(path, entry, course.manifest, origin=origin)


def test_valid_file_reads_and_casts(course):
    arrays = course_arrays("vanilla")
    arrays["labels"] = arrays["labels"].astype(np.int32)
    arrays["logits"] = arrays["logits"].astype(np.float16)
    out = _read(course, _write(course.tmp, arrays))
    assert out["labels"].dtype == np.int64 and out["logits"].dtype == np.float32
    assert set(out) == {"logits", "labels", "tiers", "preds"}


def test_truncated_npz(course):
    path = _write(course.tmp, course_arrays("vanilla"))
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(ArtifactError, match=r"cannot read .*f\.npz: truncated or corrupt npz"):
        _read(course, path)


def test_not_an_npz(course):
    path = course.tmp / "f.npz"
    path.write_text("<html>rate limited</html>")
    with pytest.raises(ArtifactError, match=r"not an npz file \(not a zip archive; first bytes b'<htm'\)"):
        _read(course, path)
    np.save(course.tmp / "a.npy", np.zeros(3))
    with pytest.raises(ArtifactError, match=r"not an npz file \(a single \.npy array"):
        _read(course, course.tmp / "a.npy")


def test_missing_key_names_the_keys_present(course):
    arrays = course_arrays("vanilla")
    arrays["tiers"] = arrays.pop("val_tiers")  # the teacher's spelling in a student file
    with pytest.raises(ArtifactError) as info:
        _read(course, _write(course.tmp, arrays))
    msg = str(info.value)
    assert "missing key(s) ['val_tiers']" in msg and "the file has ['logits', 'preds', 'labels', 'tiers']" in msg


def test_wrong_shape_names_the_dims(course):
    arrays = course_arrays("vanilla")
    arrays["logits"] = arrays["logits"][:, :4]
    with pytest.raises(ArtifactError, match=r"'logits' has shape \(12, 4\), expected \(n_val, n_classes\) "
                                            r"= \(12, 5\)"):
        _read(course, _write(course.tmp, arrays))
    arrays = course_arrays("vanilla")
    arrays["labels"] = arrays["labels"][:, None]
    with pytest.raises(ArtifactError, match=r"'labels' has shape \(12, 1\), expected \(n_val,\) = \(12,\)"):
        _read(course, _write(course.tmp, arrays))


def test_wrong_row_count_in_every_array(course):
    arrays = {k: v[:10] for k, v in course_arrays("vanilla").items()}
    with pytest.raises(ArtifactError, match=r"'logits' has shape \(10, 5\), expected \(n_val, n_classes\)"):
        _read(course, _write(course.tmp, arrays))


def test_rows_mismatched_across_keys(course):
    arrays = course_arrays("vanilla")
    arrays["labels"] = arrays["labels"][:-1]
    with pytest.raises(ArtifactError, match=r"rows mismatched across keys \(logits: 12, labels: 11, "
                                            r"val_tiers: 12, preds: 12\)"):
        _read(course, _write(course.tmp, arrays))


def test_wrong_dtype(course):
    arrays = course_arrays("vanilla")
    arrays["labels"] = arrays["labels"].astype(np.float64)
    with pytest.raises(ArtifactError, match=r"'labels' has dtype float64, expected int \(any width\)"):
        _read(course, _write(course.tmp, arrays))
    tt = {"logits": course_arrays("teacher_train_test")["logits"].astype(np.float32)}
    with pytest.raises(ArtifactError, match=r"'logits' has dtype float32, expected float16"):
        _read(course, _write(course.tmp, tt), name="teacher_train_test")


def test_labels_out_of_range(course):
    arrays = course_arrays("vanilla")
    arrays["labels"][3] = 5
    arrays["labels"][4] = -1
    with pytest.raises(ArtifactError, match=r"'labels' is out of range: values from -1 to 5, expected class "
                                            r"ids in \[0, 4\] \(n_classes = 5\); 2 row\(s\) outside"):
        _read(course, _write(course.tmp, arrays))


def test_preds_out_of_range(course):
    arrays = course_arrays("vanilla")
    arrays["preds"][0] = 99
    with pytest.raises(ArtifactError, match=r"'preds' is out of range"):
        _read(course, _write(course.tmp, arrays))


def test_unknown_tier(course):
    arrays = course_arrays("teacher_val")
    arrays["tiers"] = np.where(arrays["tiers"] == "tail", "Tail", arrays["tiers"])
    with pytest.raises(ArtifactError, match=r"'tiers' has unknown tier name\(s\) \['Tail'\]; "
                                            r"allowed: \['head', 'mid', 'tail'\]"):
        _read(course, _write(course.tmp, arrays), name="teacher_val")


def test_non_finite_logits(course):
    arrays = course_arrays("vanilla")
    arrays["logits"][0, 0] = np.nan
    with pytest.raises(ArtifactError, match=r"'logits' has 1 non-finite value"):
        _read(course, _write(course.tmp, arrays))


def test_object_arrays_need_a_pinned_file(course):
    arrays = course_arrays("teacher_val")
    arrays["tiers"] = arrays["tiers"].astype(object)
    path = _write(course.tmp, arrays)
    entry = course.manifest.entry("teacher_val")
    with pytest.raises(ArtifactError, match=r"object \(pickled\) arrays.*data lock teacher_val"):
        data.read_arrays(path, entry, course.manifest, origin="hub", cache=course.tmp / "course")
    out = data.read_arrays(path, entry, course.manifest, origin="hub", trusted=True)
    assert out["tiers"].dtype.kind == "U"


def test_malformed_manifest_surfaces_as_artifact_error(course, monkeypatch):
    bad = course.tmp / "bad.yaml"
    bad.write_text(SMALL_MANIFEST.replace("repo_type: model", "repo_type: space", 1))
    with pytest.raises(ArtifactError, match=r"entry 'vanilla': field 'repo_type' must be one of "
                                            r"\['dataset', 'model'\], got 'space'"):
        load("vanilla", source="synthetic", manifest=bad)


# --------------------------------------------------------------------------- the real generator
def test_real_synthetic_data_matches_the_real_manifest(tmp_path, monkeypatch):
    """Every embedded artifact passes the published schema (the contract between the two modules)."""
    pytest.importorskip("helpers.data.synthetic")
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))
    monkeypatch.delenv("COURSE_MANIFEST", raising=False)
    manifest = load_manifest()
    for name in manifest.entries:
        ps = load(name, source="synthetic", manifest=manifest)
        assert ps.source == "synthetic"
        n_rows = manifest.dims["n_train_test" if name == "teacher_train_test" else "n_val"]
        assert ps.logits.shape == (n_rows, manifest.dims["n_classes"])
