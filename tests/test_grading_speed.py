"""The grading-speed changes keep every check's power: the homework bootstrap's draw-for-draw shortcut,
the prepared function host and the host's frame checks (issue 19).  No time is asserted here (benchmarks/
does that; the per-phase recording is tested in test_timings.py)."""
from __future__ import annotations

import numpy as np
import pytest

from autograder import checks
from autograder.checks import bootstrap as boot
from autograder.checks.runner import DEFAULT_SEED, Runner
from autograder.examples import variants as V


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


def test_a_prepared_host_serves_one_submission_only():
    from autograder.host.client import discard_prepared, prepare_host, take_prepared
    prepare_host(sandbox=False, call_timeout=10.0)
    host = take_prepared(sandbox=False, call_timeout=10.0)
    try:
        assert host is not None and host.proc is not None
        assert take_prepared(sandbox=False, call_timeout=10.0) is None  # never handed out twice
    finally:
        host.close()
    assert host.proc is None
    # Other options than the judge's: not used, and stopped.
    prepare_host(sandbox=False, call_timeout=10.0)
    assert take_prepared(sandbox=False, call_timeout=99.0) is None
    # One nobody took is closed by the worker after the autograde.
    prepare_host(sandbox=False, call_timeout=10.0)
    from autograder.host import client
    left = client._PREPARED["host"]
    discard_prepared()
    assert left.proc is None and not left.root.exists() and take_prepared(sandbox=False, call_timeout=10.0) is None


def test_the_judge_uses_the_prepared_host_and_closes_it():
    """judge_notebook takes the worker's host for its function checks and closes it at the end."""
    import nbformat

    from autograder.hidden_tests import judge_notebook
    from autograder.host import client
    test = nbformat.v4.new_code_cell("### BEGIN HIDDEN TESTS\n# graded outside\n### END HIDDEN TESTS")
    test.metadata["nbgrader"] = {"grade": True, "grade_id": "hw_bootstrap_ci", "locked": True, "solution": False,
                                 "points": 3, "schema_version": 3}
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(V.BOOTSTRAP_PAIRED), test])
    client.prepare_host(sandbox=False, call_timeout=60.0)
    prepared = client._PREPARED["host"]
    results, _, _ = judge_notebook(nb, "week6_homework", host_options={"sandbox": False, "call_timeout": 60.0})
    assert "host" not in client._PREPARED and prepared.proc is None  # taken, then closed with the run
    assert results["hw_bootstrap_ci"].points == 3


def test_a_forged_reply_with_the_right_number_is_still_a_violation():
    """No call waits for a second frame any more; the forged reply is caught after the check's last call."""
    from autograder.host.client import FunctionHost
    cell = ('import os, struct, sys, json\n'
            'def forge(x, seq):\n'
            '    body = json.dumps({"seq": seq, "result": {"ok": True, "value": 99}}).encode()\n'
            '    os.write(int(sys.argv[-1]), struct.pack(">I", len(body)) + body)\n'
            '    return x\n'
            'def honest(x):\n'
            '    return x + 1\n')
    host = FunctionHost(sandbox=False, call_timeout=60)
    try:
        host.add_cell("c", cell)
        assert host.call("c", "honest", (1,), "plain") == {"ok": True, "value": 2}
        assert host.stray_frame() is None  # an honest host: nothing more came
        res = host.call("c", "forge", (1, host.seq + 1), "plain")  # this call's own number, forged first
        # Caught in the call when the real reply was already waiting, else after it: never accepted quietly.
        assert res.get("violation") or "protocol violation" in (host.stray_frame(0.5) or ""), res
        assert host.proc is None  # killed; the next request starts a fresh host
        assert host.call("c", "honest", (2,), "plain") == {"ok": True, "value": 3}
    finally:
        host.close()


def test_a_late_stray_frame_zeroes_the_check_it_came_from(monkeypatch):
    import nbformat

    from autograder.hidden_tests import judge_notebook
    from autograder.host.client import FunctionHost
    monkeypatch.setattr(FunctionHost, "stray_frame", lambda self, wait=0.05: "protocol violation: a late frame")
    test = nbformat.v4.new_code_cell("### BEGIN HIDDEN TESTS\n# graded outside\n### END HIDDEN TESTS")
    test.metadata["nbgrader"] = {"grade": True, "grade_id": "hw_bootstrap_ci", "locked": True, "solution": False,
                                 "points": 3, "schema_version": 3}
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(V.BOOTSTRAP_PAIRED), test])
    results, _, flags = judge_notebook(nb, "week6_homework", host_options={"sandbox": False, "call_timeout": 60.0})
    assert results["hw_bootstrap_ci"].points == 0 and any("a late frame" in f for f in flags)


@pytest.mark.parametrize("warm", [(), ("json.tool", "no_such_module_anywhere")])
def test_a_host_imports_its_warm_modules_before_the_first_request(warm):
    """Only what it was asked for (the lab's hosts import nothing extra); a missing module is skipped."""
    from autograder.host.client import FunctionHost
    host = FunctionHost(sandbox=False, call_timeout=60, warm_imports=warm)
    try:
        host.add_cell("c", "import sys\ndef loaded(name):\n    return name in sys.modules\n")
        assert host.call("c", "loaded", ("json.tool",), "plain") == {"ok": True, "value": bool(warm)}
    finally:
        host.close()
