"""Kernel side of the autograder: run a student's function on fixed inputs and emit the outputs.

A hidden test cell calls ``probe("<check id>", globals())``.  The probe looks up
the student's objects, runs them on inputs regenerated here from fixed seeds,
converts whatever comes back into plain JSON data and writes it as one marked
line on the cell's stdout.  It never judges: the grading driver compares that
data with ``autograder/expected/*.json`` outside the kernel (``checks.py``).

Why the care below.  Student code runs in this same process and may have
replaced numpy, torch, ``json``, ``print`` or builtins.  The driver imports this
module at kernel start (an IPython startup file), before any student cell, so
the functions captured at import are the pristine ones; every conversion and
the output path use only those.  A student's patches can at most change what
their own function appears to return, which is no more than returning a
different value, and the judgment never runs in the kernel at all.

Forged lines: the driver writes a one-time nonce into a file named by
``AUTOGRADER_NONCE_FILE``; it is read and the file deleted at import, before
student code runs.  Lines without the nonce are ignored by the driver, and two
valid lines for one check count as tampering.
"""
from __future__ import annotations

import math as _math
import os as _os
import sys as _sys

import numpy as _np
import pandas as _pd
import torch as _torch

MARKER = "@@AUTOGRADER-RESULT@@"
NONCE_ENV = "AUTOGRADER_NONCE_FILE"

# --------------------------------------------------------------------------- pristine references
_type = type
_isinstance = isinstance
_len = len
_range = range
_sorted = sorted
_repr = repr
_str = str
_ord = ord
_list = list
_dict = dict
_tuple = tuple
_zip = zip
_BaseException = BaseException
_KeyboardInterrupt = KeyboardInterrupt
_float_value = float.__float__          # the stored double, ignoring subclass overrides
_bool = bool
_callable = callable
_getattr = getattr
_open = open
_float_repr = float.__repr__
_int_value = int.__index__
_int_repr = int.__repr__
_str_join = str.join
_str_value = str.__str__
_isfinite = _math.isfinite
_getprofile = _sys.getprofile
import inspect as _inspect  # noqa: E402

_getsource = _inspect.getsource
_setprofile = _sys.setprofile

_ndarray = _np.ndarray
_np_generic = _np.generic
_np_item = _np.generic.item
_np_tolist = _np.ndarray.tolist
_np_asarray = _np.asarray
_np_array = _np.array
_RandomState = _np.random.RandomState

_Tensor = _torch.Tensor
_TB = _torch._C.TensorBase
_t_tolist = _TB.tolist
_t_detach = _TB.detach
_t_dim = _TB.dim
_t_numel = _TB.numel
_t_clone = _TB.clone
_t_float = _TB.float
_t_double = _TB.double
_t_abs = _TB.abs
_t_sum = _TB.sum
_t_requires_grad = _TB.requires_grad.__get__
_t_requires_grad_ = _TB.requires_grad_
_t_dtype = _TB.dtype.__get__
_t_reshape = _TB.reshape
_t_mul = _TB.mul
_t_add = _TB.add
_t_sub = _TB.sub
_torch_grad = _torch.autograd.grad
_torch_tensor = _torch.tensor
_torch_Generator = _torch.Generator
_torch_randn = _torch.randn
_torch_randint = _torch.randint
_torch_half = _torch.float16

_DataFrame = _pd.DataFrame
_Series = _pd.Series
_df_to_dict = _pd.DataFrame.to_dict
_df_reset_index = _pd.DataFrame.reset_index
_series_tolist = _pd.Series.tolist

try:  # the ipykernel stream of this cell; the object survives a student rebinding sys.stdout
    _out_write = _sys.stdout.write
    _out_flush = _sys.stdout.flush
except _BaseException:  # pragma: no cover
    _out_write = _out_flush = None


def _read_nonce():
    path = _os.environ.pop(NONCE_ENV, None)
    if not path:
        return ""
    try:
        with _open(path, encoding="ascii") as fh:
            value = fh.read().strip()
        _os.unlink(path)
        return value
    except OSError:
        return ""


_NONCE = _read_nonce()

# Reference implementations a student's function must not call for its own skill
# (code objects are captured now, so aliases, wrappers and re-bindings are all seen).
import helpers.bootstrap as _hb  # noqa: E402
import helpers.calibration as _hc  # noqa: E402
import helpers.kd as _hk  # noqa: E402
import helpers.metrics as _hm  # noqa: E402


def _codes(*fns):
    return {f.__code__: f"{f.__module__}.{f.__name__}" for f in fns}


