"""helpers.inputs: one rule per kind of input, the same in every analysis module."""
import numpy as np
import pytest

from helpers import bootstrap, calibration, course, inputs, metrics, plots

PROBS = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.5, 0.25, 0.25]])
LABELS = np.array([0, 1, 2, 1])
TIERS = np.array(["head", "mid", "tail", "head"])


def test_whole_number_floats_are_class_ids_and_come_back_as_int64():
    y = inputs.check_labels([0.0, 2.0, 1.0], n_rows=3, n_classes=3)
    assert y.dtype == np.int64 and y.tolist() == [0, 2, 1]
    ints = np.array([2, 0], dtype=np.int32)
    assert inputs.check_labels(ints) is not None and inputs.check_labels(ints).dtype == np.int32


@pytest.mark.parametrize("bad", [[0.5, 1.0], [np.nan, 1.0], [np.inf, 0.0], [True, False], ["a", "b"]])
def test_other_dtypes_are_refused_naming_the_argument_and_the_fix(bad):
    with pytest.raises(inputs.LabelDtypeError, match=r"preds must hold integer class ids.*astype\(int\)"):
        inputs.check_labels(bad, name="preds")


def test_the_dtype_error_is_caught_as_either_earlier_type():
    for kind in (TypeError, ValueError):
        with pytest.raises(kind):
            inputs.check_labels([0.5])


def test_shape_count_and_range_errors_say_expected_and_given():
    with pytest.raises(ValueError, match=r"labels must be 1-D, got shape \(2, 2\)"):
        inputs.check_labels([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match=r"one entry per row \(3\), got 2"):
        inputs.check_labels([0, 1], n_rows=3)
    with pytest.raises(ValueError, match=r"must lie in \[0, 2\], got values from 0 to 3"):
        inputs.check_labels([0, 3], n_classes=3)
    with pytest.raises(ValueError, match=r"softmax\(logits\)"):
        inputs.check_probs([[2.0, -1.0]])
    with pytest.raises(ValueError, match=r"2-D \(n_rows > 0, n_classes\), got shape \(0, 3\)"):
        inputs.check_logits(np.zeros((0, 3)), min_rows=1)
    with pytest.raises(ValueError, match=r"got unknown name\(s\) \['Tail'\]"):
        inputs.check_tiers(["head", "Tail"], 2)
    with pytest.raises(ValueError, match="n_bins must be a positive integer, got True"):
        inputs.check_positive_int(True, "n_bins")


def test_every_module_applies_the_same_label_rule():
    """Whole-number floats give the integer answer; fractional floats are refused, in every module."""
    as_float = LABELS.astype(float)
    logits = np.log(PROBS)
    pairs = [
        (lambda y: metrics.ece(PROBS, y, n_bins=5), "labels"),
        (lambda y: metrics.per_tier_f1(y, PROBS.argmax(1), TIERS), "labels"),
        (lambda y: calibration.temperature_nll(logits, y, 1.3), "labels"),
        (lambda y: bootstrap.paired_bootstrap(PROBS, PROBS[::-1], y, None, "nll", n_resamples=5)
         .to_numpy().tolist(), "labels"),
    ]
    for fn, name in pairs:
        assert fn(as_float) == fn(LABELS)
        with pytest.raises(inputs.LabelDtypeError, match=name):
            fn(LABELS + 0.5)
    with pytest.raises(inputs.LabelDtypeError, match="labels"):
        plots.coverage_curves({"m": PROBS}, LABELS + 0.5)


def test_modules_share_the_checks_instead_of_copies():
    # One implementation: the modules call helpers.inputs, not private copies of it.
    for module in (metrics, calibration, bootstrap, plots):
        assert not [n for n in vars(module) if n.startswith("_check_")], module.__name__
    assert metrics.TIERS is course.TIERS  # the students' re-export of the one definition
