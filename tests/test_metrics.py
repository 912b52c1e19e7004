"""helpers.metrics against scikit-learn, scipy and plain loops (COURSE.md, "Conventions")."""
import math

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import binned_statistic
from sklearn.metrics import f1_score

from helpers import metrics as M

TIER_CLASSES = {"head": range(0, 6), "mid": range(6, 14), "tail": range(14, 25)}


def _probs(n, k, seed, sharpness=2.0):
    rng = np.random.default_rng(seed)
    return M.softmax(rng.normal(scale=sharpness, size=(n, k)))


def _labelled(n=600, k=25, seed=0):
    """Labels drawn per tier, predictions that miss some classes entirely."""
    rng = np.random.default_rng(seed)
    tier_of = np.empty(k, dtype=object)
    for tier, cls in TIER_CLASSES.items():
        tier_of[list(cls)] = tier
    y = rng.choice(k, size=n, p=np.linspace(3, 1, k) / np.linspace(3, 1, k).sum())
    preds = np.where(rng.random(n) < 0.4, y, rng.choice(k - 5, size=n))  # classes 20-24 never predicted wrongly
    preds[preds == 3] = 4  # class 3 is never predicted at all
    return y, preds, tier_of[y].astype(str)


# --------------------------------------------------------------------------- F1
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_macro_and_per_class_f1_match_sklearn(seed):
    y, preds, _ = _labelled(seed=seed)
    assert 3 not in preds
    want = f1_score(y, preds, average="macro", zero_division=0)
    assert M.macro_f1(y, preds) == pytest.approx(want, abs=1e-12)
    per = M.per_class_f1(y, preds)
    classes = np.union1d(y, preds)
    np.testing.assert_array_equal(per.index, classes)
    np.testing.assert_allclose(per.to_numpy(), f1_score(y, preds, labels=classes, average=None,
                                                        zero_division=0), atol=1e-12)
    assert per.loc[3] == 0.0


def test_per_class_f1_with_explicit_classes_matches_sklearn_labels():
    y, preds, _ = _labelled(seed=4)
    classes = np.arange(30)  # includes classes present in neither labels nor preds
    per = M.per_class_f1(y, preds, classes=classes)
    np.testing.assert_allclose(per.to_numpy(), f1_score(y, preds, labels=classes, average=None,
                                                        zero_division=0), atol=1e-12)
    assert M.macro_f1(y, preds, classes=classes) == pytest.approx(
        f1_score(y, preds, labels=classes, average="macro", zero_division=0), abs=1e-12)


@pytest.mark.parametrize("seed", [0, 5])
def test_per_tier_f1_matches_sklearn_on_tier_rows_and_label_set(seed):
    y, preds, tiers = _labelled(seed=seed)
    got = M.per_tier_f1(y, preds, tiers)
    assert list(got) == ["head", "mid", "tail"]
    for tier, value in got.items():
        rows = tiers == tier
        want = f1_score(y[rows], preds[rows], labels=np.unique(y[rows]), average="macro",
                        zero_division=0)
        assert value == pytest.approx(want, abs=1e-12), tier
    # Averaging over the tier's label set is not the same as over all predicted labels.
    rows = tiers == "tail"
    assert got["tail"] != pytest.approx(f1_score(y[rows], preds[rows], average="macro", zero_division=0))


def test_per_tier_f1_skips_absent_tiers():
    y, preds, tiers = _labelled()
    keep = tiers != "mid"
    assert list(M.per_tier_f1(y[keep], preds[keep], tiers[keep])) == ["head", "tail"]


# --------------------------------------------------------------------------- ECE
def _ece_loop(probs, labels, n_bins=15):
    """COURSE.md's definition, one row at a time: bin i holds lo_i < c <= hi_i."""
    n = len(labels)
    edges = [i / n_bins for i in range(n_bins + 1)]
    total = 0.0
    for i in range(n_bins):
        members = [r for r in range(n) if edges[i] < max(probs[r]) <= edges[i + 1]]
        if not members:
            continue
        conf = sum(max(probs[r]) for r in members) / len(members)
        acc = sum(int(np.argmax(probs[r]) == labels[r]) for r in members) / len(members)
        total += len(members) / n * abs(acc - conf)
    return total


