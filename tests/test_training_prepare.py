"""``python -m helpers train prepare``: the real Hub download path against the fake Hub on 127.0.0.1.

A miniature course dataset (two train shards of 20 rows, a test split of 10,
seven raw labels of which six merge into four canonical ones and one is
dropped) is written as parquet, served by tests/fakehub.py, downloaded with
huggingface_hub and turned into training files; the outputs are compared with
an independent re-implementation of the course's rule.  Everything lives under
tmp_path: no network, no file in the working tree.
"""
from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import yaml

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from fakehub import FakeHub, npz_bytes, point_hub_clients_at, reset_hub_session, set_offline  # noqa: E402

from helpers.data import HubMissing, HubOffline  # noqa: E402
from helpers.data.manifest import ManifestError, load_manifest  # noqa: E402
from helpers.training import cli  # noqa: E402
from helpers.training.config import TrainConfig  # noqa: E402
from helpers.training.course_data import course_config  # noqa: E402
from helpers.training.data import load_training_data  # noqa: E402
from helpers.training.prepare import PrepareError, prepare  # noqa: E402

REPO = "course/complaints"
TEXT, LABEL = "Consumer Complaint", "Issue"
LABELS = ["Mortgage", "Card", "Loan", "Fees"]             # class id = position (not sorted on purpose)
N_LABELS = len(LABELS)
MERGE = {"_comment": "old label -> canonical; keys starting with _ are notes", "Credit card": "Card",
         "Old loan": "Loan"}
RAW_TRAIN = ["Loan"] * 10 + ["Old loan"] * 4 + ["Card"] * 6 + ["Credit card"] * 3 + ["Mortgage"] * 8 \
    + ["Fees"] * 5 + ["Gone"] * 4                        # 40 rows; "Gone" is in no list: dropped
RAW_TEST = ["Loan", "Card", "Loan", "Credit card", "Mortgage", "Gone", "Fees", "Loan", "Old loan", "Card"]


def _raw():
    rng = np.random.default_rng(7)
    train_labels = [RAW_TRAIN[i] for i in rng.permutation(len(RAW_TRAIN))]
    train = [(f"train row {i}: a complaint about {lab.lower()}", lab) for i, lab in enumerate(train_labels)]
    test = [(f"test row {i}: a complaint about {lab.lower()}", lab) for i, lab in enumerate(RAW_TEST)]
    perm = rng.permutation(len(train))
    return train, test, [int(i) for i in perm[:30]], [int(i) for i in perm[30:38]]  # 2 rows unused


TRAIN, TEST, TRAIN_IDX, VAL_IDX = _raw()


def expected():
    """The course's rule, written out independently: index, merge, filter; tiers by train+test frequency."""
    def rows(pairs):
        out = []
        for text, raw in pairs:
            canon = MERGE.get(raw, raw)
            if canon in LABELS:
                out.append((text, LABELS.index(canon)))
        return out

    train_test = rows([TRAIN[i] for i in TRAIN_IDX]) + rows(TEST)
    val = rows([TRAIN[i] for i in VAL_IDX])
    counts = Counter(y for _, y in train_test)
    ranked = sorted(range(len(LABELS)), key=lambda c: (-counts[c], c))
    tier = {ranked[0]: "head", ranked[1]: "mid", ranked[2]: "tail", ranked[3]: "tail"}  # 4 classes: 1 / 1 / 2
    return train_test, val, tier


def parquet(pairs) -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.table({LABEL: [lab for _, lab in pairs], TEXT: [t for t, _ in pairs]}), buf)
    return buf.getvalue()


def manifest_text(n_train_test, n_val, n_classes=N_LABELS, train_pattern="data/train-*.parquet"):
    return f"""\
version: 1
dims:
  n_val: {n_val}
  n_classes: {n_classes}
  n_train_test: {n_train_test}
tiers: [head, mid, tail]
artifacts:
  teacher_train_test:
    repo_id: course/teacher-logits
    repo_type: dataset
    revision: main
    filename: train_test_logits.npz
    sha256: null
    size: null
    used_by: [training]
    schema:
      logits: {{key: logits, dtype: float16, shape: [n_train_test, n_classes]}}
datasets:
  course_dataset:
    kind: dataset_files
    repo_id: {REPO}
    repo_type: dataset
    revision: main
    files:
      train: {train_pattern}
      test: data/test-*.parquet
    text_column: {TEXT}
    label_column: {LABEL}
    used_by: [training]
"""


