"""The notebooks' first cell: Kaggle vs local, one seed, one loudly-announced data source."""
import os
import warnings
from pathlib import Path

import numpy as np
import pytest

from helpers import artifacts
from helpers.notebook import display, setup_env


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for var in ("HF_HOME", "COURSE_CACHE", "KAGGLE_KERNEL_RUN_TYPE", artifacts.SOURCE_ENV):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(setup_env, "KAGGLE_WORKING", tmp_path / "kaggle" / "working")
    monkeypatch.setattr(setup_env, "ENV", None)
    artifacts.reset_auto_source()
    yield tmp_path
    artifacts.reset_auto_source()


def test_kaggle_puts_both_caches_under_kaggle_working(clean_env, monkeypatch, capsys):
    monkeypatch.setenv("KAGGLE_KERNEL_RUN_TYPE", "Interactive")
    working = setup_env.KAGGLE_WORKING
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", artifacts.SyntheticDataWarning)
        env = setup_env.setup()
    assert env.where == "kaggle"
    assert os.environ["HF_HOME"] == str(working / "hf_cache") and (working / "hf_cache").is_dir()
    assert os.environ["COURSE_CACHE"] == str(working / "course_cache")
    assert env.source == "synthetic"  # offline and nothing cached
    out = capsys.readouterr().out
    assert "Environment: kaggle" in out and "DATA SOURCE: SYNTHETIC" in out


def test_local_run_leaves_the_caches_alone_and_seeds_once(clean_env, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_CACHE", str(clean_env / "cache"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", artifacts.SyntheticDataWarning)
        env = setup_env.setup(seed=7)
    assert env.where == "local" and "HF_HOME" not in os.environ
    first = np.random.rand(3)
    np.random.seed(7)
    assert np.array_equal(first, np.random.rand(3))  # numpy's global stream was seeded with 7
    assert display.current_source() == "synthetic"
    assert display.label("Macro F1").endswith(f"[{display.SYNTHETIC_LABEL}]")


