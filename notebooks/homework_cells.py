"""Cells of the week 6 homework (nbgrader source).  Build with ``python notebooks/build.py``."""
from lab_cells import BOOTSTRAP_CI, COVERAGE_TABLE, C, R, reveal_cell
from nbsource import code, hidden_test, manual, md, predict, solution

PREFIX = "hw"

REVEALS = {}


def hw_reveal(name, after, text):
    return reveal_cell(name, after, text, REVEALS)


def _bands(points):
    """Point bands for a prompt worth ``points``: (label, low, high) from the top band down."""
    cuts = {15: [(14, 15), (11, 13), (7, 10), (3, 6), (0, 2)], 25: [(23, 25), (18, 22), (12, 17), (5, 11), (0, 4)],
            30: [(27, 30), (21, 26), (14, 20), (6, 13), (0, 5)]}[points]
    return cuts


# Each memo prompt: grade id, points, title, prompt, what earns each band (top to bottom; students see
# these), common misconceptions (graders), and the exemplar (graders; its numbers are reveal spans, so
# they are the solution's own numbers and stay true when the artifacts change).
MEMO = [
    ("hw_memo_1_recommendation", 25, "Recommendation",
     "Which recipe do you ship for your scenario, at which threshold (or, for C, with which aggregate), and "
     "why? Cite at least three numbers from your tables, each with its split (full validation or eval half) "
     "and its CI where you have one. Say what you give up and what would make you switch.",
     ["the shipped recipe meets the scenario's hard constraint on the eval half, is the best of the measured "
      "arms on the primary metric, and the memo says so with three or more correctly cited numbers, the cost "
      "to serve, what is given up and the switch point",
      "a defensible recipe with the constraint checked and numbers cited, but the trade-off or the switch point "
      "is vague",
      "a recipe and some numbers, but the constraint is not checked, or a number is on the wrong split",
      "a recommendation without the numbers that support it, or one that breaks the scenario's constraint",
      "no recommendation, or one that contradicts the student's own tables"],
     ["shipping the lab's distilled student for B although its eval-half ECE is above 0.05",
      "comparing ECE on the full validation set with a T fitted on part of it (the T must come from the cal half)",
      "a threshold for scenario C: it is an aggregate dashboard, nothing is routed per complaint",
      "a latency claim for A that was not measured on the serving GPU"],
     f"""{R("source_note")}{C("winner_b_meets_cap")}{C("distilled_misses_ece_cap")}{C("kd_wins_nll")}{C("winner_b_not_vanilla_t")}For scenario B I ship
**{R("winner_b")}**. Among the four arms on the eval half ({R("n_eval")} rows), only {R("b_qualifying_arms")}
meet the ECE cap of 0.05; of those, {R("winner_b")} has the lowest NLL ({R("winner_b_nll")}, ECE
{R("winner_b_ece")}, macro F1 {R("winner_b_f1")}). The lab's distilled student has the better NLL of the two
original students ({R("eval_distilled_nll")}) but misses the cap (ECE {R("eval_distilled_ece")}), so it cannot
ship. At a threshold of 0.70 {R("winner_b")} decides {R("winner_b_cov_70", ".1%")} of complaints automatically at
{R("winner_b_covacc_70", ".1%")} accuracy and sends the rest to review; it first reaches 95% accuracy at
{R("winner_b_lowest_t95")}. It costs the same to serve as vanilla (one 149M encoder); I give up a second
training run's cost. If the regulator tightened the cap below {R("winner_b_ece")}, I would switch to vanilla + T
(ECE {R("eval_vanilla_t_ece")}) and accept its worse NLL ({R("eval_vanilla_t_nll")})."""),
    ("hw_memo_2_not_fixed", 15, "What KD did not fix: task, data or method?",
     "Name what distillation did not fix on this dataset, and attribute each gap to the task (113 labels, some "
     "near-duplicates), the data (single-digit tail support) or the method (what KD can carry). Separate capacity "
     "(per-tier F1 with CIs) from calibration (ECE, NLL, JS), with a number for each.",
     ["each unfixed gap is attributed to task, data or method with a reason, capacity and calibration are "
      "separated, and every claim has a number (with a CI for F1 deltas)",
      "the attribution is right for most gaps, with numbers, but one is asserted without evidence",
      "capacity and calibration are separated but the attribution is missing or generic",
      "\"KD helped a little\" without separating what it did and did not move",
      "no attribution, or claims contradicting the tables"],
     ["reading a CI that includes zero as \"KD has no effect on the tail\" (it means: cannot tell)",
      "blaming the method for the tail when the teacher's own tail F1 sets the ceiling (data)",
      "treating a calibration gain as a capacity gain"],
     f"""{R("source_note")}{C("student_tail_below_teacher")}{C("tail_lift_in_noise")}{C("ece_improves_every_tier")}Not
fixed, data: tail F1. The teacher itself reaches only {R("teacher_f1_tail")} on the tail and both students stay
below it ({R("vanilla_f1_tail")} and {R("distilled_f1_tail")}); the tail's F1 delta is
{R("boot_f1_tail_median", "+.3f")}, CI [{R("boot_f1_tail_ci_low", "+.3f")}, {R("boot_f1_tail_ci_high", "+.3f")}],
inside the noise. A teacher cannot pass on skill that single-digit support never gave it. Not fixed, method:
the distribution match. JS to the teacher falls by only {R("js_reduction_tail", ".0%")} on the tail against
{R("js_reduction_head", ".0%")} on the head, so the student does not fully match its teacher (Stanton). Task:
merged and near-duplicate labels cap everyone's F1 alike. What KD did fix is calibration: ECE falls on every
tier, full validation {R("vanilla_ece")} to {R("distilled_ece")}."""),
    ("hw_memo_3_noise_floor", 15, "Hyperparameters versus the noise floor",
     "Does choosing T_d and alpha matter on this dataset? Compare the grid's spread on each metric with the "
     "noise floor (the width of a paired-bootstrap CI on the same rows), and say which metrics a "
     "hyperparameter choice can defend and which it cannot.",
     ["spreads and the noise floor are cited on the same split, the conclusion differs by metric (F1 inside the "
      "noise, ECE outside) and the memo names the config it would choose for its own metric",
      "the right comparison with one imprecision (a number from a different split, no CI width)",
      "a spread is reported without a noise floor, or the noise floor without a spread",
      "\"the best config is X\" from point estimates alone",
      "no comparison"],
     ["picking the F1-best grid config as if the difference were real",
      "comparing a full-validation spread with an eval-half CI",
      "concluding that hyperparameters never matter: ECE moves well outside the noise"],
     f"""{R("source_note")}{C("grid_f1_inside_noise")}{C("grid_ece_spread_real")}Across the six grid configs on the
eval half, macro F1 moves by {R("grid_f1_spread", ".4f")}, less than the {R("boot_f1_eval_ci_width", ".4f")}
width of the paired-bootstrap CI of distilled minus vanilla on the same rows: no F1 ranking inside the grid is
defensible. ECE moves by {R("grid_ece_spread", ".4f")}, which is not noise: the choice of T_d and alpha decides
calibration, not capacity. {C("grid_pick_b_meets_cap")}For scenario B that is the metric that matters, and
{R("grid_pick_b")} is the
config that meets the cap with the lowest NLL."""),
    ("hw_memo_4_next_recipe", 15, "The next recipe",
     "Pick one cross-week recipe you did not run (a quantized distilled student; vanilla + T + int8; distilled "
     "with the merged labels reverted) and predict, with a mechanism, where it would land on your scenario's "
     "metric. Name your scenario.",
     ["a recipe, a numeric prediction on the scenario's metric, a mechanism that names what the change does to "
      "logits or labels, and what measurement would falsify it",
      "a recipe and a mechanism, the prediction not numeric or not on the scenario's metric",
      "a recipe with a plausible direction but no mechanism",
      "a recipe without a prediction",
      "nothing specific"],
     ["assuming quantization changes the argmax broadly (it mostly does not; calibration drifts on the tail)",
      "predicting that reverting merged labels raises macro F1 (it adds classes with a handful of examples)"],
     f"""{R("source_note")}Scenario B, recipe: a quantized (int8) {R("winner_b")} with its temperature refitted on the
cal half after quantization. int8 keeps the argmax almost everywhere, so macro F1 stays near
{R("winner_b_f1")}; Week 5's int4 drift was on tail calibration, and a temperature refitted after quantization
absorbs a global shift but not a per-class one, so I predict ECE within 0.01 of today's {R("winner_b_ece")},
still under the 0.05 cap, and NLL a little worse than {R("winner_b_nll")}. It would be falsified by a refitted
ECE above the cap on the eval half."""),
    ("hw_memo_5_capstone", 30, "Capstone: three compressions, one ceiling",
     "This term compressed three things: the label space (classes merged and dropped, Weeks 4-5), the weights "
     "(quantization, Week 5) and the knowledge (distillation, this week). For each, say what it preserved and "
     "what it did not recover, with a number from this term. Then defend one deployment recommendation for "
     "this 113-class long-tail task and name the data ceiling explicitly: what no recipe on this data budget "
     "will buy, and what would.",
     ["all three compressions with what each preserved and did not recover, numbers from this notebook for "
      "distillation, a recommendation that follows from them, and the ceiling named with the lever that moves it",
      "the three compressions and a recommendation, one link weak or one number missing",
      "two compressions, or a recommendation not tied to them",
      "a summary of the term without a recommendation or without the ceiling",
      "generic statements about distillation"],
     ["claiming distillation broke the data ceiling (the tail stays below the teacher's)",
      "claiming scale would: the 32B teacher hits the same tail",
      "a recommendation that needs new labels while claiming the data budget is fixed, without saying so"],
     f"""{R("source_note")}{C("data_shift_beats_kd")}{C("student_tail_below_teacher")}Label compression kept 113
learnable classes and dropped the classes too rare to keep; weight compression kept accuracy at a fraction of
the memory but drifted tail calibration; knowledge compression (KD) kept the teacher's calibration shape (ECE
{R("vanilla_ece")} to {R("distilled_ece")} on full validation) but not its capacity: the F1 lift is
{R("kd_lift", "+.3f")}, while more representative data bought {R("data_shift", "+.3f")}. Every compression met the
same wall: tail classes with single-digit support, where even the teacher scores {R("teacher_f1_tail")}. I would
ship a calibrated small student ({R("winner_b")} for B) with a confidence threshold, route the rest to people, and
spend the next budget on labelling tail examples, the only lever the numbers say moves the tail."""),
]