def teacher_logits(n_rows, n_classes=N_LABELS):
    train_test, _, _ = expected()
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(n_rows, n_classes))
    for i, (_, y) in enumerate(train_test[:n_rows]):
        logits[i, y] += 4.0  # a teacher that mostly agrees with the labels
    return logits.astype(np.float16)


@pytest.fixture
def course(tmp_path, monkeypatch):
    """The fake Hub serving the miniature dataset, a manifest for it, the split files; every cache under tmp."""

    hub = FakeHub()
    hub.start()
    hub.add_file("dataset", REPO, "README.md", b"# miniature complaints\n", lfs=False)
    hub.add_file("dataset", REPO, "data/train-00000-of-00002-aaaa.parquet", parquet(TRAIN[:20]))
    hub.add_file("dataset", REPO, "data/train-00001-of-00002-bbbb.parquet", parquet(TRAIN[20:]))
    commit = hub.add_file("dataset", REPO, "data/test-00000-of-00001-cccc.parquet", parquet(TEST))
    train_test, val, _ = expected()
    hub.add_file("dataset", "course/teacher-logits", "train_test_logits.npz",
                 npz_bytes({"logits": teacher_logits(len(train_test))}))

    manifest = tmp_path / "data_manifest.yaml"
    manifest.write_text(manifest_text(len(train_test), len(val)))
    split = tmp_path / "split"
    split.mkdir()
    for name, obj in (("train_indices.json", TRAIN_IDX), ("val_indices.json", VAL_IDX),
                      ("label_merge_mapping.json", MERGE), ("label_list.json", LABELS)):
        (split / name).write_text(json.dumps(obj))

    point_hub_clients_at(hub, monkeypatch, tmp_path, manifest)
    monkeypatch.setattr("helpers.data.hub.sleep", lambda s: None)
    yield type("Course", (), {"hub": hub, "commit": commit, "manifest": manifest, "split": split, "tmp": tmp_path,
                              "out": tmp_path / "prepared"})
    hub.stop()
    reset_hub_session()


def read_jsonl(path):
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]


def run(course, *extra, capsys=None):
    rc = cli.main(["prepare", "--split-dir", str(course.split), "--out", str(course.out), *extra])
    return rc, (capsys.readouterr().err if capsys is not None else None)


# --------------------------------------------------------------------------- the happy path
def test_prepare_downloads_through_the_hub_and_writes_the_canonical_rows(course, capsys):
    rc, err = run(course, capsys=capsys)
    assert rc == 0, err
    train_test, val, tier = expected()
    got_tt, got_val = read_jsonl(course.out / "train_test.jsonl"), read_jsonl(course.out / "val.jsonl")

    # rows of the train split at train_indices (that order), then the whole test split; "Gone" dropped
    assert [(r["text"], r["label"]) for r in got_tt] == train_test
    assert [(r["text"], r["label"]) for r in got_val] == val
    assert got_tt[0]["text"].startswith(f"train row {TRAIN_IDX[0]}:")
    assert got_tt[-1]["text"].startswith("test row 9:")
    assert all(r["label_name"] == LABELS[r["label"]] for r in got_tt + got_val)
    assert all(r["tier"] == tier[r["label"]] for r in got_tt + got_val)
    assert {r["tier"] for r in got_tt} == {"head", "mid", "tail"}
    assert json.loads((course.out / "label_list.json").read_text()) == LABELS

    card = json.loads((course.out / "prepare_card.json").read_text())
    assert card["dataset"]["commit"] == course.commit and card["dataset"]["revision"] == "main"
    assert [f["path"] for f in card["dataset"]["files"]["train"]] == [
        "data/train-00000-of-00002-aaaa.parquet", "data/train-00001-of-00002-bbbb.parquet"]
    assert card["dataset"]["rows"] == {"train": 40, "test": 10}
    n_gone = sum(TRAIN[i][1] == "Gone" for i in TRAIN_IDX)
    assert card["counts"]["train_test"] == len(train_test) == 30 - n_gone + 9
    assert card["counts"]["dropped"]["test_split"] == 1 and card["counts"]["dropped"]["train_indices"] == n_gone
    assert card["tiers"] == {"head": 1, "mid": 1, "tail": 2}
    assert set(card["split_files"]["sha256"]) == {"train_indices.json", "val_indices.json",
                                                  "label_merge_mapping.json", "label_list.json"}
    assert card["outputs"]["train_test.jsonl"]["rows"] == len(train_test)
    assert course.hub.count("GET", "/resolve/") >= 3  # really downloaded, all three parquet files
    assert not any("README" in p for m, p in course.hub.requests if m == "GET" and "/resolve/" in p)


