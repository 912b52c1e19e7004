"""What a finished run leaves behind: predictions in the manifest's schema and a run card."""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np

from helpers.fileio import atomic_write, atomic_write_text

__all__ = ["write_predictions", "write_json", "code_version", "library_versions", "PREDICTION_KEYS"]

PREDICTION_KEYS = ("logits", "preds", "labels", "val_tiers")


def write_predictions(path: str | os.PathLike, logits: np.ndarray, labels: np.ndarray, tiers: np.ndarray) -> Path:
    """``val_predictions.npz`` as the notebooks read it: logits float32, preds, labels, val_tiers."""
    logits = np.asarray(logits, dtype=np.float32)
    labels = np.asarray(labels, dtype=np.int64)
    tiers = np.asarray(tiers).astype("<U4")
    if logits.ndim != 2 or logits.shape[0] != labels.shape[0] or tiers.shape != labels.shape:
        raise ValueError(f"predictions: shapes disagree: logits {logits.shape}, labels {labels.shape}, "
                         f"tiers {tiers.shape}.")
    if not np.isfinite(logits).all():
        raise ValueError("predictions: the logits contain NaN or infinite values; refusing to write them.")
    arrays = {"logits": logits, "preds": logits.argmax(axis=1).astype(np.int64), "labels": labels,
              "val_tiers": tiers}

    with atomic_write(path) as tmp, open(tmp, "wb") as f:  # a file object: np.savez adds no suffix
        np.savez(f, **arrays)
    return Path(path)


def write_json(path: str | os.PathLike, obj: object) -> Path:
    """``obj`` as indented JSON, atomically (numpy values and paths made plain)."""
    text = json.dumps(obj, indent=2, sort_keys=False, default=_jsonable) + "\n"
    atomic_write_text(path, text)
    return Path(path)


def _jsonable(x):
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, Path):
        return str(x)
    return str(x)


def code_version() -> dict:
    """The git commit the run used (and whether the tree had local edits)."""
    root = Path(__file__).resolve().parents[2]
    info = {"helpers_path": str(root)}
    try:
        from importlib.metadata import version
        info["package_version"] = version("ecbs-week6-helpers")
    except Exception:
        info["package_version"] = None
    try:
        def git(*args):
            return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                                  timeout=10, check=True).stdout.strip()
        info["git_commit"] = git("rev-parse", "HEAD")
        info["git_dirty"] = bool(git("status", "--porcelain", "--untracked-files=no"))
    except Exception:
        info["git_commit"], info["git_dirty"] = None, None
    return info


def library_versions() -> dict:
    import torch
    versions = {"python": sys.version.split()[0], "platform": platform.platform(), "torch": torch.__version__,
                "cuda": torch.version.cuda, "numpy": np.__version__}
    for name in ("transformers", "tokenizers", "safetensors"):
        try:
            versions[name] = __import__(name).__version__
        except Exception:
            versions[name] = None
    if torch.cuda.is_available():
        versions["gpu"] = torch.cuda.get_device_name(0)
        versions["gpu_count"] = torch.cuda.device_count()
    return versions
