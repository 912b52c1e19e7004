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
figures share (colors, those labels, input checks) is in :mod:`helpers.plot_parts`.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from . import metrics
from .course import TIER_CLASS_COUNTS, TIERS
from .inputs import check_labels, check_tiers
from .plot_parts import (
    COLORS,
    SYNTHETIC_BANNER,
    TIER_SHADES,
    ci_frame,
    finish,
    model_color,
    model_probs,
    new_figure,
    scatter_points,
    title,
)

__all__ = ["reliability_diagram", "ece_nll_scatter", "tier_delta_bars", "coverage_curves",
           "per_class_f1_plot", "save", "model_color", "COLORS", "SYNTHETIC_BANNER"]

DEFAULT_COVERAGE_THRESHOLDS = np.linspace(0.3, 0.95, 14)
DIAGONAL_LABEL = "perfect calibration"


# --------------------------------------------------------------------------- reliability
def reliability_diagram(models, labels, tiers=None, n_bins=15, source=None):
    """Reliability diagram: per-bin accuracy against per-bin mean confidence.

    ``models`` maps a name to probabilities (n_rows, n_classes), all on the
    same rows.  With ``tiers`` there is one panel for all rows plus one per
    tier present (head, mid, tail), side by side.  Each panel overlays every
    model (legend: ``"name (ECE 0.131)"``, ECE from ``helpers.metrics.ece``
    on that panel's rows) and the diagonal; under it a strip shows how many
    rows each model put in each bin.  Empty bins are left out of the curve.

    The panel axes carry the label ``"reliability:<panel>"`` and the strips
    ``"counts:<panel>"`` (``ax.get_label()``), panel in overall/head/mid/tail.
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
def ece_nll_scatter(points, source=None, arrows_from=None):
    """ECE (y) against NLL (x), one labelled point per model or recipe.

    ``points`` is a DataFrame indexed by name with columns ``nll`` and ``ece``
    (``helpers.metrics.as_frame`` output works), or a mapping name -> (nll, ece).
    Lower is better on both axes, so the best recipes sit lower-left.  With
    ``arrows_from="vanilla"`` an arrow runs from that point to every other
    one: the direction each fix moves you.

    Each point is its own scatter collection, labelled with the name.
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


# --------------------------------------------------------------------------- CI bars
def tier_delta_bars(ci_table, metric_name="macro F1", source=None, comparison=None):
    """Per-tier bootstrap delta: a bar at the median, whiskers at the 95% CI.

    ``ci_table`` is ``helpers.bootstrap.paired_bootstrap`` output (indexed by
    tier; columns median, ci_low, ci_high, excludes_zero) or the lab's
    mapping tier -> dict with the same keys.  Bars whose CI excludes zero are
    solid; the others are pale and hatched, with "CI includes 0" written on
    them.  ``comparison`` (e.g. ``"distilled - vanilla"``) names the delta.

    The whiskers are one ``ax.errorbar`` (gid ``"ci"``), one whisker per tier.
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


# --------------------------------------------------------------------------- coverage
def coverage_curves(models, labels, thresholds=DEFAULT_COVERAGE_THRESHOLDS, source=None,
                    target_accuracy=None, annotate_every=3):
    """Accuracy on the covered rows (y) against coverage (x) as the threshold rises.

    One curve per model from ``helpers.metrics.coverage_table``; thresholds
    that cover nothing (accuracy NaN) are left out.  Every ``annotate_every``-th
    point (and the last) is labelled with its threshold.  ``target_accuracy``
    draws a horizontal line, e.g. 0.95 for "the lowest threshold reaching 95%".

    Each model's curve is one Line2D labelled with the model's name.
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


# --------------------------------------------------------------------------- per-class F1
def per_class_f1_plot(f1, train_counts, class_tiers=None, source=None):
    """F1 of every class, classes sorted by training frequency (most frequent left).

    ``f1`` maps a model name to per-class F1 (n_classes,) (a single array is
    drawn as "model").  ``class_tiers`` gives each class's tier; without it,
    tiers follow the course's ranks: top 20 head, next 40 mid, the rest tail.
    The background is shaded per tier.  Each model is one Line2D.
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


# --------------------------------------------------------------------------- output
def save(fig, path, dpi=110) -> Path:
    """Write ``fig`` as PNG at ``path`` (parent folders created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, format="png")
    return path
