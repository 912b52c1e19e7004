"""Tables and figures in a notebook, labelled with the data they were computed from.

Every table a notebook shows goes through :func:`show` and every figure through
:func:`showfig`, so a table computed from the embedded synthetic copy always says
SYNTHETIC in its caption (the source :func:`helpers.notebook.setup_env.setup`
resolved, unless a caller names one), and a figure is displayed once and closed.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

from helpers.course import SOURCE_RESOLVED_ENV

from . import setup_env

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["SYNTHETIC_LABEL", "current_source", "label", "show", "showfig"]

SYNTHETIC_LABEL = "SYNTHETIC DATA (embedded stand-in, not the course's real results)"


def showfig(fig: Figure) -> None:
    """Display a figure once and release it.

    A figure left open is displayed again at the end of the cell and piles up in
    memory across a notebook; this shows it now and closes it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to display, e.g. one of the ``helpers.plots`` figures.

    Returns
    -------
    None

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([0, 1], [0, 1])
    >>> showfig(fig)  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt
    try:
        from IPython.display import display
        display(fig)
    except ImportError:
        pass
    plt.close(fig)


def current_source() -> str:
    """The data source ``setup`` resolved (``"hub"`` or ``"synthetic"``); synthetic when unknown."""
    env = setup_env.ENV
    return env.source if env is not None else os.environ.get(SOURCE_RESOLVED_ENV, "synthetic")


def label(title: str, source: str | None = None) -> str:
    """A title that says so when it describes synthetic data.

    Parameters
    ----------
    title : str
        The table's or figure's title.
    source : {"hub", "synthetic"}, optional
        The data it was computed from; by default the source ``setup`` chose.

    Returns
    -------
    str
        ``title``, with the synthetic-data banner appended when the source is synthetic.

    Examples
    --------
    >>> label("Macro F1 per tier", source="hub")
    'Macro F1 per tier'
    """
    source = source or current_source()
    return f"{title} [{SYNTHETIC_LABEL}]" if source == "synthetic" else title


def show(df: pd.DataFrame | dict, title: str, source: str | None = None, precision: int = 4) -> None:
    """Display a table with a caption that names the data source.

    Returns None, so a trailing ``show(...)`` in a cell does not print the table twice.
    Outside Jupyter (no IPython) it prints the caption and the table.

    Parameters
    ----------
    df : pandas.DataFrame or dict
        The table (a dict is turned into a DataFrame). Its ``attrs`` record the
        source and the caption.
    title : str
        The caption; :func:`label` adds the synthetic-data banner where it applies.
    source : {"hub", "synthetic"}, optional
        The data the table was computed from; by default the source ``setup`` chose.
    precision : int, default 4
        Decimal places shown for floats (NaN is shown as ``NaN``).

    Returns
    -------
    None

    Examples
    --------
    >>> import pandas as pd
    >>> show(pd.DataFrame({"macro_f1": [0.61]}, index=["toy"]), "A toy table", source="hub")  # doctest: +SKIP
    """
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
