"""The embedded course data: a deterministic stand-in for the Hub artifacts.

Students without network access (and every test) still need the week's ten
artifacts, in exactly the published schema and sizes, with numbers close
enough to the published ones that the lab's story holds: the teacher is
near-calibrated, the vanilla student is overconfident, the distilled student
sits closer to the teacher (better NLL and ECE, a small F1 lift on the head),
and temperature scaling beats distillation on ECE.

The generative model (one Gaussian evidence vector per row, shared by every
model so that the arms are correlated the way real models are, and a paired
bootstrap of their difference is tight):

    x = a[y] * onehot(y) + noise                    (113-dim evidence per row)
    teacher   = Bayes posterior logits of y given x  (calibrated by construction)
    student   = posterior given a noisier view x + tau * eta (eta shared by all
                students) plus each run's own small noise, with a prior pulled
                toward the training frequencies
    vanilla   = student logits, sharpened           (overconfident)
    distilled = the student's view moved toward x on head and mid rows,
                sharpened less                      (closer to the teacher)
    grid      = the distilled recipe with per-config sharpness and mix

The class prior makes rare classes hard for every model; sharpening scales
logits per row, so it moves ECE and NLL but never an argmax.  Class ids are
a seeded permutation of the frequency ranks, as in the real label list, so
no code can assume that class 0 is the most frequent one.

Everything is float64 internally and cast once on the way out; the per-seed
latents are cached, so writing all ten artifacts costs one pass.
"""
from __future__ import annotations

import argparse
import functools
import os
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers import course
from helpers.fileio import atomic_write

__all__ = ["SEED", "NAMES", "GRID", "arrays", "write_all", "train_class_counts", "clear_caches", "main"]

SEED = course.SEED  # week 6
N_CLASSES = course.N_CLASSES
N_VAL = 6430
N_TRAIN = 79278  # train + test, what teacher and students trained on
TIERS = course.TIERS
TIER_CLASSES = course.TIER_CLASS_COUNTS  # by training-frequency rank
TIER_VAL_ROWS = {"head": 5155, "mid": 1065, "tail": 210}
# The grid with alpha in percent, as the artifact names spell it: ((1, 70), (1, 90), (4, 70), ...).
GRID = tuple((td, int(round(100 * a))) for td, a in course.GRID)
NAMES = course.ARTIFACT_NAMES  # teachers, the two students, then the grid in GRID's order

# Training support by frequency rank: piecewise log-linear through these
# anchors.  Rank 1 / rank 113 = 13,330 / 5 (the published ~2,666:1 ratio;
# classes under 5 examples were dropped); rank 87 (the tail's median) has 8,
# single digits as the lab's Act 1 expects; the step at ranks 60/61 keeps the
# mid/tail boundary unambiguous.  Ranks 2-60 are rescaled so the total is
# exactly N_TRAIN.
_COUNT_ANCHORS = ((1, 13330), (5, 5000), (20, 700), (60, 24), (61, 19), (87, 8), (113, 5))


