"""Cells of the week 6 lab (nbgrader source).  Build with ``python notebooks/build.py``.

Markdown spans ``R("key")`` are reveal numbers: ``python -m helpers reveals``
fills them from the artifacts.  ``C("name")`` marks a qualitative claim that
``helpers.reveals.CLAIMS`` checks against the same facts.

A reveal (the answer to a prediction) never sits in a notebook cell, where a
student could read it before predicting: ``reveal_cell`` puts a locked
``reveal("name")`` call in the notebook and its text in :data:`REVEALS`, which
``build.py`` writes to ``helpers/reveal_text.md`` (shipped with helpers,
rendered and claim-checked by ``python -m helpers reveals`` like the cells).
``helpers.predict.reveal`` shows it only after the prediction is recorded and
observed.
"""
from nbsource import code, hidden_test, manual, md, predict, solution

PREFIX = "lab"

#: name -> (prediction keys the reveal answers, markdown); build.py writes them to helpers/reveal_text.md.
REVEALS = {}


def reveal_cell(name, after, text, registry=None):
    """A locked cell that shows reveal ``name`` once the predictions in ``after`` are observed."""
    after = (after,) if isinstance(after, str) else tuple(after)
    (REVEALS if registry is None else registry)[name] = (after, text.strip("\n"))
    return code(f"""
# REVEAL: shown only after your prediction is recorded and observed. Write your reconciliation first.
reveal("{name}")
""")


def R(key, fmt=None):
    fmt = f":{fmt}" if fmt else ""
    return f"<!-- reveal:{key}{fmt} -->?<!-- /reveal -->"


def C(name):
    return f"<!-- claim:{name} -->"


# Model solutions the homework shares: the paired bootstrap (given in the lab, written from
# scratch in the homework's Part 3) and the coverage table (lab 3c, homework Part 4).
BOOTSTRAP_CI = """
def paired_bootstrap_ci(score_fn, arm_a, arm_b, labels, n_resamples=1000, seed=42):
    \"\"\"Paired bootstrap of score(b) - score(a) -> {median, ci_low, ci_high, excludes_zero}.\"\"\"
    ### BEGIN SOLUTION
    arm_a, arm_b, labels = np.asarray(arm_a), np.asarray(arm_b), np.asarray(labels)
    n = len(labels)
    rng = np.random.RandomState(seed)
    deltas = np.empty(n_resamples)
    for r in range(n_resamples):
        idx = rng.randint(0, n, size=n)      # the same rows for both arms
        deltas[r] = score_fn(arm_b[idx], labels[idx]) - score_fn(arm_a[idx], labels[idx])
    ci_low, median, ci_high = np.quantile(deltas, [0.025, 0.5, 0.975])
    return {"median": float(median), "ci_low": float(ci_low), "ci_high": float(ci_high),
            "excludes_zero": bool(ci_low > 0 or ci_high < 0)}
    ### END SOLUTION
"""

COVERAGE_TABLE = """
def coverage_table(probs, labels, thresholds=(0.5, 0.6, 0.7, 0.8, 0.9)):
    \"\"\"Coverage and accuracy above each confidence threshold -> DataFrame.\"\"\"
    ### BEGIN SOLUTION
    probs, labels = np.asarray(probs, dtype=np.float64), np.asarray(labels)
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    rows = []
    for T in thresholds:
        covered = conf >= T
        n = int(covered.sum())
        rows.append({"threshold": float(T), "coverage": n / len(labels),
                     "accuracy": float(correct[covered].mean()) if n else float("nan"), "n_covered": n})
    return pd.DataFrame(rows, columns=["threshold", "coverage", "accuracy", "n_covered"])
    ### END SOLUTION
"""


