"""lab_kd_loss: the student's KD loss, probed on fixed inputs at every alpha, fp16, large logits and backward().

The same inputs at every alpha let the judge (``kd_judge``) separate the two terms
(alpha = 0 and 1) from their weighting (the mixed alphas) and charge a weighting
slip to the weights only.  Robustness (fp16, logits of size ~1000) and the gradient
are judged against the student's own function at a higher precision, so a formula
mistake is not charged twice.
"""
from __future__ import annotations

from collections.abc import Mapping

import torch

import helpers.kd as hk

from ..kernel.pristine import PY, TB, TORCH
from .base import Check
from .kd_judge import KD_ATOL, KD_FP16_ATOL, KD_FP16_RTOL, KD_RTOL, judge_kd
from .runner import Runner, collect, derive, lookup, missing


# --------------------------------------------------------------------------- inputs (drawn from the run's seed)
def tgen(seed: int) -> object:
    """A seeded torch generator."""
    g = TORCH.Generator()
    g.manual_seed(seed)
    return g


def kd_settings() -> list[tuple[int, int, float]]:
    """(batch, n_classes, T_d): each setting has one fixed input batch, scored at every alpha."""
    return [(b, c, T) for b in (1, 5) for c in (2, 113) for T in (1.0, 2.0, 4.0, 8.0)]


KD_ALPHAS = (0.0, 0.3, 0.7, 1.0)


def kd_grid() -> list[tuple[int, int, float, float]]:
    """The KD grid: (batch, n_classes, T_d, alpha) in a fixed order, alpha fastest."""
    return [(b, c, T, a) for (b, c, T) in kd_settings() for a in KD_ALPHAS]


def kd_inputs(i: int, batch: int, n_classes: int, scale: float = 3.0, half: bool = False, seed: int = 0) -> tuple:
    """(student logits, teacher logits, labels) of input set ``i`` for the run's ``seed``."""
    g = tgen(derive(seed, 10_000 + i))
    s = TB.mul(TORCH.randn(batch, n_classes, generator=g), scale)
    t = TB.mul(TORCH.randn(batch, n_classes, generator=g), scale)
    y = TORCH.randint(0, n_classes, (batch,), generator=g)
    if half:
        s, t = TB.half(s), TB.half(t)
    return s, t, y


def large_inputs(j: int, batch: int, n_classes: int, seed: int = 0) -> tuple:
    """Logits of size ~1000 where the teacher is a sharper copy of the student (t = 1.1 s).

    Softmax probabilities underflow to exactly 0 in float32 here, and wherever the student's
    do, the teacher's do too (its gaps are 1.1 times larger), so the true KL stays finite and
    every correct formulation (log_softmax, log_target, torch.distributions) stays finite,
    while log(softmax(...)) meets log(0) = -inf.
    """
    s, _, y = kd_inputs(600 + j, batch, n_classes, scale=400.0, seed=seed)
    return s, TB.mul(s, 1.1), y


KD_FP16 = [(5, 113, 4.0, 0.7), (5, 113, 8.0, 0.3), (3, 2, 1.0, 1.0)]
KD_LARGE = [(5, 113, 8.0, 0.7), (5, 113, 8.0, 1.0)]
KD_GRAD = (5, 113, 4.0, 0.7)
KD_FD_EPS = 1e-2      # central finite differences in float64 along fixed random directions
KD_FD_DIRECTIONS = 3


# --------------------------------------------------------------------------- the probe (driver side)
def probe_kd(ns: Mapping, run: Runner) -> dict:
    """kd_loss_fn on the grid, in fp16 and on large logits (each next to its own higher-precision run)."""
    found, fn = lookup(ns, "kd_loss_fn")
    if not found:
        return {"missing": missing("kd_loss_fn")}
    grid = []
    for i, (b, c, T) in PY.enumerate(kd_settings()):
        s, t, y = kd_inputs(i, b, c, seed=run.seed)
        for a in KD_ALPHAS:
            grid.append(run.call(fn, (s, t, y, T, a), "loss"))
    fp16, fp16_own_fp32 = [], []
    for j, (b, c, T, a) in PY.enumerate(KD_FP16):
        s, t, y = kd_inputs(500 + j, b, c, half=True, seed=run.seed)
        fp16.append(run.call(fn, (s, t, y, T, a), "loss"))
        fp16_own_fp32.append(run.call(fn, (TB.float(s), TB.float(t), y, T, a), "loss"))
    large, large_own_fp64 = [], []
    for j, (b, c, T, a) in PY.enumerate(KD_LARGE):
        s, t, y = large_inputs(j, b, c, seed=run.seed)
        large.append(run.call(fn, (s, t, y, T, a), "loss"))
        large_own_fp64.append(run.call(fn, (TB.double(s), TB.double(t), y, T, a), "loss"))
    return {"grid": grid, "fp16": fp16, "fp16_own_fp32": fp16_own_fp32, "large": large,
            "large_own_fp64": large_own_fp64, "gradient": kd_gradient(fn, run)}


