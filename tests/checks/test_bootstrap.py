"""autograder/checks/bootstrap.py: the homework's paired bootstrap and the lab's use and reading of it, and
the homework probe's draw-for-draw shortcut (it keeps every part's power)."""
from __future__ import annotations

import numpy as np
import pytest
from checkgrading import grade, parts

from autograder import checks, seeding
from autograder.checks import bootstrap as boot
from autograder.checks.runner import DEFAULT_SEED, Runner
from autograder.examples import variants as V


def test_homework_bootstrap_paired_unpaired_quantiles_and_broken():
    assert grade("hw_bootstrap_ci", V.BOOTSTRAP_PAIRED).points == 3
    # Unpaired: charged once, by the pairing part (its centre is right).
    assert parts(grade("hw_bootstrap_ci", V.BOOTSTRAP_UNPAIRED)) == {"form_and_consistent": 1, "matches_reference": 1,
                                                                     "paired": 0}
    # ... on any stream and any drawn seed: an unpaired median carries the unpaired deltas' noise (CI's
    # seed sweep found base 291028859863088068, where seed 42's unpaired median sat 0.22 paired sigma off).
    entry, seed = seeding.expected_for(checks.BY_ID["hw_bootstrap_ci"], 291028859863088068)
    for offset in (0, 1):
        unpaired = V.BOOTSTRAP_UNPAIRED.replace("RandomState(seed)", f"RandomState(seed + {offset})")
        assert parts(grade("hw_bootstrap_ci", unpaired, seed=seed, expected={"hw_bootstrap_ci": entry})) == \
            {"form_and_consistent": 1, "matches_reference": 1, "paired": 0}
    # A 90% interval is told from the 95% one the instructions ask for.
    r = grade("hw_bootstrap_ci", V.BOOTSTRAP_90)
    assert parts(r) == {"form_and_consistent": 1, "matches_reference": 0, "paired": 1}
    assert "90% one" in " ".join(p.message for p in r.parts)
    # A different (valid) random stream stays inside the Monte Carlo tolerance.
    for offset in (1, 12345):
        other_rng = V.BOOTSTRAP_PAIRED.replace("np.random.RandomState(seed)", f"np.random.RandomState(seed + {offset})")
        assert grade("hw_bootstrap_ci", other_rng).points == 3
    swapped = V.BOOTSTRAP_PAIRED.replace("score_fn(arm_b[idx], labels[idx]) - score_fn(arm_a[idx], labels[idx])",
                                         "score_fn(arm_a[idx], labels[idx]) - score_fn(arm_b[idx], labels[idx])")
    r = grade("hw_bootstrap_ci", swapped)
    assert parts(r)["matches_reference"] == 0 and "opposite sign" in " ".join(p.message for p in r.parts)
    lying = V.BOOTSTRAP_PAIRED.replace('"excludes_zero": bool(lo > 0 or hi < 0)', '"excludes_zero": False')
    assert parts(grade("hw_bootstrap_ci", lying))["form_and_consistent"] == 0


LAB_CONTEXT = """
import numpy as np
from helpers import artifacts
TIERS = ("head", "mid", "tail")
vanilla, distilled = artifacts.load("vanilla", "synthetic"), artifacts.load("distilled", "synthetic")
labels, tiers = vanilla.labels, vanilla.tiers
"""


