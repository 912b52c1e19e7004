"""Calling graded functions from a probe, in the driver: in the function host, or locally for the references.

A probe (``Check.probe(namespace, runner)``) looks names up in a namespace and calls
``Runner.call(fn, args, adapter)``.  For a submission the namespace holds ``Remote``
handles: the call travels to the function host (``autograder.host.client``), which runs
the student's function in its sandbox and replies with the adapter's plain data.  For
the course's references (expected values, built at grade time for the run's seed) the
namespace holds the reference functions and the same adapter runs here, on the same
inputs after the same wire round trip.  ``Runner.call`` never raises.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..host.adapters import ADAPTERS, INPUT_FUNCTIONS
from ..host.codec import from_wire, to_wire
from ..kernel.encoding import describe, plain

DEFAULT_SEED = 0  # the seed of the stored autograder/expected/*.json (and of the tests)


@dataclass
class Remote:
    """A graded function that lives in the function host: its cell, its name and the cell's source."""

    host: Any
    cell: str
    name: str
    cell_source: str = ""


@dataclass
class Runner:
    """Calls graded functions for one check; records interrupts and protocol violations as flags."""

    seed: int = DEFAULT_SEED
    flags: list[str] = field(default_factory=list)
    interrupted: bool = False
    violated: bool = False

    def call(self, fn: Any, args: tuple, adapter: str = "plain") -> dict:
        """The adapter's plain result: {"ok": True, "value": ...} or {"ok": False, "error": ...}."""
        if self.interrupted:
            return {"ok": False, "error": "not run: an earlier call was interrupted (time limit)"}
        if self.violated:  # the check earns nothing anyway: do not restart the host again and again
            return {"ok": False, "error": "not run: an earlier call broke the function host's protocol"}
        if isinstance(fn, Remote):
            res = fn.host.call(fn.cell, fn.name, tuple(args), adapter)
            if res.get("violation"):
                flag = f"protocol_violation: {res.get('error', '')}"
                if flag not in self.flags:
                    self.flags.append(flag)
                self.violated = True
            if res.get("interrupted"):
                self.interrupted = True
            return res
        try:  # the same wire round trip as a host call, so references see exactly the student's inputs
            local_args = from_wire(to_wire(tuple(args)), INPUT_FUNCTIONS)
        except BaseException as exc:  # noqa: BLE001 - a probe bug must not look like the student's
            return {"ok": False, "error": f"could not prepare the inputs: {describe(exc)}"}
        return ADAPTERS[adapter](fn, local_args)


def derive(seed: int, k: int) -> int:
    """The input builder's own seed ``k`` for the run's seed: ``k`` itself for the DEFAULT seed (the stored
    expected values), else a number drawn from both (so every builder gets fresh, independent inputs)."""
    if seed == DEFAULT_SEED:
        return k
    import hashlib
    return int.from_bytes(hashlib.sha256(f"{seed}:{k}".encode()).digest()[:4], "big") % (2 ** 31 - 1)


# --------------------------------------------------------------------------- the namespace
def lookup(ns: Mapping, name: str) -> tuple[bool, Any]:
    """(found, object) for a name of the namespace."""
    try:
        return True, ns[name]
    except (KeyError, TypeError):
        return False, None


def missing(name: str) -> dict:
    """The result for a name the notebook never defined."""
    return {"ok": False, "error": f"no object named {name!r} was defined in the notebook"}


def call_converted(ns: Mapping, run: Runner, name: str, args: tuple, adapter: str = "plain") -> dict:
    """Call ``name`` on ``args`` and return the adapter's plain data (or the error)."""
    found, fn = lookup(ns, name)
    if not found:
        return missing(name)
    return run.call(fn, args, adapter)


def read_value(ns: Mapping, name: str, how: Callable | None = None) -> dict:
    """A value the student reported (plain data already), as plain data or ``how(value)``."""
    found, obj = lookup(ns, name)
    if not found:
        return missing(name)
    try:
        return {"ok": True, "value": how(obj) if how else plain(obj)}
    except BaseException as exc:  # noqa: BLE001
        return {"ok": False, "error": f"{name} could not be read ({describe(exc)})"}


def collect(check: Any, ns: Mapping, seed: int = DEFAULT_SEED) -> tuple[dict, list[str]]:
    """Run one check's probe on ``ns`` with inputs from ``seed``; returns (data, flags), plain data only."""
    run = Runner(seed)
    try:
        data = check.probe(ns, run)
    except BaseException as exc:  # noqa: BLE001 - a bug in the probe must not look like the student's
        data = {"error": f"probe failure: {describe(exc)}"}
    if run.interrupted:
        data["interrupted"] = True
    return data, list(run.flags)
