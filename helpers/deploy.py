"""The deployment decision artifact and its structural self-check.

The artifact is a dict a student fills in from their own tables::

    deployment = {
        "scenario": "B", "model": "distilled",
        "threshold": 0.7, "coverage": 0.412, "accuracy": 0.861,   # one row of coverage_df
        "decision_rule": "auto-route when top-1 confidence >= 0.7, else human review",
        "justification": "distilled ECE 0.055 vs vanilla 0.131 on the eval half ...",
        "flip_constraint": "review capacity", "switch_point": 0.30,
        "alternative": "vanilla+T",
    }

:func:`check_deployment` checks the three structural rules (it does not judge
whether the decision is wise; people do that):

1. threshold, coverage and accuracy are one row of the student's own coverage table;
2. the justification cites at least one number that appears in the student's
   own tables (as written, to the precision written, or as a percentage);
3. the flip names a constraint, a numeric switch point, and an alternative
   that differs from the chosen model.
"""
from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["FIELDS", "SCENARIOS", "check_deployment", "DeploymentReport", "numbers_in_tables",
           "best_arm"]

FIELDS = ("scenario", "model", "threshold", "coverage", "accuracy", "decision_rule",
          "justification", "flip_constraint", "switch_point", "alternative")

#: Scenario -> what it needs (COURSE.md's homework scenarios; the lab uses the same letters).
SCENARIOS = {
    "A": {"name": "batch triage / routing", "primary": "macro_f1",
          "constraint": "< 10 ms per example; macro F1 is what pays"},
    "B": {"name": "regulated escalation / legal review", "primary": "nll",
          "constraint": "ECE <= 0.05, then the lowest NLL"},
    "C": {"name": "long-tail monitoring / aggregate dashboard", "primary": "f1_tail",
          "constraint": "tail F1 is what pays"},
}

_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d+|\.\d+|\d+)(%?)")


@dataclass
class RuleResult:
    rule: str
    ok: bool
    detail: str


@dataclass
class DeploymentReport:
    rules: list = field(default_factory=list)

    @property
    def ok(self):
        return all(r.ok for r in self.rules)

    def to_frame(self):
        return pd.DataFrame([{"rule": r.rule, "ok": r.ok, "detail": r.detail} for r in self.rules])

    def __str__(self):
        lines = [f"[{'PASS' if r.ok else 'FAIL'}] {r.rule}: {r.detail}" for r in self.rules]
        verdict = ("All structural rules hold." if self.ok
                   else "Fix the FAIL lines above; the structure is graded, the judgment is read by a person.")
        return "\n".join(lines + [verdict])

    __repr__ = __str__

    def _repr_html_(self):
        rows = "".join(
            f"<tr><td>{'&#10004;' if r.ok else '&#10008;'}</td><td>{r.rule}</td><td>{r.detail}</td></tr>"
            for r in self.rules)
        verdict = "all structural rules hold" if self.ok else "some rules fail"
        return (f"<table><thead><tr><th></th><th>rule</th><th>detail</th></tr></thead>"
                f"<tbody>{rows}</tbody></table><p><b>Deployment self-check: {verdict}.</b></p>")


def _is_number(x):
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(float(x))


def _text(x, min_words=1):
    return isinstance(x, str) and len(x.split()) >= min_words


def numbers_in_tables(tables):
    """Every finite numeric cell (and numeric index value) of the DataFrames in ``tables``."""
    frames = list(tables.values()) if isinstance(tables, Mapping) else list(tables)
    values = []
    for df in frames:
        if isinstance(df, pd.Series):
            df = df.to_frame()
        if not isinstance(df, pd.DataFrame):
            continue
        num = df.select_dtypes(include=[np.number, "bool"]).to_numpy(dtype=np.float64, na_value=np.nan).ravel()
        values.extend(float(v) for v in num if math.isfinite(v))
        for obj_col in df.select_dtypes(include=["object"]).columns:
            values.extend(float(v) for v in df[obj_col] if _is_number(v))
    return np.asarray(values, dtype=np.float64)


def _cites(text, values):
    """The first number in ``text`` that matches a table value at the precision written."""
    if values.size == 0:
        return None
    for m in _NUMBER.finditer(text):
        token, pct = m.group(0), m.group(1)
        raw = token[:-1] if pct else token
        decimals = len(raw.split(".")[1]) if "." in raw else 0
        if decimals == 0 and not pct:
            continue  # a bare integer ("scenario 2", "3 bugs") is not a citation
        x = float(raw)
        candidates = values * 100.0 if pct else values
        tol = 0.5 * 10.0 ** (-decimals) + 1e-9
        for sign in (1.0, -1.0):
            if np.any(np.abs(sign * candidates - x) <= tol):
                return token
    return None


def _coverage_row(threshold, coverage_df):
    df = coverage_df
    if not isinstance(df, pd.DataFrame) or not {"threshold", "coverage", "accuracy"} <= set(df.columns):
        return None, ("coverage_df must be your coverage table: a DataFrame with columns threshold, "
                      "coverage, accuracy, n_covered")
    hits = df[np.isclose(df["threshold"].astype(float), float(threshold), atol=1e-9)]
    if hits.empty:
        listed = ", ".join(f"{t:g}" for t in df["threshold"])
        return None, f"threshold {threshold!r} is not a row of your coverage table (its thresholds: {listed})"
    return hits.iloc[0], None


