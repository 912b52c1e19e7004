"""Week 6 lab, Act 3: the data confound, calibration, coverage_table, the deployment decision, memo prompts.

Notebook source in the percent format (see nbsource.py); build with ``python notebooks/make_notebooks.py``.
"""

# %% [markdown]
# ## Act 3: synthesis
#
# ### 3a. The data confound
#
# This term's Week 1 baseline was the same ModernBERT-base trained with CE on the *train split only*.
# This week's students trained on train + test. Put the two lifts side by side.

# %%
confound_df = pd.DataFrame({
    "training data": ["train only", "train + test", "train + test"],
    "loss": ["CE", "CE", "KD (T_d 4, alpha 0.7)"],
    "macro_f1": [WEEK1_BASELINE_F1, headline.loc["vanilla", "macro_f1"], headline.loc["distilled", "macro_f1"]],
}, index=["week 1 baseline (recorded)", "vanilla", "distilled"])
confound_df["lift"] = confound_df["macro_f1"].diff()
show(confound_df, "The data confound: what the data shift bought vs what KD bought")
print(f"data shift / KD lift = {confound_df['lift'].iloc[1] / confound_df['lift'].iloc[2]:.1f}x")

# %% [markdown]
# {R("source_note")}{C("data_shift_beats_kd")}Showing the same model more representative data bought {R("data_shift", "+.3f")}
# macro F1; distillation bought {R("kd_lift", "+.3f")}, about {R("data_kd_ratio", ".1f")} times less. The memo
# question is therefore not "did distillation help?" but "with the data budget fixed, which cheapest recipe
# delivers the property my scenario needs?"
#
# ### 3b. Calibration, fairly compared
#
# Temperature scaling divides the logits by one number $T$ fitted on held-out data. To compare it with KD
# fairly, split validation in two halves (`calibration.cal_eval_split`): fit $T$ on the **cal** half, and
# score every arm on the **eval** half.
#
# Temperature scaling can sit on top of either student, so the table has both `vanilla+T` and `distilled+T`
# (each with its own $T$, fitted on the cal half).
#
# The `cost to serve` column is what each arm costs per prediction: vanilla and distilled are the same
# ModernBERT-base (149M parameters) with the same input length, so they cost exactly the same to serve. KD's
# price is paid once, in training (a teacher run plus about 80 T4-minutes per student), never at inference.
# Temperature scaling adds one division at inference, but its real price is data: a **held-out labelled fold**
# that neither trains the model nor scores it (here half of validation, the cal half), and a refit whenever the
# model or the input distribution changes. The teacher is the 32B model the students replace.

# %%
cal_idx, eval_idx = calibration.cal_eval_split(len(labels), seed=42)
T_vanilla = calibration.fit_temperature(vanilla.logits[cal_idx], labels[cal_idx])
T_distilled = calibration.fit_temperature(distilled.logits[cal_idx], labels[cal_idx])
arms = {"teacher": teacher.logits, "vanilla": vanilla.logits,
        "vanilla+T": calibration.apply_temperature(vanilla.logits, T_vanilla), "distilled": distilled.logits,
        "distilled+T": calibration.apply_temperature(distilled.logits, T_distilled)}
calibration_df = metrics.as_frame({name: metrics.evaluate(z[eval_idx], labels[eval_idx], tiers[eval_idx])
                                   for name, z in arms.items()})[["ece", "nll", "macro_f1", "f1_tail"]]
calibration_df["cost to serve"] = {"teacher": "32B (Qwen3-32B + LoRA)", "vanilla": "149M ModernBERT-base",
                                   "vanilla+T": "149M + one division; a held-out fold to fit T",
                                   "distilled": "149M ModernBERT-base",
                                   "distilled+T": "149M + one division; a held-out fold to fit T"}
print(f"T fitted on the cal half (n = {len(cal_idx):,}): vanilla {T_vanilla:.3f}, distilled {T_distilled:.3f}; "
      f"eval half n = {len(eval_idx):,}")
show(calibration_df, "Calibration on the eval half (T fitted on the cal half)")
eval_probs = {name: metrics.softmax(z[eval_idx]) for name, z in arms.items()}
showfig(plots.reliability_diagram({k: eval_probs[k] for k in ("vanilla", "vanilla+T", "distilled", "distilled+T")},
                                  labels[eval_idx], tiers[eval_idx], source=SOURCE))

