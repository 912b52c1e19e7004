"""helpers.bootstrap: the vectorised paired bootstrap equals the course's loop."""
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score

import helpers.bootstrap as B
from helpers.bootstrap import paired_bootstrap, paired_bootstrap_loop, resample_indices
from helpers.metrics import softmax

N_CLASSES = 30
TIER_CLASSES = {"head": np.arange(0, 6), "mid": np.arange(6, 16), "tail": np.arange(16, 30)}
TIER_ROWS = {"head": 400, "mid": 150, "tail": 50}
COLS = ["median", "ci_low", "ci_high", "observed"]


def _data(seed=0):
    """Course-like rows (shuffled tiers, correlated arms, predictions outside a
    tier's label set, classes never predicted) plus logits for ECE / NLL."""
    rng = np.random.default_rng(seed)
    y = np.concatenate([rng.choice(TIER_CLASSES[t], TIER_ROWS[t]) for t in TIER_ROWS])
    tiers = np.concatenate([np.full(TIER_ROWS[t], t) for t in TIER_ROWS])
    order = rng.permutation(y.size)
    y, tiers = y[order], tiers[order]
    shared_wrong = rng.choice(12, size=y.size)  # confusions land on head/mid classes
    arms, probs = [], []
    for p_ok in (0.35, 0.45):
        preds = np.where(rng.random(y.size) < p_ok, y, shared_wrong)
        preds = np.where(rng.random(y.size) < 0.2, rng.choice(N_CLASSES, y.size), preds)
        arms.append(preds)
        z = rng.normal(size=(y.size, N_CLASSES))
        z[np.arange(y.size), preds] += rng.gamma(2.0, 1.0, y.size)
        probs.append(softmax(z))
    return y, tiers, arms, probs


@pytest.fixture(scope="module")
def data():
    return _data()


@pytest.fixture
def small_chunks(monkeypatch):
    # Many chunks, and a ragged last one, whatever the tier size.
    monkeypatch.setattr(B, "_CHUNK_DRAWS", 1000)


def _course_loop_f1(a, b, y, tiers, n_resamples, seed):
    """The course's protocol written out independently of helpers: one seeded stream per tier."""
    out = {}
    for tier in ("head", "mid", "tail"):
        rng = np.random.RandomState(seed)
        idx = np.flatnonzero(tiers == tier)
        labels = np.unique(y[idx])
        deltas = []
        for _ in range(n_resamples):
            rows = rng.choice(idx, size=len(idx))
            f = [f1_score(y[rows], arm[rows], labels=labels, average="macro", zero_division=0)
                 for arm in (a, b)]
            deltas.append(f[1] - f[0])
        out[tier] = np.quantile(deltas, [0.025, 0.5, 0.975])
    return out


def test_macro_f1_matches_the_course_loop_written_out(data, small_chunks):
    y, tiers, (a, b), _ = data
    got = paired_bootstrap(a, b, y, tiers, "macro_f1", n_resamples=40, seed=42)
    want = _course_loop_f1(a, b, y, tiers, 40, 42)
    assert list(got.index) == ["head", "mid", "tail"]
    for tier, (lo, med, hi) in want.items():
        np.testing.assert_allclose(got.loc[tier, ["ci_low", "median", "ci_high"]].to_numpy(float),
                                   [lo, med, hi], rtol=0, atol=1e-12)


@pytest.mark.parametrize("metric", ["macro_f1", "accuracy", "ece", "nll"])
@pytest.mark.parametrize("with_tiers", [True, False])
def test_vectorised_equals_loop_on_every_column(data, small_chunks, metric, with_tiers):
    y, tiers, arms, probs = data
    a, b = arms if metric in ("macro_f1", "accuracy") else probs
    t = tiers if with_tiers else None
    fast = paired_bootstrap(a, b, y, t, metric, n_resamples=50, seed=7)
    loop = paired_bootstrap_loop(a, b, y, t, metric, n_resamples=50, seed=7)
    assert list(fast.columns) == ["median", "ci_low", "ci_high", "excludes_zero", "observed", "n"]
    assert list(fast.index) == list(loop.index)
    np.testing.assert_allclose(fast[COLS].to_numpy(float), loop[COLS].to_numpy(float), rtol=0, atol=1e-12)
    assert (fast["excludes_zero"] == loop["excludes_zero"]).all()
    assert (fast["n"] == loop["n"]).all()
    if metric in ("macro_f1", "accuracy"):
        # Integer counts: not merely close, the very same floats.
        assert np.array_equal(fast[COLS].to_numpy(float), loop[COLS].to_numpy(float))


