"""helpers.plots: the figures carry the right numbers, not merely no exception.

Everything renders on Agg; each test closes its figures.
"""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.container import ErrorbarContainer  # noqa: E402

from helpers import metrics, plots  # noqa: E402

N_BINS = 15


@pytest.fixture(autouse=True)
def _close_figures(monkeypatch):
    def no_show(*args, **kwargs):
        raise AssertionError("helpers.plots must never call plt.show")
    monkeypatch.setattr(plt, "show", no_show)
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    n, k = 600, 8
    y = rng.integers(0, k, n)
    z = rng.normal(size=(n, k)) * 1.5
    z[np.arange(n), y] += 1.8
    tiers = np.array(["head"] * 400 + ["mid"] * 150 + ["tail"] * 50)
    models = {"vanilla": metrics.softmax(z * 1.6), "vanilla + T": metrics.softmax(z),
              "distilled": metrics.softmax(z * 0.8)}
    return models, y, tiers


def _axes(fig, prefix):
    return {ax.get_label().split(":", 1)[1]: ax for ax in fig.axes if ax.get_label().startswith(prefix + ":")}


def _model_lines(ax):
    return [line for line in ax.get_lines() if line.get_label() != plots.DIAGONAL_LABEL]


def _all_titles(fig):
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    return titles + ([fig._suptitle.get_text()] if fig._suptitle is not None else [])


# --------------------------------------------------------------------------- reliability
def test_reliability_panels_series_and_legend_ece(data):
    models, y, tiers = data
    fig = plots.reliability_diagram(models, y, tiers)
    panels, strips = _axes(fig, "reliability"), _axes(fig, "counts")
    assert list(panels) == ["overall", "head", "mid", "tail"]
    assert list(strips) == list(panels)
    assert len(fig.axes) == 8
    # one row of four panels, left to right
    xs = [panels[p].get_position().x0 for p in panels]
    assert xs == sorted(xs)
    expected = {"overall": {name: metrics.ece(p, y) for name, p in models.items()}}
    for name, p in models.items():
        for tier, value in metrics.per_tier_ece(p, y, tiers).items():
            expected.setdefault(tier, {})[name] = value
    for panel, ax in panels.items():
        lines = ax.get_lines()
        assert len(lines) == len(models) + 1
        diagonal = [line for line in lines if line.get_label() == plots.DIAGONAL_LABEL]
        assert len(diagonal) == 1
        np.testing.assert_allclose(diagonal[0].get_xydata(), [[0, 0], [1, 1]])
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        for name in models:
            assert f"{name} (ECE {expected[panel][name]:.3f})" in legend
        assert ax.get_xlabel().startswith("confidence")
        assert ax.get_xlim() == (0, 1) and ax.get_ylim() == (0, 1)
    assert panels["overall"].get_ylabel() == "accuracy"


def test_reliability_curves_and_counts_are_the_bins(data):
    models, y, tiers = data
    fig = plots.reliability_diagram(models, y, tiers, n_bins=10)
    rows = {"overall": np.ones(len(y), bool), "tail": tiers == "tail"}
    for panel, mask in rows.items():
        ax, strip = _axes(fig, "reliability")[panel], _axes(fig, "counts")[panel]
        lines = {line.get_label().split(" (ECE")[0]: line for line in _model_lines(ax)}
        steps = {patch.get_label(): patch for patch in strip.patches}
        assert set(lines) == set(steps) == set(models)
        for name, p in models.items():
            bins = metrics.reliability_bins(p[mask], y[mask], n_bins=10)
            filled = bins[bins["count"] > 0]
            np.testing.assert_allclose(lines[name].get_xdata(), filled["confidence"])
            np.testing.assert_allclose(lines[name].get_ydata(), filled["accuracy"])
            values, edges, _ = steps[name].get_data()
            np.testing.assert_array_equal(values, bins["count"])
            np.testing.assert_allclose(edges, np.linspace(0, 1, 11))
            assert values.sum() == mask.sum()
            # the same color in the curve and in its count strip
            assert to_hex(lines[name].get_color()) == to_hex(steps[name].get_edgecolor())


