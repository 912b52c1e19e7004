"""data_manifest.yaml: the shipped file's content, its lookup, validation messages, and write-back."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from fakehub import SMALL_MANIFEST

import helpers
from helpers.data.manifest import ArtifactError, ManifestError, load_manifest, manifest_path

ROOT = Path(helpers.__file__).resolve().parent.parent
NAMES = ["teacher_val", "teacher_train_test", "vanilla", "distilled", "grid_Td1_a70", "grid_Td1_a90",
         "grid_Td4_a70", "grid_Td4_a90", "grid_Td8_a70", "grid_Td8_a90"]


# --------------------------------------------------------------------------- the shipped manifest
@pytest.fixture
def shipped(monkeypatch):
    monkeypatch.delenv("COURSE_MANIFEST", raising=False)
    return load_manifest()


def test_shipped_manifest_lists_every_artifact(shipped):
    assert list(shipped.entries) == NAMES
    assert shipped.dims == {"n_val": 6430, "n_classes": 113, "n_train_test": 79278}
    assert shipped.tiers == ("head", "mid", "tail")
    assert shipped.path == ROOT / "data_manifest.yaml"


def test_shipped_manifest_matches_the_published_repos(shipped):
    def where(name):
        e = shipped[name]
        return e.repo_type, e.repo_id, e.filename

    assert where("teacher_val") == ("dataset", "earino/ecbs5200-week6-teacher-logits",
                                    "val_logits_canonical_final.npz")
    assert where("teacher_train_test") == ("dataset", "earino/ecbs5200-week6-teacher-logits",
                                           "train_test_logits_qwen3_32b_canonical_final.npz")
    assert where("vanilla") == ("model", "earino/ecbs5200-week6-vanilla-baseline", "val_predictions.npz")
    assert where("distilled") == ("model", "earino/ecbs5200-week6-distilled-student", "val_predictions.npz")
    for td in (1, 4, 8):
        for a in (70, 90):
            assert where(f"grid_Td{td}_a{a}") == ("dataset", "earino/ecbs5200-week6-grid-results",
                                                  f"grid_Td{td}_a{a}_val_predictions.npz")


def test_shipped_schema_keys_aliases_and_users(shipped):
    assert shipped["teacher_val"].schema["tiers"].key == "tiers"
    assert "preds" not in shipped["teacher_val"].schema
    for name in NAMES[2:]:
        s = shipped[name].schema
        assert {r: f.key for r, f in s.items()} == {"logits": "logits", "labels": "labels",
                                                    "tiers": "val_tiers", "preds": "preds"}
        assert s["tiers"].values == ("head", "mid", "tail")
        assert shipped.shape_of(s["logits"]) == (6430, 113)
    tt = shipped["teacher_train_test"]
    assert list(tt.schema) == ["logits"] and tt.schema["logits"].dtype == "float16"
    assert shipped.shape_of(tt.schema["logits"]) == (79278, 113)
    assert shipped["grid_Td4_a70"].used_by == ("homework",)
    assert set(shipped["vanilla"].used_by) == {"lab", "homework"}
    for e in shipped.entries.values():  # unpinned or fully pinned, never half
        assert (e.sha256 is None) == (e.size is None)


# --------------------------------------------------------------------------- lookup
def test_lookup_prefers_the_env_var(tmp_path, monkeypatch):
    p = tmp_path / "m.yaml"
    p.write_text(SMALL_MANIFEST)
    monkeypatch.setenv("COURSE_MANIFEST", str(p))
    assert manifest_path() == p and list(load_manifest().entries) == NAMES[:4]
    monkeypatch.delenv("COURSE_MANIFEST")
    assert manifest_path() == ROOT / "data_manifest.yaml"


def test_missing_manifest_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_MANIFEST", str(tmp_path / "nope.yaml"))
    with pytest.raises(ManifestError, match=r"manifest not found at .*nope\.yaml \(from \$COURSE_MANIFEST\)"):
        load_manifest()


# --------------------------------------------------------------------------- malformed
BAD = [  # (replace this, with that, message must match)
    ("    filename: val_predictions.npz\n", "",
     r"entry 'vanilla': missing field 'filename'"),
    ("    size: null\n    used_by: [lab, homework]\n    schema: &student",
     "    size: big\n    used_by: [lab, homework]\n    schema: &student",
     r"entry 'vanilla': field 'size' must be a positive int \(bytes\) or null, got 'big'"),
    ("    sha256: null   # filled by data lock", "    sha256: ABC123",
     r"entry 'teacher_val': field 'sha256' must be 64 lowercase hex characters or null, got 'ABC123'"),
    ("    repo_type: dataset\n    revision: main\n    filename: val_logits",
     "    repo_type: space\n    revision: main\n    filename: val_logits",
     r"entry 'teacher_val': field 'repo_type' must be one of \['dataset', 'model'\], got 'space'"),
    ("shape: [n_train_test, n_classes]", "shape: [n_rows, n_classes]",
     r"entry 'teacher_train_test': field 'schema.logits': 'shape' uses unknown dim name 'n_rows'"),
    ("{key: logits, dtype: float16,", "{key: logits, dtype: half,",
     r"entry 'teacher_train_test': field 'schema.logits': 'dtype' must be one of \[.*\], got 'half'"),
    ("      preds: {key: preds,", "      predictions: {key: preds,",
     r"entry 'vanilla': field 'schema.predictions': unknown role 'predictions'"),
    ("    used_by: [training]", "    used_by: [slides]",
     r"entry 'teacher_train_test': field 'used_by' must be a list drawn from"),
    ("    repo_id: course/vanilla", "    repo_id: vanilla",
     r"entry 'vanilla': field 'repo_id' must look like 'owner/name', got 'vanilla'"),
    ("    revision: main\n    filename: val_logits", "    revision: 7\n    filename: val_logits",
     r"entry 'teacher_val': field 'revision' must be a non-empty string, got 7"),
    ("    sha256: null   # filled by data lock", "    sha256: null\n    license: mit",
     r"entry 'teacher_val': unknown field\(s\) \['license'\]"),
    ("  n_classes: 5", "  n_classes: five", r"dims\.n_classes must be a positive int, got 'five'"),
    ("tiers: &tiers [head, mid, tail]", "tiers: &tiers head", r"field 'tiers' must be a non-empty list"),
    ("artifacts:\n", "artifacts: [\n", r"not valid YAML"),
    ("classes: n_classes}\n      tiers: {key: tiers", "classes: n_labels}\n      tiers: {key: tiers",
     r"entry 'teacher_val': field 'schema.labels': 'classes' must name a dim"),
]


@pytest.mark.parametrize("old, new, message", BAD, ids=[b[2][:40] for b in BAD])
def test_malformed_manifest_names_entry_and_field(tmp_path, old, new, message):
    assert old in SMALL_MANIFEST, old
    p = tmp_path / "m.yaml"
    p.write_text(SMALL_MANIFEST.replace(old, new, 1))
    with pytest.raises(ManifestError, match=message):
        load_manifest(p)


def test_manifest_errors_are_artifact_errors_and_value_errors():
    assert issubclass(ManifestError, ArtifactError) and issubclass(ManifestError, ValueError)


# --------------------------------------------------------------------------- write-back
SHA = "0123456789abcdef" * 4
COMMIT = "89abcdef01234567" * 2 + "01234567"


def test_pin_and_save_keep_comments_and_layout(tmp_path):
    p = tmp_path / "m.yaml"
    p.write_text(SMALL_MANIFEST)
    m = load_manifest(p)
    m.pin("teacher_val", revision=COMMIT, sha256=SHA, size=1280)
    m.save()
    text = p.read_text()
    assert text.splitlines()[0] == "# miniature course manifest (tests)"
    assert f'    sha256: "{SHA}"   # filled by data lock' in text
    assert f'    revision: "{COMMIT}"' in text
    assert text.count("revision: main") == 3 and "schema: *student" in text  # others untouched
    again = load_manifest(p)
    assert again["teacher_val"].is_pinned and again["teacher_val"].size == 1280
    assert again.entries["vanilla"] == m.entries["vanilla"]


def test_save_falls_back_to_a_full_dump_for_unusual_layouts(tmp_path):
    raw = yaml.safe_load(SMALL_MANIFEST)
    p = tmp_path / "m.yaml"
    p.write_text(yaml.safe_dump(raw, default_flow_style=True))  # one long flow-style line
    m = load_manifest(p)
    m.pin("vanilla", revision=COMMIT, sha256=SHA, size=10)
    m.save()
    again = load_manifest(p)
    assert again["vanilla"].sha256 == SHA and again["teacher_val"] == m["teacher_val"]
    assert list(again.entries) == list(m.entries)


def test_pin_validates_its_arguments(tmp_path):
    p = tmp_path / "m.yaml"
    p.write_text(SMALL_MANIFEST)
    m = load_manifest(p)
    with pytest.raises(ManifestError, match="revision must be a 40-hex commit sha, got 'main'"):
        m.pin("vanilla", revision="main", sha256=SHA, size=1)
    with pytest.raises(ManifestError, match="field 'sha256' must be 64 lowercase hex"):
        m.pin("vanilla", revision=COMMIT, sha256="xyz", size=1)
    with pytest.raises(ArtifactError, match="name must be one of"):
        m.pin("vanila", revision=COMMIT, sha256=SHA, size=1)


def test_lookup_falls_back_to_the_copy_inside_the_package(tmp_path, monkeypatch):
    import helpers.data.manifest as manifest_module

    package = tmp_path / "site-packages" / "helpers"
    package.mkdir(parents=True)
    (package / "data_manifest.yaml").write_text(SMALL_MANIFEST)
    monkeypatch.delenv("COURSE_MANIFEST", raising=False)
    monkeypatch.setattr(manifest_module, "__file__", str(package / "data" / "manifest.py"))
    assert manifest_path() == package / "data_manifest.yaml"
