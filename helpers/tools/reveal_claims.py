"""The qualitative claims the notebooks make, each a test on the facts.

Every sentence in the notebooks (and in the reveal texts, ``helpers/reveal_text.b64``) that reads a
result ("the lift lands on the head") carries a ``<!-- claim:name -->`` marker;
:data:`CLAIMS` says what the sentence asserts and how to check it on the facts
of :func:`helpers.tools.reveal_facts.compute_facts`.  A contradicted claim stops
``python -m helpers reveals`` before anything is written.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .. import metrics
from .reveal_facts import Facts

__all__ = ["Claim", "CLAIMS", "ClaimError", "check_claims"]


class ClaimError(RuntimeError):
    """The data contradicts a qualitative claim the notebooks make."""


@dataclass(frozen=True)
class Claim:
    text: str
    holds: Callable[[Facts], bool]


def _every_tier(pred):
    return lambda f: all(pred(f, t) for t in metrics.TIERS)


CLAIMS: dict[str, Claim] = {
    "teacher_tail_lowest": Claim(
        "the teacher's tail F1 is far below its head and mid F1",
        lambda f: f["teacher_f1_tail"] < f["teacher_f1_mid"] < f["teacher_f1_head"]),
    "head_most_peaked": Claim("the teacher is most peaked (lowest entropy) on the head",
                              lambda f: f["most_peaked_tier"] == "head"),
    "kd_lifts_f1": Claim("the distilled student's macro F1 is above vanilla's",
                         lambda f: f["kd_lift"] > 0),
    "lift_lands_on_head": Claim("the F1 lift lands on the head (only the head's CI excludes zero)",
                                lambda f: f["lift_lands"] == "head"),
    "tail_lift_in_noise": Claim("the tail's F1 delta CI includes zero",
                                lambda f: not f["boot_f1_tail_excludes_zero"]),
    "mid_lift_in_noise": Claim("the mid tier's F1 delta CI includes zero",
                               lambda f: not f["boot_f1_mid_excludes_zero"]),
    "ece_improves_every_tier": Claim("KD lowers ECE on every tier",
                                     _every_tier(lambda f, t: f[f"distilled_ece_{t}"] < f[f"vanilla_ece_{t}"])),
    "nll_improves_every_tier": Claim("KD lowers NLL on every tier",
                                     _every_tier(lambda f, t: f[f"distilled_nll_{t}"] < f[f"vanilla_nll_{t}"])),
    "ece_does_not_follow_f1": Claim("per-tier ECE does not follow the per-tier F1 pattern",
                                    lambda f: f["ece_follows_f1"] == "no"),
    "student_tail_below_teacher": Claim("both students' tail F1 stays below the teacher's",
                                        lambda f: max(f["vanilla_f1_tail"], f["distilled_f1_tail"])
                                        < f["teacher_f1_tail"]),
    "data_shift_beats_kd": Claim("the data shift bought more macro F1 than KD did",
                                 lambda f: f["data_shift"] > f["kd_lift"] > 0),
    "tscaling_beats_kd_on_ece": Claim("vanilla + T has lower ECE than distilled on the eval half",
                                      lambda f: f["eval_vanilla_t_ece"] < f["eval_distilled_ece"]),
    "kd_wins_nll": Claim("distilled has lower NLL than vanilla + T on the eval half",
                         lambda f: f["eval_distilled_nll"] < f["eval_vanilla_t_nll"]),
    "tscaling_keeps_f1": Claim("temperature scaling leaves macro F1 unchanged",
                               lambda f: abs(f["eval_vanilla_t_f1"] - f["eval_vanilla_f1"]) < 1e-12),
    "repro_fraction_above_one": Claim("T-scaling reproduces more than 100% of KD's ECE gain",
                                      lambda f: f["repro_fraction"] > 1.0),
    "vanilla_overconfident": Claim("vanilla's raw ECE is the worst of the three arms",
                                   lambda f: f["eval_vanilla_ece"] > max(f["eval_vanilla_t_ece"],
                                                                         f["eval_distilled_ece"])),
    "js_distilled_closer_every_tier": Claim(
        "the distilled student is closer to the teacher (JS) on every tier",
        _every_tier(lambda f, t: f[f"js_distilled_{t}"] < f[f"js_vanilla_{t}"])),
    "grid_f1_no_leader": Claim("no grid config beats every other one on macro F1 outside the bootstrap noise",
                               lambda f: f["verdict_grid_f1"] == "tie"),
    "grid_ece_spread_real": Claim("the grid's ECE spread is outside the noise: the paired-bootstrap CI of the "
                                  "ECE difference, worst minus best config, excludes zero",
                                  lambda f: f["boot_grid_ece_ci_low"] > 0),
    "grid_nll_spread_real": Claim("the grid's NLL spread is outside the noise (its own paired-bootstrap CI)",
                                  lambda f: f["boot_grid_nll_ci_low"] > 0),
    "grid_tail_spread_in_noise": Claim("the grid's tail-F1 spread is inside the noise (its own paired-bootstrap CI)",
                                       lambda f: f["boot_grid_f1_tail_ci_low"] <= 0),
    "rerun_gap_in_noise": Claim("the two runs of T_d 4, alpha 0.7 (distilled, grid_Td4_a70) differ inside the "
                                "row-bootstrap noise on macro F1 and ECE",
                                lambda f: f["boot_rerun_f1_ci_low"] <= 0 <= f["boot_rerun_f1_ci_high"]
                                and f["boot_rerun_ece_ci_low"] <= 0 <= f["boot_rerun_ece_ci_high"]),
    "ece_improves_every_tier_real": Claim("KD lowers ECE on every tier outside the noise (per-tier ECE CI below 0)",
                                          _every_tier(lambda f, t: f[f"boot_ece_{t}_ci_high"] < 0)),
    "nll_improves_every_tier_real": Claim("KD lowers NLL on every tier outside the noise (per-tier NLL CI below 0)",
                                          _every_tier(lambda f, t: f[f"boot_nll_{t}_ci_high"] < 0)),
    "b_leader_tied": Claim("scenario B's NLL leader is tied, within noise, with another capped arm",
                           lambda f: f["verdict_b"] == "tie"),
    "c_no_winner": Claim("no recipe beats the others on tail F1 outside the noise (scenario C)",
                         lambda f: f["verdict_c"] == "tie"),
    "tail_ci_wider_than_rule": Claim("the eval half's tail-F1 CI is wider than 0.02",
                                     lambda f: f["boot_tail_f1_eval_ci_width"] > 0.02),
    "kd_t_best_ece": Claim("distilled + T has the lowest ECE of the eval-half arms",
                           lambda f: f["eval_distilled_t_ece"] < min(f["eval_vanilla_t_ece"], f["eval_distilled_ece"])),
    "kd_t_beats_kd_nll": Claim("distilled + T has lower NLL than raw distilled on the eval half",
                               lambda f: f["eval_distilled_t_nll"] < f["eval_distilled_nll"]),
    "tscaling_lowers_nll": Claim("vanilla + T has lower NLL than raw vanilla on the eval half",
                                 lambda f: f["eval_vanilla_t_nll"] < f["eval_vanilla_nll"]),
    "distilled_misses_ece_cap": Claim("the lab's distilled student misses scenario B's ECE cap on the eval half",
                                      lambda f: f["eval_distilled_ece"] > f["ece_cap_b"]),
    "vanilla_t_meets_ece_cap": Claim("vanilla + T meets scenario B's ECE cap on the eval half",
                                     lambda f: f["eval_vanilla_t_ece"] <= f["ece_cap_b"]),
    "winner_b_meets_cap": Claim("the recipe scenario B ships meets the ECE cap",
                                lambda f: f["winner_b_ece"] <= f["ece_cap_b"]),
    "winner_b_not_vanilla_t": Claim("scenario B's winner is not vanilla + T",
                                    lambda f: f["winner_b"] != "vanilla+T"),
    "grid_pick_b_meets_cap": Claim("the grid config picked for scenario B meets its ECE cap",
                                   lambda f: f[f"eval_{f['grid_pick_b']}_ece"] <= f["ece_cap_b"]),
    "winner_b_nll_margin_real": Claim("scenario B's winner beats vanilla + T on NLL outside the bootstrap noise",
                                      lambda f: f["winner_b"] != "vanilla+T"
                                      and f["boot_nll_winner_vs_vt_ci_high"] < 0),
    "distilled_ece_gap_real": Claim("distilled's ECE is above vanilla + T's outside the bootstrap noise",
                                    lambda f: f["boot_ece_distilled_vs_vt_ci_low"] > 0),
    "distilled_nll_gap_real": Claim("distilled's NLL is below vanilla + T's outside the bootstrap noise",
                                    lambda f: f["boot_nll_distilled_vs_vt_ci_high"] < 0),
    "winner_b_is_distilled_family": Claim(
        "scenario B's winner is a distilled student (the lab's, with or without T, or a grid config)",
                                          lambda f: f["winner_b_family"] in ("distilled", "distilled+T", "grid")),
    "js_gap_least_closed_on_tail": Claim("KD closes the least of the JS gap on the tail",
                                         lambda f: f["js_least_reduced_tier"] == "tail"),
}


def check_claims(names: Iterable[str], facts: Facts) -> None:
    """Raise :class:`ClaimError` naming every claim in ``names`` that the facts contradict."""
    unknown = sorted(set(names) - set(CLAIMS))
    if unknown:
        raise ClaimError(f"unknown claim(s) {unknown}; declared claims are {sorted(CLAIMS)}.")
    broken = [n for n in sorted(set(names)) if not CLAIMS[n].holds(facts)]
    if broken:
        lines = [f"  {n}: \"{CLAIMS[n].text}\" is contradicted by the {facts.source} artifacts"
                 for n in broken]
        raise ClaimError("The data contradicts claim(s) the notebooks make; nothing was written. "
                         "Rewrite the prose (and its claim marker) first:\n" + "\n".join(lines))
