"""Execute the course notebooks top to bottom and write them as HTML.

One place for what the demo, the notebook benchmark and the tests all do:
run a source notebook (solutions in place) in a fresh python3 kernel with
nbclient, in the notebook's own folder, and time it.
"""
from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # nbformat is imported when a notebook runs
    from nbformat import NotebookNode

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = {
    "week6_lab": ROOT / "notebooks" / "week6_lab" / "week6_lab.ipynb",
    "week6_homework": ROOT / "notebooks" / "week6_homework" / "week6_homework.ipynb",
}


def execute(path: str | Path, timeout: int = 300, append: Iterable[str] = ()) -> tuple[NotebookNode, float]:
    """Run the notebook at ``path``; return (executed notebook, seconds).

    ``append``: code sources run as extra cells after the notebook's own (tests use one to
    read the kernel's final variables); they are part of the returned notebook.

    The kernel inherits this process's environment, so set HF_HUB_OFFLINE,
    COURSE_CACHE and friends before calling.  The solution notebooks' hidden
    test cells of value checks import ``autograder.kernel.reporter``, which lives in this checkout (it is
    not installed with helpers), so the checkout goes on the kernel's path.
    """
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path must be a notebook file; {path} does not exist.")
    nb = nbformat.read(str(path), as_version=4)
    for src in append:
        nb.cells.append(nbformat.v4.new_code_cell(src))
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), before) if p)
    try:
        start = time.perf_counter()
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        return nb, time.perf_counter() - start
    finally:
        if before is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = before


def write_html(nb: NotebookNode, out_path: str | Path) -> Path:
    """Write an executed notebook as a standalone HTML page."""
    from nbconvert import HTMLExporter

    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    body, _ = HTMLExporter().from_notebook_node(nb)
    out_path.write_text(body, encoding="utf-8")
    return out_path
