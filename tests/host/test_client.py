"""The function host (autograder.host): what graded code can see from inside it, and how the driver
contains a host that breaks the protocol, loops forever or floods its reply.

Sandboxed hosts need bubblewrap (skipped without it); each host start imports torch (a few seconds).
"""
from __future__ import annotations

import os
import shutil
import stat
import time

import pytest

from autograder import seeding
from autograder.host.client import FunctionHost
from autograder.nbgrader_config import REPO

# A graded function that writes a reply frame of its own (sequence number ``seq``) on the host's pipe.
FORGING_CELL = ('import os, struct, sys, json\n'
                'def forge(x, seq):\n'
                '    body = json.dumps({"seq": seq, "result": {"ok": True, "value": 99}}).encode()\n'
                '    os.write(int(sys.argv[-1]), struct.pack(">I", len(body)) + body)\n'
                '    return x\n'
                'def forge_then_stall(x, seq):\n'
                '    import time\n'
                '    forge(x, seq)\n'
                '    time.sleep(0.3)  # the real reply comes long after the forged one\n'
                '    return x\n'
                'def honest(x):\n'
                '    return x + 1\n')

needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")

# Run inside the host: every way a graded function might look for the course's references or secrets.
SNOOP = '''
import glob, importlib.util, inspect, os, sys
import helpers.kd as _hk

def snoop(real_kd, secret):
    out = {"getsource": inspect.getsource(_hk.kd_loss), "file": _hk.__file__}
    try:
        out["real_kd"] = open(real_kd).read()[:50]
    except OSError as exc:
        out["real_kd"] = "unreadable: " + type(exc).__name__
    try:
        out["secret"] = open(secret).read()[:50]
    except OSError as exc:
        out["secret"] = "unreadable: " + type(exc).__name__
    found = []
    for root in [*sys.path, "/"]:
        for path in glob.glob(os.path.join(root or ".", "**", "kd.py"), recursive=root != "/"):
            try:
                text = open(path).read()
            except OSError:
                continue
            if "def kd_loss" in text and "log_softmax" in text.split("def colleague_kd_loss")[0]:
                found.append(path)
    out["references_found"] = found
    spec = importlib.util.spec_from_file_location("_copy", _hk.__file__)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    try:
        mod.kd_loss(None, None, None)
        out["importlib"] = "ran"
    except Exception as exc:
        out["importlib"] = str(exc)
    return out
'''


@needs_bwrap
def test_graded_code_finds_no_reference_and_no_secret(tmp_path):
    secret = tmp_path / "work" / seeding.SECRET_NAME
    seeding.course_secret(secret)
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    host = FunctionHost(sandbox=True, call_timeout=120)
    try:
        host.add_cell("c", SNOOP)
        res = host.call("c", "snoop", (str(REPO / "helpers" / "kd.py"), str(secret)), "plain")
    finally:
        host.close()
    assert res["ok"], res
    v = res["value"]
    assert "is not available to graded code" in v["getsource"], v["getsource"]
    assert v["real_kd"].startswith("unreadable") and v["secret"].startswith("unreadable"), v
    assert v["references_found"] == [], v["references_found"]
    assert "is not available to graded code" in v["importlib"]


def test_unsolicited_frame_is_a_violation_and_the_next_call_is_unaffected():
    host = FunctionHost(sandbox=False, call_timeout=60)
    try:
        host.add_cell("c", FORGING_CELL)
        res = host.call("c", "forge", (1, 99), "plain")
        assert not res["ok"] and res.get("violation"), res
        assert host.call("c", "honest", (1,), "plain") == {"ok": True, "value": 2}
    finally:
        host.close()


def test_huge_reply_and_infinite_loop_fail_that_call_only():
    cell = ('def huge(n):\n    return "x" * n\n'
            'def forever(x):\n    while True:\n        pass\n'
            'def honest(x):\n    return x * 2\n')
    host = FunctionHost(sandbox=False, call_timeout=20, max_frame=1 << 16)
    try:
        host.add_cell("c", cell)
        res = host.call("c", "huge", (1 << 20,), "plain")
        assert not res["ok"] and res.get("violation") and "bytes" in res["error"], res
        res = host.call("c", "forever", (1,), "plain")
        assert not res["ok"] and res.get("interrupted") and "time limit" in res["error"], res
        assert host.call("c", "honest", (3,), "plain") == {"ok": True, "value": 6}
    finally:
        host.close()


