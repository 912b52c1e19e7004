"""The deployment artifact's graded rules, as pure functions of the recomputed facts.

:mod:`helpers.deploy` recomputes what each arm does on the eval half and calls these;
the notebook's self-check and the autograder both go through
:func:`helpers.deploy.evaluate_deployment`, so they apply the same rules.  Every
message says WHAT is wrong and how to fix it, never the recomputed number (a
student who could read it off a failure would copy it into a resubmission); the
numbers go to ``detail``, which only the instructor sees.

The conventions (also stated to students where they write the artifact):

* ``coverage`` and ``accuracy`` are fractions of the eval half at ``threshold``,
  stated to :data:`FIELD_DECIMALS` decimals (a float copied unrounded from the
  table is best); one eval row is 0.0003 of the 3,215, so four decimals tell the
  eval half from the whole validation set and one model from its neighbour.
* A *citation* in the justification is a number stating at least
  :data:`CITE_DECIMALS` decimals as a fraction (``0.026``, ``2.6%``).  Each must be
  an eval-half number of an arm in the lab's tables (the model, the alternative,
  vanilla, vanilla+T, distilled, the teacher; coverage and accuracy at your
  threshold; a ``+T`` arm's temperature), and at least one must be the named
  model's own.  Numbers with fewer decimals (``0.7``, ``0.05``) are not citations.
* ``flip_constraint`` is one key of :data:`CONSTRAINTS` allowed for the scenario;
  ``switch_point`` is the value of that constraint's metric at which the decision
  flips, in that metric's unit: the named model's own eval-half value (a cap
  tightened below it, or a floor raised above it, rules the model out), stated
  to at least :data:`CITE_DECIMALS` decimals.
"""
from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from .precision import cited_numbers, is_number, matches, written_decimals

__all__ = ["FIELD_DECIMALS", "CITE_DECIMALS", "CONSTRAINTS", "FACT_KEYS", "RuleResult", "DeploymentReport",
           "constraint_key", "numbers_rule", "justification_rule", "flip_rule"]

#: Decimals the artifact's ``coverage`` and ``accuracy`` state (fewer are read as exact to four).
FIELD_DECIMALS = 4
#: Decimals (as a fraction) that make a number in the justification a citation; also the switch point's.
CITE_DECIMALS = 3
#: The eval-half numbers of an arm a justification may cite.
FACT_KEYS = ("ece", "nll", "macro_f1", "f1_tail", "coverage", "accuracy", "overall_accuracy")

#: The constraints a decision may flip on.  ``metric`` is the key of the named model's facts the
#: switch point must equal; ``range`` the values that metric can take; ``scenarios`` where it applies.
CONSTRAINTS = {
    "ece_cap": {"metric": "ece", "label": "ECE", "unit": "ECE, a fraction from 0 to 1", "range": (0.0, 1.0),
                "scenarios": "B", "means": "the largest eval-half ECE the regulator accepts (0.05 today)"},
    "nll_cap": {"metric": "nll", "label": "NLL", "unit": "nats per example", "range": (0.0, math.inf),
                "scenarios": "B", "means": "the largest eval-half NLL the reviewers accept"},
    "macro_f1_floor": {"metric": "macro_f1", "label": "macro F1", "unit": "macro F1, a fraction from 0 to 1",
                       "range": (0.0, 1.0), "scenarios": "AC", "means": "the lowest eval-half macro F1 allowed"},
    "tail_f1_floor": {"metric": "f1_tail", "label": "tail F1", "unit": "tail macro F1, a fraction from 0 to 1",
                      "range": (0.0, 1.0), "scenarios": "AC", "means": "the lowest eval-half tail F1 allowed"},
    "coverage_floor": {"metric": "coverage", "label": "coverage at your threshold",
                       "unit": "a fraction of the eval rows, 0 to 1", "range": (0.0, 1.0), "scenarios": "AB",
                       "means": "the smallest share of complaints that must be handled automatically"},
    "accuracy_floor": {"metric": "accuracy", "label": "accuracy at your threshold",
                       "unit": "a fraction of the covered rows, 0 to 1", "range": (0.0, 1.0), "scenarios": "AB",
                       "means": "the lowest accuracy allowed on the automatically handled rows"},
}