def test_chunk_size_does_not_change_the_result(data, monkeypatch):
    y, tiers, (a, b), _ = data
    whole = paired_bootstrap(a, b, y, tiers, n_resamples=30, seed=3)
    for chunk in (1, 401, 7919):
        monkeypatch.setattr(B, "_CHUNK_DRAWS", chunk)
        pd.testing.assert_frame_equal(paired_bootstrap(a, b, y, tiers, n_resamples=30, seed=3), whole)


@pytest.mark.parametrize("m", [1, 2, 7, 256, 1065])
def test_resample_indices_are_successive_choice_draws(m):
    rows = np.arange(100, 100 + m)
    r1, r2 = np.random.RandomState(42), np.random.RandomState(42)
    want = np.stack([r1.choice(rows, size=len(rows)) for _ in range(6)])
    pos = resample_indices(r2, rows, 6)
    assert pos.shape == (6, m)
    np.testing.assert_array_equal(rows[pos], want)
    assert r1.randint(1 << 30) == r2.randint(1 << 30)  # the stream is left where the loop leaves it
    chunks = np.concatenate([p for _, p in B._draw_chunks(np.random.RandomState(42), m, 6)])
    np.testing.assert_array_equal(chunks, pos)


def test_observed_is_the_plain_metric_difference(data):
    from helpers.metrics import per_tier_ece, per_tier_f1

    y, tiers, (a, b), (pa, pb) = data
    f1 = paired_bootstrap(a, b, y, tiers, n_resamples=5)
    fa, fb = per_tier_f1(y, a, tiers), per_tier_f1(y, b, tiers)
    for tier in fa:
        assert f1.loc[tier, "observed"] == pytest.approx(fb[tier] - fa[tier], abs=1e-12)
        assert f1.loc[tier, "n"] == TIER_ROWS[tier]
    ece = paired_bootstrap(pa, pb, y, tiers, "ece", n_resamples=5)
    ea, eb = per_tier_ece(pa, y, tiers), per_tier_ece(pb, y, tiers)
    for tier in ea:
        assert ece.loc[tier, "observed"] == pytest.approx(eb[tier] - ea[tier], abs=1e-12)


def test_sign_convention_and_excludes_zero(data):
    y, tiers, (a, _), (pa, _) = data
    better = np.where(np.random.default_rng(1).random(y.size) < 0.9, y, a)  # b is far better
    res = paired_bootstrap(a, better, y, tiers, "macro_f1", n_resamples=200)
    assert (res["median"] > 0).all() and (res["ci_low"] > 0).all() and res["excludes_zero"].all()
    flipped = paired_bootstrap(better, a, y, tiers, "macro_f1", n_resamples=200)
    assert (flipped["median"] < 0).all() and flipped["excludes_zero"].all()
    # Lower is better for NLL: a far better b gives a negative delta.
    onehot = np.eye(N_CLASSES)[y] * 0.9 + 0.1 / N_CLASSES
    nll = paired_bootstrap(pa, onehot, y, tiers, "nll", n_resamples=100)
    assert (nll["ci_high"] < 0).all() and nll["excludes_zero"].all()


def test_excludes_zero_agrees_with_the_bounds(data):
    y, tiers, arms, probs = data
    frames = [paired_bootstrap(*arms, y, tiers, m, n_resamples=100, seed=s)
              for m in ("macro_f1", "accuracy") for s in (0, 1)]
    frames += [paired_bootstrap(*probs, y, tiers, m, n_resamples=100) for m in ("ece", "nll")]
    res = pd.concat(frames)
    assert (res["ci_low"] <= res["median"]).all() and (res["median"] <= res["ci_high"]).all()
    np.testing.assert_array_equal(res["excludes_zero"], (res["ci_low"] > 0) | (res["ci_high"] < 0))
    assert res["excludes_zero"].dtype == bool
    assert res["excludes_zero"].any() and not res["excludes_zero"].all()  # both cases exercised


