"""Reveal numbers that TAs regenerate from the artifacts.

Every measured number in the notebooks' markdown sits in a marked span::

    <!-- reveal:teacher_f1_tail -->0.198<!-- /reveal -->
    <!-- reveal:kd_lift:+.3f -->+0.015<!-- /reveal -->     (optional format spec)

and every qualitative sentence carries the claim it depends on::

    <!-- claim:lift_lands_on_head -->

``python -m helpers reveals --source synthetic|hub`` computes the facts
(:func:`compute_facts`, in :mod:`helpers.tools.reveal_facts`), checks every claim
(:data:`CLAIMS`, in :mod:`helpers.tools.reveal_claims`) the notebooks cite against them,
and rewrites only the spans' contents (and ``metadata.course.reveals_source``).
The reveal texts a student sees after a prediction live in ``helpers/reveal_text.b64``
(:data:`REVEAL_FILE`, obfuscated: zlib then base64, see
:mod:`helpers.notebook.reveal_store`; written by ``notebooks/make_notebooks.py``, shown by
``helpers.notebook.predict.reveal``); they are rendered and checked the same way, every
section carries a ``source_note`` span that says SYNTHETIC DATA unless the facts
come from the Hub, and the file records its source in a ``reveals_source`` line.
A contradicted claim stops everything: nothing is written, and the message
names the claim.  ``--check`` writes nothing and exits 1 listing stale spans.
"""
from __future__ import annotations

import argparse
import math
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..notebook.reveal_store import REVEAL_FILE as STORED_REVEALS
from ..notebook.reveal_store import read_reveal_text, write_reveal_text
from .reveal_claims import CLAIMS, Claim, ClaimError, check_claims
from .reveal_facts import Facts, compute_facts

if TYPE_CHECKING:  # nbformat is imported when a notebook is read
    import nbformat

# compute_facts, Facts and the claims are re-exported: TAs and the notebook builder use this one module.
__all__ = ["compute_facts", "render", "render_text_file", "check_claims", "claims_in", "main", "CLAIMS", "Claim",
           "NOTEBOOKS", "REVEAL_FILE", "Facts", "ClaimError", "SPAN", "CLAIM", "format_value"]

ROOT = Path(__file__).resolve().parents[2]
#: Reveal texts (shown by ``helpers.notebook.predict.reveal`` after a prediction); rendered with the notebooks.
REVEAL_FILE = STORED_REVEALS
NOTEBOOKS = (ROOT / "notebooks" / "week6_lab" / "week6_lab.ipynb",
             ROOT / "notebooks" / "week6_homework" / "week6_homework.ipynb")

SPAN = re.compile(r"<!-- reveal:(?P<key>[A-Za-z0-9_]+)(?::(?P<fmt>[^ ]+))? -->(?P<body>.*?)<!-- /reveal -->",
                  re.S)
CLAIM = re.compile(r"<!-- claim:(?P<name>[A-Za-z0-9_]+) -->")


# --------------------------------------------------------------------------- rendering
def format_value(value: object, fmt: str | None = None) -> str:
    """How a fact prints in a span: yes/no, strings as is, ``fmt`` when given, ints with commas, else 3 decimals."""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    if fmt:
        return format(value, fmt)
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return f"{value:.3f}"


def _render_source(text, facts, where, problems):
    def sub(m):
        key = m.group("key")
        if key not in facts:
            problems.append(f"{where}: unknown fact {key!r} in a reveal span")
            return m.group(0)
        new = format_value(facts[key], m.group("fmt"))
        fmt = f":{m.group('fmt')}" if m.group("fmt") else ""
        return f"<!-- reveal:{key}{fmt} -->{new}<!-- /reveal -->"
    return SPAN.sub(sub, text)


def _read(path):
    import nbformat
    return nbformat.read(str(path), as_version=4)


def _write_text(nb):
    import nbformat
    return nbformat.writes(nb) + "\n"


def claims_in(nb: nbformat.NotebookNode | str | Path) -> list[str]:
    """Claims a notebook (its markdown cells) or the reveal file (a path or its text) makes."""
    if isinstance(nb, (str, Path)):
        text = read_reveal_text(nb) if isinstance(nb, Path) else nb
        return sorted({m.group("name") for m in CLAIM.finditer(text)})
    return sorted({m.group("name") for c in nb.cells if c.cell_type == "markdown"
                   for m in CLAIM.finditer(c.source)})


