"""The knowledge-distillation loss, and the colleague's version that the lab's bug hunt reads.

The loss (Hinton, Vinyals & Dean 2015):

    alpha * T_d**2 * KL(softmax(t / T_d) || softmax(s / T_d))  +  (1 - alpha) * CE(s, y)

with the KL averaged over the batch ("batchmean").  The T_d**2 factor keeps the
soft term's gradient on the same scale whatever the temperature, because the
gradient of the softened KL shrinks like 1 / T_d**2.
"""
from __future__ import annotations

import math
import numbers

import torch
import torch.nn.functional as F

__all__ = ["kd_loss", "colleague_kd_loss", "kd_loss_terms"]


def _check_inputs(student_logits, teacher_logits, labels, T_d, alpha):
    for name, value in (("student_logits", student_logits), ("teacher_logits", teacher_logits),
                        ("labels", labels)):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}; "
                            f"wrap arrays with torch.as_tensor(...).")
    if student_logits.ndim != 2:
        raise ValueError(f"student_logits must be 2-D (batch, n_classes), got shape "
                         f"{tuple(student_logits.shape)}.")
    if teacher_logits.shape != student_logits.shape:
        raise ValueError(f"teacher_logits must have the student's shape {tuple(student_logits.shape)}, "
                         f"got {tuple(teacher_logits.shape)}; check that teacher rows are aligned "
                         f"with the student's batch.")
    if labels.ndim != 1 or labels.shape[0] != student_logits.shape[0]:
        raise ValueError(f"labels must be 1-D with one entry per row ({student_logits.shape[0]}), "
                         f"got shape {tuple(labels.shape)}.")
    if labels.dtype.is_floating_point or labels.dtype == torch.bool:
        raise TypeError(f"labels must be an integer tensor of class ids, got {labels.dtype}; "
                        f"use labels.long().")
    n_classes = student_logits.shape[1]
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= n_classes):
        raise ValueError(f"labels must lie in [0, {n_classes - 1}] for {n_classes} classes, got values "
                         f"from {int(labels.min())} to {int(labels.max())}.")
    # numbers.Real admits numpy scalars (a grid's np.float32(4.0)); bool is not a temperature.
    if isinstance(T_d, bool) or not (isinstance(T_d, numbers.Real) and math.isfinite(T_d) and T_d > 0):
        raise ValueError(f"T_d must be a finite number > 0, got {T_d!r}.")
    if isinstance(alpha, bool) or not (isinstance(alpha, numbers.Real) and 0.0 <= alpha <= 1.0):
        raise ValueError(f"alpha must be a number in [0, 1], got {alpha!r}.")


def kd_loss_terms(student_logits, teacher_logits, labels, T_d=4.0):
    """Return the (soft KL term times T_d**2, hard CE term) pair, both float32 scalars."""
    s = student_logits.float()
    # The teacher is a fixed target: no gradient may flow back into it.
    t = teacher_logits.detach().float()
    kl = F.kl_div(F.log_softmax(s / T_d, dim=-1), F.log_softmax(t / T_d, dim=-1),
                  reduction="batchmean", log_target=True)
    ce = F.cross_entropy(s, labels.long())
    return kl * (T_d ** 2), ce


def kd_loss(student_logits, teacher_logits, labels, T_d=4.0, alpha=0.7):
    """The course's KD loss: a scalar float32 tensor that supports ``backward()``.

    Works on any device and with fp16/bf16 logits (the arithmetic is done in
    float32, and the target is passed as log-probabilities so that large
    logits at T_d = 8 stay finite).
    """
    _check_inputs(student_logits, teacher_logits, labels, T_d, alpha)
    soft, hard = kd_loss_terms(student_logits, teacher_logits, labels, T_d)
    return alpha * soft + (1.0 - alpha) * hard


# The lab prints this function's source for its bug hunt and the autograder's answer key is
# built around it as written: keep its body and docstring exactly as they are.
def colleague_kd_loss(student_logits, teacher_logits, labels, T_d=4.0, alpha=0.7):
    """A colleague's KD loss, as committed to the team's training script."""
    soft_student = F.softmax(student_logits / T_d, dim=-1)
    soft_teacher = F.softmax(teacher_logits / T_d, dim=-1)
    kl = F.kl_div(soft_student, soft_teacher, reduction="batchmean")
    ce = F.cross_entropy(student_logits, labels)
    return (1 - alpha) * kl + alpha * ce
