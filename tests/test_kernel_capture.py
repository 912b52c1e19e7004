"""Kernel functions use only the captures of ``autograder.kernel.pristine``, and every capture is used.

Student code shares the kernel's process and may rebind builtins or patch numpy and
torch before a hidden test runs.  Everything the probe runs (the kernel package, the
probe entry, every check's probe and the fixed-input builders they call) must
therefore read, as globals, only: the captured namespaces (``PY``, ``NP``, ``TORCH``,
``TB``, ``PD``, ``OS``, ``OUT``) with an attribute they hold, other kernel functions
and classes (checked in turn), and module constants.  Bytecode is inspected, so a
helper added later is covered without being listed here.
"""
from __future__ import annotations

import builtins
import dis
import functools
import inspect
import types

import numpy as np

import autograder.probe as probe_entry
from autograder import checks
from autograder.kernel import encoding, nonce, pristine, runner

KERNEL_PREFIXES = ("autograder.kernel", "autograder.checks", "autograder.probe")
CONSTANT_TYPES = (int, float, str, bytes, bool, type(None), tuple, list, dict, frozenset)
NAMESPACES = {name: ns for name, ns in vars(pristine).items() if isinstance(ns, pristine.Captured)}


def _is_kernel_object(obj) -> bool:
    return getattr(obj, "__module__", "") and obj.__module__.startswith(KERNEL_PREFIXES)


def _codes(code: types.CodeType):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _codes(const)


def _functions_of(obj):
    """The Python functions behind a kernel object (unwrapping partials and class bodies)."""
    if isinstance(obj, functools.partial):
        yield from _functions_of(obj.func)
    elif inspect.isclass(obj):
        for member in vars(obj).values():
            if inspect.isfunction(member):
                yield member
    elif inspect.isfunction(obj):
        yield obj


def audit(roots) -> tuple[list[str], set[tuple[str, str]]]:
    """(violations, (namespace, attribute) pairs used) over ``roots`` and every kernel function they reach."""
    todo = [f for r in roots for f in _functions_of(r)]
    seen, problems, used = set(), [], set()
    while todo:
        fn = todo.pop()
        if fn in seen:
            continue
        seen.add(fn)
        where = f"{fn.__module__}.{fn.__qualname__}"
        for code in _codes(fn.__code__):
            instructions = list(dis.get_instructions(code))
            for i, ins in enumerate(instructions):
                if ins.opname != "LOAD_GLOBAL":
                    continue
                name = ins.argval
                if name not in fn.__globals__:
                    kind = "bare builtin" if hasattr(builtins, name) else "undefined global"
                    problems.append(f"{where}: {kind} {name!r}")
                    continue
                value = fn.__globals__[name]
                if isinstance(value, pristine.Captured):
                    nxt = instructions[i + 1] if i + 1 < len(instructions) else None
                    if nxt is None or nxt.opname not in ("LOAD_ATTR", "LOAD_METHOD"):
                        problems.append(f"{where}: the captured namespace {name} used whole")
                    elif nxt.argval not in pristine.captured_names(value):
                        problems.append(f"{where}: {name}.{nxt.argval} is not captured")
                    else:
                        used.add((name, nxt.argval))
                elif isinstance(value, types.ModuleType):
                    problems.append(f"{where}: un-captured module global {name!r} ({value.__name__})")
                elif inspect.isfunction(value) or inspect.isclass(value) or isinstance(value, functools.partial):
                    if _is_kernel_object(getattr(value, "func", value)):
                        todo.extend(_functions_of(value))
                    else:
                        problems.append(f"{where}: un-captured global {name!r} from {value.__module__}")
                elif not isinstance(value, CONSTANT_TYPES):
                    problems.append(f"{where}: un-captured global {name!r} ({type(value).__name__})")
    return problems, used


def kernel_roots() -> list:
    """Every function of the kernel package and the probe entry, and every check's probe."""
    roots = []
    for mod in (encoding, runner, nonce, probe_entry):
        roots += [obj for obj in vars(mod).values()
                  if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == mod.__name__]
    roots += [c.probe for c in checks.REGISTRY]
    return roots


def test_kernel_functions_use_only_pristine_captures():
    problems, _ = audit(kernel_roots())
    assert not problems, "kernel code must use the captures of autograder.kernel.pristine:\n" + "\n".join(problems)


def test_every_capture_is_used():
    _, used = audit(kernel_roots())
    captured = {(name, attr) for name, ns in NAMESPACES.items() for attr in pristine.captured_names(ns)}
    assert not captured - used, f"captured but never used by kernel code: {sorted(captured - used)}"


def test_the_audit_catches_bare_builtins_and_uncaptured_numpy():
    def sloppy(x):
        return len(x) + np.where(x > 0, 1, 0).sum()

    ns = {"__name__": "autograder.kernel.example", "PY": pristine.PY}
    exec("def careful(x):\n    return PY.len(x)\n\ndef invented(x):\n    return PY.hash(x)\n", ns)
    sloppy.__module__ = "autograder.kernel.example"
    problems, _ = audit([sloppy])
    assert any("bare builtin 'len'" in p for p in problems), problems
    assert any("module global 'np'" in p for p in problems), problems
    assert audit([ns["careful"]]) == ([], {("PY", "len")})
    assert any("PY.hash is not captured" in p for p in audit([ns["invented"]])[0])