def test_a_forced_source_and_a_bad_one(clean_env, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE", str(clean_env / "cache"))
    monkeypatch.setenv(artifacts.SOURCE_ENV, "synthetic")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", artifacts.SyntheticDataWarning)
        assert setup_env.setup(quiet=True).source == "synthetic"
    with pytest.raises(ValueError, match="source must be 'auto', 'hub' or 'synthetic', got 'cloud'"):
        setup_env.setup(source="cloud")


def test_show_captions_synthetic_tables(clean_env, monkeypatch):
    import IPython.display
    import pandas as pd
    shown = []
    monkeypatch.setattr(IPython.display, "display", shown.append)
    assert display.show(pd.DataFrame({"f1": [0.5]}), "Per-tier F1", source="synthetic") is None
    caption = shown[0].caption
    assert caption.startswith("Per-tier F1") and "SYNTHETIC DATA" in caption
    display.show(pd.DataFrame({"f1": [0.5]}), "Per-tier F1", source="hub")
    assert shown[1].caption == "Per-tier F1"


# --------------------------------------------------------------------------- the install step
# Every case runs with the network blocked: pip is a fake runner, the reachability probe is
# injected (or socket.create_connection refuses), so nothing leaves this machine.
class FakePip:
    def __init__(self, returncode=1, stderr=""):
        self.returncode, self.stderr, self.calls = returncode, stderr, []

    def __call__(self, cmd, **kw):
        self.calls.append(cmd)
        return type("Proc", (), {"returncode": self.returncode, "stdout": "", "stderr": self.stderr})()


NO_DNS = ("ERROR: Could not install packages due to an OSError: HTTPSConnectionPool(host='pypi.org', port=443): "
          "Max retries exceeded (Caused by NewConnectionError('Failed to establish a new connection: "
          "[Errno -3] Temporary failure in name resolution'))")
GIT_PRIVATE = ("fatal: could not read Username for 'https://github.com': No such device or address\n"
               "error: subprocess-exited-with-error")
PUBLIC = "ecbs-week6-helpers @ https://course.example.org/ecbs_week6_helpers-0.1.0-py3-none-any.whl"


@pytest.fixture
def kaggle(monkeypatch, tmp_path):
    monkeypatch.setenv("KAGGLE_KERNEL_RUN_TYPE", "Interactive")
    inputs = tmp_path / "input"
    inputs.mkdir()
    return inputs


def install_error(spec, inputs, pip, online, problem="auto"):
    if problem == "auto":
        problem = setup_env.install_spec_problem(spec)
    with pytest.raises(RuntimeError) as err:
        setup_env.install_helpers(spec, problem=problem, inputs=str(inputs), run=pip, online=online)
    return str(err.value)


def test_no_internet_on_kaggle_names_the_switch_and_the_offline_wheel(kaggle):
    pip = FakePip(stderr=NO_DNS)
    msg = install_error("git+https://github.com/someone/public-helpers.git", kaggle, pip, online=lambda: False)
    assert "no internet connection" in msg
    assert "Settings > Internet: On" in msg
    assert "Add Input > Datasets" in msg and f"{kaggle}/**/ecbs_week6_helpers-*.whl" in msg
    assert "Temporary failure in name resolution" in msg  # pip's own words, last lines


def test_no_internet_is_recognised_from_pips_words_too(monkeypatch, tmp_path):
    monkeypatch.delenv("KAGGLE_KERNEL_RUN_TYPE", raising=False)
    msg = install_error(PUBLIC, tmp_path, FakePip(stderr=NO_DNS), online=lambda: True)
    assert "no internet connection" in msg and "HTTPS_PROXY" in msg
    assert "pip install <path to the wheel>" in msg and "Add Input" not in msg


def test_unreachable_install_source_says_so_and_offers_the_wheel(kaggle):
    pip = FakePip(stderr="ERROR: HTTP error 404 while getting https://course.example.org/ecbs_week6_helpers-0.1.0.whl")
    msg = install_error(PUBLIC.replace("example.org", "uni.edu"), kaggle, pip, online=lambda: True)
    assert "could not be reached or installed" in msg and "HTTP error 404" in msg
    assert "Tell your instructor or TA" in msg and "Offline route" in msg


def test_private_install_source_is_named_as_such(kaggle):
    spec = setup_env.INSTALL_SPEC if setup_env.PRIVATE_REPOSITORY in setup_env.INSTALL_SPEC else \
        f"git+https://{setup_env.PRIVATE_REPOSITORY}.git@main"
    msg = install_error(spec, kaggle, FakePip(stderr=GIT_PRIVATE), online=lambda: True)
    assert "the instructor's private repository" in msg and "could not read Username" in msg
    assert "published student wheel" in msg


@pytest.mark.parametrize("spec", ["", "ecbs-week6-helpers @ https://REPLACE-ME.invalid/helpers.whl",
                                  "<where the student wheel lives>"])
def test_placeholder_install_source_fails_before_pip(kaggle, spec):
    pip = FakePip(returncode=0)
    msg = install_error(spec, kaggle, pip, online=lambda: True)
    assert pip.calls == [] and "placeholder" in msg and "INSTALL_SPEC" in msg and "Offline route" in msg


def test_an_attached_wheel_is_installed_with_internet_off(kaggle):
    wheel = kaggle / "ecbs-week6-wheel" / "ecbs_week6_helpers-0.1.0-py3-none-any.whl"
    wheel.parent.mkdir()
    wheel.write_bytes(b"not really a wheel")
    pip = FakePip(returncode=0)

    def no_network():
        raise AssertionError("an attached wheel must not need the network check")
    got = setup_env.install_helpers("<where the student wheel lives>", problem="placeholder", inputs=str(kaggle),
                                    run=pip, online=no_network)
    assert got == str(wheel) and pip.calls[0][-1] == str(wheel) and pip.calls[0][1:4] == ["-m", "pip", "install"]


def test_an_attached_wheel_that_needs_missing_packages_offline(kaggle):
    wheel = kaggle / "w" / "ecbs_week6_helpers-0.1.0-py3-none-any.whl"
    wheel.parent.mkdir()
    wheel.write_bytes(b"")
    msg = install_error(PUBLIC, kaggle, FakePip(stderr=NO_DNS), online=lambda: False)
    assert "no internet connection (the wheel needs packages this machine lacks)" in msg
    assert "Settings > Internet: On" in msg and "Offline route" not in msg


def test_the_notebooks_first_cell_explains_a_failed_install(kaggle, monkeypatch, tmp_path):
    """The cell as committed, run where helpers is not importable, the network down and pip failing."""
    import importlib.util
    import socket
    import subprocess

    import nbformat
    root = Path(__file__).resolve().parents[1]
    cell = nbformat.read(root / "notebooks" / "week6_lab" / "week6_lab.ipynb", as_version=4).cells[1].source
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "helpers" else
                        real_find_spec(name, *a))
    monkeypatch.chdir(tmp_path)  # no checkout above the working directory

    def refuse(*a, **kw):
        raise OSError(-3, "Temporary failure in name resolution")
    monkeypatch.setattr(socket, "create_connection", refuse)
    pip = FakePip(stderr=NO_DNS)
    monkeypatch.setattr(subprocess, "run", pip)
    cell = cell.replace('inputs="/kaggle/input"', f'inputs="{kaggle}"')
    with pytest.raises(RuntimeError, match="no internet connection") as err:
        exec(compile(cell, "<first cell>", "exec"), {"__name__": "__main__"})
    assert "Settings > Internet: On" in str(err.value) and pip.calls[0][-1] == setup_env.INSTALL_SPEC


