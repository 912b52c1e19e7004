"""The training loop: one student, CE or KD, resumable, single process or DDP.

Read top to bottom: ``prepare`` (data, model, optimiser, schedule, resume
state), ``run`` (the epochs), ``_step`` (one optimiser step), ``evaluate``
(validation logits in dataset order), ``_finish`` (predictions, run card).
"""
from __future__ import annotations

import json
import math
import os
import random
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from helpers.kd import kd_loss, kd_loss_terms

from . import checkpoint as ckpt
from .config import RECIPE_FIELDS, TrainConfig
from .data import collate, eval_shard, length_grouped_batches, load_training_data, shard_batch, tokenize
from .dist import DistEnv, barrier, gather_predictions, setup
from .errors import INTERRUPTED_EXIT_CODE, Interrupted, ResumeError, TrainingDiverged
from .model import build_model, load_tokenizer, resolve_precision, unwrap
from .runcard import code_version, library_versions, write_json, write_predictions

# The run's exceptions live in errors.py (the CLI catches them without importing the loop); re-exported here.
__all__ = ["Trainer", "TrainingDiverged", "Interrupted", "ResumeError", "train", "INTERRUPTED_EXIT_CODE"]

MAX_SKIPPED_FP16_STEPS = 25


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class Trainer:
    def __init__(self, cfg: TrainConfig, env: DistEnv | None = None, *, resume: bool = False):
        self.cfg = cfg.validate()
        self.env = env or setup()
        self.out = Path(cfg.out)
        self.resume = resume
        self._signal = None
        self.history = []

    # ------------------------------------------------------------------ helpers
    def log(self, msg: str) -> None:
        if self.env.is_main:
            print(f"[train] {msg}", flush=True)

    def _autocast(self):
        dtype = self.amp_dtype
        return torch.autocast(self.env.device.type, dtype=dtype, enabled=dtype is not None)

    # ------------------------------------------------------------------ setup
    def prepare(self) -> None:
        cfg, env = self.cfg, self.env
        t0 = time.perf_counter()
        self.data = data = load_training_data(cfg)
        if cfg.recipe == "kd" and data.teacher_logits is None:
            raise ValueError("the kd recipe needs teacher logits (--teacher-logits).")
        self.tokenizer = load_tokenizer(cfg.model)
        self.train_tokens = tokenize(self.tokenizer, data.train_texts, cfg.max_length)
        self.val_tokens = tokenize(self.tokenizer, data.val_texts, cfg.max_length)
        self.train_lengths = np.array([t.size for t in self.train_tokens])
        self.val_lengths = np.array([t.size for t in self.val_tokens])
        self.pad_id = int(self.tokenizer.pad_token_id)
        self.pad_multiple = 8 if env.device.type == "cuda" else None
        self.labels = torch.from_numpy(data.train_labels)
        self.teacher = None if data.teacher_logits is None else torch.from_numpy(data.teacher_logits)

        seed_everything(cfg.seed)  # the new classifier head's initialisation
        model = build_model(cfg.model, data.n_classes, data.label_names).to(env.device)
        self.amp_dtype, use_scaler = resolve_precision(cfg.precision, env.device)
        if hasattr(torch.amp, "GradScaler"):
            self.scaler = torch.amp.GradScaler(env.device.type, enabled=use_scaler)
        else:  # torch < 2.3
            self.scaler = torch.cuda.amp.GradScaler(enabled=use_scaler)

        self.steps_per_epoch = math.ceil(len(self.train_tokens) / cfg.batch_size)
        self.total_steps = self.steps_per_epoch * cfg.epochs
        if cfg.max_steps is not None:
            self.total_steps = min(self.total_steps, cfg.max_steps)
        warmup = math.ceil(cfg.warmup_ratio * self.total_steps)

        decay, no_decay = [], []
        for name, p in model.named_parameters():
            if p.requires_grad:
                (no_decay if p.ndim < 2 or "norm" in name.lower() or name.endswith("bias") else decay).append(p)
        groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
        extra = {"fused": True} if env.device.type == "cuda" else {}
        self.optimizer = torch.optim.AdamW(groups, lr=cfg.lr, betas=(0.9, 0.999), eps=1e-8, **extra)

        def linear(step):  # warmup, then linear decay to zero (as transformers' default schedule)
            if step < warmup:
                return (step + 1) / (warmup + 1) if warmup else 1.0
            return max(0.0, (self.total_steps - step) / max(1, self.total_steps - warmup))
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, linear)

        self.step, self.epoch, self.batch_in_epoch = 0, 0, 0
        self.train_seconds, self.examples_seen, self.sessions = 0.0, 0, 0
        self.model = model
        self._load_resume_state()

        if env.distributed:
            from torch.nn.parallel import DistributedDataParallel as DDP
            self.model = DDP(model, device_ids=[env.local_rank] if env.device.type == "cuda" else None)
        self.prepare_seconds = time.perf_counter() - t0
        return self

    def _recipe(self) -> dict:
        full = self.cfg.to_dict()
        return {k: full[k] for k in RECIPE_FIELDS if k not in ("data", "prepared", "train_file", "val_file",
                                                                "teacher_logits", "label_list")}

    def _load_resume_state(self):
        state = ckpt.load_checkpoint(self.out) if self.resume else None
        if state is None:
            if ckpt.checkpoint_path(self.out).exists() and not self.resume:
                raise ResumeError(f"{self.out} holds a checkpoint of an unfinished run; pass --resume to continue "
                                  f"it, or choose another --out.")
            if self.resume:
                self.log(f"--resume: no checkpoint in {self.out}; starting from step 0.")
            return
        diffs = {k: (state["recipe"].get(k), v) for k, v in self._recipe().items() if state["recipe"].get(k) != v}
        if diffs:
            lines = ", ".join(f"{k}: checkpoint {a!r} vs now {b!r}" for k, (a, b) in diffs.items())
            raise ResumeError(f"the checkpoint in {self.out} was trained with a different recipe ({lines}).")
        if state["digests"] != self.data.digests:
            changed = [k for k in state["digests"] if state["digests"][k] != self.data.digests.get(k)]
            raise ResumeError(f"the checkpoint in {self.out} was trained on different data ({', '.join(changed)} "
                              f"changed).")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        ckpt.set_rng_state(state["rng"])
        pos = state["position"]
        self.step, self.epoch, self.batch_in_epoch = pos["step"], pos["epoch"], pos["batch_in_epoch"]
        self.train_seconds, self.examples_seen = state["train_seconds"], state["examples_seen"]
        self.sessions = state.get("sessions", 0)
        self.history = state.get("history", [])
        self.log(f"resumed from step {self.step}/{self.total_steps} (epoch {self.epoch + 1}, "
                 f"batch {self.batch_in_epoch}).")

    def save_checkpoint(self) -> None:
        if self.env.is_main:
            state = {
                "recipe": self._recipe(), "digests": self.data.digests,
                "model": unwrap(self.model).state_dict(), "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(), "scaler": self.scaler.state_dict(),
                "rng": ckpt.rng_state(),
                "position": {"step": self.step, "epoch": self.epoch, "batch_in_epoch": self.batch_in_epoch},
                "train_seconds": self.train_seconds, "examples_seen": self.examples_seen,
                "sessions": self.sessions + 1, "history": self.history,
            }
            ckpt.save_checkpoint(self.out, state)
        barrier(self.env)

    # ------------------------------------------------------------------ the loop
    def compute_loss(self, logits: torch.Tensor, labels: torch.Tensor, teacher: torch.Tensor | None,
                     real: torch.Tensor, n_global: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """This process's loss, scaled so that DDP's gradient average equals the
        gradient of the mean loss over the whole global batch.

        Returns (loss, kl_term, ce_term); the last two are for the log only.
        """
        cfg = self.cfg
        if not bool(real.all()):  # an empty share (see shard_batch): contributes nothing
            zero = logits.float().sum() * 0.0
            return zero, zero.detach(), zero.detach()
        if cfg.recipe == "kd":
            if self.step == 0:
                kd_loss(logits, teacher, labels, cfg.T_d, cfg.alpha)  # validates shapes, dtypes and ranges once
            # kd_loss's two terms, kept apart so the log can show the KL to the teacher on its own.
            soft, hard = kd_loss_terms(logits, teacher, labels, cfg.T_d)
            loss = cfg.alpha * soft + (1.0 - cfg.alpha) * hard
            kl = soft.detach() / cfg.T_d ** 2
        else:
            loss = hard = F.cross_entropy(logits.float(), labels)
            if teacher is not None:  # not trained on, but worth watching
                with torch.no_grad():
                    kl = kd_loss_terms(logits.detach(), teacher, labels, cfg.T_d)[0] / cfg.T_d ** 2
            else:
                kl = torch.full((), float("nan"), device=logits.device)
        scale = len(labels) * self.env.world / n_global
        return (loss * scale if scale != 1.0 else loss), kl, hard.detach()

    def _step(self, batch):
        env, cfg = self.env, self.cfg
        idx, real = shard_batch(batch, env.rank, env.world)
        ids, mask = collate(self.train_tokens, idx, self.pad_id, self.pad_multiple)
        labels = self.labels[idx]
        teacher = None if self.teacher is None else self.teacher[idx]
        if env.device.type == "cuda":
            ids, mask, labels = (t.pin_memory().to(env.device, non_blocking=True) for t in (ids, mask, labels))
            teacher = None if teacher is None else teacher.pin_memory().to(env.device, non_blocking=True)
        self.model.train()
        with self._autocast():
            logits = self.model(input_ids=ids, attention_mask=mask).logits
        loss, kl, ce = self.compute_loss(logits, labels, teacher, torch.from_numpy(real), len(batch))
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.optimizer)
        grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.max_grad_norm)

        # One host sync per step: divergence, SIGTERM and the numbers for the log travel together.
        flags = torch.stack([(~torch.isfinite(loss.detach())).float(),
                             (~torch.isfinite(grad_norm)).float() if not self.scaler.is_enabled()
                             else torch.zeros((), device=loss.device),
                             torch.tensor(float(self._signal is not None), device=loss.device)])
        if env.distributed:
            torch.distributed.all_reduce(flags, op=torch.distributed.ReduceOp.MAX)
        bad_loss, bad_grad, stop = flags.tolist()
        if bad_loss or bad_grad:
            what = "loss" if bad_loss else "gradient norm"
            self.optimizer.zero_grad(set_to_none=True)
            raise TrainingDiverged(
                f"the {what} became NaN or infinite at step {self.step + 1} (epoch {self.epoch + 1}); "
                f"training stopped before the update. {self._last_good()} Try a lower --lr or --precision fp32.")

        scale_before = self.scaler.get_scale() if self.scaler.is_enabled() else None
        self.scaler.step(self.optimizer)
        self.scaler.update()
        if scale_before is not None and self.scaler.get_scale() < scale_before:
            self._skipped += 1
            if self._skipped >= MAX_SKIPPED_FP16_STEPS:
                raise TrainingDiverged(
                    f"fp16 gradients overflowed on {self._skipped} steps in a row (loss scale now "
                    f"{self.scaler.get_scale():g}) at step {self.step + 1}. {self._last_good()} "
                    f"Try a lower --lr or --precision fp32.")
        else:
            self._skipped = 0
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self._log_acc.append(torch.stack([loss.detach().float(), kl.float(), ce.float()]))
        return bool(stop)

    def _last_good(self) -> str:
        path = ckpt.checkpoint_path(self.out)
        if path.exists():
            return f"The last good checkpoint ({path}) is kept; --resume continues from it."
        return "No checkpoint had been written yet."

    def _on_signal(self, signum, frame):
        self._signal = signum

    def run(self) -> dict:
        cfg, env = self.cfg, self.env
        finished = read_run_card(self.out)
        if finished is not None and not ckpt.checkpoint_path(self.out).exists():
            if not self.resume:
                raise ResumeError(f"{self.out} already holds a finished run (run_card.json); choose another --out "
                                  f"or delete it to train again.")
            self.log(f"{self.out} already holds a finished run; nothing to do.")
            return {"out": str(self.out), "steps": finished["timing"]["steps"], "metrics": finished["metrics"],
                    "run_card": finished}
        if not hasattr(self, "model"):
            self.prepare()
        if env.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
            write_json(self.out / "run_config.json", self.cfg.to_dict())
        previous = None
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGTERM, self._on_signal)
        self._skipped, self._log_acc = 0, []
        self.log(f"{cfg.recipe} student: {len(self.train_tokens):,} train / {len(self.val_tokens):,} val texts, "
                 f"{self.data.n_classes} classes, {self.total_steps} steps, device {env.device}"
                 f"{f' x{env.world}' if env.distributed else ''}, precision "
                 f"{self.amp_dtype or 'fp32'}{' + GradScaler' if self.scaler.is_enabled() else ''}.")
        try:
            self._train_loop()
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
        return self._finish()

    def _train_loop(self):
        cfg, env = self.cfg, self.env
        from tqdm import tqdm
        bar = tqdm(total=self.total_steps, initial=self.step, desc=f"{cfg.recipe}", unit="step",
                   disable=not (env.is_main and cfg.progress), mininterval=1.0 if sys.stderr.isatty() else 30.0,
                   file=sys.stderr)
        t_start = time.perf_counter()
        base_seconds = self.train_seconds
        try:
            while self.step < self.total_steps:
                batches = length_grouped_batches(self.train_lengths, cfg.batch_size, cfg.seed, self.epoch,
                                                 group_by_length=cfg.group_by_length)
                while self.batch_in_epoch < len(batches) and self.step < self.total_steps:
                    batch = batches[self.batch_in_epoch]
                    stop = self._step(batch)
                    self.step += 1
                    self.batch_in_epoch += 1
                    self.examples_seen += len(batch)
                    if self.batch_in_epoch == len(batches):
                        self.epoch, self.batch_in_epoch = self.epoch + 1, 0
                    bar.update(1)
                    if self.step % cfg.log_every == 0 or self.step == self.total_steps:
                        self._flush_log(bar)
                    self.train_seconds = base_seconds + time.perf_counter() - t_start
                    if stop:
                        self.save_checkpoint()
                        self.log(f"SIGTERM: checkpoint saved at step {self.step}; rerun with --resume to continue.")
                        raise Interrupted(self.step)
                    if self.step % cfg.checkpoint_every == 0 and self.step < self.total_steps:
                        self.save_checkpoint()
        finally:
            bar.close()

    def _flush_log(self, bar):
        if not self._log_acc:
            return
        loss, kl, ce = torch.stack(self._log_acc).mean(0).tolist()
        self._log_acc = []
        entry = {"step": self.step, "epoch": self.epoch + self.batch_in_epoch / self.steps_per_epoch,
                 "loss": loss, "kl_to_teacher": None if math.isnan(kl) else kl, "ce": ce,
                 "lr": self.scheduler.get_last_lr()[0]}
        self.history.append(entry)
        bar.set_postfix(loss=f"{loss:.4f}", lr=f"{entry['lr']:.2e}", refresh=False)
        if not bar.disable and not sys.stderr.isatty():
            self.log(f"step {self.step}/{self.total_steps} loss {loss:.4f} ce {ce:.4f}"
                     + (f" kl {kl:.4f}" if entry["kl_to_teacher"] is not None else ""))

    # ------------------------------------------------------------------ evaluation and outputs
    @torch.no_grad()
    def predict(self, tokens: list[np.ndarray], lengths: np.ndarray) -> np.ndarray:
        """Logits for every row of ``tokens``, in order, gathered from all processes."""
        env, model = self.env, unwrap(self.model)
        model.eval()
        mine = eval_shard(lengths, env.rank, env.world)
        out = []
        for start in range(0, len(mine), self.cfg.eval_batch_size):
            ids, mask = collate(tokens, mine[start:start + self.cfg.eval_batch_size], self.pad_id, self.pad_multiple)
            with self._autocast():
                out.append(model(input_ids=ids.to(env.device), attention_mask=mask.to(env.device)).logits.float())
        n_classes = self.data.n_classes
        logits = torch.cat(out) if out else torch.zeros((0, n_classes), device=env.device)
        return gather_predictions(env, mine, logits, len(tokens))

    def _finish(self) -> dict:
        cfg, env = self.cfg, self.env
        t0 = time.perf_counter()
        logits = self.predict(self.val_tokens, self.val_lengths)
        eval_seconds = time.perf_counter() - t0
        result = {"out": str(self.out), "steps": self.step}
        if env.is_main:
            from helpers.metrics import evaluate
            if not np.isfinite(logits).all():
                raise TrainingDiverged("the validation logits contain NaN or infinite values.")
            pred_path = write_predictions(self.out / "val_predictions.npz", logits, self.data.val_labels,
                                          self.data.val_tiers)
            metrics = evaluate(logits, self.data.val_labels, self.data.val_tiers)
            if cfg.save_model:
                model_dir = self.out / "model"
                unwrap(self.model).save_pretrained(model_dir)
                self.tokenizer.save_pretrained(model_dir)
            card = {
                "recipe": cfg.recipe, "name": self.out.name, "config": cfg.to_dict(),
                "data": {"n_train": len(self.train_tokens), "n_val": len(self.val_tokens),
                         "n_classes": self.data.n_classes, **self.data.digests,
                         "label_names": self.data.label_names},
                "code": code_version(), "versions": library_versions(),
                "device": {"type": env.device.type, "world_size": env.world,
                           "precision": str(self.amp_dtype or "fp32").replace("torch.", ""),
                           "grad_scaler": self.scaler.is_enabled()},
                "metrics": metrics,
                "timing": {"train_seconds": self.train_seconds, "eval_seconds": eval_seconds,
                           "prepare_seconds": self.prepare_seconds,
                           "examples_per_second": self.examples_seen / max(self.train_seconds, 1e-9),
                           "examples_seen": self.examples_seen, "steps": self.step,
                           "sessions": self.sessions + 1},
                "history": self.history,
                "outputs": {"val_predictions": pred_path.name, "model": "model" if cfg.save_model else None},
            }
            card["timing"]["wall_seconds"] = card["timing"]["train_seconds"] + eval_seconds + self.prepare_seconds
            write_json(self.out / "run_card.json", card)  # written last: its presence means "finished"
            if not cfg.keep_checkpoint:
                path = ckpt.checkpoint_path(self.out)
                if path.exists():
                    path.unlink()
            self.log(f"done: macro F1 {metrics['macro_f1']:.4f}, ECE {metrics['ece']:.4f}, NLL {metrics['nll']:.4f}; "
                     f"{card['timing']['examples_per_second']:.1f} examples/s; wrote {pred_path}.")
            result.update(metrics=metrics, run_card=card)
        barrier(env)
        return result

    def close(self) -> None:
        for name in ("model", "optimizer", "scheduler", "scaler", "teacher"):
            if hasattr(self, name):
                delattr(self, name)
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def train(cfg: TrainConfig, *, resume: bool = False, env: DistEnv | None = None) -> dict:
    """Train one student as ``cfg`` says; return {"out", "steps", "metrics", "run_card"} (the last two on rank 0)."""
    trainer = Trainer(cfg, env, resume=resume)
    try:
        return trainer.run()
    finally:
        trainer.close()


def read_run_card(out_dir: str | os.PathLike) -> dict | None:
    """A finished run's card, or None when the run has not finished."""
    path = Path(out_dir) / "run_card.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