@dataclass
class RuleResult:
    """One graded rule: ``message`` is for the student (no recomputed number), ``detail`` for the instructor."""

    rule: str
    ok: bool
    message: str
    detail: str = ""


@dataclass
class DeploymentReport:
    """The four rules' results; the notebook shows the messages, never the recomputed numbers."""

    rules: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every rule holds."""
        return all(r.ok for r in self.rules)

    def to_frame(self) -> pd.DataFrame:
        """One row per rule: rule, ok, message."""
        return pd.DataFrame([{"rule": r.rule, "ok": r.ok, "message": r.message} for r in self.rules])

    def __str__(self) -> str:
        lines = [f"[{'PASS' if r.ok else 'FAIL'}] {r.rule}: {r.message}" for r in self.rules]
        verdict = ("All rules hold." if self.ok
                   else "Fix the FAIL lines above; these rules are graded, the reasoning is read by a person.")
        return "\n".join(lines + [verdict])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{'&#10004;' if r.ok else '&#10008;'}</td><td>{html.escape(r.rule)}</td>"
            f"<td>{html.escape(r.message)}</td></tr>" for r in self.rules)
        verdict = "all rules hold" if self.ok else "some rules fail"
        return (f"<table><thead><tr><th></th><th>rule</th><th>what to fix</th></tr></thead>"
                f"<tbody>{rows}</tbody></table><p><b>Deployment self-check: {verdict}.</b></p>")


def constraint_key(name: object) -> str | None:
    """'ECE cap' / 'ece-cap' -> 'ece_cap'; None when ``name`` is not a key of :data:`CONSTRAINTS`."""
    if not isinstance(name, str):
        return None
    key = "_".join(name.strip().lower().replace("-", " ").split())
    return key if key in CONSTRAINTS else None


def _where(threshold: float | None) -> str:
    return "over every eval row" if threshold is None else f"at threshold {threshold:g}"


def numbers_rule(artifact: Mapping, model: str, facts: Mapping) -> RuleResult:
    """Rule 1: ``coverage`` and ``accuracy`` are the named model's at its threshold, to four decimals."""
    where = _where(facts["threshold"])
    bad = []
    for k in ("coverage", "accuracy"):
        v = artifact.get(k)
        if not (is_number(v) and matches(v, facts[k], written_decimals(v), FIELD_DECIMALS)):
            bad.append(k)
    detail = (f"{model} {where}: coverage {facts['coverage']:.4f}, accuracy {facts['accuracy']:.4f} "
              f"(written {artifact.get('coverage')!r}, {artifact.get('accuracy')!r})")
    if not bad:
        return RuleResult("numbers_match_model", True, f"coverage and accuracy are {model}'s {where} on the "
                                                       "eval half", detail)
    return RuleResult("numbers_match_model", False, (
        f"{' and '.join(bad)} {'is' if len(bad) == 1 else 'are'} not what {model} does {where} on the eval half, "
        f"at {FIELD_DECIMALS} decimals (coverage = share of the eval-half rows with top-1 confidence >= the "
        "threshold, accuracy = argmax accuracy on those rows; fractions, not percentages; not the whole "
        "validation set). Copy them unrounded, or to four decimals, from the coverage table of the model you "
        "name"), detail)