@dataclass(frozen=True)
class Params:
    """The knobs of the generative model, tuned once against the published
    numbers (tests/test_synthetic.py checks every target)."""

    # Evidence strength a_c of the true class (mean; per-class log-normal
    # jitter so classes within a tier differ).  The same for every tier: the
    # prior alone makes rare classes hard.  Sets the teacher's level (macro F1
    # ~0.32; head ~0.65, mid ~0.45, tail ~0.20; NLL ~1.26).
    signal: float = 2.45
    signal_jitter: float = 0.10
    # Teacher logits are divided by this.  1.0 is calibrated by construction;
    # slightly below gives the published teacher ECE of ~0.02, not just noise.
    teacher_temp: float = 0.95
    # On its own training rows the teacher has seen the examples.
    train_signal: float = 1.5
    # Students see the evidence through extra noise (sets vanilla F1 ~0.26
    # and the teacher-student gap everywhere).
    tau: float = 0.38
    # Each run's own noise, rising linearly with rarity: small on the head,
    # so two runs mostly agree there and the paired bootstrap is tight; a
    # little larger on the tail, whose logits a run pins down least.
    run_noise_head: float = 0.08
    run_noise_tail: float = 0.12
    # How far the students' prior leans to training frequencies (CE on
    # imbalanced data); 0 = val prior, 1 = training prior.
    prior_pull: float = 0.1
    # Vanilla sharpness (> 1: overconfident; sets raw ECE ~0.13), and its
    # per-row spread (log-normal sd): one global T cannot undo a sharpness
    # that varies from row to row, which keeps vanilla + T's NLL above
    # distilled's while T still wins on ECE.
    vanilla_sharp: float = 1.45
    vanilla_sharp_sd: float = 0.15
    # Distilled: the share by which each row's student view moves toward the
    # teacher's evidence, by the tier of the row's class (sets the per-tier
    # F1 lift: clear on the head, inside the noise on mid and tail); and its
    # milder sharpness (ECE ~0.055, NLL below vanilla + T).
    mix: tuple = (("head", 0.3), ("mid", 0.3), ("tail", 0.0))
    distilled_sharp: float = 1.2
    distilled_sharp_sd: float = 0.1
    # Grid: sharpness by T_d (softer targets, softer student) times a factor
    # by alpha, and a mix factor by alpha; (4, 70) is the distilled recipe.
    # Sharpness moves ECE (spread ~0.035) but never the argmax, so the F1
    # spread is only the runs' noise and the small mix factor.
    grid_sharp: tuple = ((1, 1.25), (4, 1.2), (8, 1.15))
    grid_alpha_sharp: tuple = ((70, 1.0), (90, 0.98))
    grid_alpha_mix: tuple = ((70, 1.0), (90, 1.05))
    # Correlation of a grid run's noise with the lab's distilled run: same
    # seed and data order, only the loss's T_d and alpha differ.
    grid_run_corr: float = 0.8


PARAMS = Params()

# Independent random streams, one per purpose, so an artifact's content never
# depends on which other artifacts were generated first.
_STREAM = {"classes": 1, "val_order": 2, "val_noise": 3, "student_view": 4, "train": 5,
           "signal": 6, "vanilla": 10, "distilled": 11}
_STREAM.update({f"grid_Td{td}_a{a}": 20 + i for i, (td, a) in enumerate(GRID)})


def _rng(seed, stream):
    return np.random.default_rng([int(seed), _STREAM[stream]])


def _check_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    return int(seed)


# --------------------------------------------------------------------------- class structure
def _counts_by_rank():
    ranks, values = zip(*_COUNT_ANCHORS)
    r = np.arange(1, N_CLASSES + 1)
    c = np.exp(np.interp(r, ranks, np.log(values)))
    fixed = c[0] + c[60:].round().sum()
    middle = c[1:60] * (N_TRAIN - fixed) / c[1:60].sum()
    counts = np.concatenate([[c[0]], middle, c[60:]]).round().astype(np.int64)
    counts[1] += N_TRAIN - counts.sum()  # rounding residual onto rank 2
    # tiers are cut by rank: a tie across a cut would make the cut ambiguous
    cuts = np.cumsum(list(TIER_CLASSES.values()))[:-1]
    assert np.all(np.diff(counts) <= 0) and np.all(counts[cuts - 1] > counts[cuts])
    return counts


def _allocate(total, weights):
    """Integer split of ``total`` proportional to ``weights``, at least 1 each
    (every class must appear in val), largest remainders first."""
    share = 1 + (total - len(weights)) * weights / weights.sum()
    out = np.floor(share).astype(np.int64)
    out[np.argsort(-(share - out), kind="stable")[: total - out.sum()]] += 1
    return out


@functools.lru_cache(maxsize=4)
def _structure(seed):
    """Class ids, supports, tiers and strengths, all indexed by class id."""
    counts_rank = _counts_by_rank()
    bounds = np.cumsum([0, *TIER_CLASSES.values()])
    tier_rank = np.repeat(np.array(TIERS), list(TIER_CLASSES.values()))
    val_rank = np.concatenate([_allocate(TIER_VAL_ROWS[t], counts_rank[lo:hi].astype(float))
                               for t, lo, hi in zip(TIERS, bounds[:-1], bounds[1:])])
    class_of_rank = _rng(seed, "classes").permutation(N_CLASSES)
    by_class = np.empty(N_CLASSES, dtype=np.int64)
    by_class[class_of_rank] = np.arange(N_CLASSES)  # rank index of each class id
    train = counts_rank[by_class]
    s = (np.log(train) - np.log(train.min())) / (np.log(train.max()) - np.log(train.min()))
    return {"train": train, "val": val_rank[by_class], "tier": tier_rank[by_class], "support": s}