def kd_gradient(fn: object, run: Runner) -> dict:
    """Autograd's gradient of the student's own loss next to its finite-difference slope (the host's
    ``kd_gradient`` adapter computes both on the directions drawn here).

    The gradient is judged against the student's own function, not the course's, so a
    formula slip (charged in the formula parts) does not cost the gradient point too;
    what this catches is a loss that backward() cannot reach (.item(), numpy, re-wrapping
    with torch.tensor) or reaches only in part (a detached student term).
    """
    b, c, T, a = KD_GRAD
    s, t, y = kd_inputs(700, b, c, seed=run.seed)
    g = tgen(derive(run.seed, 701))
    directions = [TB.double(TORCH.randn(b, c, generator=g)) for _ in PY.range(KD_FD_DIRECTIONS)]
    return run.call(fn, (TB.double(s), TB.double(t), y, T, a, directions, KD_FD_EPS), "kd_gradient")


def first_error(*results: dict) -> str:
    """The first error among probe results ("" when none failed)."""
    for r in results:
        if not r.get("ok"):
            return PY.str(r.get("error", ""))
    return ""


# --------------------------------------------------------------------------- expected values (driver side)
def soft_term(s: torch.Tensor, t: torch.Tensor, T: float, first: str = "log_softmax", t2: bool = True,
              reduction: str = "batchmean", reversed_: bool = False, soften_teacher: bool = True) -> torch.Tensor:
    """The KD soft term in float64, or one of its common slips (the keyword arguments)."""
    import torch.nn.functional as F
    s, t = s.double(), t.double()
    tt = t / T if soften_teacher else t
    if reversed_:
        kl = F.kl_div(F.log_softmax(tt, dim=-1), F.softmax(s / T, dim=-1), reduction=reduction)
    else:
        inp = F.log_softmax(s / T, dim=-1) if first == "log_softmax" else F.softmax(s / T, dim=-1)
        kl = F.kl_div(inp, F.softmax(tt, dim=-1), reduction=reduction)
    return kl * (T ** 2 if t2 else 1.0)


def ce_term(s: torch.Tensor, t: torch.Tensor, y: torch.Tensor, T: float, softened: bool = False,
            reduction: str = "mean", on_teacher: bool = False) -> torch.Tensor:
    """The hard-label cross-entropy in float64, or one of its common slips."""
    import torch.nn.functional as F
    z = (t if on_teacher else s).double()
    return F.cross_entropy(z / T if softened else z, y, reduction=reduction)


# The slips ``kd_judge`` recognises from the values (its SOFT_SLIPS / CE_SLIPS say what each means).
SOFT_SLIP_KW = {"softmax_input": {"first": "softmax"}, "no_T2": {"t2": False}, "kl_reversed": {"reversed_": True},
                "reduction_mean": {"reduction": "mean"}, "reduction_sum": {"reduction": "sum"},
                "teacher_unsoftened": {"soften_teacher": False}}
CE_SLIP_KW = {"ce_softened": {"softened": True}, "ce_sum": {"reduction": "sum"}, "ce_on_teacher": {"on_teacher": True}}