def check_deployment(artifact, coverage_df, tables):
    """Check the deployment artifact's structure against the student's own tables.

    artifact: the dict described in this module's docstring.
    coverage_df: the student's coverage table (threshold, coverage, accuracy, n_covered).
    tables: the student's synthesis tables, a mapping name -> DataFrame (the
    coverage table may be one of them).

    Returns a :class:`DeploymentReport` (``.ok``, ``.rules``, ``.to_frame()``),
    printable and displayable.
    """
    report = DeploymentReport()
    if not isinstance(artifact, Mapping):
        report.rules.append(RuleResult("fields", False, f"deployment must be a dict with keys {list(FIELDS)}, "
                                                         f"got {type(artifact).__name__}"))
        return report
    missing = [f for f in FIELDS if f not in artifact]
    bad = []
    if artifact.get("scenario") not in SCENARIOS:
        bad.append(f"scenario must be one of {sorted(SCENARIOS)}, got {artifact.get('scenario')!r}")
    if not _text(artifact.get("model")):
        bad.append("model must name the recipe you would ship (e.g. 'distilled')")
    if not _text(artifact.get("decision_rule"), 3):
        bad.append("decision_rule must say in a sentence what happens above and below the threshold")
    detail = "; ".join(([f"missing key(s) {missing}"] if missing else []) + bad) or "every field is present"
    report.rules.append(RuleResult("fields", not missing and not bad, detail))

    # Rule 1: threshold / coverage / accuracy come from the student's own coverage table.
    th, cov, acc = artifact.get("threshold"), artifact.get("coverage"), artifact.get("accuracy")
    if not all(_is_number(v) for v in (th, cov, acc)):
        report.rules.append(RuleResult("1. numbers from your coverage table", False,
                                       f"threshold, coverage and accuracy must be numbers, got "
                                       f"{th!r}, {cov!r}, {acc!r}"))
    else:
        row, why = _coverage_row(th, coverage_df)
        if row is None:
            report.rules.append(RuleResult("1. numbers from your coverage table", False, why))
        else:
            problems = []
            for name, given in (("coverage", cov), ("accuracy", acc)):
                table_value = float(row[name])
                if not math.isfinite(table_value):
                    problems.append(f"your table's {name} at {th:g} is NaN (nothing covered); pick another "
                                    f"threshold")
                elif abs(float(given) - table_value) > 5e-4:
                    problems.append(f"{name} {given!r} differs from your table's {table_value:.4f} at "
                                    f"threshold {th:g}")
            report.rules.append(RuleResult("1. numbers from your coverage table", not problems,
                                           "; ".join(problems) or
                                           f"threshold {th:g}: coverage and accuracy match your table"))

    # Rule 2: the justification cites a number from the student's tables.
    just = artifact.get("justification")
    if not _text(just, 5):
        report.rules.append(RuleResult("2. justification cites your tables", False,
                                       "justification must be at least a sentence that cites a number "
                                       "from your synthesis tables"))
    else:
        all_tables = dict(tables) if isinstance(tables, Mapping) else {"tables": tables}
        all_tables.setdefault("_coverage", coverage_df)
        cited = _cites(just, numbers_in_tables(all_tables))
        report.rules.append(RuleResult(
            "2. justification cites your tables", cited is not None,
            f"cites {cited} from your tables" if cited else
            "no number in the justification matches a value in your tables (copy it at the precision "
            "you read it, e.g. 0.055 or 5.5%)"))

    # Rule 3: the flip names a constraint, a numeric switch point and an alternative.
    problems = []
    if not _text(artifact.get("flip_constraint"), 2):
        problems.append("flip_constraint must name the constraint in a few words")
    if not _is_number(artifact.get("switch_point")):
        problems.append(f"switch_point must be a number (where the decision flips), got "
                        f"{artifact.get('switch_point')!r}")
    alt = artifact.get("alternative")
    if not _text(alt):
        problems.append("alternative must name the recipe you would switch to")
    elif isinstance(artifact.get("model"), str) and alt.strip().lower() == artifact["model"].strip().lower():
        problems.append("alternative must differ from the model you chose")
    report.rules.append(RuleResult("3. flip: constraint, switch point, alternative", not problems,
                                   "; ".join(problems) or
                                   f"flips at {artifact.get('switch_point')!r} on "
                                   f"'{artifact.get('flip_constraint')}' -> {alt}"))
    return report


def best_arm(table, scenario, ece_cap=0.05):
    """The row of ``table`` (index = recipe) that best serves ``scenario``'s primary metric.

    A: highest macro_f1; B: lowest nll among rows with ece <= ece_cap (lowest
    ece if none qualifies); C: highest f1_tail.
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"scenario must be one of {sorted(SCENARIOS)}, got {scenario!r}.")
    if scenario == "A":
        return table["macro_f1"].idxmax()
    if scenario == "B":
        ok = table[table["ece"] <= ece_cap]
        return ok["nll"].idxmin() if len(ok) else table["ece"].idxmin()
    return table["f1_tail"].idxmax()
