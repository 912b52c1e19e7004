"""DDP plumbing: one process per GPU under torchrun, or a plain single process.

torchrun sets RANK / WORLD_SIZE / LOCAL_RANK; without them this is a
single-process run and every helper here is a no-op.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist

__all__ = ["DistEnv", "setup", "teardown", "gather_predictions", "barrier"]


@dataclass
class DistEnv:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world > 1


def setup(device: str | None = None) -> DistEnv:
    """Join the process group when launched by torchrun (nccl on GPUs, gloo on CPU)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    want = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if want == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError("--device cuda asked for, but no CUDA device is visible.")
        torch.cuda.set_device(local_rank)
        dev = torch.device("cuda", local_rank)
    else:
        dev = torch.device(want)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if dev.type == "cuda" else "gloo")
    return DistEnv(rank, world, local_rank, dev)


def teardown(env: DistEnv) -> None:
    """Leave the process group (DDP only)."""
    if env.distributed and dist.is_initialized():
        dist.destroy_process_group()


def barrier(env: DistEnv) -> None:
    """Wait for every process (a no-op without DDP)."""
    if env.distributed:
        dist.barrier()


def gather_predictions(env: DistEnv, indices: np.ndarray, logits: torch.Tensor, n_total: int) -> np.ndarray:
    """Every process's (row index, logits) put back in dataset order, padding dropped.

    Shares differ in size by at most one row; each is padded to the largest with
    index -1 so that all_gather sees equal shapes, and the -1 rows are dropped.
    """
    logits = logits.float()
    if not env.distributed:
        out = np.empty((n_total, logits.shape[1]), dtype=np.float32)
        out[indices] = logits.cpu().numpy()
        return out
    n_max = -(-n_total // env.world)
    idx = torch.full((n_max,), -1, dtype=torch.long, device=env.device)
    idx[:len(indices)] = torch.as_tensor(indices, dtype=torch.long, device=env.device)
    val = torch.zeros((n_max, logits.shape[1]), dtype=torch.float32, device=env.device)
    val[:len(indices)] = logits.to(env.device)
    all_idx = [torch.empty_like(idx) for _ in range(env.world)]
    all_val = [torch.empty_like(val) for _ in range(env.world)]
    dist.all_gather(all_idx, idx)
    dist.all_gather(all_val, val)
    idx_np = torch.cat(all_idx).cpu().numpy()
    val_np = torch.cat(all_val).cpu().numpy()
    keep = idx_np >= 0
    out = np.full((n_total, logits.shape[1]), np.nan, dtype=np.float32)
    out[idx_np[keep]] = val_np[keep]
    if np.isnan(out).any():
        raise RuntimeError("evaluation: some validation rows came back from no process.")
    return out
