"""Calling student code from a probe: errors, interrupts and calls into the course's references recorded.

``Runner.call`` never raises: a student's exception (even ``SystemExit``) becomes
``{"ok": False, "error": ...}``; a ``KeyboardInterrupt`` (the cell's time limit) stops
every later call.  While a student function runs, a profiler hook watches for calls
into the reference implementations of the check's own skill (code objects captured
at kernel start, so aliases, wrappers and re-bindings are all seen).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .encoding import convert, describe, plain
from .pristine import PY


def reference_codes(functions: tuple[Callable, ...]) -> dict:
    """{code object: "module.name"} of reference functions, taken now (at kernel start)."""
    return {f.__code__: f"{f.__module__}.{f.__name__}" for f in functions}


class Runner:
    """Calls student functions; records errors, interrupts and calls into forbidden references."""

    def __init__(self, forbidden: Mapping | None = None, skill: str = "") -> None:
        self.codes = forbidden or {}
        self.skill = skill
        self.flags: list[str] = []
        self.interrupted = False

    def call(self, fn: Any, args: tuple) -> dict:
        """Return {"ok": True, "value": raw} or {"ok": False, "error": "..."}; never raises."""
        if self.interrupted:
            return {"ok": False, "error": "not run: an earlier call was interrupted (time limit)"}
        if not PY.callable(fn):
            return {"ok": False, "error": f"expected a function, found {PY.type(fn).__name__}"}
        codes = self.codes
        hits = []

        def hook(frame, event, arg):
            if event == "call":
                name = codes.get(frame.f_code)
                if name is not None and name not in hits:
                    hits.append(name)

        prev = PY.getprofile()
        if codes:
            PY.setprofile(hook)
        try:
            value = fn(*args)
            result = {"ok": True, "value": value}
        except PY.KeyboardInterrupt:
            self.interrupted = True
            result = {"ok": False, "error": "interrupted: the call ran past the cell's time limit"}
        except PY.BaseException as exc:  # SystemExit included: a student's exit() must not end the probe
            result = {"ok": False, "error": "raised " + describe(exc)}
        finally:
            if codes:
                still_ours = PY.getprofile() is hook
                PY.setprofile(prev)
                if not still_ours:
                    hits.append("<the profiler hook was removed during the call>")
        for h in hits:
            flag = f"reference_call:{self.skill}:{h}"
            if flag not in self.flags:
                self.flags.append(flag)
        return result


# --------------------------------------------------------------------------- the student's namespace
def lookup(ns: Mapping, name: str) -> tuple[bool, Any]:
    """(found, object) for a name of the notebook's globals, without calling anything the student defined."""
    try:
        return True, PY.dict_getitem(ns, name)
    except PY.KeyError:
        return False, None
    except PY.BaseException:
        return False, None


def missing(name: str) -> dict:
    """The result for a name the notebook never defined."""
    return {"ok": False, "error": f"no object named {name!r} was defined in the notebook"}


def call_converted(ns: Mapping, run: Runner, name: str, args: tuple) -> dict:
    """Call the student's ``name`` on ``args`` and return its value as plain data (or the error)."""
    found, fn = lookup(ns, name)
    if not found:
        return missing(name)
    return convert(run.call(fn, args))


def read_value(ns: Mapping, name: str, how: Callable | None = None) -> dict:
    """A value the student assigned (not a function), as plain data or ``how(value)``."""
    found, obj = lookup(ns, name)
    if not found:
        return missing(name)
    try:
        return {"ok": True, "value": how(obj) if how else plain(obj)}
    except PY.BaseException as exc:
        return {"ok": False, "error": f"{name} could not be read ({describe(exc)})"}
