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
# ### The numbers the memo needs
#
# Memo 2 asks for per-tier F1 with CIs next to the calibration metrics, each against its own noise: the cell below
# bootstraps distilled minus vanilla on the full validation set, per tier, for macro F1, ECE and NLL (1,000
# resamples, seed 42; below zero is better for ECE and NLL). Memo 3's floors are Part 2's `noise_df`.

# %%
tier_ci = pd.concat({
    "macro_f1": bootstrap.paired_bootstrap(vanilla.preds, distilled.preds, labels, tiers, metric="macro_f1"),
    "ece": bootstrap.paired_bootstrap(vanilla.probs, distilled.probs, labels, tiers, metric="ece"),
    "nll": bootstrap.paired_bootstrap(vanilla.probs, distilled.probs, labels, tiers, metric="nll"),
})
per_tier = pd.DataFrame({name: metrics.evaluate(sets[key].logits, labels, tiers) for name, key in
                         [("teacher", "teacher_val"), ("vanilla", "vanilla"), ("distilled", "distilled")]}).T
show(per_tier[[f"{m}_{t}" for m in ("f1", "ece", "nll") for t in TIERS]], "Per tier, full validation set")
show(tier_ci, "Paired bootstrap per tier: distilled - vanilla (full validation set)")

# %% [markdown]
# Memo 5 reaches back to Weeks 4-5. What this week's data can tell you about the **label compression** is below
# (the course's data preparation, the same facts the lab opened with); the **quantization** numbers are in your
# own Week 5 notebook, not in this one: cite them from there, with the week, or say plainly that you do not have
# them at hand.
#
# | label-space fact | value | source |
# | --- | --- | --- |
# | canonical classes after merging raw labels and dropping those under 5 examples | 113 | the course's `label_list.json` (data preparation, Weeks 4-5) |
# | head-to-tail class frequency ratio (training) | about 2,666 : 1 | the course's canonical split |
# | tier sizes on validation: head / mid / tail rows | the `tiers` counts printed by the set-up cell | this notebook |

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
# {R("source_note")}{C("winner_b_meets_cap")}{C("distilled_misses_ece_cap")}{C("kd_wins_nll")}{C("winner_b_not_vanilla_t")}{C("b_leader_tied")}For
# scenario B I ship **{R("winner_b")}**. Among the five arms on the eval half ({R("n_eval")} rows), only
# {R("b_qualifying_arms")} meet the ECE cap of 0.05; of those, {R("winner_b")} has the lowest NLL ({R("winner_b_nll")},
# ECE {R("winner_b_ece")}, macro F1 {R("winner_b_f1")}), beating vanilla + T outside the noise (NLL delta CI
# [{R("boot_nll_winner_vs_vt_ci_low", "+.3f")}, {R("boot_nll_winner_vs_vt_ci_high", "+.3f")}]) but tied within it with
# {R("tied_with_leader_b")}: I do not claim it is the single best, and I pick it among the tied arms for its ECE
# headroom under the cap. The lab's raw distilled student misses the cap (ECE {R("eval_distilled_ece")}). At a
# threshold of 0.70 {R("winner_b")} decides {R("winner_b_cov_70", ".1%")} of complaints automatically at
# {R("winner_b_covacc_70", ".1%")} accuracy and sends the rest to review; it first reaches 95% accuracy at
# {R("winner_b_lowest_t95")}. It costs the same to serve as vanilla (one 149M encoder plus one division); what it
# needs beyond that is the held-out cal fold for its temperature, refitted whenever the model changes.
# {C("grid_pick_b_meets_cap")}If that fold could not be kept (no labels to spare, no refits), I would switch to
# {R("grid_pick_b")}, which meets the cap without a temperature (ECE {R("winner_b_grid_ece")}).
#
# **For graders: misconceptions to flag.**
#
# * shipping the lab's distilled student for B although its eval-half ECE is above 0.05
# * calling the point leader "the best" when its CI-based verdict is a tie (a tie, reported as one, is correct)
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
# **Memo 3. Hyperparameters versus the noise floor (15 points).** Does choosing T_d and alpha matter on this dataset? Compare the grid's spread on each metric with **that metric's own** noise floor (Part 2's `noise_df`: the paired-bootstrap CI of best minus worst config on the same eval rows; F1, tail F1, ECE and NLL each have one), say which metrics a hyperparameter choice can defend and which it cannot, and whether any config is a leader outside the noise. Mention the two runs of T_d 4, alpha 0.7.
#
# | points | what earns them |
# | --- | --- |
# | 14-15 | each metric's spread is set against its own CI on the same split, the conclusion is drawn per metric from those CIs (not from another metric's floor), a tie is reported as a tie, and the memo names the config it would choose for its own metric |
# | 11-13 | the right comparison with one imprecision (a number from a different split, one metric judged against another metric's CI) |
# | 7-10 | a spread is reported without a noise floor, or the noise floor without a spread |
# | 3-6 | "the best config is X" from point estimates alone |
# | 0-2 | no comparison |

