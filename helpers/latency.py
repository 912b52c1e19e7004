"""Scenario A's constraint, measured where it applies: the student's latency on the serving hardware.

    from helpers import latency
    latency.measure()          # on a GPU: ModernBERT-base, 113 classes, 128 tokens, fp16

Latency is a property of the model *and* the hardware it runs on: the same
149M-parameter encoder is several times slower on a laptop CPU than on a T4,
and a tiny stand-in model is fast anywhere.  So this measures the student's
own architecture (weights do not change the arithmetic, so the published
base checkpoint with a fresh 113-way head times the same as the trained
student), at the student's input length and precision, on the GPU the
notebook runs on, and refuses, saying what to measure instead, where there is
no GPU.  It never reports a number it did not measure.
"""
from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .course import N_CLASSES

if TYPE_CHECKING:  # pandas is imported when measuring, not when the module loads
    import pandas as pd

__all__ = ["measure", "LatencyUnavailable", "STUDENT", "WHY_SERVING_HARDWARE"]

STUDENT = "answerdotai/ModernBERT-base"

WHY_SERVING_HARDWARE = (
    "Scenario A's limit (under 10 ms per example) is a promise about the serving hardware, a T4 here: "
    "measure the student itself (ModernBERT-base, 113 classes, inputs padded to 128 tokens, fp16, the batch "
    "size you would serve with) on that GPU, after a warm-up, with the GPU synchronised before the clock "
    "stops, and report milliseconds per example. A CPU number says nothing about a T4 (and vice versa), and "
    "timing a smaller stand-in model says nothing about the student. Vanilla and distilled share one "
    "architecture, so one measurement covers both; temperature scaling adds one division.")


class LatencyUnavailable(RuntimeError):
    """No GPU to measure on: the message says what to measure and why."""


def _check_int(name: str, value: object, lo: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise ValueError(f"{name} must be an int >= {lo}, got {value!r}.")


def measure(model: str = STUDENT, *, device: str | None = None, batch_sizes: Iterable[int] = (1, 64),
            seq_len: int = 128, precision: str = "fp16", n_warmup: int = 3, n_batches: int = 20,
            num_labels: int = N_CLASSES) -> pd.DataFrame:
    """Milliseconds per example of ``model``'s forward pass on ``device``, one row per batch size.

    Parameters
    ----------
    model : str, default STUDENT
        Hub id of the architecture to time (ModernBERT-base, the student's).
    device : str, optional
        Default CUDA; raises :class:`LatencyUnavailable` where there is none.
        Pass ``"cpu"`` only to time a CPU deployment (the row says so).
    batch_sizes : sequence of int, default (1, 64)
        Batch sizes to time.
    seq_len : int, default 128
        Tokens per input (the student's padded length).
    precision : {"fp16", "fp32"}, default "fp16"
        fp16 needs a GPU.
    n_warmup : int, default 3
        Untimed batches first.
    n_batches : int, default 20
        Timed batches per batch size.
    num_labels : int, default 113
        Size of the classification head.

    Returns
    -------
    pandas.DataFrame
        Indexed by batch size: model, device, precision, seq_len,
        ms_per_example, examples_per_s.

    Examples
    --------
    >>> try:
    ...     measure(device="cpu", precision="fp16")
    ... except ValueError as err:
    ...     print(err)
    precision='fp16' needs a GPU; pass precision='fp32' to time a CPU deployment.
    """
    import pandas as pd

    device = _checked_device(device, precision)
    batch_sizes = _checked_sizes(batch_sizes, seq_len=seq_len, n_warmup=n_warmup, n_batches=n_batches,
                                 num_labels=num_labels)

    from .training.model import build_model
    net = build_model(model, num_labels).to(device).eval()
    if precision == "fp16":
        net = net.half()
    rows = _timed_rows(net, device, str(model), precision, batch_sizes, seq_len=seq_len, n_warmup=n_warmup,
                       n_batches=n_batches)
    return pd.DataFrame(rows).set_index("batch_size")


def _timed_rows(net: Any, device: Any, model: str, precision: str, batch_sizes: tuple[int, ...], *, seq_len: int,
                n_warmup: int, n_batches: int) -> list[dict]:
    """One row per batch size: the forward pass timed over ``n_batches`` random batches after the warm-up."""
    import torch

    vocab = int(getattr(net.config, "vocab_size", 1000))
    gen = torch.Generator().manual_seed(0)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    rows = []
    with torch.inference_mode():
        for b in batch_sizes:
            ids = torch.randint(5, vocab, (b, seq_len), generator=gen).to(device)
            mask = torch.ones_like(ids)
            for _ in range(n_warmup):
                net(input_ids=ids, attention_mask=mask)
            sync()
            start = time.perf_counter()
            for _ in range(n_batches):
                net(input_ids=ids, attention_mask=mask)
            sync()
            seconds = time.perf_counter() - start
            per_example_ms = 1000.0 * seconds / (b * n_batches)
            rows.append({"model": model, "device": name, "precision": precision, "batch_size": b,
                         "seq_len": seq_len, "ms_per_example": per_example_ms,
                         "examples_per_s": 1000.0 / per_example_ms})
    return rows


def _checked_device(device: str | None, precision: str) -> Any:
    """The torch device to time on (CUDA by default), refusing what cannot give a serving number."""
    import torch

    if device is None:
        if not torch.cuda.is_available():
            raise LatencyUnavailable("No GPU here, so no latency number: " + WHY_SERVING_HARDWARE)
        device = "cuda"
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise LatencyUnavailable(f"device={str(device)!r} was asked for but CUDA is not available. "
                                 + WHY_SERVING_HARDWARE)
    if precision not in ("fp16", "fp32"):
        raise ValueError(f"precision must be 'fp16' or 'fp32', got {precision!r}.")
    if precision == "fp16" and device.type != "cuda":
        raise ValueError("precision='fp16' needs a GPU; pass precision='fp32' to time a CPU deployment.")
    return device


def _checked_sizes(batch_sizes: Iterable[int], *, seq_len: int, n_warmup: int, n_batches: int,
                   num_labels: int) -> tuple[int, ...]:
    """The batch sizes as a tuple, once every size and count is a positive (or, for warm-up, >= 0) int."""
    for name, value, lo in (("seq_len", seq_len, 1), ("n_warmup", n_warmup, 0), ("n_batches", n_batches, 1),
                            ("num_labels", num_labels, 2)):
        _check_int(name, value, lo)
    batch_sizes = tuple(batch_sizes)
    if not batch_sizes:
        raise ValueError("batch_sizes must name at least one batch size, got ().")
    for b in batch_sizes:
        _check_int("each batch size", b, 1)
    return batch_sizes
