"""Cells of the week 6 homework (nbgrader source).  Build with ``python notebooks/build.py``."""
from lab_cells import BOOTSTRAP_CI, COVERAGE_TABLE, C, R
from nbsource import code, hidden_test, manual, md, predict, solution

PREFIX = "hw"

MEMO = [
    ("hw_memo_1_recommendation", 25, "Recommendation",
     "Which recipe do you ship for your scenario, at which threshold, and why? Cite at least three numbers "
     "from your tables, each with its CI or its split (full val or eval half). Say what you give up.",
     "For scenario B I ship the distilled student at threshold 0.7: it has the lowest NLL of the four arms on "
     "the eval half and an ECE under the 0.05 cap; vanilla + T has the lower ECE but a worse NLL, and the "
     "reviewers read the whole distribution. I give up the cheaper pipeline (no 80-minute training run)."),
    ("hw_memo_2_transfer", 15, "What transferred",
     "What did distillation transfer from the teacher on this dataset, and what did it not? Separate capacity "
     "(argmax quality, per tier, with bootstrap CIs) from calibration (ECE, NLL, JS).",
     "Calibration transferred on every tier (ECE, NLL and JS to the teacher all fall); capacity transferred "
     "only on the head, where the F1 CI excludes zero. The tail F1 delta's CI includes zero, and the teacher's "
     "own tail F1 bounds what could transfer."),
    ("hw_memo_3_literature", 15, "The literature, tested",
     "State the Stanton et al. 2021 and Han Guo et al. 2021 claims in one sentence each, and say whether your "
     "Test A and Test B numbers support, qualify or contradict them.",
     "Stanton: students do not fully match their teachers; my JS divergence shrinks under KD but stays well "
     "above zero, most on the tail, so supported. Han Guo: KD acts like a calibration regularizer that "
     "temperature scaling largely reproduces; on ECE T-scaling reproduces more than all of KD's gain, but on NLL "
     "it does not, so qualified: the claim holds for top-1 calibration only."),
    ("hw_memo_4_next_recipe", 15, "The next recipe",
     "Pick one cross-week recipe you did not run (a quantized distilled student; vanilla + T + int8; distilled "
     "with the merged labels reverted) and predict, with a mechanism, where it would land on your scenario's "
     "metric.",
     "Vanilla + T + int8: int8 keeps the argmax almost everywhere, so F1 stays; the Week 5 drift was on tail "
     "calibration, and a temperature refitted after quantization should absorb a global shift but not a per-"
     "class one, so tail ECE would rise slightly. For scenario A this is the cheapest recipe that works."),
    ("hw_memo_5_capstone", 30, "Capstone: the term in one recommendation",
     "Six weeks: scale, class weighting, quantization, distillation. Defend one deployment recommendation for "
     "this 113-class long-tail task that uses what each week taught you, and name the data ceiling explicitly: "
     "what no recipe on this data budget will buy, and what would.",
     "Every intervention this term met the same wall: tail classes with single-digit support. Scale and KD "
     "bought head capacity and calibration, quantization bought memory, none bought tail F1. I would ship a "
     "calibrated small student for the head and mid tiers with a confidence threshold, route the rest to "
     "people, and spend the next budget on labelling tail examples, which is the only lever the numbers say "
     "moves the tail."),
]


