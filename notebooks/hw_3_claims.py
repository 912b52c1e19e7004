"""Week 6 homework, Part 3: two claims from the literature (Test A: per_tier_js; Test B: the bootstrap).

Notebook source in the percent format (see nbsource.py); build with ``python notebooks/make_notebooks.py``.
"""

# %% [markdown]
# ## Part 3: two claims from the literature
#
# ### Test A (Stanton et al. 2021): does the student match the teacher?
#
# Stanton et al. found that distilled students do not fully match their teachers' distributions, even when they
# could. Measure it per tier with the Jensen-Shannon divergence between the teacher's and each student's
# probabilities.
#
# **Predict** first: on which tier does distillation close the **least** of the JS gap to the teacher (the
# smallest relative reduction, `1 - JS(teacher, distilled) / JS(teacher, vanilla)`)? `"head"`, `"mid"` or
# `"tail"`.

# %% role="predict" key="js_least_reduced_tier"
# PREDICT before you run the cells below. Replace the stub with one call:
#   predict("js_least_reduced_tier", "head" | "mid" | "tail", "<one-line reason>")
### BEGIN SOLUTION
predict("js_least_reduced_tier", "tail", "the teacher is flattest and least reliable on the tail")
### END SOLUTION

# %% [markdown]
# Write `per_tier_js(p, q, tiers)`.
#
# * `p`, `q`: probability arrays of shape `(n, n_classes)`; `tiers`: strings `(n,)`.
# * Clip both to `[1e-12, 1]`, let `m = (p + q) / 2`, and per row
#   `JS = 0.5 * sum(p * log(p / m)) + 0.5 * sum(q * log(q / m))` (natural log, so JS is in [0, ln 2]).
# * **Return** a `dict` mapping each tier present to the mean JS over that tier's rows, as a Python `float`.

# %% role="solution" grade_id="hw_per_tier_js_answer"
def per_tier_js(p, q, tiers):
    """Mean Jensen-Shannon divergence between rows of p and q, per tier -> {tier: float}."""
    ### BEGIN SOLUTION
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-12, 1.0)
    q = np.clip(np.asarray(q, dtype=np.float64), 1e-12, 1.0)
    tiers = np.asarray(tiers).astype(str)
    m = 0.5 * (p + q)
    js = 0.5 * (p * np.log(p / m)).sum(axis=1) + 0.5 * (q * np.log(q / m)).sum(axis=1)
    return {t: float(js[tiers == t].mean()) for t in ("head", "mid", "tail") if (tiers == t).any()}
    ### END SOLUTION

# %%
# Sanity check (not graded): identical distributions have JS 0; disjoint one-hots have ln 2.
toy = per_tier_js(np.array([[1.0, 0.0], [0.5, 0.5]]), np.array([[0.0, 1.0], [0.5, 0.5]]), np.array(["head", "tail"]))
print(toy)
assert abs(toy["head"] - np.log(2)) < 1e-6 and abs(toy["tail"]) < 1e-9

# %% role="hidden_test" check="hw_per_tier_js" skill="per-tier Jensen-Shannon divergence"

# %%
require("js_least_reduced_tier")
js_df = pd.DataFrame({"teacher vs vanilla": per_tier_js(teacher.probs, vanilla.probs, tiers),
                      "teacher vs distilled": per_tier_js(teacher.probs, distilled.probs, tiers)}).loc[list(TIERS)]
js_df["reduction"] = 1 - js_df["teacher vs distilled"] / js_df["teacher vs vanilla"]
observe("js_least_reduced_tier", js_df["reduction"].idxmin())
show(js_df, "Test A: JS divergence to the teacher (full validation set)")

# %% [markdown]
# **Test A, your answer (4 points).** Does your table support, qualify or contradict Stanton et al.'s claim?
# Cite the per-tier JS values and reductions, say on which tier the student stays furthest from its teacher, and
# give a mechanism for why that tier. Then the hard-label question: Busbridge et al. (2025, sec. E.8) trained the
# same student on the same data with the teacher's full distribution (student ECE 0.1-0.6%) or only its top-1
# label (student ECE 22-39%). Which of the two did this week's distilled student get, and what does your JS table
# say a hard-label student would have lost? There is no hard-label *distilled* arm here: use **vanilla** as the
# proxy (trained on one-hot gold labels only, so it saw no teacher shape at all), and say in one sentence how it
# differs from Busbridge's top-1 KD (the teacher's argmax as the label, wrong wherever the teacher is wrong).