def render_text_file(path: str | Path, facts: Facts, write: bool = True) -> list[tuple]:
    """Re-render the spans of the reveal file (``helpers/reveal_text.b64``, decoded) from ``facts``.

    Same contract as :func:`render`: claims first (nothing written on a contradiction), then
    the spans and the ``reveals_source`` line.  Each section must carry a ``source_note`` span.
    """
    from ..notebook.predict import SECTION, SOURCE_LINE
    path = Path(path)
    text = read_reveal_text(path)
    check_claims(claims_in(text), facts)
    problems = [f"{path.name} reveal {m.group('name')!r}: add a source_note span (synthetic data must say so)"
                for m in SECTION.finditer(text) if "<!-- reveal:source_note -->" not in m.group("body")]
    new = _render_source(text, facts, path.name, problems)
    if problems:
        raise KeyError("; ".join(problems))
    changes = [(path.name, o.group("key"), o.group("body"), n.group("body"))
               for o, n in zip(SPAN.finditer(text), SPAN.finditer(new)) if o.group("body") != n.group("body")]
    m = SOURCE_LINE.search(new)
    old_source = m.group("source") if m else None
    if old_source != facts.source:
        changes.append((None, "reveals_source", old_source, facts.source))
        line = f"<!-- reveals_source: {facts.source} -->"
        new = SOURCE_LINE.sub(line, new, count=1) if m else line + "\n" + new
    if write and changes:
        write_reveal_text(path, new)  # in the format it was read in
    return changes


def render(notebook_path: str | Path, facts: Facts, write: bool = True) -> list[tuple]:
    """Re-render the reveal spans of one notebook from ``facts``.

    Checks the notebook's claims first (raises :class:`ClaimError`, writing
    nothing).  Returns the list of ``(cell index, key, old text, new text)``
    changes (empty when already current).  With ``write=False`` nothing is written.
    """
    path = Path(notebook_path)
    nb = _read(path)
    check_claims(claims_in(nb), facts)
    changes, problems = [], []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown" or "<!-- reveal:" not in cell.source:
            continue
        old_spans = {m.start(): m for m in SPAN.finditer(cell.source)}
        new_source = _render_source(cell.source, facts, f"{path.name} cell {i}", problems)
        if new_source != cell.source:
            for (o, n) in zip(SPAN.finditer(cell.source), SPAN.finditer(new_source)):
                if o.group("body") != n.group("body"):
                    changes.append((i, o.group("key"), o.group("body"), n.group("body")))
            cell.source = new_source
        del old_spans
    if problems:
        raise KeyError("; ".join(problems))
    course = nb.metadata.setdefault("course", {})
    if course.get("reveals_source") != facts.source:
        changes.append((None, "metadata.course.reveals_source", course.get("reveals_source"), facts.source))
        course["reveals_source"] = facts.source
    if write and changes:
        path.write_text(_write_text(nb), encoding="utf-8")
    return changes


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers reveals``; exit status 0 current or rendered, 1 stale (``--check``),
    2 an unknown fact or a missing file, 3 a contradicted claim (nothing written)."""
    parser = argparse.ArgumentParser(
        prog="python -m helpers reveals",
        description="Re-render the reveal numbers in the week's notebooks from the artifacts.")
    parser.add_argument("--source", choices=("auto", "hub", "synthetic"), default="auto",
                        help="artifact source (default auto: the Hub when reachable, else synthetic)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 and list the stale spans if any")
    parser.add_argument("--text-file", type=Path, default=None,
                        help="the reveal texts the notebooks show after a prediction "
                             "(default helpers/reveal_text.b64, obfuscated; a plain markdown copy works too; "
                             "always rendered with the notebooks)")
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks (default: the lab and the homework)")
    args = parser.parse_args(argv)
    paths = args.notebooks or list(NOTEBOOKS)
    text_file = args.text_file or REVEAL_FILE
    try:
        facts = compute_facts(args.source)
        # Check every claim (notebooks and reveal texts) before writing anything.
        for p in paths:
            check_claims(claims_in(_read(p)), facts)
        check_claims(claims_in(Path(text_file)), facts)
        all_changes = {p: render(p, facts, write=not args.check) for p in paths}
        all_changes[Path(text_file)] = render_text_file(text_file, facts, write=not args.check)
    except ClaimError as err:
        print(f"error: {err}", file=sys.stderr)
        return 3
    except (KeyError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    stale = 0
    for p, changes in all_changes.items():
        for cell, key, old, new in changes:
            stale += 1
            where = (f"cell {cell}" if isinstance(cell, int) else
                     "metadata" if cell is None else "section")
            verb = "stale" if args.check else "updated"
            print(f"{verb}: {p.name} {where} {key}: {old!r} -> {new!r}")
    if args.check:
        if stale:
            print(f"{stale} reveal value(s) are stale for source {facts.source!r}; run "
                  f"`python -m helpers reveals --source {facts.source}`.", file=sys.stderr)
            return 1
        print(f"reveals are current for source {facts.source!r} ({len(paths)} notebooks and {Path(text_file).name}).")
        return 0
    print(f"rendered reveals from source {facts.source!r}: {stale} change(s) in {len(paths)} notebooks.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
