"""Week 6 homework, opening and Part 0: the title page, the set-up cell, the scenario and the prior.

Notebook source in the percent format (see nbsource.py); build with ``python notebooks/make_notebooks.py``.
"""

# %% [markdown]
# # Week 6 homework: the cheapest recipe that transfers what your scenario needs
#
# About six hours. You will pick a deployment scenario, diagnose the teacher, build a recipe shortlist, test
# two claims from the literature on your own numbers, and write a five-part memo (25 / 15 / 15 / 15 / 30 points;
# each prompt shows what earns each band).
#
# The data budget is fixed: no new labels, no new training runs beyond the precomputed grid. Every number in
# your memo must come from a table in this notebook. The evaluation rows (validation, split into a **cal** half
# for fitting temperatures and an **eval** half for scoring) were never trained on; keep it that way: fit
# nothing on the eval half. If the set-up cell says **SYNTHETIC**, your numbers come from the embedded stand-in
# data; the reasoning carries over, the values do not.
#
# **Predict, then observe**, as in the lab: four predictions, each recorded in code before its number is
# computed; each reveal cell prints its explanation only after your prediction and its observation exist.

# %% role="setup"

# %% [markdown]
# ### How your functions are graded
#
# The autograder calls each graded function (`per_class_f1`, `fit_temperature`, `per_tier_js`, `reproducible_fraction`, `paired_bootstrap_ci`, `coverage_table`) in a **separate process**, on inputs drawn
# for your submission. There it runs **only the cell that defines the function**, in a fresh namespace, after
# exactly these imports: `import math`, `import numpy as np`, `import pandas as pd`, `import torch`,
# `import torch.nn.functional as F`, and the course constants `TIERS` and `N_CLASSES` (from `helpers.course`).
# So a graded function may use its arguments, those imports and constants, and names defined in its own cell;
# not variables of other cells (the week's data, your other functions) and not the course's reference
# implementations in `helpers` (there they raise an error). A line of the cell that fails there, such as a test
# on the week's data, is skipped and the function still counts.

# %% name="imports"
import math  # noqa: F401 (one of the imports a graded function may use)

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from helpers import artifacts, bootstrap, calibration, deploy, latency, metrics, plots, ranking
from helpers.notebook import answers
from helpers.notebook.display import show, showfig
from helpers.notebook.predict import observe, predict, require, reveal

SOURCE = ENV.source
TIERS = ("head", "mid", "tail")
GRID = [f"grid_Td{t}_a{a}" for t in (1, 4, 8) for a in (70, 90)]
sets = {name: artifacts.load(name, SOURCE) for name in ["teacher_val", "vanilla", "distilled", *GRID]}
teacher, vanilla, distilled = sets["teacher_val"], sets["vanilla"], sets["distilled"]
labels, tiers = teacher.labels, teacher.tiers
cal_idx, eval_idx = calibration.cal_eval_split(len(labels), seed=42)
print(f"{len(sets)} prediction sets from {SOURCE}; cal half {len(cal_idx):,} rows, eval half {len(eval_idx):,} rows")

# %% [markdown]
# ## Part 0: scenario and prior
#
# | scenario | what it is | hard constraint | primary metric |
# | --- | --- | --- | --- |
# | **A**: high-throughput batch triage | route every complaint to a team, automatically, at volume | under 10 ms per example **on the serving hardware** (a T4) | macro F1 |
# | **B**: regulated escalation review | act on confident cases, send the rest to a human reviewer who reads the probabilities | ECE at most 0.05 on the eval half | NLL, among recipes that meet the ECE cap |
# | **C**: long-tail monitoring dashboard | weekly **counts** of rare complaint types, in aggregate; no complaint is routed or decided one by one | rare classes must be caught | tail macro F1 |
#
# Scenario C is an aggregate dashboard: it has no per-complaint threshold, so its carry-over in Part 4 reports the
# table for completeness and the memo argues from tail F1 and tail calibration instead. The tail has only about
# 100 rows on the eval half, so tail-F1 differences between recipes are noisy: check them against their own
# paired-bootstrap CI (Part 2 prints it) before you call a winner.
#
# **Winners are called against the noise.** On every scenario, "recipe X wins" means X is best on the primary
# metric *and* the paired-bootstrap 95% CI of each other arm's gap to X, on the same metric and the same eval rows,
# excludes zero. Otherwise the honest outcome is a **tie**: no recipe beats the others within noise. A tie is a
# correct answer, not a failure.
#
# What each recipe costs to serve: vanilla and distilled are the same ModernBERT-base (149M parameters, inputs of
# 128 tokens), so they cost exactly the same per prediction; every grid config too. Temperature scaling adds one
# division at inference, but it needs a **held-out labelled fold** to fit $T$ (here the cal half: 3,215 rows that
# neither train nor score any model), refitted whenever the model or the inputs change. KD's cost is paid once, in
# training (about 80 T4-minutes per student, plus the teacher's logits).
#
# Set `SCENARIO` to `"A"`, `"B"` or `"C"`. You will keep it for the whole homework.

# %% role="solution" grade_id="hw_scenario"
### BEGIN SOLUTION
SCENARIO = "B"
### END SOLUTION

# %% [markdown]
# **Your prior.** Before looking at any number: which recipe do you expect to serve your scenario best?
# Choose `"vanilla"`, `"vanilla+T"`, `"distilled"`, `"distilled+T"`, `"grid"` (one of the six grid configs),
# `"tie"` (the best recipe does not beat the others outside the noise) or `"none"` (no recipe meets the
# constraint), with a one-line reason. Then explain the prior in a few sentences below.

# %% role="predict" key="prior_best_recipe"
# PREDICT before you run the cells below. Replace the stub with one call:
#   predict("prior_best_recipe", "vanilla" | "vanilla+T" | "distilled" | "distilled+T" | "grid" | "tie" | "none",
#           "<one-line reason>")
### BEGIN SOLUTION
predict("prior_best_recipe", "vanilla+T", "temperature scaling fixes ECE for free, and B gates on ECE")
### END SOLUTION

# %% [markdown] role="manual" grade_id="hw_prior" points=3
# Scenario B gates on ECE, and the lecture said temperature scaling matches most calibration fixes. I expect
# vanilla + T to meet the 0.05 cap and to be close enough on NLL; KD costs 80 minutes of T4 time per run, which I
# would only pay for if its NLL were clearly better.