FORBIDDEN = {
    "kd": _codes(_hk.kd_loss, _hk.kd_loss_terms),
    "per_tier_f1": _codes(_hm.per_tier_f1),
    "per_tier_ece": _codes(_hm.per_tier_ece, _hm.ece, _hm.reliability_bins),
    "coverage": _codes(_hm.coverage_table),
    "bootstrap": _codes(_hb.paired_bootstrap, _hb.paired_bootstrap_loop, _hb.resample_indices),
    "per_class_f1": _codes(_hm.per_class_f1),
    "per_tier_js": _codes(_hm.per_tier_js, _hm.js_divergence),
    "fit_temperature": _codes(_hc.fit_temperature),
}


# --------------------------------------------------------------------------- plain data
class _Unconvertible(Exception):
    pass


def _plain(x, depth=0):
    """Convert a returned object into None/bool/int/float/str/list/dict using pristine functions."""
    if depth > 6:
        raise _Unconvertible("nested too deeply")
    t = _type(x)
    if x is None or t is bool:
        return x
    if _isinstance(x, bool):
        return _bool(_int_value(x))
    if _isinstance(x, _np.bool_):
        return _bool(_np_item(x))
    if _isinstance(x, float):
        return _float_value(x)
    if _isinstance(x, int):
        return _int_value(x)
    if _isinstance(x, _np_generic):
        return _plain(_np_item(x), depth + 1)
    if _isinstance(x, str):
        return _str_value(x)
    if _isinstance(x, _Tensor):
        if t is not _Tensor:
            raise _Unconvertible(f"a {t.__name__} (a torch.Tensor subclass); return a plain torch.Tensor")
        return _t_tolist(_t_detach(x))
    if _isinstance(x, _ndarray):
        return _plain(_np_tolist(_np_array(x, copy=True, subok=False)), depth + 1)
    if _isinstance(x, (list, tuple, set, frozenset)):
        items = _list(x)
        if _isinstance(x, (set, frozenset)):
            items = _sorted(items, key=lambda v: _repr(v))
        return [_plain(v, depth + 1) for v in items]
    if _isinstance(x, dict):
        return {_key(k): _plain(v, depth + 1) for k, v in _list(dict.items(x))}
    if _isinstance(x, _DataFrame):
        return _frame(x)
    if _isinstance(x, _Series):
        return _plain(_series_tolist(x), depth + 1)
    raise _Unconvertible(f"an object of type {t.__name__}")


def _key(k):
    if _isinstance(k, str):
        return _str_value(k)
    p = _plain(k, 6)
    return _float_repr(p) if _isinstance(p, float) else _str(p)


def _frame(df):
    if _type(df) is not _DataFrame:
        raise _Unconvertible("a DataFrame subclass; return a plain pandas.DataFrame")
    cols = _df_to_dict(df, orient="list")
    index = _df_to_dict(_df_reset_index(df), orient="list")
    return {"columns": {_key(k): _plain(v, 1) for k, v in _list(dict.items(cols))},
            "index": {_key(k): _plain(v, 1) for k, v in _list(dict.items(index)) if _key(k) not in cols}}


def _enc_str(s):
    out = []
    for ch in s:
        o = _ord(ch)
        if 32 <= o < 127 and ch != '"' and ch != "\\":
            out.append(ch)
        elif o <= 0xFFFF:
            out.append("\\u%04x" % o)
        else:
            o -= 0x10000
            out.append("\\u%04x\\u%04x" % (0xD800 + (o >> 10), 0xDC00 + (o & 0x3FF)))
    return '"' + _str_join("", out) + '"'


def encode(x):
    """A small JSON encoder over plain data; NaN and infinities as NaN/Infinity tokens."""
    t = _type(x)
    if x is None:
        return "null"
    if t is bool:
        return "true" if x else "false"
    if t is int:
        return _int_repr(x)
    if t is float:
        if x != x:
            return "NaN"
        if not _isfinite(x):
            return "Infinity" if x > 0 else "-Infinity"
        return _float_repr(x)
    if t is str:
        return _enc_str(x)
    if t is list or t is tuple:
        return "[" + _str_join(",", [encode(v) for v in x]) + "]"
    if t is dict:
        return "{" + _str_join(",", [_enc_str(_str_value(k)) + ":" + encode(v) for k, v in dict.items(x)]) + "}"
    return _enc_str(_str_value(_repr(x)))  # pragma: no cover (only plain data reaches here)


