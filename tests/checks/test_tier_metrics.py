"""autograder/checks/tier_metrics.py: per-tier F1, ECE and JS divergence."""
from __future__ import annotations

from checkgrading import grade, parts

from autograder.examples import variants as V

JS = """
import numpy as np
def per_tier_js(p, q, tiers):
    p, q = np.clip(p, 1e-12, 1), np.clip(q, 1e-12, 1)
    m = (p + q) / 2
    js = 0.5 * (p * np.LOG(p / m)).sum(1) + 0.5 * (q * np.LOG(q / m)).sum(1)
    return {t: float(js[tiers == t].mean()) for t in ("head", "mid", "tail")}
"""


def test_js_log_base_is_discriminated_and_named():
    assert grade("hw_per_tier_js", JS.replace("LOG", "log")).points == 2
    r = grade("hw_per_tier_js", JS.replace("LOG", "log2"))
    assert parts(r) == {"form": 1, "values": 0} and "log base 2" in r.parts[1].message


def test_ece_bin_edges():
    assert grade("lab_per_tier_ece", V.PER_TIER_ECE).points == 2
    assert parts(grade("lab_per_tier_ece", V.PER_TIER_ECE_LO_CLOSED)) == {"values": 1, "bin_edges": 0}


def test_per_tier_f1_values_and_reference_use():
    f1 = ("import numpy as np\ndef per_tier_f1(y, p, tiers):\n    out = {}\n"
          "    for t in ('head', 'mid', 'tail'):\n        r = tiers == t; f = []\n"
          "        for c in np.unique(y[r]):\n"
          "            tp = ((y[r] == c) & (p[r] == c)).sum(); d = (y[r] == c).sum() + (p[r] == c).sum()\n"
          "            f.append(2 * tp / d if d else 0.0)\n        out[t] = float(np.mean(f))\n    return out\n")
    assert grade("lab_per_tier_f1", f1).points == 2
    sk = ("from sklearn.metrics import f1_score\ndef per_tier_f1(y, p, tiers):\n"
          "    return {t: f1_score(y[tiers == t], p[tiers == t], average='macro', zero_division=0)\n"
          "            for t in ('head', 'mid', 'tail')}\n")
    assert parts(grade("lab_per_tier_f1", sk)) == {"form": 1, "values": 0}
    r = grade("lab_per_tier_ece", "from helpers.metrics import per_tier_ece")
    assert r.points == 0 and r.flags
