"""Week 6 lab, Act 1: the teacher (tier support, predictions 1 and 2, per_tier_f1, its calibration).

Notebook source in the percent format (see nbsource.py); build with ``python notebooks/make_notebooks.py``.
"""

# %% [markdown]
# ## Act 1: the teacher
#
# {R("source_note")}The validation set has {R("n_val")} examples and 113 classes, sorted into tiers by how often
# each class appears in training: **head** = the 20 most frequent classes, **mid** = the next 40, **tail** =
# the remaining 53.
#
# **The split you evaluate on is never trained on.** The teacher and both students trained on the course's
# train and test splits combined (79,278 examples); every number today is measured on the validation rows,
# which none of them saw. A model scored on rows it trained on reports memory, not skill, and on a long tail
# the difference is largest exactly where it matters: a tail class with four training rows is "perfect" on
# those four.
#
# Start by looking at how much data each tier has: per-class **training** counts are the anchor for your first
# prediction.

# %%
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

# %% [markdown]
# ### Prediction 1 of 4: the teacher's tail F1
#
# The teacher is a 32-billion-parameter model, fine-tuned on the same data and calibrated afterwards. What
# macro F1 does it reach on the 53 tail classes? Anchor on the table above: how many training examples does a
# typical tail class have, and what can any model learn from that many? Record a number between 0 and 1, and
# one line on why.

# %% role="predict" key="teacher_tail_f1"
# PREDICT before you run the cells below. Replace the stub with one call:
#   predict("teacher_tail_f1", <a number in [0, 1]>, "<one-line reason>")
### BEGIN SOLUTION
predict("teacher_tail_f1", 0.35, "32B parameters help, but a handful of examples per class is very little")
### END SOLUTION

# %% [markdown]
# ### Per-tier macro F1
#
# Write `per_tier_f1(labels, preds, tiers)`.
#
# * `labels`, `preds`: integer arrays of shape `(n,)`; `tiers`: string array of shape `(n,)` with values
#   `"head"`, `"mid"`, `"tail"`.
# * For each tier present, keep that tier's rows and compute **macro F1 over that tier's label set** (the
#   classes that occur in those rows' `labels`). A class's F1 is `2 TP / (2 TP + FP + FN)`, and 0 when the
#   denominator is 0. A prediction of a class from another tier is simply a miss.
# * **Return** a `dict` mapping each tier name to a Python `float`, e.g. `{"head": 0.61, "mid": 0.42, "tail": 0.18}`.
#
# Use numpy; do not call `helpers` here.

# %% role="solution" grade_id="lab_per_tier_f1_answer"
def per_tier_f1(labels, preds, tiers):
    """Macro F1 per tier, over that tier's label set -> {tier: float}."""
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

# %%
# Sanity check (not graded): a toy case you can verify by hand.
toy = per_tier_f1(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 2]), np.array(["head", "head", "head", "tail"]))
print(toy)   # head: class 0 F1 = 2/3, class 1 F1 = 2/3 -> 0.667; tail: 1.0
assert set(toy) == {"head", "tail"} and abs(toy["head"] - 2 / 3) < 1e-9 and abs(toy["tail"] - 1.0) < 1e-9

# %% role="hidden_test" check="lab_per_tier_f1" skill="per-tier macro F1 over each tier's label set"

# %%
# OBSERVE: refuses to show anything until your prediction is recorded.
require("teacher_tail_f1")
teacher_f1 = per_tier_f1(labels, teacher.preds, tiers)
observe("teacher_tail_f1", teacher_f1["tail"])
show(pd.DataFrame([teacher_f1], index=["teacher"]), "Teacher macro F1 per tier")

# %% [markdown]
# **Reconcile (before you open the reveal; one or two sentences).** How far off was your prediction, and in
# which direction? Name one specific reason in the data (not in the model) that explains the gap.

# %% [markdown] role="manual" grade_id="lab_reconcile_teacher_tail_f1" points=1
# {R("source_note")}I predicted 0.35 and the teacher reached {R("teacher_f1_tail")} on the tail, against
# {R("teacher_f1_mid")} on the mid tier. {C("teacher_tail_lowest")}I gave the model's size too much weight: most
# tail classes have single-digit training support, and no amount of capacity recovers a decision boundary from
# five examples. The ceiling is in the data.

# %% [markdown] role="reveal" name="teacher_tail" after="teacher_tail_f1"
# **Reveal 1.** {R("source_note")}The teacher's macro F1 is {R("teacher_f1_head")} on the head,
# {R("teacher_f1_mid")} on the mid tier and only {R("teacher_f1_tail")} on the tail. {C("teacher_tail_lowest")}Even
# a 32B model runs into the data ceiling on classes it saw a handful of times. The consequence for today: a
# student distilled from this teacher cannot be expected to inherit tail skill the teacher does not have, so a
# large tail gain from KD would be a surprise that needs checking, not a result to celebrate.