def justification_rule(text: object, model: str, own: Mapping, others: Sequence[float]) -> RuleResult:
    """Rule 3: every citation is an eval-half number of the lab's arms, and one is the named model's own.

    ``own`` is the named model's facts; ``others`` every other value a citation may be
    (the alternative's and the lab's arms' facts, their temperatures, the scenario's constants).
    """
    name = "justification_cites_model"
    if not (isinstance(text, str) and len(text.split()) >= 5):
        return RuleResult(name, False, "the justification must be a sentence (five words or more) that quotes "
                                       f"{model}'s eval-half numbers from your tables", "no sentence")
    # Without a threshold every row is covered: a coverage of 1 is true of any model, so it proves nothing.
    keys = [k for k in FACT_KEYS if not (k == "coverage" and own["threshold"] is None)]
    own_values = [own[k] for k in keys if is_number(own[k])]
    cites = cited_numbers(text, CITE_DECIMALS)
    if not cites:
        return RuleResult(name, False, (
            f"the justification quotes no number with at least {CITE_DECIMALS} decimals (or a percentage with "
            f"one); quote {model}'s eval-half ECE, NLL, macro F1, tail F1, coverage or accuracy from your "
            "tables"), "no citation")
    mine = [c for c in cites if any(matches(c.value, v, c.decimals, CITE_DECIMALS) for v in own_values)]
    allowed = own_values + [v for v in others if is_number(v)]
    stray = [c.text for c in cites if not any(matches(c.value, v, c.decimals, CITE_DECIMALS) for v in allowed)]
    detail = f"citations {[c.text for c in cites]}; the model's own: {[c.text for c in mine]}"
    if stray:
        return RuleResult(name, False, (
            f"{', '.join(stray)} {'is' if len(stray) == 1 else 'are'} not an eval-half number of {model}, the "
            "alternative or the lab's tables (vanilla, vanilla+T, distilled, teacher) at the precision written. "
            "Numbers from the full validation set, another threshold, differences or ratios do not count as "
            "citations: quote table values, or write derived numbers with fewer than three decimals"), detail)
    if not mine:
        return RuleResult(name, False, (
            f"none of the quoted numbers is {model}'s own eval-half ECE, NLL, macro F1, tail F1, or coverage or "
            "accuracy at your threshold, at the precision written; quote at least one number of the model you "
            "ship"), detail)
    return RuleResult(name, True, f"the justification quotes {model}'s own eval-half numbers", detail)


def flip_rule(artifact: Mapping, scenario: str, model: str, facts: Mapping, alternative: str | None,
              missing: Sequence[str], arms: Sequence[str]) -> RuleResult:
    """Rule 4: a constraint of the scenario, its switch point (the model's own value), an alternative."""
    problems = []
    allowed = [k for k, c in CONSTRAINTS.items() if scenario in c["scenarios"]]
    given = artifact.get("flip_constraint")
    key = constraint_key(given)
    if key not in allowed:
        problems.append(f"flip_constraint must be one of {allowed} for scenario {scenario} (their meaning: "
                        f"helpers.deploy.CONSTRAINTS), got {given!r}")
    sp = artifact.get("switch_point")
    detail = ""
    if not is_number(sp):
        problems.append(f"switch_point must be a number (the value of the constraint's metric at which your "
                        f"decision flips), got {sp!r}")
    elif key in allowed:
        spec = CONSTRAINTS[key]
        lo, hi = spec["range"]
        detail = f"{model}'s {spec['label']}: {facts[spec['metric']]:.4f} (switch_point {sp!r})"
        if not lo <= float(sp) <= hi:
            problems.append(f"switch_point {sp!r} is outside what {spec['label']} can be ({spec['unit']})")
        elif not matches(sp, facts[spec["metric"]], written_decimals(sp), CITE_DECIMALS):
            problems.append(
                f"switch_point is not {model}'s own eval-half {spec['label']} at the precision written: the "
                f"decision flips where the {key} crosses the value your model has (a cap tightened below it or a "
                f"floor raised above it rules the model out); write that value, in {spec['unit']}, to at least "
                f"{CITE_DECIMALS} decimals")
    if alternative is None:
        problems.append(f"alternative must name another arm you could ship, one of {list(arms)}, got "
                        f"{artifact.get('alternative')!r}")
    elif alternative == model:
        problems.append("alternative must differ from the model you ship")
    if missing:
        problems.append(f"missing key(s) {list(missing)}")
    dr = artifact.get("decision_rule")
    if not (isinstance(dr, str) and len(dr.split()) >= 3):
        problems.append("decision_rule must say in a sentence what happens above and below the threshold")
    if problems:
        return RuleResult("constraint_switch_alternative", False, "; ".join(problems), detail)
    return RuleResult("constraint_switch_alternative", True,
                      f"the decision flips on {key} at {model}'s own value; then ship {alternative}", detail)
