"""The function host's conversions use only the captures of ``autograder.kernel.pristine``; every capture is used.

Student code shares the function host's process and may rebind builtins or patch numpy
and torch before the host converts a result.  Everything that converts (the kernel
package's ``encoding`` and the host's ``adapters``) must therefore read, as globals,
only: the captured namespaces (``PY``, ``NP``, ``TORCH``, ``TB``, ``PD``) with an
attribute they hold, other such functions and classes (checked in turn), and module
constants.  Bytecode is inspected, so a helper added later is covered without being
listed here.  The driver's input builders (``autograder.checks``) use the same captures;
they count as users, but need not be pristine (nothing of the student runs there).
"""
from __future__ import annotations

import builtins
import dis
import functools
import inspect
import types

import numpy as np

from autograder import checks
from autograder.host import adapters
from autograder.kernel import encoding, pristine

KERNEL_PREFIXES = ("autograder.kernel", "autograder.host.adapters")
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
    """Every function of the conversions the function host runs (encoding, adapters)."""
    roots = []
    for mod in (encoding, adapters):
        roots += [obj for obj in vars(mod).values()
                  if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == mod.__name__]
    return roots


def driver_uses() -> set[tuple[str, str]]:
    """(namespace, attribute) pairs the driver's input builders read (autograder.checks' modules)."""
    import sys
    used = set()
    for name, mod in list(sys.modules.items()):
        if not name.startswith("autograder.checks") or mod is None:
            continue
        for obj in vars(mod).values():
            for fn in _functions_of(obj):
                if fn.__module__ != name:
                    continue
                for code in _codes(fn.__code__):
                    ins = list(dis.get_instructions(code))
                    for i, x in enumerate(ins[:-1]):
                        if x.opname == "LOAD_GLOBAL" and x.argval in NAMESPACES and \
                                ins[i + 1].opname in ("LOAD_ATTR", "LOAD_METHOD"):
                            used.add((x.argval, ins[i + 1].argval))
    return used


def test_kernel_functions_use_only_pristine_captures():
    problems, _ = audit(kernel_roots())
    assert not problems, "kernel code must use the captures of autograder.kernel.pristine:\n" + "\n".join(problems)


def test_every_capture_is_used():
    _, used = audit(kernel_roots())
    used |= driver_uses()
    assert checks.REGISTRY  # the check modules are imported
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
