"""The notebooks' first cell: Kaggle vs local, one seed, one loudly-announced data source."""
import os
import warnings

import numpy as np
import pytest

from helpers import artifacts, setup_env


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
    assert setup_env.current_source() == "synthetic"
    assert setup_env.label("Macro F1").endswith(f"[{setup_env.SYNTHETIC_LABEL}]")


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
    assert setup_env.show(pd.DataFrame({"f1": [0.5]}), "Per-tier F1", source="synthetic") is None
    caption = shown[0].caption
    assert caption.startswith("Per-tier F1") and "SYNTHETIC DATA" in caption
    setup_env.show(pd.DataFrame({"f1": [0.5]}), "Per-tier F1", source="hub")
    assert shown[1].caption == "Per-tier F1"
