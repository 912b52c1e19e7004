"""``python -m helpers <command> ...``: one entry point, one module per command.

Each command lives in its own module with a ``main(argv) -> int``; importing
is deferred so that ``python -m helpers data`` never pays for transformers.
"""
from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "data": ("helpers.data.cli", "pin, verify and fetch the course artifacts (data lock / fetch / verify)"),
    "synthetic": ("helpers.data.synthetic", "write the embedded synthetic course data"),
    "reveals": ("helpers.tools.reveals", "re-render the notebooks' reveal numbers from the artifacts"),
    "train": ("helpers.training.cli", "train a vanilla or distilled student (and the T_d x alpha grid)"),
    "demo": ("helpers.tools.demo", "the main job: headline table and plots from the course data"),
}


def usage() -> str:
    lines = ["usage: python -m helpers <command> [options]", "", "commands:"]
    lines += [f"  {name:<10} {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "Run `python -m helpers <command> --help` for a command's options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"error: unknown command {name!r}; expected one of {', '.join(COMMANDS)}.\n", file=sys.stderr)
        print(usage(), file=sys.stderr)
        return 2
    source_hub = "--source=hub" in rest or any(a == "--source" and b == "hub" for a, b in zip(rest, rest[1:]))
    needs_hub = (name == "reveals" and source_hub) or (name == "data" and rest[:1] == ["fetch"])
    if needs_hub:
        from helpers.reachability import hub_unreachable, offline_requested
        why = None if offline_requested() else hub_unreachable()
        if why:
            print(f"error: `python -m helpers {' '.join(argv)}` needs the Hugging Face Hub, and {why}. "
                  "Connect this machine (or set HTTPS_PROXY / HF_ENDPOINT) and run it again; offline, "
                  "`python -m helpers reveals --source synthetic` works for development only.", file=sys.stderr)
            return 2
    module = importlib.import_module(COMMANDS[name][0])
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
