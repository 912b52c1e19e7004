"""Scenario A's latency: measured on the serving GPU, or refused with what to measure; never invented."""
import pytest
import torch

from helpers import latency


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_without_a_gpu_there_is_no_number_only_what_to_measure():
    with pytest.raises(latency.LatencyUnavailable) as err:
        latency.measure()
    msg = str(err.value)
    assert "serving hardware" in msg and "ModernBERT-base" in msg and "stand-in" in msg
    with pytest.raises(latency.LatencyUnavailable):
        latency.measure(device="cuda")


@pytest.mark.parametrize("kwargs,match", [({"precision": "int8"}, "precision"), ({"batch_sizes": ()}, "batch_sizes"),
                                          ({"seq_len": 0}, "seq_len"), ({"batch_sizes": (0,)}, "batch size"),
                                          ({"n_batches": 1.5}, "n_batches")])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        latency.measure(device="cpu", **{"precision": "fp32", **kwargs})


def test_fp16_on_a_cpu_is_refused():
    with pytest.raises(ValueError, match="needs a GPU"):
        latency.measure(device="cpu", precision="fp16")


def test_a_cpu_deployment_is_timed_and_labelled_as_such(tmp_path):
    pytest.importorskip("transformers")
    from helpers.training.tiny import ensure_tiny_setup
    setup = ensure_tiny_setup(tmp_path / "tiny")
    df = latency.measure(setup["model"], device="cpu", precision="fp32", batch_sizes=(1, 4), seq_len=16,
                         n_warmup=1, n_batches=2, num_labels=8)
    assert list(df.index) == [1, 4] and (df["device"] == "cpu").all() and (df["ms_per_example"] > 0).all()
    assert df["examples_per_s"].iloc[0] == pytest.approx(1000 / df["ms_per_example"].iloc[0])
