"""Kernel entry of the autograder: run a student's function on fixed inputs and emit the outputs.

A hidden test cell calls ``probe("<check id>", globals())``.  The probe looks up
the student's objects, runs them on inputs regenerated from fixed seeds (the
check's module in ``autograder.checks``), converts whatever comes back into plain
JSON data and writes it as one marked line on the cell's stdout.  It never judges:
the grading driver compares that data with ``autograder/expected/*.json`` outside
the kernel (``autograder.checks``' judges).

Why the care.  Student code runs in this same process and may have replaced
numpy, torch, ``json``, ``print`` or builtins.  The driver imports this module at
kernel start (an IPython startup line), before any student cell, so
``autograder.kernel.pristine`` captures the pristine objects and every conversion,
probe and the output path use only those.  A student's patches can at most change
what their own function appears to return, which is no more than returning a
different value, and the judgment never runs in the kernel at all.

Forged lines: the driver writes a one-time nonce into a file named by
``AUTOGRADER_NONCE_FILE``; it is read and the file deleted at import, before
student code runs.  Lines without the nonce are ignored by the driver, and two
valid lines for one check count as tampering.
"""
from __future__ import annotations

from collections.abc import Mapping

from autograder.checks import REGISTRY  # imports every check module: all captures happen now
from autograder.kernel.encoding import describe, encode
from autograder.kernel.nonce import read_nonce
from autograder.kernel.pristine import OS, OUT, PY
from autograder.kernel.runner import Runner, reference_codes
from autograder.kernel.wire import MARKER, NONCE_ENV

__all__ = ["FORBIDDEN", "MARKER", "NONCE_ENV", "PROBES", "collect", "encode", "probe"]

_NONCE = read_nonce()

PROBES = {c.id: c.probe for c in REGISTRY}
# Reference implementations a student's function must not call for its own skill (code
# objects taken now, at kernel start, so aliases, wrappers and re-bindings are all seen).
FORBIDDEN = {c.id: reference_codes(c.forbidden) for c in REGISTRY}
_SKILL = {c.id: c.skill for c in REGISTRY}


def collect(check_id: str, namespace: Mapping, detect: bool = True) -> tuple[dict, list[str]]:
    """Run one check's probe and return (data, flags) as plain data (no judgment)."""
    fn = PROBES.get(check_id)
    if fn is None:
        return {"error": f"unknown check id {check_id!r}"}, []
    run = Runner(FORBIDDEN[check_id] if detect else None, _SKILL[check_id])
    try:
        data = fn(namespace, run)
    except PY.KeyboardInterrupt:
        data = {"error": "interrupted: the check ran past the cell's time limit"}
    except PY.BaseException as exc:  # a bug in the probe must not look like the student's
        data = {"error": f"probe failure: {describe(exc)}"}
    if run.interrupted:
        data["interrupted"] = True
    return data, PY.list(run.flags)


def probe(check_id: str, namespace: Mapping) -> None:
    """Entry point of every hidden test cell: emit one marked line and return None."""
    data, flags = collect(check_id, namespace)
    payload = {"check": PY.str(check_id), "nonce": _NONCE, "flags": flags, "data": data}
    try:
        line = MARKER + " " + encode(payload) + "\n"
    except PY.BaseException as exc:
        line = MARKER + " " + encode({"check": PY.str(check_id), "nonce": _NONCE, "flags": [],
                                       "data": {"error": f"could not encode outputs: {describe(exc)}"}}) + "\n"
    if OUT.write is not None:
        OUT.write(line)
        OUT.flush()
    else:  # pragma: no cover
        OS.write(1, line.encode("ascii"))
    return None
