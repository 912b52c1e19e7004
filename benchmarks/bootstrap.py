"""Vectorised paired bootstrap vs the straightforward loop, side by side.

Runs both on the course's shape (6,430 val rows, 113 classes, tiers of
20 / 40 / 53 classes with 5,155 / 1,065 / 210 rows, 1,000 resamples, two
arms of ~30%-accuracy predictions whose errors are correlated), prints both
times, the speed ratio and the largest difference between their results.
It prints numbers and never asserts on times (DESIGN.md).

    python benchmarks/bootstrap.py [--metric macro_f1] [--repeats 5] [--loop-repeats 1]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpers.bootstrap import paired_bootstrap, paired_bootstrap_loop  # noqa: E402
from helpers.metrics import softmax  # noqa: E402

TIER_ROWS = {"head": 5155, "mid": 1065, "tail": 210}
TIER_CLASSES = {"head": 20, "mid": 40, "tail": 53}
N_CLASSES = 113


def course_shape(seed=0):
    """Labels, tiers and two correlated prediction arms (plus logits for the
    probability metrics) shaped like the course's validation set."""
    rng = np.random.default_rng(seed)
    labels, tiers = [], []
    first = 0
    for tier in ("head", "mid", "tail"):
        k, m = TIER_CLASSES[tier], TIER_ROWS[tier]
        # Long tail inside the tier too: Zipf-like class frequencies.
        w = 1.0 / np.arange(1, k + 1) ** 0.8
        counts = rng.multinomial(m - k, w / w.sum()) + 1  # every class appears at least once
        labels.append(np.repeat(np.arange(first, first + k), counts))
        tiers.append(np.full(m, tier))
        first += k
    labels = np.concatenate(labels)
    tiers = np.concatenate(tiers)
    order = rng.permutation(labels.size)
    labels, tiers = labels[order], tiers[order]
    n = labels.size

    # Shared difficulty makes the arms' errors correlated; head classes soak up
    # the confusions, as a long-tail classifier's do.
    difficulty = rng.normal(size=n)
    skill = {"head": 0.0, "mid": -0.9, "tail": -1.6}
    base = np.array([skill[t] for t in tiers]) - 0.95
    prior = np.concatenate([np.full(20, 6.0), np.full(40, 2.0), np.full(53, 1.0)])
    prior /= prior.sum()
    wrong = rng.choice(N_CLASSES, size=n, p=prior)
    arms, logits = [], []
    for shift in (0.0, 0.08):
        p_correct = 1 / (1 + np.exp(-(base + shift - 1.2 * difficulty + 0.3 * rng.normal(size=n))))
        correct = rng.random(n) < p_correct
        # Most confusions are shared between arms; some are the arm's own.
        own = rng.random(n) < 0.3
        confusion = np.where(own, rng.choice(N_CLASSES, size=n, p=prior), wrong)
        preds = np.where(correct, labels, confusion)
        z = rng.normal(scale=1.0, size=(n, N_CLASSES))
        z[np.arange(n), preds] += 2.5 + rng.gamma(2.0, 0.6, size=n)
        arms.append(preds.astype(np.int64))
        logits.append(z.astype(np.float32))
    return labels, tiers, arms, logits


def _best_of(fn, repeats):
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def run(metric, n_resamples, repeats, loop_repeats, seed=42):
    labels, tiers, arms, logits = course_shape()
    if metric in ("macro_f1", "accuracy"):
        a, b = arms
    else:
        a, b = softmax(logits[0]), softmax(logits[1])
    fast = lambda: paired_bootstrap(a, b, labels, tiers, metric, n_resamples, seed)  # noqa: E731
    loop = lambda: paired_bootstrap_loop(a, b, labels, tiers, metric, n_resamples, seed)  # noqa: E731
    fast()  # warm-up: imports, first-touch of numpy's allocator pools
    t_fast, r_fast = _best_of(fast, repeats)
    t_loop, r_loop = _best_of(loop, loop_repeats)
    cols = ["median", "ci_low", "ci_high", "observed"]
    diff = float(np.abs(r_fast[cols].to_numpy() - r_loop[cols].to_numpy()).max())
    same_flags = bool((r_fast["excludes_zero"] == r_loop["excludes_zero"]).all())
    exact = diff == 0.0 and same_flags
    print(f"metric={metric}  n={labels.size}  resamples={n_resamples}  tiers=head/mid/tail")
    print(f"  vectorised : {t_fast * 1e3:9.1f} ms  (best of {repeats})")
    print(f"  loop       : {t_loop * 1e3:9.1f} ms  (best of {loop_repeats})")
    print(f"  speed-up   : {t_loop / t_fast:9.1f}x")
    print(f"  max |diff| : {diff:.3g}  excludes_zero equal: {same_flags}  identical: {exact}")
    print(r_fast.to_string(float_format=lambda v: f"{v:+.5f}"))
    return t_fast, t_loop, diff


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--metric", default="macro_f1",
                    help="macro_f1, accuracy, ece, nll, or all (default macro_f1)")
    ap.add_argument("--n-resamples", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=5, help="best-of-k for the vectorised side")
    ap.add_argument("--loop-repeats", type=int, default=1)
    args = ap.parse_args(argv)
    metrics = ["macro_f1", "accuracy", "ece", "nll"] if args.metric == "all" else [args.metric]
    for metric in metrics:
        run(metric, args.n_resamples, args.repeats, args.loop_repeats)
        print()


if __name__ == "__main__":
    main()