# --------------------------------------------------------------------------- running student code
class Runner:
    """Calls student functions; records errors, interrupts and calls into forbidden references."""

    def __init__(self, detect=True):
        self.detect = detect
        self.flags = []
        self.interrupted = False

    def call(self, fn, args, forbidden=None):
        """Return {"ok": True, "value": raw} or {"ok": False, "error": "..."}; never raises."""
        if self.interrupted:
            return {"ok": False, "error": "not run: an earlier call was interrupted (time limit)"}
        if not _callable(fn):
            return {"ok": False, "error": f"expected a function, found {_type(fn).__name__}"}
        codes = FORBIDDEN.get(forbidden, {}) if (self.detect and forbidden) else {}
        hits = []

        def hook(frame, event, arg):
            if event == "call":
                name = codes.get(frame.f_code)
                if name is not None and name not in hits:
                    hits.append(name)

        prev = _getprofile()
        if codes:
            _setprofile(hook)
        try:
            value = fn(*args)
            result = {"ok": True, "value": value}
        except _KeyboardInterrupt:
            self.interrupted = True
            result = {"ok": False, "error": "interrupted: the call ran past the cell's time limit"}
        except _BaseException as exc:  # SystemExit included: a student's exit() must not end the probe
            result = {"ok": False, "error": "raised " + _describe(exc)}
        finally:
            if codes:
                still_ours = _getprofile() is hook
                _setprofile(prev)
                if not still_ours:
                    hits.append("<the profiler hook was removed during the call>")
        for h in hits:
            flag = f"reference_call:{forbidden}:{h}"
            if flag not in self.flags:
                self.flags.append(flag)
        return result


def _to_float(v):
    if _isinstance(v, bool):
        return 1.0 if v else 0.0
    if _isinstance(v, float):
        return _float_value(v)
    if _isinstance(v, int):
        return _float_value(_int_value(v) * 1.0)
    raise _Unconvertible(f"a {_type(v).__name__} where a number was expected")


def _describe(exc):
    try:
        msg = _str_value(_str(exc))
    except _BaseException:
        msg = ""
    name = _type(exc).__name__
    text = f"{name}: {msg}" if msg else name
    return text[:300]


def _convert(res):
    """Plain data from a Runner result: {"ok", "value"} or {"ok": False, "error"}."""
    if not res["ok"]:
        return res
    try:
        return {"ok": True, "value": _plain(res["value"])}
    except _BaseException as exc:
        return {"ok": False, "error": f"returned {exc}" if _isinstance(exc, _Unconvertible)
                else f"could not read the returned value ({_describe(exc)})"}


def _scalar_info(value):
    """Describe a returned loss: float value, whether it is a 0-dim tensor, its dtype."""
    if _isinstance(value, _Tensor):
        if _type(value) is not _Tensor:
            return {"ok": False, "error": "returned a torch.Tensor subclass; return a plain tensor"}
        if _t_numel(value) != 1:
            return {"ok": False, "error": f"returned a tensor with {_t_numel(value)} elements, "
                                          f"expected one number (a scalar)"}
        v = _t_tolist(_t_detach(value))
        while _isinstance(v, list):
            v = v[0]
        return {"ok": True, "value": _to_float(v), "tensor": True, "ndim": _t_dim(value),
                "dtype": _str(_t_dtype(value))}
    try:
        v = _plain(value)
    except _BaseException as exc:
        return {"ok": False, "error": f"returned {exc}"}
    if _isinstance(v, (int, float)) and not _isinstance(v, bool):
        return {"ok": True, "value": _to_float(v), "tensor": False, "ndim": 0, "dtype": "python"}
    return {"ok": False, "error": f"returned {_type(value).__name__}, expected a scalar torch tensor"}


# --------------------------------------------------------------------------- fixed inputs
def _tgen(seed):
    g = _torch_Generator()
    g.manual_seed(seed)
    return g


def kd_settings():
    """(batch, n_classes, T_d): each setting has one fixed input batch, scored at every alpha."""
    return [(b, c, T) for b in (1, 5) for c in (2, 113) for T in (1.0, 2.0, 4.0, 8.0)]


KD_ALPHAS = (0.0, 0.3, 0.7, 1.0)


def kd_grid():
    """The KD grid: (batch, n_classes, T_d, alpha) in a fixed order, alpha fastest."""
    return [(b, c, T, a) for (b, c, T) in kd_settings() for a in KD_ALPHAS]


def kd_inputs(i, batch, n_classes, scale=3.0, half=False):
    g = _tgen(10_000 + i)
    s = _torch_randn(batch, n_classes, generator=g) * scale
    t = _torch_randn(batch, n_classes, generator=g) * scale
    y = _torch_randint(0, n_classes, (batch,), generator=g)
    if half:
        s, t = s.half(), t.half()
    return s, t, y