def kd_slips(seed: int = 0) -> dict:
    """Each common slip's soft term (alpha = 1) and cross-entropy (alpha = 0) on the probe's settings."""
    import warnings
    soft = {k: [] for k in SOFT_SLIP_KW}
    ce = {k: [] for k in CE_SLIP_KW}
    for i, (b, c, T) in enumerate(kd_settings()):
        s, t, y = kd_inputs(i, b, c, seed=seed)
        for k, kw in SOFT_SLIP_KW.items():
            with warnings.catch_warnings():  # torch warns about reduction="mean": that slip is the point here
                warnings.simplefilter("ignore", UserWarning)
                soft[k].append(float(soft_term(s, t, T, **kw)))
        for k, kw in CE_SLIP_KW.items():
            ce[k].append(float(ce_term(s, t, y, T, **kw)))
    return {"soft": soft, "ce": ce}


def expected_kd(check: Check, answer_key: dict, seed: int) -> dict:
    """The reference's data without its gradient (judged against the student's own), the settings and the slips."""
    data, _ = collect(check, dict(check.references), seed)
    del data["gradient"]
    return {"reference": data, "settings": [list(c) for c in kd_settings()], "alphas": list(KD_ALPHAS),
            "fp16_cases": [list(c) for c in KD_FP16], "large_cases": [list(c) for c in KD_LARGE],
            "slips": kd_slips(seed)}


def kd_tolerance(path: str, entry: dict) -> tuple[float, float]:
    """The KD judge's tolerances: fp16 values to ~3 digits, float32 ones to 1e-4 relative."""
    if "fp16" in path:
        return KD_FP16_RTOL, KD_FP16_ATOL
    return KD_RTOL, (1e-7 if "gradient" in path else KD_ATOL)


def float32_terms(s: torch.Tensor, t: torch.Tensor, y: torch.Tensor, T: float) -> dict[str, tuple[float, float]]:
    """{formulation: (soft term, cross-entropy)} of correct float32 formulations a student may write,
    the course reference's among them."""
    import torch.nn.functional as F
    from torch.distributions import Categorical, kl_divergence
    s, t = s.float(), t.float()
    lps, lpt = F.log_softmax(s / T, dim=-1), F.log_softmax(t / T, dim=-1)
    lp = F.log_softmax(s, dim=-1)
    manual_ce = float(-lp[torch.arange(len(y)), y].mean())
    ce = float(F.cross_entropy(s, y))
    ref_soft, ref_ce = hk.kd_loss_terms(s, t, y, T)
    return {
        "kl_div on probabilities": (float(F.kl_div(lps, lpt.exp(), reduction="batchmean") * T ** 2), ce),
        "kl_div log_target": (float(F.kl_div(lps, lpt, reduction="batchmean", log_target=True) * T ** 2), ce),
        "manual sums": (float((lpt.exp() * (lpt - lps)).sum(dim=-1).mean() * T ** 2), manual_ce),
        "torch.distributions": (float(kl_divergence(Categorical(logits=t / T), Categorical(logits=s / T)).mean()
                                      * T ** 2), ce),
        "course reference": (float(ref_soft), float(ref_ce)),
    }


def sanity_kd(entry: dict, seed: int) -> None:
    """The large-logit inputs keep every correct formulation finite, and on every setting each correct
    float32 formulation of both terms (the reference's included) lies within half the judge's tolerance
    of the float64 value: a tiny KL or cross-entropy loses relative precision in float32, and two correct
    formulations could then disagree by more than the tolerance (such drawn inputs are redrawn)."""
    import math
    for res in entry["reference"]["large"]:
        assert res["ok"] and math.isfinite(res["value"])
    for i, (b, c, T) in enumerate(kd_settings()):
        s, t, y = kd_inputs(i, b, c, seed=seed)
        soft64, ce64 = float(soft_term(s, t, T)), float(ce_term(s, t, y, T))
        for name, (soft32, ce32) in float32_terms(s, t, y, T).items():
            for term, v, v64 in (("soft term", soft32, soft64), ("cross-entropy", ce32, ce64)):
                assert abs(v - v64) <= 0.5 * (KD_ATOL + KD_RTOL * abs(v64)), \
                    f"float32 {term} ({name}) imprecise at setting {i}"


CHECKS = (
    Check(id="lab_kd_loss", notebook="week6_lab", points=6, reads=("kd_loss_fn",),
          probe=probe_kd, judge=judge_kd, references={"kd_loss_fn": hk.kd_loss},
          forbidden=(hk.kd_loss, hk.kd_loss_terms), skill="kd", expected=expected_kd, tolerance=kd_tolerance,
          sanity=sanity_kd),
)
