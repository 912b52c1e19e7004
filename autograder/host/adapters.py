"""The fixed ADAPTERS: how a graded function's return value becomes plain data (host side, and local).

A probe in the driver asks the host to call function NAME on arguments and to
convert the result with one adapter named here; the host replies with plain data
only.  The same adapters convert the course references' results in the driver
(``checks.runner.Runner`` with a local function), so student and reference go
through the same conversion.  Conversions use the captures of
``autograder.kernel.pristine``, taken when the host starts, before any student
cell runs, so a student's patch of numpy or torch changes at most what their own
function appears to return.

* ``plain``: the value as None/bool/int/float/str/list/dict (DataFrames as columns + index);
* ``loss``: a loss scalar (value, whether it is a 0-dim tensor, its dtype);
* ``kd_gradient``: autograd's directional slopes of the loss w.r.t. the student logits next to
  central finite differences of the same function, and the gradient that reaches the teacher.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from autograder.kernel.encoding import convert, describe, scalar_info, to_float
from autograder.kernel.pristine import NP, PY, TB, TORCH


def call(fn: Any, args: tuple) -> dict:
    """{"ok": True, "value": raw} or {"ok": False, "error"}; a student's exception (SystemExit too) never escapes."""
    if not PY.callable(fn):
        return {"ok": False, "error": f"expected a function, found {PY.type(fn).__name__}"}
    try:
        return {"ok": True, "value": fn(*args)}
    except PY.BaseException as exc:
        return {"ok": False, "error": "raised " + describe(exc)}


def adapt_plain(fn: Any, args: tuple) -> dict:
    """The returned value as plain data."""
    return convert(call(fn, args))


def adapt_loss(fn: Any, args: tuple) -> dict:
    """The returned loss as a scalar description."""
    res = call(fn, args)
    return scalar_info(res["value"]) if res["ok"] else res


def adapt_kd_gradient(fn: Any, args: tuple) -> dict:
    """(s, t, y, T, alpha, directions, eps): autograd's directional slopes next to finite differences.

    ``s`` and ``t`` arrive as float64 tensors; the gradient is taken w.r.t. both so a loss that
    lets the gradient reach the teacher is seen.
    """
    s, t, y, T, a, directions, eps = args
    s, t = TB.double(TB.detach(s)), TB.double(TB.detach(t))
    TB.requires_grad_(s, True)
    TB.requires_grad_(t, True)
    res = call(fn, (s, t, y, T, a))
    if not res["ok"]:
        return res
    out = res["value"]
    if not PY.isinstance(out, TORCH.Tensor) or PY.type(out) is not TORCH.Tensor:
        return {"ok": False, "kind": "not_tensor",
                "error": f"returned {PY.type(out).__name__}, expected a torch tensor that supports backward()"}
    info = {"ok": True, "ndim": TB.dim(out), "numel": TB.numel(out)}
    if TB.numel(out) != 1:
        return {"ok": False, "error": f"returned a tensor with {TB.numel(out)} elements; backward() needs a scalar"}
    if not TB.requires_grad(out):
        return {"ok": False, "kind": "no_grad",
                "error": "the returned loss does not require grad, so backward() cannot reach "
                         "the student logits (was it built with .item(), numpy or torch.tensor(...)?)"}
    try:
        gs, gt = TORCH.grad(TB.reshape(out, ()), [s, t], allow_unused=True)
    except PY.BaseException as exc:
        return {"ok": False, "error": f"backward() failed: {describe(exc)}"}
    info["teacher_grad_abs_sum"] = None if gt is None else to_float(TB.tolist(TB.sum(TB.abs(TB.detach(gt)))))
    slopes, fd = [], []
    for v in directions:
        v = TB.double(v)
        if gs is not None:
            slopes.append(to_float(TB.tolist(TB.sum(TB.mul(TB.detach(gs), v)))))
        s0, step = TB.detach(s), TB.mul(v, eps)
        hi = adapt_loss(fn, (TB.add(s0, step), TB.detach(t), y, T, a))
        lo = adapt_loss(fn, (TB.sub(s0, step), TB.detach(t), y, T, a))
        if not (hi["ok"] and lo["ok"]):
            first = hi if not hi["ok"] else lo
            return {"ok": False, "error": "the loss failed on slightly moved inputs: " + PY.str(first.get("error"))}
        fd.append((hi["value"] - lo["value"]) / (2 * eps))
    info["autograd_slopes"] = slopes if gs is not None else None
    info["fd_slopes"] = fd
    return info


ADAPTERS: dict[str, Callable[[Any, tuple], dict]] = {
    "plain": adapt_plain, "loss": adapt_loss, "kd_gradient": adapt_kd_gradient,
}


def ece_score(n_bins: int = 15) -> Callable:
    """score_fn(rows of (confidence, correct), label_rows) -> ECE with the course's (lo, hi] bins."""
    edges = NP.linspace(0.0, 1.0, n_bins + 1)

    def score(cc, labels):
        cc = NP.asarray(cc, dtype=PY.float)
        conf, correct = cc[:, 0], cc[:, 1]
        b = NP.searchsorted(edges, conf, side="left") - 1
        keep = b >= 0
        gap = NP.bincount(b[keep], correct[keep] - conf[keep], minlength=n_bins)
        return PY.float(NP.abs(gap).sum() / PY.len(conf))
    return score


# Functions a probe passes as arguments, rebuilt by name on the host's side (codec.NamedFunction).
INPUT_FUNCTIONS: dict[str, Callable] = {"ece_score": ece_score}
