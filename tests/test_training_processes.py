"""The trainer as real processes: killed and resumed, and two-process DDP with gloo (CPU, offline)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from helpers.training.tiny import ensure_tiny_setup  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

# Slows each step down so that a test can signal the process part-way through.
SLOW_RUNNER = """
import sys, time
from helpers.training import trainer
delay = float(sys.argv[1])
original = trainer.Trainer._step
def slow_step(self, batch):
    time.sleep(delay)
    return original(self, batch)
trainer.Trainer._step = slow_step
from helpers.training.cli import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    return ensure_tiny_setup(tmp_path_factory.getbasetemp() / "tiny_training")


def env():
    e = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1")
    e.pop("WORLD_SIZE", None)
    return e


def train_args(tiny, out, *extra):
    return ["--model", tiny["model"], "--train-file", tiny["train_file"], "--val-file", tiny["val_file"],
            "--teacher-logits", tiny["teacher_logits"], "--out", str(out), "--recipe", "kd", "--epochs", "1",
            "--batch-size", "16", "--lr", "3e-3", "--checkpoint-every", "3", "--no-progress", "--device", "cpu",
            *extra]


def run_cli(args, timeout=240):
    return subprocess.run([sys.executable, "-m", "helpers", "train", *args], cwd=ROOT, env=env(),
                          capture_output=True, text=True, timeout=timeout)


def start_slow(args, delay=0.25):
    return subprocess.Popen([sys.executable, "-c", SLOW_RUNNER, str(delay), *args], cwd=ROOT, env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def checkpoint_step(out):
    path = Path(out) / "checkpoint" / "state.pt"
    if not path.is_file():
        return None
    return torch.load(path, map_location="cpu", weights_only=False)["position"]["step"]


def wait_for_checkpoint(proc, out, min_step, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        step = checkpoint_step(out)
        if step is not None and step >= min_step:
            return step
        if proc.poll() is not None:
            pytest.fail(f"training exited (rc {proc.returncode}) before a checkpoint at step {min_step}:\n"
                        f"{proc.stdout.read()}")
        time.sleep(0.1)
    proc.kill()
    pytest.fail(f"no checkpoint at step >= {min_step} within {timeout}s")


def weights(out):
    from safetensors.numpy import load_file
    return load_file(str(Path(out) / "model" / "model.safetensors"))


@pytest.mark.slow
def test_killed_and_resumed_run_ends_where_an_uninterrupted_one_does(tiny, tmp_path):
    reference = tmp_path / "reference"
    done = run_cli(train_args(tiny, reference))
    assert done.returncode == 0, done.stderr

    out = tmp_path / "interrupted"
    # Session 1: SIGKILL (no chance to clean up) once the checkpoint of step 3 is on disk.
    proc = start_slow(train_args(tiny, out))
    wait_for_checkpoint(proc, out, 3)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    killed_at = checkpoint_step(out)
    assert killed_at is not None and killed_at < 25

    # Session 2: resumed, then SIGTERM after the next periodic checkpoint; it saves where it is and exits.
    proc = start_slow(train_args(tiny, out, "--resume"))
    wait_for_checkpoint(proc, out, killed_at + 3)
    proc.send_signal(signal.SIGTERM)
    log = proc.communicate(timeout=60)[0]
    assert proc.returncode == 143, log
    assert f"resumed from step {killed_at}/25" in log
    assert "SIGTERM: checkpoint saved at step" in log
    terminated_at = checkpoint_step(out)
    assert killed_at + 3 <= terminated_at < 25

    # Session 3: resumed to the end.
    final = run_cli(train_args(tiny, out, "--resume"))
    assert final.returncode == 0, final.stderr
    assert f"resumed from step {terminated_at}/25" in final.stdout

    a, b = weights(reference), weights(out)
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    with np.load(reference / "val_predictions.npz") as za, np.load(out / "val_predictions.npz") as zb:
        np.testing.assert_array_equal(za["logits"], zb["logits"])
    card_a = json.loads((reference / "run_card.json").read_text())
    card_b = json.loads((out / "run_card.json").read_text())
    assert card_a["metrics"] == card_b["metrics"]
    assert card_b["timing"]["sessions"] == 3 and card_b["timing"]["examples_seen"] == 400


@pytest.mark.slow
def test_two_process_ddp_matches_a_single_process(tiny, tmp_path):
    # Batch size 9 splits 5 + 4 across the two processes, and the last batch (4 rows) 2 + 2:
    # the loss weighting must make the averaged gradient the single-process one anyway.
    extra = ["--batch-size", "9", "--max-steps", "12", "--no-save-model", "--checkpoint-every", "100"]
    single = run_cli(train_args(tiny, tmp_path / "single", *extra))
    assert single.returncode == 0, single.stderr
    ddp = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                          "-m", "helpers", "train", *train_args(tiny, tmp_path / "ddp", *extra)],
                         cwd=ROOT, env=env(), capture_output=True, text=True, timeout=300)
    assert ddp.returncode == 0, ddp.stdout + ddp.stderr
    assert ddp.stdout.count("[train] done") == 1  # only rank 0 logs
    card = json.loads((tmp_path / "ddp" / "run_card.json").read_text())
    assert card["device"]["world_size"] == 2

    with np.load(tmp_path / "single" / "val_predictions.npz") as s, \
            np.load(tmp_path / "ddp" / "val_predictions.npz") as d:
        assert np.array_equal(s["labels"], d["labels"]) and np.array_equal(s["val_tiers"], d["val_tiers"])
        np.testing.assert_allclose(d["logits"], s["logits"], atol=2e-4, rtol=1e-4)
        assert (s["preds"] == d["preds"]).mean() >= 0.99