def test_reliability_without_tiers_is_one_panel(data):
    models, y, _ = data
    fig = plots.reliability_diagram({"vanilla": models["vanilla"]}, y)
    assert list(_axes(fig, "reliability")) == ["overall"]
    assert len(fig.axes) == 2
    assert len(_axes(fig, "reliability")["overall"].get_lines()) == 2


def test_reliability_skips_absent_tiers(data):
    models, y, tiers = data
    keep = tiers != "tail"
    fig = plots.reliability_diagram({k: v[keep] for k, v in models.items()}, y[keep], tiers[keep])
    assert list(_axes(fig, "reliability")) == ["overall", "head", "mid"]


def test_reliability_rejects_logits_and_mismatched_rows(data):
    models, y, _ = data
    with pytest.raises(ValueError, match="softmax"):
        plots.reliability_diagram({"vanilla": np.log(models["vanilla"])}, y)
    with pytest.raises(ValueError, match="same rows"):
        plots.reliability_diagram({"a": models["vanilla"], "b": models["distilled"][:10]}, y)
    with pytest.raises(TypeError, match="mapping"):
        plots.reliability_diagram(models["vanilla"], y)


# --------------------------------------------------------------------------- synthetic labelling
def _every_figure(data, source):
    models, y, tiers = data
    ci = pd.DataFrame({"median": [0.02, 0.01, 0.0], "ci_low": [0.01, -0.01, -0.03],
                       "ci_high": [0.03, 0.03, 0.04], "excludes_zero": [True, False, False]},
                      index=["head", "mid", "tail"])
    return [plots.reliability_diagram(models, y, tiers, source=source),
            plots.ece_nll_scatter({"vanilla": (1.5, 0.13)}, source=source),
            plots.tier_delta_bars(ci, source=source),
            plots.coverage_curves(models, y, source=source),
            plots.per_class_f1_plot(np.linspace(0, 1, 113), np.arange(113, 0, -1), source=source)]


def test_synthetic_data_is_in_every_title(data):
    for fig in _every_figure(data, "synthetic"):
        titles = _all_titles(fig)
        assert titles and all("SYNTHETIC DATA" in t for t in titles), titles
        assert any(t.get_gid() == "watermark" for t in fig.texts)


def test_real_data_has_no_synthetic_banner(data):
    for fig in _every_figure(data, "hub"):
        assert not any("SYNTHETIC" in t for t in _all_titles(fig))
        assert not any("SYNTHETIC" in t.get_text() for t in fig.texts)


# --------------------------------------------------------------------------- scatter
POINTS = {"vanilla": (1.5515, 0.1308), "vanilla + T": (1.4297, 0.0263), "distilled": (1.3321, 0.0546)}


@pytest.mark.parametrize("as_frame", [False, True])
def test_scatter_points_are_the_given_coordinates(as_frame):
    points = pd.DataFrame.from_dict(POINTS, orient="index", columns=["nll", "ece"]) if as_frame else POINTS
    if as_frame:  # extra columns, as in metrics.as_frame output, are fine
        points = points.assign(macro_f1=0.28)
    fig = plots.ece_nll_scatter(points, source="synthetic")
    (ax,) = fig.axes
    assert len(ax.collections) == len(POINTS)
    got = {c.get_label(): tuple(c.get_offsets()[0]) for c in ax.collections}
    assert set(got) == set(POINTS)
    for name, xy in POINTS.items():
        np.testing.assert_allclose(got[name], xy, rtol=0, atol=1e-15)
    for c in ax.collections:
        assert len(c.get_offsets()) == 1
        assert to_hex(c.get_facecolor()[0]) == plots.model_color(c.get_label())
    texts = [t.get_text() for t in ax.texts]
    assert all(name in texts for name in POINTS)
    assert any("lower-left" in t for t in texts)
    assert ax.get_xlabel().startswith("NLL") and ax.get_ylabel().startswith("ECE")
    # every point is inside the view
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert all(x0 < x < x1 and y0 < y < y1 for x, y in POINTS.values())