def large_inputs(j, batch, n_classes):
    """Logits of size ~1000 where the teacher is a sharper copy of the student (t = 1.1 s).

    Softmax probabilities underflow to exactly 0 in float32 here, and wherever the student's
    do, the teacher's do too (its gaps are 1.1 times larger), so the true KL stays finite and
    every correct formulation (log_softmax, log_target, torch.distributions) stays finite,
    while log(softmax(...)) meets log(0) = -inf.
    """
    s, _, y = kd_inputs(600 + j, batch, n_classes, scale=400.0)
    return s, _t_mul(s, 1.1), y


KD_FP16 = [(5, 113, 4.0, 0.7), (5, 113, 8.0, 0.3), (3, 2, 1.0, 1.0)]
KD_LARGE = [(5, 113, 8.0, 0.7), (5, 113, 8.0, 1.0)]
KD_GRAD = (5, 113, 4.0, 0.7)
KD_FD_EPS = 1e-2      # central finite differences in float64 along fixed random directions
KD_FD_DIRECTIONS = 3


def _kd_probe(fn, run):
    # The same inputs at every alpha, so the judge can separate the two terms (alpha = 0 and 1)
    # from their weighting (the mixed alphas), and charge a weighting slip only to the weights.
    grid = []
    for i, (b, c, T) in enumerate(kd_settings()):
        s, t, y = kd_inputs(i, b, c)
        for a in KD_ALPHAS:
            grid.append(_loss_result(run.call(fn, (s, t, y, T, a), "kd")))
    # Robustness is judged against the student's own function on the same inputs at a
    # higher precision, so a formula mistake is not charged twice (it has its own parts).
    fp16, fp16_own_fp32 = [], []
    for j, (b, c, T, a) in enumerate(KD_FP16):
        s, t, y = kd_inputs(500 + j, b, c, half=True)
        fp16.append(_loss_result(run.call(fn, (s, t, y, T, a), "kd")))
        fp16_own_fp32.append(_loss_result(run.call(fn, (_t_float(s), _t_float(t), y, T, a), "kd")))
    large, large_own_fp64 = [], []
    for j, (b, c, T, a) in enumerate(KD_LARGE):
        s, t, y = large_inputs(j, b, c)
        large.append(_loss_result(run.call(fn, (s, t, y, T, a), "kd")))
        large_own_fp64.append(_loss_result(run.call(fn, (_t_double(s), _t_double(t), y, T, a), "kd")))
    return {"grid": grid, "fp16": fp16, "fp16_own_fp32": fp16_own_fp32, "large": large,
            "large_own_fp64": large_own_fp64, "gradient": _kd_gradient(fn, run)}


def _loss_result(res):
    if not res["ok"]:
        return res
    return _scalar_info(res["value"])


def _kd_gradient(fn, run):
    """Autograd's gradient of the student's own loss next to its finite-difference slope.

    The gradient is judged against the student's own function, not the course's, so a
    formula slip (charged in the formula parts) does not cost the gradient point too;
    what this catches is a loss that backward() cannot reach (.item(), numpy, re-wrapping
    with torch.tensor) or reaches only in part (a detached student term).
    """
    b, c, T, a = KD_GRAD
    s, t, y = kd_inputs(700, b, c)
    s, t = _t_double(s), _t_double(t)
    _t_requires_grad_(s, True)
    _t_requires_grad_(t, True)
    res = run.call(fn, (s, t, y, T, a), "kd")
    if not res["ok"]:
        return res
    out = res["value"]
    if not _isinstance(out, _Tensor) or _type(out) is not _Tensor:
        return {"ok": False, "kind": "not_tensor",
                "error": f"returned {_type(out).__name__}, expected a torch tensor that supports backward()"}
    info = {"ok": True, "ndim": _t_dim(out), "numel": _t_numel(out)}
    if _t_numel(out) != 1:
        return {"ok": False, "error": f"returned a tensor with {_t_numel(out)} elements; backward() needs a scalar"}
    if not _t_requires_grad(out):
        return {"ok": False, "kind": "no_grad",
                "error": "the returned loss does not require grad, so backward() cannot reach "
                         "the student logits (was it built with .item(), numpy or torch.tensor(...)?)"}
    try:
        gs, gt = _torch_grad(_t_reshape(out, ()), [s, t], allow_unused=True)
    except _BaseException as exc:
        return {"ok": False, "error": f"backward() failed: {_describe(exc)}"}
    info["teacher_grad_abs_sum"] = None if gt is None else _to_float(_t_tolist(_t_sum(_t_abs(_t_detach(gt)))))
    g = _tgen(701)
    slopes, fd = [], []
    for _ in _range(KD_FD_DIRECTIONS):
        v = _t_double(_torch_randn(b, c, generator=g))
        if gs is not None:
            slopes.append(_to_float(_t_tolist(_t_sum(_t_mul(_t_detach(gs), v)))))
        s0, step = _t_detach(s), _t_mul(v, KD_FD_EPS)
        hi = run.call(fn, (_t_add(s0, step), _t_detach(t), y, T, a), "kd")
        lo = run.call(fn, (_t_sub(s0, step), _t_detach(t), y, T, a), "kd")
        hi, lo = _loss_result(hi), _loss_result(lo)
        if not (hi["ok"] and lo["ok"]):
            return {"ok": False, "error": "the loss failed on slightly moved inputs: " + _err_text(hi, lo)}
        fd.append((hi["value"] - lo["value"]) / (2 * KD_FD_EPS))
    info["autograd_slopes"] = slopes if gs is not None else None
    info["fd_slopes"] = fd
    return info


