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


def kd_loss_terms(student_logits: torch.Tensor, teacher_logits: torch.Tensor, labels: torch.Tensor,
                  T_d: float = 4.0) -> tuple[torch.Tensor, torch.Tensor]:
    """The two terms of the KD loss, before they are weighted by ``alpha``.

    Useful to watch each term during training, or to see how the soft term's
    size depends on ``T_d``.  Inputs are not validated here; :func:`kd_loss` does that.

    Parameters
    ----------
    student_logits : torch.Tensor
        Student logits, shape (batch, n_classes), any float dtype.
    teacher_logits : torch.Tensor
        Teacher logits, same shape; treated as a fixed target (no gradient reaches the teacher).
    labels : torch.Tensor
        Integer class ids, shape (batch,).
    T_d : float, default 4.0
        Distillation temperature, > 0.

    Returns
    -------
    tuple of torch.Tensor
        ``(soft, hard)``: the soft term already multiplied by ``T_d**2``, and the
        hard cross-entropy; both scalar float32 tensors.

    Examples
    --------
    >>> import torch
    >>> s, t = torch.zeros(2, 3), torch.zeros(2, 3)
    >>> soft, hard = kd_loss_terms(s, t, torch.tensor([0, 2]))
    >>> round(float(soft), 4), round(float(hard), 4)   # identical logits: no KL; CE of a uniform guess
    (0.0, 1.0986)
    """
    s = student_logits.float()
    # The teacher is a fixed target: no gradient may flow back into it.
    t = teacher_logits.detach().float()
    kl = F.kl_div(F.log_softmax(s / T_d, dim=-1), F.log_softmax(t / T_d, dim=-1),
                  reduction="batchmean", log_target=True)
    ce = F.cross_entropy(s, labels.long())
    return kl * (T_d ** 2), ce


def kd_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, labels: torch.Tensor,
            T_d: float = 4.0, alpha: float = 0.7) -> torch.Tensor:
    """The course's knowledge-distillation loss (the formula in this module's docstring).

    Checks its inputs first (types, shapes, label range, ``T_d``, ``alpha``) and
    says what to fix.  Works on any device and with fp16/bf16 logits: the
    arithmetic is done in float32 and stays finite at large ``T_d``.

    Parameters
    ----------
    student_logits : torch.Tensor
        Student logits, shape (batch, n_classes).
    teacher_logits : torch.Tensor
        Teacher logits for the same rows, same shape as ``student_logits``.
    labels : torch.Tensor
        Integer class ids, shape (batch,), each in [0, n_classes).
    T_d : float, default 4.0
        Distillation temperature, a finite number > 0.
    alpha : float, default 0.7
        Weight of the soft (teacher) term, in [0, 1]; the hard term gets ``1 - alpha``.

    Returns
    -------
    torch.Tensor
        A scalar (0-dimensional) float32 tensor that supports ``backward()``.

    Examples
    --------
    >>> import torch
    >>> s = torch.zeros(4, 3, requires_grad=True)
    >>> loss = kd_loss(s, torch.randn(4, 3), torch.tensor([0, 1, 2, 0]))
    >>> loss.ndim, loss.dtype
    (0, torch.float32)
    >>> loss.backward()
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


# What help(colleague_kd_loss) shows.  Set here rather than in the def, so the source the lab
# prints (and the answer key stores) stays the colleague's as committed.  It describes the
# call only: judging the code is the student's job.
colleague_kd_loss.__doc__ = """A colleague's KD loss, as committed to the team's training script.

    Same call as :func:`kd_loss`; the lab reads its source with
    ``inspect.getsource(kd.colleague_kd_loss)``.

    Parameters
    ----------
    student_logits : torch.Tensor
        Student logits, shape (batch, n_classes).
    teacher_logits : torch.Tensor
        Teacher logits for the same rows, same shape.
    labels : torch.Tensor
        Integer class ids, shape (batch,).
    T_d : float, default 4.0
        Distillation temperature.
    alpha : float, default 0.7
        The mixing weight, as passed to :func:`kd_loss`.

    Returns
    -------
    torch.Tensor
        A scalar loss tensor.

    Examples
    --------
    >>> import torch
    >>> loss = colleague_kd_loss(torch.randn(4, 3), torch.randn(4, 3), torch.tensor([0, 1, 2, 0]))
    >>> loss.ndim
    0
    """