def test_a_cell_is_run_statement_by_statement_after_the_preamble():
    cell = ("def f(x):\n    return float(np.sum(x)) + len(TIERS)\n"
            "f(undefined_data)\n"                      # fails in the host (no notebook data): recorded, skipped
            "def g(x):\n    return f(x) * 2\n")
    host = FunctionHost(sandbox=False, call_timeout=60)
    try:
        host.add_cell("c", cell)
        import numpy as np
        assert host.call("c", "g", (np.ones(3),), "plain") == {"ok": True, "value": 12.0}
        assert any("undefined_data" in e for e in host.cell_errors["c"])
        res = host.call("c", "missing", (), "plain")
        assert not res["ok"] and "no object named 'missing'" in res["error"]
    finally:
        host.close()


def test_seed_is_stable_for_a_submission_and_new_for_a_resubmission(tmp_path):
    secret = seeding.course_secret(tmp_path / "s")
    assert seeding.course_secret(tmp_path / "s") == secret  # created once, then read
    a = seeding.submission_seed(secret, "week6_lab", "ana", "d1")
    assert a == seeding.submission_seed(secret, "week6_lab", "ana", "d1")
    assert a != seeding.submission_seed(secret, "week6_lab", "ana", "d2")
    assert a != seeding.submission_seed(secret, "week6_lab", "bob", "d1")
    assert a != seeding.submission_seed(b"another course secret of enough length", "week6_lab", "ana", "d1")
    with pytest.raises(ValueError, match="at least 32"):
        (tmp_path / "short").write_text("abc")
        seeding.course_secret(tmp_path / "short")
    assert os.access(tmp_path / "s", os.R_OK)


def test_a_non_editable_helpers_install_is_masked_in_the_host_sandbox(tmp_path, monkeypatch):
    """A helpers package installed into site-packages is covered by an empty folder in the host's view."""
    import sys

    from autograder import bwrap
    site_dir = tmp_path / "lib" / "site-packages"
    (site_dir / "helpers").mkdir(parents=True)
    (site_dir / "helpers" / "kd.py").write_text("def kd_loss(): ...\n")
    monkeypatch.setattr(sys, "path", [*sys.path, str(site_dir)])
    assert str(site_dir / "helpers") in bwrap.masked_helpers()
    args = bwrap.host_bwrap_args(bwrap="bwrap", lib_dir=tmp_path / "hostlib", cwd=tmp_path / "scratch")
    i = args.index(str(site_dir / "helpers"))
    assert args[i - 1] == "--tmpfs"
    assert str(REPO) not in args and str(REPO / "helpers") not in args  # the checkout is never bound


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


def test_a_prepared_host_yields_the_cpu_to_the_kernel_and_a_restarted_one_does_not():
    from autograder.host.client import PREPARED_NICE, prepare_host, take_prepared
    prepare_host(sandbox=False, call_timeout=10.0)
    host = take_prepared(sandbox=False, call_timeout=10.0)
    try:
        base, pid = os.getpriority(os.PRIO_PROCESS, 0), host.proc.pid
        deadline = time.monotonic() + 10  # `nice` lowers the priority, then becomes the host
        while os.getpriority(os.PRIO_PROCESS, pid) == base and time.monotonic() < deadline:
            time.sleep(0.02)
        assert os.getpriority(os.PRIO_PROCESS, pid) == min(base + PREPARED_NICE, 19)
        host.start()  # as after a failure: the judge is waiting for this one
        assert os.getpriority(os.PRIO_PROCESS, host.proc.pid) == base
    finally:
        host.close()


def test_a_forged_reply_with_the_right_number_is_still_a_violation():
    """No call waits for a second frame; the forged reply is caught by the fence after the check's last call,
    however late the real reply comes."""
    host = FunctionHost(sandbox=False, call_timeout=60)
    try:
        host.add_cell("c", FORGING_CELL)
        assert host.call("c", "honest", (1,), "plain") == {"ok": True, "value": 2}
        assert host.fence() is None  # an honest host: nothing more came
        for forger in ("forge", "forge_then_stall"):
            res = host.call("c", forger, (1, host.seq + 1), "plain")  # this call's own number, forged first
            # Caught in the call when the real reply was already waiting, else by the fence: never accepted.
            assert res.get("violation") or "protocol violation" in (host.fence() or ""), (forger, res)
            assert host.proc is None  # killed; the next request starts a fresh host
            assert host.call("c", "honest", (2,), "plain") == {"ok": True, "value": 3}
        assert host.fence() is None
    finally:
        host.close()


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