# %% [markdown]
# The eval half has {R("n_eval")} rows; each $T$ was fitted on the other {R("n_cal")}. {C("tscaling_keeps_f1")}Temperature
# scaling cannot change the argmax, so a `+T` arm's macro F1 equals its base model's. Read the ECE and NLL
# columns yourself; whether a gap between two arms is more than resampling noise is a question for each
# metric's own paired bootstrap, which the homework runs (Test B).
#
# ### 3c. Thresholds and coverage
#
# A common deployment: act automatically when the top-1 confidence is at least a threshold, send the rest
# to a person. Write `coverage_table(probs, labels, thresholds=(0.5, 0.6, 0.7, 0.8, 0.9))`.
#
# * `probs`: `(n, n_classes)` probabilities; `labels`: integers `(n,)`.
# * For each threshold `T`: the covered rows are those with top-1 confidence `>= T`.
#   `coverage` = covered rows / n; `accuracy` = accuracy of the argmax on the covered rows, or `NaN` when no
#   row is covered (not 0: there is nothing to be right about); `n_covered` = the number of covered rows (int).
# * **Return** a `pandas.DataFrame` with one row per threshold, in the given order, and exactly the columns
#   `threshold`, `coverage`, `accuracy`, `n_covered`.

# %% role="solution" grade_id="lab_coverage_table_answer"
def coverage_table(probs, labels, thresholds=(0.5, 0.6, 0.7, 0.8, 0.9)):
    """Coverage and accuracy above each confidence threshold -> DataFrame."""
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

# %%
# Sanity check (not graded): a threshold nobody reaches covers nothing, and its accuracy is NaN.
toy = coverage_table(np.array([[0.9, 0.1], [0.55, 0.45]]), np.array([0, 1]), thresholds=(0.5, 0.95))
print(toy)
assert list(toy.columns) == ["threshold", "coverage", "accuracy", "n_covered"]
assert toy["n_covered"].tolist() == [2, 0] and np.isnan(toy["accuracy"].iloc[1])

# %% role="hidden_test" check="lab_coverage_table" skill="the threshold / coverage table, including a threshold that covers nothing"

# %%
coverage_tables = {name: coverage_table(eval_probs[name], labels[eval_idx])
                   for name in ("vanilla", "vanilla+T", "distilled", "distilled+T")}
show(pd.concat(coverage_tables, axis=1), "Coverage and accuracy on the eval half")
showfig(plots.coverage_curves({k: eval_probs[k] for k in ("vanilla", "vanilla+T", "distilled")},
                              labels[eval_idx], source=SOURCE, target_accuracy=0.95))

