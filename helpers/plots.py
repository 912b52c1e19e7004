"""The week's pictures, each returned as a matplotlib Figure.

* ``reliability_diagram``: accuracy against claimed confidence, overall and per
  tier, several models overlaid, with a strip of rows per bin under each panel
  (a tail bin holding three rows is noise, not evidence).
* ``ece_nll_scatter``: one point per model or recipe on the (NLL, ECE) plane.
* ``tier_delta_bars``: a paired-bootstrap delta per tier with its 95% CI.
* ``coverage_curves``: the accuracy you keep as a confidence threshold trades
  away coverage.
* ``per_class_f1_plot``: F1 of every class, sorted by training frequency.
* ``save``: write a figure as PNG.

Nothing here calls ``plt.show``; pyplot is used only to create the figure, so
the functions behave the same in a notebook, a script or a test on Agg.  A
model keeps one color in every figure (``model_color``), so the reader can
follow "vanilla" from the reliability diagram to the scatter without a legend.
Figures made from the embedded synthetic data say so in every title.  What the
figures share (colors, those labels, input checks) is in :mod:`helpers.plot_parts`; the two
per-tier figures are defined in :mod:`helpers.plots_tiers` and re-exported here.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from . import metrics
from .course import TIERS
from .inputs import check_labels, check_tiers
from .plot_parts import COLORS, SYNTHETIC_BANNER, finish, model_color, model_probs, new_figure, scatter_points, title
from .plots_tiers import per_class_f1_plot, tier_delta_bars

__all__ = ["reliability_diagram", "ece_nll_scatter", "tier_delta_bars", "coverage_curves",
           "per_class_f1_plot", "save", "model_color", "COLORS", "SYNTHETIC_BANNER"]

DEFAULT_COVERAGE_THRESHOLDS = np.linspace(0.3, 0.95, 14)
DIAGONAL_LABEL = "perfect calibration"


# --------------------------------------------------------------------------- reliability
def reliability_diagram(models: Mapping[str, Iterable], labels: Iterable, tiers: Iterable | None = None,
                        n_bins: int = 15, source: object = None) -> Figure:
    """Reliability diagram: per-bin accuracy against per-bin mean confidence.

    With ``tiers`` there is one panel for all rows plus one per tier present
    (head, mid, tail), side by side.  Each panel overlays every model (legend:
    ``"name (ECE 0.131)"``, ECE from ``helpers.metrics.ece`` on that panel's
    rows) and the diagonal; under it a strip shows how many rows each model
    put in each bin.  Empty bins are left out of the curve.  The panel axes
    carry the label ``"reliability:<panel>"`` and the strips ``"counts:<panel>"``
    (``ax.get_label()``), panel in overall/head/mid/tail.

    Parameters
    ----------
    models : mapping of str to array-like
        Model name -> probabilities (n_rows, n_classes), all on the same rows.
    labels : array-like of int, shape (n_rows,)
        True class ids.
    tiers : array-like of str, shape (n_rows,), optional
        Each row's tier; adds one panel per tier.
    n_bins : int, default 15
        Equal-width confidence bins.
    source : str or PredictionSet, optional
        Where the data came from; ``"synthetic"`` labels every title as such.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (not shown; display it in a notebook or :func:`save` it).

    Examples
    --------
    >>> import numpy as np
    >>> probs = {"vanilla": np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]])}
    >>> fig = reliability_diagram(probs, [0, 1, 1], tiers=["head", "tail", "tail"], n_bins=5)
    >>> [ax.get_label() for ax in fig.axes if ax.get_label().startswith("reliability")]
    ['reliability:overall', 'reliability:head', 'reliability:tail']
    """
    probs = model_probs(models)
    n_rows = next(iter(probs.values())).shape[0]
    n_classes = next(iter(probs.values())).shape[1]
    y = check_labels(labels, n_rows, n_classes)
    panels = [("overall", np.ones(n_rows, dtype=bool))]
    if tiers is not None:
        t = check_tiers(tiers, n_rows)
        panels += [(tier, t == tier) for tier in TIERS if (t == tier).any()]

    edges = np.linspace(0.0, 1.0, n_bins + 1)
    fig = new_figure((4.2 * len(panels), 5.4))
    grid = fig.add_gridspec(2, len(panels), height_ratios=[4, 1])
    first = None
    for col, (panel, rows) in enumerate(panels):
        ax = fig.add_subplot(grid[0, col], sharey=first)
        strip = fig.add_subplot(grid[1, col], sharex=ax)
        first = first or ax
        ax.set_label(f"reliability:{panel}")
        strip.set_label(f"counts:{panel}")
        ax.plot([0, 1], [0, 1], linestyle="--", color="0.55", linewidth=1, label=DIAGONAL_LABEL)
        for name, p in probs.items():
            bins = metrics.reliability_bins(p[rows], y[rows], n_bins=n_bins)
            filled = bins["count"].to_numpy() > 0
            score = metrics.ece(p[rows], y[rows], n_bins=n_bins)
            color = model_color(name)
            ax.plot(bins["confidence"].to_numpy()[filled], bins["accuracy"].to_numpy()[filled],
                    marker="o", markersize=4, linewidth=1.6, color=color, label=f"{name} (ECE {score:.3f})")
            strip.stairs(bins["count"].to_numpy(), edges, color=color, linewidth=1.2,
                         label=name)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal", adjustable="box")
        ax.set_xlabel("confidence (top-1)")
        if col == 0:
            ax.set_ylabel("accuracy")
            strip.set_ylabel("rows per bin\n(log scale)", fontsize="small")
        ax.set_title(title(f"{panel} (n = {int(rows.sum()):,})", source))
        ax.legend(loc="upper left", fontsize="small", frameon=False)
        ax.grid(True, alpha=0.25)
        # Log-like scale: the head piles thousands of rows into the top bin,
        # and the sparse bins are the ones a reader must not over-read.
        strip.set_yscale("symlog", linthresh=1)
        strip.set_ylim(bottom=0)
        strip.grid(True, axis="y", alpha=0.25)
        strip.tick_params(labelsize="small")
    finish(fig, f"Reliability diagram ({n_bins} equal-width bins)", source)
    return fig


# --------------------------------------------------------------------------- ECE vs NLL
def ece_nll_scatter(points: pd.DataFrame | Mapping, source: object = None,
                    arrows_from: str | None = None) -> Figure:
    """ECE (y) against NLL (x), one labelled point per model or recipe.

    Lower is better on both axes, so the best recipes sit lower-left.  Each
    point is its own scatter collection, labelled with the name.

    Parameters
    ----------
    points : pandas.DataFrame or mapping
        A DataFrame indexed by name with columns ``nll`` and ``ece``
        (``helpers.metrics.as_frame`` output works), or a mapping name -> (nll, ece).
    source : str or PredictionSet, optional
        ``"synthetic"`` labels the title as such.
    arrows_from : str, optional
        A point's name: an arrow runs from it to every other point (the
        direction each fix moves you).

    Returns
    -------
    matplotlib.figure.Figure
        The figure.

    Examples
    --------
    >>> fig = ece_nll_scatter({"vanilla": (1.9, 0.12), "vanilla + T": (1.7, 0.03)}, arrows_from="vanilla")
    >>> [c.get_label() for c in fig.axes[0].collections]
    ['vanilla', 'vanilla + T']
    """
    df = scatter_points(points)
    fig = new_figure((6.4, 4.8))
    ax = fig.add_subplot()
    for name, row in df.iterrows():
        ax.scatter([row["nll"]], [row["ece"]], s=60, color=model_color(name), zorder=3,
                   edgecolor="white", linewidth=0.8, label=str(name))
        ax.annotate(str(name), (row["nll"], row["ece"]), xytext=(6, 5), textcoords="offset points",
                    fontsize="small", color=model_color(name))
    if arrows_from is not None:
        if arrows_from not in df.index:
            raise KeyError(f"arrows_from={arrows_from!r} is not one of the points {list(df.index)}.")
        x0, y0 = df.loc[arrows_from, ["nll", "ece"]]
        for name, row in df.drop(index=arrows_from).iterrows():
            ax.annotate("", xy=(row["nll"], row["ece"]), xytext=(x0, y0),
                        arrowprops=dict(arrowstyle="->", color=model_color(name), alpha=0.6, shrinkA=4, shrinkB=6))
    # Pad the view so the labels and the corner note fit.
    xs, ys = df["nll"].to_numpy(), df["ece"].to_numpy()
    xpad = max(np.ptp(xs) * 0.15, 0.02 * max(abs(xs).max(), 1e-3))
    ypad = max(np.ptp(ys) * 0.15, 0.02 * max(abs(ys).max(), 1e-3))
    ax.set_xlim(xs.min() - xpad, xs.max() + 2 * xpad)
    ax.set_ylim(min(0.0, ys.min() - ypad), ys.max() + 2 * ypad)
    # The note sits top-left: high ECE with low NLL is the corner no real recipe lands in.
    ax.annotate("better: lower-left\n(lower NLL, lower ECE)", xy=(0.02, 0.03), xycoords="axes fraction",
                xytext=(0.03, 0.95), textcoords="axes fraction", ha="left", va="top", fontsize="small",
                arrowprops=dict(arrowstyle="->", color="0.3"), color="0.3", gid="better-corner")
    ax.set_xlabel("NLL (lower is better)")
    ax.set_ylabel("ECE (lower is better)")
    ax.grid(True, alpha=0.25)
    ax.set_title(title("ECE vs NLL: one point per recipe", source))
    finish(fig, None, source)
    return fig


# --------------------------------------------------------------------------- coverage
def coverage_curves(models: Mapping[str, Iterable], labels: Iterable,
                    thresholds: Iterable[float] = DEFAULT_COVERAGE_THRESHOLDS, source: object = None,
                    target_accuracy: float | None = None, annotate_every: int = 3) -> Figure:
    """Accuracy on the covered rows (y) against coverage (x) as the threshold rises.

    One curve per model from ``helpers.metrics.coverage_table``; thresholds
    that cover nothing (accuracy NaN) are left out.  Each model's curve is
    one Line2D labelled with the model's name.

    Parameters
    ----------
    models : mapping of str to array-like
        Model name -> probabilities (n_rows, n_classes), all on the same rows.
    labels : array-like of int, shape (n_rows,)
        True class ids.
    thresholds : sequence of float, default 14 steps from 0.3 to 0.95
        Confidence thresholds, one point each.
    source : str or PredictionSet, optional
        ``"synthetic"`` labels the title as such.
    target_accuracy : float, optional
        Draws a horizontal line, e.g. 0.95 for "the lowest threshold reaching 95%".
    annotate_every : int, default 3
        Every n-th point (and the last) is labelled with its threshold.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.

    Examples
    --------
    >>> import numpy as np
    >>> probs = {"vanilla": np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]])}
    >>> fig = coverage_curves(probs, [0, 1, 1], thresholds=[0.5, 0.7, 0.9], target_accuracy=0.95)
    >>> fig.axes[0].get_lines()[0].get_label()
    'vanilla'
    """
    probs = model_probs(models)
    n_rows = next(iter(probs.values())).shape[0]
    y = check_labels(labels, n_rows, next(iter(probs.values())).shape[1])
    fig = new_figure((6.8, 4.8))
    ax = fig.add_subplot()
    for name, p in probs.items():
        table = metrics.coverage_table(p, y, thresholds)
        table = table[table["accuracy"].notna()]
        color = model_color(name)
        ax.plot(table["coverage"].to_numpy(), table["accuracy"].to_numpy(), marker="o", markersize=3.5,
                linewidth=1.6, color=color, label=str(name))
        step = max(int(annotate_every), 1)
        for i, (_, row) in enumerate(table.iterrows()):
            if i % step == 0 or i == len(table) - 1:
                ax.annotate(f"{row['threshold']:.2f}", (row["coverage"], row["accuracy"]), xytext=(3, 3),
                            textcoords="offset points", fontsize="x-small", color=color)
    if target_accuracy is not None:
        ax.axhline(target_accuracy, color="0.4", linestyle=":", linewidth=1,
                   label=f"target accuracy {target_accuracy:.2f}")
    ax.set_xlim(0, 1.02)
    ax.set_xlabel("coverage (share of rows with confidence >= threshold)")
    ax.set_ylabel("accuracy on covered rows")
    ax.legend(loc="lower left", fontsize="small", frameon=False, title="numbers on points: threshold",
              title_fontsize="x-small")
    ax.grid(True, alpha=0.25)
    ax.set_title(title("Coverage vs accuracy as the confidence threshold rises", source))
    finish(fig, None, source)
    return fig


# --------------------------------------------------------------------------- output
def save(fig: Figure, path: str | Path, dpi: int = 110) -> Path:
    """Write ``fig`` as PNG at ``path``, creating parent folders.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A figure from this module (or any other).
    path : str or pathlib.Path
        Where to write the PNG.
    dpi : int, default 110
        Resolution.

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import tempfile
    >>> fig = ece_nll_scatter({"vanilla": (1.9, 0.12)})
    >>> save(fig, Path(tempfile.mkdtemp()) / "figs" / "scatter.png").name
    'scatter.png'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, format="png")
    return path