def test_offline_rerun_uses_the_hub_cache_and_gives_identical_files(course, monkeypatch):
    assert run(course)[0] == 0
    first = json.loads((course.out / "prepare_card.json").read_text())["outputs"]
    course.hub.requests.clear()
    set_offline(monkeypatch, True)
    course.out = course.tmp / "again"
    assert run(course)[0] == 0
    assert json.loads((course.out / "prepare_card.json").read_text())["outputs"] == first
    assert course.hub.requests == []


def test_offline_without_a_cache_says_how_to_fix(course, monkeypatch, capsys):
    set_offline(monkeypatch, True)
    rc, err = run(course, capsys=capsys)
    assert rc == 1
    assert "offline mode is on (HF_HUB_OFFLINE=1)" in err and REPO in err and "unset HF_HUB_OFFLINE" in err
    with pytest.raises(HubOffline, match=r"offline mode is on .* run the command again"):
        prepare(course.split, course.out, log=lambda line: None)


def test_teacher_with_the_right_rows_is_recorded(course, capsys):
    rc, err = run(course, "--teacher-logits", "hub", capsys=capsys)
    assert rc == 0, err
    card = json.loads((course.out / "prepare_card.json").read_text())
    assert card["teacher_logits"]["shape"] == [card["counts"]["train_test"], len(LABELS)]


# --------------------------------------------------------------------------- the errors
def test_missing_split_files_are_named_before_any_download(course, capsys):
    (course.split / "val_indices.json").unlink()
    (course.split / "label_list.json").unlink()
    rc, err = run(course, capsys=capsys)
    assert rc == 1
    assert "--split-dir" in err and "missing val_indices.json, label_list.json" in err
    assert "expected all four: train_indices.json, val_indices.json, label_merge_mapping.json, label_list.json" in err
    assert "github.com/earino/applied-deep-learning" in err
    assert course.hub.requests == []
    assert not course.out.exists()


def test_missing_split_folder(course, capsys):
    rc, err = cli.main(["prepare", "--split-dir", str(course.tmp / "nope"), "--out", str(course.out)]), \
        capsys.readouterr().err
    assert rc == 1 and "--split-dir: no such folder" in err and "train_indices.json" in err


def test_indices_past_the_end_of_the_train_split(course, capsys):
    (course.split / "val_indices.json").write_text(json.dumps(VAL_IDX[:-1] + [40, 99]))
    rc, err = run(course, capsys=capsys)
    assert rc == 1
    assert "val_indices.json holds 2 row index(es) past the end of the dataset's train split" in err
    assert "(40 rows at commit" in err and "indices must be 0..39" in err and "40, 99" in err
    assert not (course.out / "prepare_card.json").exists()


def test_bad_index_files(course, capsys):
    (course.split / "train_indices.json").write_text(json.dumps(TRAIN_IDX + [VAL_IDX[0]]))
    rc, err = run(course, capsys=capsys)
    assert rc == 1 and "1 row(s) are in both train_indices.json and val_indices.json" in err
    (course.split / "train_indices.json").write_text(json.dumps(["3", "4"]))
    rc, err = run(course, capsys=capsys)
    assert rc == 1 and "train_indices.json must be a non-empty JSON list of row indices (integers)" in err
    (course.split / "train_indices.json").write_text(json.dumps([1, 2, 2]))
    rc, err = run(course, capsys=capsys)
    assert rc == 1 and "train_indices.json lists 1 row(s) more than once, e.g. 2" in err


def test_labels_not_in_the_label_list_after_merging(course, capsys):
    (course.split / "label_merge_mapping.json").write_text(json.dumps({"Old loan": "Loan"}))  # Credit card lost
    rc, err = run(course, capsys=capsys)
    assert rc == 1
    n_cc = sum(TRAIN[i][1] == "Credit card" for i in TRAIN_IDX + VAL_IDX) + RAW_TEST.count("Credit card")
    assert "train+test rows" in err and "(dims.n_train_test)" in err
    assert "because their label after label_merge_mapping.json is not in label_list.json" in err
    assert f"'Credit card' ({n_cc} rows)" in err and "'Gone'" in err
    assert "github.com/earino/applied-deep-learning" in err


def test_label_list_of_the_wrong_size(course, capsys):
    (course.split / "label_list.json").write_text(json.dumps(LABELS[:3]))
    rc, err = run(course, capsys=capsys)
    assert rc == 1 and "label_list.json has 3 labels; expected 4 (dims.n_classes" in err


