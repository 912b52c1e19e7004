"""The homework grid: six distilled students, T_d in {1, 4, 8} x alpha in {0.7, 0.9}.

Each cell trains in ``<out>/grid_Td{T}_a{100 alpha}/`` and its predictions are
copied to ``<out>/grid_Td{T}_a{100 alpha}_val_predictions.npz`` (the names the
manifest and the notebooks use).  That file's presence marks the cell done,
so rerunning the same command after a killed session skips finished cells and
resumes the interrupted one from its checkpoint.
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from helpers.fileio import atomic_write

from .checkpoint import checkpoint_path
from .config import GRID, TrainConfig, grid_name
from .dist import DistEnv, barrier
from .trainer import train

__all__ = ["run_grid", "grid_cells"]


def grid_cells(only: list[str] | None = None) -> list[tuple[int, float, str]]:
    """(T_d, alpha, name) of each cell, or of the ``--configs`` subset (``Td4_a70`` or ``grid_Td4_a70``)."""
    cells = [(t, a, grid_name(t, a)) for t, a in GRID]
    if only:
        wanted = {w if w.startswith("grid_") else f"grid_{w}" for w in only}
        unknown = wanted - {name for _, _, name in cells}
        if unknown:
            raise ValueError(f"--configs: unknown grid cell(s) {sorted(unknown)}; the cells are "
                             f"{', '.join(n for _, _, n in cells)}.")
        cells = [c for c in cells if c[2] in wanted]
    return cells


def run_grid(base: TrainConfig, out: str | os.PathLike, env: DistEnv, only: list[str] | None = None,
             log: Callable[[str], object] = print) -> dict:
    """Train every unfinished cell; return {name: "skipped" | "trained" | "resumed"}."""
    out = Path(out)
    status = {}
    for T_d, alpha, name in grid_cells(only):
        final = out / f"{name}_val_predictions.npz"
        if final.is_file():
            if env.is_main:
                log(f"[grid] {name}: {final.name} exists, skipping.")
            status[name] = "skipped"
            continue
        run_dir = out / name
        resuming = checkpoint_path(run_dir).is_file()
        if env.is_main:
            log(f"[grid] {name}: {'resuming' if resuming else 'training'} (T_d={T_d}, alpha={alpha}).")
        cfg = base.replace(recipe="kd", T_d=float(T_d), alpha=float(alpha), out=str(run_dir))
        train(cfg, resume=True, env=env)
        if env.is_main:
            with atomic_write(final) as tmp:
                shutil.copyfile(run_dir / "val_predictions.npz", tmp)
        barrier(env)
        status[name] = "resumed" if resuming else "trained"
    return status
