"""Week 6 lab, Act 2 (first half): the KD loss, the bug hunt, CE against KD on one batch.

Notebook source in the percent format (see nbsource.py); build with ``python notebooks/make_notebooks.py``.
"""

# %% [markdown]
# ## Act 2: distillation
#
# ### The KD loss
#
# $$\mathcal{L}_{KD} = \alpha \, T_d^2 \, \mathrm{KL}\big(\sigma(t/T_d) \,\|\, \sigma(s/T_d)\big) + (1-\alpha)\, \mathrm{CE}(s, y)$$
#
# $t$ and $s$ are the teacher's and student's logits, $\sigma$ the softmax, $y$ the hard label. The KL
# points from the teacher (the target) to the student (the approximation). Softening by $T_d$ shrinks the
# soft term's gradient by $1/T_d^2$; the $T_d^2$ factor puts it back on the CE term's scale.
#
# Write `kd_loss_fn(student_logits, teacher_logits, labels, T_d=4.0, alpha=0.7)`.
#
# * `student_logits`, `teacher_logits`: float tensors of shape `(batch, n_classes)` (possibly float16);
#   `labels`: integer tensor of shape `(batch,)`.
# * Compute in float32. The teacher is a fixed target: no gradient may reach it (`.detach()`).
# * KL with `F.kl_div(log-probs of the student, teacher target, reduction="batchmean")`, times `T_d**2`,
#   weighted by `alpha`; plus `(1 - alpha)` times `F.cross_entropy` on the unsoftened student logits.
# * **Return** a scalar (0-dimensional) float32 torch tensor that supports `.backward()`.
#
# Write it yourself with `torch.nn.functional`; calling the course's `helpers.kd` earns no points.

# %% role="solution" grade_id="lab_kd_loss_answer"
def kd_loss_fn(student_logits, teacher_logits, labels, T_d=4.0, alpha=0.7):
    """alpha * T_d^2 * KL(teacher_T || student_T) + (1 - alpha) * CE -> scalar float32 tensor."""
    ### BEGIN SOLUTION
    s = student_logits.float()
    t = teacher_logits.detach().float()
    # A log-probability target (log_target=True) stays finite when soft probabilities underflow.
    soft = F.kl_div(F.log_softmax(s / T_d, dim=-1), F.log_softmax(t / T_d, dim=-1),
                    reduction="batchmean", log_target=True)
    hard = F.cross_entropy(s, labels.long())
    return alpha * T_d ** 2 * soft + (1 - alpha) * hard
    ### END SOLUTION

# %%
# Sanity checks (not graded).
g = torch.Generator().manual_seed(0)
s_demo, t_demo = torch.randn(8, 113, generator=g), torch.randn(8, 113, generator=g)
y_demo = torch.randint(0, 113, (8,), generator=g)
ce_demo = F.cross_entropy(s_demo, y_demo)
assert kd_loss_fn(s_demo, t_demo, y_demo).ndim == 0, "return a scalar tensor"
assert torch.isclose(kd_loss_fn(s_demo, t_demo, y_demo, alpha=0.0), ce_demo), "alpha = 0 must give plain CE"
assert torch.isclose(kd_loss_fn(s_demo, s_demo, y_demo, alpha=1.0), torch.tensor(0.0), atol=1e-6), \
    "a student equal to its teacher has zero KL"
print("kd_loss_fn at T_d=4, alpha=0.7:", float(kd_loss_fn(s_demo, t_demo, y_demo)))

# %% role="hidden_test" check="lab_kd_loss" skill="the KD loss across batch sizes, class counts, T_d, alpha, fp16 and gradients"

# %% [markdown]
# ### Bug hunt: the colleague's loss
#
# A colleague trained a student with the loss below. Training ran, the loss went down, and the student's
# calibration looks odd. Read the code line by line against the formula above, without training anything.
# Nothing in it crashes, and it returns a finite number.

# %%
import inspect
print(inspect.getsource(kd.colleague_kd_loss))

# %%
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

# %% [markdown]
# Set `chosen_bugs` to the **set** of statement ids that describe real bugs in this code, e.g. `{"S4", "S8"}`.
# Each statement you choose that is a real bug earns a point; each one you choose that is not costs a point
# (the total never goes below zero).

