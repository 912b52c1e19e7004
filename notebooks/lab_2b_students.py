"""Week 6 lab, Act 2 (second half): the two students, predictions 3 and 4, the bootstrap, per_tier_ece.

Notebook source in the percent format (see nbsource.py); build with ``python notebooks/make_notebooks.py``.
"""

# %% [markdown]
# Both losses push on every logit: cross-entropy lowers all wrong classes in proportion to their
# probability, KD pulls each one toward the teacher's probability. What differs is the *target shape*:
# one-hot for CE, the teacher's full distribution for KD.
#
# ### The two students
#
# Both students' validation predictions are precomputed (training one takes about 80 minutes on a T4).

# %%
headline = metrics.as_frame({name: metrics.evaluate(ps.logits, labels, tiers)
                             for name, ps in [("teacher", teacher), ("vanilla", vanilla), ("distilled", distilled)]})
show(headline[["macro_f1", "accuracy", "ece", "nll"]], "Headline metrics (full validation set)")

# %% [markdown]
# {R("source_note")}The distilled student's macro F1 is {R("kd_lift", "+.3f")} above vanilla's on the full validation
# set. Where does that lift come from?
#
# ### Prediction 3 of 4: where does the F1 lift land?
#
# "Real" means the paired-bootstrap CI below lies entirely above zero. Choose the one label that describes
# the tiers where the lift is real:
#
# | label | tiers with a real lift |
# | --- | --- |
# | `"uniform"` | all three |
# | `"head"` | the head (alone, or with one other tier) |
# | `"mid"` | the mid tier alone |
# | `"mid+tail"` | the mid tier and the tail, not the head |
# | `"tail"` | the tail alone |
# | `"none"` | no tier: every interval includes zero |

# %% role="predict" key="f1_lift_lands"
# PREDICT before you run the cells below. Replace the stub with one call:
#   predict("f1_lift_lands", "uniform" | "head" | "mid" | "mid+tail" | "tail" | "none", "<one-line reason>")
### BEGIN SOLUTION
predict("f1_lift_lands", "tail", "the soft targets carry the most information on rare classes")
### END SOLUTION

# %%
require("f1_lift_lands")
f1_table = pd.DataFrame({name: per_tier_f1(labels, ps.preds, tiers)
                         for name, ps in [("teacher", teacher), ("vanilla", vanilla), ("distilled", distilled)]}).T
f1_table.loc["distilled - vanilla"] = f1_table.loc["distilled"] - f1_table.loc["vanilla"]
show(f1_table, "Macro F1 per tier")

# %% [markdown]
# A point difference is not yet a finding. The tail has a few hundred validation rows; a swing of a few
# correct answers moves its F1 a lot.
#
# ### Paired bootstrap
#
# The course's paired bootstrap is given: `bootstrap.paired_bootstrap(arm_a, arm_b, labels, tiers,
# metric="macro_f1", n_resamples=1000, seed=42)` resamples the rows of each tier with replacement (1,000
# times, one seeded `RandomState` per tier), scores **both arms on the same resampled rows** (that pairing
# cancels the difficulty the two arms share), and returns one row per tier: the median of
# `score(arm_b) - score(arm_a)`, the 2.5% and 97.5% quantiles (`ci_low`, `ci_high`; `np.quantile`'s default
# linear interpolation) and `excludes_zero` (strict: `ci_low > 0` or `ci_high < 0`; a bound exactly at 0
# does not exclude it).
# Per-tier macro F1 is taken over the tier's own label set, as in your `per_tier_f1`. (The homework asks
# you to write a bootstrap yourself.)
#
# Use it, then read it:
#
# * `f1_ci_table`: the per-tier bootstrap of **distilled minus vanilla** macro F1 on the full validation
#   set (predictions as the arms; think about which arm goes first).
# * `real_lift_tiers`: the set of tiers where distilled's F1 lift is real (the whole CI above zero).
# * `tail_reading`: the id of the statement below that reads the tail's interval correctly.

# %%
TAIL_READINGS = {
    "R1": "KD has no effect on the tail: the median is close to zero.",
    "R2": "The tail's interval is what decides: if it holds zero, the data cannot tell a gain from a loss of "
          "the sizes it spans; if it lies wholly on one side, the effect has that sign.",
    "R3": "The tail's median is what decides: above zero means KD helps the tail.",
    "R4": "Tail F1 cannot be bootstrapped: too few rows per class.",
}
for rid, text in TAIL_READINGS.items():
    print(rid, "-", text)

# %% role="solution" grade_id="lab_bootstrap_use_answer"
### BEGIN SOLUTION
f1_ci_table = bootstrap.paired_bootstrap(vanilla.preds, distilled.preds, labels, tiers, metric="macro_f1")
real_lift_tiers = {t for t in TIERS if f1_ci_table.loc[t, "ci_low"] > 0}
tail_reading = "R2"
### END SOLUTION