# %% [markdown]
# For the distilled student, a threshold of 0.7 covers {R("cov_distilled_70", ".1%")} of the eval half at
# {R("covacc_distilled_70", ".1%")} accuracy; for vanilla + T it covers {R("cov_vanilla_t_70", ".1%")} at
# {R("covacc_vanilla_t_70", ".1%")}.
#
# ### 3d. The deployment decision
#
# Pick **one** scenario and ship one model for it. Every number you write is checked by the autograder
# against the course data itself: it recomputes, for the model you name, the coverage and accuracy at your
# threshold and the model's ECE, NLL, macro F1 and tail F1 on the **eval half** (temperature fitted on the
# cal half for a `+T` model). Numbers from another model, or invented ones, do not pass.
#
# | scenario | what it is | what it needs | the rule your model must meet (eval half) |
# | --- | --- | --- | --- |
# | A | batch triage: auto-route complaints to a team, at volume | macro F1, under 10 ms per example on the serving hardware | a student (the 32B teacher is far too slow) with macro F1 at least raw vanilla's |
# | B | regulated escalation: uncertain cases go to a legal reviewer | calibrated confidence, good full distributions | ECE at most 0.05, and NLL at most raw vanilla's |
# | C | aggregate dashboard: counts of rare complaint types over time | tail F1; a dashboard counts every prediction | tail F1 not significantly below raw vanilla's: the paired-bootstrap 95% CI of (your model − vanilla) tail F1 on the eval half (`helpers.bootstrap.paired_bootstrap`, 1,000 resamples, seed 42) must not lie wholly below zero; `threshold` may be `None` |
#
# Models you can name: `"vanilla"`, `"distilled"`, a grid config such as `"grid_Td4_a70"`, or any of them
# with `"+T"` (e.g. `"vanilla+T"`).
#
# Fields of `deployment`, and the conventions the self-check and the autograder apply (the same code):
#
# | field | what it holds | how it is checked |
# | --- | --- | --- |
# | `scenario` | `"A"`, `"B"` or `"C"` | one of the three |
# | `model` | the arm you ship | one of the names above |
# | `threshold` | one of your coverage table's thresholds (`None` only for C) | a number in (0, 1] |
# | `coverage`, `accuracy` | that row of the coverage table of **that model**, on the **eval half**: coverage = share of the 3,215 eval rows with top-1 confidence `>=` the threshold; accuracy = argmax accuracy on those rows | fractions (not percentages), to **four decimals**: copy the float unrounded, or round to four. The tolerance is half a unit of the fourth decimal (0.00005), less than one eval row, so the whole validation set or another model's row does not pass |
# | `decision_rule` | a sentence: what happens above and below the threshold | three words or more |
# | `justification` | a sentence with your model's numbers | every number written with three or more decimals (`0.026`), or a percentage with one (`41.2%`), is a *citation*: each must be an eval-half number of your model, your alternative or the lab's tables (vanilla, vanilla + T, distilled, teacher; ECE, NLL, macro F1, tail F1, coverage or accuracy at your threshold, a fitted T), matched within half a unit of its last decimal; at least one must be **your model's own**. Numbers with fewer decimals (`0.7`, `0.05`) are not citations; a difference or ratio is not a table value, so write it with fewer decimals |
# | `flip_constraint` | the one constraint that would change your mind, by its key | A: `"macro_f1_floor"`, `"tail_f1_floor"`, `"coverage_floor"`, `"accuracy_floor"`; B: `"ece_cap"`, `"nll_cap"`, `"coverage_floor"`, `"accuracy_floor"`; C: `"tail_f1_floor"`, `"macro_f1_floor"` (a cap is the largest value allowed, a floor the smallest; coverage and accuracy are at your threshold) |
# | `switch_point` | the value of that constraint's metric at which your decision flips, in that metric's unit (ECE, F1, coverage, accuracy: a fraction from 0 to 1; NLL: nats per example) | it flips where a cap tightened below, or a floor raised above, **your model's own eval-half value** rules the model out: that value, to at least three decimals |
# | `alternative` | the model you would ship once the constraint flips | a different arm from the list above |
#
# A worked example of the *format* (an invented scenario and invented numbers, not an answer): a team ships
# `"grid_Td8_a90"` for A at threshold 0.6 with coverage 0.5321 and accuracy 0.8104; its justification reads
# "grid_Td8_a90 has macro F1 0.301 on the eval half, above raw vanilla's 0.297"; it would switch to
# `"distilled"` if operations needed more than its coverage, so `flip_constraint = "coverage_floor"` and
# `switch_point = 0.532` (its own coverage at 0.6, three decimals).
#
# The self-check below names what is wrong, never the value it expected: the fix is always in your own tables.

# %% role="solution" grade_id="lab_deployment_answer"
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
    # Tightening the ECE cap below vanilla+T's own eval-half ECE rules it out: that ECE is the switch point.
    "flip_constraint": "ece_cap",
    "switch_point": round(float(calibration_df.loc["vanilla+T", "ece"]), 3),
    "alternative": "distilled+T",
}
### END SOLUTION

# %%
# The self-check runs the autograder's four rules on the course data (the same code the grader runs); it says
# what to fix, never the number it recomputed.
deployment_check = deploy.check_deployment(deployment, SOURCE)
deployment_check

# %% role="hidden_test" check="lab_deployment" skill="the deployment artifact, recomputed from the course data for the model you name"

