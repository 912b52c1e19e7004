"""Model answers agree with the data they sit beside.

The graders' model answers (the manual cells' sources) name winners, caps met or missed and scenarios.
Each such fact is either a reveal span (rendered from the artifacts) or a claim marker that
``helpers.tools.reveal_claims.CLAIMS`` defines.  These tests execute both solution notebooks (the same run as
tests/test_notebooks.py, shared) and check the model answers against what the solutions computed:
the winner the homework's rule picks, which arm meets scenario B's ECE cap, the scenario chosen, the
carry-over numbers; and that a model answer holds no hand-typed measured number.
"""
import json
import re

import pytest
from test_notebooks import HOMEWORK, LAB, executed, nbg, outputs, read, span_body  # noqa: F401  (fixture)

from helpers.notebook import predict as P
from helpers.tools import reveals

#: Manual cells this suite's content owns (the bug-hunt explanations are judged elsewhere).
OWNED = re.compile(r"^(lab_reconcile_|lab_ece_mechanism|lab_memo_|hw_)")
#: Numbers a model answer may type: constants of the task or the literature, not measurements.
CONSTANTS = {"0.05", "0.70", "0.95", "95%", "0.01", "0.35", "0.1-0.6%", "22-39%", "111%"}
NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:-\d+(?:\.\d+)?)?%|(?<![\w.])\d+\.\d+")


@pytest.fixture(scope="module")
def facts():
    return reveals.compute_facts("synthetic")


def model_answers(path):
    return {nbg(c)["grade_id"]: c.source for c in read(path).cells
            if c.cell_type == "markdown" and nbg(c).get("solution") and nbg(c).get("grade")
            and OWNED.match(nbg(c)["grade_id"])}


def final_state(nb):
    text, _ = outputs(nb)
    (line,) = [row for row in text.splitlines() if row.startswith("@@FINAL@@ ")]
    return json.loads(line.split(" ", 1)[1])


def test_model_answers_type_no_measured_number():
    for path in (LAB, HOMEWORK):
        answers = model_answers(path)
        assert len(answers) >= 5
        for gid, text in answers.items():
            bare = reveals.CLAIM.sub("", reveals.SPAN.sub("", text))
            typed = set(NUMBER.findall(bare)) - CONSTANTS
            assert not typed, f"{gid}: {sorted(typed)} typed by hand; cite it with a reveal span R(...)"


def _executed_facts(facts, nb_lab, nb_hw):
    """The facts the claims read, overwritten with what the executed solutions computed."""
    f = reveals.Facts(facts.source, facts)
    observed = {o["key"]: o["actual"] for path_nb in (nb_lab, nb_hw)
                for o in P.parse_observations(path_nb)}
    f["lift_lands"] = observed["f1_lift_lands"]
    f["most_peaked_tier"] = observed["most_peaked_tier"]
    f["ece_follows_f1"] = observed["ece_follows_f1"]
    f["grid_f1_in_noise"] = observed["grid_f1_in_noise"]
    f["js_least_reduced_tier"] = observed["js_least_reduced_tier"]
    final = final_state(nb_hw)
    f["ece_gap_real"] = observed["t_ece_gap_real"]
    f["boot_ece_distilled_vs_vt_ci_low"] = final["test_b_ece_ci_low"]
    f["repro_fraction"] = final["frac"]
    arms = final["arms"]
    for name, key in (("vanilla", "vanilla"), ("vanilla+T", "vanilla_t"), ("distilled", "distilled"),
                      ("distilled+T", "distilled_t"), (final["GRID_PICK"], final["GRID_PICK"])):
        f[f"eval_{key}_ece"], f[f"eval_{key}_nll"] = arms[name]["ece"], arms[name]["nll"]
    f["grid_pick_b"], f["winner_b"], f["verdict_b"] = final["GRID_PICK"], final["best"], final["verdict"]
    noise = final["noise"]
    for tag, col in (("f1", "macro_f1"), ("f1_tail", "f1_tail"), ("ece", "ece"), ("nll", "nll")):
        f[f"boot_grid_{tag}_ci_low"], f[f"boot_grid_{tag}_ci_high"] = noise[col]["ci_low"], noise[col]["ci_high"]
        f[f"verdict_grid_{tag}"] = str(noise[col]["leader"])
    for tag, col in (("f1", "macro_f1"), ("ece", "ece")):
        f[f"boot_rerun_{tag}_ci_low"], f[f"boot_rerun_{tag}_ci_high"] = (final["rerun"][col]["ci_low"],
                                                                         final["rerun"][col]["ci_high"])
    for key_, (low, high) in final_state(nb_lab)["cal_ci"].items():
        metric, tier = key_.split("_")
        f[f"boot_{metric}_{tier}_ci_low"], f[f"boot_{metric}_{tier}_ci_high"] = low, high
    key = {"vanilla+T": "vanilla_t", "distilled+T": "distilled_t"}.get(final["best"], final["best"])
    f["winner_b_ece"], f["winner_b_nll"] = f[f"eval_{key}_ece"], f[f"eval_{key}_nll"]
    f["winner_b_family"] = "grid" if final["best"].startswith("grid_") else final["best"]
    # The CI-based verdict and the observed prediction agree with each other.
    assert observed["prior_best_recipe"] == ("grid" if final["verdict"].startswith("grid_") else final["verdict"])
    return f, final


