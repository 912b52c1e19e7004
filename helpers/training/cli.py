"""``python -m helpers train ...`` and ``python -m helpers train grid ...``.

Values come from, lowest precedence first: the defaults in config.py, the run's
saved ``run_config.json`` (with --resume), ``--config FILE``, and the flags
given here.  Under ``torchrun --nproc_per_node N`` the same command trains
with DDP.

``python -m helpers train prepare ...`` (``prepare.py``) builds the folder that
``--data course --prepared DIR`` trains on; ``--data course`` is resolved by
``course_data.course_config`` (the one place, which a library call of
``train(cfg)`` goes through too) into that folder's files and the manifest's
teacher logits, here before training so that a bad folder fails at once.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import TrainConfig

__all__ = ["main", "build_parser"]

S = argparse.SUPPRESS


def build_parser(grid: bool = False) -> argparse.ArgumentParser:
    prog = "python -m helpers train" + (" grid" if grid else "")
    desc = ("Train the six distilled students of the T_d x alpha grid (skips finished cells, resumes an "
            "interrupted one)." if grid else
            "Train one student: vanilla (CE on hard labels) or kd (distilled from precomputed teacher logits).")
    p = argparse.ArgumentParser(prog=prog, description=desc, argument_default=S)
    r = p.add_argument_group("recipe")
    if not grid:
        r.add_argument("--recipe", choices=("vanilla", "kd"), help="loss: vanilla or kd (default kd)")
        r.add_argument("--T-d", "--Td", dest="T_d", type=float, help="distillation temperature (default 4)")
        r.add_argument("--alpha", type=float, help="weight of the soft (KL) term (default 0.7)")
    r.add_argument("--model", help="Hub id or local folder (default answerdotai/ModernBERT-base)")
    r.add_argument("--max-length", type=int, help="tokens per text, truncated (default 128)")
    r.add_argument("--epochs", type=int, help="default 3")
    r.add_argument("--batch-size", type=int, help="global batch size, split across processes (default 32)")
    r.add_argument("--eval-batch-size", type=int, help="default 128")
    r.add_argument("--lr", type=float, help="peak learning rate (default 5e-5)")
    r.add_argument("--warmup-ratio", type=float, help="share of steps with linear warmup (default 0.1)")
    r.add_argument("--weight-decay", type=float, help="AdamW weight decay (default 0.01)")
    r.add_argument("--max-grad-norm", type=float, help="gradient clipping (default 1.0)")
    r.add_argument("--seed", type=int, help="default 42")
    r.add_argument("--max-steps", type=int, help="stop after this many optimiser steps (smoke runs)")
    r.add_argument("--precision", choices=("auto", "fp32", "fp16", "bf16"),
                   help="auto: bf16 if the GPU has it, else fp16 + GradScaler; fp32 on CPU")
    r.add_argument("--no-group-by-length", dest="group_by_length", action="store_false",
                   help="plain shuffled batches instead of length-grouped ones")
    d = p.add_argument_group("data")
    d.add_argument("--data", choices=("files", "course"),
                   help="files: --train-file/--val-file; course: the folder `train prepare` wrote (--prepared) "
                        "and the teacher logits from the manifest")
    d.add_argument("--prepared", help="with --data course: the --out folder of `python -m helpers train prepare` "
                                      "(default out/course_data; implies --data course)")
    d.add_argument("--train-file", help=".csv/.jsonl/.json/.parquet with a text and a label column")
    d.add_argument("--val-file", help="same columns; an optional tier column (head/mid/tail)")
    d.add_argument("--teacher-logits", help="npz with `logits` (n_train, n_classes), rows in the train file's order")
    d.add_argument("--label-list", help="json list of class names in class-id order")
    d.add_argument("--text-column", help="default text")
    d.add_argument("--label-column", help="default label")
    d.add_argument("--tier-column", help="default tier")
    d.add_argument("--no-check-teacher-agreement", dest="check_teacher_agreement", action="store_false",
                   help="skip the statistical teacher-order check (the exact checks still run)")
    m = p.add_argument_group("run")
    m.add_argument("--out", help="output folder (default out/train, or out/grid for the grid)")
    m.add_argument("--config", dest="config_file", help="a .yaml or .json file of the keys above")
    if not grid:
        m.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    m.add_argument("--checkpoint-every", type=int, help="steps between checkpoints (default 500)")
    m.add_argument("--keep-checkpoint", action="store_true", help="keep the last checkpoint after finishing")
    m.add_argument("--save-model", dest="save_model", action="store_true",
                   help="save the trained model to <out>/model (default for one student; off for the grid)")
    m.add_argument("--no-save-model", dest="save_model", action="store_false")
    m.add_argument("--log-every", type=int, help="steps between log lines (default 50)")
    m.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    m.add_argument("--device", choices=("cpu", "cuda"), help="default: cuda when available")
    if grid:
        m.add_argument("--configs", help="comma-separated subset of cells, e.g. Td4_a70,Td8_a90")
    return p


def resolve_config(args: dict, *, grid: bool, resume: bool) -> TrainConfig:
    """Defaults, then the saved run_config.json (resume), then --config, then the flags."""
    from .config import TrainConfig

    values = {}
    out = args.get("out") or ("out/grid" if grid else "out/train")
    saved = Path(out) / "run_config.json"
    if resume and not grid and saved.is_file():
        values.update(json.loads(saved.read_text(encoding="utf-8")))
    if "config_file" in args:
        values.update(_file_values(args["config_file"]))
    values.update({k: v for k, v in args.items() if k not in ("config_file", "resume", "device", "configs")})
    values["out"] = out
    if grid:
        values.setdefault("save_model", False)
        values.update(recipe="kd")
    return TrainConfig.from_mapping(values, source="config")


def _file_values(path) -> dict:
    from .config import TrainConfig, load_config_file, normalize_key
    raw = load_config_file(path)
    # from_mapping normalises the key spellings and rejects unknown keys, naming the file.
    parsed = TrainConfig.from_mapping(raw, source=f"--config {path}").to_dict()
    return {k: parsed[k] for k in map(normalize_key, raw)}


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers train [grid|prepare] ...``; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "prepare":
        from .prepare import main as prepare_main
        return prepare_main(argv[1:])
    grid = bool(argv) and argv[0] == "grid"
    if grid:
        argv = argv[1:]
    args = vars(build_parser(grid).parse_args(argv))
    resume = bool(args.get("resume", False))
    if "prepared" in args:  # the folder is a config key; naming it means the course data
        if args.get("data", "course") != "course":
            print("error: --prepared goes with --data course (it names the folder `train prepare` wrote), "
                  "got --data files.", file=sys.stderr)
            return 2
        args["data"] = "course"

    from .dist import setup, teardown
    from .errors import INTERRUPTED_EXIT_CODE, DataError, Interrupted, ResumeError, TrainingDiverged

    try:
        cfg = resolve_config(args, grid=grid, resume=resume)
        if grid:
            cfg = cfg.replace(T_d=4.0, alpha=0.7)  # placeholders; each cell sets its own
        cfg.validate()
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if cfg.data == "course":
        from .course_data import course_config
        try:
            cfg = course_config(cfg).validate()
        except (DataError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1

    env = setup(args.get("device"))
    try:
        if grid:
            from .grid import run_grid
            only = [c.strip() for c in args["configs"].split(",") if c.strip()] if "configs" in args else None
            status = run_grid(cfg, cfg.out, env, only=only)
            if env.is_main:
                print("[grid] " + ", ".join(f"{k}: {v}" for k, v in status.items()), flush=True)
        else:
            from .trainer import train
            train(cfg, resume=resume, env=env)
        return 0
    except Interrupted as exc:
        if env.is_main:
            print(f"interrupted at step {exc.args[0]}; the checkpoint is in place: rerun the same command "
                  f"{'' if grid else 'with --resume '}to continue.", file=sys.stderr)
        return INTERRUPTED_EXIT_CODE
    except (DataError, ResumeError, TrainingDiverged) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        teardown(env)
