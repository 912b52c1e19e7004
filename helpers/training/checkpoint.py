"""Checkpoints that survive a killed session.

One file, ``<out>/checkpoint/state.pt``, written with ``helpers.fileio.atomic_write``
(a temporary name, flushed, then ``os.replace``): a kill in the middle of a
save leaves the previous complete checkpoint untouched, never a torn one.
"""
from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import torch

from helpers.fileio import atomic_write

__all__ = ["checkpoint_path", "save_checkpoint", "load_checkpoint", "rng_state", "set_rng_state"]

FORMAT = 1


def checkpoint_path(out_dir: str | os.PathLike) -> Path:
    """``<out>/checkpoint/state.pt``: the one checkpoint file of a run."""
    return Path(out_dir) / "checkpoint" / "state.pt"


def rng_state() -> dict:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(out_dir: str | os.PathLike, state: dict) -> Path:
    """Write the run's state atomically (a kill mid-save keeps the previous checkpoint)."""
    path = checkpoint_path(out_dir)
    with atomic_write(path) as tmp:
        torch.save({"format": FORMAT, **state}, tmp)
    return path


def load_checkpoint(out_dir: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict | None:
    """The saved state, or None when the run has no checkpoint."""
    path = checkpoint_path(out_dir)
    if not path.is_file():
        return None
    # weights_only=False: the state holds RNG states and plain Python objects we wrote ourselves.
    state = torch.load(path, map_location=map_location, weights_only=False)
    if state.get("format") != FORMAT:
        raise ValueError(f"{path}: checkpoint format {state.get('format')!r}, expected {FORMAT}.")
    return state
