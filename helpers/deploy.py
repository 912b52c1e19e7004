"""The deployment decision artifact, checked against the course data.

The artifact is a dict a student fills in::

    deployment = {
        "scenario": "B", "model": "vanilla+T",
        "threshold": 0.7, "coverage": 0.412, "accuracy": 0.861,
        "decision_rule": "auto-close when top-1 confidence >= 0.7, else legal review",
        "justification": "vanilla+T has ECE 0.026 on the eval half, under the 0.05 cap ...",
        "flip_constraint": "the regulator's ECE cap", "switch_point": 0.03,
        "alternative": "distilled+T",
    }

:func:`evaluate_deployment` recomputes, from the artifacts themselves (never from
the student's own tables), what the named model does on the eval half of
validation (``calibration.cal_eval_split(n, seed=42)``; ``+T`` arms get a
temperature fitted on the cal half) and checks four rules:

1. coverage and accuracy at the student's threshold are the named model's
   (coverage = share of eval rows with top-1 confidence >= threshold);
2. the named model meets the scenario's rule (:data:`SCENARIOS`);
3. the justification cites a number that is the named model's (or the
   alternative's) on the eval half, at the precision written;
4. the flip names a constraint, a numeric switch point and a different,
   existing alternative.

The autograder runs the same function outside the student's kernel, so the
notebook's self-check (:func:`check_deployment`) and the grade agree.  Whether the
decision is wise is read by a person (the lab's rubric).
"""
from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from .course import GRID_NAMES, STUDENT_NAMES

__all__ = ["FIELDS", "SCENARIOS", "ECE_CAP", "check_deployment", "evaluate_deployment", "DeploymentReport",
           "arm_facts", "scenario_rule", "deployable_models", "canonical_model", "best_arm"]

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
          "rule": "eval-half tail macro F1 no more than the tail's noise floor (0.02) below raw vanilla's "
                  "(threshold may be None: every row counts)"},
}
#: Scenario C: tail F1 is measured on about a hundred eval rows, and the paired bootstrap CI of a
#: tail F1 delta spans several hundredths, so a recipe within 0.02 of the baseline is not worse.
TAIL_NOISE = 0.02
ECE_CAP = 0.05
#: How close a quoted coverage or accuracy must be to the recomputed one (fractions; half a
#: point of a percentage, so 41.2% and 0.412 both match 0.4117).
MATCH_TOL = 0.005

_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d+|\.\d+|\d+)(%?)")


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
    """(eval-half probabilities, labels, tiers) of a deployable arm; +T fitted on the cal half."""
    from . import artifacts, calibration, metrics
    base = model[:-2] if model.endswith("+T") else model
    ps = artifacts.load(base, source)
    labels, tiers = ps.labels, ps.tiers
    cal_idx, eval_idx = calibration.cal_eval_split(len(labels), seed=42)
    logits = ps.logits
    if model.endswith("+T"):
        T = calibration.fit_temperature(logits[cal_idx], labels[cal_idx])
        logits = calibration.apply_temperature(logits, T)
    probs = metrics.softmax(logits[eval_idx])
    return probs, labels[eval_idx], tiers[eval_idx]


