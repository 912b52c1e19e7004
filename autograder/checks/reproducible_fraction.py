"""hw_reproducible_fraction: the homework's share of the calibration gain that distillation reproduces."""
from __future__ import annotations

from collections.abc import Mapping

from ..kernel.pristine import NP, PY
from .base import Check
from .runner import DEFAULT_SEED, Runner, collect, derive, lookup, missing
from .verdict import Verdict, close, error_of, fmt, part, verdict

FRACTION_CASES = [(0.1308, 0.0263, 0.0546), (0.2, 0.05, 0.1), (0.1, 0.08, 0.02)]


# --------------------------------------------------------------------------- inputs (drawn from the run's seed)
def fraction_cases(seed: int) -> list[tuple[float, float, float]]:
    """(ece_vanilla, ece_vanilla_t, ece_distilled) cases: the fixed ones for the DEFAULT seed, else drawn."""
    if seed == DEFAULT_SEED:
        return list(FRACTION_CASES)
    rng = NP.RandomState(derive(seed, 97))
    out = []
    for _ in PY.range(PY.len(FRACTION_CASES)):
        v = PY.float(rng.uniform(0.08, 0.25))
        out.append((v, PY.float(v * rng.uniform(0.1, 0.9)), PY.float(v * rng.uniform(0.05, 0.7))))
    return out


# --------------------------------------------------------------------------- probe (driver side)
def probe_fraction(ns: Mapping, run: Runner) -> dict:
    found, fn = lookup(ns, "reproducible_fraction")
    if not found:
        return {"cases": [missing("reproducible_fraction")] * PY.len(FRACTION_CASES)}
    return {"cases": [run.call(fn, case) for case in fraction_cases(run.seed)]}


# --------------------------------------------------------------------------- judge (driver side)
def judge_fraction(check: Check, data: dict, exp: dict) -> Verdict:
    """The formula on three fixed cases."""
    check_id = check.id
    cases = data.get("cases", [])
    refs = exp["reference"]["cases"]
    fails = []
    for args, got, ref in zip(exp["cases"], cases, refs):
        if not got.get("ok") or not close(got.get("value"), ref["value"], 1e-6, 1e-12):
            what = error_of(got) if not got.get("ok") else f"returned {fmt(got.get('value'))}"
            fails.append(f"for ece_vanilla={args[0]}, ece_vanilla_t={args[1]}, ece_distilled={args[2]} you {what}")
    return verdict(check_id, check.points, [part("values", not fails, 1,
                                   f"{fails[0] if fails else ''}; expected (vanilla - vanilla+T) / "
                                   "(vanilla - distilled).", "; ".join(fails))])


# --------------------------------------------------------------------------- expected values (driver side)
def _reference_fraction(v, t, d):
    return (v - t) / (v - d)


def expected_fraction(check: Check, answer_key: dict, seed: int) -> dict:
    """The reference's values on the cases drawn for ``seed``, and the cases (the judge's messages name them)."""
    return {"reference": collect(check, dict(check.references), seed)[0],
            "cases": [list(c) for c in fraction_cases(seed)]}


CHECKS = (
    Check(id="hw_reproducible_fraction", notebook="week6_homework", points=1,
          reads=("reproducible_fraction",), probe=probe_fraction, judge=judge_fraction,
          references={"reproducible_fraction": _reference_fraction}, expected=expected_fraction,
          tolerance=lambda path, entry: (1e-6, 1e-12)),
)