def cells(setup_cell):
    REVEALS.clear()
    out = [
md("""
# Week 6 homework: the cheapest recipe that transfers what your scenario needs

About six hours. You will pick a deployment scenario, diagnose the teacher, build a recipe shortlist, test
two claims from the literature on your own numbers, and write a five-part memo (25 / 15 / 15 / 15 / 30 points;
each prompt shows what earns each band).

The data budget is fixed: no new labels, no new training runs beyond the precomputed grid. Every number in
your memo must come from a table in this notebook. The evaluation rows (validation, split into a **cal** half
for fitting temperatures and an **eval** half for scoring) were never trained on; keep it that way: fit
nothing on the eval half. If the set-up cell says **SYNTHETIC**, your numbers come from the embedded stand-in
data; the reasoning carries over, the values do not.

**Predict, then observe**, as in the lab: four predictions, each recorded in code before its number is
computed; each reveal cell prints its explanation only after your prediction and its observation exist.
"""),
setup_cell,
code("""
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from helpers import answers, artifacts, bootstrap, calibration, deploy, latency, metrics, plots
from helpers.predict import observe, predict, require, reveal
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

| scenario | what it is | hard constraint | primary metric |
| --- | --- | --- | --- |
| **A**: high-throughput batch triage | route every complaint to a team, automatically, at volume | under 10 ms per example **on the serving hardware** (a T4) | macro F1 |
| **B**: regulated escalation review | act on confident cases, send the rest to a human reviewer who reads the probabilities | ECE at most 0.05 on the eval half | NLL, among recipes that meet the ECE cap |
| **C**: long-tail monitoring dashboard | weekly **counts** of rare complaint types, in aggregate; no complaint is routed or decided one by one | rare classes must be caught | tail macro F1 |

Scenario C is an aggregate dashboard: it has no per-complaint threshold, so its carry-over in Part 4 reports the
table for completeness and the memo argues from tail F1 and tail calibration instead.

What each recipe costs to serve: vanilla and distilled are the same ModernBERT-base (149M parameters, inputs of
128 tokens), so they cost exactly the same per prediction; every grid config too. Temperature scaling adds one
division. KD's cost is paid once, in training (about 80 T4-minutes per student, plus the teacher's logits).

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
Scenario B gates on ECE, and the lecture said temperature scaling matches most calibration fixes. I expect
vanilla + T to meet the 0.05 cap and to be close enough on NLL; KD costs 80 minutes of T4 time per run, which I
would only pay for if its NLL were clearly better.
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
    support = synthetic.train_class_counts()       # the embedded data's training counts
else:
    # Training counts are not in the Hub artifacts; they come from the course's canonical split
    # (`python -m helpers train prepare`). Validation support orders the classes the same way.
    support = np.bincount(labels, minlength=113)
    print("x axis: validation support per class (training counts are not in the Hub artifacts)")
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
{R("source_note")}The teacher's tail F1 is {R("teacher_f1_tail")} against {R("teacher_f1_head")} on the head, and its
tail ECE {R("teacher_ece_tail")} against {R("teacher_ece_head")}. {C("teacher_tail_lowest")}

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
### The grid, against the noise floor

Six extra distilled students: $T_d \\in \\{1, 4, 8\\}$ times $\\alpha \\in \\{0.7, 0.9\\}$, all scored on the eval
half. The **noise floor** is the width of the 95% paired-bootstrap CI of distilled minus vanilla macro F1 on
the same eval-half rows: a difference smaller than that cannot be told from resampling noise.

**Predict** before you look: is the grid's macro F1 spread (max minus min over the six configs) inside the
noise floor? `"yes"` or `"no"`.
"""),
predict("grid_f1_in_noise", 'predict("grid_f1_in_noise", "yes" | "no", "<one-line reason>")',
        'predict("grid_f1_in_noise", "no", "T_d changes what the student learns, so F1 should move")'),
code("""
require("grid_f1_in_noise")
grid_df = metrics.as_frame({name: metrics.evaluate(sets[name].logits[eval_idx], labels[eval_idx], tiers[eval_idx])
                            for name in GRID})[["macro_f1", "f1_tail", "ece", "nll"]]
spread = grid_df.max() - grid_df.min()
floor = bootstrap.paired_bootstrap(vanilla.preds[eval_idx], distilled.preds[eval_idx], labels[eval_idx], None,
                                   metric="macro_f1", n_resamples=1000, seed=42).loc["all"]
noise_floor = float(floor["ci_high"] - floor["ci_low"])
observe("grid_f1_in_noise", "yes" if spread["macro_f1"] < noise_floor else "no")
show(grid_df, "The T_d x alpha grid on the eval half")
show(pd.DataFrame({"spread (max - min)": spread, "F1 noise floor (CI width)": noise_floor}),
     "Grid spread per metric vs the F1 noise floor (eval half)")
"""),
hw_reveal("grid_noise", "grid_f1_in_noise", f"""
**Reveal: the grid.** {R("source_note")}{C("grid_f1_inside_noise")}{C("grid_ece_spread_real")}On the eval half the
grid's macro F1 spread is {R("grid_f1_spread", ".4f")}, inside the noise floor of {R("boot_f1_eval_ci_width", ".4f")}:
no F1 ranking within the grid survives resampling. Its ECE spread is {R("grid_ece_spread", ".4f")}, which is
not noise. The lab's default ($T_d$ = 4, $\\alpha$ = 0.7) is not the best on every metric: choosing $T_d$ and
$\\alpha$ decides calibration here, not capacity, so pick the grid config for *your* metric.
"""),
md("""
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

Four recipes you measure (vanilla, vanilla + T, distilled and one grid config) and one wildcard you do not run.

* `GRID_PICK`: the name (a string such as `"grid_Td4_a70"`) of the grid config that best serves your scenario's
  rule in `grid_df`: A, the highest `macro_f1`; B, the lowest `nll` among configs with `ece <= 0.05` (the lowest
  `ece` if none qualifies); C, the highest `f1_tail`. `deploy.best_arm(grid_df, SCENARIO)` applies that rule.
* `wildcard`: a `dict` with exactly these keys:
  `"recipe"` (str: a recipe you do not run, for example $T_d$ = 16, $\\alpha$ = 0.5, distilled + T, or vanilla
  with label smoothing), `"predicted_macro_f1"` and `"predicted_ece"` (floats in [0, 1], on the eval half) and
  `"mechanism"` (str, at least 12 words: why it would land there). The cell after it checks the structure.
"""),
solution("""
### BEGIN SOLUTION
GRID_PICK = deploy.best_arm(grid_df, SCENARIO)
wildcard = {
    "recipe": "distilled + T (temperature fitted on the cal half)",
    "predicted_macro_f1": 0.28,
    "predicted_ece": 0.02,
    "mechanism": "T cannot change the argmax, so F1 stays at the distilled value; the distilled student is "
                 "mildly overconfident, which one global temperature removes.",
}
### END SOLUTION
""", "hw_shortlist"),
code("""
answers.check_wildcard(wildcard, measured=["vanilla", "vanilla+T", "distilled", GRID_PICK])
print(f"GRID_PICK = {GRID_PICK!r}")
assert GRID_PICK in GRID, f"GRID_PICK must be one of {GRID}, got {GRID_PICK!r}"
"""),
md("""
**The wildcard's reasoning.** In three or four sentences: where will your wildcard land relative to the four
measured arms on your scenario's metric, and by what mechanism?
"""),
manual("hw_wildcard", 3, """
Distilled + T keeps the distilled student's per-example distribution shape, which is what gives it the lower
NLL, and removes its remaining global overconfidence. I expect it to dominate both vanilla + T (on NLL) and
distilled (on ECE) for scenario B, at the cost of one more held-out fold.
"""),
md("""
**One more prediction before the arms are scored** (the table below shows their ECEs). Part 3's Test B asks how
much of KD's ECE gain over raw vanilla one fitted temperature reproduces:
`(ECE vanilla - ECE vanilla+T) / (ECE vanilla - ECE distilled)` on the eval half. Predict that share (a number;
1.0 means "all of KD's gain", above 1 means temperature scaling did better than KD).
"""),
predict("t_share_of_kd_ece_gain", 'predict("t_share_of_kd_ece_gain", <a number in [0, 5]>, "<one-line reason>")',
        'predict("t_share_of_kd_ece_gain", 0.8, "one scalar should get most, not all, of what a teacher teaches")'),
code("""
# OBSERVE your prior: the four arms on the eval half, and the one your scenario's rule picks.
require("prior_best_recipe")
require("t_share_of_kd_ece_gain")    # the table shows the ECEs Test B's share is computed from
T_vanilla = fit_temperature(vanilla.logits[cal_idx], labels[cal_idx])
arm_logits = {"vanilla": vanilla.logits, "vanilla+T": vanilla.logits / T_vanilla,
              "distilled": distilled.logits, GRID_PICK: sets[GRID_PICK].logits}
arms_df = metrics.as_frame({name: metrics.evaluate(z[eval_idx], labels[eval_idx], tiers[eval_idx])
                            for name, z in arm_logits.items()})[["macro_f1", "ece", "nll", "f1_tail"]]
best = deploy.best_arm(arms_df, SCENARIO)
if SCENARIO == "B" and not (arms_df["ece"] <= 0.05).any():
    best = "none"
observe("prior_best_recipe", "grid" if str(best).startswith("grid_") else best)
print(f"T fitted on the cal half: {T_vanilla:.3f}; best arm for scenario {SCENARIO}: {best}")
show(arms_df, f"Four arms on the eval half (scenario {SCENARIO})")
points = pd.concat([arms_df[["nll", "ece"]], grid_df.drop(index=GRID_PICK, errors="ignore")[["nll", "ece"]]])
showfig(plots.ece_nll_scatter(points, source=SOURCE, arrows_from="vanilla"))
"""),
md("""
**Reconcile with your prior.** Which recipe won your scenario's metric, by how much, and is the margin
bigger than the noise? What, specifically, did your prior get wrong or right?
"""),
manual("hw_reconcile_prior", 4, f"""
{R("source_note")}{C("winner_b_meets_cap")}{C("distilled_misses_ece_cap")}{C("winner_b_nll_margin_real")}I expected
vanilla + T; {R("winner_b")} won: of the arms under the 0.05 ECE cap ({R("b_qualifying_arms")}) it has the lowest
NLL, {R("winner_b_nll")} against {R("eval_vanilla_t_nll")} for vanilla + T. The margin is outside the noise: a paired
bootstrap of the NLL delta over the {R("n_eval")} eval rows gives CI [{R("boot_nll_winner_vs_vt_ci_low", "+.3f")},
{R("boot_nll_winner_vs_vt_ci_high", "+.3f")}]. The lab's distilled student has ECE {R("eval_distilled_ece")} and misses the cap. I was right
that T-scaling meets the cap (ECE {R("eval_vanilla_t_ece")}) and wrong that NLL would follow: one global
temperature cannot reshape the wrong-class mass per example, and a distilled config that is calibrated enough
keeps that advantage.
"""),
md("""
### Scenario A's constraint: latency on the serving hardware

Scenario A promises under 10 ms per example **on the serving hardware**. The cell below measures the student's
own architecture (ModernBERT-base with a 113-way head, 128 tokens, fp16) on this machine's GPU when there is
one. Without a GPU it prints what to measure instead and why: a CPU number, or the speed of a smaller stand-in
model, says nothing about the student on a T4, so no number is shown. Vanilla, distilled and every grid config
share the architecture, so one measurement covers them all. (Scenarios B and C can skip reading this.)
"""),
code("""
try:
    latency_df = latency.measure()        # needs a GPU and the Hub (Kaggle: turn on GPU T4 x1 and internet)
    show(latency_df, "Student forward pass on this GPU")
except latency.LatencyUnavailable as why:
    latency_df = None
    print(why)
except OSError as err:                   # no Hub access: the architecture could not be downloaded
    latency_df = None
    print(f"Could not load {latency.STUDENT} ({type(err).__name__}); no latency number. "
          + latency.WHY_SERVING_HARDWARE)
"""),

# ------------------------------------------------------------------ Part 3
md("""
## Part 3: two claims from the literature

### Test A (Stanton et al. 2021): does the student match the teacher?

Stanton et al. found that distilled students do not fully match their teachers' distributions, even when they
could. Measure it per tier with the Jensen-Shannon divergence between the teacher's and each student's
probabilities.

**Predict** first: on which tier does distillation close the **least** of the JS gap to the teacher (the
smallest relative reduction, `1 - JS(teacher, distilled) / JS(teacher, vanilla)`)? `"head"`, `"mid"` or
`"tail"`.
"""),
predict("js_least_reduced_tier", 'predict("js_least_reduced_tier", "head" | "mid" | "tail", "<one-line reason>")',
        'predict("js_least_reduced_tier", "tail", "the teacher is flattest and least reliable on the tail")'),
md("""
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
require("js_least_reduced_tier")
js_df = pd.DataFrame({"teacher vs vanilla": per_tier_js(teacher.probs, vanilla.probs, tiers),
                      "teacher vs distilled": per_tier_js(teacher.probs, distilled.probs, tiers)}).loc[list(TIERS)]
js_df["reduction"] = 1 - js_df["teacher vs distilled"] / js_df["teacher vs vanilla"]
observe("js_least_reduced_tier", js_df["reduction"].idxmin())
show(js_df, "Test A: JS divergence to the teacher (full validation set)")
"""),
md("""
**Test A, your answer (4 points).** Does your table support, qualify or contradict Stanton et al.'s claim?
Cite the per-tier JS values and reductions, say on which tier the student stays furthest from its teacher, and
give a mechanism for why that tier. Then the hard-label question: Busbridge et al. (2025, sec. E.8) trained the
same student on the same data with the teacher's full distribution (student ECE 0.1-0.6%) or only its top-1
label (student ECE 22-39%). Which of the two did this week's distilled student get, and what does your JS table
say a hard-label student would have lost?
"""),
manual("hw_test_a", 4, f"""
{R("source_note")}{C("js_distilled_closer_every_tier")}{C("js_gap_least_closed_on_tail")}Supported: KD moves the
student toward the teacher on every tier (JS reduction {R("js_reduction_head", ".0%")} head,
{R("js_reduction_mid", ".0%")} mid, {R("js_reduction_tail", ".0%")} tail), yet the remaining divergence is far from
zero, and the student stays furthest from its teacher on the {R("js_least_reduced_tier")}, where the teacher's
targets are flattest and the student has the fewest examples to fit them. This week's student got the full
distribution (Hinton-style KD over all 113 classes). A top-1 (hard-label) student sees only the argmax, so it
would have learned none of the shape that the JS reduction measures; Busbridge's 0.1-0.6% versus 22-39% ECE is
that loss at scale.
"""),
hw_reveal("test_a", "js_least_reduced_tier", f"""
**Reveal: Test A.** {R("source_note")}{C("js_distilled_closer_every_tier")}The distilled student is closer to the
teacher on every tier, but the reduction shrinks down the tail: {R("js_reduction_head", ".0%")} on the head,
{R("js_reduction_mid", ".0%")} on the mid tier and {R("js_reduction_tail", ".0%")} on the tail. The student matches
its teacher least where the teacher's targets carry the most spread and the data the least support: Stanton's
claim, measured per tier.
"""),
md("""
### Test B (Han Guo et al. 2021): is KD a calibration regularizer that T-scaling reproduces?

Write `reproducible_fraction(ece_vanilla, ece_vanilla_t, ece_distilled)`: the share of KD's ECE gain
that temperature scaling reproduces. **Return** the float
`(ece_vanilla - ece_vanilla_t) / (ece_vanilla - ece_distilled)` (above 1 means T-scaling did better than KD).
You recorded your prediction of this share before the four arms were scored.
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
require("t_share_of_kd_ece_gain")
frac = reproducible_fraction(arms_df.loc["vanilla", "ece"], arms_df.loc["vanilla+T", "ece"], arms_df.loc["distilled", "ece"])
observe("t_share_of_kd_ece_gain", frac)
print(f"T-scaling reproduces {frac:.0%} of KD's ECE gain on the eval half.")
show(arms_df.loc[["vanilla", "vanilla+T", "distilled"], ["ece", "nll"]], "Test B: three arms on the eval half")
"""),
md("""
Is the NLL gap between distilled and vanilla + T real? Write the **paired bootstrap** yourself this time (the
lab gave you the course's; same protocol).
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
md("""
**Test B, your answer (4 points).** (1) What share of KD's ECE gain does temperature scaling reproduce on your
eval half, and is the ECE difference between distilled and vanilla + T outside the noise (cite the CI)? (2) Han
Guo et al. report "about 111%". Their ratio answers a different question: they temperature-scaled the *teacher*,
distilled it, and asked how much of the teacher's calibration improvement the *student* inherited. Say what your
ratio divides by what, and why the two numbers are not a replication or a contradiction of each other. (3) Why
does NLL not follow ECE here? Give the mechanism in terms of what one global temperature can and cannot change.
"""),
manual("hw_test_b", 4, f"""
{R("source_note")}{C("repro_fraction_above_one")}{C("kd_wins_nll")}{C("distilled_ece_gap_real")}{C("distilled_nll_gap_real")}(1)
T-scaling cuts ECE by {R("ece_gain_t", ".4f")} and KD by {R("ece_gain_kd", ".4f")}: it reproduces
{R("repro_fraction", ".0%")} of KD's gain, and the ECE delta (distilled minus vanilla + T) is outside the noise, CI
[{R("boot_ece_distilled_vs_vt_ci_low", "+.3f")}, {R("boot_ece_distilled_vs_vt_ci_high", "+.3f")}]. (2) My ratio divides one fitted temperature's ECE gain on the vanilla student by KD's
ECE gain, both from the same raw vanilla on the same eval half; Han Guo's 111% divides the student's inherited
calibration gain by a temperature-scaled teacher's own gain. Different numerators, denominators and models: the
two percentages measure different things, so neither confirms nor refutes the other. (3) ECE only asks whether
top-1 confidence matches accuracy, and a global temperature is exactly the operation that aligns those two. NLL
scores the probability of the true class, which depends on how the mass is spread over the wrong classes on each
row; T rescales every row the same way and cannot move mass from one wrong class to another, which KD learned
from the teacher. So KD keeps the lower NLL ({R("eval_distilled_nll")} against {R("eval_vanilla_t_nll")}, delta CI
[{R("boot_nll_distilled_vs_vt_ci_low", "+.3f")}, {R("boot_nll_distilled_vs_vt_ci_high", "+.3f")}]).
"""),
hw_reveal("test_b", "t_share_of_kd_ece_gain", f"""
**Reveal: Test B.** {R("source_note")}{C("repro_fraction_above_one")}{C("kd_wins_nll")}On the eval half T-scaling cuts
ECE by {R("ece_gain_t", ".4f")} and KD by {R("ece_gain_kd", ".4f")}: a reproducible fraction of
{R("repro_fraction", ".0%")}, more than all of KD's gain. NLL goes the other way: distilled {R("eval_distilled_nll")}
against vanilla + T {R("eval_vanilla_t_nll")}. Han Guo's claim holds for top-1 calibration and fails for the full
distribution; their "about 111%" measures inheritance from a calibrated teacher, not this direct comparison.
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
Now three names, each used by the cells after this one:

* `DEPLOY_MODEL`: the arm you ship, a row name of `arms_df` (your scenario's winner, or your argued exception).
* `fine`: `coverage_table(p_ev[DEPLOY_MODEL], y_ev, thresholds=answers.FINE_THRESHOLDS)`, your model's table on
  the eval half at the ten thresholds 0.50, 0.55, ..., 0.95.
* `carry_over`: a `dict` with exactly these keys, each read from `fine`:
  `"model"` (str, `DEPLOY_MODEL`); `"coverage_at_0.70"` and `"accuracy_at_0.70"` (floats in [0, 1]);
  `"n_covered_at_0.70"` (int); `"lowest_threshold_95"`: the **lowest threshold in `fine`** whose accuracy is
  **at least 0.95** (a float such as `0.9`; a threshold that covers nothing has NaN accuracy and never reaches),
  or the string `"none"` when no threshold in `fine` reaches 0.95.

For scenario C (no per-complaint threshold) fill them in all the same: the memo says why the dashboard does not
use them.
"""),
solution("""
### BEGIN SOLUTION
DEPLOY_MODEL = best
fine = coverage_table(p_ev[DEPLOY_MODEL], y_ev, thresholds=answers.FINE_THRESHOLDS)
at70 = fine[np.isclose(fine["threshold"], 0.70)].iloc[0]
carry_over = {
    "model": DEPLOY_MODEL,
    "coverage_at_0.70": float(at70["coverage"]),
    "accuracy_at_0.70": float(at70["accuracy"]),
    "n_covered_at_0.70": int(at70["n_covered"]),
    "lowest_threshold_95": answers.lowest_threshold_reaching(fine),
}
### END SOLUTION
""", "hw_carry_over"),
code("""
answers.check_carry_over(carry_over, fine, arms=arms_df.index)
show(fine, f"Coverage table for {DEPLOY_MODEL} on the eval half")
showfig(plots.coverage_curves(p_ev, y_ev, source=SOURCE, target_accuracy=0.95))
"""),
md("""
### The memo

Five prompts, graded by a person with the points shown. Cite numbers from this notebook's tables, with
CIs where you have them. Plain prose, no more than about 250 words per prompt. Under each prompt, the bands say
what earns which points; the graders also flag common misconceptions.
"""),
    ]
    for number, (gid, points, title, prompt, bands, misconceptions, exemplar) in enumerate(MEMO, start=1):
        band_rows = "\n".join(f"| {lo}-{hi} | {what} |" for (lo, hi), what in zip(_bands(points), bands))
        out.append(md(f"**Memo {number}. {title} ({points} points).** {prompt}\n\n"
                      f"| points | what earns them |\n| --- | --- |\n{band_rows}"))
        flags = "\n".join(f"* {m}" for m in misconceptions)
        out.append(manual(gid, points, f"{exemplar}\n\n**For graders: misconceptions to flag.**\n\n{flags}"))
    return out
