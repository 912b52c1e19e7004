"""Week 6 homework, Part 4: coverage carry-overs, then the five memo prompts with their bands.

Notebook source in the percent format (see nbsource.py); build with ``python notebooks/make_notebooks.py``.
"""

# %% [markdown]
# ## Part 4: coverage carry-overs and the memo
#
# Write `coverage_table(probs, labels, thresholds=(0.5, 0.6, 0.7, 0.8, 0.9))` again (same contract as the
# lab): covered rows have top-1 confidence `>= T`; **return** a DataFrame with exactly the columns
# `threshold`, `coverage`, `accuracy` (NaN when nothing is covered) and `n_covered` (int), one row per
# threshold in order.

# %% role="solution" grade_id="hw_coverage_table_answer" same_as="lab_coverage_table_answer"

# %% role="hidden_test" check="hw_coverage_table" skill="the threshold / coverage table, including a threshold that covers nothing"

# %% [markdown]
# Now three names, each used by the cells after this one:
#
# * `DEPLOY_MODEL`: the arm you ship, a row name of `arms_df` (your scenario's winner, or your argued exception).
# * `fine`: `coverage_table(p_ev[DEPLOY_MODEL], y_ev, thresholds=answers.FINE_THRESHOLDS)`, your model's table on
#   the eval half at the ten thresholds 0.50, 0.55, ..., 0.95.
# * `carry_over`: a `dict` with exactly these keys, each read from `fine`:
#   `"model"` (str, `DEPLOY_MODEL`); `"coverage_at_0.70"` and `"accuracy_at_0.70"` (floats in [0, 1]);
#   `"n_covered_at_0.70"` (int); `"lowest_threshold_95"`: the **lowest threshold in `fine`** whose accuracy is
#   **at least 0.95** (a float such as `0.9`; a threshold that covers nothing has NaN accuracy and never reaches),
#   or the string `"none"` when no threshold in `fine` reaches 0.95.
#
# For scenario C (no per-complaint threshold) fill them in all the same: the memo says why the dashboard does not
# use them.

# %% role="solution" grade_id="hw_carry_over"
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

# %%
answers.check_carry_over(carry_over, fine, arms=arms_df.index)
show(fine, f"Coverage table for {DEPLOY_MODEL} on the eval half")
showfig(plots.coverage_curves(p_ev, y_ev, source=SOURCE, target_accuracy=0.95))

# %% [markdown]
# ### The memo
#
# Five prompts, graded by a person with the points shown. Cite numbers from this notebook's tables, with
# CIs where you have them. Plain prose, no more than about 250 words per prompt. Under each prompt, the bands say
# what earns which points; the graders also flag common misconceptions.

# %% [markdown]
# **Memo 1. Recommendation (25 points).** Which recipe do you ship for your scenario, at which threshold (or, for C, with which aggregate), and why? Cite at least three numbers from your tables, each with its split (full validation or eval half) and its CI where you have one. Say what you give up and what would make you switch.
#
# | points | what earns them |
# | --- | --- |
# | 23-25 | the shipped recipe meets the scenario's hard constraint on the eval half, is the best of the measured arms on the primary metric, and the memo says so with three or more correctly cited numbers, the cost to serve, what is given up and the switch point |
# | 18-22 | a defensible recipe with the constraint checked and numbers cited, but the trade-off or the switch point is vague |
# | 12-17 | a recipe and some numbers, but the constraint is not checked, or a number is on the wrong split |
# | 5-11 | a recommendation without the numbers that support it, or one that breaks the scenario's constraint |
# | 0-4 | no recommendation, or one that contradicts the student's own tables |

