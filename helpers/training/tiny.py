"""A tiny ModernBERT and a tokenizer trained in code: offline tests and the CPU benchmark.

Nothing is downloaded: the tokenizer is a word-level vocabulary learned from
the given texts with ``tokenizers``, and the model is randomly initialised
from a small ``ModernBertConfig``.  Both are saved with ``save_pretrained`` so
the trainer loads them exactly as it loads ``answerdotai/ModernBERT-base``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from helpers.fileio import atomic_write, atomic_write_text

__all__ = ["train_tokenizer", "build_tiny_model_dir", "write_corpus_files"]

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def train_tokenizer(texts: list[str], vocab_size: int = 1000) -> Any:
    """A small word-level tokenizer trained on ``texts`` (no download), wrapped for transformers."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(texts, trainers.WordLevelTrainer(vocab_size=vocab_size, special_tokens=SPECIALS))
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
                                                       special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]", model_max_length=512)


def build_tiny_model_dir(path: str | Path, texts: list[str], n_classes: int, *, hidden: int = 32, layers: int = 2,
                         heads: int = 2, local_attention: int = 16, vocab_size: int = 1000, seed: int = 0) -> Path:
    """Save a randomly initialised tiny ModernBERT classifier and its tokenizer to ``path``."""
    import torch
    from transformers import ModernBertConfig, ModernBertForSequenceClassification

    path = Path(path)
    tokenizer = train_tokenizer(texts, vocab_size)
    config = ModernBertConfig(
        vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=layers,
        num_attention_heads=heads, max_position_embeddings=512, local_attention=local_attention,
        global_attn_every_n_layers=2, num_labels=n_classes,
        pad_token_id=tokenizer.pad_token_id, cls_token_id=tokenizer.cls_token_id,
        sep_token_id=tokenizer.sep_token_id, bos_token_id=tokenizer.cls_token_id,
        eos_token_id=tokenizer.sep_token_id)
    torch.manual_seed(seed)
    model = ModernBertForSequenceClassification(config)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def write_corpus_files(directory: str | Path, n_train: int = 400, n_val: int = 120, n_classes: int = 8,
                       seed: int = 0, *, teacher_digest: bool = True) -> dict:
    """train.jsonl, val.jsonl and teacher.npz from ``helpers.training.corpus.make_corpus``; returns their paths."""
    import json

    import numpy as np

    from helpers.training.corpus import make_corpus

    from .data import texts_digest

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tr_texts, tr_labels, tr_teacher = make_corpus(n_train, seed, n_classes)
    va_texts, va_labels, _ = make_corpus(n_val, seed + 1, n_classes)
    for name, texts, labels in (("train", tr_texts, tr_labels), ("val", va_texts, va_labels)):
        atomic_write_text(directory / f"{name}.jsonl",
                          "".join(json.dumps({"text": t, "label": int(y)}) + "\n" for t, y in zip(texts, labels)))
    extra = {"text_sha256": np.array(texts_digest(tr_texts))} if teacher_digest else {}
    with atomic_write(directory / "teacher.npz") as tmp:
        np.savez(tmp, logits=tr_teacher, **extra)
    return {"train_file": str(directory / "train.jsonl"), "val_file": str(directory / "val.jsonl"),
            "teacher_logits": str(directory / "teacher.npz"), "texts": tr_texts}


def ensure_tiny_setup(directory: str | Path, n_train: int = 400, n_val: int = 120, n_classes: int = 8,
                      seed: int = 0) -> dict:
    """Corpus files plus a tiny model folder under ``directory``, built once and reused
    (several test modules share one pytest session's temporary folder)."""
    import json

    directory = Path(directory)
    done = directory / "setup.json"
    if done.is_file():
        return json.loads(done.read_text())
    files = write_corpus_files(directory / "data", n_train, n_val, n_classes, seed)
    build_tiny_model_dir(directory / "model", files.pop("texts"), n_classes, seed=seed)
    info = {**files, "model": str(directory / "model"), "n_classes": n_classes, "n_train": n_train, "n_val": n_val}
    atomic_write_text(done, json.dumps(info))  # last: its presence means the rest is complete
    return info
