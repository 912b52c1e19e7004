"""This trainer vs a plain ``transformers.Trainer`` on the same model, data and device.

Prints examples per second for both and the ratio; asserts nothing about time.

    python benchmarks/training.py --device cpu --tiny            # CI-sized: tiny ModernBERT, a few seconds
    python benchmarks/training.py --device cuda                  # ModernBERT-base, the recipe's settings

Both sides train the vanilla recipe (CE on hard labels, so the loss is the
same), for the same number of optimiser steps with the same batch size, peak
learning rate, warmup, weight decay and precision policy (fp16 + GradScaler on
a GPU without bf16, bf16 where supported, fp32 on CPU).  What differs is the
machinery: this trainer's length-grouped batches, padding to a multiple of 8,
fused AdamW and one host sync per step, against the Trainer's defaults with
dynamic padding (``DataCollatorWithPadding``) over randomly ordered batches.

Data: the synthetic corpus from ``helpers.training.corpus`` (the real complaints are not
reachable offline); ``--max-words`` sets the length spread.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def write_data(directory: Path, n_train, n_val, n_classes, max_words, seed=0):
    from helpers.training.corpus import make_corpus
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, n, s in (("train", n_train, seed), ("val", n_val, seed + 1)):
        texts, labels, _ = make_corpus(n, s, n_classes, max_words=max_words)
        with open(directory / f"{name}.jsonl", "w", encoding="utf-8") as f:
            for t, y in zip(texts, labels):
                f.write(json.dumps({"text": t, "label": int(y)}) + "\n")
        paths[name] = directory / f"{name}.jsonl"
        if name == "train":
            paths["texts"] = texts
    return paths


def ours(args, model, paths, out) -> float:
    from helpers.training.config import TrainConfig
    from helpers.training.dist import setup
    from helpers.training.trainer import Trainer

    cfg = TrainConfig(recipe="vanilla", model=str(model), train_file=str(paths["train"]), val_file=str(paths["val"]),
                      out=str(out), epochs=10**6, max_steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                      warmup_ratio=0.1, weight_decay=0.01, max_length=args.max_length, seed=args.seed,
                      save_model=False, progress=False, log_every=10**6, checkpoint_every=10**6)
    trainer = Trainer(cfg, setup(args.device))
    card = trainer.run()["run_card"]
    trainer.close()
    return card["timing"]["examples_per_second"]


def baseline(args, model, paths, out) -> float:
    import torch
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
    )

    tok = AutoTokenizer.from_pretrained(model)
    rows = [json.loads(line) for line in open(paths["train"], encoding="utf-8")]
    enc = tok([r["text"] for r in rows], truncation=True, max_length=args.max_length)
    dataset = [{"input_ids": ids, "attention_mask": m, "labels": r["label"]}
               for ids, m, r in zip(enc["input_ids"], enc["attention_mask"], rows)]
    n_classes = max(r["label"] for r in rows) + 1
    torch.manual_seed(args.seed)
    net = AutoModelForSequenceClassification.from_pretrained(model, num_labels=n_classes,
                                                             ignore_mismatched_sizes=True)
    cuda = args.device == "cuda"
    bf16 = cuda and torch.cuda.is_bf16_supported()
    targs = TrainingArguments(
        output_dir=str(out), per_device_train_batch_size=args.batch_size, max_steps=args.steps,
        learning_rate=args.lr, warmup_steps=math.ceil(0.1 * args.steps), weight_decay=0.01,
        fp16=cuda and not bf16, bf16=bf16, use_cpu=not cuda, save_strategy="no", report_to=[], logging_steps=10**6,
        seed=args.seed,
        dataloader_num_workers=0, disable_tqdm=True)
    trainer = Trainer(model=net, args=targs, train_dataset=dataset, data_collator=DataCollatorWithPadding(tok))
    t0 = time.perf_counter()
    trainer.train()
    return args.steps * args.batch_size / (time.perf_counter() - t0)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", choices=("cpu", "cuda"), default="cuda")
    p.add_argument("--tiny", action="store_true", help="a tiny ModernBERT built here (2 layers, hidden 32)")
    p.add_argument("--model", default="answerdotai/ModernBERT-base")
    p.add_argument("--steps", type=int, default=None, help="optimiser steps per side (default 40 tiny, 300 full)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--max-words", type=int, default=None, help="longest synthetic text (default 60 tiny, 160 full)")
    p.add_argument("--lr", type=float, default=5e-5)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--json", help="also write the figures to this file")
    args = p.parse_args(argv)
    args.steps = args.steps or (40 if args.tiny else 300)
    args.max_words = args.max_words or (60 if args.tiny else 160)

    from helpers.course import N_CLASSES

    n_classes = 8 if args.tiny else N_CLASSES
    n_train = args.steps * args.batch_size
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        paths = write_data(tmp / "data", n_train, 64, n_classes, args.max_words, args.seed)
        if args.tiny:
            from helpers.training.tiny import build_tiny_model_dir
            model = build_tiny_model_dir(tmp / "model", paths["texts"], n_classes, seed=args.seed)
            name = "tiny ModernBERT (2 layers, hidden 32)"
        else:
            model, name = args.model, args.model
        print(f"device {args.device}, model {name}, {n_train} texts (up to {args.max_words} words), "
              f"batch {args.batch_size}, {args.steps} steps, max length {args.max_length}", flush=True)
        results = {"device": args.device, "model": name, "steps": args.steps, "batch_size": args.batch_size}
        results["this_trainer"] = ours(args, model, paths, tmp / "ours")
        print(f"  this trainer           {results['this_trainer']:10.1f} examples/s", flush=True)
        try:
            import accelerate  # noqa: F401  (transformers.Trainer refuses to start without it)
        except ImportError:
            results["transformers_trainer"] = None
            print("  transformers.Trainer   not run: it needs the `accelerate` package (>=1.1), which is not "
                  "installed in this environment.")
        else:
            results["transformers_trainer"] = baseline(args, model, paths, tmp / "baseline")
            results["ratio"] = results["this_trainer"] / results["transformers_trainer"]
            print(f"  transformers.Trainer   {results['transformers_trainer']:10.1f} examples/s")
            print(f"  ratio                  {results['ratio']:10.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