# %%
# Sanity checks (not graded): one row per tier, and each interval brackets its median.
assert list(f1_ci_table.index) == list(TIERS), "one row per tier: head, mid, tail"
assert (f1_ci_table["ci_low"] <= f1_ci_table["median"]).all() and (f1_ci_table["median"] <= f1_ci_table["ci_high"]).all()
assert real_lift_tiers <= set(TIERS) and tail_reading in TAIL_READINGS

# %% role="hidden_test" check="lab_bootstrap_ci" skill="the paired bootstrap used on the right arms, and its intervals read correctly"

# %%
f1_ci = f1_ci_table[["median", "ci_low", "ci_high", "excludes_zero"]].to_dict("index")
observe("f1_lift_lands", lift_pattern(f1_ci))
show(f1_ci_table, "Paired bootstrap: distilled - vanilla macro F1 per tier")
showfig(plots.tier_delta_bars(f1_ci, metric_name="macro F1", comparison="distilled - vanilla", source=SOURCE))

# %% [markdown]
# **Reconcile (one or two sentences).** Where did the lift land, and what does the CI let you say about the
# tiers where it includes zero? (Careful: "includes zero" is not "zero".)

# %% [markdown] role="manual" grade_id="lab_reconcile_f1_lift_lands" points=1
# {R("source_note")}I predicted the tail; the lift lands on the {R("lift_lands")} ({C("lift_lands_on_head")}head
# {R("boot_f1_head_median", "+.3f")}, CI [{R("boot_f1_head_ci_low", "+.3f")}, {R("boot_f1_head_ci_high", "+.3f")}]).
# The head has thousands of rows and a teacher that is confident and right there, so the soft targets refine
# decisions the student already nearly gets. {C("tail_lift_in_noise")}On the tail the CI
# [{R("boot_f1_tail_ci_low", "+.3f")}, {R("boot_f1_tail_ci_high", "+.3f")}] includes zero: we cannot tell the
# effect from noise with a few hundred rows, which is not the same as showing there is no effect.

# %% [markdown] role="reveal" name="f1_lift" after="f1_lift_lands"
# **Reveal 3.** {R("source_note")}Paired bootstrap, 1,000 resamples, distilled minus vanilla: head {R("boot_f1_head_median", "+.3f")}
# (95% CI [{R("boot_f1_head_ci_low", "+.3f")}, {R("boot_f1_head_ci_high", "+.3f")}]), mid
# {R("boot_f1_mid_median", "+.3f")} ([{R("boot_f1_mid_ci_low", "+.3f")}, {R("boot_f1_mid_ci_high", "+.3f")}]),
# tail {R("boot_f1_tail_median", "+.3f")} ([{R("boot_f1_tail_ci_low", "+.3f")}, {R("boot_f1_tail_ci_high", "+.3f")}]).
# {C("lift_lands_on_head")}{C("tail_lift_in_noise")}The lift is real on the head; on the tail the interval
# includes zero. {C("student_tail_below_teacher")}Both students stay below the teacher's tail F1
# ({R("vanilla_f1_tail")} and {R("distilled_f1_tail")} against {R("teacher_f1_tail")}): KD did not carry tail
# capacity across, because the teacher barely had it. The right sentence for a memo: "the tail lift is
# {R("boot_f1_tail_median", "+.3f")} with CI [{R("boot_f1_tail_ci_low", "+.3f")}, {R("boot_f1_tail_ci_high", "+.3f")}],
# inside the noise floor."

# %% [markdown]
# ### Prediction 4 of 4: does ECE follow F1?
#
# F1 measures the argmax. ECE measures whether the top-1 confidence matches accuracy. Does KD improve ECE
# only on the tiers where F1 improved? Both are judged the same way: an improvement counts only where its
# own paired-bootstrap CI excludes zero (F1's above zero; ECE's below zero, since lower ECE is better).
# Choose `"yes"` (ECE improves, outside the noise, exactly on the tiers where F1 did) or `"no"` (the two
# patterns differ).

# %% role="predict" key="ece_follows_f1"
# PREDICT before you run the cells below. Replace the stub with one call:
#   predict("ece_follows_f1", "yes" | "no", "<one-line reason>")
### BEGIN SOLUTION
predict("ece_follows_f1", "yes", "a better classifier should also be a better calibrated one")
### END SOLUTION

# %% [markdown]
# ### Per-tier ECE
#
# Write `per_tier_ece(probs, labels, tiers, n_bins=15)`.
#
# * `probs`: float array of shape `(n, n_classes)` (rows sum to 1); `labels`: integers `(n,)`; `tiers`:
#   strings `(n,)`.
# * Per tier: confidence = the row's top probability, correct = argmax equals the label. Use `n_bins`
#   equal-width bins on [0, 1]; a confidence `c` falls in bin `i` when `edges[i] < c <= edges[i + 1]`
#   (`edges = np.linspace(0, 1, n_bins + 1)`). ECE = sum over non-empty bins of
#   `(rows in bin / rows in tier) * |accuracy in bin - mean confidence in bin|`. One way to pick a bin's rows:
#   `for lo, hi in zip(edges[:-1], edges[1:]): in_bin = (conf > lo) & (conf <= hi)`.
# * **Return** a `dict` mapping each tier present to a Python `float`.