def _err_text(*results):
    for r in results:
        if not r.get("ok"):
            return _str(r.get("error", ""))
    return ""


def _rs(seed):
    return _RandomState(seed)


def tier_data(seed, n=900, n_classes=30):
    """Labels, predictions, probabilities and tiers for the per-tier checks (30 classes, 3 tiers)."""
    rng = _rs(seed)
    weights = _np.concatenate([_np.full(10, 6.0), _np.full(10, 2.0), _np.full(10, 0.5)])
    labels = rng.choice(n_classes, size=n, p=weights / weights.sum())
    tiers = _np.where(labels < 10, "head", _np.where(labels < 20, "mid", "tail"))
    logits = rng.normal(size=(n, n_classes)) * rng.uniform(0.5, 3.0, size=(n, 1))
    boost = _np.where(tiers == "head", 3.0, _np.where(tiers == "mid", 2.0, 1.0))
    logits[_np.arange(n), labels] += boost * rng.uniform(0.0, 1.5, size=n)
    z = logits - logits.max(axis=1, keepdims=True)
    probs = _np.exp(z) / _np.exp(z).sum(axis=1, keepdims=True)
    preds = probs.argmax(axis=1)
    return labels.astype(_np.int64), preds.astype(_np.int64), probs, tiers


def coverage_data(seed, n=500, n_classes=10):
    rng = _rs(seed)
    labels = rng.randint(0, n_classes, size=n)
    logits = rng.normal(size=(n, n_classes))
    logits[_np.arange(n), labels] += rng.uniform(0.0, 4.5, size=n)
    logits = _np.clip(logits, -4.0, 4.0)  # top-1 probability <= 1 / (1 + 9 e^-8) < 0.998
    z = logits - logits.max(axis=1, keepdims=True)
    probs = _np.exp(z) / _np.exp(z).sum(axis=1, keepdims=True)
    edge_p, edge_y = _on_threshold_rows(n_classes, rng)
    order = rng.permutation(n + _len(edge_y))
    probs = _np.concatenate([probs, edge_p])[order]
    labels = _np.concatenate([labels, edge_y])[order]
    return probs, labels.astype(_np.int64)


# Thresholds exactly representable in float32 and float64, and rows whose top-1 confidence is
# exactly on each of them: `confidence >= t` and `confidence > t` give different tables.
# 0.999 covers nothing by construction.
COVERAGE_THRESHOLDS = (0.5, 0.625, 0.75, 0.8125, 0.875, 0.999)
ON_THRESHOLD_ROWS = 12  # per threshold (the first two are wrong, so accuracy moves too)


def _on_threshold_rows(n_classes, rng):
    rows, labels = [], []
    for th in COVERAGE_THRESHOLDS[:-1]:
        for k in _range(ON_THRESHOLD_ROWS):
            p = _np.zeros(n_classes)
            top = rng.randint(0, n_classes)
            rest = [c for c in _range(n_classes) if c != top][:2]
            p[top] = th
            p[rest[0]] = p[rest[1]] = (1.0 - th) / 2   # dyadic: the row sums to exactly 1
            rows.append(p)
            labels.append(rest[0] if k < 2 else top)
    return _np.array(rows), _np.array(labels)


