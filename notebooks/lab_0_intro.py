"""Week 6 lab, opening: the title page, the set-up cell and the imports.

The instructor's time budget lives in docs/INSTRUCTOR_NOTES.md, outside the release.

Notebook source in the percent format (see nbsource.py); build with ``python notebooks/make_notebooks.py``.
"""

# %% [markdown]
# # Week 6 lab: what does distillation actually transfer?
#
# A 32B teacher (Qwen3-32B + LoRA, temperature-scaled) and two ModernBERT-base students trained on the
# same data with the same seed: **vanilla** (cross-entropy on the hard labels) and **distilled**
# (KD with $T_d = 4$, $\alpha = 0.7$). Only the loss differs. You will measure, per frequency tier, what
# the distilled student took from the teacher and what it did not.
#
# **Three acts, about 80 minutes.** Act 1 (about 20 min): the teacher. Act 2 (about 35 min): the KD loss, a
# bug hunt, and the per-tier comparison. Act 3 (about 25 min): synthesis tables, thresholds, and one
# deployment decision. The longer writing (the bug explanations, the ECE mechanism, the deployment reasoning
# and memo prompts M1, M2) is written after the session; it is due with the lab.
#
# **Predict, then observe.** Four times you will record a prediction *in code* before the number is
# computed. The observing cell refuses to show anything until your prediction exists. Then write a short
# reconciliation, and only then run the reveal cell: it prints the explanation once your prediction and
# observation exist, and refuses before. Specific corrections earn credit; lucky guesses do not.
#
# **Cells you edit** say *YOUR CODE HERE* or *YOUR ANSWER HERE*. Every function cell says exactly what to
# return. Grey autograder cells run your functions on fixed inputs; leave them in place.
#
# If the set-up cell below says **SYNTHETIC**, you are on the embedded stand-in data (no Hub access): the
# story holds, the numbers are not the course's, and every table and figure says so.

# %% role="setup"

# %% [markdown]
# ### How your functions are graded
#
# The autograder calls each graded function (`kd_loss_fn`, `fixed_kd_loss`, `per_tier_f1`, `per_tier_ece`, `coverage_table`) in a **separate process**, on inputs drawn
# for your submission. There it runs **only the cell that defines the function**, in a fresh namespace, after
# exactly these imports: `import math`, `import numpy as np`, `import pandas as pd`, `import torch`,
# `import torch.nn.functional as F`, and the course constants `TIERS` and `N_CLASSES` (from `helpers.course`).
# So a graded function may use its arguments, those imports and constants, and names defined in its own cell;
# not variables of other cells (the week's data, your other functions) and not the course's reference
# implementations in `helpers` (there they raise an error). A line of the cell that fails there, such as a test
# on the week's data, is skipped and the function still counts. `fixed_kd_loss` is graded from its own cell alone, so it cannot call your `kd_loss_fn`. Your other answers
# (`chosen_bugs`, `f1_ci_table`, `real_lift_tiers`, `tail_reading`, `deployment`) are read as the values you set.

# %% name="imports"
import math  # noqa: F401 (one of the imports a graded function may use)

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from helpers import artifacts, bootstrap, calibration, deploy, kd, metrics, plots
from helpers.bootstrap import lift_pattern
from helpers.course import WEEK1_BASELINE_F1
from helpers.notebook.display import show, showfig
from helpers.notebook.predict import observe, predict, require, reveal

SOURCE = ENV.source
TIERS = ("head", "mid", "tail")
teacher = artifacts.load("teacher_val", SOURCE)
labels, tiers = teacher.labels, teacher.tiers
print(teacher, "|", {t: int((tiers == t).sum()) for t in TIERS}, "validation rows per tier")