# %% [markdown] role="manual" grade_id="hw_memo_3_noise_floor" points=15
# {R("source_note")}{C("grid_f1_no_leader")}{C("grid_ece_spread_real")}{C("grid_nll_spread_real")}{C("grid_tail_spread_in_noise")}Each
# metric against its own paired bootstrap (best minus worst config, eval half): macro F1 spreads by
# {R("grid_f1_spread", ".4f")}, CI [{R("boot_grid_f1_ci_low", "+.4f")}, {R("boot_grid_f1_ci_high", "+.4f")}], and no config
# beats every other one on F1 outside the noise, so no F1 ranking is defensible; tail F1 spreads by
# {R("grid_f1_tail_spread", ".4f")}, CI [{R("boot_grid_f1_tail_ci_low", "+.4f")}, {R("boot_grid_f1_tail_ci_high", "+.4f")}],
# inside the noise. ECE spreads by {R("grid_ece_spread", ".4f")}, CI [{R("boot_grid_ece_ci_low", "+.4f")},
# {R("boot_grid_ece_ci_high", "+.4f")}], and NLL by {R("grid_nll_spread", ".4f")}, CI [{R("boot_grid_nll_ci_low", "+.4f")},
# {R("boot_grid_nll_ci_high", "+.4f")}]: both outside the noise, so T_d and alpha decide calibration, not capacity.
# {C("rerun_gap_in_noise")}The same config trained twice (distilled and grid_Td4_a70) differs by
# {R("rerun_f1_gap", "+.4f")} F1, a reminder that seed noise sits on top of row noise. {C("grid_pick_b_meets_cap")}For
# scenario B, {R("grid_pick_b")} meets the cap with the lowest NLL of the grid, though it is not separated from every
# other capped config.
#
# **For graders: misconceptions to flag.**
#
# * picking the F1-best grid config as if the difference were real
# * judging the ECE or NLL spread against the F1 CI (each metric has its own floor)
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
# **Memo 5. Capstone: three compressions, one ceiling (30 points).** This term compressed three things: the label space (classes merged and dropped, Weeks 4-5), the weights (quantization, Week 5) and the knowledge (distillation, this week). For each, say what it preserved and what it did not recover, with a number: the label-space table above for Weeks 4-5, your own Week 5 notebook for quantization (or say you do not have it), this notebook for distillation. Then defend one deployment recommendation for this 113-class long-tail task and name the data ceiling explicitly: what no recipe on this data budget will buy, and what would.
#
# | points | what earns them |
# | --- | --- |
# | 27-30 | all three compressions with what each preserved and did not recover, a sourced number for each that has one (label table, own Week 5 notebook, this notebook), a recommendation that follows from them, and the ceiling named with the lever that moves it |
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
