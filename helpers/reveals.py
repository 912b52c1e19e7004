"""Reveal numbers that TAs regenerate from the artifacts.

Every measured number in the notebooks' markdown sits in a marked span::

    <!-- reveal:teacher_f1_tail -->0.198<!-- /reveal -->
    <!-- reveal:kd_lift:+.3f -->+0.015<!-- /reveal -->     (optional format spec)

and every qualitative sentence carries the claim it depends on::

    <!-- claim:lift_lands_on_head -->

``python -m helpers reveals --source synthetic|hub`` computes the facts
(:func:`compute_facts`), checks every claim the notebooks cite against them,
and rewrites only the spans' contents (and ``metadata.course.reveals_source``).
The reveal texts a student sees after a prediction live in ``helpers/reveal_text.md``
(:data:`REVEAL_FILE`, written by ``notebooks/build.py``, shown by
``helpers.predict.reveal``); they are rendered and checked the same way, every
section carries a ``source_note`` span that says SYNTHETIC DATA unless the facts
come from the Hub, and the file records its source in a ``reveals_source`` line.
A contradicted claim stops everything: nothing is written, and the message
names the claim.  ``--check`` writes nothing and exits 1 listing stale spans.
"""
from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import bootstrap, calibration, metrics
from .notebook.answers import FINE_THRESHOLDS, lowest_threshold_reaching
from .bootstrap import lift_pattern
from .course import WEEK1_BASELINE_F1

__all__ = ["compute_facts", "render", "check_claims", "main", "CLAIMS", "NOTEBOOKS", "Facts",
           "ClaimError"]

ROOT = Path(__file__).resolve().parent.parent
#: Reveal texts (shown by ``helpers.predict.reveal`` after a prediction); rendered with the notebooks.
REVEAL_FILE = Path(__file__).resolve().with_name("reveal_text.md")
NOTEBOOKS = (ROOT / "notebooks" / "week6_lab" / "week6_lab.ipynb",
             ROOT / "notebooks" / "week6_homework" / "week6_homework.ipynb")

#: Week 1's baseline (ModernBERT-base, train split only, CE).  It is a result of an
#: earlier week, not one of this week's artifacts, so it is a recorded constant.
GRID = tuple(f"grid_Td{t}_a{a}" for t in (1, 4, 8) for a in (70, 90))
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)
#: Scenario B's hard constraint: ECE at most 0.05 on the eval half.
ECE_CAP_B = 0.05
SOURCE_NOTE = "(SYNTHETIC DATA: the lecture's real numbers differ.) "

SPAN = re.compile(r"<!-- reveal:(?P<key>[A-Za-z0-9_]+)(?::(?P<fmt>[^ ]+))? -->(?P<body>.*?)<!-- /reveal -->",
                  re.S)
CLAIM = re.compile(r"<!-- claim:(?P<name>[A-Za-z0-9_]+) -->")


class ClaimError(RuntimeError):
    """The data contradicts a qualitative claim the notebooks make."""