# %% [markdown]
# ### What the teacher's distribution looks like
#
# Distillation trains the student on the teacher's whole probability vector, not only its top class. Look
# at the top five classes and the entropy (in nats; 0 means all mass on one class, $\ln 113 \approx 4.73$
# is uniform) for the first validation example of each tier.

# %%
rows = []
for tier in TIERS:
    i = int(np.flatnonzero(tiers == tier)[0])
    p = teacher.probs[i]
    top = np.argsort(-p)[:5]
    rows.append({"tier": tier, "row": i, "true class": int(labels[i]),
                 "entropy (nats)": float(-(p * np.log(np.clip(p, 1e-12, 1))).sum()),
                 **{f"top{k + 1}": f"{c}: {p[c]:.2f}" for k, c in enumerate(top)}})
show(pd.DataFrame(rows).set_index("tier"), "Teacher top-5 probabilities, one example per tier")

# %% [markdown]
# ### Prediction 2 of 4: which tier is most peaked?
#
# Three examples are an anecdote. Across *all* validation rows of a tier, on which tier is the teacher's
# distribution most peaked (lowest mean entropy)? Choose `"head"`, `"mid"` or `"tail"`.

# %% role="predict" key="most_peaked_tier"
# PREDICT before you run the cells below. Replace the stub with one call:
#   predict("most_peaked_tier", "head" | "mid" | "tail", "<one-line reason>")
### BEGIN SOLUTION
predict("most_peaked_tier", "head", "more training examples give the teacher sharper evidence")
### END SOLUTION

# %%
require("most_peaked_tier")
p = teacher.probs
shape = pd.DataFrame({
    "mean top-1 probability": pd.Series(p.max(axis=1)).groupby(tiers).mean(),
    "mean entropy (nats)": pd.Series(-(p * np.log(np.clip(p, 1e-12, 1))).sum(axis=1)).groupby(tiers).mean(),
}).loc[list(TIERS)]
observe("most_peaked_tier", shape["mean entropy (nats)"].idxmin())
show(shape, "How peaked the teacher is, per tier")

# %% [markdown]
# **Reconcile (one or two sentences).** Was the most peaked tier the one you expected? What does that imply
# about *how much* information the soft targets carry for head examples compared with tail examples?

# %% [markdown] role="manual" grade_id="lab_reconcile_most_peaked_tier" points=1
# {R("source_note")}Yes: the {R("most_peaked_tier")} is the most peaked ({R("teacher_entropy_head", ".2f")} nats
# against {R("teacher_entropy_tail", ".2f")} on the tail). {C("head_most_peaked")}Peaked targets are close to
# one-hot, so on head rows the soft target adds little beyond the label; the flatter tail targets carry more
# relative information, but that information is also the least reliable, because the teacher is unsure there.

# %% [markdown] role="reveal" name="teacher_shape" after="most_peaked_tier"
# **Reveal 2.** {R("source_note")}Mean entropy is {R("teacher_entropy_head", ".2f")} nats on the head, {R("teacher_entropy_mid", ".2f")} on
# the mid tier and {R("teacher_entropy_tail", ".2f")} on the tail; the mean top-1 probability falls from
# {R("teacher_top1_head", ".2f")} to {R("teacher_top1_tail", ".2f")}. {C("head_most_peaked")}The head is the
# most peaked tier: where the teacher has seen many examples it commits, and where it has not it spreads
# its mass. The soft targets that KD hands the student are therefore most informative exactly where the
# teacher itself is least reliable.

# %% [markdown]
# ### The teacher's calibration
#
# Recompute the teacher's ECE (15 equal-width bins on top-1 confidence) and NLL on the full validation set,
# overall and per tier. The teacher was temperature-scaled ($T = 1.25$) before its logits were published.

# %%
teacher_row = metrics.evaluate(teacher.logits, labels, tiers)
cal_cols = ["ece", "ece_head", "ece_mid", "ece_tail", "nll", "nll_head", "nll_mid", "nll_tail"]
show(pd.DataFrame([teacher_row], index=["teacher"])[cal_cols], "Teacher ECE and NLL (full validation set)")

# %% [markdown]
# {R("source_note")}The teacher's overall ECE is {R("teacher_ece")} and its NLL {R("teacher_nll")}: a
# well-calibrated target. Notice how much larger the tail's ECE is ({R("teacher_ece_tail")}) than the head's:
# the tail has only {R("n_tail")} validation rows, and a calibration estimate on a few hundred rows is noisy as
# well as worse.
#
# **Calibrate the teacher before distilling.** Kim et al. (2025) found that how well a teacher is calibrated
# predicts how accurate its distilled student becomes: the student learns the teacher's probabilities, so an
# overconfident teacher hands it overconfident targets. That is why this teacher was temperature-scaled
# ($T$ = 1.25) before its logits were published, and why a recipe that distils from a raw, overconfident
# teacher starts behind.
