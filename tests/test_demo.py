"""The main job: one command prints the headline table and writes the plots."""
from __future__ import annotations

import pandas as pd
import pytest

from helpers.course import GRID_NAMES
from helpers.tools import demo


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    cache = tmp_path_factory.mktemp("cache")
    mp = pytest.MonkeyPatch()
    mp.setenv("COURSE_CACHE", str(cache))
    mp.setenv("HF_HUB_OFFLINE", "1")
    try:
        import io
        from contextlib import redirect_stdout
        buf = io.StringIO()
        with redirect_stdout(buf):
            assert demo.main(["--out", str(out), "--source", "synthetic", "--skip-notebooks"]) == 0
    finally:
        mp.undo()
    return out, buf.getvalue()


def test_prints_the_headline_table_for_every_model(demo_run):
    _, printed = demo_run
    for model in ("teacher", "vanilla", "vanilla + T", "distilled", *GRID_NAMES):
        assert model in printed
    assert "SYNTHETIC DATA" in printed
    assert "macro_f1" in printed and "f1_tail" in printed


def test_writes_plots_and_tables(demo_run):
    out, _ = demo_run
    for name in ("reliability.png", "ece_vs_nll.png", "f1_lift_by_tier.png", "coverage.png"):
        data = (out / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    table = pd.read_csv(out / "headline.csv", index_col=0)
    assert list(table.index[:4]) == ["teacher", "vanilla", "vanilla + T", "distilled"]
    # Temperature scaling cannot move argmax, so it cannot move F1; it must fix ECE.
    assert table.loc["vanilla + T", "macro_f1"] == table.loc["vanilla", "macro_f1"]
    assert table.loc["vanilla + T", "ece"] < table.loc["vanilla", "ece"]
    assert (table["n"] == 3215).all()
