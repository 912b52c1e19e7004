"""First-cell environment set-up for the week's notebooks: Kaggle, a local checkout, or offline.

The notebook's first cell makes ``helpers`` importable (a checkout on the path,
or, on Kaggle, :func:`install_helpers`: the course wheel attached to the
notebook as a dataset, else ``pip install`` of :data:`INSTALL_SPEC`, with a
message that says what to do when that fails) and then calls :func:`setup`, which

* detects Kaggle and puts the Hugging Face cache under ``/kaggle/working``
  (it persists between sessions there); where ``KAGGLE_KERNEL_RUN_TYPE`` is set
  but ``/kaggle`` cannot be written (not a Kaggle machine), it says so and
  stays local;
* seeds Python, NumPy and torch once;
* picks the artifact source once (``auto``: the Hub when reachable and
  configured, otherwise the embedded synthetic copy) and says which, loudly.

:data:`INSTALL_SPEC` is the one place that names where the course's helpers
are installed from; ``notebooks/make_notebooks.py`` copies it into the notebooks' first
cell (a test keeps the two in step).
"""
from __future__ import annotations

import os
import random
import sys
from dataclasses import dataclass
from pathlib import Path

from helpers.course import CACHE_ENV, SOURCE_RESOLVED_ENV

__all__ = ["INSTALL_SPEC", "PRIVATE_REPOSITORY", "SEED", "Env", "setup", "on_kaggle", "install_helpers",
           "install_spec_problem", "ENV"]

#: Where Kaggle installs the course helpers from (pip requirement spec).  The
#: instructor sets it to the published student wheel (``make student-wheel``) or a
#: helpers-only repository, then rebuilds the notebooks; ``python -m autograder
#: release`` refuses while it is a placeholder or :data:`PRIVATE_REPOSITORY`.
INSTALL_SPEC = "git+https://github.com/earino/applied-deep-learning-week6-suite.git@main"
#: The instructor's repository (solutions, answer key): students cannot install from it.
PRIVATE_REPOSITORY = "github.com/earino/applied-deep-learning-week6-suite"
#: The one seed the notebooks set (numpy, random, torch).
SEED = 42
KAGGLE_WORKING = Path("/kaggle/working")


@dataclass
class Env:
    """What :func:`setup` found: where the notebook runs, the data source, the seed, the Hugging Face cache."""

    where: str          # "kaggle" | "local"
    source: str         # "hub" | "synthetic"
    seed: int
    hf_cache: str | None

    @property
    def synthetic(self) -> bool:
        return self.source == "synthetic"


ENV: Env | None = None


def on_kaggle() -> bool:
    """True on a Kaggle machine (its kernel variable is set, or /kaggle/working exists)."""
    return bool(os.environ.get("KAGGLE_KERNEL_RUN_TYPE")) or KAGGLE_WORKING.is_dir()


def install_spec_problem(spec: str | None, private: str | None = PRIVATE_REPOSITORY) -> str | None:
    """Why students cannot install from ``spec`` (a sentence), or None when nothing is known against it."""
    text = (spec or "").strip()
    if not text or "<" in text or "REPLACE" in text.upper() or ".invalid" in text or "example.com" in text:
        return f"INSTALL_SPEC is a placeholder ({spec!r}), not a place the helpers can be installed from"
    if private and private.lower() in text.lower():
        return (f"INSTALL_SPEC ({spec}) points at the instructor's private repository ({private}), "
                "which students cannot read")
    return None