def arm_facts(model: str, threshold: float | None = None, source: str = "auto") -> dict:
    """What ``model`` does on the eval half: coverage/accuracy/n_covered at ``threshold``
    (None: every row) and its ECE, NLL, macro F1, tail F1 and accuracy."""
    from . import metrics
    canon = canonical_model(model)
    if canon is None:
        raise ValueError(f"model must be one of {deployable_models()}, got {model!r}.")
    probs, labels, tiers = _eval_arm(canon, source)
    conf, preds = probs.max(axis=1), probs.argmax(axis=1)
    covered = np.ones(len(labels), bool) if threshold is None else conf >= float(threshold)
    n_cov = int(covered.sum())
    f1 = metrics.per_tier_f1(labels, preds, tiers)
    return {"model": canon, "threshold": threshold, "coverage": n_cov / len(labels),
            "accuracy": float((preds[covered] == labels[covered]).mean()) if n_cov else float("nan"),
            "n_covered": n_cov, "ece": float(metrics.ece(probs, labels)), "nll": float(metrics.nll(probs, labels)),
            "macro_f1": float(metrics.macro_f1(labels, preds)), "f1_tail": float(f1["tail"]),
            "overall_accuracy": float((preds == labels).mean())}


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
    ok = facts["f1_tail"] >= baseline["f1_tail"] - TAIL_NOISE
    return ok, (f"meets C: tail F1 within the noise floor ({TAIL_NOISE}) of raw vanilla's or above" if ok else
                f"fails C: its eval-half tail F1 is more than the noise floor ({TAIL_NOISE}) below raw "
                "vanilla's, the recipe C must not lose to")


def _is_number(x):
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(float(x))


def _text(x, min_words=1):
    return isinstance(x, str) and len(x.split()) >= min_words


def _matches(given, actual):
    if not (_is_number(given) and _is_number(actual)):
        return False
    g = float(given)
    return any(abs(v - actual) <= MATCH_TOL for v in (g, g / 100.0))


def cited_numbers(text: str | None) -> list[tuple[float, int, bool]]:
    """(value, decimals, is_percent) for each number in ``text`` with a decimal point or a percent sign."""
    out = []
    for m in _NUMBER.finditer(text or ""):
        token, pct = m.group(0), m.group(1)
        raw = token[:-1] if pct else token
        decimals = len(raw.split(".")[1]) if "." in raw else 0
        if decimals == 0 and not pct:
            continue  # a bare integer ("scenario 2", "3 reviewers") is not a citation
        out.append((abs(float(raw)), decimals, bool(pct)))
    return out


def _cites(text, values):
    for value, decimals, pct in cited_numbers(text):
        tol = 0.5 * 10.0 ** (-decimals) + 1e-9
        for v in values:
            if not _is_number(v):
                continue
            for scaled in ((v * 100,) if pct else (v, v * 100)):
                if abs(abs(scaled) - value) <= tol:
                    return value
    return None


@dataclass
class RuleResult:
    rule: str
    ok: bool
    message: str   # for the student: what is wrong, never the recomputed number
    detail: str = ""   # for the instructor and the notebook's self-check: the numbers


@dataclass
class DeploymentReport:
    rules: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rules)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"rule": r.rule, "ok": r.ok, "detail": r.detail or r.message} for r in self.rules])

    def __str__(self) -> str:
        lines = [f"[{'PASS' if r.ok else 'FAIL'}] {r.rule}: {r.detail or r.message}" for r in self.rules]
        verdict = ("All rules hold." if self.ok
                   else "Fix the FAIL lines above; these rules are graded, the reasoning is read by a person.")
        return "\n".join(lines + [verdict])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        import html
        rows = "".join(
            f"<tr><td>{'&#10004;' if r.ok else '&#10008;'}</td><td>{html.escape(r.rule)}</td>"
            f"<td>{html.escape(r.detail or r.message)}</td></tr>" for r in self.rules)
        verdict = "all rules hold" if self.ok else "some rules fail"
        return (f"<table><thead><tr><th></th><th>rule</th><th>detail</th></tr></thead>"
                f"<tbody>{rows}</tbody></table><p><b>Deployment self-check: {verdict}.</b></p>")