@pytest.mark.parametrize("seed", [0, 1])
def test_ece_matches_plain_loop(seed):
    p = _probs(300, 7, seed)
    y = np.random.default_rng(seed).integers(0, 7, 300)
    assert M.ece(p, y) == pytest.approx(_ece_loop(p, y), abs=1e-12)
    assert M.ece(p, y, n_bins=10) == pytest.approx(_ece_loop(p, y, 10), abs=1e-12)


def _edge_probs(conf, k=10):
    """Rows whose top-1 probability is exactly ``conf`` (class 0), rest spread evenly."""
    p = np.full((len(conf), k), 0.0)
    p[:, 0] = conf
    p[:, 1:] = ((1 - np.asarray(conf)) / (k - 1))[:, None]
    return p


def test_confidence_on_a_bin_edge_falls_in_the_lower_bin():
    # 0.2 = 3/15 is an edge: it belongs to (2/15, 3/15], bin 2, not bin 3.
    assert M.ece_bin_index(np.array([0.2, 3 / 15]))[0] == 2
    edges = np.array([k / 15 for k in range(2, 16)])
    np.testing.assert_array_equal(M.ece_bin_index(edges), np.arange(1, 15))
    np.testing.assert_array_equal(M.ece_bin_index(np.nextafter(edges, 2)[:-1]), np.arange(2, 15))
    # End to end: rows exactly at 0.4 (= 6/15) and just above.  In the lower bin
    # they share (1/3, 0.4] with the 0.38 rows; in the upper bin they would not.
    conf = np.array([0.4, 0.4, 0.38, 0.38, 0.6, 0.6 + 1e-9])
    p = _edge_probs(conf)
    y = np.array([0, 1, 1, 1, 0, 1])
    assert M.ece(p, y) == pytest.approx(_ece_loop(p, y), abs=1e-12)
    bins = M.reliability_bins(p, y)
    assert bins.loc[5, "count"] == 4 and bins.loc[8, "count"] == 1 and bins.loc[9, "count"] == 1
    # acc in (1/3, 0.4] = 1/4, mean conf 0.39; 0.6 alone: acc 1; 0.6+1e-9 alone: acc 0.
    want = 4 / 6 * abs(0.25 - 0.39) + 1 / 6 * abs(1 - 0.6) + 1 / 6 * abs(0 - (0.6 + 1e-9))
    assert M.ece(p, y) == pytest.approx(want, abs=1e-12)


def test_ece_cross_checks_with_scipy_binned_statistic():
    # torchmetrics (the usual reference) is not a dependency here.  scipy's
    # binned_statistic bins [lo, hi) instead of (lo, hi]; the two conventions
    # only differ for confidences exactly on an edge, which continuous random
    # confidences never hit (asserted below), so there they must agree.
    p = _probs(5000, 20, seed=3, sharpness=2.5)
    y = np.random.default_rng(3).integers(0, 20, 5000)
    conf, correct = p.max(axis=1), (p.argmax(axis=1) == y).astype(float)
    edges = np.linspace(0, 1, 16)
    assert not np.isin(conf, edges).any()
    acc, _, _ = binned_statistic(conf, correct, "mean", bins=edges)
    mean_conf, _, _ = binned_statistic(conf, conf, "mean", bins=edges)
    count, _, _ = binned_statistic(conf, conf, "count", bins=edges)
    filled = count > 0
    want = (count[filled] / len(y) * np.abs(acc[filled] - mean_conf[filled])).sum()
    assert M.ece(p, y) == pytest.approx(want, abs=1e-12)


def test_ece_of_perfectly_calibrated_and_of_confidently_wrong():
    p = _edge_probs(np.full(10, 0.7))
    y = np.array([0] * 7 + [1] * 3)  # 70% correct at confidence 0.7
    assert M.ece(p, y) == pytest.approx(0.0, abs=1e-12)
    assert M.ece(_edge_probs(np.full(4, 0.9)), np.ones(4, int)) == pytest.approx(0.9)


