"""The recipe of one training run: defaults, a config file, and flags on top.

Precedence, lowest first: the defaults below, then ``--config file.yaml|json``,
then flags given on the command line.  The result is one frozen-in-spirit
``TrainConfig`` that the trainer reads and the run card records.
"""
from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, fields
from pathlib import Path

# The homework grid, T_d x alpha, and its cells' artifact names are the course's (re-exported here).
from helpers.course import GRID, grid_name

__all__ = ["TrainConfig", "load_config_file", "normalize_key", "RECIPE_FIELDS", "grid_name", "GRID",
           "DEFAULT_PREPARED"]

DEFAULT_PREPARED = "out/course_data"  # where `train prepare` writes, and `--data course` reads, by default


@dataclass
class TrainConfig:
    # The recipe: only the loss differs between the course's two students.
    recipe: str = "kd"                       # "vanilla" (CE on hard labels) or "kd"
    T_d: float = 4.0
    alpha: float = 0.7
    model: str = "answerdotai/ModernBERT-base"
    max_length: int = 128
    epochs: int = 3
    batch_size: int = 32                     # global: split across DDP processes
    eval_batch_size: int = 128
    lr: float = 5e-5
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    seed: int = 42
    max_steps: int | None = None             # stop early (smoke tests, benchmarks)
    precision: str = "auto"                  # auto | fp32 | fp16 | bf16
    group_by_length: bool = True

    # Data: local files, or the course data as `train prepare` wrote it ("course").
    data: str = "files"                      # files | course
    prepared: str = DEFAULT_PREPARED         # with data=course: the folder `train prepare` wrote
    train_file: str | None = None
    val_file: str | None = None
    teacher_logits: str | None = None        # npz with `logits` (n_train, n_classes)
    label_list: str | None = None            # json list: class id -> label name
    text_column: str = "text"
    label_column: str = "label"
    tier_column: str = "tier"
    check_teacher_agreement: bool = True     # the statistical order check (see data.py)

    # Mechanics: none of these change the result.
    out: str = "out/train"
    checkpoint_every: int = 500
    keep_checkpoint: bool = False
    save_model: bool = True
    log_every: int = 50
    progress: bool = True

    def validate(self) -> TrainConfig:
        def bad(name, expected):
            raise ValueError(f"config: {name} must be {expected}, got {getattr(self, name)!r}.")
        if self.recipe not in ("vanilla", "kd"):
            bad("recipe", '"vanilla" or "kd"')
        if not (self.T_d > 0):
            bad("T_d", "> 0")
        if not (0.0 <= self.alpha <= 1.0):
            bad("alpha", "in [0, 1]")
        for name in ("max_length", "epochs", "batch_size", "eval_batch_size", "checkpoint_every", "log_every"):
            if not (isinstance(getattr(self, name), int) and getattr(self, name) >= 1):
                bad(name, "an integer >= 1")
        if self.max_steps is not None and not (isinstance(self.max_steps, int) and self.max_steps >= 1):
            bad("max_steps", "None or an integer >= 1")
        if not (self.lr > 0):
            bad("lr", "> 0")
        if not (0.0 <= self.warmup_ratio < 1.0):
            bad("warmup_ratio", "in [0, 1)")
        if self.weight_decay < 0:
            bad("weight_decay", ">= 0")
        if self.precision not in ("auto", "fp32", "fp16", "bf16"):
            bad("precision", "auto, fp32, fp16 or bf16")
        if self.data not in ("files", "course"):
            bad("data", '"files" or "course"')
        if self.data == "course" and not (isinstance(self.prepared, str) and self.prepared.strip()):
            bad("prepared", "the folder `python -m helpers train prepare` wrote (with data=course)")
        if self.data == "files":
            for name in ("train_file", "val_file"):
                if not getattr(self, name):
                    raise ValueError(f"config: {name} is required with data=files "
                                     f"(or use --data course with the folder `python -m helpers train prepare` wrote).")
            if self.recipe == "kd" and not self.teacher_logits:
                raise ValueError("config: the kd recipe needs teacher_logits (an npz with `logits`, one row "
                                 "per training text, in the training file's order).")
        return self

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def replace(self, **changes) -> TrainConfig:
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_mapping(cls, mapping: dict, *, source: str = "config") -> TrainConfig:
        known = {f.name for f in fields(cls)}
        clean = {}
        for key, value in mapping.items():
            name = normalize_key(key)
            if name not in known:
                raise ValueError(f"{source}: unknown key {key!r}; known keys: {', '.join(sorted(known))}.")
            clean[name] = value
        return cls(**clean)


def normalize_key(key: str) -> str:
    """Config keys may be written as flags are (``batch-size``, ``T-d``)."""
    name = str(key).replace("-", "_")
    return {"t_d": "T_d", "Td": "T_d", "T_D": "T_d"}.get(name, name)


# The fields that define what is trained: a resumed run must agree on all of them.
MECHANICS = {"out", "checkpoint_every", "keep_checkpoint", "save_model", "log_every", "progress"}
RECIPE_FIELDS = tuple(f.name for f in fields(TrainConfig) if f.name not in MECHANICS)


def load_config_file(path: str | os.PathLike) -> dict:
    """Read a flat mapping of config keys from ``.yaml``/``.yml`` or ``.json``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"--config: no such file {str(path)!r}.")
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml
        data = yaml.safe_load(text) or {}
    elif path.suffix.lower() == ".json":
        data = json.loads(text)
    else:
        raise ValueError(f"--config: expected a .yaml, .yml or .json file, got {str(path)!r}.")
    if not isinstance(data, dict):
        raise ValueError(f"--config: {str(path)!r} must hold a mapping of keys to values, got {type(data).__name__}.")
    return data
