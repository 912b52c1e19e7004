"""Predict, then observe: a prediction is code, recorded before the number is seen.

In a notebook::

    predict("teacher_tail_f1", 0.35, "a 32B model should manage a third of the tail")
    ...
    observe("teacher_tail_f1", actual)   # prediction, actual and the error, side by side

``observe`` refuses (raises :class:`PredictionMissing`, without showing the
value) until ``predict`` has recorded something for that key.  Predictions
live in the notebook's source, so an instructor can collect them from
submissions; ``observe`` also prints one machine-readable line, starting with
:data:`MARKER`, that the autograder's class report parses from executed
notebooks.
"""
from __future__ import annotations

import json
import math
import numbers
from dataclasses import asdict, dataclass

__all__ = ["predict", "observe", "require", "PREDICTIONS", "CYCLES", "MARKER", "PredictionMissing",
           "parse_observations"]

#: Prefix of the JSON line ``observe`` prints (one line per observed cycle).
MARKER = "PREDICT_OBSERVE_JSON "

#: The cycles the course's notebooks run: a numeric range or a closed set of choices.
#: Keys not listed here are accepted too (a number or a short string).
CYCLES = {
    "teacher_tail_f1": {"kind": "number", "range": (0.0, 1.0),
                        "question": "the teacher's macro F1 on the 53 tail classes"},
    "most_peaked_tier": {"kind": "choice", "choices": ("head", "mid", "tail"),
                         "question": "the tier where the teacher's distribution is most peaked"},
    "f1_lift_lands": {"kind": "choice", "choices": ("uniform", "head", "tail", "tail-not-mid"),
                      "question": "where KD's macro F1 lift lands (tiers whose CI excludes zero)"},
    "ece_follows_f1": {"kind": "choice", "choices": ("yes", "no"),
                       "question": "whether per-tier ECE improves only where F1 improved"},
    "prior_best_recipe": {"kind": "choice",
                          "choices": ("vanilla", "vanilla+T", "distilled", "grid", "none"),
                          "question": "the recipe that best serves your scenario's primary metric"},
}


class PredictionMissing(RuntimeError):
    """Raised by ``observe``/``require`` when no prediction was recorded for the key."""


@dataclass
class Prediction:
    key: str
    value: object
    reason: str


#: key -> Prediction, for this kernel session (the notebook source is the durable record).
PREDICTIONS: dict[str, Prediction] = {}


def _validate_value(key, value):
    spec = CYCLES.get(key)
    if isinstance(value, bool) or value is None or value is Ellipsis:
        raise ValueError(f"predict({key!r}, ...): replace the placeholder with your prediction "
                         f"({_expected(spec)}), got {value!r}.")
    if spec is None:
        if isinstance(value, numbers.Real):
            return float(value)
        if isinstance(value, str) and value.strip():
            return value.strip()
        raise ValueError(f"predict({key!r}, ...): a prediction is a number or a short string, got {value!r}.")
    if spec["kind"] == "number":
        if not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
            raise ValueError(f"predict({key!r}, ...) expects {_expected(spec)}, got {value!r}.")
        lo, hi = spec["range"]
        if not lo <= float(value) <= hi:
            raise ValueError(f"predict({key!r}, ...) expects {_expected(spec)}, got {value!r}.")
        return float(value)
    canonical = {c.lower(): c for c in spec["choices"]}
    choice = canonical.get(value.strip().lower()) if isinstance(value, str) else None
    if choice is None:
        raise ValueError(f"predict({key!r}, ...) expects {_expected(spec)}, got {value!r}.")
    return choice


def _expected(spec):
    if spec is None:
        return "a number or a short string"
    if spec["kind"] == "number":
        lo, hi = spec["range"]
        return f"a number in [{lo:g}, {hi:g}]"
    return "one of " + ", ".join(repr(c) for c in spec["choices"])


def predict(key, value, reason):
    """Record a prediction for ``key`` (a number or a choice) with a one-line reason.

    Recording again overwrites the earlier prediction for that key (and says so).
    """
    if not isinstance(key, str) or not key:
        raise ValueError(f"key must be a non-empty string naming the cycle, got {key!r}.")
    value = _validate_value(key, value)
    if not isinstance(reason, str) or len(reason.strip()) < 3:
        raise ValueError(f"predict({key!r}, ...): give a one-line reason (a short sentence), got {reason!r}.")
    replaced = key in PREDICTIONS
    PREDICTIONS[key] = Prediction(key, value, " ".join(reason.split()))
    question = CYCLES.get(key, {}).get("question", key)
    print(f"{'Updated' if replaced else 'Recorded'} prediction for {question}: {value!r} "
          f"(reason: {PREDICTIONS[key].reason})")
    return PREDICTIONS[key]


def require(key):
    """Raise :class:`PredictionMissing` unless a prediction for ``key`` exists."""
    if key not in PREDICTIONS:
        question = CYCLES.get(key, {}).get("question", key)
        raise PredictionMissing(
            f"No prediction recorded for {key!r} ({question}). Run the PREDICT cell above "
            f"(predict({key!r}, <your value>, \"<one-line reason>\")) first; the value stays "
            f"hidden until you have committed to a prediction.")
    return PREDICTIONS[key]


def _error(prediction, actual):
    if isinstance(prediction, numbers.Real) and isinstance(actual, numbers.Real):
        return float(actual) - float(prediction)
    return "match" if str(prediction) == str(actual) else "miss"


def observe(key, actual):
    """Show the recorded prediction beside the actual value and the error.

    Refuses (raises :class:`PredictionMissing`, showing nothing) until a
    prediction exists.  Returns a dict with key, prediction, actual, error, reason.
    """
    pred = require(key)
    if isinstance(actual, numbers.Real) and not isinstance(actual, bool):
        actual = float(actual)
    else:
        actual = str(actual)
    err = _error(pred.value, actual)
    record = {"key": key, "prediction": pred.value, "actual": actual, "error": err, "reason": pred.reason}
    if isinstance(err, float):
        print(f"{key}: you predicted {pred.value:.3f}, actual {actual:.3f}, error (actual - predicted) "
              f"{err:+.3f}")
    else:
        print(f"{key}: you predicted {pred.value!r}, actual {actual!r} -> {err}")
    print(f"  your reason was: {pred.reason}")
    print(MARKER + json.dumps(record, sort_keys=True))
    return record


def parse_observations(text):
    """The observe records found in ``text`` (for example a notebook's outputs)."""
    out = []
    for line in str(text).splitlines():
        line = line.strip()
        if line.startswith(MARKER):
            try:
                out.append(json.loads(line[len(MARKER):]))
            except json.JSONDecodeError:
                continue
    return out


def reset():
    """Forget every prediction (tests use this)."""
    PREDICTIONS.clear()


def as_records():
    return [asdict(p) for p in PREDICTIONS.values()]
