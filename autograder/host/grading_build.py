"""The GRADING BUILD of ``helpers``: what the function host imports instead of the real package (driver side).

A copy of the few helpers modules a graded function might import, in which every
reference implementation of a graded skill (every check's ``forbidden``) and the
functions that implement those skills' internals have their bodies replaced by a stub
that raises ``ReferenceUnavailable`` ("helpers.metrics.per_tier_f1 is not available to
graded code; compute it yourself").  Everything else (the colleague's buggy loss the lab
shows, the course constants, input checks) stays as written.  The real helpers folder
is not visible in the host's sandbox, so no reference can be found by path either.
"""
from __future__ import annotations

import ast
from pathlib import Path

HELPERS_DIR = Path(__file__).resolve().parent.parent.parent / "helpers"

# The modules copied (with their stubs); anything else of helpers does not exist in the host.
MODULES = ("__init__", "course", "inputs", "kd", "metrics", "metrics_f1", "metrics_calibration", "bootstrap",
           "calibration")

# The internals of the graded skills, stubbed next to every check's ``forbidden``.
INTERNALS = frozenset({
    "kd_loss_terms", "_f1_from_counts", "macro_f1", "tier_labels", "ece_bin_index",
    "adaptive_ece", "_per_tier", "resample_indices", "_draw_chunks", "_f1_from_sums", "_code_scorer",
    "_ece_scorer", "_nll_scorer", "_scorer", "_summarise", "temperature_nll", "evaluate",
})

STUB_ERROR = "ReferenceUnavailable"
STUB_TEMPLATE = ("raise ReferenceUnavailable('helpers.{module}.{name} is not available to graded code; "
                 "compute it yourself')")
STUB_CLASS = (f"class {STUB_ERROR}(RuntimeError):\n"
              "    \"\"\"A course reference called from graded code (the grading build has no references).\"\"\"\n")


def stubbed_names() -> frozenset[str]:
    """Every function name the grading build replaces by a stub."""
    from autograder import checks
    return frozenset(f.__name__ for c in checks.REGISTRY for f in c.forbidden) | INTERNALS


def stub_module(source: str, module: str, names: frozenset[str]) -> str:
    """``source`` with the bodies of the top-level functions in ``names`` replaced by the stub."""
    tree = ast.parse(source)
    changed = False
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in names:
            stub = ast.parse(STUB_TEMPLATE.format(module=module, name=node.name)).body
            node.body = stub
            changed = True
    text = ast.unparse(tree)
    if changed:  # the exception class goes after the __future__ import, before anything else
        lines = text.splitlines()
        at = next((i + 1 for i, line in enumerate(lines) if line.startswith("from __future__")), 0)
        text = "\n".join([*lines[:at], STUB_CLASS, *lines[at:]])
    return text + "\n"


def build(dest: Path) -> Path:
    """Write the grading build into ``dest/helpers`` and return that folder."""
    names = stubbed_names()
    out = Path(dest) / "helpers"
    out.mkdir(parents=True, exist_ok=True)
    for module in MODULES:
        src = (HELPERS_DIR / f"{module}.py").read_text()
        (out / f"{module}.py").write_text(stub_module(src, module, names))
    return out
