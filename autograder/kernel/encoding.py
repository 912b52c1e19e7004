"""Returned objects -> plain JSON data, and the JSON text of the result line, with pristine functions only.

A student's patches (a ``tolist`` that lies, a ``json.dumps`` that prints full
marks) can at most change what their own function appears to return: every
conversion here goes through the captures of ``pristine``.
"""
from __future__ import annotations

from typing import Any

from .pristine import NP, PD, PY, TB, TORCH


class Unconvertible(Exception):
    """A returned object that is not plain data (the message says what it was)."""


def plain(x: Any, depth: int = 0) -> Any:
    """Convert a returned object into None/bool/int/float/str/list/dict using pristine functions."""
    if depth > 6:
        raise Unconvertible("nested too deeply")
    t = PY.type(x)
    if x is None or t is PY.bool:
        return x
    if PY.isinstance(x, PY.bool):
        return PY.bool(PY.int_value(x))
    if PY.isinstance(x, NP.bool_):
        return PY.bool(NP.item(x))
    if PY.isinstance(x, PY.float):
        return PY.float_value(x)
    if PY.isinstance(x, PY.int):
        return PY.int_value(x)
    if PY.isinstance(x, NP.generic):
        return plain(NP.item(x), depth + 1)
    if PY.isinstance(x, PY.str):
        return PY.str_value(x)
    if PY.isinstance(x, TORCH.Tensor):
        if t is not TORCH.Tensor:
            raise Unconvertible(f"a {t.__name__} (a torch.Tensor subclass); return a plain torch.Tensor")
        return TB.tolist(TB.detach(x))
    if PY.isinstance(x, NP.ndarray):
        return plain(NP.tolist(NP.array(x, copy=True, subok=False)), depth + 1)
    if PY.isinstance(x, (PY.list, PY.tuple, PY.set, PY.frozenset)):
        items = PY.list(x)
        if PY.isinstance(x, (PY.set, PY.frozenset)):
            items = PY.sorted(items, key=PY.repr)
        return [plain(v, depth + 1) for v in items]
    if PY.isinstance(x, PY.dict):
        return {key(k): plain(v, depth + 1) for k, v in PY.list(PY.dict_items(x))}
    if PY.isinstance(x, PD.DataFrame):
        return frame(x)
    if PY.isinstance(x, PD.Series):
        return plain(PD.series_tolist(x), depth + 1)
    raise Unconvertible(f"an object of type {t.__name__}")


def key(k: Any) -> str:
    """A dict key as text (floats by their repr, so 0.5 and 0.50 are one key)."""
    if PY.isinstance(k, PY.str):
        return PY.str_value(k)
    p = plain(k, 6)
    return PY.float_repr(p) if PY.isinstance(p, PY.float) else PY.str(p)


def frame(df: Any) -> dict:
    """A DataFrame as {"columns": {name: values}, "index": {level: values}}."""
    if PY.type(df) is not PD.DataFrame:
        raise Unconvertible("a DataFrame subclass; return a plain pandas.DataFrame")
    cols = PD.to_dict(df, orient="list")
    index = PD.to_dict(PD.reset_index(df), orient="list")
    return {"columns": {key(k): plain(v, 1) for k, v in PY.list(PY.dict_items(cols))},
            "index": {key(k): plain(v, 1) for k, v in PY.list(PY.dict_items(index)) if key(k) not in cols}}


def _enc_str(s: str) -> str:
    out = []
    for ch in s:
        o = PY.ord(ch)
        if 32 <= o < 127 and ch != '"' and ch != "\\":
            out.append(ch)
        elif o <= 0xFFFF:
            out.append(f"\\u{o:04x}")
        else:
            o -= 0x10000
            out.append(f"\\u{0xD800 + (o >> 10):04x}\\u{0xDC00 + (o & 0x3FF):04x}")
    return '"' + PY.str_join("", out) + '"'


def encode(x: Any) -> str:
    """A small JSON encoder over plain data; NaN and infinities as NaN/Infinity tokens."""
    t = PY.type(x)
    if x is None:
        return "null"
    if t is PY.bool:
        return "true" if x else "false"
    if t is PY.int:
        return PY.int_repr(x)
    if t is PY.float:
        if x != x:
            return "NaN"
        if not PY.isfinite(x):
            return "Infinity" if x > 0 else "-Infinity"
        return PY.float_repr(x)
    if t is PY.str:
        return _enc_str(x)
    if t is PY.list or t is PY.tuple:
        return "[" + PY.str_join(",", [encode(v) for v in x]) + "]"
    if t is PY.dict:
        return "{" + PY.str_join(",", [_enc_str(PY.str_value(k)) + ":" + encode(v)
                                       for k, v in PY.dict_items(x)]) + "}"
    return _enc_str(PY.str_value(PY.repr(x)))  # pragma: no cover (only plain data reaches here)


def to_float(v: Any) -> float:
    """A plain number as a float (bools as 0.0 / 1.0)."""
    if PY.isinstance(v, PY.bool):
        return 1.0 if v else 0.0
    if PY.isinstance(v, PY.float):
        return PY.float_value(v)
    if PY.isinstance(v, PY.int):
        return PY.float_value(PY.int_value(v) * 1.0)
    raise Unconvertible(f"a {PY.type(v).__name__} where a number was expected")


def describe(exc: BaseException) -> str:
    """'Name: message' of an exception, at most 300 characters, whatever its __str__ does."""
    try:
        msg = PY.str_value(PY.str(exc))
    except PY.BaseException:
        msg = ""
    name = PY.type(exc).__name__
    text = f"{name}: {msg}" if msg else name
    return text[:300]


def convert(res: dict) -> dict:
    """Plain data from a Runner result: {"ok", "value"} or {"ok": False, "error"}."""
    if not res["ok"]:
        return res
    try:
        return {"ok": True, "value": plain(res["value"])}
    except PY.BaseException as exc:
        return {"ok": False, "error": f"returned {exc}" if PY.isinstance(exc, Unconvertible)
                else f"could not read the returned value ({describe(exc)})"}


def scalar_info(value: Any) -> dict:
    """Describe a returned loss: float value, whether it is a 0-dim tensor, its dtype."""
    if PY.isinstance(value, TORCH.Tensor):
        if PY.type(value) is not TORCH.Tensor:
            return {"ok": False, "error": "returned a torch.Tensor subclass; return a plain tensor"}
        if TB.numel(value) != 1:
            return {"ok": False, "error": f"returned a tensor with {TB.numel(value)} elements, "
                                          f"expected one number (a scalar)"}
        v = TB.tolist(TB.detach(value))
        while PY.isinstance(v, PY.list):
            v = v[0]
        return {"ok": True, "value": to_float(v), "tensor": True, "ndim": TB.dim(value),
                "dtype": PY.str(TB.dtype(value))}
    try:
        v = plain(value)
    except PY.BaseException as exc:
        return {"ok": False, "error": f"returned {exc}"}
    if PY.isinstance(v, (PY.int, PY.float)) and not PY.isinstance(v, PY.bool):
        return {"ok": True, "value": to_float(v), "tensor": False, "ndim": 0, "dtype": "python"}
    return {"ok": False, "error": f"returned {PY.type(value).__name__}, expected a scalar torch tensor"}


def loss_result(res: dict) -> dict:
    """A Runner result for a loss: its scalar description, or the error."""
    if not res["ok"]:
        return res
    return scalar_info(res["value"])
