"""lab_deployment: the student's deployment decision, recomputed from the course data.

Judged against the course data, not the student's tables: helpers.deploy recomputes
the named model's coverage, accuracy and metrics on the eval half from the
artifacts, here in the driver, where nothing the student defines can reach.  The
source is the grader's own: $COURSE_DATA_SOURCE when set (hub or synthetic), else
the same automatic choice the notebooks make on this machine.
"""
from __future__ import annotations

import os
from collections.abc import Mapping

from helpers.course import SOURCE_ENV

from ..kernel.encoding import key, plain
from ..kernel.pristine import PY
from .base import Check
from .runner import Runner, lookup, missing
from .verdict import Verdict, error_of, part, verdict, zero


# --------------------------------------------------------------------------- probe (driver side, on the reported value)
def probe_deployment(ns: Mapping, run: Runner) -> dict:
    """Only the artifact: the judge recomputes every number it claims from the course data."""
    found, dep = lookup(ns, "deployment")
    if not found:
        return {"deployment": missing("deployment")}
    if not PY.isinstance(dep, PY.dict):
        return {"deployment": {"ok": False, "error": f"deployment is a {PY.type(dep).__name__}, expected a dict"}}
    fields = {}
    for k, v in PY.list(PY.dict_items(dep)):
        try:
            fields[key(k)] = plain(v)
        except PY.BaseException:
            fields[key(k)] = PY.str(PY.type(v).__name__)
    return {"deployment": {"ok": True, "value": fields}}


# --------------------------------------------------------------------------- judge (driver side)
DEPLOY_PARTS = {
    "numbers_match_model": "Expected coverage and accuracy from the coverage table of the model you name, at your "
                           "threshold, on the eval half, as fractions to four decimals.",
    "scenario_rule": "Expected a model that meets your scenario's rule on the eval half (A: a student at least "
                     "as good as raw vanilla on macro F1; B: ECE <= 0.05 and NLL at most raw vanilla's; C: tail "
                     "F1 not significantly below raw vanilla's, by the paired-bootstrap CI of the difference).",
    "justification_cites_model": "Expected the justification to quote the model you ship from your eval-half "
                                 "tables (three decimals, e.g. 0.026, or a percentage with one, e.g. 2.6%), and "
                                 "every such number to be an eval-half table value.",
    "constraint_switch_alternative": "Expected flip_constraint to be one of your scenario's constraint keys, "
                                     "switch_point your model's own eval-half value of that constraint's metric "
                                     "(three decimals), and a different model as the alternative.",
}


def deployment_source() -> str:
    """The grader's course-data source: $COURSE_DATA_SOURCE, else "auto"."""
    return os.environ.get(SOURCE_ENV, "").strip().lower() or "auto"


def judge_deployment(check: Check, data: dict, exp: dict) -> Verdict:
    """One part per deployment rule of helpers.deploy, each with what was expected."""
    dep = data.get("deployment", {})
    if not dep.get("ok"):
        return zero(check.id, check.points, f"{error_of(dep)}; fill in the deployment dict.", "graded")
    import warnings

    from helpers import deploy
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the synthetic-data warning is the notebook's to show
        report = deploy.evaluate_deployment(dep["value"], deployment_source())
    # The same rules and messages as the notebook's self-check; the recomputed numbers stay in the detail.
    parts = [part(r.rule, r.ok, 1, f"{r.message}. {DEPLOY_PARTS[r.rule]}", r.detail) for r in report.rules]
    return verdict(check.id, check.points, parts)


def expected_deployment(check: Check, answer_key: dict, seed: int) -> dict:
    """The rules only: the numbers are recomputed from the artifacts at grading time."""
    from helpers import deploy
    return {"rules": list(deploy.RULES)}


CHECKS = (
    Check(id="lab_deployment", notebook="week6_lab", points=4, reads=("deployment",),
          probe=probe_deployment, judge=judge_deployment, expected=expected_deployment, kind="value"),
)