# %% role="solution" grade_id="lab_bug_choices_answer"
### BEGIN SOLUTION
chosen_bugs = {"S2", "S5", "S7"}
### END SOLUTION

# %% role="hidden_test" check="lab_bug_choices" skill="which candidate statements are real bugs"

# %% [markdown]
# Now fix the colleague's code. The cell below holds a copy of it, named `fixed_kd_loss`. Edit the lines
# that are wrong **in place** and leave every other line as it is: the autograder runs your version on inputs
# that separate the possible bugs from each other, and checks that it is still the colleague's code (a
# fresh loss, or `fixed_kd_loss = kd_loss_fn`, earns nothing). Then delete the two stub lines at the end of
# the cell and run it. **Return** a scalar torch tensor, as before.

# %% role="solution" grade_id="lab_fixed_kd_loss_answer"
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

# %%
# Sanity check (not graded): your fixed copy next to your kd_loss_fn and the colleague's original.
for T_d, alpha in [(1.0, 0.7), (4.0, 0.7), (8.0, 0.9)]:
    mine, fixed = kd_loss_fn(s_demo, t_demo, y_demo, T_d, alpha), fixed_kd_loss(s_demo, t_demo, y_demo, T_d, alpha)
    theirs = kd.colleague_kd_loss(s_demo, t_demo, y_demo, T_d, alpha)
    print(f"T_d={T_d}, alpha={alpha}: yours {float(mine):.4f}  fixed {float(fixed):.4f}  colleague {float(theirs):.4f}")
    assert torch.isclose(mine, fixed, atol=1e-5), "fixed_kd_loss should match kd_loss_fn"

# %% role="hidden_test" check="lab_fixed_kd_loss" skill="the colleague's code with its bugs fixed, each bug on inputs that isolate it"

# %% [markdown]
# **Explain the bugs you found** (after the session, due with the lab: the in-class time goes to finding and
# fixing them), one cell each, in one or two sentences: which line, what the code computes instead, and what that
# does to the student during training.
#
# *Explain a bug you found (#1).*

# %% [markdown] role="manual" grade_id="lab_bug_explain_1" points=1
# `F.kl_div(input, target)` computes `target * (log target - input)`, treating `input` as log-probabilities.
# Given probabilities instead, the "log" of the student is a number in (0, 1), so the term is no longer a
# KL divergence: it is not minimised when the student matches the teacher and its gradient points the
# wrong way. The loss still decreases, because the CE term carries training.

# %% [markdown]
# *Explain a bug you found (#2).*

# %% [markdown] role="manual" grade_id="lab_bug_explain_2" points=1
# Softening both distributions by T_d scales the soft term's gradient by about 1/T_d^2. Without multiplying
# back by T_d^2, at T_d = 4 the soft term's gradient is about 16 times too weak next to the CE term, so the
# teacher's signal is almost ignored, and changing T_d silently changes the effective alpha.

# %% [markdown]
# *Explain a bug you found (#3).*

# %% [markdown] role="manual" grade_id="lab_bug_explain_3" points=1
# The recipe puts weight alpha = 0.7 on the teacher and 0.3 on the hard labels. Swapped, the student gets
# 70% of its signal from one-hot labels and 30% from the teacher: it behaves much more like the vanilla
# student, including its overconfidence, while the config file still says alpha = 0.7. (Not a bug here: the
# overheated student of S6 is a prediction-time mistake, dividing logits by T_d at inference; this loss never
# touches inference.)

# %% [markdown]
# ### CE, KD and the KL term on one batch
#
# Take one batch of 64 validation rows, with the vanilla student's logits as "student" and the teacher's as
# "teacher". Compare the plain CE, your full KD loss, and the scaled KL term alone (your `kd_loss_fn` with
# `alpha=1`) at three temperatures,
# and see how much of each loss's gradient falls on the classes that are *not* the true label.

# %%
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

# %% [markdown]
# **Why CE's share is exactly 0.5, on every batch.** The gradient of CE on logit $j$ is $p_j - [j = y]$.
# The true class gets $p_y - 1$, of size $1 - p_y$; the other classes get $p_j \ge 0$, which sum to
# $1 - p_y$ as well. So half of CE's gradient mass always lands off the label, by identity, whatever the
# model: CE *does* push on every wrong logit (down, in proportion to its probability). The KD columns differ
# in *where* that push goes: toward the teacher's probability for each class instead of toward zero.
