"""The main job: the week's headline table and plots, from one command.

    python -m helpers demo --out out/ [--source auto|hub|synthetic]

Every model is scored on the *eval half* of validation (``cal_eval_split``),
because that is the only split on which "vanilla + T" is honest: its
temperature is fitted on the other (cal) half.  The per-tier F1 lift's
bootstrap uses the full validation set, as in the lab.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from .. import artifacts, bootstrap, calibration, metrics
from ..course import GRID_NAMES, STUDENT_NAMES

HEADLINE_COLUMNS = ["n", "macro_f1", "f1_head", "f1_mid", "f1_tail", "ece", "nll", "accuracy"]


def headline(sets: dict[str, artifacts.PredictionSet]) -> tuple[pd.DataFrame, float, dict]:
    """The headline table on the eval half, the fitted temperature, and the eval-half probs."""
    labels, tiers = sets["vanilla"].labels, sets["vanilla"].tiers
    cal, ev = calibration.cal_eval_split(len(labels), seed=42)
    T = calibration.fit_temperature(sets["vanilla"].logits[cal], labels[cal])
    logits = {"teacher": sets["teacher_val"].logits, "vanilla": sets["vanilla"].logits,
              "vanilla + T": calibration.apply_temperature(sets["vanilla"].logits, T),
              "distilled": sets["distilled"].logits}
    logits.update({name: sets[name].logits for name in GRID_NAMES if name in sets})
    rows = {name: metrics.evaluate(z[ev], labels[ev], tiers[ev]) for name, z in logits.items()}
    table = metrics.as_frame(rows)[HEADLINE_COLUMNS]
    probs = {name: metrics.softmax(z[ev]) for name, z in logits.items()}
    return table, T, probs


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers demo``: print the headline table and the F1 lift, write the plots (and the notebooks)."""
    parser = argparse.ArgumentParser(prog="python -m helpers demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("out"), help="folder for the plots (default: out/)")
    parser.add_argument("--source", choices=("auto", "hub", "synthetic"), default="auto",
                        help="where the artifacts come from (default: auto = Hub if reachable, else synthetic)")
    parser.add_argument("--skip-notebooks", action="store_true",
                        help="do not execute the two solution notebooks into OUT/notebooks/*.html")
    args = parser.parse_args(argv)

    import matplotlib
    matplotlib.use("Agg")
    from .. import plots

    names = ("teacher_val", *STUDENT_NAMES, *GRID_NAMES)
    sets = {name: artifacts.load(name, source=args.source) for name in names}
    source = sets["vanilla"].source
    banner = ("  [SYNTHETIC DATA: the embedded stand-in, not the course's real artifacts]"
              if source == "synthetic" else "")

    table, T, probs = headline(sets)
    labels, tiers = sets["vanilla"].labels, sets["vanilla"].tiers
    _, ev = calibration.cal_eval_split(len(labels), seed=42)
    with pd.option_context("display.width", 140, "display.float_format", "{:.4f}".format):
        print(f"Headline metrics on the eval half of validation (n = {len(ev)}; "
              f"vanilla + T uses T = {T:.3f} fitted on the cal half){banner}")
        print(table.to_string())

    lift = bootstrap.paired_bootstrap(sets["vanilla"].preds, sets["distilled"].preds, labels, tiers)
    with pd.option_context("display.float_format", "{:+.4f}".format):
        print(f"\nDistilled minus vanilla, per-tier macro F1 (paired bootstrap, 1,000 resamples, full val){banner}")
        print(lift.to_string())

    args.out.mkdir(parents=True, exist_ok=True)
    y_ev = labels[ev]
    figures = {
        "reliability.png": plots.reliability_diagram(
            {k: probs[k] for k in ("teacher", "vanilla", "vanilla + T", "distilled")}, y_ev, tiers[ev],
            source=source),
        "ece_vs_nll.png": plots.ece_nll_scatter(table[["nll", "ece"]], source=source),
        "f1_lift_by_tier.png": plots.tier_delta_bars(lift, metric_name="macro F1", source=source),
        "coverage.png": plots.coverage_curves(
            {k: probs[k] for k in ("teacher", "vanilla", "vanilla + T", "distilled")}, y_ev, source=source),
    }
    table.to_csv(args.out / "headline.csv")
    lift.to_csv(args.out / "f1_lift_by_tier.csv")
    for filename, fig in figures.items():
        plots.save(fig, args.out / filename)
    print(f"\nWrote headline.csv, f1_lift_by_tier.csv and {len(figures)} plots to {args.out.resolve()}/")
    if not args.skip_notebooks:
        run_notebooks(args.out / "notebooks")
    return 0


def run_notebooks(out_dir: Path) -> None:
    """Execute both solution notebooks (the kernel sees this process's data source) and save HTML."""
    from .notebook_run import NOTEBOOKS, execute, write_html

    for name, path in NOTEBOOKS.items():
        nb, seconds = execute(path)
        html = write_html(nb, out_dir / f"{name}.html")
        print(f"Executed {path.relative_to(path.parents[2])} in {seconds:.1f} s -> {html}")


if __name__ == "__main__":
    sys.exit(main())