def test_identical_arms_give_a_zero_distribution(data):
    y, tiers, (a, _), _ = data
    res = paired_bootstrap(a, a.copy(), y, tiers, n_resamples=50)
    assert (res[COLS].to_numpy() == 0).all() and not res["excludes_zero"].any()


def test_tiers_none_gives_one_all_row(data):
    y, _, (a, b), _ = data
    res = paired_bootstrap(a, b, y, None, n_resamples=20)
    assert list(res.index) == ["all"] and res.loc["all", "n"] == y.size


def test_seed_fixes_the_result(data):
    y, tiers, (a, b), _ = data
    r1 = paired_bootstrap(a, b, y, tiers, n_resamples=50, seed=5)
    pd.testing.assert_frame_equal(r1, paired_bootstrap(a, b, y, tiers, n_resamples=50, seed=5))
    assert not r1.equals(paired_bootstrap(a, b, y, tiers, n_resamples=50, seed=6))


@pytest.mark.parametrize("kwargs,match", [
    (dict(metric="f1"), "metric must be one of"),
    (dict(n_resamples=0), "n_resamples"),
    (dict(n_resamples=10.0), "n_resamples"),
    (dict(n_resamples=True), "n_resamples"),
    (dict(n_bins=0), "n_bins"),
    (dict(b="probs"), r"b \(predictions\) must be 1-D"),
    (dict(a="short"), r"a \(predictions\) must have one entry per row"),
    (dict(a="float"), r"a \(predictions\) must hold integer"),
    (dict(tiers="unknown"), "'Tail'"),
    (dict(tiers="short"), "tiers must be 1-D"),
])
def test_validation_errors_name_the_argument(data, kwargs, match):
    y, tiers, (a, b), (pa, _) = data
    args = dict(a=a, b=b, labels=y, tiers=tiers, metric="macro_f1", n_resamples=10)
    special = {"probs": pa, "short": a[:-1], "float": a + 0.5}
    for key, value in kwargs.items():
        if key in ("a", "b"):
            value = special[value]
        elif key == "tiers":
            value = np.where(np.arange(y.size) == 3, "Tail", tiers) if value == "unknown" else tiers[:-1]
        args[key] = value
    with pytest.raises((ValueError, TypeError), match=match):
        paired_bootstrap(**args)


def test_probability_metrics_reject_logits_and_mismatched_arms(data):
    y, tiers, _, (pa, pb) = data
    with pytest.raises(ValueError, match="logits"):
        paired_bootstrap(np.log(pa), pb, y, tiers, "ece")
    with pytest.raises(ValueError, match="same shape"):
        paired_bootstrap(pa, pb[:, :-1], y, tiers, "nll")
    with pytest.raises(ValueError, match="labels"):
        paired_bootstrap(pa, pb, y[:-1], tiers, "nll")


def test_a_students_per_tier_loop_with_the_same_seed_reproduces_the_table(data):
    """The lab's recipe (a fresh RandomState(seed) per call, randint indices, same rows for both
    arms), called once per tier, gives the very numbers the reveals are rendered from."""
    from helpers.metrics import macro_f1

    y, tiers, (a, b), _ = data
    table = paired_bootstrap(a, b, y, tiers, "macro_f1", n_resamples=60, seed=7)
    for tier in ("tail", "head", "mid"):  # any order: each tier has its own stream
        rows = tiers == tier
        ya, pa, pb = y[rows], a[rows], b[rows]
        classes = np.unique(ya)
        rng = np.random.RandomState(7)
        deltas = []
        for _ in range(60):
            idx = rng.randint(0, len(ya), size=len(ya))
            deltas.append(macro_f1(ya[idx], pb[idx], classes) - macro_f1(ya[idx], pa[idx], classes))
        lo, med, hi = np.quantile(deltas, [0.025, 0.5, 0.975])
        assert (table.loc[tier, "ci_low"], table.loc[tier, "median"], table.loc[tier, "ci_high"]) == \
            pytest.approx((lo, med, hi), abs=1e-12)