def test_teacher_with_the_wrong_row_count(course, tmp_path, capsys):
    train_test, _, _ = expected()
    bad = tmp_path / "teacher.npz"
    np.savez(bad, logits=teacher_logits(len(train_test) - 1))
    rc, err = run(course, "--teacher-logits", str(bad), capsys=capsys)
    assert rc == 1
    assert "--teacher-logits" in err and f"shape ({len(train_test) - 1}, 4)" in err
    assert f"expected ({len(train_test)}, 4)" in err and "one row per prepared train+test row" in err
    rc, err = run(course, "--teacher-logits", str(tmp_path / "none.npz"), capsys=capsys)
    assert rc == 1 and "--teacher-logits: no such file" in err and "data fetch teacher_train_test" in err


def test_a_pattern_that_matches_nothing(course, capsys):
    train_test, val, _ = expected()
    course.manifest.write_text(manifest_text(len(train_test), len(val), train_pattern="data/training-*.parquet"))
    rc, err = run(course, capsys=capsys)
    assert rc == 1 and "datasets.course_dataset.files.train" in err and "'data/training-*.parquet'" in err
    assert "data/train-00000-of-00002-aaaa.parquet" in err


def test_an_unknown_revision_is_not_retried(course, capsys):
    train_test, val, _ = expected()
    course.manifest.write_text(manifest_text(len(train_test), len(val)).replace("revision: main\n    files",
                                                                                "revision: v9\n    files"))
    rc, err = run(course, capsys=capsys)
    assert rc == 1 and "revision 'v9'" in err and "datasets.course_dataset in data_manifest.yaml" in err
    assert course.hub.url in err  # the endpoint in use (helpers.data.settings.endpoint()), not a hard-coded one
    assert course.hub.count("GET", "/api/") == 1
    # the data layer's typed error, not a second message switch: the same class as an artifact's 404
    with pytest.raises(HubMissing) as info:
        prepare(course.split, course.out, log=lambda line: None)
    assert "datasets.course_dataset" in info.value.fix and not info.value.retry


# --------------------------------------------------------------------------- the manifest section
def test_shipped_manifest_names_the_course_dataset(monkeypatch):
    monkeypatch.delenv("COURSE_MANIFEST", raising=False)
    ds = load_manifest().dataset("course_dataset")
    assert (ds.kind, ds.repo_type) == ("dataset_files", "dataset")
    assert ds.repo_id == "determined-ai/consumer_complaints_medium"
    assert (ds.text_column, ds.label_column) == ("Consumer Complaint", "Issue")
    assert set(ds.files) == {"train", "test"}


@pytest.mark.parametrize("old, new, message", [
    ("    kind: dataset_files\n", "", r"dataset 'course_dataset': missing field 'kind'"),
    ("kind: dataset_files", "kind: npz", r"field 'kind' must be one of \['dataset_files'\], got 'npz'"),
    (f"    label_column: {LABEL}\n", f"    label_column: {LABEL}\n    sha256: null\n",
     r"dataset 'course_dataset': unknown field\(s\) \['sha256'\]"),
    ("      train: data/train-*.parquet", "      train: ../train.parquet",
     r"field 'files.train' must be a path inside the repo"),
])
def test_malformed_dataset_section(tmp_path, old, new, message):
    text = manifest_text(10, 5)
    assert old in text
    p = tmp_path / "m.yaml"
    p.write_text(text.replace(old, new, 1))
    with pytest.raises(ManifestError, match=message):
        load_manifest(p)


def test_pin_and_save_keep_the_dataset_section(tmp_path):
    p = tmp_path / "m.yaml"
    p.write_text(manifest_text(10, 5))
    m = load_manifest(p)
    m.pin("teacher_train_test", revision="a" * 40, sha256="b" * 64, size=3)
    m.save()
    assert load_manifest(p).datasets == m.datasets
    p.write_text(yaml.safe_dump(yaml.safe_load(manifest_text(10, 5)), default_flow_style=True))  # full-dump path
    m = load_manifest(p)
    m.pin("teacher_train_test", revision="a" * 40, sha256="b" * 64, size=3)
    m.save()
    assert load_manifest(p).datasets == m.datasets


