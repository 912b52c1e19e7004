"""Week 6 homework, Part 1: diagnose (per_class_f1, the teacher per tier, the property spec).

Notebook source in the percent format (see nbsource.py); build with ``python notebooks/make_notebooks.py``.
"""

# %% [markdown]
# ## Part 1: diagnose
#
# ### Per-class F1
#
# Write `per_class_f1(labels, preds, n_classes=113)`.
#
# * `labels`, `preds`: integer arrays of shape `(n,)` with values in `[0, n_classes)`.
# * For every class `c` in `0 .. n_classes - 1`: `F1 = 2 TP / (2 TP + FP + FN)`, and 0 when the
#   denominator is 0 (a class nobody predicts and nobody has).
# * **Return** a numpy float array of shape `(n_classes,)`, entry `c` for class `c`.

# %% role="solution" grade_id="hw_per_class_f1_answer"
def per_class_f1(labels, preds, n_classes=113):
    """F1 of every class -> np.ndarray of shape (n_classes,)."""
    ### BEGIN SOLUTION
    labels, preds = np.asarray(labels, dtype=np.int64), np.asarray(preds, dtype=np.int64)
    tp = np.bincount(labels[labels == preds], minlength=n_classes).astype(float)
    n_true = np.bincount(labels, minlength=n_classes)
    n_pred = np.bincount(preds, minlength=n_classes)
    denom = n_true + n_pred                      # = 2 TP + FP + FN
    return np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)
    ### END SOLUTION

# %%
# Sanity check (not graded).
toy = per_class_f1(np.array([0, 0, 1]), np.array([0, 1, 1]), n_classes=3)
print(toy)     # class 0: 2/3, class 1: 2/3, class 2: 0
assert toy.shape == (3,) and np.allclose(toy, [2 / 3, 2 / 3, 0])

# %% role="hidden_test" check="hw_per_class_f1" skill="F1 of every class, as an array of shape (n_classes,)"

# %%
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

# %% [markdown]
# ### The teacher, per tier
#
# Teacher macro F1, ECE and NLL per tier (full validation set), and its top three classes on three rows of
# each tier.

# %%
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

# %% [markdown]
# {R("source_note")}The teacher's tail F1 is {R("teacher_f1_tail")} against {R("teacher_f1_head")} on the head, and its
# tail ECE {R("teacher_ece_tail")} against {R("teacher_ece_head")}. {C("teacher_tail_lowest")}
#
# ### A property spec
#
# Name **three to five properties** of the teacher that a student could inherit. For each: its name, the
# measurement that shows it (a metric and a split from this notebook), and whether you expect it to transfer
# through KD on this data (yes / partly / no, with a reason). A markdown table works well.

# %% [markdown] role="manual" grade_id="hw_property_spec" points=6
# | property | measurement | transferable? |
# | --- | --- | --- |
# | head decision quality | head macro F1 (full val) | yes: many rows, a confident and correct teacher |
# | tail decision quality | tail macro F1 | no: the teacher has little of it to give |
# | top-1 calibration | ECE per tier | yes: the soft target carries the confidence level |
# | full-distribution shape | NLL, JS divergence to the teacher per tier | partly: closer, never equal (Stanton) |
