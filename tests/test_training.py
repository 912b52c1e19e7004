"""The trainer, in process, on a tiny ModernBERT and the synthetic corpus (CPU, offline).

Subprocess tests (kill-and-resume, two-process DDP) are in test_training_processes.py.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from helpers.training import cli  # noqa: E402
from helpers.training.config import TrainConfig, grid_name  # noqa: E402
from helpers.training.corpus import make_corpus  # noqa: E402
from helpers.training.data import (  # noqa: E402
    TeacherAlignmentError,
    assign_tiers,
    check_teacher_alignment,
    collate,
    length_grouped_batches,
    shard_batch,
    texts_digest,
)
from helpers.training.tiny import ensure_tiny_setup  # noqa: E402
from helpers.training.trainer import Trainer, TrainingDiverged, train  # noqa: E402

FAST = dict(epochs=1, batch_size=16, lr=3e-3, warmup_ratio=0.1, log_every=5, progress=False)


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    return ensure_tiny_setup(tmp_path_factory.getbasetemp() / "tiny_training")


def config(tiny, out, **kw):
    base = dict(model=tiny["model"], train_file=tiny["train_file"], val_file=tiny["val_file"],
                teacher_logits=tiny["teacher_logits"], out=str(out), **FAST)
    base.update(kw)
    return TrainConfig(**base)


@pytest.fixture(scope="module")
def kd_run(tiny, tmp_path_factory):
    out = tmp_path_factory.mktemp("kd_run")
    result = train(config(tiny, out, recipe="kd", epochs=2))
    return out, result


def load_npz(path):
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


# ----------------------------------------------------------------------------- corpus and batches
def test_corpus_is_deterministic_long_tailed_and_aligned():
    a = make_corpus(300, seed=3, n_classes=20)
    b = make_corpus(300, seed=3, n_classes=20)
    assert a[0] == b[0] and np.array_equal(a[1], b[1]) and np.array_equal(a[2], b[2])
    texts, labels, teacher = a
    assert len(texts) == 300 and labels.dtype == np.int64 and teacher.dtype == np.float16
    assert teacher.shape == (300, 20) and labels.min() >= 0 and labels.max() < 20
    counts = np.bincount(labels, minlength=20)
    assert counts[0] > 5 * max(counts[-5:].max(), 1)  # head much bigger than tail
    assert (teacher.argmax(1) == labels).mean() > 0.7  # a useful teacher, aligned row for row
    assert make_corpus(300, seed=4, n_classes=20)[0] != texts


def test_tiers_follow_the_course_split_for_113_classes():
    labels = make_corpus(3000, seed=0, n_classes=113)[1]
    tiers = assign_tiers(labels, 113)
    assert [int((tiers == t).sum()) for t in ("head", "mid", "tail")] == [20, 40, 53]
    counts = np.bincount(labels, minlength=113)
    assert counts[tiers == "head"].min() >= counts[tiers == "tail"].max()


def test_length_grouped_batches_cover_each_row_once_and_group_lengths():
    rng = np.random.default_rng(0)
    lengths = rng.integers(3, 128, size=1000)
    batches = length_grouped_batches(lengths, 32, seed=1, epoch=0)
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(1000))
    assert lengths[batches[0]].max() == lengths.max()  # the longest batch first: OOM shows at step 1
    # A pure function of (seed, epoch): what makes resuming exact.
    again = length_grouped_batches(lengths, 32, seed=1, epoch=0)
    assert all(np.array_equal(x, y) for x, y in zip(batches, again))
    other = length_grouped_batches(lengths, 32, seed=1, epoch=1)
    assert not all(np.array_equal(x, y) for x, y in zip(batches, other))
    grouped = np.mean([np.ptp(lengths[b]) for b in batches])
    plain = np.mean([np.ptp(lengths[b]) for b in length_grouped_batches(lengths, 32, 1, 0, group_by_length=False)])
    assert grouped < plain / 5  # little padding per batch


def test_shard_batch_splits_a_global_batch_across_processes():
    batch = np.arange(9)
    parts = [shard_batch(batch, r, 2) for r in range(2)]
    assert np.concatenate([p[0] for p in parts]).tolist() == list(range(9))
    assert all(p[1].all() for p in parts)
    idx, real = shard_batch(np.arange(1), 1, 2)  # nothing left for rank 1: one zero-weight duplicate
    assert idx.tolist() == [0] and not real.any()


def test_collate_pads_to_the_longest_row_only():
    tokens = [np.array([1, 5, 2]), np.array([1, 5, 6, 7, 2]), np.array([1, 2])]
    ids, mask = collate(tokens, [0, 2], pad_id=0)
    assert ids.shape == (2, 3) and mask.tolist() == [[1, 1, 1], [1, 1, 0]]
    assert collate(tokens, [0, 1, 2], pad_id=0, multiple_of=8)[0].shape == (3, 8)


# ----------------------------------------------------------------------------- the model's guards
def test_mask_guard_fixes_fully_masked_rows():
    from helpers.training.model import _fix_mask
    m = torch.ones(2, 1, 4, 4, dtype=torch.bool)
    m[1, 0, 3] = False  # a query row that sees no key
    fixed = _fix_mask(m)
    assert fixed[1, 0, 3].all() and torch.equal(fixed[0], m[0]) and torch.equal(fixed[1, 0, :3], m[1, 0, :3])
    f = torch.zeros(1, 1, 3, 3)
    f[0, 0, 2] = torch.finfo(torch.float32).min
    f[0, 0, 1, 0] = torch.finfo(torch.float32).min
    fixed = _fix_mask(f)
    assert (fixed[0, 0, 2] == 0).all() and fixed[0, 0, 1, 0] == f[0, 0, 1, 0]


def test_padding_does_not_change_a_row_and_stays_finite(tiny):
    """A short text padded next to a long one (its padding beyond the sliding window:
    fully-masked rows) gets the same logits as alone, and nothing is NaN."""
    from helpers.training.model import build_model, load_tokenizer
    tok = load_tokenizer(tiny["model"])
    model = build_model(tiny["model"], tiny["n_classes"]).eval()
    long_text, short_text = " ".join(["payment"] * 100), "bank fee"
    enc = tok([long_text, short_text], padding=True, return_tensors="pt")
    assert enc["attention_mask"][1].sum() < enc["input_ids"].shape[1] - model.config.local_attention
    with torch.no_grad():
        both = model(**enc).logits
        alone = model(**tok([short_text], return_tensors="pt")).logits
    assert torch.isfinite(both).all()
    torch.testing.assert_close(both[1], alone[0], atol=1e-5, rtol=1e-5)


def test_model_uses_sdpa_and_no_compile(tiny):
    from helpers.training.model import build_model, resolve_precision
    model = build_model(tiny["model"], tiny["n_classes"])
    assert model.config._attn_implementation == "sdpa"
    assert getattr(model.config, "reference_compile", False) in (False, None)
    assert resolve_precision("auto", torch.device("cpu")) == (None, False)


# ----------------------------------------------------------------------------- teacher alignment
def test_alignment_checks_catch_count_and_order(tiny):
    texts, labels, teacher = make_corpus(200, seed=5, n_classes=8)
    check_teacher_alignment({"logits": teacher}, texts, labels)  # aligned: fine
    with pytest.raises(TeacherAlignmentError, match="199 rows but the training data has 200"):
        check_teacher_alignment({"logits": teacher[:-1]}, texts, labels)
    with pytest.raises(TeacherAlignmentError, match="text_sha256"):
        check_teacher_alignment({"logits": teacher, "text_sha256": texts_digest(texts[::-1])}, texts, labels)
    with pytest.raises(TeacherAlignmentError, match="misaligned"):  # shifted by one row, no digest
        check_teacher_alignment({"logits": np.roll(teacher, 1, axis=0)}, texts, labels)
    with pytest.raises(TeacherAlignmentError, match="row_ids"):
        check_teacher_alignment({"logits": teacher, "row_ids": np.arange(200)[::-1]}, texts, labels,
                                row_ids=np.arange(200))


def test_misaligned_teacher_stops_the_cli_before_training(tiny, tmp_path, capsys):
    with np.load(tiny["teacher_logits"]) as z:
        logits, digest = z["logits"], z["text_sha256"]
    bad = tmp_path / "teacher_short.npz"
    np.savez(bad, logits=logits[:-3], text_sha256=digest)
    out = tmp_path / "run"
    rc = cli.main(["--model", tiny["model"], "--train-file", tiny["train_file"], "--val-file", tiny["val_file"],
                   "--teacher-logits", str(bad), "--out", str(out), "--no-progress"])
    assert rc == 1
    assert "397 rows but the training data has 400" in capsys.readouterr().err
    assert not (out / "run_config.json").exists() and not (out / "checkpoint").exists()


# ----------------------------------------------------------------------------- the two recipes
def validate_with_artifacts(path, n_val, n_classes, name="distilled"):
    """Load through the artifacts' schema validation (helpers.data), with the manifest's dims set to the tiny sizes."""
    data = pytest.importorskip("helpers.data")
    manifest_mod = pytest.importorskip("helpers.data.manifest")
    import yaml
    raw = yaml.safe_load(manifest_mod.manifest_path().read_text())
    raw["dims"].update(n_val=n_val, n_classes=n_classes)
    manifest = manifest_mod.parse_manifest(raw)
    entry = manifest.entry(name)
    return data.read_arrays(Path(path), entry, manifest, origin="synthetic", trusted=False)


def test_kd_run_writes_the_notebook_schema_and_a_run_card(kd_run, tiny):
    out, result = kd_run
    arrays = load_npz(out / "val_predictions.npz")
    assert sorted(arrays) == ["labels", "logits", "preds", "val_tiers"]
    assert arrays["logits"].dtype == np.float32 and arrays["logits"].shape == (tiny["n_val"], tiny["n_classes"])
    assert np.array_equal(arrays["preds"], arrays["logits"].argmax(1))
    assert set(arrays["val_tiers"].tolist()) <= {"head", "mid", "tail"}
    checked = validate_with_artifacts(out / "val_predictions.npz", tiny["n_val"], tiny["n_classes"])
    assert np.array_equal(checked["labels"], arrays["labels"])

    card = json.loads((out / "run_card.json").read_text())
    from helpers.metrics import evaluate
    expected = evaluate(arrays["logits"], arrays["labels"], arrays["val_tiers"])
    assert card["metrics"] == pytest.approx(expected)
    assert card["config"]["recipe"] == "kd" and card["config"]["T_d"] == 4.0 and card["config"]["alpha"] == 0.7
    assert card["versions"]["torch"] and card["versions"]["transformers"]
    assert len(card["data"]["train_texts_sha256"]) == 64 and card["data"]["teacher_logits_sha256"]
    assert "git_commit" in card["code"]
    assert card["timing"]["examples_per_second"] > 0 and card["timing"]["wall_seconds"] > 0
    assert card["metrics"]["accuracy"] > 0.5  # it learned (chance is well under 0.4 here)
    assert not (out / "checkpoint" / "state.pt").exists()  # removed once finished
    assert (out / "model" / "config.json").is_file()


def mean_kl_to_teacher(model_dir, tiny, n_rows=200):
    from transformers import AutoModelForSequenceClassification

    from helpers.training.model import load_tokenizer
    rows = [json.loads(line) for line in open(tiny["train_file"])][:n_rows]
    with np.load(tiny["teacher_logits"]) as z:
        teacher = torch.from_numpy(z["logits"][:n_rows].astype(np.float32))
    tok = load_tokenizer(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=tiny["n_classes"]).eval()
    with torch.no_grad():
        s = model(**tok([r["text"] for r in rows], padding=True, return_tensors="pt")).logits
    return float(torch.nn.functional.kl_div(s.log_softmax(-1), teacher.log_softmax(-1), log_target=True,
                                            reduction="batchmean"))


def test_kd_moves_the_student_toward_the_teacher(kd_run, tiny):
    out, result = kd_run
    before = mean_kl_to_teacher(tiny["model"], tiny)
    after = mean_kl_to_teacher(str(out / "model"), tiny)
    assert after < 0.8 * before, (before, after)
    kl = [h["kl_to_teacher"] for h in result["run_card"]["history"]]
    assert kl[-1] < kl[0]


def test_vanilla_run_trains_on_hard_labels(tiny, tmp_path):
    result = train(config(tiny, tmp_path / "v", recipe="vanilla", teacher_logits=None, max_steps=6,
                          save_model=False))
    card = result["run_card"]
    assert card["config"]["recipe"] == "vanilla" and card["timing"]["steps"] == 6
    assert all(h["kl_to_teacher"] is None for h in card["history"])
    assert not (tmp_path / "v" / "model").exists()
    assert validate_with_artifacts(tmp_path / "v" / "val_predictions.npz", tiny["n_val"], tiny["n_classes"],
                                   name="vanilla")["logits"].dtype == np.float32


# ----------------------------------------------------------------------------- failure handling
def test_nan_loss_stops_with_a_clear_message_and_keeps_the_last_checkpoint(tiny, tmp_path, monkeypatch):
    original = Trainer.compute_loss

    def poisoned(self, logits, *args):
        loss, kl, ce = original(self, logits, *args)
        return (loss * float("nan") if self.step == 5 else loss), kl, ce

    monkeypatch.setattr(Trainer, "compute_loss", poisoned)
    out = tmp_path / "nan"
    with pytest.raises(TrainingDiverged, match=r"loss became NaN or infinite at step 6.*last good checkpoint"):
        train(config(tiny, out, recipe="kd", max_steps=10, checkpoint_every=2))
    state = torch.load(out / "checkpoint" / "state.pt", weights_only=False)
    assert state["position"]["step"] == 4
    assert all(torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point())
    assert not (out / "val_predictions.npz").exists()


def test_existing_checkpoint_needs_resume_and_resume_checks_the_recipe(tiny, tmp_path, monkeypatch):
    out = tmp_path / "r"
    monkeypatch.setattr(Trainer, "_finish", lambda self: (_ for _ in ()).throw(RuntimeError("killed")))
    with pytest.raises(RuntimeError, match="killed"):
        train(config(tiny, out, max_steps=5, checkpoint_every=2))
    monkeypatch.undo()
    from helpers.training.trainer import ResumeError
    with pytest.raises(ResumeError, match="pass --resume"):
        train(config(tiny, out, max_steps=5, checkpoint_every=2))
    with pytest.raises(ResumeError, match="alpha"):
        train(config(tiny, out, max_steps=5, checkpoint_every=2, alpha=0.9), resume=True)
    # --resume with only --out: the rest of the recipe comes from the run's saved config.
    rc = cli.main(["--out", str(out), "--resume", "--no-progress"])
    assert rc == 0
    card = json.loads((out / "run_card.json").read_text())
    assert card["timing"]["steps"] == 5 and card["timing"]["sessions"] == 2


def test_config_file_then_flags(tiny, tmp_path):
    path = tmp_path / "recipe.yaml"
    path.write_text("recipe: vanilla\nT-d: 8\nbatch_size: 8\nlr: 1.0e-4\n")
    cfg = cli.resolve_config({"config_file": str(path), "lr": 2e-4, "out": "x"}, grid=False, resume=False)
    assert (cfg.recipe, cfg.T_d, cfg.batch_size, cfg.lr, cfg.epochs) == ("vanilla", 8.0, 8, 2e-4, 3)
    (tmp_path / "bad.json").write_text('{"learning_rate": 1}')
    assert cli.main(["--config", str(tmp_path / "bad.json"), "--train-file", "a", "--val-file", "b"]) == 2


# ----------------------------------------------------------------------------- the grid
def test_grid_skips_finished_cells_and_resumes_an_interrupted_one(tiny, tmp_path, monkeypatch, capsys):
    from helpers.training.config import GRID
    root = tmp_path / "grid"
    names = [grid_name(t, a) for t, a in GRID]
    assert names == ["grid_Td1_a70", "grid_Td1_a90", "grid_Td4_a70", "grid_Td4_a90", "grid_Td8_a70",
                     "grid_Td8_a90"]
    root.mkdir()
    for name in names[:4] + names[5:]:  # five cells "finished" already
        (root / f"{name}_val_predictions.npz").write_bytes(b"finished earlier")
    common = ["--model", tiny["model"], "--train-file", tiny["train_file"], "--val-file", tiny["val_file"],
              "--teacher-logits", tiny["teacher_logits"], "--out", str(root), "--batch-size", "16",
              "--max-steps", "5", "--checkpoint-every", "2", "--no-progress"]

    # First session dies after the last checkpoint (step 4) of grid_Td8_a70.
    monkeypatch.setattr(Trainer, "_finish", lambda self: (_ for _ in ()).throw(RuntimeError("session killed")))
    with pytest.raises(RuntimeError, match="session killed"):
        cli.main(["grid", *common])
    monkeypatch.undo()
    assert (root / "grid_Td8_a70" / "checkpoint" / "state.pt").is_file()

    capsys.readouterr()
    assert cli.main(["grid", *common]) == 0
    log = capsys.readouterr().out
    assert log.count("exists, skipping") == 5 and "grid_Td8_a70: resuming" in log
    assert "resumed from step 4/5" in log
    card = json.loads((root / "grid_Td8_a70" / "run_card.json").read_text())
    assert (card["config"]["T_d"], card["config"]["alpha"], card["config"]["recipe"]) == (8.0, 0.7, "kd")
    assert validate_with_artifacts(root / "grid_Td8_a70_val_predictions.npz", tiny["n_val"], tiny["n_classes"],
                                   name="grid_Td8_a70")["logits"].shape == (tiny["n_val"], tiny["n_classes"])
    assert (root / "grid_Td1_a70_val_predictions.npz").read_bytes() == b"finished earlier"
    assert not (root / "grid_Td8_a70" / "model").exists()  # the grid keeps predictions, not weights

    assert cli.main(["grid", *common]) == 0  # everything done: all six skipped
    assert capsys.readouterr().out.count("exists, skipping") == 6


def test_benchmark_cpu_tiny_mode_runs(tmp_path, capsys):
    import importlib.util
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "training.py"
    spec = importlib.util.spec_from_file_location("bench_training", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--device", "cpu", "--tiny", "--steps", "4", "--batch-size", "8",
                       "--json", str(tmp_path / "b.json")]) == 0
    figures = json.loads((tmp_path / "b.json").read_text())
    assert figures["this_trainer"] > 0
    assert "examples/s" in capsys.readouterr().out


def test_a_finished_run_is_not_trained_again(kd_run, tiny, capsys):
    out, result = kd_run
    from helpers.training.trainer import ResumeError
    with pytest.raises(ResumeError, match="already holds a finished run"):
        train(config(tiny, out, recipe="kd", epochs=2))
    again = train(config(tiny, out, recipe="kd", epochs=2), resume=True)
    assert again["metrics"] == pytest.approx(result["metrics"])
    assert "nothing to do" in capsys.readouterr().out