def test_release_check_of_install_sources():
    assert setup_env.install_spec_problem(PUBLIC) is None
    assert "placeholder" in setup_env.install_spec_problem("")
    assert "private repository" in setup_env.install_spec_problem(
        f"git+https://{setup_env.PRIVATE_REPOSITORY.upper()}.git")


# --------------------------------------------------------------------------- /kaggle off Kaggle
def test_kaggle_variable_without_a_writable_kaggle_folder_falls_back_to_local(clean_env, monkeypatch, capsys):
    blocker = clean_env / "not_a_folder"
    blocker.write_text("")
    monkeypatch.setattr(setup_env, "KAGGLE_WORKING", blocker / "working")  # cannot be created, even by root
    monkeypatch.setenv("KAGGLE_KERNEL_RUN_TYPE", "Interactive")
    monkeypatch.setenv("COURSE_CACHE", str(clean_env / "cache"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", artifacts.SyntheticDataWarning)
        env = setup_env.setup()
    assert env.where == "local" and env.hf_cache is None and "HF_HOME" not in os.environ
    out = capsys.readouterr().out
    assert "cannot be written" in out and "not a Kaggle machine" in out and "Environment: local" in out


def test_kaggle_variable_for_a_non_root_user_without_kaggle(clean_env, monkeypatch, capsys):
    """The default /kaggle/working where a student's user may not create /kaggle: a note, no PermissionError."""
    monkeypatch.setattr(setup_env, "KAGGLE_WORKING", Path("/kaggle/working"))
    monkeypatch.setenv("KAGGLE_KERNEL_RUN_TYPE", "Interactive")
    monkeypatch.setenv("COURSE_CACHE", str(clean_env / "cache"))
    real_mkdir = Path.mkdir

    def mkdir(self, *a, **kw):
        if str(self).startswith("/kaggle"):
            raise PermissionError(13, "Permission denied", "/kaggle")
        return real_mkdir(self, *a, **kw)
    monkeypatch.setattr(Path, "mkdir", mkdir)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", artifacts.SyntheticDataWarning)
        env = setup_env.setup()
    assert env.where == "local"
    assert "/kaggle/working cannot be written (PermissionError: Permission denied)" in capsys.readouterr().out


def _bwrap_unshare_net_works():
    import shutil
    import subprocess
    if not shutil.which("bwrap"):
        return False
    probe = subprocess.run(["bwrap", "--dev-bind", "/", "/", "--unshare-net", "true"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _bwrap_unshare_net_works(), reason="needs bubblewrap (bwrap) to block the network")
def test_the_offline_wheel_installs_with_the_network_blocked(tmp_path):
    """The offline route: with its dependencies present (as on Kaggle), pip needs no network for the wheel."""
    import json
    import shutil
    import subprocess
    import sys
    root = Path(__file__).resolve().parents[1]
    src = tmp_path / "src"  # a copy, so that the build leaves nothing in the working tree
    shutil.copytree(root / "helpers", src / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(root / name, src / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", str(src),
                    "-w", str(tmp_path)], check=True, capture_output=True, timeout=300)
    wheel = next(tmp_path.glob("ecbs_week6_helpers-*.whl"))
    report = tmp_path / "report.json"
    proc = subprocess.run(["bwrap", "--dev-bind", "/", "/", "--unshare-net", "--", sys.executable, "-m", "pip",
                           "install", "--dry-run", "--quiet", "--report", str(report), str(wheel)],
                          capture_output=True, text=True, timeout=300,
                          env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})  # no checkout egg-info
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert [i["metadata"]["name"] for i in json.loads(report.read_text())["install"]] == ["ecbs-week6-helpers"]