def test_model_answer_claims_hold_on_what_the_solutions_computed(executed, facts):  # noqa: F811 (fixture)
    f, final = _executed_facts(facts, executed[LAB][0], executed[HOMEWORK][0])
    for path in (LAB, HOMEWORK):
        for text in model_answers(path).values():
            names = sorted({m.group("name") for m in reveals.CLAIM.finditer(text)})
            reveals.check_claims(names, f)   # raises, naming the claim, when a model answer is wrong


def test_every_claim_students_read_holds_on_what_the_solutions_computed(executed, facts):  # noqa: F811 (fixture)
    """Not only the model answers: the reveal texts and every markdown cell (the grid's, Test B's, the rerun's)."""
    f, _ = _executed_facts(facts, executed[LAB][0], executed[HOMEWORK][0])
    names = set(reveals.claims_in(reveals.REVEAL_FILE))
    for path in (LAB, HOMEWORK):
        names |= set(reveals.claims_in(read(path)))
    assert {"grid_f1_no_leader", "grid_ece_spread_real", "grid_nll_spread_real", "b_leader_tied",
            "ece_improves_every_tier_real", "rerun_gap_in_noise", "kd_t_best_ece"} <= names
    reveals.check_claims(sorted(names), f)


def test_the_homework_ships_what_meets_its_scenario_and_the_answers_name_it(executed, facts):  # noqa: F811
    final = final_state(executed[HOMEWORK][0])
    arms = final["arms"]
    # The solution's choices follow the data: the scenario's rule, on the executed table.
    assert final["SCENARIO"] == "B"
    qualifying = {a: r["nll"] for a, r in arms.items() if r["ece"] <= facts["ece_cap_b"]}
    assert final["best"] == min(qualifying, key=qualifying.get) == final["DEPLOY_MODEL"]
    assert arms[final["DEPLOY_MODEL"]]["ece"] <= facts["ece_cap_b"], "the solution ships an arm over the ECE cap"
    # ... and agree with the facts the model answers are rendered from.
    assert final["best"] == facts["winner_b"] == span_body(HOMEWORK, "winner_b")
    assert final["GRID_PICK"] == facts["grid_pick_b"]
    for arm, key in (("vanilla+T", "vanilla_t"), ("distilled", "distilled"), ("distilled+T", "distilled_t")):
        assert arms[arm]["ece"] == pytest.approx(facts[f"eval_{key}_ece"], abs=1e-4)
        assert arms[arm]["nll"] == pytest.approx(facts[f"eval_{key}_nll"], abs=1e-4)
    assert (arms["distilled"]["ece"] > facts["ece_cap_b"]) == reveals.CLAIMS["distilled_misses_ece_cap"].holds(facts)
    co = final["carry_over"]
    assert co["model"] == final["best"]
    assert co["coverage_at_0.70"] == pytest.approx(facts["winner_b_cov_70"], abs=1e-12)
    assert co["n_covered_at_0.70"] == facts["winner_b_ncov_70"]
    want = facts["winner_b_lowest_t95"]
    assert (co["lowest_threshold_95"] == "none") if want == "none" else co["lowest_threshold_95"] == float(want)
    # Every scenario a model answer names is the one the solution chose (the graders' list of
    # misconceptions after it discusses other scenarios on purpose).
    for gid, text in model_answers(HOMEWORK).items():
        for named in re.findall(r"[Ss]cenario ([ABC])\b", text.split("**For graders")[0]):
            assert named == final["SCENARIO"], f"{gid} names scenario {named}; the solution chose {final['SCENARIO']}"


def test_the_noise_floors_the_students_see_are_the_ones_the_claims_read(executed, facts):  # noqa: F811 (fixture)
    """Each metric's floor in the executed notebooks equals the fact its claims and reveals are rendered from."""
    hw = final_state(executed[HOMEWORK][0])
    for tag, col in (("f1", "macro_f1"), ("f1_tail", "f1_tail"), ("ece", "ece"), ("nll", "nll")):
        row = hw["noise"][col]
        assert (row["max"], row["min"]) == (facts[f"grid_{tag}_max"], facts[f"grid_{tag}_min"]), col
        assert row["ci_low"] == pytest.approx(facts[f"boot_grid_{tag}_ci_low"], abs=1e-12), col
        assert row["ci_high"] == pytest.approx(facts[f"boot_grid_{tag}_ci_high"], abs=1e-12), col
        assert row["leader"] == facts[f"verdict_grid_{tag}"], col
        assert bool(row["outside the noise"]) == (facts[f"grid_{tag}_spread_real"] == "outside the noise"), col
    # ECE is judged against ECE's interval, never F1's: the two floors differ on the same rows.
    assert hw["noise"]["ece"]["ci_low"] != pytest.approx(hw["noise"]["macro_f1"]["ci_low"])
    # Scenario B's verdict is CI-based and is what the model answers name.
    assert hw["verdict"] == facts["verdict_b"]
    assert hw["best"] == facts["leader_b"] == facts["winner_b"]
    assert hw["test_b_ece_ci_low"] == pytest.approx(facts["boot_ece_distilled_vs_vt_ci_low"], abs=1e-12)
    for col, tag in (("macro_f1", "f1"), ("ece", "ece")):
        assert hw["rerun"][col]["ci_low"] == pytest.approx(facts[f"boot_rerun_{tag}_ci_low"], abs=1e-12)
    lab = final_state(executed[LAB][0])
    for t in ("head", "mid", "tail"):
        for metric in ("ece", "nll"):
            low, high = lab["cal_ci"][f"{metric}_{t}"]
            assert (low, high) == (pytest.approx(facts[f"boot_{metric}_{t}_ci_low"], abs=1e-12),
                                   pytest.approx(facts[f"boot_{metric}_{t}_ci_high"], abs=1e-12))