# %% [markdown]
# **Your reasoning (read by a person, 3 points; write it after the session, due with the lab).** In four to six sentences: why this model for this
# scenario, what you give up, and when you would switch. The rubric:
#
# | points | what earns them |
# | --- | --- |
# | 3 | names the scenario's binding constraint and shows, with at least two of your numbers, that the model meets it and what the runner-up lacks; states the trade-off (coverage given up, or cost: vanilla and distilled cost the same to serve, KD costs a training run); the switch point is tied to a quantity you measured |
# | 2 | right constraint and a number that shows it is met, but the trade-off or the switch is vague ("if things change") |
# | 1 | a defensible choice argued from a general claim ("KD calibrates better") without your numbers, or numbers from the wrong split |
# | 0 | no reasoning, or a model that breaks the scenario's rule defended anyway |


# %% [markdown] role="manual" grade_id="lab_deployment_reasoning" points=3
# {R("source_note")}{C("distilled_misses_ece_cap")}{C("vanilla_t_meets_ece_cap")}{C("kd_wins_nll")}{C("tscaling_lowers_nll")}Scenario
# B gates on calibration: a reviewer reads the confidence, and the regulator caps ECE at 0.05. Raw distilled
# has the lower NLL ({R("eval_distilled_nll")} against vanilla + T's {R("eval_vanilla_t_nll")}) but its eval-half
# ECE, {R("eval_distilled_ece")}, is above the cap, so it cannot ship as is; vanilla + T's ECE is
# {R("eval_vanilla_t_ece")} and its NLL is still below raw vanilla's {R("eval_vanilla_nll")}. At a 0.7 threshold the
# coverage table shows the share of complaints closed automatically and their accuracy; the rest is the
# review load I accept. Serving cost is the
# same for every ModernBERT arm; what I give up is distilled's better NLL. If the cap tightened below
# vanilla + T's ECE, I would fit a temperature on the distilled student too (distilled + T) and ship that.

# %% [markdown]
# ### Memo prompts (short answers; the homework memo builds on them)
#
# Write these after the session if the 80 minutes are up; they are due with the lab.
#
# **M1.** In three sentences: what did distillation transfer on this dataset, and what did it not? Cite one
# number for each.

# %% [markdown] role="manual" grade_id="lab_memo_transfer" points=2
# {R("source_note")}{C("ece_improves_every_tier")}{C("lift_lands_on_head")}{C("data_shift_beats_kd")}KD transferred
# calibration: ECE fell on every tier (full validation set {R("vanilla_ece")} to {R("distilled_ece")}) and NLL
# with it, because the student learned the teacher's probability shape. It barely transferred capacity: the F1
# lift is real only on the head ({R("boot_f1_head_median", "+.3f")}, CI [{R("boot_f1_head_ci_low", "+.3f")},
# {R("boot_f1_head_ci_high", "+.3f")}]) and the tail stays in the noise, below a teacher that itself scores
# {R("teacher_f1_tail")} there. The data shift bought {R("data_shift", "+.3f")} macro F1, about
# {R("data_kd_ratio", ".1f")} times KD's {R("kd_lift", "+.3f")}.

# %% [markdown]
# **M2.** A colleague says "KD is expensive; temperature scaling gives the same calibration for free."
# Where is the colleague right and where not, on your numbers?

# %% [markdown] role="manual" grade_id="lab_memo_cheaper" points=2
# {R("source_note")}{C("tscaling_beats_kd_on_ece")}{C("kd_wins_nll")}Right on ECE: one fitted temperature brings
# vanilla's eval-half ECE to {R("eval_vanilla_t_ece")}, below the distilled student's {R("eval_distilled_ece")}, so a
# deployment that only thresholds on top-1 confidence does not need KD. Wrong on NLL: KD's NLL stays lower
# ({R("eval_distilled_nll")} against {R("eval_vanilla_t_nll")}), because temperature scaling rescales every row the
# same way and cannot move probability between wrong classes per example, which KD learned from the teacher.
# Both students cost the same to serve, so KD's price is the training run, not inference; and the "free"
# temperature is not free either: it needs a held-out labelled fold ({R("n_cal")} rows here) and a refit whenever
# the model changes.

# %% [markdown]
# **Before you leave:** check that the deployment self-check passes, then save the notebook. The homework
# picks up from here: a scenario, a recipe shortlist, two literature claims tested on your numbers, and a
# five-part memo.