def bootstrap_arms_ece(seed=77, n=600, n_classes=10):
    """Two probability arms from the same logits at two temperatures (correlated ECE)."""
    rng = _rs(seed)
    labels = rng.randint(0, n_classes, size=n)
    logits = rng.normal(size=(n, n_classes)) * 1.5
    logits[_np.arange(n), labels] += rng.uniform(0.0, 2.5, size=n)
    logits *= 2.2  # overconfident arm a

    def sm(z):
        z = z - z.max(axis=1, keepdims=True)
        e = _np.exp(z)
        return e / e.sum(axis=1, keepdims=True)
    return sm(logits), sm(logits / 2.0), labels.astype(_np.int64)


def confidence_correct(probs, labels):
    """Per row (top-1 confidence, 1.0 if the argmax is right): all an ECE needs, as the homework does."""
    return _np.column_stack([probs.max(axis=1), (probs.argmax(axis=1) == labels).astype(float)])


def hw_bootstrap_arms():
    """The ECE arms as (confidence, correct) rows, so 10,000 resamples take about a second."""
    pa, pb, labels = bootstrap_arms_ece()
    return confidence_correct(pa, labels), confidence_correct(pb, labels), labels


def ece_score(n_bins=15):
    """score_fn(rows of (confidence, correct), label_rows) -> ECE with the course's (lo, hi] bins."""
    edges = _np.linspace(0.0, 1.0, n_bins + 1)

    def score(cc, labels):
        cc = _np.asarray(cc, dtype=float)
        conf, correct = cc[:, 0], cc[:, 1]
        b = _np.searchsorted(edges, conf, side="left") - 1
        keep = b >= 0
        gap = _np.bincount(b[keep], correct[keep] - conf[keep], minlength=n_bins)
        return float(_np.abs(gap).sum() / _len(conf))
    return score