def cells(setup_cell):
    out = [
md("""
# Week 6 homework: the cheapest recipe that transfers what your scenario needs

About six hours. You will pick a deployment scenario, diagnose the teacher, build a recipe shortlist, test
two claims from the literature on your own numbers, and write a five-part memo (rubric: 25 / 15 / 15 / 15 /
30 points).

The data budget is fixed: no new labels, no new training runs beyond the precomputed grid. Every number in
your memo must come from a table in this notebook. If the set-up cell says **SYNTHETIC**, your numbers
come from the embedded stand-in data; the reasoning carries over, the values do not.
"""),
setup_cell,
code("""
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from helpers import artifacts, calibration, deploy, metrics, plots
from helpers.predict import observe, predict, require
from helpers.setup_env import show, showfig

SOURCE = ENV.source
TIERS = ("head", "mid", "tail")
GRID = [f"grid_Td{t}_a{a}" for t in (1, 4, 8) for a in (70, 90)]
sets = {name: artifacts.load(name, SOURCE) for name in ["teacher_val", "vanilla", "distilled", *GRID]}
teacher, vanilla, distilled = sets["teacher_val"], sets["vanilla"], sets["distilled"]
labels, tiers = teacher.labels, teacher.tiers
cal_idx, eval_idx = calibration.cal_eval_split(len(labels), seed=42)
print(f"{len(sets)} prediction sets from {SOURCE}; cal half {len(cal_idx):,} rows, eval half {len(eval_idx):,} rows")
"""),

# ------------------------------------------------------------------ Part 0
md("""
## Part 0: scenario and prior

| scenario | hard constraint | primary metric |
| --- | --- | --- |
| **A**: high-throughput batch triage | under 10 ms per example on a T4 | macro F1 |
| **B**: regulated escalation review | ECE at most 0.05 | NLL (among recipes that meet the ECE cap) |
| **C**: long-tail rare-class monitoring | rare classes must be caught | tail macro F1 |

Set `SCENARIO` to `"A"`, `"B"` or `"C"`. You will keep it for the whole homework.
"""),
solution("""
### BEGIN SOLUTION
SCENARIO = "B"
### END SOLUTION
""", "hw_scenario"),
md("""
**Your prior.** Before looking at any number: which recipe do you expect to serve your scenario best?
Choose `"vanilla"`, `"vanilla+T"`, `"distilled"`, `"grid"` (one of the six grid configs) or `"none"` (no
recipe meets the constraint), with a one-line reason. Then explain the prior in a few sentences below.
"""),
predict("prior_best_recipe",
        'predict("prior_best_recipe", "vanilla" | "vanilla+T" | "distilled" | "grid" | "none", "<one-line reason>")',
        'predict("prior_best_recipe", "vanilla+T", "temperature scaling fixes ECE for free, and B gates on ECE")'),
manual("hw_prior", 3, """
Scenario B gates on ECE, and last week's lecture said temperature scaling matches most calibration fixes.
I expect vanilla + T to meet the 0.05 cap and to be close enough on NLL; KD costs 80 minutes of T4 time
per run, which I would only pay for if its NLL were clearly better.
"""),

# ------------------------------------------------------------------ Part 1
md("""
## Part 1: diagnose

### Per-class F1

Write `per_class_f1(labels, preds, n_classes=113)`.

* `labels`, `preds`: integer arrays of shape `(n,)` with values in `[0, n_classes)`.
* For every class `c` in `0 .. n_classes - 1`: `F1 = 2 TP / (2 TP + FP + FN)`, and 0 when the
  denominator is 0 (a class nobody predicts and nobody has).
* **Return** a numpy float array of shape `(n_classes,)`, entry `c` for class `c`.
"""),
solution("""
def per_class_f1(labels, preds, n_classes=113):
    \"\"\"F1 of every class -> np.ndarray of shape (n_classes,).\"\"\"
    ### BEGIN SOLUTION
    labels, preds = np.asarray(labels, dtype=np.int64), np.asarray(preds, dtype=np.int64)
    tp = np.bincount(labels[labels == preds], minlength=n_classes).astype(float)
    n_true = np.bincount(labels, minlength=n_classes)
    n_pred = np.bincount(preds, minlength=n_classes)
    denom = n_true + n_pred                      # = 2 TP + FP + FN
    return np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)
    ### END SOLUTION
""", "hw_per_class_f1_answer"),
code("""
# Sanity check (not graded).
toy = per_class_f1(np.array([0, 0, 1]), np.array([0, 1, 1]), n_classes=3)
print(toy)     # class 0: 2/3, class 1: 2/3, class 2: 0
assert toy.shape == (3,) and np.allclose(toy, [2 / 3, 2 / 3, 0])
"""),
hidden_test("hw_per_class_f1", 2, "F1 of every class, as an array of shape (n_classes,)"),
code("""
class_f1 = {name: per_class_f1(labels, sets[key].preds) for name, key in
            [("teacher", "teacher_val"), ("vanilla", "vanilla"), ("distilled", "distilled")]}
class_tier = pd.Series(tiers).groupby(labels).first().reindex(range(113)).to_numpy()
zero_f1 = pd.DataFrame({name: pd.Series(f == 0).groupby(class_tier).sum() for name, f in class_f1.items()}).loc[list(TIERS)]
show(zero_f1, "Classes with F1 = 0, per tier")
if SOURCE == "synthetic":
    from helpers import synthetic
    support = synthetic.train_class_counts()
else:
    # The Hub artifacts hold predictions only; validation support orders the classes the same way.
    support = np.bincount(labels, minlength=113)
showfig(plots.per_class_f1_plot(class_f1, support, class_tiers=class_tier, source=SOURCE))
"""),
md("""
### The teacher, per tier

Teacher macro F1, ECE and NLL per tier (full validation set), and its top three classes on three rows of
each tier.
"""),
code("""
row = metrics.evaluate(teacher.logits, labels, tiers)
teacher_tiers = pd.DataFrame({m: [row[f"{m}_{t}"] for t in TIERS] for m in ("f1", "ece", "nll")}, index=list(TIERS))
show(teacher_tiers, "Teacher per tier: macro F1, ECE, NLL")
samples = []
for tier in TIERS:
    for i in np.flatnonzero(tiers == tier)[:3]:
        p = teacher.probs[i]
        top = np.argsort(-p)[:3]
        samples.append({"tier": tier, "row": int(i), "true": int(labels[i]),
                        **{f"top{k + 1}": f"{c}: {p[c]:.2f}" for k, c in enumerate(top)}})
show(pd.DataFrame(samples).set_index(["tier", "row"]), "Teacher top-3 on three rows per tier")
"""),
md(f"""
The teacher's tail F1 is {R("teacher_f1_tail")} against {R("teacher_f1_head")} on the head, and its tail ECE
{R("teacher_ece_tail")} against {R("teacher_ece_head")}. {C("teacher_tail_lowest")}

### A property spec

Name **three to five properties** of the teacher that a student could inherit. For each: its name, the
measurement that shows it (a metric and a split from this notebook), and whether you expect it to transfer
through KD on this data (yes / partly / no, with a reason). A markdown table works well.
"""),
manual("hw_property_spec", 6, """
| property | measurement | transferable? |
| --- | --- | --- |
| head decision quality | head macro F1 (full val) | yes: many rows, a confident and correct teacher |
| tail decision quality | tail macro F1 | no: the teacher has little of it to give |
| top-1 calibration | ECE per tier | yes: the soft target carries the confidence level |
| full-distribution shape | NLL, JS divergence to the teacher per tier | partly: closer, never equal (Stanton) |
"""),

# ------------------------------------------------------------------ Part 2
md("""
## Part 2: shortlist

**Rank your properties** for your scenario: which one decides, which ones only break ties, which ones do
not matter? Two or three sentences.
"""),
manual("hw_property_ranking", 3, """
For scenario B the full-distribution shape (NLL) decides, among recipes that meet the ECE cap; top-1
calibration is the gate; head and tail F1 only break ties, because every case above the threshold is still
read by a reviewer who sees the probabilities.
"""),
md("""
### The grid

Six extra distilled students: $T_d \\in \\{1, 4, 8\\}$ times $\\alpha \\in \\{0.7, 0.9\\}$. All are scored on the
eval half.
"""),
code("""
grid_df = metrics.as_frame({name: metrics.evaluate(sets[name].logits[eval_idx], labels[eval_idx], tiers[eval_idx])
                            for name in GRID})[["macro_f1", "f1_tail", "ece", "nll"]]
show(grid_df, "The T_d x alpha grid on the eval half")
print("spread (max - min):", (grid_df.max() - grid_df.min()).round(4).to_dict())
"""),
md(f"""
Across the grid macro F1 moves by {R("grid_f1_spread")} on the full validation set, less than the width of
the bootstrap CI on the distilled-minus-vanilla F1 delta ({R("boot_f1_all_ci_width")}); ECE moves by
{R("grid_ece_spread")}. {C("grid_f1_inside_noise")}{C("grid_ece_spread_real")}The lab's default
($T_d$ = 4, $\\alpha$ = 0.7) is not the best on every metric: pick the grid config for *your* metric.

### Temperature scaling

Write `fit_temperature(logits, labels)`.

* `logits`: float array `(n, n_classes)`; `labels`: integers `(n,)`.
* Find the `T > 0` that minimises the NLL of `softmax(logits / T)`. Optimise `log T` (so T stays positive),
  starting from `T = 1`; `torch.optim.LBFGS` with `line_search_fn="strong_wolfe"` in float64 works well.
* **Return** `T` as a Python `float`.
"""),
solution("""
def fit_temperature(logits, labels):
    \"\"\"The temperature T > 0 that minimises NLL of softmax(logits / T) -> float.\"\"\"
    ### BEGIN SOLUTION
    z = torch.as_tensor(np.asarray(logits), dtype=torch.float64)
    y = torch.as_tensor(np.asarray(labels), dtype=torch.long)
    log_t = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([log_t], lr=1.0, max_iter=200, tolerance_grad=1e-12, tolerance_change=1e-14,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(z / log_t.exp(), y)
        loss.backward()
        return loss

    opt.step(closure)
    return float(log_t.detach().exp())
    ### END SOLUTION
""", "hw_fit_temperature_answer"),
code("""
# Sanity check (not graded): with unit Gaussian noise and the true class shifted by 1.5, the
# calibrated logits are 1.5 * x; logits three times too sharp want T near 3.
g = np.random.default_rng(0)
y_toy = g.integers(0, 5, 4000)
x_toy = g.normal(size=(4000, 5)); x_toy[np.arange(4000), y_toy] += 1.5
T_toy = fit_temperature(3 * 1.5 * x_toy, y_toy)
print(f"T = {T_toy:.3f}")
assert 2.7 < T_toy < 3.3
"""),
hidden_test("hw_fit_temperature", 2, "the temperature that minimises NLL"),
md("""
### The shortlist

Four recipes you measure, and one wildcard you do not run. Set `GRID_PICK` to one grid config name, and
fill in `wildcard`: a recipe (for example $T_d$ = 16, $\\alpha$ = 0.5, distilled + T, or vanilla with label
smoothing), your predicted macro F1 and ECE on the eval half, and the mechanism behind the prediction.
"""),
solution("""
### BEGIN SOLUTION
GRID_PICK = "grid_Td8_a90"
wildcard = {
    "recipe": "distilled + T (temperature fitted on the cal half)",
    "predicted_macro_f1": 0.28,
    "predicted_ece": 0.02,
    "mechanism": "T cannot change the argmax, so F1 stays at the distilled value; the distilled student is "
                 "mildly overconfident, which one global temperature removes.",
}
### END SOLUTION
""", "hw_shortlist"),
manual("hw_wildcard", 3, """
Distilled + T keeps the distilled student's per-example distribution shape, which is what gives it the lower
NLL, and removes its remaining global overconfidence. I expect it to dominate both vanilla + T (on NLL) and
distilled (on ECE) for scenario B, at the cost of one more held-out fold.
"""),
code("""
T_vanilla = fit_temperature(vanilla.logits[cal_idx], labels[cal_idx])
arm_logits = {"vanilla": vanilla.logits, "vanilla+T": vanilla.logits / T_vanilla,
              "distilled": distilled.logits, GRID_PICK: sets[GRID_PICK].logits}
arms_df = metrics.as_frame({name: metrics.evaluate(z[eval_idx], labels[eval_idx], tiers[eval_idx])
                            for name, z in arm_logits.items()})[["macro_f1", "ece", "nll", "f1_tail"]]
print(f"T fitted on the cal half: {T_vanilla:.3f}")
show(arms_df, f"Four arms on the eval half (scenario {SCENARIO})")
points = pd.concat([arms_df[["nll", "ece"]], grid_df.drop(index=GRID_PICK, errors="ignore")[["nll", "ece"]]])
showfig(plots.ece_nll_scatter(points, source=SOURCE, arrows_from="vanilla"))
"""),
code("""
require("prior_best_recipe")
best = deploy.best_arm(arms_df, SCENARIO)
if SCENARIO == "B" and not (arms_df["ece"] <= 0.05).any():
    best = "none"
observe("prior_best_recipe", "grid" if str(best).startswith("grid_") else best)
"""),
md("""
**Reconcile with your prior.** Which recipe won your scenario's metric, by how much, and is the margin
bigger than the noise? What, specifically, did your prior get wrong or right?
"""),
manual("hw_reconcile_prior", 4, """
I expected vanilla + T; distilled won on NLL among the arms under the ECE cap, by about 0.1 nats, which is
far larger than the run-to-run noise of a mean over 3,215 rows. I was right that T-scaling meets the ECE cap
and wrong that NLL would follow: one global temperature cannot reshape the wrong-class mass per example.
"""),

# ------------------------------------------------------------------ Part 3
md("""
## Part 3: two claims from the literature

### Test A (Stanton et al. 2021): does the student match the teacher?

Write `per_tier_js(p, q, tiers)`.

* `p`, `q`: probability arrays of shape `(n, n_classes)`; `tiers`: strings `(n,)`.
* Clip both to `[1e-12, 1]`, let `m = (p + q) / 2`, and per row
  `JS = 0.5 * sum(p * log(p / m)) + 0.5 * sum(q * log(q / m))` (natural log, so JS is in [0, ln 2]).
* **Return** a `dict` mapping each tier present to the mean JS over that tier's rows, as a Python `float`.
"""),
solution("""
def per_tier_js(p, q, tiers):
    \"\"\"Mean Jensen-Shannon divergence between rows of p and q, per tier -> {tier: float}.\"\"\"
    ### BEGIN SOLUTION
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-12, 1.0)
    q = np.clip(np.asarray(q, dtype=np.float64), 1e-12, 1.0)
    tiers = np.asarray(tiers).astype(str)
    m = 0.5 * (p + q)
    js = 0.5 * (p * np.log(p / m)).sum(axis=1) + 0.5 * (q * np.log(q / m)).sum(axis=1)
    return {t: float(js[tiers == t].mean()) for t in ("head", "mid", "tail") if (tiers == t).any()}
    ### END SOLUTION
""", "hw_per_tier_js_answer"),
code("""
# Sanity check (not graded): identical distributions have JS 0; disjoint one-hots have ln 2.
toy = per_tier_js(np.array([[1.0, 0.0], [0.5, 0.5]]), np.array([[0.0, 1.0], [0.5, 0.5]]), np.array(["head", "tail"]))
print(toy)
assert abs(toy["head"] - np.log(2)) < 1e-6 and abs(toy["tail"]) < 1e-9
"""),
hidden_test("hw_per_tier_js", 2, "per-tier Jensen-Shannon divergence"),
code("""
js_df = pd.DataFrame({"teacher vs vanilla": per_tier_js(teacher.probs, vanilla.probs, tiers),
                      "teacher vs distilled": per_tier_js(teacher.probs, distilled.probs, tiers)}).loc[list(TIERS)]
js_df["reduction"] = 1 - js_df["teacher vs distilled"] / js_df["teacher vs vanilla"]
show(js_df, "Test A: JS divergence to the teacher (full validation set)")
"""),
md(f"""
{C("js_distilled_closer_every_tier")}The distilled student is closer to the teacher on every tier, but the
reduction shrinks down the tail: {R("js_reduction_head", ".0%")} on the head, {R("js_reduction_mid", ".0%")}
on the mid tier and {R("js_reduction_tail", ".0%")} on the tail.
"""),
manual("hw_test_a", 4, """
Supported: KD moves the student toward the teacher on every tier, yet the remaining JS divergence is far
from zero, and the largest gap is on the tail, where the teacher's targets are flattest and the student has
the fewest examples to fit them. Matching the teacher's distribution is an optimisation the student only
partly achieves, as Stanton et al. found.
"""),
md("""
### Test B (Han Guo et al. 2021): is KD a calibration regularizer that T-scaling reproduces?

Write `reproducible_fraction(ece_vanilla, ece_vanilla_t, ece_distilled)`: the share of KD's ECE gain
that temperature scaling reproduces. **Return** the float
`(ece_vanilla - ece_vanilla_t) / (ece_vanilla - ece_distilled)` (above 1 means T-scaling did better than KD).
"""),
solution("""
def reproducible_fraction(ece_vanilla, ece_vanilla_t, ece_distilled):
    \"\"\"T-scaling's ECE gain as a fraction of KD's ECE gain -> float.\"\"\"
    ### BEGIN SOLUTION
    return float((ece_vanilla - ece_vanilla_t) / (ece_vanilla - ece_distilled))
    ### END SOLUTION
""", "hw_reproducible_fraction_answer"),
code("""
assert abs(reproducible_fraction(0.13, 0.03, 0.05) - 1.25) < 1e-12   # sanity check (not graded)
"""),
hidden_test("hw_reproducible_fraction", 1, "the share of KD's ECE gain that temperature scaling reproduces"),
code("""
frac = reproducible_fraction(arms_df.loc["vanilla", "ece"], arms_df.loc["vanilla+T", "ece"], arms_df.loc["distilled", "ece"])
print(f"T-scaling reproduces {frac:.0%} of KD's ECE gain on the eval half (Han Guo et al. report about 111%).")
show(arms_df.loc[["vanilla", "vanilla+T", "distilled"], ["ece", "nll"]], "Test B: three arms on the eval half")
"""),
md(f"""
On the eval half T-scaling cuts ECE by {R("ece_gain_t", ".4f")} and KD by {R("ece_gain_kd", ".4f")}: a
reproducible fraction of {R("repro_fraction", ".0%")}. {C("repro_fraction_above_one")}{C("kd_wins_nll")}But
KD keeps the lower NLL ({R("eval_distilled_nll")} against {R("eval_vanilla_t_nll")}).

Is the NLL gap real? Write the **paired bootstrap** yourself this time (the lab gave you the course's; same
protocol).
`paired_bootstrap_ci(score_fn, arm_a, arm_b, labels, n_resamples=1000, seed=42)`: one
`np.random.RandomState(seed)`; per resample `idx = rng.randint(0, n, size=n)`, the same `idx` for both arms;
delta = `score_fn(arm_b[idx], labels[idx]) - score_fn(arm_a[idx], labels[idx])`. **Return** a `dict` with
float `median`, `ci_low` (2.5%), `ci_high` (97.5%) and bool `excludes_zero`.
"""),
solution(BOOTSTRAP_CI, "hw_bootstrap_ci_answer"),
hidden_test("hw_bootstrap_ci", 3, "a paired bootstrap CI applied to an ECE or NLL delta"),
code("""
# The bootstrap only needs what the score needs per row: p(true class) for NLL,
# (confidence, correct) for ECE. That keeps 1,000 resamples to a second.
y_ev = labels[eval_idx]
p_ev = {name: metrics.softmax(z[eval_idx]) for name, z in arm_logits.items()}
p_true = {k: p[np.arange(len(y_ev)), y_ev] for k, p in p_ev.items()}
conf_correct = {k: np.column_stack([p.max(axis=1), p.argmax(axis=1) == y_ev]) for k, p in p_ev.items()}

def nll_score(pt, y):
    return float(-np.log(np.clip(pt, 1e-12, 1.0)).mean())

def ece_score(cc, y, n_bins=15):
    conf, correct = cc[:, 0], cc[:, 1]
    b = np.clip(np.ceil(conf * n_bins).astype(int) - 1, 0, n_bins - 1)   # (lo, hi] bins
    gaps = np.bincount(b, correct - conf, minlength=n_bins)
    return float(np.abs(gaps).sum() / len(conf))

test_b = pd.DataFrame({
    "NLL: distilled - vanilla+T": paired_bootstrap_ci(nll_score, p_true["vanilla+T"], p_true["distilled"], y_ev),
    "ECE: distilled - vanilla+T": paired_bootstrap_ci(ece_score, conf_correct["vanilla+T"], conf_correct["distilled"], y_ev),
}).T
show(test_b, "Test B: paired bootstrap on the eval half")
"""),
manual("hw_test_b", 4, """
ECE only asks whether top-1 confidence matches accuracy, and a single global temperature is exactly the
operation that aligns those two, so T-scaling reproduces (and here exceeds) KD's ECE gain. NLL scores the
probability of the true class, which depends on how the mass is spread over the wrong classes on each row.
T-scaling rescales every row the same way and cannot move mass from one wrong class to another; KD learned
that per-example shape from the teacher. So Han Guo's claim holds for ECE and fails for NLL here.
"""),

# ------------------------------------------------------------------ Part 4
md("""
## Part 4: coverage carry-overs and the memo

Write `coverage_table(probs, labels, thresholds=(0.5, 0.6, 0.7, 0.8, 0.9))` again (same contract as the
lab): covered rows have top-1 confidence `>= T`; **return** a DataFrame with exactly the columns
`threshold`, `coverage`, `accuracy` (NaN when nothing is covered) and `n_covered` (int), one row per
threshold in order.
"""),
solution(COVERAGE_TABLE, "hw_coverage_table_answer"),
hidden_test("hw_coverage_table", 2, "the threshold / coverage table, including a threshold that covers nothing"),
md("""
Set `DEPLOY_MODEL` to the arm you would ship (a key of `arms_df`), then answer the carry-over questions in
`carry_over` from **your** table: coverage, accuracy and covered rows at threshold 0.70, and the lowest
threshold in the table whose accuracy reaches 95% (or the string `"none"`).
"""),
solution("""
### BEGIN SOLUTION
DEPLOY_MODEL = "distilled"
fine = coverage_table(p_ev[DEPLOY_MODEL], y_ev, thresholds=np.round(np.arange(0.50, 0.96, 0.05), 2))
at70 = fine[np.isclose(fine["threshold"], 0.70)].iloc[0]
reach = fine[fine["accuracy"] >= 0.95]
carry_over = {
    "coverage_at_0.70": float(at70["coverage"]),
    "accuracy_at_0.70": float(at70["accuracy"]),
    "n_covered_at_0.70": int(at70["n_covered"]),
    "lowest_threshold_95": float(reach["threshold"].iloc[0]) if len(reach) else "none",
}
### END SOLUTION
""", "hw_carry_over"),
code("""
show(fine, f"Coverage table for {DEPLOY_MODEL} on the eval half")
print(carry_over)
showfig(plots.coverage_curves(p_ev, y_ev, source=SOURCE, target_accuracy=0.95))
"""),
md(f"""
For reference, the distilled student covers {R("cov_distilled_70", ".1%")} of the eval half at 0.70 with
{R("covacc_distilled_70", ".1%")} accuracy; among the lab's thresholds it first reaches 95% accuracy at
{R("cov95_distilled")} (vanilla + T: {R("cov95_vanilla_t")}).

### The memo

Five prompts, graded by a person with the rubric's points. Cite numbers from this notebook's tables, with
CIs where you have them. Plain prose, no more than about 250 words per prompt.
"""),
    ]
    for number, (gid, points, title, prompt, answer) in enumerate(MEMO, start=1):
        out.append(md(f"**Memo {number}. {title} ({points} points).** {prompt}"))
        out.append(manual(gid, points, answer))
    return out
