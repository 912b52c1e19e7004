"""The bug hunt's static rules: is ``fixed_kd_loss`` the colleague's statements, edited in place? (driver side)

A fix may change the colleague's lines; it may not bring its result from elsewhere.
So, read from the cell's syntax tree (never run): the name is bound last by a ``def``;
the cell defines no other function, lambda or class; the function has one ``return``,
its last statement (no dead code after it); inside it nothing is imported, and nothing
is called but attributes of ``torch``/``F``/``math``/``np``, methods of its own values
and a few builtins; the returned value is computed from the function's own arguments
and statements.  A "fix" that keeps every colleague token but returns ``kd_loss_fn(...)``
or a helper's result breaks one of these, and the message says which.
"""
from __future__ import annotations

import ast

MODULE_ROOTS = frozenset({"torch", "F", "math", "np"})
SAFE_BUILTINS = frozenset({"float", "int", "len", "abs", "min", "max", "sum", "range", "isinstance", "tuple"})


def clean(source: str) -> str:
    """The cell without IPython line magics and shell escapes."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _binds(stmt: ast.stmt, name: str) -> bool:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return stmt.name == name
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return any((a.asname or a.name.split(".")[0]) == name for a in stmt.names)
    return any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store) for n in ast.walk(stmt))


def last_binding(tree: ast.Module, name: str) -> ast.stmt | None:
    """The last top-level statement of the cell that binds ``name``."""
    hits = [s for s in tree.body if _binds(s, name)]
    return hits[-1] if hits else None


def def_source(cell_source: str, name: str) -> str | None:
    """The source of the def that last binds ``name`` in the cell (None when it is not a def)."""
    text = clean(cell_source)
    try:
        node = last_binding(ast.parse(text), name)
    except SyntaxError:
        return None
    if not isinstance(node, ast.FunctionDef):
        return None
    return ast.get_source_segment(text, node)


def _root(node: ast.expr) -> ast.expr:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node


def fix_problem(cell_source: str, name: str = "fixed_kd_loss") -> str:
    """'' when the cell's ``name`` passes the rules of the module docstring, else what breaks them."""
    try:
        tree = ast.parse(clean(cell_source))
    except SyntaxError as exc:
        return f"the cell does not parse ({exc.msg}, line {exc.lineno})"
    fn = last_binding(tree, name)
    if fn is None:
        return f"the cell does not define {name}"
    if not isinstance(fn, ast.FunctionDef):
        return f"{name} is last bound by `{ast.unparse(fn)[:60]}`, not by the colleague's def"
    for node in ast.walk(tree):
        is_fix = isinstance(node, ast.FunctionDef) and node.name == name and node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not is_fix:
            return f"the cell defines other code ({node.name}); the fix may only edit the colleague's statements"
        if isinstance(node, ast.Lambda):
            return "the cell defines a lambda; the fix may only edit the colleague's statements"
    returns = [n for n in ast.walk(fn) if isinstance(n, ast.Return)]
    if len(returns) != 1 or fn.body[-1] is not returns[0]:
        return f"{name} must end with its one return statement (found {len(returns)}; code after a return never runs)"
    local = {a.arg for a in fn.args.args + fn.args.kwonlyargs}
    for node in ast.walk(fn):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            return f"{name} imports inside the function ({ast.unparse(node)})"
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            local.add(node.id)
    for node in ast.walk(fn):
        if not isinstance(node, ast.Call):
            continue
        root = _root(node.func)
        if isinstance(node.func, ast.Name):
            if node.func.id not in SAFE_BUILTINS:
                return f"{name} calls {node.func.id}(...); the fix may only call torch, F and methods of its own values"
        elif isinstance(root, ast.Name) and root.id not in MODULE_ROOTS and root.id not in local:
            return (f"{name} calls {ast.unparse(node.func)}(...), which is not torch, F or a method of its own "
                    "values")
    value = returns[0].value
    outside = sorted({n.id for n in ast.walk(value) if isinstance(n, ast.Name) and n.id not in local}) if value else []
    if value is None or outside:
        return (f"{name} returns a value not computed from its own statements"
                + (f" (it reads {', '.join(outside)})" if outside else ""))
    return ""
