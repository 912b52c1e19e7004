"""The function host's wire format: typed JSON values in length-prefixed frames with a sequence number.

Side-effect free and shared by the driver (``client``) and the host (``loop``).  No
pickle: a frame is 4 bytes of big-endian length and that many bytes of UTF-8 JSON,
an object with ``seq`` (the request's number, echoed by its reply) and the payload.
Values that JSON cannot hold exactly travel as tagged objects:

* non-finite floats: ``{"$f": "nan" | "inf" | "-inf"}``;
* tuples: ``{"$tuple": [...]}``; dicts: ``{"$dict": [[key, value], ...]}`` (any plain keys);
* numpy arrays and torch tensors: ``{"$nd" | "$tensor": {"dtype", "shape", "b64"}}``, the raw
  bytes in base64 (so float32 / float16 values arrive bit-exact); object arrays are refused;
* a named input function the host rebuilds from its own table: ``{"$fn": name, "args": [...]}``.
"""
from __future__ import annotations

import math
import struct
from base64 import b64decode, b64encode
from json import dumps, loads
from typing import Any

# Bound at import (the host imports this before any student cell): a student's patch of
# json.dumps or base64 in the host cannot reach the frames.
HEADER = struct.Struct(">I")
MAX_FRAME = 64 << 20  # a reply larger than this is a protocol violation (the driver stops reading)


class ProtocolError(Exception):
    """A frame that breaks the protocol (size, JSON, sequence number); the message says which."""


class NamedFunction:
    """An input function the host rebuilds by name (``adapters.INPUT_FUNCTIONS``): functions cannot travel."""

    def __init__(self, name: str, *args: Any) -> None:
        self.name, self.args = name, args

    def __repr__(self) -> str:
        return f"NamedFunction({self.name!r}, *{self.args!r})"


def _array(obj: Any) -> dict:
    import numpy as np
    arr = np.ascontiguousarray(obj)
    if arr.dtype.hasobject:
        raise TypeError("an object array cannot travel to the function host; use numbers or strings")
    return {"dtype": arr.dtype.str, "shape": list(arr.shape), "b64": b64encode(arr.tobytes()).decode("ascii")}


def to_wire(x: Any) -> Any:
    """A value as tagged JSON data (see the module docstring); raises TypeError for anything else."""
    if x is None or isinstance(x, (bool, str)):
        return x
    if isinstance(x, int):
        return int(x)
    if isinstance(x, float):
        if math.isnan(x):
            return {"$f": "nan"}
        if math.isinf(x):
            return {"$f": "inf" if x > 0 else "-inf"}
        return float(x)
    if isinstance(x, list):
        return [to_wire(v) for v in x]
    if isinstance(x, tuple):
        return {"$tuple": [to_wire(v) for v in x]}
    if isinstance(x, dict):
        return {"$dict": [[to_wire(k), to_wire(v)] for k, v in x.items()]}
    if isinstance(x, NamedFunction):
        return {"$fn": x.name, "args": [to_wire(a) for a in x.args]}
    mod = type(x).__module__.split(".")[0]
    if mod == "numpy":
        import numpy as np
        if isinstance(x, np.ndarray):
            return {"$nd": _array(x)}
        if isinstance(x, np.generic):
            return to_wire(x.item())
    if mod == "torch":
        import torch
        if isinstance(x, torch.Tensor):
            t = x.detach().cpu()
            spec = _array(t.numpy())
            spec["requires_grad"] = bool(x.requires_grad)
            return {"$tensor": spec}
    raise TypeError(f"a {type(x).__name__} cannot travel to or from the function host")


def _from_array(spec: dict) -> Any:
    import numpy as np
    dtype = np.dtype(spec["dtype"])
    if dtype.hasobject:
        raise ProtocolError("an object array arrived; only numbers and strings travel")
    data = b64decode(spec["b64"].encode("ascii"))
    return np.frombuffer(data, dtype=dtype).reshape(spec["shape"]).copy()


def from_wire(x: Any, functions: dict | None = None) -> Any:
    """The inverse of ``to_wire``; ``functions`` maps ``$fn`` names to factories (host side only)."""
    if isinstance(x, list):
        return [from_wire(v, functions) for v in x]
    if not isinstance(x, dict):
        return x
    if "$f" in x:
        return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}[x["$f"]]
    if "$tuple" in x:
        return tuple(from_wire(v, functions) for v in x["$tuple"])
    if "$dict" in x:
        return {_hashable(from_wire(k, functions)): from_wire(v, functions) for k, v in x["$dict"]}
    if "$nd" in x:
        return _from_array(x["$nd"])
    if "$tensor" in x:
        import torch
        t = torch.from_numpy(_from_array(x["$tensor"]))
        return t.requires_grad_(True) if x["$tensor"].get("requires_grad") else t
    if "$fn" in x:
        if functions is None or x["$fn"] not in functions:
            raise ProtocolError(f"unknown input function {x['$fn']!r}")
        return functions[x["$fn"]](*from_wire(x.get("args", []), functions))
    raise ProtocolError(f"an untagged object arrived (keys {sorted(x)[:5]}); every dict travels as $dict")


def _hashable(k: Any) -> Any:
    return tuple(k) if isinstance(k, list) else k


def frame(seq: int, payload: dict) -> bytes:
    """One frame: the header and the JSON of ``{"seq": seq, **payload}`` (no NaN tokens: they are tagged)."""
    body = dumps({"seq": int(seq), **payload}, allow_nan=False, separators=(",", ":")).encode("utf-8")
    return HEADER.pack(len(body)) + body


def parse(body: bytes) -> dict:
    """A frame's JSON object (raises ProtocolError for anything else)."""
    try:
        obj = loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError(f"a frame is not JSON ({exc})") from exc
    if not isinstance(obj, dict) or not isinstance(obj.get("seq"), int):
        raise ProtocolError("a frame without a sequence number")
    return obj