# %% [markdown] role="manual" grade_id="hw_test_a" points=4
# {R("source_note")}{C("js_distilled_closer_every_tier")}{C("js_gap_least_closed_on_tail")}Supported: KD moves the
# student toward the teacher on every tier (JS reduction {R("js_reduction_head", ".0%")} head,
# {R("js_reduction_mid", ".0%")} mid, {R("js_reduction_tail", ".0%")} tail), yet the remaining divergence is far from
# zero, and the student stays furthest from its teacher on the {R("js_least_reduced_tier")}, where the teacher's
# targets are flattest and the student has the fewest examples to fit them. This week's student got the full
# distribution (Hinton-style KD over all 113 classes). With vanilla as the hard-label proxy, the JS reduction is
# exactly what a hard-label student would have lost: the shape it never saw. The proxy is generous to top-1 KD in
# one way (gold labels are never wrong, the teacher's argmax sometimes is) and otherwise the same one-hot target;
# Busbridge's 0.1-0.6% versus 22-39% ECE is that loss at scale.

# %% [markdown] role="reveal" name="test_a" after="js_least_reduced_tier"
# **Reveal: Test A.** {R("source_note")}{C("js_distilled_closer_every_tier")}The distilled student is closer to the
# teacher on every tier, but the reduction shrinks down the tail: {R("js_reduction_head", ".0%")} on the head,
# {R("js_reduction_mid", ".0%")} on the mid tier and {R("js_reduction_tail", ".0%")} on the tail. The student matches
# its teacher least where the teacher's targets carry the most spread and the data the least support: Stanton's
# claim, measured per tier.

# %% [markdown]
# ### Test B (Han Guo et al. 2021): is KD a calibration regularizer that T-scaling reproduces?
#
# Write `reproducible_fraction(ece_vanilla, ece_vanilla_t, ece_distilled)`: the share of KD's ECE gain
# that temperature scaling reproduces. **Return** the float
# `(ece_vanilla - ece_vanilla_t) / (ece_vanilla - ece_distilled)` (above 1 means T-scaling did better than KD).

# %% role="solution" grade_id="hw_reproducible_fraction_answer"
def reproducible_fraction(ece_vanilla, ece_vanilla_t, ece_distilled):
    """T-scaling's ECE gain as a fraction of KD's ECE gain -> float."""
    ### BEGIN SOLUTION
    return float((ece_vanilla - ece_vanilla_t) / (ece_vanilla - ece_distilled))
    ### END SOLUTION

# %%
assert abs(reproducible_fraction(0.13, 0.03, 0.05) - 1.25) < 1e-12   # sanity check (not graded)

# %% role="hidden_test" check="hw_reproducible_fraction" skill="the share of KD's ECE gain that temperature scaling reproduces"

# %%
frac = reproducible_fraction(arms_df.loc["vanilla", "ece"], arms_df.loc["vanilla+T", "ece"], arms_df.loc["distilled", "ece"])
print(f"T-scaling reproduces {frac:.0%} of KD's ECE gain on the eval half.")
show(arms_df.loc[["vanilla", "vanilla+T", "distilled", "distilled+T"], ["ece", "nll"]], "Test B: the arms on the eval half")

# %% [markdown]
# Is the NLL gap between distilled and vanilla + T real? Write the **paired bootstrap** yourself this time (the
# lab gave you the course's; same protocol).
# `paired_bootstrap_ci(score_fn, arm_a, arm_b, labels, n_resamples=1000, seed=42)`: one
# `np.random.RandomState(seed)`; per resample `idx = rng.randint(0, n, size=n)`, the same `idx` for both arms;
# delta = `score_fn(arm_b[idx], labels[idx]) - score_fn(arm_a[idx], labels[idx])`. **Return** a `dict` with
# float `median`, `ci_low` (2.5%), `ci_high` (97.5%) and bool `excludes_zero`.
#
# Conventions the check relies on: the three numbers are `np.quantile(deltas, [0.025, 0.5, 0.975])` with NumPy's
# default method (`"linear"`, interpolating between order statistics); `excludes_zero` is **strict**,
# `ci_low > 0 or ci_high < 0`, so an interval with a bound exactly at 0 does *not* exclude zero (with few rows,
# such as the tail's, a bound of exactly 0.0 happens). The deltas are in the metric's own units (NLL in nats,
# ECE and F1 as fractions, not percent).