# %% [markdown] role="manual" grade_id="hw_memo_1_recommendation" points=25
# {R("source_note")}{C("winner_b_meets_cap")}{C("distilled_misses_ece_cap")}{C("kd_wins_nll")}{C("winner_b_not_vanilla_t")}For scenario B I ship
# **{R("winner_b")}**. Among the four arms on the eval half ({R("n_eval")} rows), only {R("b_qualifying_arms")}
# meet the ECE cap of 0.05; of those, {R("winner_b")} has the lowest NLL ({R("winner_b_nll")}, ECE
# {R("winner_b_ece")}, macro F1 {R("winner_b_f1")}). The lab's distilled student has the better NLL of the two
# original students ({R("eval_distilled_nll")}) but misses the cap (ECE {R("eval_distilled_ece")}), so it cannot
# ship. At a threshold of 0.70 {R("winner_b")} decides {R("winner_b_cov_70", ".1%")} of complaints automatically at
# {R("winner_b_covacc_70", ".1%")} accuracy and sends the rest to review; it first reaches 95% accuracy at
# {R("winner_b_lowest_t95")}. It costs the same to serve as vanilla (one 149M encoder); I give up a second
# training run's cost. If the regulator tightened the cap below {R("winner_b_ece")}, I would switch to vanilla + T
# (ECE {R("eval_vanilla_t_ece")}) and accept its worse NLL ({R("eval_vanilla_t_nll")}).
#
# **For graders: misconceptions to flag.**
#
# * shipping the lab's distilled student for B although its eval-half ECE is above 0.05
# * comparing ECE on the full validation set with a T fitted on part of it (the T must come from the cal half)
# * a threshold for scenario C: it is an aggregate dashboard, nothing is routed per complaint
# * a latency claim for A that was not measured on the serving GPU

# %% [markdown]
# **Memo 2. What KD did not fix: task, data or method? (15 points).** Name what distillation did not fix on this dataset, and attribute each gap to the task (113 labels, some near-duplicates), the data (single-digit tail support) or the method (what KD can carry). Separate capacity (per-tier F1 with CIs) from calibration (ECE, NLL, JS), with a number for each.
#
# | points | what earns them |
# | --- | --- |
# | 14-15 | each unfixed gap is attributed to task, data or method with a reason, capacity and calibration are separated, and every claim has a number (with a CI for F1 deltas) |
# | 11-13 | the attribution is right for most gaps, with numbers, but one is asserted without evidence |
# | 7-10 | capacity and calibration are separated but the attribution is missing or generic |
# | 3-6 | "KD helped a little" without separating what it did and did not move |
# | 0-2 | no attribution, or claims contradicting the tables |

# %% [markdown] role="manual" grade_id="hw_memo_2_not_fixed" points=15
# {R("source_note")}{C("student_tail_below_teacher")}{C("tail_lift_in_noise")}{C("ece_improves_every_tier")}Not
# fixed, data: tail F1. The teacher itself reaches only {R("teacher_f1_tail")} on the tail and both students stay
# below it ({R("vanilla_f1_tail")} and {R("distilled_f1_tail")}); the tail's F1 delta is
# {R("boot_f1_tail_median", "+.3f")}, CI [{R("boot_f1_tail_ci_low", "+.3f")}, {R("boot_f1_tail_ci_high", "+.3f")}],
# inside the noise. A teacher cannot pass on skill that single-digit support never gave it. Not fixed, method:
# the distribution match. JS to the teacher falls by only {R("js_reduction_tail", ".0%")} on the tail against
# {R("js_reduction_head", ".0%")} on the head, so the student does not fully match its teacher (Stanton). Task:
# merged and near-duplicate labels cap everyone's F1 alike. What KD did fix is calibration: ECE falls on every
# tier, full validation {R("vanilla_ece")} to {R("distilled_ece")}.
#
# **For graders: misconceptions to flag.**
#
# * reading a CI that includes zero as "KD has no effect on the tail" (it means: cannot tell)
# * blaming the method for the tail when the teacher's own tail F1 sets the ceiling (data)
# * treating a calibration gain as a capacity gain

# %% [markdown]
# **Memo 3. Hyperparameters versus the noise floor (15 points).** Does choosing T_d and alpha matter on this dataset? Compare the grid's spread on each metric with the noise floor (the width of a paired-bootstrap CI on the same rows), and say which metrics a hyperparameter choice can defend and which it cannot.
#
# | points | what earns them |
# | --- | --- |
# | 14-15 | spreads and the noise floor are cited on the same split, the conclusion differs by metric (F1 inside the noise, ECE outside) and the memo names the config it would choose for its own metric |
# | 11-13 | the right comparison with one imprecision (a number from a different split, no CI width) |
# | 7-10 | a spread is reported without a noise floor, or the noise floor without a spread |
# | 3-6 | "the best config is X" from point estimates alone |
# | 0-2 | no comparison |