# --------------------------------------------------------------------------- training from the folder
def test_data_course_reads_the_prepared_folder(course):
    assert run(course)[0] == 0
    train_test, val, tier = expected()
    cfg = course_config(TrainConfig(data="course", recipe="kd"), str(course.out))
    assert cfg.data == "files" and cfg.train_file == str(course.out / "train_test.jsonl")
    assert Path(cfg.teacher_logits).is_file()  # teacher_train_test, fetched through the manifest
    data = load_training_data(cfg)
    assert data.train_texts == [t for t, _ in train_test] and data.label_names == LABELS
    np.testing.assert_array_equal(data.val_labels, [y for _, y in val])
    assert list(data.val_tiers) == [tier[y] for _, y in val]
    assert data.teacher_logits.shape == (len(train_test), len(LABELS))
    vanilla = course_config(TrainConfig(data="course", recipe="vanilla"), str(course.out))
    assert vanilla.teacher_logits is None


def test_a_library_caller_reads_the_folder_it_names_as_the_cli_does(course):
    """``--data course`` is resolved in one place: ``load_training_data`` (what ``train(cfg)`` calls) reads
    ``cfg.prepared``, not the default folder, and gets what the command line's resolution gets."""
    assert run(course)[0] == 0
    cfg = TrainConfig(data="course", recipe="kd", prepared=str(course.out)).validate()
    library = load_training_data(cfg)
    cli_side = load_training_data(course_config(cfg))
    assert library.digests == cli_side.digests and library.label_names == LABELS
    assert library.train_texts == [t for t, _ in expected()[0]]
    with pytest.raises(PrepareError.__mro__[1], match=r"--prepared: .*elsewhere holds no prepare_card.json"):
        load_training_data(TrainConfig(data="course", recipe="vanilla", prepared=str(course.tmp / "elsewhere")))


def test_train_prepared_is_a_config_key(course, tmp_path):
    """``--prepared`` reaches the config (so a run's run_config.json and a --config file can carry it)."""
    from helpers.training.cli import resolve_config

    cfg = resolve_config({"data": "course", "prepared": str(course.out), "out": str(tmp_path / "r")},
                         grid=False, resume=False)
    assert cfg.prepared == str(course.out)
    with pytest.raises(ValueError, match="prepared must be the folder"):
        TrainConfig(data="course", prepared="").validate()


def test_data_course_refuses_a_missing_or_edited_folder(course, capsys):
    with pytest.raises(PrepareError.__mro__[1], match=r"--prepared: .* holds no prepare_card.json"):
        course_config(TrainConfig(data="course"), str(course.tmp / "nothing"))
    assert run(course)[0] == 0
    with open(course.out / "val.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps({"text": "extra", "label": 0, "tier": "head"}) + "\n")
    rc = cli.main(["--data", "course", "--prepared", str(course.out), "--recipe", "vanilla"])
    err = capsys.readouterr().err
    assert rc == 1 and "val.jsonl is changed since `train prepare` wrote it" in err and "train prepare" in err
    assert cli.main(["--data", "files", "--prepared", str(course.out)]) == 2


def test_prepare_then_train_end_to_end(course, capsys):
    pytest.importorskip("transformers")
    from helpers.training.tiny import build_tiny_model_dir

    assert run(course)[0] == 0
    train_test, val, _ = expected()
    model = build_tiny_model_dir(course.tmp / "tiny_model", [t for t, _ in train_test + val], len(LABELS))
    out = course.tmp / "run"
    rc = cli.main(["--prepared", str(course.out), "--model", str(model), "--recipe", "kd", "--max-steps", "2",
                   "--batch-size", "8", "--epochs", "1", "--out", str(out), "--no-progress", "--no-save-model",
                   "--device", "cpu"])
    assert rc == 0, capsys.readouterr().err
    with np.load(out / "val_predictions.npz") as z:
        assert z["logits"].shape == (len(val), len(LABELS))
        np.testing.assert_array_equal(z["labels"], [y for _, y in val])
    saved = json.loads((out / "run_config.json").read_text())
    assert saved["train_file"] == str(course.out / "train_test.jsonl") and saved["label_column"] == "label"

    # the library path: train(cfg) with data="course" reads the same folder and predicts the same rows
    from helpers.training.trainer import train

    lib = course.tmp / "run_lib"
    train(TrainConfig(data="course", prepared=str(course.out), model=str(model), recipe="kd", max_steps=2,
                      batch_size=8, epochs=1, out=str(lib), progress=False, save_model=False, precision="fp32"))
    with np.load(lib / "val_predictions.npz") as z, np.load(out / "val_predictions.npz") as c:
        np.testing.assert_array_equal(z["labels"], c["labels"])
        np.testing.assert_allclose(z["logits"], c["logits"], rtol=1e-4, atol=1e-5)