def cells(setup_cell):
    return [
md("""
# Week 6 lab: what does distillation actually transfer?

A 32B teacher (Qwen3-32B + LoRA, temperature-scaled) and two ModernBERT-base students trained on the
same data with the same seed: **vanilla** (cross-entropy on the hard labels) and **distilled**
(KD with $T_d = 4$, $\\alpha = 0.7$). Only the loss differs. You will measure, per frequency tier, what
the distilled student took from the teacher and what it did not.

**Three acts, about 80 minutes.** Act 1 (about 20 min): the teacher. Act 2 (about 30 min): the KD loss, a
bug hunt, and the per-tier comparison. Act 3 (about 30 min): synthesis tables, thresholds, and one
deployment decision.

**Predict, then observe.** Four times you will record a prediction *in code* before the number is
computed. The observing cell refuses to show anything until your prediction exists. Then write a short
reconciliation, and only then run the reveal cell: it prints the explanation once your prediction and
observation exist, and refuses before. Specific corrections earn credit; lucky guesses do not.

**Cells you edit** say *YOUR CODE HERE* or *YOUR ANSWER HERE*. Every function cell says exactly what to
return. Grey autograder cells run your functions on fixed inputs; leave them in place.

If the set-up cell below says **SYNTHETIC**, you are on the embedded stand-in data (no Hub access): the
story holds, the numbers are not the course's, and every table and figure says so.
"""),
setup_cell,
md("""
> **Instructor notes (for the instructor and TAs; students can skip this cell).** Time budget for the
> 80-minute session, tested on the solution path:
>
> | part | minutes |
> | --- | ---: |
> | Act 1: set-up and tier support | 3 |
> | Act 1: prediction 1, `per_tier_f1`, reconcile | 8 |
> | Act 1: teacher's distribution, prediction 2 | 5 |
> | Act 1: teacher calibration (read only) | 4 |
> | Act 2: `kd_loss_fn` | 10 |
> | Act 2: bug hunt (statements, fix in place, three explanations) | 10 |
> | Act 2: one batch, CE vs KD (read only) | 2 |
> | Act 2: students, prediction 3, the given bootstrap used and read | 5 |
> | Act 2: prediction 4, `per_tier_ece`, mechanism | 3 |
> | Act 3: 3a data confound, 3b calibration (read only) | 8 |
> | Act 3: 3c `coverage_table` | 7 |
> | Act 3: 3d deployment artifact and its reasoning | 10 |
> | Act 3: memo prompts M1, M2 | 5 |
> | **total** | **80** |
>
> The paired bootstrap is given (`helpers.bootstrap.paired_bootstrap`); writing one is homework. If the
> class runs late, M1 and M2 move to the homework; the autograded cells stay.
""", "lab_instructor_notes"),
code("""
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from helpers import artifacts, bootstrap, calibration, deploy, kd, metrics, plots
from helpers.predict import observe, predict, require, reveal
from helpers.bootstrap import lift_pattern
from helpers.course import WEEK1_BASELINE_F1
from helpers.setup_env import label, show, showfig

SOURCE = ENV.source
TIERS = ("head", "mid", "tail")
teacher = artifacts.load("teacher_val", SOURCE)
labels, tiers = teacher.labels, teacher.tiers
print(teacher, "|", {t: int((tiers == t).sum()) for t in TIERS}, "validation rows per tier")
"""),

# ------------------------------------------------------------------ Act 1
md(f"""
## Act 1: the teacher

{R("source_note")}The validation set has {R("n_val")} examples and 113 classes, sorted into tiers by how often
each class appears in training: **head** = the 20 most frequent classes, **mid** = the next 40, **tail** =
the remaining 53.

**The split you evaluate on is never trained on.** The teacher and both students trained on the course's
train and test splits combined (79,278 examples); every number today is measured on the validation rows,
which none of them saw. A model scored on rows it trained on reports memory, not skill, and on a long tail
the difference is largest exactly where it matters: a tail class with four training rows is "perfect" on
those four.

Start by looking at how much data each tier has: per-class **training** counts are the anchor for your first
prediction.
"""),
code("""
class_tier = pd.Series(tiers).groupby(labels).first()          # class id -> its tier
support = pd.DataFrame({
    "classes": class_tier.value_counts(),
    "val_rows": pd.Series(tiers).value_counts(),
    "median_val_rows_per_class": pd.Series(labels).value_counts().groupby(class_tier).median(),
}).loc[list(TIERS)]
from pathlib import Path
prepared = Path("out/course_data/train_test.jsonl")   # written by `python -m helpers train prepare`
if SOURCE == "synthetic":
    # The embedded data carries its own training counts (train + test, 79,278 rows).
    from helpers import synthetic
    counts = pd.Series(synthetic.train_class_counts())
elif prepared.is_file():
    # The canonical training split, rebuilt from the course repository's data/ folder.
    counts = pd.read_json(prepared, lines=True)["label"].value_counts()
else:
    counts = None
    print("Per-class training counts are not part of the Hub artifacts (they hold predictions only). They come "
          "from the course's canonical split: the rows listed in the course repository's data/train_indices.json "
          "plus the dataset's whole test split, labels merged with data/label_merge_mapping.json "
          "(`python -m helpers train prepare` rebuilds it). The lecture's figure: most tail classes have "
          "single-digit training support. The validation counts below order the classes the same way.")
if counts is not None:
    support["train_examples"] = counts.groupby(class_tier).sum()
    support["median_train_examples_per_class"] = counts.groupby(class_tier).median()
show(support, "Training and validation support per tier")
"""),
md("""
### Prediction 1 of 4: the teacher's tail F1

The teacher is a 32-billion-parameter model, fine-tuned on the same data and calibrated afterwards. What
macro F1 does it reach on the 53 tail classes? Anchor on the table above: how many training examples does a
typical tail class have, and what can any model learn from that many? Record a number between 0 and 1, and
one line on why.
"""),
predict("teacher_tail_f1", 'predict("teacher_tail_f1", <a number in [0, 1]>, "<one-line reason>")',
        'predict("teacher_tail_f1", 0.35, "32B parameters help, but a handful of examples per class is very little")'),
md("""
### Per-tier macro F1

Write `per_tier_f1(labels, preds, tiers)`.

* `labels`, `preds`: integer arrays of shape `(n,)`; `tiers`: string array of shape `(n,)` with values
  `"head"`, `"mid"`, `"tail"`.
* For each tier present, keep that tier's rows and compute **macro F1 over that tier's label set** (the
  classes that occur in those rows' `labels`). A class's F1 is `2 TP / (2 TP + FP + FN)`, and 0 when the
  denominator is 0. A prediction of a class from another tier is simply a miss.
* **Return** a `dict` mapping each tier name to a Python `float`, e.g. `{"head": 0.61, "mid": 0.42, "tail": 0.18}`.

Use numpy; do not call `helpers` here.
"""),
solution("""
def per_tier_f1(labels, preds, tiers):
    \"\"\"Macro F1 per tier, over that tier's label set -> {tier: float}.\"\"\"
    ### BEGIN SOLUTION
    labels, preds = np.asarray(labels), np.asarray(preds)
    tiers = np.asarray(tiers).astype(str)
    out = {}
    for tier in ("head", "mid", "tail"):
        rows = tiers == tier
        if not rows.any():
            continue
        y, p = labels[rows], preds[rows]
        f1s = []
        for c in np.unique(y):
            tp = np.sum((y == c) & (p == c))
            fp = np.sum((y != c) & (p == c))
            fn = np.sum((y == c) & (p != c))
            denom = 2 * tp + fp + fn
            f1s.append(2 * tp / denom if denom else 0.0)
        out[tier] = float(np.mean(f1s))
    return out
    ### END SOLUTION
""", "lab_per_tier_f1_answer"),
code("""
# Sanity check (not graded): a toy case you can verify by hand.
toy = per_tier_f1(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 2]), np.array(["head", "head", "head", "tail"]))
print(toy)   # head: class 0 F1 = 2/3, class 1 F1 = 2/3 -> 0.667; tail: 1.0
assert set(toy) == {"head", "tail"} and abs(toy["head"] - 2 / 3) < 1e-9 and abs(toy["tail"] - 1.0) < 1e-9
"""),
hidden_test("lab_per_tier_f1", 2, "per-tier macro F1 over each tier's label set"),
code("""
# OBSERVE: refuses to show anything until your prediction is recorded.
require("teacher_tail_f1")
teacher_f1 = per_tier_f1(labels, teacher.preds, tiers)
observe("teacher_tail_f1", teacher_f1["tail"])
show(pd.DataFrame([teacher_f1], index=["teacher"]), "Teacher macro F1 per tier")
"""),
md("""
**Reconcile (before you open the reveal).** How far off was your prediction, and in which direction?
Name one specific reason in the data (not in the model) that explains the gap.
"""),
manual("lab_reconcile_teacher_tail_f1", 1, f"""
{R("source_note")}I predicted 0.35 and the teacher reached {R("teacher_f1_tail")} on the tail, against
{R("teacher_f1_mid")} on the mid tier. {C("teacher_tail_lowest")}I gave the model's size too much weight: most
tail classes have single-digit training support, and no amount of capacity recovers a decision boundary from
five examples. The ceiling is in the data.
"""),
reveal_cell("teacher_tail", "teacher_tail_f1", f"""
**Reveal 1.** {R("source_note")}The teacher's macro F1 is {R("teacher_f1_head")} on the head,
{R("teacher_f1_mid")} on the mid tier and only {R("teacher_f1_tail")} on the tail. {C("teacher_tail_lowest")}Even
a 32B model runs into the data ceiling on classes it saw a handful of times. The consequence for today: a
student distilled from this teacher cannot be expected to inherit tail skill the teacher does not have, so a
large tail gain from KD would be a surprise that needs checking, not a result to celebrate.
"""),
md("""
### What the teacher's distribution looks like

Distillation trains the student on the teacher's whole probability vector, not only its top class. Look
at the top five classes and the entropy (in nats; 0 means all mass on one class, $\\ln 113 \\approx 4.73$
is uniform) for the first validation example of each tier.
"""),
code("""
rows = []
for tier in TIERS:
    i = int(np.flatnonzero(tiers == tier)[0])
    p = teacher.probs[i]
    top = np.argsort(-p)[:5]
    rows.append({"tier": tier, "row": i, "true class": int(labels[i]),
                 "entropy (nats)": float(-(p * np.log(np.clip(p, 1e-12, 1))).sum()),
                 **{f"top{k + 1}": f"{c}: {p[c]:.2f}" for k, c in enumerate(top)}})
show(pd.DataFrame(rows).set_index("tier"), "Teacher top-5 probabilities, one example per tier")
"""),
md("""
### Prediction 2 of 4: which tier is most peaked?

Three examples are an anecdote. Across *all* validation rows of a tier, on which tier is the teacher's
distribution most peaked (lowest mean entropy)? Choose `"head"`, `"mid"` or `"tail"`.
"""),
predict("most_peaked_tier", 'predict("most_peaked_tier", "head" | "mid" | "tail", "<one-line reason>")',
        'predict("most_peaked_tier", "head", "more training examples give the teacher sharper evidence")'),
code("""
require("most_peaked_tier")
p = teacher.probs
shape = pd.DataFrame({
    "mean top-1 probability": pd.Series(p.max(axis=1)).groupby(tiers).mean(),
    "mean entropy (nats)": pd.Series(-(p * np.log(np.clip(p, 1e-12, 1))).sum(axis=1)).groupby(tiers).mean(),
}).loc[list(TIERS)]
observe("most_peaked_tier", shape["mean entropy (nats)"].idxmin())
show(shape, "How peaked the teacher is, per tier")
"""),
md("""
**Reconcile.** Was the most peaked tier the one you expected? What does that imply about *how much*
information the soft targets carry for head examples compared with tail examples?
"""),
manual("lab_reconcile_most_peaked_tier", 1, f"""
{R("source_note")}Yes: the {R("most_peaked_tier")} is the most peaked ({R("teacher_entropy_head", ".2f")} nats
against {R("teacher_entropy_tail", ".2f")} on the tail). {C("head_most_peaked")}Peaked targets are close to
one-hot, so on head rows the soft target adds little beyond the label; the flatter tail targets carry more
relative information, but that information is also the least reliable, because the teacher is unsure there.
"""),
reveal_cell("teacher_shape", "most_peaked_tier", f"""
**Reveal 2.** {R("source_note")}Mean entropy is {R("teacher_entropy_head", ".2f")} nats on the head, {R("teacher_entropy_mid", ".2f")} on
the mid tier and {R("teacher_entropy_tail", ".2f")} on the tail; the mean top-1 probability falls from
{R("teacher_top1_head", ".2f")} to {R("teacher_top1_tail", ".2f")}. {C("head_most_peaked")}The head is the
most peaked tier: where the teacher has seen many examples it commits, and where it has not it spreads
its mass. The soft targets that KD hands the student are therefore most informative exactly where the
teacher itself is least reliable.
"""),
md("""
### The teacher's calibration

Recompute the teacher's ECE (15 equal-width bins on top-1 confidence) and NLL on the full validation set,
overall and per tier. The teacher was temperature-scaled ($T = 1.25$) before its logits were published.
"""),
code("""
teacher_row = metrics.evaluate(teacher.logits, labels, tiers)
cal_cols = ["ece", "ece_head", "ece_mid", "ece_tail", "nll", "nll_head", "nll_mid", "nll_tail"]
show(pd.DataFrame([teacher_row], index=["teacher"])[cal_cols], "Teacher ECE and NLL (full validation set)")
"""),
md(f"""
{R("source_note")}The teacher's overall ECE is {R("teacher_ece")} and its NLL {R("teacher_nll")}: a
well-calibrated target. Notice how much larger the tail's ECE is ({R("teacher_ece_tail")}) than the head's:
the tail has only {R("n_tail")} validation rows, and a calibration estimate on a few hundred rows is noisy as
well as worse.

**Calibrate the teacher before distilling.** Kim et al. (2025) found that how well a teacher is calibrated
predicts how accurate its distilled student becomes: the student learns the teacher's probabilities, so an
overconfident teacher hands it overconfident targets. That is why this teacher was temperature-scaled
($T$ = 1.25) before its logits were published, and why a recipe that distils from a raw, overconfident
teacher starts behind.
"""),

# ------------------------------------------------------------------ Act 2
md("""
## Act 2: distillation

### The KD loss

$$\\mathcal{L}_{KD} = \\alpha \\, T_d^2 \\, \\mathrm{KL}\\big(\\sigma(t/T_d) \\,\\|\\, \\sigma(s/T_d)\\big) + (1-\\alpha)\\, \\mathrm{CE}(s, y)$$

$t$ and $s$ are the teacher's and student's logits, $\\sigma$ the softmax, $y$ the hard label. The KL
points from the teacher (the target) to the student (the approximation). Softening by $T_d$ shrinks the
soft term's gradient by $1/T_d^2$; the $T_d^2$ factor puts it back on the CE term's scale.

Write `kd_loss_fn(student_logits, teacher_logits, labels, T_d=4.0, alpha=0.7)`.

* `student_logits`, `teacher_logits`: float tensors of shape `(batch, n_classes)` (possibly float16);
  `labels`: integer tensor of shape `(batch,)`.
* Compute in float32. The teacher is a fixed target: no gradient may reach it (`.detach()`).
* KL with `F.kl_div(log-probs of the student, teacher target, reduction="batchmean")`, times `T_d**2`,
  weighted by `alpha`; plus `(1 - alpha)` times `F.cross_entropy` on the unsoftened student logits.
* **Return** a scalar (0-dimensional) float32 torch tensor that supports `.backward()`.

Write it yourself with `torch.nn.functional`; calling the course's `helpers.kd` earns no points.
"""),
solution("""
def kd_loss_fn(student_logits, teacher_logits, labels, T_d=4.0, alpha=0.7):
    \"\"\"alpha * T_d^2 * KL(teacher_T || student_T) + (1 - alpha) * CE -> scalar float32 tensor.\"\"\"
    ### BEGIN SOLUTION
    s = student_logits.float()
    t = teacher_logits.detach().float()
    # A log-probability target (log_target=True) stays finite when soft probabilities underflow.
    soft = F.kl_div(F.log_softmax(s / T_d, dim=-1), F.log_softmax(t / T_d, dim=-1),
                    reduction="batchmean", log_target=True)
    hard = F.cross_entropy(s, labels.long())
    return alpha * T_d ** 2 * soft + (1 - alpha) * hard
    ### END SOLUTION
""", "lab_kd_loss_answer"),
code("""
# Sanity checks (not graded).
g = torch.Generator().manual_seed(0)
s_demo, t_demo = torch.randn(8, 113, generator=g), torch.randn(8, 113, generator=g)
y_demo = torch.randint(0, 113, (8,), generator=g)
ce_demo = F.cross_entropy(s_demo, y_demo)
assert kd_loss_fn(s_demo, t_demo, y_demo).ndim == 0, "return a scalar tensor"
assert torch.isclose(kd_loss_fn(s_demo, t_demo, y_demo, alpha=0.0), ce_demo), "alpha = 0 must give plain CE"
assert torch.isclose(kd_loss_fn(s_demo, s_demo, y_demo, alpha=1.0), torch.tensor(0.0), atol=1e-6), \\
    "a student equal to its teacher has zero KL"
print("kd_loss_fn at T_d=4, alpha=0.7:", float(kd_loss_fn(s_demo, t_demo, y_demo)))
"""),
hidden_test("lab_kd_loss", 6, "the KD loss across batch sizes, class counts, T_d, alpha, fp16 and gradients"),
md("""
### Bug hunt: the colleague's loss

A colleague trained a student with the loss below. Training ran, the loss went down, and the student's
calibration looks odd. Read the code line by line against the formula above, without training anything.
Nothing in it crashes, and it returns a finite number.
"""),
code("""
import inspect
print(inspect.getsource(kd.colleague_kd_loss))
"""),
code("""
# Candidate statements about the colleague's code. Some describe real bugs; others describe
# choices that are correct as written, or problems this code does not have.
BUG_STATEMENTS = {
    "S1": "The KL goes the wrong way: it should be KL(student || teacher), not KL(teacher || student).",
    "S2": "F.kl_div receives probabilities as its first argument, where it expects log-probabilities.",
    "S3": "reduction='batchmean' is wrong; it should be 'mean', the average over every element.",
    "S4": "The teacher's logits must not be divided by T_d; only the student should be softened.",
    "S5": "The soft term is not multiplied by T_d**2.",
    "S6": "The student will run overheated: this loss leaves the trained model dividing its logits by T_d "
          "when it predicts, so its deployed probabilities come out too flat.",
    "S7": "The cross-entropy is weighted by alpha and the soft term by 1 - alpha.",
    "S8": "The hard-label cross-entropy should also use the softened logits student_logits / T_d.",
}
for sid, text in BUG_STATEMENTS.items():
    print(sid, "-", text)
"""),
md("""
Set `chosen_bugs` to the **set** of statement ids that describe real bugs in this code, e.g. `{"S4", "S8"}`.
Each statement you choose that is a real bug earns a point; each one you choose that is not costs a point
(the total never goes below zero).
"""),
solution("""
### BEGIN SOLUTION
chosen_bugs = {"S2", "S5", "S7"}
### END SOLUTION
""", "lab_bug_choices_answer"),
hidden_test("lab_bug_choices", 3, "which candidate statements are real bugs"),
md("""
Now fix the colleague's code. The cell below holds a copy of it, named `fixed_kd_loss`. Edit the lines
that are wrong **in place** and leave every other line as it is: the autograder runs your version on inputs
that separate the possible bugs from each other, and checks that it is still the colleague's code (a
fresh loss, or `fixed_kd_loss = kd_loss_fn`, earns nothing). Then delete the two stub lines at the end of
the cell and run it. **Return** a scalar torch tensor, as before.
"""),
solution("""
# The colleague's loss, copied. Fix it in place.
def fixed_kd_loss(student_logits, teacher_logits, labels, T_d=4.0, alpha=0.7):
    soft_student = F.softmax(student_logits / T_d, dim=-1)
    soft_teacher = F.softmax(teacher_logits / T_d, dim=-1)
    kl = F.kl_div(soft_student, soft_teacher, reduction="batchmean")
    ce = F.cross_entropy(student_logits, labels)
    return (1 - alpha) * kl + alpha * ce

### BEGIN SOLUTION
def fixed_kd_loss(student_logits, teacher_logits, labels, T_d=4.0, alpha=0.7):
    soft_student = F.log_softmax(student_logits / T_d, dim=-1)
    soft_teacher = F.softmax(teacher_logits / T_d, dim=-1)
    kl = F.kl_div(soft_student, soft_teacher, reduction="batchmean") * T_d ** 2
    ce = F.cross_entropy(student_logits, labels)
    return alpha * kl + (1 - alpha) * ce
### END SOLUTION
""", "lab_fixed_kd_loss_answer"),
code("""
# Sanity check (not graded): your fixed copy next to your kd_loss_fn and the colleague's original.
for T_d, alpha in [(1.0, 0.7), (4.0, 0.7), (8.0, 0.9)]:
    mine, fixed = kd_loss_fn(s_demo, t_demo, y_demo, T_d, alpha), fixed_kd_loss(s_demo, t_demo, y_demo, T_d, alpha)
    theirs = kd.colleague_kd_loss(s_demo, t_demo, y_demo, T_d, alpha)
    print(f"T_d={T_d}, alpha={alpha}: yours {float(mine):.4f}  fixed {float(fixed):.4f}  colleague {float(theirs):.4f}")
    assert torch.isclose(mine, fixed, atol=1e-5), "fixed_kd_loss should match kd_loss_fn"
"""),
hidden_test("lab_fixed_kd_loss", 3, "the colleague's code with its bugs fixed, each bug on inputs that isolate it"),
md("""
**Explain the bugs you found**, one cell each, in two or three sentences: which line, what the code
computes instead, and what that does to the student during training.

*Explain a bug you found (#1).*
"""),
manual("lab_bug_explain_1", 1, """
`F.kl_div(input, target)` computes `target * (log target - input)`, treating `input` as log-probabilities.
Given probabilities instead, the "log" of the student is a number in (0, 1), so the term is no longer a
KL divergence: it is not minimised when the student matches the teacher and its gradient points the
wrong way. The loss still decreases, because the CE term carries training.
"""),
md("*Explain a bug you found (#2).*"),
manual("lab_bug_explain_2", 1, """
Softening both distributions by T_d scales the soft term's gradient by about 1/T_d^2. Without multiplying
back by T_d^2, at T_d = 4 the soft term's gradient is about 16 times too weak next to the CE term, so the
teacher's signal is almost ignored, and changing T_d silently changes the effective alpha.
"""),
md("*Explain a bug you found (#3).*"),
manual("lab_bug_explain_3", 1, """
The recipe puts weight alpha = 0.7 on the teacher and 0.3 on the hard labels. Swapped, the student gets
70% of its signal from one-hot labels and 30% from the teacher: it behaves much more like the vanilla
student, including its overconfidence, while the config file still says alpha = 0.7. (Not a bug here: the
overheated student of S6 is a prediction-time mistake, dividing logits by T_d at inference; this loss never
touches inference.)
"""),
md("""
### CE, KD and the KL term on one batch

Take one batch of 64 validation rows, with the vanilla student's logits as "student" and the teacher's as
"teacher". Compare the plain CE, your full KD loss, and the scaled KL term alone (your `kd_loss_fn` with
`alpha=1`) at three temperatures,
and see how much of each loss's gradient falls on the classes that are *not* the true label.
"""),
code("""
vanilla = artifacts.load("vanilla", SOURCE)
distilled = artifacts.load("distilled", SOURCE)
batch = np.arange(64)
s_b = torch.tensor(vanilla.logits[batch], requires_grad=True)
t_b, y_b = torch.tensor(teacher.logits[batch]), torch.tensor(labels[batch])

def grad_off_label_share(loss):
    # Share of the gradient's absolute mass that lands on logits other than the true class.
    (grad,) = torch.autograd.grad(loss, s_b)
    on = grad.abs().gather(1, y_b[:, None]).sum()
    return float(1 - on / grad.abs().sum())

rows = {}
for T_d in (1.0, 4.0, 8.0):
    kl_term = kd_loss_fn(s_b, t_b, y_b, T_d=T_d, alpha=1.0)      # alpha = 1: the scaled KL term alone
    full = kd_loss_fn(s_b, t_b, y_b, T_d=T_d, alpha=0.7)
    rows[f"T_d = {T_d:g}"] = {"KL term alone": kl_term.item(), "KD (alpha 0.7)": full.item(),
                              "KD grad share off the label": grad_off_label_share(full)}
ce = F.cross_entropy(s_b, y_b)
one_batch = pd.DataFrame(rows).T
one_batch["CE alone"] = ce.item()
one_batch["CE grad share off the label"] = grad_off_label_share(ce)
show(one_batch, "One batch (64 rows): CE vs KD vs the KL term")
"""),
md("""
Both losses push on every logit: cross-entropy lowers all wrong classes in proportion to their
probability, KD pulls each one toward the teacher's probability. What differs is the *target shape*:
one-hot for CE, the teacher's full distribution for KD.

### The two students

Both students' validation predictions are precomputed (training one takes about 80 minutes on a T4).
"""),
code("""
headline = metrics.as_frame({name: metrics.evaluate(ps.logits, labels, tiers)
                             for name, ps in [("teacher", teacher), ("vanilla", vanilla), ("distilled", distilled)]})
show(headline[["macro_f1", "accuracy", "ece", "nll"]], "Headline metrics (full validation set)")
"""),
md(f"""
{R("source_note")}The distilled student's macro F1 is {R("kd_lift", "+.3f")} above vanilla's on the full validation
set. Where does that lift come from?

### Prediction 3 of 4: where does the F1 lift land?

"Real" means the paired-bootstrap CI below lies entirely above zero. Choose the one label that describes
the tiers where the lift is real:

| label | tiers with a real lift |
| --- | --- |
| `"uniform"` | all three |
| `"head"` | the head (alone, or with one other tier) |
| `"mid"` | the mid tier alone |
| `"tail"` | the tail and the mid tier, not the head |
| `"tail-not-mid"` | the tail alone |
| `"none"` | no tier: every interval includes zero |
"""),
predict("f1_lift_lands", 'predict("f1_lift_lands", "uniform" | "head" | "mid" | "tail" | "tail-not-mid" | "none", "<one-line reason>")',
        'predict("f1_lift_lands", "tail", "the soft targets carry the most information on rare classes")'),
code("""
require("f1_lift_lands")
f1_table = pd.DataFrame({name: per_tier_f1(labels, ps.preds, tiers)
                         for name, ps in [("teacher", teacher), ("vanilla", vanilla), ("distilled", distilled)]}).T
f1_table.loc["distilled - vanilla"] = f1_table.loc["distilled"] - f1_table.loc["vanilla"]
show(f1_table, "Macro F1 per tier")
"""),
md("""
A point difference is not yet a finding. The tail has a few hundred validation rows; a swing of a few
correct answers moves its F1 a lot.

### Paired bootstrap

The course's paired bootstrap is given: `bootstrap.paired_bootstrap(arm_a, arm_b, labels, tiers,
metric="macro_f1", n_resamples=1000, seed=42)` resamples the rows of each tier with replacement (1,000
times, one seeded `RandomState` per tier), scores **both arms on the same resampled rows** (that pairing
cancels the difficulty the two arms share), and returns one row per tier: the median of
`score(arm_b) - score(arm_a)`, the 2.5% and 97.5% quantiles (`ci_low`, `ci_high`) and `excludes_zero`.
Per-tier macro F1 is taken over the tier's own label set, as in your `per_tier_f1`. (The homework asks
you to write a bootstrap yourself.)

Use it, then read it:

* `f1_ci_table`: the per-tier bootstrap of **distilled minus vanilla** macro F1 on the full validation
  set (predictions as the arms; think about which arm goes first).
* `real_lift_tiers`: the set of tiers where distilled's F1 lift is real (the whole CI above zero).
* `tail_reading`: the id of the statement below that reads the tail's interval correctly.
"""),
code("""
TAIL_READINGS = {
    "R1": "KD has no effect on the tail: the median is close to zero.",
    "R2": "The tail's interval is what decides: if it holds zero, the data cannot tell a gain from a loss of "
          "the sizes it spans; if it lies wholly on one side, the effect has that sign.",
    "R3": "The tail's median is what decides: above zero means KD helps the tail.",
    "R4": "Tail F1 cannot be bootstrapped: too few rows per class.",
}
for rid, text in TAIL_READINGS.items():
    print(rid, "-", text)
"""),
solution("""
### BEGIN SOLUTION
f1_ci_table = bootstrap.paired_bootstrap(vanilla.preds, distilled.preds, labels, tiers, metric="macro_f1")
real_lift_tiers = {t for t in TIERS if f1_ci_table.loc[t, "ci_low"] > 0}
tail_reading = "R2"
### END SOLUTION
""", "lab_bootstrap_use_answer"),
code("""
# Sanity checks (not graded): one row per tier, and each interval brackets its median.
assert list(f1_ci_table.index) == list(TIERS), "one row per tier: head, mid, tail"
assert (f1_ci_table["ci_low"] <= f1_ci_table["median"]).all() and (f1_ci_table["median"] <= f1_ci_table["ci_high"]).all()
assert real_lift_tiers <= set(TIERS) and tail_reading in TAIL_READINGS
"""),
hidden_test("lab_bootstrap_ci", 3, "the paired bootstrap used on the right arms, and its intervals read correctly"),
code("""
f1_ci = f1_ci_table[["median", "ci_low", "ci_high", "excludes_zero"]].to_dict("index")
observe("f1_lift_lands", lift_pattern(f1_ci))
show(f1_ci_table, "Paired bootstrap: distilled - vanilla macro F1 per tier")
showfig(plots.tier_delta_bars(f1_ci, metric_name="macro F1", comparison="distilled - vanilla", source=SOURCE))
"""),
md("""
**Reconcile.** Where did the lift land, and what does the CI let you say about the tiers where it
includes zero? (Careful: "includes zero" is not "zero".)
"""),
manual("lab_reconcile_f1_lift_lands", 1, f"""
{R("source_note")}I predicted the tail; the lift lands on the {R("lift_lands")} ({C("lift_lands_on_head")}head
{R("boot_f1_head_median", "+.3f")}, CI [{R("boot_f1_head_ci_low", "+.3f")}, {R("boot_f1_head_ci_high", "+.3f")}]).
The head has thousands of rows and a teacher that is confident and right there, so the soft targets refine
decisions the student already nearly gets. {C("tail_lift_in_noise")}On the tail the CI
[{R("boot_f1_tail_ci_low", "+.3f")}, {R("boot_f1_tail_ci_high", "+.3f")}] includes zero: we cannot tell the
effect from noise with a few hundred rows, which is not the same as showing there is no effect.
"""),
reveal_cell("f1_lift", "f1_lift_lands", f"""
**Reveal 3.** {R("source_note")}Paired bootstrap, 1,000 resamples, distilled minus vanilla: head {R("boot_f1_head_median", "+.3f")}
(95% CI [{R("boot_f1_head_ci_low", "+.3f")}, {R("boot_f1_head_ci_high", "+.3f")}]), mid
{R("boot_f1_mid_median", "+.3f")} ([{R("boot_f1_mid_ci_low", "+.3f")}, {R("boot_f1_mid_ci_high", "+.3f")}]),
tail {R("boot_f1_tail_median", "+.3f")} ([{R("boot_f1_tail_ci_low", "+.3f")}, {R("boot_f1_tail_ci_high", "+.3f")}]).
{C("lift_lands_on_head")}{C("tail_lift_in_noise")}The lift is real on the head; on the tail the interval
includes zero. {C("student_tail_below_teacher")}Both students stay below the teacher's tail F1
({R("vanilla_f1_tail")} and {R("distilled_f1_tail")} against {R("teacher_f1_tail")}): KD did not carry tail
capacity across, because the teacher barely had it. The right sentence for a memo: "the tail lift is
{R("boot_f1_tail_median", "+.3f")} with CI [{R("boot_f1_tail_ci_low", "+.3f")}, {R("boot_f1_tail_ci_high", "+.3f")}],
inside the noise floor."
"""),
md("""
### Prediction 4 of 4: does ECE follow F1?

F1 measures the argmax. ECE measures whether the top-1 confidence matches accuracy. Does KD improve ECE
only on the tiers where F1 improved? Choose `"yes"` (ECE improves where F1 did and not elsewhere) or
`"no"` (the two patterns differ).
"""),
predict("ece_follows_f1", 'predict("ece_follows_f1", "yes" | "no", "<one-line reason>")',
        'predict("ece_follows_f1", "yes", "a better classifier should also be a better calibrated one")'),
md("""
### Per-tier ECE

Write `per_tier_ece(probs, labels, tiers, n_bins=15)`.

* `probs`: float array of shape `(n, n_classes)` (rows sum to 1); `labels`: integers `(n,)`; `tiers`:
  strings `(n,)`.
* Per tier: confidence = the row's top probability, correct = argmax equals the label. Use `n_bins`
  equal-width bins on [0, 1]; a confidence `c` falls in bin `i` when `edges[i] < c <= edges[i + 1]`
  (`edges = np.linspace(0, 1, n_bins + 1)`). ECE = sum over non-empty bins of
  `(rows in bin / rows in tier) * |accuracy in bin - mean confidence in bin|`.
* **Return** a `dict` mapping each tier present to a Python `float`.
"""),
solution("""
def per_tier_ece(probs, labels, tiers, n_bins=15):
    \"\"\"Expected calibration error per tier (equal-width bins, (lo, hi]) -> {tier: float}.\"\"\"
    ### BEGIN SOLUTION
    probs = np.asarray(probs, dtype=np.float64)
    labels, tiers = np.asarray(labels), np.asarray(tiers).astype(str)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    out = {}
    for tier in ("head", "mid", "tail"):
        rows = tiers == tier
        if not rows.any():
            continue
        conf = probs[rows].max(axis=1)
        correct = probs[rows].argmax(axis=1) == labels[rows]
        total = 0.0
        for lo, hi in zip(edges[:-1], edges[1:]):
            in_bin = (conf > lo) & (conf <= hi)
            if in_bin.any():
                total += in_bin.mean() * abs(correct[in_bin].mean() - conf[in_bin].mean())
        out[tier] = float(total)
    return out
    ### END SOLUTION
""", "lab_per_tier_ece_answer"),
code("""
# Sanity check (not graded): a model that is always right with confidence 1 has ECE 0;
# always right with confidence 0.6 has ECE 0.4.
toy_p = np.array([[0.6, 0.4], [0.4, 0.6], [1.0, 0.0]])
toy = per_tier_ece(toy_p, np.array([0, 1, 0]), np.array(["head", "head", "tail"]))
print(toy)
assert abs(toy["head"] - 0.4) < 1e-9 and abs(toy["tail"]) < 1e-9
"""),
hidden_test("lab_per_tier_ece", 2, "per-tier expected calibration error"),
code("""
require("ece_follows_f1")
ece_table = pd.DataFrame({name: per_tier_ece(ps.probs, labels, tiers)
                          for name, ps in [("teacher", teacher), ("vanilla", vanilla), ("distilled", distilled)]}).T
nll_table = pd.DataFrame({name: metrics.per_tier_nll(ps.probs, labels, tiers)
                          for name, ps in [("teacher", teacher), ("vanilla", vanilla), ("distilled", distilled)]}).T
ece_better = {t for t in TIERS if ece_table.loc["distilled", t] < ece_table.loc["vanilla", t]}
f1_real = {t for t in TIERS if f1_ci[t]["ci_low"] > 0}
observe("ece_follows_f1", "yes" if ece_better == f1_real else "no")
show(pd.concat({"ECE": ece_table, "NLL": nll_table}, axis=1), "ECE and NLL per tier (full validation set)")
showfig(plots.reliability_diagram({"teacher": teacher.probs, "vanilla": vanilla.probs,
                                   "distilled": distilled.probs}, labels, tiers, source=SOURCE))
"""),
md("""
**Reconcile, then explain the mechanism.** Did ECE follow F1? Explain in three or four sentences *why* KD
can improve calibration on a tier where it did not improve F1. Use the words *target shape* and say what
each loss's gradient does to the logits that are not the true class.
"""),
manual("lab_ece_mechanism", 2, f"""
{R("source_note")}{C("ece_improves_every_tier")}No: ECE improves on every tier, including the tail where F1 did
not move (tail ECE {R("vanilla_ece_tail")} to {R("distilled_ece_tail")}). Both losses produce gradients on
every logit; the difference is the target. With a one-hot target, CE keeps pushing the true class toward
probability 1 and every other class toward 0, so a student trained long enough becomes overconfident
everywhere. KD's target is the teacher's distribution, which is calibrated and keeps mass on plausible
alternatives; matching it teaches the student how unsure to be, which changes confidence without having
to change the argmax.
"""),
reveal_cell("ece_vs_f1", "ece_follows_f1", f"""
**Reveal 4.** {R("source_note")}{C("ece_improves_every_tier")}{C("ece_does_not_follow_f1")}KD lowers ECE on every tier: head
{R("vanilla_ece_head")} to {R("distilled_ece_head")}, mid {R("vanilla_ece_mid")} to {R("distilled_ece_mid")},
tail {R("vanilla_ece_tail")} to {R("distilled_ece_tail")}, including the tail, where the F1 interval includes
zero. {C("nll_improves_every_tier")}NLL falls on every tier too. Over the whole validation set, ECE drops
by a factor of {R("ece_ratio_full", ".1f")} and NLL by {R("nll_cut_full", ".0%")}. Two things transferred at
different rates: the argmax (capacity, bounded by the data) and the probability shape (calibration,
which the dense target carries to every tier).
"""),

# ------------------------------------------------------------------ Act 3
md("""
## Act 3: synthesis

### 3a. The data confound

This term's Week 1 baseline was the same ModernBERT-base trained with CE on the *train split only*.
This week's students trained on train + test. Put the two lifts side by side.
"""),
code("""
confound_df = pd.DataFrame({
    "training data": ["train only", "train + test", "train + test"],
    "loss": ["CE", "CE", "KD (T_d 4, alpha 0.7)"],
    "macro_f1": [WEEK1_BASELINE_F1, headline.loc["vanilla", "macro_f1"], headline.loc["distilled", "macro_f1"]],
}, index=["week 1 baseline (recorded)", "vanilla", "distilled"])
confound_df["lift"] = confound_df["macro_f1"].diff()
show(confound_df, "The data confound: what the data shift bought vs what KD bought")
print(f"data shift / KD lift = {confound_df['lift'].iloc[1] / confound_df['lift'].iloc[2]:.1f}x")
"""),
md(f"""
{R("source_note")}{C("data_shift_beats_kd")}Showing the same model more representative data bought {R("data_shift", "+.3f")}
macro F1; distillation bought {R("kd_lift", "+.3f")}, about {R("data_kd_ratio", ".1f")} times less. The memo
question is therefore not "did distillation help?" but "with the data budget fixed, which cheapest recipe
delivers the property my scenario needs?"

### 3b. Calibration, fairly compared

Temperature scaling divides the logits by one number $T$ fitted on held-out data. To compare it with KD
fairly, split validation in two halves (`calibration.cal_eval_split`): fit $T$ on the **cal** half, and
score every arm on the **eval** half.

The `cost to serve` column is what each arm costs per prediction: vanilla and distilled are the same
ModernBERT-base (149M parameters) with the same input length, so they cost exactly the same to serve. KD's
price is paid once, in training (a teacher run plus about 80 T4-minutes per student), never at inference;
temperature scaling adds one division. The teacher is the 32B model the students replace.
"""),
code("""
cal_idx, eval_idx = calibration.cal_eval_split(len(labels), seed=42)
T_vanilla = calibration.fit_temperature(vanilla.logits[cal_idx], labels[cal_idx])
arms = {"teacher": teacher.logits, "vanilla": vanilla.logits,
        "vanilla+T": calibration.apply_temperature(vanilla.logits, T_vanilla), "distilled": distilled.logits}
calibration_df = metrics.as_frame({name: metrics.evaluate(z[eval_idx], labels[eval_idx], tiers[eval_idx])
                                   for name, z in arms.items()})[["ece", "nll", "macro_f1", "f1_tail"]]
calibration_df["cost to serve"] = {"teacher": "32B (Qwen3-32B + LoRA)", "vanilla": "149M ModernBERT-base",
                                   "vanilla+T": "149M + one division", "distilled": "149M ModernBERT-base"}
print(f"T fitted on the cal half (n = {len(cal_idx):,}): {T_vanilla:.3f}; eval half n = {len(eval_idx):,}")
show(calibration_df, "Calibration on the eval half (T fitted on the cal half)")
eval_probs = {name: metrics.softmax(z[eval_idx]) for name, z in arms.items()}
showfig(plots.reliability_diagram({k: eval_probs[k] for k in ("vanilla", "vanilla+T", "distilled")},
                                  labels[eval_idx], tiers[eval_idx], source=SOURCE))
"""),
md(f"""
On the eval half ({R("n_eval")} rows; $T$ = {R("cal_T", ".2f")} fitted on the other {R("n_cal")}), raw
vanilla has ECE {R("eval_vanilla_ece")}, vanilla + T {R("eval_vanilla_t_ece")} and distilled
{R("eval_distilled_ece")}. {C("tscaling_keeps_f1")}Temperature scaling cannot change the argmax, so its macro
F1 equals raw vanilla's. Read the ECE and NLL columns yourself: whether one fitted scalar reproduces what
distillation did to calibration, and on which metric, is the homework's Test B.

### 3c. Thresholds and coverage

A common deployment: act automatically when the top-1 confidence is at least a threshold, send the rest
to a person. Write `coverage_table(probs, labels, thresholds=(0.5, 0.6, 0.7, 0.8, 0.9))`.

* `probs`: `(n, n_classes)` probabilities; `labels`: integers `(n,)`.
* For each threshold `T`: the covered rows are those with top-1 confidence `>= T`.
  `coverage` = covered rows / n; `accuracy` = accuracy of the argmax on the covered rows, or `NaN` when no
  row is covered (not 0: there is nothing to be right about); `n_covered` = the number of covered rows (int).
* **Return** a `pandas.DataFrame` with one row per threshold, in the given order, and exactly the columns
  `threshold`, `coverage`, `accuracy`, `n_covered`.
"""),
solution(COVERAGE_TABLE, "lab_coverage_table_answer"),
code("""
# Sanity check (not graded): a threshold nobody reaches covers nothing, and its accuracy is NaN.
toy = coverage_table(np.array([[0.9, 0.1], [0.55, 0.45]]), np.array([0, 1]), thresholds=(0.5, 0.95))
print(toy)
assert list(toy.columns) == ["threshold", "coverage", "accuracy", "n_covered"]
assert toy["n_covered"].tolist() == [2, 0] and np.isnan(toy["accuracy"].iloc[1])
"""),
hidden_test("lab_coverage_table", 2, "the threshold / coverage table, including a threshold that covers nothing"),
code("""
coverage_tables = {name: coverage_table(eval_probs[name], labels[eval_idx]) for name in ("vanilla+T", "distilled")}
show(pd.concat(coverage_tables, axis=1), "Coverage and accuracy on the eval half")
showfig(plots.coverage_curves({k: eval_probs[k] for k in ("vanilla", "vanilla+T", "distilled")},
                              labels[eval_idx], source=SOURCE, target_accuracy=0.95))
"""),
md(f"""
For the distilled student, a threshold of 0.7 covers {R("cov_distilled_70", ".1%")} of the eval half at
{R("covacc_distilled_70", ".1%")} accuracy; for vanilla + T it covers {R("cov_vanilla_t_70", ".1%")} at
{R("covacc_vanilla_t_70", ".1%")}.

### 3d. The deployment decision

Pick **one** scenario and ship one model for it. Every number you write is checked by the autograder
against the course data itself: it recomputes, for the model you name, the coverage and accuracy at your
threshold and the model's ECE, NLL, macro F1 and tail F1 on the **eval half** (temperature fitted on the
cal half for a `+T` model). Numbers from another model, or invented ones, do not pass.

| scenario | what it is | what it needs | the rule your model must meet (eval half) |
| --- | --- | --- | --- |
| A | batch triage: auto-route complaints to a team, at volume | macro F1, under 10 ms per example on the serving hardware | a student (the 32B teacher is far too slow) with macro F1 at least raw vanilla's |
| B | regulated escalation: uncertain cases go to a legal reviewer | calibrated confidence, good full distributions | ECE at most 0.05, and NLL at most raw vanilla's |
| C | aggregate dashboard: counts of rare complaint types over time | tail F1; a dashboard counts every prediction | tail F1 no more than 0.02 below raw vanilla's (the tail's noise floor); `threshold` may be `None` |

Models you can name: `"vanilla"`, `"distilled"`, a grid config such as `"grid_Td4_a70"`, or any of them
with `"+T"` (e.g. `"vanilla+T"`).

Fields of `deployment`: `scenario` (`"A"`, `"B"` or `"C"`), `model`, `threshold` (one of your coverage
table's thresholds; `None` only for C), `coverage` and `accuracy` (that row of the coverage table of
**that model**), `decision_rule` (a sentence: what happens above and below the threshold),
`justification` (a sentence that quotes at least one number of your model, or of the alternative, from
your tables), `flip_constraint` (the one constraint that would change your mind), `switch_point` (the
number at which it flips) and `alternative` (the model you would ship then).
"""),
solution("""
### BEGIN SOLUTION
# Scenario B gates on ECE <= 0.05: raw distilled misses the cap on the eval half, vanilla + T meets it.
ship = "vanilla+T"
coverage_df = coverage_tables[ship]
row = coverage_df[coverage_df["threshold"] == 0.7].iloc[0]
deployment = {
    "scenario": "B",
    "model": ship,
    "threshold": float(row["threshold"]),
    "coverage": float(row["coverage"]),
    "accuracy": float(row["accuracy"]),
    "decision_rule": "Auto-close complaints whose top-1 confidence is at least 0.7; send the rest to legal review.",
    "justification": (f"vanilla+T has ECE {calibration_df.loc['vanilla+T', 'ece']:.3f} on the eval half, inside "
                      f"the 0.05 cap, where raw distilled has {calibration_df.loc['distilled', 'ece']:.3f}; its NLL "
                      f"{calibration_df.loc['vanilla+T', 'nll']:.3f} is below raw vanilla's "
                      f"{calibration_df.loc['vanilla', 'nll']:.3f}."),
    "flip_constraint": "the regulator tightening the ECE cap",
    "switch_point": round(float(calibration_df.loc["vanilla+T", "ece"]), 3),
    "alternative": "distilled+T",
}
### END SOLUTION
""", "lab_deployment_answer"),
code("""
# The self-check runs the autograder's four rules on the course data and shows the recomputed numbers.
deployment_check = deploy.check_deployment(deployment, SOURCE)
deployment_check
"""),
hidden_test("lab_deployment", 4, "the deployment artifact, recomputed from the course data for the model you name"),
md("""
**Your reasoning (read by a person, 3 points).** In four to six sentences: why this model for this
scenario, what you give up, and when you would switch. The rubric:

| points | what earns them |
| --- | --- |
| 3 | names the scenario's binding constraint and shows, with at least two of your numbers, that the model meets it and what the runner-up lacks; states the trade-off (coverage given up, or cost: vanilla and distilled cost the same to serve, KD costs a training run); the switch point is tied to a quantity you measured |
| 2 | right constraint and a number that shows it is met, but the trade-off or the switch is vague ("if things change") |
| 1 | a defensible choice argued from a general claim ("KD calibrates better") without your numbers, or numbers from the wrong split |
| 0 | no reasoning, or a model that breaks the scenario's rule defended anyway |

Flag for the grader: "the distilled model is calibrated, so it passes B" (its raw eval-half ECE is what
decides, not the full-set trend), and choosing a threshold for C where the dashboard counts every row.
"""),
manual("lab_deployment_reasoning", 3, f"""
{R("source_note")}{C("distilled_misses_ece_cap")}{C("vanilla_t_meets_ece_cap")}{C("kd_wins_nll")}{C("tscaling_lowers_nll")}Scenario
B gates on calibration: a reviewer reads the confidence, and the regulator caps ECE at 0.05. Raw distilled
has the lower NLL ({R("eval_distilled_nll")} against vanilla + T's {R("eval_vanilla_t_nll")}) but its eval-half
ECE, {R("eval_distilled_ece")}, is above the cap, so it cannot ship as is; vanilla + T's ECE is
{R("eval_vanilla_t_ece")} and its NLL is still below raw vanilla's {R("eval_vanilla_nll")}. At a 0.7 threshold the
coverage table shows the share of complaints closed automatically and their accuracy; the rest is the
review load I accept. Serving cost is the
same for every ModernBERT arm; what I give up is distilled's better NLL. If the cap tightened below
vanilla + T's ECE, I would fit a temperature on the distilled student too (distilled + T) and ship that.
"""),
md("""
### Memo prompts (short answers; the homework memo builds on them)

**M1.** In three sentences: what did distillation transfer on this dataset, and what did it not? Cite one
number for each.
"""),
manual("lab_memo_transfer", 2, f"""
{R("source_note")}{C("ece_improves_every_tier")}{C("lift_lands_on_head")}{C("data_shift_beats_kd")}KD transferred
calibration: ECE fell on every tier (full validation set {R("vanilla_ece")} to {R("distilled_ece")}) and NLL
with it, because the student learned the teacher's probability shape. It barely transferred capacity: the F1
lift is real only on the head ({R("boot_f1_head_median", "+.3f")}, CI [{R("boot_f1_head_ci_low", "+.3f")},
{R("boot_f1_head_ci_high", "+.3f")}]) and the tail stays in the noise, below a teacher that itself scores
{R("teacher_f1_tail")} there. The data shift bought {R("data_shift", "+.3f")} macro F1, about
{R("data_kd_ratio", ".1f")} times KD's {R("kd_lift", "+.3f")}.
"""),
md("""
**M2.** A colleague says "KD is expensive; temperature scaling gives the same calibration for free."
Where is the colleague right and where not, on your numbers?
"""),
manual("lab_memo_cheaper", 2, f"""
{R("source_note")}{C("tscaling_beats_kd_on_ece")}{C("kd_wins_nll")}Right on ECE: one fitted temperature brings
vanilla's eval-half ECE to {R("eval_vanilla_t_ece")}, below the distilled student's {R("eval_distilled_ece")}, so a
deployment that only thresholds on top-1 confidence does not need KD. Wrong on NLL: KD's NLL stays lower
({R("eval_distilled_nll")} against {R("eval_vanilla_t_nll")}), because temperature scaling rescales every row the
same way and cannot move probability between wrong classes per example, which KD learned from the teacher.
Both students cost the same to serve, so KD's price is the training run, not inference.
"""),
md("""
**Before you leave:** check that the deployment self-check passes, then save the notebook. The homework
picks up from here: a scenario, a recipe shortlist, two literature claims tested on your numbers, and a
five-part memo.
"""),
    ]
