"""The deployment decision artifact, checked against the course data.

The artifact is a dict a student fills in (a format example, not an answer)::

    deployment = {
        "scenario": "B", "model": "vanilla+T",
        "threshold": 0.7, "coverage": 0.4117, "accuracy": 0.8613,
        "decision_rule": "auto-close when top-1 confidence >= 0.7, else legal review",
        "justification": "vanilla+T has ECE 0.026 and NLL 1.430 on the eval half, under the 0.05 cap ...",
        "flip_constraint": "ece_cap", "switch_point": 0.026,
        "alternative": "distilled+T",
    }

:func:`evaluate_deployment` recomputes, from the artifacts themselves (never from
the student's own tables), what the named model does on the eval half of
validation (``calibration.cal_eval_split(n, seed=42)``; ``+T`` arms get a
temperature fitted on the cal half) and checks four rules
(:mod:`helpers.deploy_rules` states the conventions: decimals, tolerances, units):

1. coverage and accuracy at the student's threshold are the named model's, to
   four decimals (coverage = share of eval rows with top-1 confidence >= threshold);
2. the named model meets the scenario's rule (:data:`SCENARIOS`);
3. every number the justification cites (three decimals or more) is an eval-half
   number of the lab's arms at the precision written, and one is the named model's own;
4. ``flip_constraint`` is one of the scenario's :data:`CONSTRAINTS`, ``switch_point``
   is the named model's own eval-half value of that constraint's metric (where the
   decision flips), and the alternative is a different, existing arm.

The autograder runs the same function outside the student's kernel, so the
notebook's self-check (:func:`check_deployment`) and the grade agree.  Neither
shows a recomputed number.  Whether the decision is wise is read by a person (the
lab's rubric).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

import numpy as np
import pandas as pd

from .course import GRID_NAMES, STUDENT_NAMES
from .deploy_rules import (
    CONSTRAINTS,
    FACT_KEYS,
    DeploymentReport,
    RuleResult,
    flip_rule,
    justification_rule,
    numbers_rule,
)
from .precision import is_number

__all__ = ["FIELDS", "SCENARIOS", "ECE_CAP", "CONSTRAINTS", "RULES", "check_deployment", "evaluate_deployment",
           "DeploymentReport", "arm_facts", "scenario_rule", "deployable_models", "canonical_model", "best_arm"]

FIELDS = ("scenario", "model", "threshold", "coverage", "accuracy", "decision_rule",
          "justification", "flip_constraint", "switch_point", "alternative")

#: Scenario -> what it needs and the rule the shipped model must meet (eval half of validation).
SCENARIOS = {
    "A": {"name": "batch triage / routing", "primary": "macro_f1",
          "constraint": "< 10 ms per example on the serving hardware (a ModernBERT student qualifies, the 32B "
                        "teacher does not); macro F1 is what pays",
          "rule": "a student model whose eval-half macro F1 is at least raw vanilla's"},
    "B": {"name": "regulated escalation / legal review", "primary": "nll",
          "constraint": "ECE <= 0.05, then the lowest NLL",
          "rule": "eval-half ECE <= 0.05 and NLL no higher than raw vanilla's"},
    "C": {"name": "long-tail monitoring / aggregate dashboard", "primary": "f1_tail",
          "constraint": "tail F1 is what pays; a dashboard counts every prediction, so a threshold is optional",
          "rule": "eval-half tail macro F1 not significantly below raw vanilla's: the paired-bootstrap 95% CI "
                  "of (model - vanilla) tail F1 must not lie wholly below zero (threshold may be None: every "
                  "row counts)"},
}
#: Scenario C: tail F1 is measured on about a hundred eval rows, where a paired-bootstrap CI of a
#: tail-F1 difference spans several hundredths; a fixed margin would call noise a loss (or a win), so
#: the rule asks the metric's own CI (``helpers.bootstrap.paired_bootstrap``, 1,000 resamples, seed 42).
TAIL_RESAMPLES = 1000
ECE_CAP = 0.05
#: Arms of the lab's tables (besides the model and its alternative) a justification may compare with.
COMPARISON_ARMS = ("vanilla", "vanilla+T", "distilled", "teacher")


def deployable_models() -> list[str]:
    """Every arm a student may ship: the two students, the grid, each raw or with +T.

    Examples
    --------
    >>> deployable_models()[:2], len(deployable_models())
    (['vanilla', 'distilled'], 16)
    """
    raw = [*STUDENT_NAMES, *GRID_NAMES]
    return raw + [f"{m}+T" for m in raw]


def canonical_model(name: object) -> str | None:
    """'Vanilla + T' -> 'vanilla+T'; None when the name is not a deployable arm.

    Examples
    --------
    >>> canonical_model("Vanilla + T"), canonical_model("teacher")
    ('vanilla+T', None)
    """
    if not isinstance(name, str):
        return None
    key = re.sub(r"[\s_-]+", "", name).lower()
    for m in deployable_models():
        if re.sub(r"[\s_-]+", "", m).lower() == key:
            return m
    return None


@lru_cache(maxsize=32)
def _eval_arm(model, source):
    """(eval-half probabilities, labels, tiers, T or None) of an arm; +T fitted on the cal half."""
    from . import artifacts, calibration, metrics
    base = model[:-2] if model.endswith("+T") else model
    ps = artifacts.load("teacher_val" if base == "teacher" else base, source)
    labels, tiers = ps.labels, ps.tiers
    cal_idx, eval_idx = calibration.cal_eval_split(len(labels), seed=42)
    logits, T = ps.logits, None
    if model.endswith("+T"):
        T = float(calibration.fit_temperature(logits[cal_idx], labels[cal_idx]))
        logits = calibration.apply_temperature(logits, T)
    probs = metrics.softmax(logits[eval_idx])
    return probs, labels[eval_idx], tiers[eval_idx], T


def arm_facts(model: str, threshold: float | None = None, source: str = "auto") -> dict:
    """What ``model`` does on the eval half: coverage/accuracy/n_covered at ``threshold``
    (None: every row), its ECE, NLL, macro F1, tail F1 and accuracy, and ``temperature``
    (the T fitted on the cal half for a ``+T`` arm, else None).  ``"teacher"`` is accepted
    too (the lab's tables compare with it), though it is not an arm a student may ship."""
    from . import metrics
    canon = "teacher" if model == "teacher" else canonical_model(model)
    if canon is None:
        raise ValueError(f"model must be one of {deployable_models()} (or 'teacher'), got {model!r}.")
    probs, labels, tiers, T = _eval_arm(canon, source)
    conf, preds = probs.max(axis=1), probs.argmax(axis=1)
    covered = np.ones(len(labels), bool) if threshold is None else conf >= float(threshold)
    n_cov = int(covered.sum())
    f1 = metrics.per_tier_f1(labels, preds, tiers)
    return {"model": canon, "threshold": threshold, "coverage": n_cov / len(labels),
            "accuracy": float((preds[covered] == labels[covered]).mean()) if n_cov else float("nan"),
            "n_covered": n_cov, "ece": float(metrics.ece(probs, labels)), "nll": float(metrics.nll(probs, labels)),
            "macro_f1": float(metrics.macro_f1(labels, preds)), "f1_tail": float(f1["tail"]),
            "overall_accuracy": float((preds == labels).mean()), "temperature": T}


def scenario_rule(scenario: str, facts: Mapping, baseline: Mapping) -> tuple[bool, str]:
    """(ok, sentence) for the scenario's rule; ``baseline`` is raw vanilla's facts."""
    if scenario == "A":
        ok = facts["macro_f1"] >= baseline["macro_f1"] - 1e-12
        return ok, ("meets A: a student (fast enough to serve) with macro F1 at least raw vanilla's" if ok else
                    "fails A: its eval-half macro F1 is below raw vanilla's, the recipe A must beat")
    if scenario == "B":
        if facts["ece"] > ECE_CAP:
            return False, (f"fails B: its eval-half ECE is above the {ECE_CAP} cap (a regulator reads "
                           "the confidence); temperature scaling on the cal half is the usual way under it")
        if facts["nll"] > baseline["nll"] + 1e-12:
            return False, "fails B: its eval-half NLL is higher than raw vanilla's"
        return True, f"meets B: eval-half ECE within the {ECE_CAP} cap and NLL at most raw vanilla's"
    ok = facts["tail_ci_high"] >= 0.0
    return ok, ("meets C: its tail F1 is not significantly below raw vanilla's (the paired-bootstrap CI of the "
                "difference reaches zero or above)" if ok else
                "fails C: the paired-bootstrap CI of its eval-half tail F1 minus raw vanilla's lies wholly below "
                "zero, so it loses tail F1 to the recipe C must not lose to")


@lru_cache(maxsize=32)
def tail_delta_ci(model: str, source: str = "auto") -> tuple[float, float]:
    """(ci_low, ci_high) of ``model``'s eval-half tail macro F1 minus raw vanilla's (paired bootstrap)."""
    from .bootstrap import paired_bootstrap
    canon = canonical_model(model)
    if canon is None:
        raise ValueError(f"model must be one of {deployable_models()}, got {model!r}.")
    probs, labels, tiers, _ = _eval_arm(canon, source)
    base, _, _, _ = _eval_arm("vanilla", source)
    table = paired_bootstrap(base.argmax(axis=1), probs.argmax(axis=1), labels, tiers, metric="macro_f1",
                             n_resamples=TAIL_RESAMPLES, seed=42)
    return float(table.loc["tail", "ci_low"]), float(table.loc["tail", "ci_high"])


RULES = ("numbers_match_model", "scenario_rule", "justification_cites_model", "constraint_switch_alternative")


def _is_threshold(th: object) -> bool:
    return is_number(th) and 0.0 < float(th) <= 1.0


def evaluate_deployment(artifact: object, source: str = "auto") -> DeploymentReport:
    """The four rules of the module docstring, recomputed from the artifacts -> :class:`DeploymentReport`."""
    report = DeploymentReport()
    if not isinstance(artifact, Mapping):
        msg = f"deployment must be a dict with keys {list(FIELDS)}, got {type(artifact).__name__}"
        report.rules = [RuleResult(r, False, msg) for r in RULES]
        return report
    scenario = artifact.get("scenario")
    model = canonical_model(artifact.get("model"))
    th = artifact.get("threshold")
    problems = []
    if scenario not in SCENARIOS:
        problems.append(f"scenario must be one of {sorted(SCENARIOS)}, got {scenario!r}")
    if model is None:
        problems.append(f"model must name an arm you can ship, one of {deployable_models()}, got "
                        f"{artifact.get('model')!r}")
    if th is None and scenario != "C":
        problems.append("threshold is None, which only scenario C (a dashboard that counts every row) allows")
    elif th is not None and not _is_threshold(th):
        problems.append(f"threshold must be a number in (0, 1] (or None for scenario C), got {th!r}")
    if problems:
        msg = "; ".join(problems)
        report.rules = [RuleResult(r, False, msg, msg) for r in RULES]
        return report
    threshold = None if th is None else float(th)
    facts = arm_facts(model, threshold, source)
    baseline = arm_facts("vanilla", None, source)

    # 1. the quoted coverage and accuracy are the named model's at that threshold, to four decimals
    report.rules.append(numbers_rule(artifact, model, facts))

    # 2. the scenario's rule, on the named model's own eval-half numbers
    if scenario == "C":
        facts["tail_ci_low"], facts["tail_ci_high"] = tail_delta_ci(model, source)
    ok, sentence = scenario_rule(scenario, facts, baseline)
    report.rules.append(RuleResult(
        "scenario_rule", ok, f"{model} {sentence}",
        f"{model}: ECE {facts['ece']:.4f}, NLL {facts['nll']:.4f}, macro F1 {facts['macro_f1']:.4f}, "
        f"tail F1 {facts['f1_tail']:.4f}; raw vanilla: NLL {baseline['nll']:.4f}, macro F1 "
        f"{baseline['macro_f1']:.4f}, tail F1 {baseline['f1_tail']:.4f}"))

    # 3. the justification's citations: eval-half numbers of the lab's arms, one of them the model's own
    alt = canonical_model(artifact.get("alternative"))
    others = [ECE_CAP] + ([] if threshold is None else [threshold])
    for arm in dict.fromkeys([*COMPARISON_ARMS, *([alt] if alt else [])]):
        f = arm_facts(arm, threshold, source)
        others += [f[k] for k in FACT_KEYS] + [f["temperature"]]
    report.rules.append(justification_rule(artifact.get("justification"), model, facts, others))

    # 4. the flip: a constraint of the scenario, the model's own value of its metric, an alternative
    missing = [f for f in FIELDS if f not in artifact]
    report.rules.append(flip_rule(artifact, scenario, model, facts, alt, missing, deployable_models()))
    return report


def check_deployment(artifact: object, source: str = "auto") -> DeploymentReport:
    """The notebook's self-check: the autograder's four rules, the same function the grader runs.

    The numbers are recomputed from the artifacts (eval half of validation),
    never taken from your own tables, and never shown: a failing rule says what
    is wrong and how to fix it.  Whether the decision is wise is read by a person.

    Parameters
    ----------
    artifact : dict
        Your deployment decision, with the keys in :data:`FIELDS` (see this
        module's docstring for an example).
    source : {"auto", "hub", "synthetic"}, default "auto"
        Which artifacts to recompute from (the notebook's own source).

    Returns
    -------
    DeploymentReport
        One line per rule (``PASS``/``FAIL`` and what to fix); ``.ok`` is True
        when all four hold, ``.to_frame()`` gives a table (rule, ok, message).

    Examples
    --------
    >>> report = check_deployment("vanilla+T")
    >>> report.ok, [r.rule for r in report.rules][:2]
    (False, ['numbers_match_model', 'scenario_rule'])
    """
    return evaluate_deployment(artifact, source)


def best_arm(table: pd.DataFrame, scenario: str, ece_cap: float = ECE_CAP) -> object:
    """The row of ``table`` (index = recipe) that best serves ``scenario``'s primary metric.

    A: highest macro_f1; B: lowest nll among rows with ece <= ece_cap (lowest
    ece if none qualifies); C: highest f1_tail.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per recipe (e.g. ``helpers.metrics.as_frame`` of
        ``evaluate`` rows), with the columns the scenario reads.
    scenario : {"A", "B", "C"}
        The deployment scenario (:data:`SCENARIOS`).
    ece_cap : float, default ECE_CAP (0.05)
        Scenario B's calibration cap.

    Returns
    -------
    object
        The index label of the best row.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"ece": [0.09, 0.03], "nll": [1.2, 1.4]}, index=["x", "y"])
    >>> best_arm(table, "B")
    'y'
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"scenario must be one of {sorted(SCENARIOS)}, got {scenario!r}.")
    if scenario == "A":
        return table["macro_f1"].idxmax()
    if scenario == "B":
        ok = table[table["ece"] <= ece_cap]
        return ok["nll"].idxmin() if len(ok) else table["ece"].idxmin()
    return table["f1_tail"].idxmax()