def train_class_counts(seed: int = SEED) -> np.ndarray:
    """Training support (train + test) of each class id: shape (113,), sums to 79,278."""
    return _structure(_check_seed(seed))["train"].copy()


# --------------------------------------------------------------------------- latents
def _strength(seed, p):
    return p.signal * np.exp(p.signal_jitter * _rng(seed, "signal").standard_normal(N_CLASSES))


def _posterior_logits(x, a, log_prior, noise_var):
    """log p(c | x) up to a constant when x ~ N(a_c e_c, noise_var I)."""
    return log_prior + (a * x - 0.5 * a * a) / noise_var


@functools.lru_cache(maxsize=4)
def _val_latents(seed, p=PARAMS):
    st = _structure(seed)
    labels = np.repeat(np.arange(N_CLASSES), st["val"])
    labels = labels[_rng(seed, "val_order").permutation(N_VAL)]
    a = _strength(seed, p)
    x = _rng(seed, "val_noise").standard_normal((N_VAL, N_CLASSES))
    x[np.arange(N_VAL), labels] += a[labels]
    log_val = np.log(st["val"] / N_VAL)
    log_train = np.log(st["train"] / N_TRAIN)
    teacher = _posterior_logits(x, a, log_val, 1.0)
    # Students: a noisier view of the same evidence (shared by every student,
    # as they share data, architecture and seed) and a prior leaning to the
    # training frequencies.
    view = x + p.tau * _rng(seed, "student_view").standard_normal((N_VAL, N_CLASSES))
    return {"labels": labels, "tiers": st["tier"][labels], "x": x, "a": a, "teacher": teacher,
            "view": view, "student_prior": log_val + p.prior_pull * (log_train - log_val)}


def _run_draws(seed, name):
    """A run's own noise (n, 113) and per-row sharpness draw (n, 1)."""
    rng = _rng(seed, name)
    return rng.standard_normal((N_VAL, N_CLASSES)), rng.standard_normal((N_VAL, 1))


def _student_logits(seed, name, p, w=0.0):
    """One student run: posterior logits from the shared student view (each
    row moved a share ``w[row]`` toward the teacher's evidence) plus this
    run's small noise, and this run's per-row sharpness draw.

    The posterior keeps the plain student's noise variance even where ``w``
    cleaned the view up (the student does not know it got better; its
    sharpness is set separately).
    """
    lat = _val_latents(seed, p)
    rarity = 1 - _structure(seed)["support"]
    run_noise = p.run_noise_head + (p.run_noise_tail - p.run_noise_head) * rarity
    eps, row_sharp = _run_draws(seed, name)
    if name.startswith("grid_"):
        rho = p.grid_run_corr
        eps = rho * _run_draws(seed, "distilled")[0] + np.sqrt(1 - rho * rho) * eps
    view = (1 - w) * lat["view"] + w * lat["x"] + run_noise * eps
    logits = _posterior_logits(view, lat["a"], lat["student_prior"],
                               1.0 + p.tau ** 2 + run_noise ** 2)
    return logits, row_sharp


def _sharpen(logits, sharp, sd, z):
    """Scale logits per row by sharp * lognormal(sd) with mean one: argmax unchanged."""
    return logits * (sharp * np.exp(sd * z - 0.5 * sd * sd))


def _distilled_logits(seed, name, p, mix_scale, sharp):
    # Keyed by each row's tier: what distillation transfers is the teacher's
    # knowledge of examples like the ones it saw often, so the lift lands on
    # head rows and leaves tail rows where vanilla had them.
    by_tier = dict(p.mix)
    tiers = _val_latents(seed, p)["tiers"]
    w = mix_scale * np.select([tiers == t for t in TIERS], [by_tier[t] for t in TIERS])[:, None]
    logits, z = _student_logits(seed, name, p, w)
    return _sharpen(logits, sharp, p.distilled_sharp_sd, z)