@pytest.mark.parametrize("kw, expected", [
    ({}, {"used_on_the_right_arms": 1, "real_lift_tiers": 1, "tail_reading": 1}),
    ({"a": "distilled", "b": "vanilla"}, {"used_on_the_right_arms": 0}),
    ({"metric": "accuracy"}, {"used_on_the_right_arms": 0}),
    ({"real": "{'head', 'mid', 'tail'}"}, {"real_lift_tiers": 0}),
    ({"reading": "R3"}, {"tail_reading": 0}),
])
def test_lab_bootstrap_use_and_reading(kw, expected, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_SOURCE", "synthetic")
    r = grade("lab_bootstrap_ci", LAB_CONTEXT + V.bootstrap_use(**kw))
    got = parts(r)
    assert {k: got[k] for k in expected} == expected and r.points == 3 - list(expected.values()).count(0), got
    if kw.get("a") == "distilled":
        assert "pass vanilla first" in r.parts[0].message


# --------------------------------------------------------------------------- the probe's draw-for-draw shortcut
def _function(source: str, calls: list[int]):
    """The variant's paired_bootstrap_ci, recording the n_resamples of every call."""
    ns: dict = {}
    exec(compile(source, "<variant>", "exec"), ns)  # noqa: S102 - the course's own example variants
    fn = ns["paired_bootstrap_ci"]

    def recorded(score_fn, arm_a, arm_b, labels, n_resamples=1000, seed=42):
        calls.append(n_resamples)
        return fn(score_fn, arm_a, arm_b, labels, n_resamples, seed)
    return recorded


def _probe(source: str, seed: int = DEFAULT_SEED) -> tuple[dict, list[int]]:
    calls: list[int] = []
    data = boot.probe_hw({"paired_bootstrap_ci": _function(source, calls)}, Runner(seed))
    return data, calls


@pytest.mark.parametrize("seed", [DEFAULT_SEED, 987654321])
def test_documented_stream_is_recognised_draw_for_draw_with_one_small_call(seed):
    data, calls = _probe(V.BOOTSTRAP_PAIRED, seed)
    assert calls == [boot.SAME_DRAWS_RESAMPLES] and data["same_draws"] == boot.SAME_DRAWS_RESAMPLES
    want = boot.documented_protocol(*boot.hw_bootstrap_arms(seed), boot.SAME_DRAWS_RESAMPLES)
    assert all(abs(data["result"]["value"][k] - want[k]) < 1e-12 for k in ("median", "ci_low", "ci_high"))


@pytest.mark.parametrize("name,source", [
    ("90% interval", V.BOOTSTRAP_90),
    ("unpaired", V.BOOTSTRAP_UNPAIRED),
    ("another stream", V.BOOTSTRAP_PAIRED.replace("np.random.RandomState(seed)", "np.random.RandomState(seed + 1)")),
    ("excludes_zero wrong", V.BOOTSTRAP_PAIRED.replace('"excludes_zero": bool(lo > 0 or hi < 0)',
                                                       '"excludes_zero": False')),
])
def test_anything_but_the_documented_protocol_is_asked_again_with_10000_resamples(name, source):
    data, calls = _probe(source)
    assert calls == [boot.SAME_DRAWS_RESAMPLES, boot.HW_BOOT_RESAMPLES], name
    assert "same_draws" not in data, name


def test_the_shortcut_still_separates_90_from_95_and_paired_from_unpaired():
    """Judged end to end on the stored expected values: full marks only for the documented protocol."""
    exp = checks.load_expected("week6_homework")["hw_bootstrap_ci"]
    check = checks.BY_ID["hw_bootstrap_ci"]

    def parts(source):
        data, _ = _probe(source)
        return {p.name: p.points for p in boot.judge_bootstrap(check, data, exp).parts}
    assert parts(V.BOOTSTRAP_PAIRED) == {"form_and_consistent": 1, "matches_reference": 1, "paired": 1}
    assert parts(V.BOOTSTRAP_90) == {"form_and_consistent": 1, "matches_reference": 0, "paired": 1}
    assert parts(V.BOOTSTRAP_UNPAIRED) == {"form_and_consistent": 1, "matches_reference": 1, "paired": 0}


def test_a_same_draws_claim_needs_every_number_and_the_flag():
    want = {"median": -0.2, "ci_low": -0.25, "ci_high": -0.15, "excludes_zero": True}
    assert boot.same_draws({"ok": True, "value": dict(want)}, want)
    assert not boot.same_draws({"ok": True, "value": {**want, "ci_low": -0.25 + 1e-6}}, want)
    assert not boot.same_draws({"ok": True, "value": {**want, "excludes_zero": False}}, want)
    assert not boot.same_draws({"ok": True, "value": {k: v for k, v in want.items() if k != "median"}}, want)
    assert not boot.same_draws({"ok": False, "error": "boom"}, want)


def test_reference_keeps_10000_resamples():
    """The stored reference is the full-size bootstrap (the shortcut is for submissions only)."""
    entry = checks.load_expected("week6_homework")["hw_bootstrap_ci"]
    assert "same_draws" not in entry["reference"]
    a, b, labels = boot.hw_bootstrap_arms(DEFAULT_SEED)
    full = boot.documented_protocol(a, b, labels, boot.HW_BOOT_RESAMPLES)
    assert all(abs(entry["reference"]["result"]["value"][k] - full[k]) < 1e-9 for k in ("median", "ci_low", "ci_high"))


def test_vectorised_replay_draws_the_loops_indices():
    """One randint of shape (k, n) is k calls of size n, for the paired and the unpaired protocol."""
    a, b, labels = boot.hw_bootstrap_arms(DEFAULT_SEED)
    n, score = len(labels), boot.ece_score(15)
    for paired in (True, False):
        rng, loop = np.random.RandomState(42), []
        for _ in range(30):
            ia = rng.randint(0, n, n)
            ib = ia if paired else rng.randint(0, n, n)
            loop.append(score(b[ib], labels[ib]) - score(a[ia], labels[ia]))
        fast = boot.resampled_deltas(None, a, b, labels, 30, 42, paired)
        assert np.allclose(fast, loop, rtol=0, atol=1e-12), paired
