"""The function host's loop: exec a student's graded cells, then answer calls with fixed adapters.

Started by the driver (``client.FunctionHost``) as ``python -S -m autograder.host.loop IN OUT``
with the two file descriptors of its private pipes; stdout and stderr (the student's
prints) go nowhere.  What runs here sees no reference implementation of a graded skill:
its ``helpers`` is the grading build (``grading_build``), and no autograder code but this
loop, the codec, the adapters and the pristine captures they use.

Requests (one frame each, see ``codec``) and replies:

* ``{"op": "exec", "cell": key, "source": text, "preamble": text}``: a fresh namespace, the
  preamble (fixed imports and course constants), then the cell statement by statement, so a
  statement that fails (e.g. a test line on data the host does not have) is recorded and the
  definitions before and after it stay.  Reply: ``{"errors": [...], "names": [...]}``.
* ``{"op": "call", "cell": key, "name": name, "args": [...], "adapter": name}``: reply
  ``{"result": plain data}`` (the adapter's, see ``adapters``).
* ``{"op": "fence"}``: reply ``{}``.  The loop answers one request at a time, so this reply comes
  after every frame the loop wrote for earlier requests: a second frame for one of them is
  read before it (``client.FunctionHost.fence``).
"""
from __future__ import annotations

import ast
import os
import sys

from autograder.host import adapters  # the pristine captures happen now, before any student cell
from autograder.host.codec import HEADER, ProtocolError, frame, from_wire, parse, to_wire
from autograder.kernel.encoding import describe

_read, _write, _exit = os.read, os.write, os._exit
# A copy taken before any student cell: patching adapters.ADAPTERS later changes nothing here.
_ADAPTERS = dict(adapters.ADAPTERS)
_INPUT_FUNCTIONS = dict(adapters.INPUT_FUNCTIONS)


def _read_exact(fd: int, n: int) -> bytes:
    chunks, left = [], n
    while left:
        b = _read(fd, left)
        if not b:
            return b""
        chunks.append(b)
        left -= len(b)
    return b"".join(chunks)


def _clean(source: str) -> str:
    """The cell without IPython's line magics and shell escapes (they are not Python)."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def exec_cell(source: str, preamble: str) -> tuple[dict, list[str]]:
    """(namespace, errors) of one cell run statement by statement after the preamble."""
    ns: dict = {"__name__": "__graded__", "__builtins__": __builtins__}
    errors: list[str] = []
    exec(compile(preamble, "<preamble>", "exec"), ns)  # noqa: S102 - the course's own fixed imports
    try:
        tree = ast.parse(_clean(source))
    except SyntaxError as exc:
        return ns, [f"the cell does not parse: {describe(exc)}"]
    for stmt in tree.body:
        try:
            code = compile(ast.Module(body=[stmt], type_ignores=[]), "<cell>", "exec")
            exec(code, ns)  # noqa: S102 - student code, in the host's sandbox
        except BaseException as exc:  # noqa: BLE001 - SystemExit too: a statement must not end the host
            errors.append(f"line {stmt.lineno}: {describe(exc)}")
    return ns, errors


def serve(in_fd: int, out_fd: int) -> None:
    """Answer requests until the driver closes the pipe."""
    namespaces: dict[str, dict] = {}
    while True:
        head = _read_exact(in_fd, HEADER.size)
        if not head:
            return
        req = parse(_read_exact(in_fd, HEADER.unpack(head)[0]))
        seq, op = req["seq"], req.get("op")
        try:
            if op == "exec":
                ns, errors = exec_cell(req["source"], req.get("preamble", ""))
                namespaces[req["cell"]] = ns
                reply = {"errors": errors, "names": sorted(k for k in ns if isinstance(k, str))}
            elif op == "call":
                reply = {"result": _call(namespaces.get(req["cell"]), req)}
            elif op == "fence":
                reply = {}
            else:
                raise ProtocolError(f"unknown op {op!r}")
            data = frame(seq, to_wire_reply(reply))
        except BaseException as exc:  # noqa: BLE001 - a broken reply must still be one frame
            data = frame(seq, {"host_error": describe(exc)})
        _write(out_fd, data)


def to_wire_reply(reply: dict) -> dict:
    """Every value of the reply in the codec's tagged form."""
    return {k: to_wire(v) for k, v in reply.items()}


def _call(ns: dict | None, req: dict) -> dict:
    if ns is None:
        return {"ok": False, "error": "the cell that defines it was not run in the host"}
    name = req["name"]
    try:
        fn = dict.__getitem__(ns, name)
    except KeyError:
        return {"ok": False, "error": f"no object named {name!r} was defined in the notebook "
                                      f"(or its cell failed before defining it)"}
    adapter = _ADAPTERS[req["adapter"]]
    args = tuple(from_wire(req["args"], _INPUT_FUNCTIONS))
    result = adapter(fn, args)
    try:
        to_wire(result)
    except TypeError as exc:
        return {"ok": False, "error": f"the result could not be sent back ({exc})"}
    return result


WARM_ENV = "AG_HOST_WARM"  # modules to import before the first request (client.FunctionHost.warm_imports)


def warm_up(names: str) -> None:
    """Import the comma-separated modules now, while the host waits for its first request (a started-ahead
    host imports them while the kernel runs; e.g. torch._dynamo, which a first torch optimizer loads,
    takes seconds).  A module that fails to import is left for the student's code to meet."""
    import importlib
    for name in filter(None, names.split(",")):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001, S112 - only a head start; the real import reports its own error
            continue


def main(argv: list[str] | None = None) -> None:
    """Entry point: ``python -S -m autograder.host.loop IN_FD OUT_FD``."""
    argv = sys.argv[1:] if argv is None else argv
    in_fd, out_fd = int(argv[0]), int(argv[1])
    warm_up(os.environ.pop(WARM_ENV, ""))
    serve(in_fd, out_fd)
    _exit(0)


if __name__ == "__main__":
    main()
