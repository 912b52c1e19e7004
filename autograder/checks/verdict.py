"""The judgment's result types and the comparisons every judge shares (driver side).

A check's result is a ``Verdict``: its points out of the check's points, one
``Part`` per separable skill (each with its own points and a message for the
student), flags for the instructor, a status and a note.  Messages are for
students: what was expected (the rule, the tolerance), what came back, and a hint;
they never quote an expected number (the instructor's ``detail`` does).
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import Any

METRIC_ATOL = 1e-6


@dataclass(frozen=True)
class Part:
    """One separable skill of a check: points earned out of ``max``, and why."""

    name: str
    points: float
    max: float
    passed: bool
    message: str = ""
    detail: str = ""

    def to_dict(self) -> dict:
        """Plain JSON data (what notebooks' metadata and grades.json hold)."""
        return asdict(self)


@dataclass(frozen=True)
class Verdict:
    """The judgment of one check (what notebooks' metadata, grades.json and reports hold, as ``to_dict()``)."""

    check: str
    points: float
    max: float
    parts: tuple[Part, ...]
    flags: tuple[str, ...] = ()
    status: str = "graded"
    note: str = ""

    @classmethod
    def from_dict(cls, data: dict) -> Verdict:
        """A verdict read back from grades.json or a notebook's metadata (the inverse of ``to_dict``)."""
        parts = tuple(Part(**p) for p in data.get("parts", []))
        return cls(data["check"], data["points"], data["max"], parts, tuple(data.get("flags", [])),
                   data.get("status", "graded"), data.get("note", ""))

    def to_dict(self) -> dict:
        """Plain JSON data: check, points, max, parts, flags, status, note (the keys report.py reads)."""
        return {"check": self.check, "points": self.points, "max": self.max,
                "parts": [p.to_dict() for p in self.parts], "flags": list(self.flags),
                "status": self.status, "note": self.note}


def part(name: str, ok: Any, max_points: float, message: str = "", detail: str = "") -> Part:
    """A part worth ``max_points`` when ``ok``, else 0 with the student's message and the instructor's detail."""
    return Part(name, max_points if ok else 0, max_points, bool(ok), "" if ok else message, "" if ok else detail)


def verdict(check_id: str, max_points: float, parts: list[Part], status: str = "graded", note: str = "") -> Verdict:
    """The check's points: the sum of its parts (penalty parts included), never below zero."""
    points = max(0, sum(p.points for p in parts))
    return Verdict(check_id, points, max_points, tuple(parts), (), status, note)


def zero(check_id: str, max_points: float, reason: str, status: str = "not run") -> Verdict:
    """Zero points for a check whose probe produced no usable data."""
    return verdict(check_id, max_points, [part("ran", False, max_points, reason, reason)], status=status, note=reason)


def num(x: Any) -> bool:
    """A JSON number (not a bool)."""
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def close(got: Any, exp: Any, rtol: float = 0.0, atol: float = METRIC_ATOL) -> bool:
    """|got - exp| <= atol + rtol * |exp|, NaN equal to NaN only, anything not a number never close."""
    if not (num(got) and num(exp)):
        return False
    if math.isnan(exp):
        return math.isnan(got)
    if not math.isfinite(got):
        return False
    return abs(got - exp) <= atol + rtol * abs(exp)


def fmt(x: Any) -> str:
    """A value as a student reads it in a message (6 significant digits; long data cut)."""
    if num(x):
        return f"{x:.6g}"
    text = json.dumps(x, allow_nan=True)
    return text if len(text) <= 120 else text[:117] + "..."


def error_of(res: Any) -> str:
    """The error of a probe result, or a generic reason."""
    return res.get("error", "no value came back") if isinstance(res, dict) else "no value came back"