# %% role="solution" grade_id="hw_bootstrap_ci_answer"
def paired_bootstrap_ci(score_fn, arm_a, arm_b, labels, n_resamples=1000, seed=42):
    """Paired bootstrap of score(b) - score(a) -> {median, ci_low, ci_high, excludes_zero}."""
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

# %% role="hidden_test" check="hw_bootstrap_ci" skill="a paired bootstrap CI applied to an ECE or NLL delta"

# %%
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
require("t_ece_gap_real")
observe("t_ece_gap_real", "yes" if test_b.loc["ECE: distilled - vanilla+T", "excludes_zero"] else "no")
show(test_b, "Test B: paired bootstrap on the eval half")

# %% [markdown]
# **Test B, your answer (4 points).** (1) What share of KD's ECE gain does temperature scaling reproduce on your
# eval half, and is the ECE difference between distilled and vanilla + T outside the noise (cite the CI)? (2) Han
# Guo et al. report "about 111%". Their ratio answers a different question: they temperature-scaled the *teacher*,
# distilled it, and asked how much of the teacher's calibration improvement the *student* inherited. Say what your
# ratio divides by what, and why the two numbers are not a replication or a contradiction of each other. (3) Why
# does NLL not follow ECE here? Give the mechanism in terms of what one global temperature can and cannot change.

# %% [markdown] role="manual" grade_id="hw_test_b" points=4
# {R("source_note")}{C("repro_fraction_above_one")}{C("kd_wins_nll")}{C("distilled_ece_gap_real")}{C("distilled_nll_gap_real")}(1)
# T-scaling cuts ECE by {R("ece_gain_t", ".4f")} and KD by {R("ece_gain_kd", ".4f")}: it reproduces
# {R("repro_fraction", ".0%")} of KD's gain, and the ECE delta (distilled minus vanilla + T) is outside the noise, CI
# [{R("boot_ece_distilled_vs_vt_ci_low", "+.3f")}, {R("boot_ece_distilled_vs_vt_ci_high", "+.3f")}]. (2) My ratio divides one fitted temperature's ECE gain on the vanilla student by KD's
# ECE gain, both from the same raw vanilla on the same eval half; Han Guo's 111% divides the student's inherited
# calibration gain by a temperature-scaled teacher's own gain. Different numerators, denominators and models: the
# two percentages measure different things, so neither confirms nor refutes the other. (3) ECE only asks whether
# top-1 confidence matches accuracy, and a global temperature is exactly the operation that aligns those two. NLL
# scores the probability of the true class, which depends on how the mass is spread over the wrong classes on each
# row; T rescales every row the same way and cannot move mass from one wrong class to another, which KD learned
# from the teacher. So KD keeps the lower NLL ({R("eval_distilled_nll")} against {R("eval_vanilla_t_nll")}, delta CI
# [{R("boot_nll_distilled_vs_vt_ci_low", "+.3f")}, {R("boot_nll_distilled_vs_vt_ci_high", "+.3f")}]).

# %% [markdown] role="reveal" name="test_b" after="t_ece_gap_real"
# **Reveal: Test B.** {R("source_note")}{C("distilled_ece_gap_real")}{C("repro_fraction_above_one")}{C("kd_wins_nll")}Is the
# ECE gap outside the noise? {R("ece_gap_real")}: distilled minus vanilla + T ECE has CI
# [{R("boot_ece_distilled_vs_vt_ci_low", "+.3f")}, {R("boot_ece_distilled_vs_vt_ci_high", "+.3f")}] on the eval half,
# its own floor, not F1's. T-scaling cuts ECE by {R("ece_gain_t", ".4f")} and KD by {R("ece_gain_kd", ".4f")}: a
# reproducible fraction of {R("repro_fraction", ".0%")}, more than all of KD's gain. NLL goes the other way: distilled {R("eval_distilled_nll")}
# against vanilla + T {R("eval_vanilla_t_nll")}. Han Guo's claim holds for top-1 calibration and fails for the full
# distribution; their "about 111%" measures inheritance from a calibrated teacher, not this direct comparison.
# {C("kd_t_best_ece")}{C("kd_t_beats_kd_nll")}The two are not rivals: a temperature on top of the distilled student
# (distilled + T) has the lowest ECE of the arms, {R("eval_distilled_t_ece")}, and keeps KD's NLL advantage
# ({R("eval_distilled_t_nll")}), at the price of the held-out fold.
