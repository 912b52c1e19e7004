"""The student: tokenizer, model, precision, and the guards older ModernBERT code needs.

This module and its siblings are the only place in ``helpers`` that imports
transformers.
"""
from __future__ import annotations

import warnings
from typing import Any

import torch

__all__ = ["load_tokenizer", "build_model", "resolve_precision", "guard_fully_masked_rows", "unwrap"]


def load_tokenizer(name_or_path: str) -> Any:
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(name_or_path)
    if tok.pad_token_id is None:
        raise ValueError(f"the tokenizer of {name_or_path!r} has no pad token; dynamic padding needs one.")
    return tok


def resolve_precision(precision: str, device: torch.device) -> tuple[torch.dtype | None, bool]:
    """(autocast dtype or None, use a GradScaler?) for a requested precision on a device.

    auto: bf16 where the GPU supports it (no scaler needed), fp16 with a
    GradScaler on GPUs without bf16 (the T4), fp32 on CPU (CPU autocast is slower
    than fp32 for these shapes and changes the numbers).
    """
    if device.type != "cuda":
        if precision in ("fp16", "bf16"):
            warnings.warn(f"precision {precision} asked for on {device.type}; training in fp32 there.", stacklevel=2)
        return None, False
    if precision == "auto":
        precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if precision == "bf16" and not torch.cuda.is_bf16_supported():
        raise ValueError("precision bf16: this GPU does not support bf16 (a T4 does not); use fp16 or auto.")
    return {"fp32": (None, False), "fp16": (torch.float16, True), "bf16": (torch.bfloat16, False)}[precision]


def _fix_mask(mask):
    """Let every query row attend somewhere: a row with every key masked gives NaN in
    softmax (fp16 turns a large negative additive mask into -inf).  Such rows are
    padding queries outside every real token's sliding window; their output is never
    read, so letting them attend to all keys changes no real token's output."""
    if not torch.is_tensor(mask) or mask.ndim != 4:
        return mask
    if mask.dtype == torch.bool:  # True = attend
        return mask | ~mask.any(dim=-1, keepdim=True)
    # No `if dead.any()` shortcut: that would cost a GPU sync per layer per step.
    dead = (mask <= torch.finfo(mask.dtype).min / 2).all(dim=-1, keepdim=True)
    return mask.masked_fill(dead, 0.0)


def _attention_pre_hook(module, args, kwargs):
    changed = False
    for key in list(kwargs):
        if "mask" in key and torch.is_tensor(kwargs[key]):
            fixed = _fix_mask(kwargs[key])
            if fixed is not kwargs[key]:
                kwargs[key], changed = fixed, True
    return (args, kwargs) if changed else None


def guard_fully_masked_rows(model: torch.nn.Module) -> int:
    """Install the fully-masked-row guard on every attention module; return how many."""
    n = 0
    for module in model.modules():
        if type(module).__name__.endswith("Attention") and not getattr(module, "_kd_mask_guard", False):
            module.register_forward_pre_hook(_attention_pre_hook, with_kwargs=True)
            module._kd_mask_guard = True
            n += 1
    return n


def build_model(name_or_path: str, num_labels: int, label_names: list[str] | None = None) -> torch.nn.Module:
    """A sequence classifier with SDPA attention and compile paths off.

    ModernBERT code from the transformers 4.48-5.0 era reads
    ``config.reference_compile`` and, when it is unset, wraps parts of the model
    in torch.compile on GPU; that breaks under DDP and with dynamic shapes, so
    it is forced off wherever the config has the attribute.
    """
    from transformers import AutoConfig, AutoModelForSequenceClassification

    config = AutoConfig.from_pretrained(name_or_path)
    config.num_labels = num_labels
    if label_names is not None:
        config.id2label = {i: str(n) for i, n in enumerate(label_names)}
        config.label2id = {str(n): i for i, n in enumerate(label_names)}
    if hasattr(config, "reference_compile"):
        config.reference_compile = False
    try:
        model = AutoModelForSequenceClassification.from_pretrained(
            name_or_path, config=config, attn_implementation="sdpa", ignore_mismatched_sizes=True)
    except (ValueError, ImportError) as exc:
        if "sdpa" not in str(exc).lower():
            raise
        warnings.warn(f"{name_or_path}: SDPA attention unavailable ({exc}); using eager attention.", stacklevel=2)
        model = AutoModelForSequenceClassification.from_pretrained(
            name_or_path, config=config, attn_implementation="eager", ignore_mismatched_sizes=True)
    guard_fully_masked_rows(model)
    return model


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    return model.module if hasattr(model, "module") else model
