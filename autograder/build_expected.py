"""``python -m autograder build-expected``: the expected values of the DEFAULT seed, from helpers' references.

Each check's expected data is what the probe collects when the student's names
are bound to the course's reference implementations, so the student and the
reference go through the very same inputs and conversions.  At grade time the
judge builds the same entry for the run's drawn seed (``expected_entry``, via
``autograder.seeding``); the stored files hold the DEFAULT seed's entries, which the
tests and ``--check`` use.  Float32 results
differ in their last digits from one CPU to another, so a rebuild is compared
with the stored files number by number (``differences``): each may move by a
tenth of the tolerance its judge grants a student, everything else (structure,
integers, booleans, text, NaN) must match exactly.
"""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from . import checks
from .checks.base import Check
from .checks.runner import DEFAULT_SEED, collect

EXPECTED_DIR = checks.answer_files.EXPECTED_DIR


def expected_entry(check: Check, seed: int, answer_key: dict | None = None) -> dict:
    """One check's expected entry for inputs drawn from ``seed`` (its ``sanity`` is the caller's to run)."""
    key = checks.load_answer_key() if answer_key is None else answer_key
    if check.expected is not None:
        return check.expected(check, key, seed)
    # the probe's data with the student's names bound to the course's references
    return {"reference": collect(check, dict(check.references), seed)[0]}


def build(seed: int = DEFAULT_SEED) -> dict:
    """Return {notebook: expected dict} (plain JSON data), one entry per check of the registry."""
    out = {nb: {} for nb in checks.NOTEBOOKS}
    key = checks.load_answer_key()
    for check in checks.REGISTRY:
        out[check.notebook][check.id] = expected_entry(check, seed, key)
    for check in checks.REGISTRY:  # properties the judges rely on; a failure means the inputs need changing
        if check.sanity is not None:
            check.sanity(out[check.notebook][check.id], seed)
    return out


# The share of a judge's tolerance that the stored reference may drift from a
# rebuild: a correct answer keeps at least 90% of its margin.
DRIFT_SHARE = 0.1


def judge_tolerance(check_id: str, path: str, entry: dict) -> tuple[float, float]:
    """(rtol, atol) that the check's judge applies to the number at ``path`` of its expected entry."""
    return checks.BY_ID[check_id].tolerance(path, entry)


def differences(stored: dict, rebuilt: dict, share: float = DRIFT_SHARE) -> list[str]:
    """What in ``stored`` ({notebook: {check: entry}}) is not current with ``rebuilt``; [] when it is.

    Floats may differ by ``share`` of their judge's tolerance; anything else must be equal.
    """
    out = []

    def walk(a, b, where, check_id, entry):
        if isinstance(a, dict) and isinstance(b, dict):
            if sorted(a) != sorted(b):
                out.append(f"{where}: keys {sorted(a)} stored, {sorted(b)} rebuilt")
                return
            for k in a:
                walk(a[k], b[k], f"{where}/{k}", check_id, entry)
        elif isinstance(a, list) and isinstance(b, list):
            if len(a) != len(b):
                out.append(f"{where}: {len(a)} items stored, {len(b)} rebuilt")
                return
            for i, (x, y) in enumerate(zip(a, b)):
                walk(x, y, f"{where}/{i}", check_id, entry)
        elif isinstance(a, float) and isinstance(b, float) and check_id is not None:
            if math.isnan(a) or math.isnan(b) or math.isinf(a) or math.isinf(b):
                if not (a == b or (math.isnan(a) and math.isnan(b))):
                    out.append(f"{where}: {a!r} stored, {b!r} rebuilt")
                return
            rtol, atol = judge_tolerance(check_id, where, entry)
            allowed = share * (atol + rtol * abs(b))
            if abs(a - b) > allowed:
                out.append(f"{where}: {a!r} stored, {b!r} rebuilt (|diff| {abs(a - b):.3g} > {allowed:.3g}, "
                           f"{share:g} of the judge's tolerance)")
        elif type(a) is not type(b) or a != b:
            out.append(f"{where}: {a!r} stored, {b!r} rebuilt")

    for nb in sorted(set(stored) | set(rebuilt)):
        if nb not in stored or nb not in rebuilt:
            out.append(f"{nb}: only in the {'rebuild' if nb in rebuilt else 'stored files'}")
            continue
        s, r = stored[nb], rebuilt[nb]
        if sorted(s) != sorted(r):
            out.append(f"{nb}: checks {sorted(s)} stored, {sorted(r)} rebuilt")
            continue
        for cid in sorted(s):
            walk(s[cid], r[cid], f"{nb}/{cid}", cid, r[cid])
    return out


def load_stored(folder: Path = EXPECTED_DIR) -> dict:
    """{notebook: expected dict} as stored in ``folder`` (a missing file reads as {})."""
    out = {}
    for nb, name in checks.EXPECTED_FILE.items():
        path = Path(folder) / name
        out[nb] = json.loads(path.read_text()) if path.exists() else {}
    return out


def render(expected_by_nb: dict) -> dict:
    """{notebook: the JSON text written to its expected file}."""
    return {nb: json.dumps(data, indent=1, sort_keys=True, allow_nan=True) + "\n"
            for nb, data in expected_by_nb.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m autograder build-expected", description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=EXPECTED_DIR, help="folder for lab.json and homework.json")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 if the stored files differ from a rebuild by more than float noise "
                         f"({DRIFT_SHARE:g} of each judge's tolerance)")
    args = ap.parse_args(argv)
    rebuilt = build()
    if args.check:
        diffs = differences(load_stored(args.out), rebuilt)
        for d in diffs[:20]:
            print(f"stale: {d}")
        if diffs:
            print(f"{len(diffs)} value(s) in {args.out} are not current; run `python -m autograder build-expected`.")
        return 1 if diffs else 0
    for nb, text in render(rebuilt).items():
        path = args.out / checks.EXPECTED_FILE[nb]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path}")
    return 0