# %% role="solution" grade_id="lab_per_tier_ece_answer"
def per_tier_ece(probs, labels, tiers, n_bins=15):
    """Expected calibration error per tier (equal-width bins, (lo, hi]) -> {tier: float}."""
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

# %%
# Sanity check (not graded): a model that is always right with confidence 1 has ECE 0;
# always right with confidence 0.6 has ECE 0.4.
toy_p = np.array([[0.6, 0.4], [0.4, 0.6], [1.0, 0.0]])
toy = per_tier_ece(toy_p, np.array([0, 1, 0]), np.array(["head", "head", "tail"]))
print(toy)
assert abs(toy["head"] - 0.4) < 1e-9 and abs(toy["tail"]) < 1e-9

# %% role="hidden_test" check="lab_per_tier_ece" skill="per-tier expected calibration error"

# %%
require("ece_follows_f1")
ece_table = pd.DataFrame({name: per_tier_ece(ps.probs, labels, tiers)
                          for name, ps in [("teacher", teacher), ("vanilla", vanilla), ("distilled", distilled)]}).T
nll_table = pd.DataFrame({name: metrics.per_tier_nll(ps.probs, labels, tiers)
                          for name, ps in [("teacher", teacher), ("vanilla", vanilla), ("distilled", distilled)]}).T
# Each metric against its own noise: paired bootstraps of distilled - vanilla ECE and NLL, per tier.
cal_ci = pd.concat({metric: bootstrap.paired_bootstrap(vanilla.probs, distilled.probs, labels, tiers, metric=metric)
                    for metric in ("ece", "nll")})
ece_better = {t for t in TIERS if cal_ci.loc[("ece", t), "ci_high"] < 0}
f1_real = {t for t in TIERS if f1_ci[t]["ci_low"] > 0}
observe("ece_follows_f1", "yes" if ece_better == f1_real else "no")
show(pd.concat({"ECE": ece_table, "NLL": nll_table}, axis=1), "ECE and NLL per tier (full validation set)")
show(cal_ci, "Paired bootstrap: distilled - vanilla ECE and NLL per tier (below zero = KD better)")
showfig(plots.reliability_diagram({"teacher": teacher.probs, "vanilla": vanilla.probs,
                                   "distilled": distilled.probs}, labels, tiers, source=SOURCE))

# %% [markdown]
# **Reconcile, then explain the mechanism** (the explanation can be written after the session, due with the
# lab). Did ECE follow F1, tier by tier (cite each metric's CI)? In two or three sentences, explain what you
# observed. Use the words *target shape* and say what each loss's
# gradient does to the logits that are not the true class.

# %% [markdown] role="manual" grade_id="lab_ece_mechanism" points=2
# {R("source_note")}{C("ece_improves_every_tier_real")}No: ECE improves on every tier outside its own noise,
# including the tail where the F1 CI holds zero (tail ECE {R("vanilla_ece_tail")} to {R("distilled_ece_tail")},
# delta CI [{R("boot_ece_tail_ci_low", "+.3f")}, {R("boot_ece_tail_ci_high", "+.3f")}]). Both losses produce gradients on
# every logit; the difference is the target. With a one-hot target, CE keeps pushing the true class toward
# probability 1 and every other class toward 0, so a student trained long enough becomes overconfident
# everywhere. KD's target is the teacher's distribution, which is calibrated and keeps mass on plausible
# alternatives; matching it teaches the student how unsure to be, which changes confidence without having
# to change the argmax.

# %% [markdown] role="reveal" name="ece_vs_f1" after="ece_follows_f1"
# **Reveal 4.** {R("source_note")}{C("ece_improves_every_tier_real")}{C("ece_does_not_follow_f1")}KD lowers ECE on every
# tier, each outside its own paired-bootstrap noise: head {R("vanilla_ece_head")} to {R("distilled_ece_head")} (delta CI
# [{R("boot_ece_head_ci_low", "+.3f")}, {R("boot_ece_head_ci_high", "+.3f")}]), mid {R("vanilla_ece_mid")} to
# {R("distilled_ece_mid")} ([{R("boot_ece_mid_ci_low", "+.3f")}, {R("boot_ece_mid_ci_high", "+.3f")}]), tail
# {R("vanilla_ece_tail")} to {R("distilled_ece_tail")} ([{R("boot_ece_tail_ci_low", "+.3f")},
# {R("boot_ece_tail_ci_high", "+.3f")}]), including the tail, where the F1 interval includes zero.
# {C("nll_improves_every_tier_real")}NLL falls on every tier too, also outside its noise. Over the whole validation set, ECE drops
# by a factor of {R("ece_ratio_full", ".1f")} and NLL by {R("nll_cut_full", ".0%")}. Two things transferred at
# different rates: the argmax (capacity, bounded by the data) and the probability shape (calibration,
# which the dense target carries to every tier).
