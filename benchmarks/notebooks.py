"""Execution time of each solution notebook on the embedded data (prints; never asserts).

    HF_HUB_OFFLINE=1 python benchmarks/notebooks.py

Targets (issue 3): under 60 s for the lab and 90 s for the homework on 2 CPU cores.
"""
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from helpers.tools.notebook_run import NOTEBOOKS, execute  # noqa: E402

TARGETS = {"week6_lab": 60, "week6_homework": 90}


def main():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory() as cache:
        os.environ.setdefault("COURSE_CACHE", cache)
        for name, target in TARGETS.items():
            nb, seconds = execute(NOTEBOOKS[name], timeout=600)
            slowest = max(((c.metadata.get("execution", {}), c.metadata["nbgrader"]["grade_id"])
                           for c in nb.cells if c.cell_type == "code"), key=lambda x: _dur(x[0]))
            print(f"{name}: {seconds:6.1f} s (target {target} s, {os.cpu_count()} CPUs visible); "
                  f"slowest cell {slowest[1]} {_dur(slowest[0]):.1f} s")
    return 0


def _dur(meta):
    from datetime import datetime
    try:
        a = datetime.fromisoformat(meta["iopub.execute_input"].replace("Z", "+00:00"))
        b = datetime.fromisoformat(meta["shell.execute_reply"].replace("Z", "+00:00"))
        return (b - a).total_seconds()
    except (KeyError, ValueError):
        return 0.0


if __name__ == "__main__":
    sys.exit(main())