class Facts(dict):
    """name -> number or string, plus the ``source`` they were computed from."""

    def __init__(self, source, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.source = source


# --------------------------------------------------------------------------- loading
def _default_loader(name, source):
    from . import artifacts
    return artifacts.load(name, source=source)


def compute_facts(source="synthetic", loader: Callable | None = None):
    """Every number the reveals print, computed from the artifacts of ``source``.

    ``loader(name, source)`` returns a prediction set (logits, labels, tiers);
    the default is ``helpers.artifacts.load``.
    """
    load = loader or _default_loader
    names = ("teacher_val", "vanilla", "distilled", *GRID)
    sets = {n: load(n, source) for n in names}
    resolved = getattr(sets["vanilla"], "source", source)
    labels = np.asarray(sets["vanilla"].labels)
    tiers = np.asarray(sets["vanilla"].tiers).astype(str)
    f = Facts(resolved)
    f["source"] = resolved
    # Every rendered paragraph carries this span: empty on the course's artifacts, a warning otherwise.
    f["source_note"] = "" if resolved == "hub" else SOURCE_NOTE
    f["n_val"] = int(labels.size)
    tier_classes = metrics.tier_labels(labels, tiers)
    for t in metrics.TIERS:
        f[f"n_{t}"] = int((tiers == t).sum())
        f[f"n_classes_{t}"] = int(len(tier_classes[t]))

    probs = {n: metrics.softmax(s.logits) for n, s in sets.items()}
    rows = {n: metrics.evaluate(sets[n].logits, labels, tiers) for n in names}
    short = {"teacher_val": "teacher"}
    for n, row in rows.items():
        p = short.get(n, n)
        f[f"{p}_f1"] = row["macro_f1"]
        f[f"{p}_ece"] = row["ece"]
        f[f"{p}_nll"] = row["nll"]
        f[f"{p}_acc"] = row["accuracy"]
        for t in metrics.TIERS:
            f[f"{p}_f1_{t}"] = row[f"f1_{t}"]
            f[f"{p}_ece_{t}"] = row[f"ece_{t}"]
            f[f"{p}_nll_{t}"] = row[f"nll_{t}"]

    # Act 1: how peaked the teacher's distribution is, per tier.
    pt = probs["teacher_val"]
    top1 = pt.max(axis=1)
    entropy = -(pt * np.log(np.clip(pt, 1e-12, 1.0))).sum(axis=1)
    for t in metrics.TIERS:
        f[f"teacher_top1_{t}"] = float(top1[tiers == t].mean())
        f[f"teacher_entropy_{t}"] = float(entropy[tiers == t].mean())
    f["most_peaked_tier"] = min(metrics.TIERS, key=lambda t: f[f"teacher_entropy_{t}"])

    # Act 2: the per-tier lift and its paired bootstrap (1,000 resamples, seed 42).
    f["kd_lift"] = f["distilled_f1"] - f["vanilla_f1"]
    boot = bootstrap.paired_bootstrap(sets["vanilla"].preds, sets["distilled"].preds, labels, tiers,
                                      metric="macro_f1", n_resamples=1000, seed=42)
    for t in metrics.TIERS:
        for col in ("median", "ci_low", "ci_high"):
            f[f"boot_f1_{t}_{col}"] = float(boot.loc[t, col])
        f[f"boot_f1_{t}_excludes_zero"] = bool(boot.loc[t, "excludes_zero"])
        f[f"delta_f1_{t}"] = f[f"distilled_f1_{t}"] - f[f"vanilla_f1_{t}"]
        f[f"delta_ece_{t}"] = f[f"distilled_ece_{t}"] - f[f"vanilla_ece_{t}"]
    f["lift_lands"] = lift_pattern({t: boot.loc[t] for t in metrics.TIERS})
    ece_better = {t for t in metrics.TIERS if f[f"distilled_ece_{t}"] < f[f"vanilla_ece_{t}"]}
    f1_real = {t for t in metrics.TIERS if f[f"boot_f1_{t}_ci_low"] > 0}
    f["ece_tiers_improved"] = len(ece_better)
    f["ece_follows_f1"] = "yes" if ece_better == f1_real else "no"
    f["ece_ratio_full"] = f["vanilla_ece"] / f["distilled_ece"]
    f["nll_cut_full"] = 1.0 - f["distilled_nll"] / f["vanilla_nll"]
    overall = bootstrap.paired_bootstrap(sets["vanilla"].preds, sets["distilled"].preds, labels, None,
                                         metric="macro_f1", n_resamples=1000, seed=42)
    f["boot_f1_all_ci_width"] = float(overall.loc["all", "ci_high"] - overall.loc["all", "ci_low"])

    # Act 3: the data confound.
    f["week1_f1"] = WEEK1_BASELINE_F1
    f["data_shift"] = f["vanilla_f1"] - WEEK1_BASELINE_F1
    f["data_kd_ratio"] = f["data_shift"] / f["kd_lift"] if f["kd_lift"] > 0 else float("inf")

    # Calibration on the eval half; T fitted on the cal half.
    cal, ev = calibration.cal_eval_split(labels.size, seed=42)
    T = calibration.fit_temperature(sets["vanilla"].logits[cal], labels[cal])
    f["cal_T"], f["n_cal"], f["n_eval"] = T, int(cal.size), int(ev.size)
    arms = {"vanilla": sets["vanilla"].logits, "vanilla_t": calibration.apply_temperature(sets["vanilla"].logits, T),
            "distilled": sets["distilled"].logits, "teacher": sets["teacher_val"].logits}
    for arm, z in arms.items():
        row = metrics.evaluate(z[ev], labels[ev], tiers[ev])
        for k in ("ece", "nll", "macro_f1", "f1_tail"):
            f[f"eval_{arm}_{k.replace('macro_', '')}"] = row[k]
    f["ece_gain_t"] = f["eval_vanilla_ece"] - f["eval_vanilla_t_ece"]
    f["ece_gain_kd"] = f["eval_vanilla_ece"] - f["eval_distilled_ece"]
    f["repro_fraction"] = f["ece_gain_t"] / f["ece_gain_kd"]

    # Scenario B (homework): ECE <= the cap on the eval half, then the lowest NLL.  The solution's
    # grid pick is the grid config that best serves B; the four measured arms add vanilla,
    # vanilla + T and distilled.
    ev_rows = {g: metrics.evaluate(sets[g].logits[ev], labels[ev], tiers[ev]) for g in GRID}
    for g in GRID:
        for k in ("ece", "nll", "macro_f1", "f1_tail"):
            f[f"eval_{g}_{k.replace('macro_', '')}"] = ev_rows[g][k]
    f["ece_cap_b"] = ECE_CAP_B
    f["grid_pick_b"] = _best_for_b({g: (ev_rows[g]["ece"], ev_rows[g]["nll"]) for g in GRID})
    hw_arms = {"vanilla": "vanilla", "vanilla+T": "vanilla_t", "distilled": "distilled",
               f["grid_pick_b"]: f["grid_pick_b"]}
    f["winner_b"] = _best_for_b({name: (f[f"eval_{key}_ece"], f[f"eval_{key}_nll"]) for name, key in hw_arms.items()})
    winner_key = hw_arms[f["winner_b"]]
    f["winner_b_ece"], f["winner_b_nll"] = f[f"eval_{winner_key}_ece"], f[f"eval_{winner_key}_nll"]
    f["winner_b_f1"] = f[f"eval_{winner_key}_f1"]
    f["b_qualifying_arms"] = ", ".join(n for n, k in hw_arms.items() if f[f"eval_{k}_ece"] <= ECE_CAP_B) or "none"
    f["winner_b_family"] = ("grid" if f["winner_b"].startswith("grid_") else f["winner_b"])
    winner_logits = (calibration.apply_temperature(sets["vanilla"].logits, T) if winner_key == "vanilla_t"
                     else sets[winner_key].logits)
    fine = metrics.coverage_table(metrics.softmax(winner_logits[ev]), labels[ev], FINE_THRESHOLDS)
    at70 = fine[np.isclose(fine.threshold, 0.70)].iloc[0]
    f["winner_b_cov_70"], f["winner_b_covacc_70"] = float(at70.coverage), float(at70.accuracy)
    f["winner_b_ncov_70"] = int(at70.n_covered)
    # Is the winner's NLL margin over vanilla + T, and distilled's ECE gap to it, outside the noise?
    # (Paired bootstrap on the eval half, 1,000 resamples, seed 42; b - a.)
    p_vt = metrics.softmax(arms["vanilla_t"][ev])
    for tag, (metric, other) in {"nll_winner_vs_vt": ("nll", metrics.softmax(winner_logits[ev])),
                                 "ece_distilled_vs_vt": ("ece", metrics.softmax(sets["distilled"].logits[ev])),
                                 "nll_distilled_vs_vt": ("nll", metrics.softmax(sets["distilled"].logits[ev]))}.items():
        ci = bootstrap.paired_bootstrap(p_vt, other, labels[ev], None, metric=metric, n_resamples=1000,
                                        seed=42).loc["all"]
        f[f"boot_{tag}_ci_low"], f[f"boot_{tag}_ci_high"] = float(ci["ci_low"]), float(ci["ci_high"])
    lowest = lowest_threshold_reaching(fine)
    f["winner_b_lowest_t95"] = lowest if lowest == "none" else f"{lowest:.2f}"

    # Coverage at the lab's thresholds (eval half).
    for arm in ("vanilla_t", "distilled"):
        table = metrics.coverage_table(metrics.softmax(arms[arm][ev]), labels[ev], THRESHOLDS)
        for _, r in table.iterrows():
            tag = f"{int(round(r.threshold * 100))}"
            f[f"cov_{arm}_{tag}"] = float(r.coverage)
            f[f"covacc_{arm}_{tag}"] = float(r.accuracy)
        reach = table[table.accuracy >= 0.95]
        f[f"cov95_{arm}"] = f"{reach.threshold.iloc[0]:.1f}" if len(reach) else "none"

    # Homework Test A (Stanton): per-tier JS divergence to the teacher.
    for arm in ("vanilla", "distilled"):
        js = metrics.per_tier_js(probs["teacher_val"], probs[arm], tiers)
        for t in metrics.TIERS:
            f[f"js_{arm}_{t}"] = js[t]
    for t in metrics.TIERS:
        f[f"js_reduction_{t}"] = 1.0 - f[f"js_distilled_{t}"] / f[f"js_vanilla_{t}"]

    js_cut = {t: f[f"js_reduction_{t}"] for t in metrics.TIERS}
    f["js_least_reduced_tier"] = min(js_cut, key=js_cut.get)

    # The grid, on the eval half (the table the homework prints), against the noise floor: the
    # width of the paired-bootstrap CI of distilled - vanilla macro F1 on the same rows.
    grid_f1 = [ev_rows[g]["macro_f1"] for g in GRID]
    grid_ece = [ev_rows[g]["ece"] for g in GRID]
    ev_boot = bootstrap.paired_bootstrap(sets["vanilla"].preds[ev], sets["distilled"].preds[ev], labels[ev], None,
                                         metric="macro_f1", n_resamples=1000, seed=42)
    f["boot_f1_eval_ci_width"] = float(ev_boot.loc["all", "ci_high"] - ev_boot.loc["all", "ci_low"])
    f["grid_f1_in_noise"] = "yes" if max(grid_f1) - min(grid_f1) < f["boot_f1_eval_ci_width"] else "no"
    f["grid_f1_spread"] = float(max(grid_f1) - min(grid_f1))
    f["grid_ece_spread"] = float(max(grid_ece) - min(grid_ece))
    f["grid_best_f1"] = GRID[int(np.argmax(grid_f1))]
    f["grid_best_ece"] = GRID[int(np.argmin(grid_ece))]
    f["grid_best_nll"] = GRID[int(np.argmin([ev_rows[g]["nll"] for g in GRID]))]
    return f


def _best_for_b(scores):
    """Scenario B's rule on ``{name: (ece, nll)}``: lowest NLL among ECE <= cap, else lowest ECE."""
    ok = {n: v for n, v in scores.items() if v[0] <= ECE_CAP_B}
    if ok:
        return min(ok, key=lambda n: ok[n][1])
    return min(scores, key=lambda n: scores[n][0])


# --------------------------------------------------------------------------- claims
@dataclass(frozen=True)
class Claim:
    text: str
    holds: Callable[[Facts], bool]


def _every_tier(pred):
    return lambda f: all(pred(f, t) for t in metrics.TIERS)


CLAIMS: dict[str, Claim] = {
    "teacher_tail_lowest": Claim(
        "the teacher's tail F1 is far below its head and mid F1",
        lambda f: f["teacher_f1_tail"] < f["teacher_f1_mid"] < f["teacher_f1_head"]),
    "head_most_peaked": Claim("the teacher is most peaked (lowest entropy) on the head",
                              lambda f: f["most_peaked_tier"] == "head"),
    "kd_lifts_f1": Claim("the distilled student's macro F1 is above vanilla's",
                         lambda f: f["kd_lift"] > 0),
    "lift_lands_on_head": Claim("the F1 lift lands on the head (only the head's CI excludes zero)",
                                lambda f: f["lift_lands"] == "head"),
    "tail_lift_in_noise": Claim("the tail's F1 delta CI includes zero",
                                lambda f: not f["boot_f1_tail_excludes_zero"]),
    "mid_lift_in_noise": Claim("the mid tier's F1 delta CI includes zero",
                               lambda f: not f["boot_f1_mid_excludes_zero"]),
    "ece_improves_every_tier": Claim("KD lowers ECE on every tier",
                                     _every_tier(lambda f, t: f[f"distilled_ece_{t}"] < f[f"vanilla_ece_{t}"])),
    "nll_improves_every_tier": Claim("KD lowers NLL on every tier",
                                     _every_tier(lambda f, t: f[f"distilled_nll_{t}"] < f[f"vanilla_nll_{t}"])),
    "ece_does_not_follow_f1": Claim("per-tier ECE does not follow the per-tier F1 pattern",
                                    lambda f: f["ece_follows_f1"] == "no"),
    "student_tail_below_teacher": Claim("both students' tail F1 stays below the teacher's",
                                        lambda f: max(f["vanilla_f1_tail"], f["distilled_f1_tail"])
                                        < f["teacher_f1_tail"]),
    "data_shift_beats_kd": Claim("the data shift bought more macro F1 than KD did",
                                 lambda f: f["data_shift"] > f["kd_lift"] > 0),
    "tscaling_beats_kd_on_ece": Claim("vanilla + T has lower ECE than distilled on the eval half",
                                      lambda f: f["eval_vanilla_t_ece"] < f["eval_distilled_ece"]),
    "kd_wins_nll": Claim("distilled has lower NLL than vanilla + T on the eval half",
                         lambda f: f["eval_distilled_nll"] < f["eval_vanilla_t_nll"]),
    "tscaling_keeps_f1": Claim("temperature scaling leaves macro F1 unchanged",
                               lambda f: abs(f["eval_vanilla_t_f1"] - f["eval_vanilla_f1"]) < 1e-12),
    "repro_fraction_above_one": Claim("T-scaling reproduces more than 100% of KD's ECE gain",
                                      lambda f: f["repro_fraction"] > 1.0),
    "vanilla_overconfident": Claim("vanilla's raw ECE is the worst of the three arms",
                                   lambda f: f["eval_vanilla_ece"] > max(f["eval_vanilla_t_ece"],
                                                                         f["eval_distilled_ece"])),
    "js_distilled_closer_every_tier": Claim(
        "the distilled student is closer to the teacher (JS) on every tier",
        _every_tier(lambda f, t: f[f"js_distilled_{t}"] < f[f"js_vanilla_{t}"])),
    "grid_f1_inside_noise": Claim("the grid's macro F1 spread (eval half) is inside the bootstrap CI width",
                                  lambda f: f["grid_f1_in_noise"] == "yes"),
    "tscaling_lowers_nll": Claim("vanilla + T has lower NLL than raw vanilla on the eval half",
                                 lambda f: f["eval_vanilla_t_nll"] < f["eval_vanilla_nll"]),
    "distilled_misses_ece_cap": Claim("the lab's distilled student misses scenario B's ECE cap on the eval half",
                                      lambda f: f["eval_distilled_ece"] > f["ece_cap_b"]),
    "vanilla_t_meets_ece_cap": Claim("vanilla + T meets scenario B's ECE cap on the eval half",
                                     lambda f: f["eval_vanilla_t_ece"] <= f["ece_cap_b"]),
    "winner_b_meets_cap": Claim("the recipe scenario B ships meets the ECE cap",
                                lambda f: f["winner_b_ece"] <= f["ece_cap_b"]),
    "winner_b_not_vanilla_t": Claim("scenario B's winner is not vanilla + T (so vanilla + T is the fallback)",
                                    lambda f: f["winner_b"] != "vanilla+T"
                                    and f["eval_vanilla_t_ece"] < f["winner_b_ece"]),
    "grid_pick_b_meets_cap": Claim("the grid config picked for scenario B meets its ECE cap",
                                   lambda f: f[f"eval_{f['grid_pick_b']}_ece"] <= f["ece_cap_b"]),
    "winner_b_nll_margin_real": Claim("scenario B's winner beats vanilla + T on NLL outside the bootstrap noise",
                                      lambda f: f["winner_b"] != "vanilla+T" and f["boot_nll_winner_vs_vt_ci_high"] < 0),
    "distilled_ece_gap_real": Claim("distilled's ECE is above vanilla + T's outside the bootstrap noise",
                                    lambda f: f["boot_ece_distilled_vs_vt_ci_low"] > 0),
    "distilled_nll_gap_real": Claim("distilled's NLL is below vanilla + T's outside the bootstrap noise",
                                    lambda f: f["boot_nll_distilled_vs_vt_ci_high"] < 0),
    "winner_b_is_distilled_family": Claim("scenario B's winner is a distilled student (the lab's or a grid config)",
                                          lambda f: f["winner_b_family"] in ("distilled", "grid")),
    "js_gap_least_closed_on_tail": Claim("KD closes the least of the JS gap on the tail",
                                         lambda f: f["js_least_reduced_tier"] == "tail"),
    "grid_ece_spread_real": Claim("the grid's ECE spread is larger than its F1 spread and at least 0.02",
                                  lambda f: f["grid_ece_spread"] >= 0.02
                                  and f["grid_ece_spread"] > f["grid_f1_spread"]),
}


def check_claims(names, facts):
    """Raise :class:`ClaimError` naming every claim in ``names`` that the facts contradict."""
    unknown = sorted(set(names) - set(CLAIMS))
    if unknown:
        raise ClaimError(f"unknown claim(s) {unknown}; declared claims are {sorted(CLAIMS)}.")
    broken = [n for n in sorted(set(names)) if not CLAIMS[n].holds(facts)]
    if broken:
        lines = [f"  {n}: \"{CLAIMS[n].text}\" is contradicted by the {facts.source} artifacts"
                 for n in broken]
        raise ClaimError("The data contradicts claim(s) the notebooks make; nothing was written. "
                         "Rewrite the prose (and its claim marker) first:\n" + "\n".join(lines))


# --------------------------------------------------------------------------- rendering
def format_value(value, fmt=None):
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    if fmt:
        return format(value, fmt)
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return f"{value:.3f}"


def _render_source(text, facts, where, problems):
    def sub(m):
        key = m.group("key")
        if key not in facts:
            problems.append(f"{where}: unknown fact {key!r} in a reveal span")
            return m.group(0)
        new = format_value(facts[key], m.group("fmt"))
        fmt = f":{m.group('fmt')}" if m.group("fmt") else ""
        return f"<!-- reveal:{key}{fmt} -->{new}<!-- /reveal -->"
    return SPAN.sub(sub, text)


def _read(path):
    import nbformat
    return nbformat.read(str(path), as_version=4)


def _write_text(nb):
    import nbformat
    return nbformat.writes(nb) + "\n"


def claims_in(nb):
    """Claims a notebook (its markdown cells) or the reveal file (a path or its text) makes."""
    if isinstance(nb, (str, Path)):
        text = Path(nb).read_text(encoding="utf-8") if isinstance(nb, Path) else nb
        return sorted({m.group("name") for m in CLAIM.finditer(text)})
    return sorted({m.group("name") for c in nb.cells if c.cell_type == "markdown"
                   for m in CLAIM.finditer(c.source)})


def render_text_file(path, facts, write=True):
    """Re-render the spans of the reveal file (``helpers/reveal_text.md``) from ``facts``.

    Same contract as :func:`render`: claims first (nothing written on a contradiction), then
    the spans and the ``reveals_source`` line.  Each section must carry a ``source_note`` span.
    """
    from .notebook.predict import SECTION, SOURCE_LINE
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    check_claims(claims_in(text), facts)
    problems = [f"{path.name} reveal {m.group('name')!r}: add a source_note span (synthetic data must say so)"
                for m in SECTION.finditer(text) if "<!-- reveal:source_note -->" not in m.group("body")]
    new = _render_source(text, facts, path.name, problems)
    if problems:
        raise KeyError("; ".join(problems))
    changes = [(path.name, o.group("key"), o.group("body"), n.group("body"))
               for o, n in zip(SPAN.finditer(text), SPAN.finditer(new)) if o.group("body") != n.group("body")]
    m = SOURCE_LINE.search(new)
    old_source = m.group("source") if m else None
    if old_source != facts.source:
        changes.append((None, "reveals_source", old_source, facts.source))
        line = f"<!-- reveals_source: {facts.source} -->"
        new = SOURCE_LINE.sub(line, new, count=1) if m else line + "\n" + new
    if write and changes:
        path.write_text(new, encoding="utf-8")
    return changes


def render(notebook_path, facts, write=True):
    """Re-render the reveal spans of one notebook from ``facts``.

    Checks the notebook's claims first (raises :class:`ClaimError`, writing
    nothing).  Returns the list of ``(cell index, key, old text, new text)``
    changes (empty when already current).  With ``write=False`` nothing is written.
    """
    path = Path(notebook_path)
    nb = _read(path)
    check_claims(claims_in(nb), facts)
    changes, problems = [], []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown" or "<!-- reveal:" not in cell.source:
            continue
        old_spans = {m.start(): m for m in SPAN.finditer(cell.source)}
        new_source = _render_source(cell.source, facts, f"{path.name} cell {i}", problems)
        if new_source != cell.source:
            for (o, n) in zip(SPAN.finditer(cell.source), SPAN.finditer(new_source)):
                if o.group("body") != n.group("body"):
                    changes.append((i, o.group("key"), o.group("body"), n.group("body")))
            cell.source = new_source
        del old_spans
    if problems:
        raise KeyError("; ".join(problems))
    course = nb.metadata.setdefault("course", {})
    if course.get("reveals_source") != facts.source:
        changes.append((None, "metadata.course.reveals_source", course.get("reveals_source"), facts.source))
        course["reveals_source"] = facts.source
    if write and changes:
        path.write_text(_write_text(nb), encoding="utf-8")
    return changes


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m helpers reveals",
        description="Re-render the reveal numbers in the week's notebooks from the artifacts.")
    parser.add_argument("--source", choices=("auto", "hub", "synthetic"), default="auto",
                        help="artifact source (default auto: the Hub when reachable, else synthetic)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 and list the stale spans if any")
    parser.add_argument("--text-file", type=Path, default=None,
                        help="the reveal texts the notebooks show after a prediction "
                             "(default helpers/reveal_text.md; always rendered with the notebooks)")
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks (default: the lab and the homework)")
    args = parser.parse_args(argv)
    paths = args.notebooks or list(NOTEBOOKS)
    text_file = args.text_file or REVEAL_FILE
    try:
        facts = compute_facts(args.source)
        # Check every claim (notebooks and reveal texts) before writing anything.
        for p in paths:
            check_claims(claims_in(_read(p)), facts)
        check_claims(claims_in(Path(text_file)), facts)
        all_changes = {p: render(p, facts, write=not args.check) for p in paths}
        all_changes[Path(text_file)] = render_text_file(text_file, facts, write=not args.check)
    except ClaimError as err:
        print(f"error: {err}", file=sys.stderr)
        return 3
    except (KeyError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    stale = 0
    for p, changes in all_changes.items():
        for cell, key, old, new in changes:
            stale += 1
            where = (f"cell {cell}" if isinstance(cell, int) else
                     "metadata" if cell is None else "section")
            verb = "stale" if args.check else "updated"
            print(f"{verb}: {p.name} {where} {key}: {old!r} -> {new!r}")
    if args.check:
        if stale:
            print(f"{stale} reveal value(s) are stale for source {facts.source!r}; run "
                  f"`python -m helpers reveals --source {facts.source}`.", file=sys.stderr)
            return 1
        print(f"reveals are current for source {facts.source!r} ({len(paths)} notebooks and {Path(text_file).name}).")
        return 0
    print(f"rendered reveals from source {facts.source!r}: {stale} change(s) in {len(paths)} notebooks.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
