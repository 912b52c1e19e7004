"""A tiny deterministic text corpus with aligned teacher logits, for training tests.

The real course data (CFPB complaints, 113 classes, Qwen3-32B teacher logits)
cannot be reached offline, so the training tests and the CPU benchmark run on
this stand-in instead.  It keeps the properties the trainer relies on:

* a long-tail label distribution (Zipf-like class frequencies);
* class-dependent vocabulary, so that a two-layer model learns something in a
  few dozen steps (each class owns a few keywords; neighbouring classes share
  one, which gives the teacher something to be unsure about);
* variable text lengths, so that length-grouped batching and dynamic padding
  have work to do;
* teacher logits, float16 like the published file, one row per text in the
  same order, with a plausible error rate (the teacher sometimes prefers a
  neighbouring class).

Everything comes from ``numpy.random.default_rng(seed)``: the same
``(n_rows, seed, n_classes)`` always gives the same corpus, byte for byte.
"""
from __future__ import annotations

import numpy as np

from helpers.course import N_CLASSES

__all__ = ["make_corpus", "FILLER_WORDS"]

FILLER_WORDS = (
    "i the a my to and of was on in for with account bank card credit loan payment called "
    "they told me not have been still company report would after this that it is did never "
    "received letter phone month days paid balance fee charged interest service customer "
    "request again asked about their because without date since time number information"
).split()

_SYLLABLES = ("ka", "lo", "mi", "ru", "te", "so", "na", "vi", "de", "po", "ze", "fu", "qa", "bi", "xo", "he")


def _class_words(n_classes: int) -> list[list[str]]:
    """Three keywords of its own per class, plus the first keyword of the next class
    (a shared word: classes c and c+1 are neighbours the teacher can confuse)."""
    words = []
    for c in range(n_classes):
        own = []
        for k in range(3):
            code = c * 3 + k
            # A deterministic, pronounceable, collision-free word per (class, k).
            a, b, d = code % 16, (code // 16) % 16, (code // 256) % 16
            own.append(_SYLLABLES[a] + _SYLLABLES[b] + _SYLLABLES[d] + "x")
        words.append(own)
    return [own + [words[(c + 1) % n_classes][0]] for c, own in enumerate(words)]


def make_corpus(n_rows: int, seed: int = 0, n_classes: int = N_CLASSES, *, min_words: int = 6,
                max_words: int = 60, keyword_rate: float = 0.3,
                teacher_error_rate: float = 0.15) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Return ``(texts, labels, teacher_logits_fp16)`` for ``n_rows`` synthetic complaints.

    texts: list of ``n_rows`` str; labels: int64 array (n_rows,) in ``[0, n_classes)``;
    teacher_logits_fp16: float16 array (n_rows, n_classes), row i aligned with texts[i].
    """
    if not isinstance(n_rows, (int, np.integer)) or n_rows < 1:
        raise ValueError(f"n_rows must be a positive integer, got {n_rows!r}.")
    if not isinstance(n_classes, (int, np.integer)) or n_classes < 2:
        raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}.")
    if not 1 <= min_words <= max_words:
        raise ValueError(f"need 1 <= min_words <= max_words, got {min_words} and {max_words}.")
    rng = np.random.default_rng(seed)

    # Long tail: frequency of the class at rank r is proportional to 1 / r**1.1.
    freq = 1.0 / np.arange(1, n_classes + 1) ** 1.1
    labels = rng.choice(n_classes, size=n_rows, p=freq / freq.sum()).astype(np.int64)

    vocab = _class_words(n_classes)
    filler = np.array(FILLER_WORDS)
    lengths = rng.integers(min_words, max_words + 1, size=n_rows)
    texts = []
    for y, n in zip(labels, lengths):
        words = filler[rng.integers(0, filler.size, size=n)].tolist()
        is_key = rng.random(n) < keyword_rate
        is_key[rng.integers(0, n)] = True  # every text carries at least one clue
        keys = vocab[y]
        for i in np.flatnonzero(is_key):
            words[i] = keys[rng.integers(0, len(keys))]
        texts.append(" ".join(words))

    # The teacher: confident on the true class, some mass on the neighbour, and
    # wrong (neighbour on top) on a share of the rows.
    logits = rng.normal(0.0, 1.0, size=(n_rows, n_classes))
    rows = np.arange(n_rows)
    neighbour = (labels + 1) % n_classes
    wrong = rng.random(n_rows) < teacher_error_rate
    logits[rows, labels] += np.where(wrong, 2.5, 5.0)
    logits[rows, neighbour] += np.where(wrong, 4.5, 2.5)
    return texts, labels, logits.astype(np.float16)
