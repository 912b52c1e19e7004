"""helpers.calibration: temperature scaling and the course's cal/eval split."""
import numpy as np
import pytest
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax

from helpers.calibration import apply_temperature, cal_eval_split, fit_temperature, temperature_nll


def _miscalibrated(T_true, n=3000, k=20, seed=0):
    """Logits whose best temperature is about T_true: labels are drawn from
    softmax(z), and the model reports z * T_true (T_true > 1: over-confident)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=2.0, size=(n, k))
    p = np.exp(log_softmax(z, axis=1))
    y = (p.cumsum(axis=1) < rng.random((n, 1))).sum(axis=1)
    return (z * T_true).astype(np.float32), y


def _nll(logits, y, T):
    # Independent of helpers: scipy's log_softmax in float64.
    return -log_softmax(np.asarray(logits, np.float64) / T, axis=1)[np.arange(len(y)), y].mean()


@pytest.mark.parametrize("T_true", [0.5, 2.0, 3.5])
def test_fit_lands_on_the_bounded_1d_optimum(T_true):
    logits, y = _miscalibrated(T_true, seed=int(T_true * 10))
    T = fit_temperature(logits, y)
    ref = minimize_scalar(lambda t: _nll(logits, y, t), bounds=(0.05, 20.0), method="bounded",
                          options={"xatol": 1e-9})
    assert ref.success
    assert abs(T - ref.x) < 1e-3, (T, ref.x)
    assert T == pytest.approx(T_true, rel=0.15)  # and the optimum is where the data says
    assert _nll(logits, y, T) <= _nll(logits, y, 1.0)


def test_temperature_nll_matches_independent_formula():
    logits, y = _miscalibrated(2.0, n=200)
    for T in (0.3, 1.0, 2.7):
        assert temperature_nll(logits, y, T) == pytest.approx(_nll(logits, y, T), rel=1e-12)


@pytest.mark.parametrize("case", ["separable", "always_wrong", "uninformative"])
def test_fitted_temperature_is_always_positive_and_finite(case):
    rng = np.random.default_rng(1)
    n, k = 400, 5
    y = rng.integers(0, k, n)
    z = rng.normal(size=(n, k))
    if case == "separable":  # NLL keeps falling as T -> 0
        z[np.arange(n), y] += 5.0
    elif case == "always_wrong":  # NLL keeps falling as T -> infinity
        z[np.arange(n), (y + 1) % k] += 5.0
    T = fit_temperature(z, y)
    assert np.isfinite(T) and T > 0
    if case == "separable":
        assert T < 1.0
    elif case == "always_wrong":
        assert T > 1.0


def test_fit_temperature_validates_inputs():
    logits, y = _miscalibrated(2.0, n=50)
    with pytest.raises(ValueError, match="labels"):
        fit_temperature(logits, y[:-1])
    with pytest.raises(ValueError, match="labels"):
        fit_temperature(logits, y + 0.5)
    with pytest.raises(ValueError, match="labels"):
        fit_temperature(logits, np.full(50, 20))
    with pytest.raises(ValueError, match="logits"):
        fit_temperature(logits[0], y[:1])


def test_cal_eval_split_reproduces_the_course_halves():
    cal, ev = cal_eval_split(6430)
    perm = np.random.RandomState(42 + 999).permutation(6430)
    assert len(cal) == len(ev) == 3215
    np.testing.assert_array_equal(cal, perm[:3215])
    np.testing.assert_array_equal(ev, perm[3215:])
    assert np.intersect1d(cal, ev).size == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([cal, ev])), np.arange(6430))


def test_cal_eval_split_other_seed_and_odd_n():
    cal, ev = cal_eval_split(11, seed=7)
    perm = np.random.RandomState(7 + 999).permutation(11)
    np.testing.assert_array_equal(cal, perm[:5])
    np.testing.assert_array_equal(ev, perm[5:])
    assert not np.array_equal(cal_eval_split(6430, seed=0)[0], cal_eval_split(6430)[0])
    for bad in (1, 0, 6430.0, "6430"):
        with pytest.raises(ValueError, match="n must be"):
            cal_eval_split(bad)


@pytest.mark.parametrize("T", [0.3, 1.0, 2.5])
def test_apply_temperature_keeps_argmax_and_returns_float32(T):
    logits, _ = _miscalibrated(2.0, n=500)
    scaled = apply_temperature(logits.astype(np.float16), T)
    assert scaled.dtype == np.float32
    np.testing.assert_array_equal(scaled.argmax(axis=1), logits.astype(np.float16).argmax(axis=1))
    np.testing.assert_allclose(scaled, logits.astype(np.float16).astype(np.float32) / T, rtol=1e-6)


@pytest.mark.parametrize("T", [0, -1.0, float("nan"), float("inf")])
def test_apply_temperature_rejects_non_positive_T(T):
    with pytest.raises(ValueError, match="T must be"):
        apply_temperature(np.zeros((2, 3)), T)


def test_apply_temperature_accepts_numpy_scalars():
    z = np.array([[1.0, 2.0]], dtype=np.float32)
    np.testing.assert_array_equal(apply_temperature(z, np.float32(2.0)), z / 2)


def test_whole_number_float_labels_follow_the_shared_rule():
    # helpers.inputs: whole-number floats are class ids everywhere (as in helpers.metrics).
    logits, y = _miscalibrated(2.0, n=200)
    assert fit_temperature(logits, y.astype(float)) == fit_temperature(logits, y)
    assert temperature_nll(logits, y.astype(np.float32), 1.5) == temperature_nll(logits, y, 1.5)