# %% [markdown] role="manual" grade_id="hw_memo_3_noise_floor" points=15
# {R("source_note")}{C("grid_f1_inside_noise")}{C("grid_ece_spread_real")}Across the six grid configs on the
# eval half, macro F1 moves by {R("grid_f1_spread", ".4f")}, less than the {R("boot_f1_eval_ci_width", ".4f")}
# width of the paired-bootstrap CI of distilled minus vanilla on the same rows: no F1 ranking inside the grid is
# defensible. ECE moves by {R("grid_ece_spread", ".4f")}, which is not noise: the choice of T_d and alpha decides
# calibration, not capacity. {C("grid_pick_b_meets_cap")}For scenario B that is the metric that matters, and
# {R("grid_pick_b")} is the
# config that meets the cap with the lowest NLL.
#
# **For graders: misconceptions to flag.**
#
# * picking the F1-best grid config as if the difference were real
# * comparing a full-validation spread with an eval-half CI
# * concluding that hyperparameters never matter: ECE moves well outside the noise

# %% [markdown]
# **Memo 4. The next recipe (15 points).** Pick one cross-week recipe you did not run (a quantized distilled student; vanilla + T + int8; distilled with the merged labels reverted) and predict, with a mechanism, where it would land on your scenario's metric. Name your scenario.
#
# | points | what earns them |
# | --- | --- |
# | 14-15 | a recipe, a numeric prediction on the scenario's metric, a mechanism that names what the change does to logits or labels, and what measurement would falsify it |
# | 11-13 | a recipe and a mechanism, the prediction not numeric or not on the scenario's metric |
# | 7-10 | a recipe with a plausible direction but no mechanism |
# | 3-6 | a recipe without a prediction |
# | 0-2 | nothing specific |

# %% [markdown] role="manual" grade_id="hw_memo_4_next_recipe" points=15
# {R("source_note")}Scenario B, recipe: a quantized (int8) {R("winner_b")} with its temperature refitted on the
# cal half after quantization. int8 keeps the argmax almost everywhere, so macro F1 stays near
# {R("winner_b_f1")}; Week 5's int4 drift was on tail calibration, and a temperature refitted after quantization
# absorbs a global shift but not a per-class one, so I predict ECE within 0.01 of today's {R("winner_b_ece")},
# still under the 0.05 cap, and NLL a little worse than {R("winner_b_nll")}. It would be falsified by a refitted
# ECE above the cap on the eval half.
#
# **For graders: misconceptions to flag.**
#
# * assuming quantization changes the argmax broadly (it mostly does not; calibration drifts on the tail)
# * predicting that reverting merged labels raises macro F1 (it adds classes with a handful of examples)

# %% [markdown]
# **Memo 5. Capstone: three compressions, one ceiling (30 points).** This term compressed three things: the label space (classes merged and dropped, Weeks 4-5), the weights (quantization, Week 5) and the knowledge (distillation, this week). For each, say what it preserved and what it did not recover, with a number from this term. Then defend one deployment recommendation for this 113-class long-tail task and name the data ceiling explicitly: what no recipe on this data budget will buy, and what would.
#
# | points | what earns them |
# | --- | --- |
# | 27-30 | all three compressions with what each preserved and did not recover, numbers from this notebook for distillation, a recommendation that follows from them, and the ceiling named with the lever that moves it |
# | 21-26 | the three compressions and a recommendation, one link weak or one number missing |
# | 14-20 | two compressions, or a recommendation not tied to them |
# | 6-13 | a summary of the term without a recommendation or without the ceiling |
# | 0-5 | generic statements about distillation |

# %% [markdown] role="manual" grade_id="hw_memo_5_capstone" points=30
# {R("source_note")}{C("data_shift_beats_kd")}{C("student_tail_below_teacher")}Label compression kept 113
# learnable classes and dropped the classes too rare to keep; weight compression kept accuracy at a fraction of
# the memory but drifted tail calibration; knowledge compression (KD) kept the teacher's calibration shape (ECE
# {R("vanilla_ece")} to {R("distilled_ece")} on full validation) but not its capacity: the F1 lift is
# {R("kd_lift", "+.3f")}, while more representative data bought {R("data_shift", "+.3f")}. Every compression met the
# same wall: tail classes with single-digit support, where even the teacher scores {R("teacher_f1_tail")}. I would
# ship a calibrated small student ({R("winner_b")} for B) with a confidence threshold, route the rest to people, and
# spend the next budget on labelling tail examples, the only lever the numbers say moves the tail.
#
# **For graders: misconceptions to flag.**
#
# * claiming distillation broke the data ceiling (the tail stays below the teacher's)
# * claiming scale would: the 32B teacher hits the same tail
# * a recommendation that needs new labels while claiming the data budget is fixed, without saying so