# install_helpers is copied verbatim into the notebooks' first cell (notebooks/make_notebooks.py),
# where helpers is not importable yet: standard library only, no module globals, and no annotation
# that names a type the cell does not have (the cell evaluates them: run and online stay unannotated).
def install_helpers(spec: str, problem: str | None = None, inputs: str = "/kaggle/input", run=None,
                    online=None) -> str:
    """Install the course helpers: a course wheel attached under ``inputs``, else ``spec``.

    ``problem`` is what is known against ``spec`` (:func:`install_spec_problem`).
    On failure, raises RuntimeError saying what went wrong and what to do, in the
    student's terms: no internet (Kaggle's switch, or the offline wheel), an
    unreachable, placeholder or private install source, a wheel that would not install.
    ``run`` (pip runner) and ``online`` (is the package index reachable?) are injectable.
    Returns what was installed (the wheel's path or ``spec``).
    """
    import glob
    import os
    import socket
    import subprocess
    import sys
    kaggle = bool(os.environ.get("KAGGLE_KERNEL_RUN_TYPE")) or os.path.isdir("/kaggle/working")
    wheels = sorted(glob.glob(os.path.join(inputs, "**", "ecbs_week6_helpers-*.whl"), recursive=True))
    offline_route = (
        "Offline route (internet can stay off): ask your instructor for the course wheel "
        "ecbs_week6_helpers-<version>-py3-none-any.whl, " + (
            "add it to this notebook as a dataset (right-hand panel: Add Input > Datasets, or Upload), "
            f"and run this cell again: it finds {inputs}/**/ecbs_week6_helpers-*.whl by itself."
            if kaggle else "and run `pip install <path to the wheel>` in this environment."))
    if not wheels and problem and "placeholder" in problem:
        raise RuntimeError(f"The course helpers cannot be installed: {problem}. Tell your instructor or TA "
                           f"(the notebook needs INSTALL_SPEC set in helpers/notebook/setup_env.py).\n{offline_route}")
    target = wheels[-1] if wheels else spec
    print(f"Installing the course helpers from {target} ...")
    run = run or subprocess.run
    proc = run([sys.executable, "-m", "pip", "install", "--quiet", target], capture_output=True, text=True)
    if proc.returncode == 0:
        import importlib
        importlib.invalidate_caches()  # the kernel is running: let it see the new package
        return target
    said = "\n".join(((proc.stdout or "") + "\n" + (proc.stderr or "")).strip().splitlines()[-8:])
    if online is None:
        def online():
            try:
                socket.create_connection(("pypi.org", 443), timeout=5).close()
                return True
            except OSError:
                return False
    net_words = ("Temporary failure in name resolution", "Name or service not known", "Could not resolve host",
                 "Failed to establish a new connection", "Network is unreachable", "No route to host")
    if not online() or any(w in said for w in net_words):
        why = "this notebook has no internet connection" + (
            " (the wheel needs packages this machine lacks)" if wheels else "")
        fix = ("Turn the notebook's internet on: right-hand panel > Settings > Internet: On (Kaggle asks for a "
               "phone-verified account), then run this cell again." if kaggle else
               "Connect this machine to the internet (or set HTTPS_PROXY), then run this cell again.")
        if not wheels:
            fix += "\n" + offline_route
    elif wheels:
        why = f"pip could not install the attached wheel {target}"
        fix = "Check that the dataset holds the course's wheel for this week (ask your TA for the current one)."
    elif problem:
        why = f"{problem}, so pip could not install it"
        fix = "Tell your instructor or TA: the released notebook must name the published student wheel.\n" \
              + offline_route
    else:
        why = f"the install source {spec} could not be reached or installed"
        fix = "Tell your instructor or TA (the source may have moved or be private).\n" + offline_route
    raise RuntimeError(f"The course helpers could not be installed: {why}.\n{fix}\npip said:\n{said}")


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    import numpy as np
    np.random.seed(seed)
    try:
        import torch
        torch.manual_seed(seed)
    except ImportError:  # analysis without torch still works
        pass


def _writable(folder: str | Path) -> bool:
    """Create ``folder``; False, with a message, where that is impossible (e.g. /kaggle off Kaggle)."""
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        probe = Path(folder) / ".write_test"
        probe.write_text("")
        probe.unlink()
        return True
    except OSError as exc:
        print(f"Note: this looks like Kaggle (KAGGLE_KERNEL_RUN_TYPE is set) but {folder} cannot be written "
              f"({type(exc).__name__}: {exc.strerror or exc}), so this is not a Kaggle machine. Continuing as "
              "a local run with the default caches; unset KAGGLE_KERNEL_RUN_TYPE to silence this note.")
        return False


def _resolve_source(requested: str) -> str:
    """'hub' or 'synthetic', decided once by helpers.artifacts (which announces it)."""
    from .. import artifacts
    return artifacts.load("teacher_val", source=requested).source


def setup(source: str = "auto", seed: int = SEED, quiet: bool = False) -> Env:
    """Detect the environment, seed once, and choose the data source, saying which.

    The notebook's first cell calls it once. On Kaggle the Hugging Face cache and
    the course cache go under ``/kaggle/working`` (they persist between sessions
    there). Python, NumPy and torch are seeded with ``seed``. The data source is
    decided here, once, and printed; when it is the embedded synthetic copy, a
    banner says so and every table and figure says SYNTHETIC in its title.

    Parameters
    ----------
    source : {"auto", "hub", "synthetic"}, default "auto"
        ``"auto"``: the Hugging Face Hub when reachable and configured, else the
        synthetic copy; ``$COURSE_DATA_SOURCE`` (hub|synthetic) forces the choice,
        as everywhere in helpers.artifacts.
    seed : int, default 42
        The one seed for ``random``, NumPy and torch.
    quiet : bool, default False
        Print nothing (the source is still decided and recorded).

    Returns
    -------
    Env
        ``where`` ("kaggle" or "local"), ``source`` ("hub" or "synthetic"),
        ``seed`` and ``hf_cache``; also kept as :data:`ENV`.

    Raises
    ------
    ValueError
        When ``source`` is not one of the three choices.

    Examples
    --------
    >>> ENV = setup(source="auto")  # doctest: +SKIP
    >>> ENV.source  # doctest: +SKIP
    'synthetic'
    """
    global ENV
    if source not in ("auto", "hub", "synthetic"):
        raise ValueError(f"source must be 'auto', 'hub' or 'synthetic', got {source!r}.")
    where = "kaggle" if on_kaggle() else "local"
    hf_cache = None
    if where == "kaggle" and not _writable(KAGGLE_WORKING):
        where = "local"
    if where == "kaggle":
        hf_cache = str(KAGGLE_WORKING / "hf_cache")
        os.environ.setdefault("HF_HOME", hf_cache)
        Path(os.environ["HF_HOME"]).mkdir(parents=True, exist_ok=True)
        hf_cache = os.environ["HF_HOME"]
        # The course cache (synthetic copies) persists in /kaggle/working too.
        os.environ.setdefault(CACHE_ENV, str(KAGGLE_WORKING / "course_cache"))
    _seed_everything(seed)
    resolved = _resolve_source(source)
    os.environ[SOURCE_RESOLVED_ENV] = resolved
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
