"""House rules a reviewer would otherwise check by hand: public functions carry type hints, and
no module of the library or the autograder grows past what one reader holds in mind."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = [ROOT / "helpers", ROOT / "autograder"]
MAX_LINES = 430  # "about 400": the longest module today is training/trainer.py, one class

# Left unannotated on purpose: the bug hunt prints colleague_kd_loss's source as the colleague wrote it,
# and install_helpers's source is the notebook's first cell, which runs before helpers can be imported.
UNANNOTATED = {"colleague_kd_loss", "install_helpers"}


def _modules():
    return [f for p in PACKAGES for f in sorted(p.rglob("*.py"))]


def _public_functions(tree: ast.Module):
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            yield from (n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))


def test_public_functions_have_type_hints():
    missing = []
    for path in _modules():
        for fn in _public_functions(ast.parse(path.read_text(encoding="utf-8"))):
            if fn.name.startswith("_") or fn.name in UNANNOTATED:
                continue
            params = (*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs)
            args = [a for a in params if a.arg not in ("self", "cls")]
            if fn.returns is None or any(a.annotation is None for a in args):
                missing.append(f"{path.relative_to(ROOT)}:{fn.lineno} {fn.name}")
    assert missing == [], "public functions without type hints:\n" + "\n".join(missing)


def test_no_module_is_too_long_to_read():
    long = [f"{p.relative_to(ROOT)}: {n} lines" for p in _modules()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES]
    assert long == [], f"modules over {MAX_LINES} lines (split them by job):\n" + "\n".join(long)