def test_adaptive_ece_uses_equal_mass_bins():
    rng = np.random.default_rng(4)
    p = _probs(150, 6, seed=4)
    y = rng.integers(0, 6, 150)
    conf, correct = p.max(axis=1), (p.argmax(axis=1) == y)
    order = np.argsort(conf)
    want = sum(abs(correct[c].mean() - conf[c].mean()) * len(c) / 150
               for c in np.split(order, 15))  # 15 bins of exactly 10 rows
    assert M.adaptive_ece(p, y) == pytest.approx(want, abs=1e-12)
    # Skewed confidences: equal-width ECE puts almost everything in one bin,
    # equal-mass still splits the rows evenly, so the two differ.
    p2 = _edge_probs(np.concatenate([np.full(140, 0.95) + rng.uniform(0, 0.01, 140),
                                     rng.uniform(0.3, 0.6, 10)]))
    y2 = (rng.random(150) > 0.8).astype(int)
    assert M.adaptive_ece(p2, y2) != pytest.approx(M.ece(p2, y2))


# --------------------------------------------------------------------------- NLL
def test_nll_matches_definition_and_clips_at_1e_12():
    p = _probs(50, 5, seed=6)
    y = np.random.default_rng(6).integers(0, 5, 50)
    assert M.nll(p, y) == pytest.approx(-np.log(p[np.arange(50), y]).mean(), abs=1e-12)
    zero = np.array([[1.0, 0.0], [0.5, 0.5]])
    assert M.nll(zero, np.array([1, 0])) == pytest.approx((-math.log(1e-12) + math.log(2)) / 2)
    assert math.isfinite(M.nll(zero, np.array([1, 1])))


def test_accuracy():
    assert M.accuracy([0, 1, 2, 2], [0, 1, 1, 2]) == 0.75


# --------------------------------------------------------------------------- JS
def test_js_divergence_properties_and_scipy():
    p, q = _probs(40, 9, seed=7), _probs(40, 9, seed=8)
    js = M.js_divergence(p, q)
    assert js == pytest.approx(M.js_divergence(q, p), abs=1e-15)
    assert M.js_divergence(p, p) == pytest.approx(0.0, abs=1e-12)
    # scipy returns the JS *distance*, the square root of the divergence.
    want = np.mean([jensenshannon(p[i], q[i], base=math.e) ** 2 for i in range(40)])
    assert js == pytest.approx(want, rel=1e-9)
    assert 0.0 <= js <= math.log(2)


def test_js_divergence_of_disjoint_one_hots_is_ln2():
    eye = np.eye(4)
    assert M.js_divergence(eye, np.roll(eye, 1, axis=0)) == pytest.approx(math.log(2), abs=1e-9)


def test_per_tier_js_matches_js_on_each_tier():
    y, _, tiers = _labelled(n=120)
    p, q = _probs(120, 4, seed=9), _probs(120, 4, seed=10)
    got = M.per_tier_js(p, q, tiers)
    for tier, value in got.items():
        assert value == M.js_divergence(p[tiers == tier], q[tiers == tier])


# --------------------------------------------------------------------------- coverage
def test_coverage_table_columns_and_values():
    conf = np.array([0.95, 0.85, 0.75, 0.65, 0.55, 0.45, 0.7, 0.9])
    p = _edge_probs(conf)
    y = np.array([0, 0, 1, 0, 1, 0, 0, 1])
    t = M.coverage_table(p, y)
    assert list(t.columns) == ["threshold", "coverage", "accuracy", "n_covered"]
    assert t["threshold"].tolist() == [0.5, 0.6, 0.7, 0.8, 0.9]
    # confidence >= T is covered: the 0.7 and 0.9 rows count at T = 0.7 and 0.9.
    assert t["n_covered"].tolist() == [7, 6, 5, 3, 2]
    assert t["coverage"].tolist() == pytest.approx([7 / 8, 6 / 8, 5 / 8, 3 / 8, 2 / 8])
    assert t["accuracy"].tolist() == pytest.approx([4 / 7, 4 / 6, 3 / 5, 2 / 3, 1 / 2])
    assert t["n_covered"].dtype.kind == "i"