def temperature_data(seed=31, n=1500, n_classes=15, true_T=1.7):
    rng = _rs(seed)
    logits = rng.normal(size=(n, n_classes)) * 2.5
    p = _np.exp(logits / true_T - (logits / true_T).max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    u = rng.rand(n, 1)
    labels = (p.cumsum(axis=1) < u).sum(axis=1).clip(0, n_classes - 1)
    return logits.astype(_np.float32), labels.astype(_np.int64)


def per_class_data(seed=53, n=2000, n_classes=113):
    rng = _rs(seed)
    w = 1.0 / _np.arange(1, n_classes + 1) ** 1.1
    labels = rng.choice(n_classes, size=n, p=w / w.sum())
    preds = labels.copy()
    wrong = rng.rand(n) < 0.5
    preds[wrong] = rng.choice(n_classes, size=int(wrong.sum()), p=w / w.sum())
    return labels.astype(_np.int64), preds.astype(_np.int64)


def js_data(seed=61, n=600, n_classes=20):
    rng = _rs(seed)
    tiers = _np.array(["head", "mid", "tail"])[rng.choice(3, size=n, p=[0.6, 0.3, 0.1])]

    def sm(z):
        z = z - z.max(axis=1, keepdims=True)
        e = _np.exp(z)
        return e / e.sum(axis=1, keepdims=True)
    base = rng.normal(size=(n, n_classes)) * 2.0
    p = sm(base)
    q = sm(base + rng.normal(size=(n, n_classes)) * _np.where(tiers == "tail", 2.0, 0.7)[:, None])
    p[:20, :5] = 0.0  # exact zeros: the clip at 1e-12 must keep the divergence finite
    p[:20] /= p[:20].sum(axis=1, keepdims=True)
    return p, q, tiers


FRACTION_CASES = [(0.1308, 0.0263, 0.0546), (0.2, 0.05, 0.1), (0.1, 0.08, 0.02)]


# --------------------------------------------------------------------------- one function per check
def _lookup(ns, name):
    try:
        return True, dict.__getitem__(ns, name)
    except KeyError:
        return False, None
    except _BaseException:
        return False, None


def _missing(name):
    return {"ok": False, "error": f"no object named {name!r} was defined in the notebook"}


def _call_conv(ns, run, name, args, forbidden):
    found, fn = _lookup(ns, name)
    if not found:
        return _missing(name)
    return _convert(run.call(fn, args, forbidden))


def p_kd_loss(ns, run):
    found, fn = _lookup(ns, "kd_loss_fn")
    if not found:
        return {"missing": _missing("kd_loss_fn")}
    return _kd_probe(fn, run)


# The fix is judged on the colleague's code: the same inputs separate the three bugs (at
# T_d = 1 the T_d**2 factor is 1, at alpha = 0.5 the weights are symmetric), and the source
# shows whether the function still is the colleague's code.
FIXED_CASES = [(5, 113, 1.0, 0.5), (5, 113, 4.0, 0.5), (5, 113, 4.0, 0.8), (4, 7, 2.0, 0.2), (5, 113, 8.0, 0.7)]


def fixed_inputs(j, batch, n_classes):
    return kd_inputs(800 + j, batch, n_classes)


def _source_of(fn):
    """The source text of a function defined in the notebook (None when it has none)."""
    try:
        return _str_value(_getsource(fn))
    except _BaseException:
        return None


def p_fixed_kd_loss(ns, run):
    found, fn = _lookup(ns, "fixed_kd_loss")
    if not found:
        return {"missing": _missing("fixed_kd_loss")}
    cases = []
    for j, (b, c, T, a) in enumerate(FIXED_CASES):
        s, t, y = fixed_inputs(j, b, c)
        cases.append(_loss_result(run.call(fn, (s, t, y, T, a), "kd")))
    found_own, own = _lookup(ns, "kd_loss_fn")
    return {"cases": cases, "source": _source_of(fn), "name": _str_value(_str(_getattr(fn, "__name__", ""))),
            "is_kd_loss_fn": bool(found_own and own is fn)}


def p_bug_choices(ns, run):
    found, chosen = _lookup(ns, "chosen_bugs")
    if not found:
        return {"chosen": _missing("chosen_bugs")}
    try:
        items = _list(chosen.keys()) if _isinstance(chosen, dict) else _list(chosen)
        return {"chosen": {"ok": True, "value": _sorted({_str(_plain(v)) for v in items})}}
    except _BaseException as exc:
        return {"chosen": {"ok": False, "error": f"chosen_bugs could not be read as a set of ids ({_describe(exc)})"}}


def p_per_tier_f1(ns, run):
    labels, preds, _, tiers = tier_data(11)
    return {"result": _call_conv(ns, run, "per_tier_f1", (labels, preds, tiers), "per_tier_f1")}


ECE_EDGE_BINS = 8  # edges k/8 are exact in float32 and float64, whatever way they are computed


def ece_edge_data(seed=13, n_classes=12):
    """Rows whose top-1 confidence lies exactly on a bin edge (k/8) or strictly inside a bin, per tier.

    With (lo, hi] bins an edge row joins the bin below; with [lo, hi) the bin above, next to
    rows of another confidence and accuracy, so the two conventions give different ECEs.
    """
    rng = _rs(seed)
    probs, labels, tiers = [], [], []
    for tier_i, tier in enumerate(("head", "mid", "tail")):
        for k in _range(4, 9):                           # edges 0.5 .. 1.0
            for conf, n_rows, n_right in ((k / 8, 6, 6 - tier_i), (k / 8 + 1 / 16, 6, 1)):
                if conf > 1.0:
                    continue
                for r in _range(n_rows):
                    p = _np.zeros(n_classes)
                    top = rng.randint(0, n_classes)
                    others = [c for c in _range(n_classes) if c != top]
                    p[top] = conf
                    if conf < 1.0:
                        p[others[0]] = p[others[1]] = (1.0 - conf) / 2
                    probs.append(p)
                    labels.append(top if r < n_right else others[2])
                    tiers.append(tier)
    order = rng.permutation(_len(labels))
    return (_np.array(probs)[order], _np.array(labels, dtype=_np.int64)[order], _np.array(tiers)[order])


def p_per_tier_ece(ns, run):
    labels, _, probs, tiers = tier_data(12)
    e_probs, e_labels, e_tiers = ece_edge_data()
    return {"result": _call_conv(ns, run, "per_tier_ece", (probs, labels, tiers), "per_tier_ece"),
            "edges": _call_conv(ns, run, "per_tier_ece", (e_probs, e_labels, e_tiers, ECE_EDGE_BINS),
                                "per_tier_ece")}


def _coverage(ns, run, seed):
    probs, labels = coverage_data(seed)
    return {"result": _call_conv(ns, run, "coverage_table", (probs, labels, COVERAGE_THRESHOLDS), "coverage")}


def p_lab_coverage(ns, run):  # noqa: D103
    return _coverage(ns, run, 21)


def p_hw_coverage(ns, run):
    return _coverage(ns, run, 22)


# 10,000 resamples: the Monte Carlo error of a 2.5% quantile falls to ~0.03 sigma, so a 90%
# interval (0.32 sigma narrower at each end) is told from the 95% one the instructions ask for.
HW_BOOT_RESAMPLES = 10_000


def _bootstrap(ns, run, arms, score_fn):
    a, b, labels = arms
    return {"result": _call_conv(ns, run, "paired_bootstrap_ci", (score_fn, a, b, labels, HW_BOOT_RESAMPLES, 42),
                                 "bootstrap")}


def _read(ns, name, how=None):
    found, obj = _lookup(ns, name)
    if not found:
        return _missing(name)
    try:
        return {"ok": True, "value": how(obj) if how else _plain(obj)}
    except _BaseException as exc:
        return {"ok": False, "error": f"{name} could not be read ({_describe(exc)})"}


def p_lab_bootstrap(ns, run):
    """The lab gives the bootstrap: its use (the table) and its reading (two answers) are judged."""
    return {"table": _read(ns, "f1_ci_table"),
            "real_lift_tiers": _read(ns, "real_lift_tiers", lambda v: _sorted({_str(_plain(x)) for x in v})),
            "tail_reading": _read(ns, "tail_reading", lambda v: _str_value(_str(_plain(v))))}


def p_hw_bootstrap(ns, run):
    return _bootstrap(ns, run, hw_bootstrap_arms(), ece_score(15))


def p_deployment(ns, run):
    """Only the artifact: the judge recomputes every number it claims from the course data."""
    found, dep = _lookup(ns, "deployment")
    if not found:
        return {"deployment": _missing("deployment")}
    if not _isinstance(dep, dict):
        return {"deployment": {"ok": False, "error": f"deployment is a {_type(dep).__name__}, expected a dict"}}
    fields = {}
    for k, v in _list(dict.items(dep)):
        try:
            fields[_key(k)] = _plain(v)
        except _BaseException:
            fields[_key(k)] = _str(_type(v).__name__)
    return {"deployment": {"ok": True, "value": fields}}


def p_per_class_f1(ns, run):
    labels, preds = per_class_data()
    return {"result": _call_conv(ns, run, "per_class_f1", (labels, preds, 113), "per_class_f1")}


def p_per_tier_js(ns, run):
    p, q, tiers = js_data()
    return {"result": _call_conv(ns, run, "per_tier_js", (p, q, tiers), "per_tier_js")}


def p_fit_temperature(ns, run):
    logits, labels = temperature_data()
    return {"result": _call_conv(ns, run, "fit_temperature", (logits, labels), "fit_temperature")}


def p_reproducible_fraction(ns, run):
    found, fn = _lookup(ns, "reproducible_fraction")
    if not found:
        return {"cases": [_missing("reproducible_fraction")] * _len(FRACTION_CASES)}
    return {"cases": [_convert(run.call(fn, case, None)) for case in FRACTION_CASES]}


PROBES = {
    "lab_kd_loss": p_kd_loss,
    "lab_bug_choices": p_bug_choices,
    "lab_fixed_kd_loss": p_fixed_kd_loss,
    "lab_per_tier_f1": p_per_tier_f1,
    "lab_per_tier_ece": p_per_tier_ece,
    "lab_bootstrap_ci": p_lab_bootstrap,
    "lab_coverage_table": p_lab_coverage,
    "lab_deployment": p_deployment,
    "hw_per_class_f1": p_per_class_f1,
    "hw_per_tier_js": p_per_tier_js,
    "hw_fit_temperature": p_fit_temperature,
    "hw_reproducible_fraction": p_reproducible_fraction,
    "hw_bootstrap_ci": p_hw_bootstrap,
    "hw_coverage_table": p_hw_coverage,
}


def collect(check_id, namespace, detect=True):
    """Run one check's probe and return (data, flags) as plain data (no judgment)."""
    run = Runner(detect=detect)
    fn = PROBES.get(check_id)
    if fn is None:
        return {"error": f"unknown check id {check_id!r}"}, []
    try:
        data = fn(namespace, run)
    except _KeyboardInterrupt:
        data = {"error": "interrupted: the check ran past the cell's time limit"}
    except _BaseException as exc:  # a bug in the probe must not look like the student's
        data = {"error": f"probe failure: {_describe(exc)}"}
    if run.interrupted:
        data["interrupted"] = True
    return data, _list(run.flags)


def probe(check_id, namespace):
    """Entry point of every hidden test cell: emit one marked line and return None."""
    data, flags = collect(check_id, namespace)
    payload = {"check": _str(check_id), "nonce": _NONCE, "flags": flags, "data": data}
    try:
        line = MARKER + " " + encode(payload) + "\n"
    except _BaseException as exc:
        line = MARKER + " " + encode({"check": _str(check_id), "nonce": _NONCE, "flags": [],
                                       "data": {"error": f"could not encode outputs: {_describe(exc)}"}}) + "\n"
    if _out_write is not None:
        _out_write(line)
        _out_flush()
    else:  # pragma: no cover
        _os.write(1, line.encode("ascii"))
    return None
