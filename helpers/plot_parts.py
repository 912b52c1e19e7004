"""What every figure in :mod:`helpers.plots` shares: colors, the synthetic-data labels, input checks.

A model keeps one color in every figure (:func:`model_color`), so the reader can
follow "vanilla" from the reliability diagram to the scatter without a legend.
Figures made from the embedded synthetic data say so in every title and carry a
watermark (:func:`title`, :func:`finish`).  The ``*_probs``/``*_points``/``*_frame``
functions turn the figures' inputs into checked arrays and tables.
"""
from __future__ import annotations

import re
import zlib
from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .course import TIERS
from .inputs import check_probs

__all__ = ["SYNTHETIC_BANNER", "COLORS", "FALLBACK_COLORS", "TIER_SHADES", "color_key", "model_color",
           "is_synthetic", "title", "finish", "new_figure", "model_probs", "scatter_points", "ci_frame"]

SYNTHETIC_BANNER = "SYNTHETIC DATA"

# Keys are names with everything but letters and digits removed, lower-cased,
# so "vanilla + T", "vanilla+T" and "vanilla_T" share a color.
COLORS = {
    "teacher": "#2ca02c", "teacherval": "#2ca02c",
    "vanilla": "#d62728",
    "vanillat": "#1f77b4", "vanillatemperature": "#1f77b4", "vanillatscaled": "#1f77b4",
    "distilled": "#ff7f0e", "kd": "#ff7f0e",
    "gridtd1a70": "#9467bd", "gridtd1a90": "#8c564b",
    "gridtd4a70": "#e377c2", "gridtd4a90": "#7f7f7f",
    "gridtd8a70": "#bcbd22", "gridtd8a90": "#17becf",
}
# For names the course does not know: picked by a stable hash of the name
# (not Python's salted hash), so a name gets the same color in every process.
FALLBACK_COLORS = ("#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd",
             "#e6550d", "#31a354", "#756bb1", "#636363", "#a55194", "#6b6ecf")
TIER_SHADES = {"head": "#f0f0f0", "mid": "#dcdcdc", "tail": "#c4c4c4"}


def color_key(name: object) -> str:
    """The name a color is looked up by: letters and digits only, lower-cased."""
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def model_color(name: object) -> str:
    """The color a model or recipe gets in every figure."""
    key = color_key(name)
    if key in COLORS:
        return COLORS[key]
    return FALLBACK_COLORS[zlib.crc32(key.encode()) % len(FALLBACK_COLORS)]


# --------------------------------------------------------------------------- labelling
def is_synthetic(source: object) -> bool:
    """Whether ``source`` (a source name or a PredictionSet) is the embedded synthetic data."""
    source = getattr(source, "source", source)  # a PredictionSet works too
    return isinstance(source, str) and "synthetic" in source.lower()


def title(text: str, source: object) -> str:
    """An axes title, prefixed with the synthetic-data banner when ``source`` is synthetic."""
    return f"{SYNTHETIC_BANNER}: {text}" if is_synthetic(source) else text


def finish(fig: Figure, suptitle: str | None, source: object) -> None:
    """Figure title (``None``: none unless synthetic); on synthetic data a red
    banner title and a faint watermark, so a screenshot cannot lose the warning."""
    if is_synthetic(source):
        text = f"{SYNTHETIC_BANNER}: {suptitle}" if suptitle else \
            f"{SYNTHETIC_BANNER}: the embedded stand-in, not the course's results"
        fig.suptitle(text, color="#b00000", fontweight="bold")
        fig.text(0.5, 0.5, SYNTHETIC_BANNER, transform=fig.transFigure, ha="center", va="center",
                 fontsize=48, color="#b00000", alpha=0.08, rotation=20, zorder=0, gid="watermark")
    elif suptitle:
        fig.suptitle(suptitle)


def new_figure(figsize: tuple[float, float]) -> Figure:
    """A figure with constrained layout (pyplot only creates it; nothing is shown)."""
    return plt.figure(figsize=figsize, layout="constrained")


# --------------------------------------------------------------------------- inputs of the figures
def model_probs(models: Mapping, what: str = "models") -> dict[str, np.ndarray]:
    """``models`` (name -> probabilities) checked: non-empty, each a probability array, all on the same rows."""
    if not isinstance(models, Mapping) or len(models) == 0:
        raise TypeError(f"{what} must be a non-empty mapping name -> probabilities (n_rows, n_classes), "
                        f"got {type(models).__name__}.")
    out = {}
    for name, probs in models.items():
        p = check_probs(probs, name=f"{what}[{name!r}]")
        out[str(name)] = p
    shapes = {p.shape[0] for p in out.values()}
    if len(shapes) != 1:
        raise ValueError(f"every model must score the same rows; got row counts "
                         f"{ {k: v.shape[0] for k, v in out.items()} }.")
    return out


def scatter_points(points: pd.DataFrame | Mapping) -> pd.DataFrame:
    """``points`` as a float DataFrame with columns nll, ece (from a DataFrame or name -> (nll, ece))."""
    if isinstance(points, pd.DataFrame):
        missing = {"nll", "ece"} - set(points.columns)
        if missing:
            raise ValueError(f"points needs columns 'nll' and 'ece' (indexed by model name); "
                             f"missing {sorted(missing)}, got {list(points.columns)}.")
        df = points[["nll", "ece"]]
    elif isinstance(points, Mapping):
        try:
            df = pd.DataFrame.from_dict({k: tuple(v) for k, v in points.items()}, orient="index",
                                        columns=["nll", "ece"])
        except (TypeError, ValueError) as err:
            raise ValueError("points must map a name to a pair (nll, ece).") from err
    else:
        raise TypeError(f"points must be a DataFrame with columns nll and ece, or a mapping "
                        f"name -> (nll, ece); got {type(points).__name__}.")
    if len(df) == 0:
        raise ValueError("points is empty: nothing to plot.")
    df = df.astype(np.float64)
    if not np.isfinite(df.to_numpy()).all():
        bad = df.index[~np.isfinite(df.to_numpy()).all(axis=1)].tolist()
        raise ValueError(f"points must be finite numbers; not so for {bad}.")
    return df


def ci_frame(ci_table: pd.DataFrame | Mapping) -> pd.DataFrame:
    """A bootstrap CI table checked (ci_low <= median <= ci_high) and ordered head, mid, tail, then the rest."""
    if isinstance(ci_table, Mapping):
        ci_table = pd.DataFrame.from_dict(dict(ci_table), orient="index")
    if not isinstance(ci_table, pd.DataFrame):
        raise TypeError(f"ci_table must be a DataFrame indexed by tier (helpers.bootstrap.paired_bootstrap "
                        f"output) or a mapping tier -> dict; got {type(ci_table).__name__}.")
    missing = {"median", "ci_low", "ci_high"} - set(ci_table.columns)
    if missing:
        raise ValueError(f"ci_table needs columns median, ci_low, ci_high; missing {sorted(missing)}.")
    if len(ci_table) == 0:
        raise ValueError("ci_table is empty: nothing to plot.")
    df = ci_table.copy()
    if "excludes_zero" not in df.columns:
        df["excludes_zero"] = (df["ci_low"] > 0) | (df["ci_high"] < 0)
    if ((df["ci_low"] > df["median"]) | (df["median"] > df["ci_high"])).any():
        raise ValueError("ci_table rows must satisfy ci_low <= median <= ci_high.")
    # Tiers in head, mid, tail order; anything else ("all") after them.
    order = [t for t in TIERS if t in df.index] + [t for t in df.index if t not in TIERS]
    return df.loc[order]