def test_coverage_table_accuracy_is_nan_when_nothing_is_covered():
    p = _edge_probs(np.array([0.3, 0.4]))
    t = M.coverage_table(p, np.array([0, 1]), thresholds=[0.2, 0.5, 0.99])
    assert t["n_covered"].tolist() == [2, 0, 0]
    assert t["accuracy"].iloc[0] == 0.5
    assert t["accuracy"].iloc[1:].isna().all()
    assert t["coverage"].iloc[1:].tolist() == [0.0, 0.0]


@pytest.mark.parametrize("thresholds", [[], [1.5], [-0.1, 0.5]])
def test_coverage_table_rejects_bad_thresholds(thresholds):
    with pytest.raises(ValueError, match="thresholds"):
        M.coverage_table(_probs(5, 3, 0), np.zeros(5, int), thresholds)


# --------------------------------------------------------------------------- evaluate
def test_evaluate_keys_and_consistency():
    rng = np.random.default_rng(11)
    y, _, tiers = _labelled(n=400, seed=11)
    logits = rng.normal(size=(400, 25)).astype(np.float32)
    logits[np.arange(400), y] += 1.5
    row = M.evaluate(logits, y, tiers)
    assert set(row) == {"n", "accuracy", "macro_f1", "f1_head", "f1_mid", "f1_tail", "ece", "ece_head",
                        "ece_mid", "ece_tail", "nll", "nll_head", "nll_mid", "nll_tail", "adaptive_ece"}
    p = M.softmax(logits)
    assert row["n"] == 400
    assert row["ece"] == M.ece(p, y) and row["nll"] == M.nll(p, y)
    assert row["f1_tail"] == M.per_tier_f1(y, p.argmax(1), tiers)["tail"]
    assert row["macro_f1"] == pytest.approx(f1_score(y, p.argmax(1), average="macro", zero_division=0))
    frame = M.as_frame({"m1": row, "m2": row})
    assert isinstance(frame, pd.DataFrame) and list(frame.index) == ["m1", "m2"]


def test_softmax_is_stable_and_normalised():
    z = np.array([[1e4, 0.0, -1e4], [1.0, 2.0, 3.0]], dtype=np.float16)
    p = M.softmax(z)
    assert p.dtype == np.float64 and np.isfinite(p).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0)


# --------------------------------------------------------------------------- errors
def test_logits_passed_as_probabilities_are_caught():
    logits = np.random.default_rng(12).normal(size=(20, 5))
    y = np.zeros(20, int)
    for fn in (M.ece, M.nll, M.adaptive_ece, M.coverage_table):
        with pytest.raises(ValueError, match="logits"):
            fn(logits, y)


def test_unknown_tier_name_is_named():
    y, preds, tiers = _labelled(n=50)
    tiers = tiers.copy()
    tiers[3] = "Tail"
    with pytest.raises(ValueError, match="'Tail'"):
        M.per_tier_f1(y, preds, tiers)
    with pytest.raises(ValueError, match="tiers"):
        M.per_tier_ece(_probs(50, 25, 0), y, tiers)


@pytest.mark.parametrize("call,match", [
    (lambda: M.ece(np.full((4, 3), 1 / 3), np.zeros(5, int)), "labels"),
    (lambda: M.ece(np.full(3, 1 / 3), np.zeros(3, int)), "2-D"),
    (lambda: M.nll(np.full((4, 3), 1 / 3), np.array([0, 1, 2, 3])), r"labels must lie in \[0, 2\]"),
    (lambda: M.macro_f1([0, 1, 2], [0, 1]), "preds"),
    (lambda: M.macro_f1([0, 1, 2], [0.5, 1, 2]), "preds"),
    (lambda: M.per_tier_f1([0, 1], [0, 1], ["head"]), "tiers"),
    (lambda: M.js_divergence(np.full((2, 3), 1 / 3), np.full((3, 3), 1 / 3)), "same shape"),
    (lambda: M.per_tier_js(np.full((2, 3), 1 / 3), np.full((3, 3), 1 / 3), ["head", "tail"]), "q"),
    (lambda: M.per_class_f1([0, -1, 2], [0, 1, 2]), "labels"),
    (lambda: M.evaluate(np.zeros(5), np.zeros(5, int), ["head"] * 5), "logits"),
])
def test_bad_shapes_and_values_raise_clear_errors(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
