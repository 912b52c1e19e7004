"""helpers.ranking: a leader is named only when the same metric's paired bootstrap separates it from every arm."""
import numpy as np
import pytest

from helpers import bootstrap, metrics
from helpers.ranking import TIE, leader_or_tie, metric_value, rank_against_leader


def _arms(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 5, n)
    tiers = np.where(y < 3, "head", "tail")

    def arm(p_ok, sharp):
        z = rng.normal(size=(n, 5))
        ok = rng.random(n) < p_ok
        z[np.arange(n), np.where(ok, y, (y + 1) % 5)] += sharp
        return metrics.softmax(z)
    return y, tiers, {"strong": arm(0.8, 3.0), "weak": arm(0.4, 3.0), "strong_again": None}


def test_a_clear_leader_is_named_and_a_copy_is_a_tie():
    y, tiers, arms = _arms()
    arms["strong_again"] = arms["strong"].copy()
    table = rank_against_leader({"strong": arms["strong"], "weak": arms["weak"]}, y, "macro_f1", n_resamples=200)
    assert table.index[0] == "strong" and bool(table.loc["weak", "separated"])
    assert table.loc["weak", "ci_high"] < 0 and leader_or_tie(table) == "strong"
    # An arm identical to the leader can never be separated from it: the honest answer is a tie.
    tied = rank_against_leader({"strong": arms["strong"], "copy": arms["strong_again"], "weak": arms["weak"]}, y,
                               "accuracy", n_resamples=200)
    assert leader_or_tie(tied) == TIE and not tied.loc["copy", "separated"]


@pytest.mark.parametrize("metric", ["ece", "nll"])
def test_lower_is_better_metrics_rank_lowest_first_on_their_own_bootstrap(metric):
    y, _, arms = _arms()
    flat = metrics.softmax(np.log(arms["strong"]) / 4.0)      # same argmax, badly underconfident
    table = rank_against_leader({"flat": flat, "strong": arms["strong"]}, y, metric, n_resamples=200)
    assert table.index[0] == "strong" and table.loc["flat", "gap"] > 0
    # The gap's CI is exactly the course's paired bootstrap of the same metric (leader as the baseline).
    ci = bootstrap.paired_bootstrap(arms["strong"], flat, y, None, metric=metric, n_resamples=200).loc["all"]
    assert (table.loc["flat", "ci_low"], table.loc["flat", "ci_high"]) == (ci["ci_low"], ci["ci_high"])
    assert table.loc["flat", "value"] == pytest.approx(metric_value(flat, y, metric))


def test_a_tier_ranks_on_that_tiers_rows_only():
    y, tiers, arms = _arms()
    table = rank_against_leader({"strong": arms["strong"], "weak": arms["weak"]}, y, "macro_f1", tiers=tiers,
                                tier="tail", n_resamples=100)
    rows = tiers == "tail"
    want = metrics.macro_f1(y[rows], arms["weak"][rows].argmax(axis=1), classes=np.unique(y[rows]))
    assert table.loc["weak", "value"] == pytest.approx(want)


def test_errors_name_the_argument_and_the_fix():
    y, _, arms = _arms(200)
    with pytest.raises(ValueError, match="metric must be one of"):
        rank_against_leader({"a": arms["strong"], "b": arms["weak"]}, y, "f1")
    with pytest.raises(ValueError, match="at least two arms"):
        rank_against_leader({"a": arms["strong"]}, y, "nll")
    with pytest.raises(ValueError, match="needs `tiers`"):
        rank_against_leader({"a": arms["strong"], "b": arms["weak"]}, y, "nll", tier="tail")
    with pytest.raises(ValueError, match="pass softmax"):
        rank_against_leader({"a": y, "b": y}, y, "ece")
    with pytest.raises(ValueError, match="rank_against_leader result"):
        leader_or_tie(rank_against_leader({"a": arms["strong"], "b": arms["weak"]}, y, "nll",
                                          n_resamples=50).iloc[:1])
