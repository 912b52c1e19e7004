"""The two per-tier figures of :mod:`helpers.plots` (which re-exports them; import them from there).

* ``tier_delta_bars``: a paired-bootstrap delta per tier with its 95% CI.
* ``per_class_f1_plot``: F1 of every class, sorted by training frequency, tiers shaded.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from .course import TIER_CLASS_COUNTS, TIERS
from .plot_parts import TIER_SHADES, ci_frame, finish, model_color, new_figure, title

__all__ = ["tier_delta_bars", "per_class_f1_plot"]


# --------------------------------------------------------------------------- CI bars
def tier_delta_bars(ci_table: pd.DataFrame | Mapping, metric_name: str = "macro F1", source: object = None,
                    comparison: str | None = None) -> Figure:
    """Per-tier bootstrap delta: a bar at the median, whiskers at the 95% CI.

    Bars whose CI excludes zero are solid; the others are pale and hatched,
    with "CI includes 0" written on them.  The whiskers are one
    ``ax.errorbar`` (gid ``"ci"``), one whisker per tier.

    Parameters
    ----------
    ci_table : pandas.DataFrame or mapping
        ``helpers.bootstrap.paired_bootstrap`` output (indexed by tier; columns
        median, ci_low, ci_high, excludes_zero), or a mapping tier -> dict
        with the same keys.
    metric_name : str, default "macro F1"
        The metric, for the axis label.
    source : str or PredictionSet, optional
        ``"synthetic"`` labels the title as such.
    comparison : str, optional
        What the delta compares, e.g. ``"distilled - vanilla"``.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.

    Examples
    --------
    >>> table = {"head": {"median": 0.02, "ci_low": 0.01, "ci_high": 0.03},
    ...          "tail": {"median": 0.01, "ci_low": -0.02, "ci_high": 0.04}}
    >>> fig = tier_delta_bars(table, comparison="distilled - vanilla")
    >>> [bar.get_gid() for bar in fig.axes[0].patches]
    ['excludes-zero', 'includes-zero']
    """
    df = ci_frame(ci_table)
    x = np.arange(len(df))
    med = df["median"].to_numpy(np.float64)
    lo, hi = df["ci_low"].to_numpy(np.float64), df["ci_high"].to_numpy(np.float64)
    real = df["excludes_zero"].to_numpy(bool)

    fig = new_figure((1.6 * len(df) + 3.2, 4.4))
    ax = fig.add_subplot()
    ax.axhline(0.0, color="black", linewidth=1, zorder=1)
    bars = ax.bar(x, med, width=0.6, zorder=2,
                  color=["#1f77b4" if r else "#d9d9d9" for r in real],
                  edgecolor=["#1f77b4" if r else "0.45" for r in real])
    for bar, r in zip(bars, real):
        bar.set_hatch("" if r else "//")
        bar.set_gid("excludes-zero" if r else "includes-zero")
    ax.errorbar(x, med, yerr=np.vstack([med - lo, hi - med]), fmt="none", ecolor="black",
                elinewidth=1.4, capsize=6, zorder=3, gid="ci")
    span = max(np.max(np.abs(np.concatenate([lo, hi]))), 1e-9)
    for xi, m, h, r in zip(x, med, hi, real):
        ax.annotate(f"{m:+.3f}" + ("" if r else "\nCI includes 0"), (xi, h), xytext=(0, 4),
                    textcoords="offset points", ha="center", va="bottom", fontsize="small")
    ax.set_ylim(min(lo.min(), 0) - 0.15 * span, max(hi.max(), 0) + 0.35 * span)
    labels = [f"{t}\n(n = {int(n):,})" if "n" in df.columns and pd.notna(n) else str(t)
              for t, n in zip(df.index, df["n"] if "n" in df.columns else [None] * len(df))]
    ax.set_xticks(x, labels)
    delta = f"delta {metric_name}" + (f" ({comparison})" if comparison else "")
    ax.set_ylabel(delta)
    ax.legend(handles=[Patch(facecolor="#1f77b4", label="95% CI excludes 0"),
                       Patch(facecolor="#d9d9d9", edgecolor="0.45", hatch="//", label="95% CI includes 0")],
              loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize="small", frameon=False)
    ax.grid(True, axis="y", alpha=0.25)
    ax.set_title(title(f"{delta} by tier\n(paired bootstrap: median, 95% CI)", source))
    finish(fig, None, source)
    return fig


# --------------------------------------------------------------------------- per-class F1
def per_class_f1_plot(f1: Mapping[str, Iterable] | Iterable, train_counts: Iterable,
                      class_tiers: Iterable | None = None, source: object = None) -> Figure:
    """F1 of every class, classes sorted by training frequency (most frequent left).

    The background is shaded per tier.  Each model is one Line2D.

    Parameters
    ----------
    f1 : mapping of str to array-like, or array-like
        Model name -> per-class F1, shape (n_classes,); a single array is drawn as "model".
    train_counts : array-like, shape (n_classes,)
        Training rows per class (sets the order).
    class_tiers : array-like of str, shape (n_classes,), optional
        Each class's tier; default: the course's ranks (the 20 most frequent
        classes head, the next 40 mid, the rest tail).
    source : str or PredictionSet, optional
        ``"synthetic"`` labels the title as such.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.

    Examples
    --------
    >>> fig = per_class_f1_plot({"vanilla": [0.9, 0.5, 0.1]}, train_counts=[300, 40, 5],
    ...                         class_tiers=["head", "mid", "tail"])
    >>> fig.axes[0].get_lines()[0].get_label()
    'vanilla (macro 0.500)'
    """
    if not isinstance(f1, Mapping):
        f1 = {"model": f1}
    counts = np.asarray(train_counts, dtype=np.float64)
    if counts.ndim != 1:
        raise ValueError(f"train_counts must be 1-D (one count per class), got shape {counts.shape}.")
    series = {}
    for name, v in f1.items():
        a = np.asarray(v, dtype=np.float64)
        if a.shape != counts.shape:
            raise ValueError(f"f1[{name!r}] must have one value per class ({counts.size}), got shape {a.shape}.")
        series[str(name)] = a
    order = np.argsort(-counts, kind="stable")
    if class_tiers is None:
        ranks = np.empty(counts.size, dtype=np.int64)
        ranks[order] = np.arange(counts.size)
        n_head, n_mid = TIER_CLASS_COUNTS["head"], TIER_CLASS_COUNTS["mid"]
        class_tiers = np.where(ranks < n_head, "head", np.where(ranks < n_head + n_mid, "mid", "tail"))
    ct = np.asarray(class_tiers).astype(str)
    if ct.shape != counts.shape:
        raise ValueError(f"class_tiers must give one tier per class ({counts.size}), got shape {ct.shape}.")

    fig = new_figure((11, 4.4))
    ax = fig.add_subplot()
    x = np.arange(counts.size)
    sorted_tiers = ct[order]
    for tier in TIERS:
        where = np.flatnonzero(sorted_tiers == tier)
        if where.size:
            ax.axvspan(where.min() - 0.5, where.max() + 0.5, color=TIER_SHADES[tier], zorder=0, gid=f"tier:{tier}")
            ax.text((where.min() + where.max()) / 2, 1.02, f"{tier} ({where.size})", ha="center", va="bottom",
                    fontsize="small", transform=ax.get_xaxis_transform())
    for name, a in series.items():
        ax.plot(x, a[order], marker="o", markersize=2.5, linewidth=0.9, color=model_color(name),
                label=f"{name} (macro {a.mean():.3f})")
    ax.set_xlim(-0.5, counts.size - 0.5)
    ax.set_ylim(0, 1.0)
    ax.set_xlabel("class, by training frequency rank (most frequent left)")
    ax.set_ylabel("F1")
    ax.legend(loc="upper right", fontsize="small", frameon=False)
    ax.set_title(title("Per-class F1 along the long tail", source), pad=18)
    finish(fig, None, source)
    return fig
