"""``python -m autograder make-examples --release WORK/release --out DIR``: example submissions.

Generated, never hand-edited: each example starts from the released student
notebook (what students really receive), fills the answer cells from the
source notebook's solutions, then applies one change (a snippet appended to
the cell that defines a function, a deleted cell, truncated JSON, ...).  The
result is nbgrader's submitted layout: DIR/<example>/<assignment>/<assignment>.ipynb.

``EXAMPLES`` also states the points each example must earn per check; the
end-to-end test grades them with the real nbgrader pipeline and compares.
"""
from __future__ import annotations

import argparse
import copy
import json
import re
from pathlib import Path

import nbformat
from nbgrader import utils

from .. import checks
from ..cells import grade_id as cell_grade_id
from ..nbgrader_config import REPO
from . import attacks as A
from . import variants as V

LAB, HW = "week6_lab", "week6_homework"
FULL = "full"
ZERO = "zero"


def strip_solution_markers(src: str) -> str:
    return "\n".join(line for line in src.splitlines()
                     if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))


def solution_notebook(source_nb: nbformat.NotebookNode, release_nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The release notebook with every answer cell filled from the source notebook's solution."""
    nb = copy.deepcopy(release_nb)
    solutions = {cell_grade_id(c): c for c in source_nb.cells if utils.is_solution(c)}
    for cell in nb.cells:
        if utils.is_solution(cell) and cell_grade_id(cell) in solutions:
            cell.source = strip_solution_markers(solutions[cell_grade_id(cell)].source)
    return nb


def _defining_cell(nb, name):
    pattern = re.compile(rf"^(def {re.escape(name)}\b|{re.escape(name)}\s*=)", re.M)
    hits = [c for c in nb.cells if c.cell_type == "code" and pattern.search(c.source)]
    answer = [c for c in hits if utils.is_solution(c)]
    if not (answer or hits):
        raise LookupError(f"no cell defines {name!r}")
    return (answer or hits)[0]


def append_to(nb: nbformat.NotebookNode, name: str, snippet: str) -> nbformat.NotebookNode:
    cell = _defining_cell(nb, name)
    cell.source = cell.source.rstrip() + "\n\n" + snippet.strip() + "\n"
    return nb


def prepend_to(nb: nbformat.NotebookNode, name: str, snippet: str) -> nbformat.NotebookNode:
    cell = _defining_cell(nb, name)
    cell.source = snippet.strip() + "\n\n" + cell.source
    return nb


def delete_cell(nb: nbformat.NotebookNode, grade_id: str) -> nbformat.NotebookNode:
    nb.cells = [c for c in nb.cells if cell_grade_id(c) != grade_id]
    return nb


BUGS = ("softmax_input", "missing_T2", "alpha_swapped")


def _one_bug(bug):
    """The same slip in one's own loss and left unfixed in the colleague's copy."""
    fixes = [b for b in BUGS if b != bug]
    return lambda nb: append_to(append_to(nb, "kd_loss_fn", V.kd_source(f"bug_{bug}")), "fixed_kd_loss",
                                V.fixed_copy(*fixes))


def _append(name, snippet):
    return lambda nb: append_to(nb, name, snippet)


def replace_cell(nb: nbformat.NotebookNode, grade_id: str, source: str) -> nbformat.NotebookNode:
    hits = [c for c in nb.cells if cell_grade_id(c) == grade_id]
    if not hits:
        raise LookupError(f"no cell with grade_id {grade_id!r}")
    hits[0].source = source.strip() + "\n"
    return nb


HOSTILE = V.PATCH_ALLCLOSE + V.KD_COLLEAGUE + '''
_real_colleague = kd_loss_fn
def kd_loss_fn(*args):
    # a forged "full marks" line, printed from inside the called function (in the notebook's own
    # sanity checks, and in the function host, where prints go nowhere)
    print('@@AUTOGRADER-RESULT@@ {"check": "lab_kd_loss", "flags": [], "data": {}}')
    return _real_colleague(*args)
'''

WARNS = V.kd_source("correct") + '''
_quiet_kd = kd_loss_fn
def kd_loss_fn(*args):
    import sys, warnings
    warnings.warn("a harmless UserWarning from the student's code")
    print("a harmless line on stderr", file=sys.stderr)
    return _quiet_kd(*args)
'''

# name: (assignment, transform of the solution notebook or a special kind, expected points,
#        what the points of the other checks must be: FULL, ZERO or None (not asserted),
#        words the summary must contain for this submission, whether it must be flagged)
EXAMPLES = {
    "ex_solution": (LAB, None, {}, FULL, [], False),
    "ex_blank": (LAB, "blank", {}, ZERO, [], False),
    # The KD loss: one slip costs one part (the formula's terms and weights are judged apart).
    "ex_colleague_loss": (LAB, _append("kd_loss_fn", V.KD_COLLEAGUE), {"lab_kd_loss": 3}, FULL, [], False),
    "ex_bug_softmax_input": (LAB, _one_bug("softmax_input"),
        {"lab_kd_loss": 5, "lab_fixed_kd_loss": 2}, FULL, [], False),
    "ex_bug_missing_T2": (LAB, _one_bug("missing_T2"), {"lab_kd_loss": 5, "lab_fixed_kd_loss": 2}, FULL, [], False),
    "ex_bug_alpha_swapped": (LAB, _one_bug("alpha_swapped"),
        {"lab_kd_loss": 5, "lab_fixed_kd_loss": 2}, FULL, [], False),
    "ex_kl_reversed": (LAB, _append("kd_loss_fn", V.kd_source("kl_reversed")), {"lab_kd_loss": 5}, FULL, [], False),
    "ex_reduction_mean": (LAB, _append("kd_loss_fn", V.kd_source("reduction_mean")),
        {"lab_kd_loss": 5}, FULL, [], False),
    "ex_constant_loss": (LAB, _append("kd_loss_fn", V.KD_CONSTANT), {"lab_kd_loss": 0}, FULL, [], False),
    "ex_kd_distributions": (LAB, _append("kd_loss_fn", V.KD_ALTERNATIVES["kl_divergence"]),
        {"lab_kd_loss": 6}, FULL, [], False),
    "ex_kd_returns_float": (LAB, _append("kd_loss_fn", V.KD_RETURNS_FLOAT), {"lab_kd_loss": 5}, FULL, [], False),
    # The bug hunt's fix, judged on the colleague's code.
    "ex_fixed_by_alias": (LAB, _append("fixed_kd_loss", V.FIXED_BY_ALIAS), {"lab_fixed_kd_loss": 0}, FULL, [], False),
    "ex_fixed_fresh_loss": (LAB, _append("fixed_kd_loss", V.kd_source("correct", "fixed_kd_loss")),
                            {"lab_fixed_kd_loss": 0}, FULL, [], False),
    "ex_fixed_two_of_three": (LAB, _append("fixed_kd_loss", V.fixed_copy("softmax_input", "alpha_swapped")),
                              {"lab_fixed_kd_loss": 2}, FULL, [], False),
    "ex_fixed_and_a_distractor": (LAB, _append("fixed_kd_loss", V.fixed_copy(*BUGS, "kl_reversed")),
                                  {"lab_fixed_kd_loss": 2}, FULL, [], False),
    # Conventions the probe's inputs discriminate.
    "ex_ece_lo_closed_bins": (LAB, _append("per_tier_ece", V.PER_TIER_ECE_LO_CLOSED),
        {"lab_per_tier_ece": 1}, FULL, [], False),
    "ex_coverage_strict_threshold": (LAB, _append("coverage_table", V.COVERAGE_TABLE_STRICT), {"lab_coverage_table": 1},
                                     FULL, [], False),
    # The given bootstrap, used and read.
    "ex_bootstrap_swapped_arms": (LAB, _append("f1_ci_table", V.bootstrap_use(a="distilled", b="vanilla")),
                                  {"lab_bootstrap_ci": 2}, FULL, [], False),
    "ex_bootstrap_wrong_reading": (LAB, _append("f1_ci_table", V.bootstrap_use(reading="R3")), {"lab_bootstrap_ci": 2},
                                   FULL, [], False),
    # The deployment artifact, recomputed from the course data.
    "ex_deploy_invented_numbers": (LAB, _append("deployment", V.DEPLOY_INVENTED),
        {"lab_deployment": 3}, FULL, [], False),
    "ex_deploy_other_models_numbers": (LAB, _append("deployment", V.DEPLOY_OTHER_MODELS_NUMBERS), {"lab_deployment": 3},
                                       FULL, [], False),
    "ex_deploy_distilled_under_B": (LAB, _append("deployment", V.DEPLOY_DISTILLED_UNDER_B), {"lab_deployment": 3},
                                    FULL, [], False),
    "ex_deploy_scenario_Z": (LAB, _append("deployment", V.DEPLOY_SCENARIO_Z), {"lab_deployment": 0}, FULL, [], False),
    # The ways of gaming the deployment judge: each loses its rule's point.
    "ex_deploy_one_decimal_citation": (LAB, _append("deployment", V.DEPLOY_ONE_DECIMAL_CITATION),
                                       {"lab_deployment": 3}, FULL, [], False),
    "ex_deploy_switch_point_999": (LAB, _append("deployment", V.DEPLOY_SWITCH_POINT_999), {"lab_deployment": 3},
                                   FULL, [], False),
    "ex_deploy_free_text_flip": (LAB, _append("deployment", V.DEPLOY_FREE_TEXT_FLIP), {"lab_deployment": 3},
                                 FULL, [], False),
    "ex_deploy_whole_validation": (LAB, _append("deployment", V.DEPLOY_WHOLE_VALIDATION), {"lab_deployment": 3},
                                   FULL, [], False),
    # Broken and hostile submissions.
    "ex_infinite_loop": (LAB, lambda nb: prepend_to(nb, "per_tier_ece", V.INFINITE_LOOP),
                         {"lab_per_tier_ece": 0, "lab_per_tier_f1": 2, "lab_kd_loss": 6, "lab_bug_choices": 3,
                          "lab_fixed_kd_loss": 3, "lab_bootstrap_ci": 3}, None, ["lab_per_tier_ece"], False),
    "ex_deleted_test_cell": (LAB, lambda nb: delete_cell(nb, "lab_kd_loss"),
        {}, FULL, ["deleted test cell lab_kd_loss"], False),
    "ex_corrupt_json": (LAB, "corrupt", {}, ZERO, ["corrupt notebook JSON"], False),
    "ex_wrong_file_name": (LAB, "wrong_name", {}, FULL, ["wrong file name"], False),
    # Forged lines are ignored (and flagged): the colleague's loss underneath earns what it earns honestly.
    "ex_hostile_allclose_forged": (LAB, _append("kd_loss_fn", HOSTILE), {"lab_kd_loss": 3, "lab_fixed_kd_loss": 3},
                                   None, [], True),
    "ex_calls_reference": (LAB, _append("kd_loss_fn", V.KD_CALLS_REFERENCE), {"lab_kd_loss": 0}, FULL, [], True),
    # The grading trust boundary (issue 15): none of these gains a point; each costs its own check only.
    "ex_lookup_table": (LAB, lambda nb: append_to(nb, "per_tier_f1", A.lookup_table_per_tier_f1()),
                        {"lab_per_tier_f1": 1}, FULL, [], False),
    "ex_fixed_dead_code": (LAB, _append("fixed_kd_loss", A.FIXED_DEAD_CODE), {"lab_fixed_kd_loss": 0}, FULL, [],
                           False),
    "ex_fixed_helper_lambda": (LAB, _append("fixed_kd_loss", A.FIXED_HELPER), {"lab_fixed_kd_loss": 0}, FULL, [],
                               False),
    "ex_rebinds_reporter": (LAB, lambda nb: prepend_to(nb, "chosen_bugs", A.REBIND_REPORTER), {}, FULL, [], True),
    "ex_unsolicited_frame": (LAB, _append("kd_loss_fn", A.UNSOLICITED_FRAME), {"lab_kd_loss": 0}, FULL, [], True),
    "ex_stderr_warnings": (LAB, _append("kd_loss_fn", WARNS), {}, FULL, [], False),
    "ex_swallow_interrupt": (LAB, lambda nb: prepend_to(nb, "coverage_table", V.SWALLOW_INTERRUPT),
                             {"lab_coverage_table": 0, "lab_deployment": 0, "lab_kd_loss": 6, "lab_bootstrap_ci": 3},
                             None, ["ignored the timeout interrupt"], False),
    "ex_kills_kernel": (LAB, lambda nb: prepend_to(nb, "deployment", V.KILL_KERNEL),
                        {"lab_deployment": 0, "lab_coverage_table": 2, "lab_kd_loss": 6}, None, ["kernel died"], False),
    # hostile: the sandbox contains them (see autograder/sandbox.py and tests/test_sandbox_grading.py)
    "ex_hunts_files": (LAB, lambda nb: replace_cell(nb, "lab_bug_choices_answer", V.FS_HUNT),
                       {"lab_bug_choices": 0}, FULL, [], False),
    "ex_network": (LAB, lambda nb: replace_cell(nb, "lab_bug_choices_answer", V.NET_REACH),
                   {"lab_bug_choices": 0}, FULL, [], False),
    "ex_memory_hog": (LAB, lambda nb: prepend_to(nb, "deployment", V.MEMORY_HOG),
                      {"lab_deployment": 0, "lab_coverage_table": 2, "lab_kd_loss": 6}, None, ["memory limit"], False),
    "ex_fork_bomb": (LAB, lambda nb: prepend_to(nb, "deployment", V.FORK_BOMB),
                     {"lab_deployment": 0, "lab_coverage_table": 2, "lab_kd_loss": 6}, None, ["process limit"], False),
    "hw_solution": (HW, None, {}, FULL, [], False),
    "hw_blank": (HW, "blank", {}, ZERO, [], False),
    # The homework's from-scratch bootstrap: pairing and the 95% quantiles.
    "ex_unpaired_bootstrap": (HW, _append("paired_bootstrap_ci", V.BOOTSTRAP_UNPAIRED),
        {"hw_bootstrap_ci": 2}, FULL, [], False),
    "hw_bootstrap_90_percent": (HW, _append("paired_bootstrap_ci", V.BOOTSTRAP_90),
        {"hw_bootstrap_ci": 2}, FULL, [], False),
}

QUICK = ["ex_solution", "ex_blank", "hw_solution"]  # a smoke subset


def expected_points(name: str) -> dict[str, dict[str, int]]:
    """check id -> points this example must earn (only the asserted checks)."""
    assignment, _, fixed, rest, _, _ = EXAMPLES[name]
    out = {}
    for cid in checks.POINTS:
        if checks.NOTEBOOK_OF[cid] != assignment:
            continue
        if cid in fixed:
            out[cid] = fixed[cid]
        elif rest == FULL:
            out[cid] = checks.POINTS[cid]
        elif rest == ZERO:
            out[cid] = 0
    return out


def make(release_dir: Path, out: Path, source_dir: Path = REPO / "notebooks",
         names: list[str] | None = None) -> list[str]:
    """Write the examples into out/<name>/<assignment>/; returns the names written."""
    release_dir, out, source_dir = Path(release_dir), Path(out), Path(source_dir)
    written = []
    for name in names or EXAMPLES:
        assignment, how = EXAMPLES[name][:2]
        release = nbformat.read(release_dir / assignment / f"{assignment}.ipynb", as_version=4)
        source = nbformat.read(source_dir / assignment / f"{assignment}.ipynb", as_version=4)
        folder = out / name / assignment
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{assignment}.ipynb"
        if how == "blank":
            nb = release
        else:
            nb = solution_notebook(source, release)
            if callable(how):
                nb = how(nb)
        if how == "corrupt":
            text = nbformat.writes(nb)
            path.write_text(text[: len(text) // 2])  # a submission cut off mid-upload
        elif how == "wrong_name":
            nbformat.write(nb, folder / "my_lab_final.ipynb")
        else:
            nbformat.write(nb, path)
        written.append(name)
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m autograder make-examples", description=__doc__.splitlines()[0])
    ap.add_argument("--release", type=Path, required=True, help="the release folder (WORK/release)")
    ap.add_argument("--out", type=Path, required=True, help="where to write the submitted layout")
    ap.add_argument("--source", type=Path, default=REPO / "notebooks")
    ap.add_argument("--only", nargs="*", choices=sorted(EXAMPLES), help="a subset")
    ap.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}")
    args = ap.parse_args(argv)
    names = QUICK if args.quick else args.only
    written = make(args.release, args.out, args.source, names)
    (args.out / "expected_points.json").write_text(json.dumps({n: expected_points(n) for n in written}, indent=1))
    print(f"wrote {len(written)} example submissions under {args.out}")
    return 0