def test_scatter_arrows_and_bad_input():
    fig = plots.ece_nll_scatter(POINTS, arrows_from="vanilla")
    arrows = [t for t in fig.axes[0].texts if t.get_text() == "" and t.arrow_patch is not None]
    assert len(arrows) == len(POINTS) - 1
    with pytest.raises(KeyError, match="teacher"):
        plots.ece_nll_scatter(POINTS, arrows_from="teacher")
    with pytest.raises(ValueError, match="nll"):
        plots.ece_nll_scatter(pd.DataFrame({"ece": [0.1]}, index=["a"]))
    with pytest.raises(ValueError, match="finite"):
        plots.ece_nll_scatter({"a": (float("nan"), 0.1)})


# --------------------------------------------------------------------------- CI bars
CI = pd.DataFrame({"median": [0.019, 0.021, 0.005], "ci_low": [-0.009, 0.007, -0.04],
                   "ci_high": [0.047, 0.036, 0.05], "excludes_zero": [False, True, False],
                   "observed": [0.02, 0.021, 0.004], "n": [1065, 5155, 210]},
                  index=pd.Index(["mid", "head", "tail"], name="tier"))


def _errorbar(ax):
    (container,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    return container


@pytest.mark.parametrize("as_dict", [False, True])
def test_tier_delta_whiskers_are_the_ci(as_dict):
    table = {t: row.to_dict() for t, row in CI.iterrows()} if as_dict else CI
    fig = plots.tier_delta_bars(table, metric_name="macro F1", comparison="distilled - vanilla")
    (ax,) = fig.axes
    ordered = CI.loc[["head", "mid", "tail"]]
    segments = _errorbar(ax).lines[2][0].get_segments()
    assert len(segments) == 3
    for seg, (_, row) in zip(segments, ordered.iterrows()):
        assert seg[:, 1].min() == pytest.approx(row["ci_low"], abs=1e-12)
        assert seg[:, 1].max() == pytest.approx(row["ci_high"], abs=1e-12)
    bars = ax.patches[:3]
    assert [b.get_height() for b in bars] == pytest.approx(ordered["median"].tolist())
    ticks = [t.get_text().split("\n")[0] for t in ax.get_xticklabels()]
    assert ticks == ["head", "mid", "tail"]
    # real effects look different from noise
    assert [b.get_gid() for b in bars] == ["excludes-zero", "includes-zero", "includes-zero"]
    assert bars[0].get_facecolor() != bars[1].get_facecolor()
    assert bars[1].get_facecolor() == bars[2].get_facecolor()
    assert bars[0].get_hatch() != bars[1].get_hatch()
    # the zero line
    assert any(np.allclose(line.get_ydata(), 0) for line in ax.get_lines())
    assert "macro F1" in ax.get_ylabel() and "distilled - vanilla" in ax.get_ylabel()


def test_tier_delta_from_the_bootstrap_and_bad_input(data):
    from helpers.bootstrap import paired_bootstrap
    models, y, tiers = data
    table = paired_bootstrap(models["vanilla"], models["distilled"], y, tiers, metric="ece", n_resamples=50)
    fig = plots.tier_delta_bars(table, metric_name="ECE", source="synthetic")
    segments = _errorbar(fig.axes[0]).lines[2][0].get_segments()
    np.testing.assert_allclose([s[:, 1].min() for s in segments], table["ci_low"], atol=1e-12)
    np.testing.assert_allclose([s[:, 1].max() for s in segments], table["ci_high"], atol=1e-12)
    with pytest.raises(ValueError, match="ci_high"):
        plots.tier_delta_bars(CI.drop(columns="ci_high"))
    with pytest.raises(ValueError, match="ci_low <= median"):
        plots.tier_delta_bars(CI.assign(median=1.0))


# --------------------------------------------------------------------------- coverage
def test_coverage_curves_are_the_coverage_table(data):
    models, y, _ = data
    thresholds = np.linspace(0.3, 0.95, 14)
    fig = plots.coverage_curves(models, y, thresholds=thresholds, source="synthetic")
    (ax,) = fig.axes
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == set(models)
    for name, p in models.items():
        table = metrics.coverage_table(p, y, thresholds).dropna(subset=["accuracy"])
        np.testing.assert_allclose(lines[name].get_xdata(), table["coverage"])
        np.testing.assert_allclose(lines[name].get_ydata(), table["accuracy"])
        assert to_hex(lines[name].get_color()) == plots.model_color(name)
    assert "coverage" in ax.get_xlabel() and "accuracy" in ax.get_ylabel()
    assert any(t.get_text() == "0.30" for t in ax.texts)  # thresholds are annotated


def test_coverage_curves_skip_thresholds_covering_nothing(data):
    models, y, _ = data
    flat = np.full_like(models["vanilla"], 1.0 / models["vanilla"].shape[1] * 0.5)
    flat[:, 0] += 0.5  # top-1 confidence is 0.5625 everywhere
    table = metrics.coverage_table(flat, y, [0.5, 0.6, 0.7])
    assert table["accuracy"].isna().tolist() == [False, True, True]
    fig = plots.coverage_curves({"flat": flat, "vanilla": models["vanilla"]}, y, thresholds=[0.5, 0.6, 0.7],
                                target_accuracy=0.95)
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert len(lines["flat"].get_xdata()) == 1
    assert not np.isnan(lines["flat"].get_ydata()).any()
    assert lines["target accuracy 0.95"].get_ydata()[0] == 0.95


# --------------------------------------------------------------------------- per-class F1, colors, save
def test_per_class_f1_sorted_by_frequency_with_tier_shading():
    rng = np.random.default_rng(0)
    counts = rng.permutation(np.arange(1, 114) * 10)
    f1 = {"teacher": rng.random(113), "vanilla": rng.random(113)}
    fig = plots.per_class_f1_plot(f1, counts)
    (ax,) = fig.axes
    order = np.argsort(-counts, kind="stable")
    lines = {line.get_label().split(" (")[0]: line for line in ax.get_lines()}
    for name, values in f1.items():
        np.testing.assert_allclose(lines[name].get_ydata(), values[order])
    spans = {p.get_gid(): p for p in ax.patches if str(p.get_gid()).startswith("tier:")}
    assert set(spans) == {"tier:head", "tier:mid", "tier:tail"}
    widths = {k: p.get_window_extent().width for k, p in spans.items()}
    assert widths["tier:tail"] > widths["tier:mid"] > widths["tier:head"]  # 53 > 40 > 20 classes
    with pytest.raises(ValueError, match="one value per class"):
        plots.per_class_f1_plot({"a": np.zeros(5)}, counts)


def test_colors_are_stable_per_model(data):
    models, y, tiers = data
    assert plots.model_color("vanilla + T") == plots.model_color("vanilla+T") == plots.model_color("Vanilla_T")
    assert plots.model_color("my recipe") == plots.model_color("my recipe")
    fixed = [plots.model_color(n) for n in ("teacher", "vanilla", "vanilla + T", "distilled")]
    assert len(set(fixed)) == 4
    rel = plots.reliability_diagram(models, y, tiers)
    cov = plots.coverage_curves(models, y)
    for name in models:
        colors = {to_hex(line.get_color()) for fig in (rel, cov) for ax in fig.axes
                  for line in ax.get_lines() if line.get_label().split(" (ECE")[0] == name}
        assert colors == {plots.model_color(name)}


def test_save_writes_png_and_creates_folders(tmp_path, data):
    models, y, _ = data
    fig = plots.coverage_curves(models, y)
    path = plots.save(fig, tmp_path / "a" / "b" / "coverage.png")
    assert path.exists() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
