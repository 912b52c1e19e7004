"""First-cell environment set-up for the week's notebooks: Kaggle, a local checkout, or offline.

The notebook's first cell makes ``helpers`` importable (a checkout on the path,
or ``pip install`` of :data:`INSTALL_SPEC` on Kaggle) and then calls
:func:`setup`, which

* detects Kaggle and puts the Hugging Face cache under ``/kaggle/working``
  (it persists between sessions there);
* seeds Python, NumPy and torch once;
* picks the artifact source once (``auto``: the Hub when reachable and
  configured, otherwise the embedded synthetic copy) and says which, loudly.

:data:`INSTALL_SPEC` is the one place that names where the course's helpers
are installed from; ``notebooks/build.py`` copies it into the notebooks' first
cell (a test keeps the two in step).
"""
from __future__ import annotations

import os
import random
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["INSTALL_SPEC", "SEED", "Env", "setup", "on_kaggle", "show", "showfig", "label", "ENV"]

#: Where Kaggle installs the course helpers from (pip requirement spec).
INSTALL_SPEC = "git+https://github.com/earino/applied-deep-learning-week6-suite.git@main"
#: The one seed the notebooks set (numpy, random, torch).
SEED = 42
KAGGLE_WORKING = Path("/kaggle/working")

SYNTHETIC_LABEL = "SYNTHETIC DATA (embedded stand-in, not the course's real results)"


@dataclass
class Env:
    where: str          # "kaggle" | "local"
    source: str         # "hub" | "synthetic"
    seed: int
    hf_cache: str | None

    @property
    def synthetic(self):
        return self.source == "synthetic"


ENV: Env | None = None


def on_kaggle():
    return bool(os.environ.get("KAGGLE_KERNEL_RUN_TYPE")) or KAGGLE_WORKING.is_dir()


def _seed_everything(seed):
    random.seed(seed)
    import numpy as np
    np.random.seed(seed)
    try:
        import torch
        torch.manual_seed(seed)
    except ImportError:  # analysis without torch still works
        pass


def _resolve_source(requested):
    """'hub' or 'synthetic', decided once by helpers.artifacts (which announces it)."""
    from . import artifacts
    return artifacts.load("teacher_val", source=requested).source


def setup(source="auto", seed=SEED, quiet=False):
    """Detect the environment, seed once, choose the data source; returns :class:`Env`.

    With ``source="auto"``, ``$COURSE_DATA_SOURCE`` (hub|synthetic) forces the
    choice, as everywhere in helpers.artifacts.
    """
    global ENV
    if source not in ("auto", "hub", "synthetic"):
        raise ValueError(f"source must be 'auto', 'hub' or 'synthetic', got {source!r}.")
    where = "kaggle" if on_kaggle() else "local"
    hf_cache = None
    if where == "kaggle":
        hf_cache = str(KAGGLE_WORKING / "hf_cache")
        os.environ.setdefault("HF_HOME", hf_cache)
        Path(os.environ["HF_HOME"]).mkdir(parents=True, exist_ok=True)
        hf_cache = os.environ["HF_HOME"]
        # The course cache (synthetic copies) persists in /kaggle/working too.
        os.environ.setdefault("COURSE_CACHE", str(KAGGLE_WORKING / "course_cache"))
    _seed_everything(seed)
    resolved = _resolve_source(source)
    os.environ["COURSE_SOURCE_RESOLVED"] = resolved
    ENV = Env(where=where, source=resolved, seed=seed, hf_cache=hf_cache)
    if not quiet:
        print(f"Environment: {where} (Python {sys.version.split()[0]}); seed {seed}"
              + (f"; Hugging Face cache in {hf_cache}" if hf_cache else ""))
        if resolved == "synthetic":
            bar = "!" * 78
            print(f"{bar}\n  DATA SOURCE: SYNTHETIC. The Hub is not reachable (or not configured), so every\n"
                  f"  table and figure below uses the embedded stand-in data. Its numbers are close to,\n"
                  f"  but NOT, the course's results. Tables and figures say SYNTHETIC in their titles.\n{bar}")
        else:
            print("Data source: the course artifacts on the Hugging Face Hub (pinned revisions).")
    return ENV


def showfig(fig):
    """Display a figure once and release it (no double display, no pile-up of open figures)."""
    import matplotlib.pyplot as plt
    try:
        from IPython.display import display
        display(fig)
    except ImportError:
        pass
    plt.close(fig)


def current_source():
    return ENV.source if ENV is not None else os.environ.get("COURSE_SOURCE_RESOLVED", "synthetic")


def label(title, source=None):
    """``title`` with the synthetic-data banner appended when the data is synthetic."""
    source = source or current_source()
    return f"{title} [{SYNTHETIC_LABEL}]" if source == "synthetic" else title


def show(df, title, source=None, precision=4):
    """Display a DataFrame with a caption that names the data source (returns None, so a
    trailing ``show(...)`` in a cell does not print the table twice)."""
    import pandas as pd
    source = source or current_source()
    df = df if isinstance(df, pd.DataFrame) else pd.DataFrame(df)
    df.attrs["source"] = source
    df.attrs["title"] = label(title, source)
    try:
        from IPython.display import display
        display(df.style.set_caption(df.attrs["title"]).format(precision=precision, na_rep="NaN"))
    except ImportError:
        print(df.attrs["title"])
        print(df.to_string())