# --------------------------------------------------------------------------- artifacts
def _generate(name, seed, p):
    lat = _val_latents(seed, p)
    labels = lat["labels"].astype(np.int64)
    if name == "teacher_val":
        logits = lat["teacher"] / p.teacher_temp
        return {"logits": logits.astype(np.float32), "labels": labels,
                "tiers": lat["tiers"].astype("<U4")}
    if name == "teacher_train_test":
        return {"logits": _teacher_train(seed, p)}
    if name == "vanilla":
        logits, z = _student_logits(seed, name, p)
        logits = _sharpen(logits, p.vanilla_sharp, p.vanilla_sharp_sd, z)
    elif name == "distilled":
        logits = _distilled_logits(seed, name, p, 1.0, p.distilled_sharp)
    else:
        td, alpha = _parse_grid(name)
        sharp = dict(p.grid_sharp)[td] * dict(p.grid_alpha_sharp)[alpha]
        logits = _distilled_logits(seed, name, p, dict(p.grid_alpha_mix)[alpha], sharp)
    logits = logits.astype(np.float32)
    return {"logits": logits, "preds": logits.argmax(axis=1).astype(np.int64),
            "labels": labels, "val_tiers": lat["tiers"].astype("<U4")}


def _teacher_train(seed, p):
    """Teacher logits on its own training rows (fp16, as published)."""
    st = _structure(seed)
    rng = _rng(seed, "train")
    labels = rng.permutation(np.repeat(np.arange(N_CLASSES), st["train"]))
    a = _strength(seed, p) * p.train_signal
    x = rng.standard_normal((N_TRAIN, N_CLASSES), dtype=np.float32)
    x[np.arange(N_TRAIN), labels] += a[labels].astype(np.float32)
    log_prior = np.log(st["train"] / N_TRAIN).astype(np.float32)
    logits = _posterior_logits(x, a.astype(np.float32), log_prior, np.float32(1.0))
    return (logits / np.float32(p.teacher_temp)).astype(np.float16)


def _parse_grid(name):
    for td, a in GRID:
        if name == f"grid_Td{td}_a{a}":
            return td, a
    raise ValueError(f"name must be one of {list(NAMES)}, got {name!r}.")


def clear_caches() -> None:
    """Forget the per-seed latents, so the next call starts cold (benchmarks time that start)."""
    _structure.cache_clear()
    _val_latents.cache_clear()


def arrays(name: str, seed: int = SEED) -> dict[str, np.ndarray]:
    """The arrays of one artifact, keyed as in the published npz file."""
    if name not in NAMES:
        raise ValueError(f"name must be one of {list(NAMES)}, got {name!r}.")
    return _generate(name, _check_seed(seed), PARAMS)


# --------------------------------------------------------------------------- files
# Older numpy's np.savez stamps each member with the current time (numpy 2.4
# happens to pin 1980-01-01).  Writing the same layout ourselves with that
# fixed stamp makes the same seed give byte-identical files on any numpy, so
# checksums of the embedded data hold.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def _save_npz(path, arrs):
    """What np.savez writes (uncompressed, zip64 members), minus the clock."""
    with zipfile.ZipFile(path, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, val in arrs.items():
            info = zipfile.ZipInfo(key + ".npy", date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o600 << 16  # what ZipFile.open(name, "w") would give
            with zf.open(info, "w", force_zip64=True) as fid:
                np.lib.format.write_array(fid, np.asanyarray(val), allow_pickle=False)


def write_all(directory: str | os.PathLike, seed: int = SEED) -> dict[str, Path]:
    """Write every artifact to ``<directory>/<name>.npz``; returns {name: path}."""
    seed = _check_seed(seed)
    out = Path(directory)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"directory must be a folder, got the file {str(out)!r}.")
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name in NAMES:
        path = out / f"{name}.npz"
        with atomic_write(path) as tmp:  # a reader in another process never sees half a file
            _save_npz(tmp, arrays(name, seed))
        paths[name] = path
    return paths


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers synthetic --out DIR [--seed N]``; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m helpers synthetic",
                                     description="Write the embedded synthetic course data "
                                                 "(same schema and sizes as the Hub artifacts).")
    parser.add_argument("--out", required=True, help="folder to write <name>.npz files into")
    parser.add_argument("--seed", type=int, default=SEED, help=f"generator seed (default {SEED})")
    args = parser.parse_args(argv)
    try:
        paths = write_all(args.out, args.seed)
    except (ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for path in paths.values():
        print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    print(f"SYNTHETIC course data (seed {args.seed}): {len(paths)} artifacts in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