RULES = ("numbers_match_model", "scenario_rule", "justification_cites_model", "constraint_switch_alternative")


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
    elif th is not None and not (_is_number(th) and 0.0 < float(th) <= 1.0):
        problems.append(f"threshold must be a number in (0, 1] (or None for scenario C), got {th!r}")
    if problems:
        msg = "; ".join(problems)
        report.rules = [RuleResult(r, False, msg, msg) for r in RULES]
        return report
    facts = arm_facts(model, None if th is None else float(th), source)
    baseline = arm_facts("vanilla", None, source)

    # 1. the quoted coverage and accuracy are the named model's at that threshold
    bad = [k for k in ("coverage", "accuracy") if not _matches(artifact.get(k), facts[k])]
    where = "over every eval row" if th is None else f"at threshold {float(th):g}"
    report.rules.append(RuleResult(
        "numbers_match_model", not bad,
        "" if not bad else (f"{' and '.join(bad)} {'is' if len(bad) == 1 else 'are'} not what {model} does {where} "
                            "on the eval half (coverage = share of eval rows with top-1 confidence >= the "
                            "threshold, accuracy on those rows); copy them from a coverage table of the model "
                            "you name"),
        f"{model} {where}: coverage {facts['coverage']:.4f}, accuracy {facts['accuracy']:.4f} "
        f"(you wrote {artifact.get('coverage')!r}, {artifact.get('accuracy')!r})"))

    # 2. the scenario's rule
    ok, sentence = scenario_rule(scenario, facts, baseline)
    report.rules.append(RuleResult(
        "scenario_rule", ok, "" if ok else f"{model} {sentence}.",
        f"{model} {sentence} (ECE {facts['ece']:.4f}, NLL {facts['nll']:.4f}, macro F1 {facts['macro_f1']:.4f}, "
        f"tail F1 {facts['f1_tail']:.4f}; raw vanilla: NLL {baseline['nll']:.4f}, macro F1 "
        f"{baseline['macro_f1']:.4f}, tail F1 {baseline['f1_tail']:.4f})"))

    # 3. the justification cites a number of the named model (or of the alternative)
    keys = ("ece", "nll", "macro_f1", "f1_tail", "coverage", "accuracy", "overall_accuracy")
    values = [facts[k] for k in keys]
    alt = canonical_model(artifact.get("alternative"))
    if alt is not None:
        alt_facts = arm_facts(alt, None if th is None else float(th), source)
        values += [alt_facts[k] for k in keys]
    just = artifact.get("justification")
    cited = _cites(just, values) if _text(just, 5) else None
    report.rules.append(RuleResult(
        "justification_cites_model", cited is not None,
        "" if cited is not None else
        ("the justification must be at least a sentence" if not _text(just, 5) else
         f"no number in the justification is one of {model}'s (or the alternative's) eval-half ECE, NLL, "
         "macro F1, tail F1, coverage or accuracy at the precision written; quote one from your tables"),
        f"cites {cited:g}" if cited is not None else "no matching number"))

    # 4. the flip
    problems = []
    if not _text(artifact.get("flip_constraint"), 2):
        problems.append("flip_constraint must name the constraint in a few words")
    if not _is_number(artifact.get("switch_point")):
        problems.append(f"switch_point must be a number (where the decision flips), got "
                        f"{artifact.get('switch_point')!r}")
    if alt is None:
        problems.append(f"alternative must name another arm you could ship, one of {deployable_models()}")
    elif alt == model:
        problems.append("alternative must differ from the model you ship")
    missing = [f for f in FIELDS if f not in artifact]
    if missing:
        problems.append(f"missing key(s) {missing}")
    if not _text(artifact.get("decision_rule"), 3):
        problems.append("decision_rule must say in a sentence what happens above and below the threshold")
    msg = "; ".join(problems)
    report.rules.append(RuleResult("constraint_switch_alternative", not problems, msg,
                                   msg or f"flips at {artifact.get('switch_point')!r} on "
                                          f"'{artifact.get('flip_constraint')}' -> {alt}"))
    return report


def check_deployment(artifact: object, source: str = "auto") -> DeploymentReport:
    """The notebook's self-check: the autograder's four rules, with the recomputed numbers shown.

    The numbers are recomputed from the artifacts (eval half of validation),
    never taken from your own tables; whether the decision is wise is read by
    a person.

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
        when all four hold, ``.to_frame()`` gives a table.

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
