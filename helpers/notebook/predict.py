"""Predict, then observe: a prediction is code, recorded before the number is seen.

In a notebook::

    predict("teacher_tail_f1", 0.35, "a 32B model should manage a third of the tail")
    ...
    observe("teacher_tail_f1", actual)   # prediction, actual and the error, side by side

``observe`` refuses (raises :class:`PredictionMissing`, without showing the
value) until ``predict`` has recorded something for that key.  ``reveal(name)``
shows a reveal's text (rendered from the artifacts by ``python -m helpers
reveals`` into :data:`REVEAL_FILE`, shipped with helpers) only once the
prediction it answers exists and has been observed, so the notebook's own cells
never hold an answer a student could read before predicting.  Predictions
live in the notebook's source, so an instructor can collect them from
submissions.  ``observe`` shows the student readable lines only; the record the
autograder's class report needs (key, prediction, actual, error, reason) rides in
that output's metadata under :data:`OBSERVE_METADATA`, which no front end renders,
and :func:`parse_observations` reads it back from an executed notebook.

The reveal texts are stored obfuscated (see :data:`REVEAL_FILE`): reading one
outside ``reveal`` takes deliberate decoding.  It is not secret, only out of sight.
"""
from __future__ import annotations

import json
import math
import numbers
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from .reveal_store import REVEAL_FILE as STORED_REVEALS
from .reveal_store import read_reveal_text

__all__ = ["predict", "observe", "require", "reveal", "reveal_text", "PREDICTIONS", "CYCLES", "OBSERVE_METADATA",
           "PredictionMissing", "parse_observations", "REVEAL_FILE", "read_reveal_file"]

#: Key of the output metadata where ``observe`` leaves its record (one output per observed cycle):
#: metadata is kept in the saved notebook but shown by no front end, formgrader and feedback included.
OBSERVE_METADATA = "ecbs_week6_observe"

#: The cycles the course's notebooks run: a numeric range or a closed set of choices.
#: Keys not listed here are accepted too (a number or a short string).
CYCLES = {
    "teacher_tail_f1": {"kind": "number", "range": (0.0, 1.0),
                        "question": "the teacher's macro F1 on the 53 tail classes"},
    "most_peaked_tier": {"kind": "choice", "choices": ("head", "mid", "tail"),
                         "question": "the tier where the teacher's distribution is most peaked"},
    # The choices are exactly what helpers.bootstrap.lift_pattern can return.
    "f1_lift_lands": {"kind": "choice", "choices": ("uniform", "head", "mid", "mid+tail", "tail", "none"),
                      "question": "where KD's macro F1 lift lands (tiers whose CI excludes zero)"},
    "ece_follows_f1": {"kind": "choice", "choices": ("yes", "no"),
                       "question": "whether per-tier ECE improves only where F1 improved"},
    "prior_best_recipe": {"kind": "choice",
                          "choices": ("vanilla", "vanilla+T", "distilled", "distilled+T", "grid", "tie", "none"),
                          "question": "the recipe that best serves your scenario's primary metric"},
    "grid_f1_in_noise": {"kind": "choice", "choices": ("yes", "no"),
                         "question": "whether the grid's macro F1 spread stays inside its noise: the paired-bootstrap "
                                     "CI of best minus worst config's macro F1 includes zero"},
    "js_least_reduced_tier": {"kind": "choice", "choices": ("head", "mid", "tail"),
                              "question": "the tier where KD closes the least of the JS gap to the teacher"},
    "t_ece_gap_real": {"kind": "choice", "choices": ("yes", "no"),
                       "question": "whether the ECE gap between distilled and vanilla + T (eval half) is outside "
                                   "the noise: its paired-bootstrap 95% CI excludes zero"},
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
#: keys whose observing cell has run in this kernel session.
OBSERVED: set[str] = set()


def _validate_value(key: str, value: object) -> float | str:
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


def _expected(spec: dict | None) -> str:
    if spec is None:
        return "a number or a short string"
    if spec["kind"] == "number":
        lo, hi = spec["range"]
        return f"a number in [{lo:g}, {hi:g}]"
    return "one of " + ", ".join(repr(c) for c in spec["choices"])


def predict(key: str, value: float | str, reason: str) -> Prediction:
    """Record a prediction for ``key`` (a number or a choice) with a one-line reason.

    Run it before the cell that computes the number: the observing cell refuses
    to show anything until a prediction for its key exists. Recording again
    overwrites the earlier prediction for that key (and says so).

    Parameters
    ----------
    key : str
        The prediction's name, as the PREDICT cell gives it.
    value : float or str
        Your prediction: a number in the range the cell states, or one of the
        choices it lists (case does not matter).
    reason : str
        One line on why you expect this value.

    Returns
    -------
    Prediction
        The recorded prediction (key, value, reason).

    Raises
    ------
    ValueError
        When ``value`` is a placeholder, out of range or not one of the choices,
        or ``reason`` is empty; the message says what is expected.

    Examples
    --------
    >>> p = predict("coin_lands_heads", 0.5, "a fair coin has no memory")
    Recorded prediction for coin_lands_heads: 0.5 (reason: a fair coin has no memory)
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


def require(key: str) -> Prediction:
    """Stop the cell unless a prediction for ``key`` has been recorded.

    An observing cell starts with it, so nothing is computed or shown before you
    have committed to a prediction.

    Parameters
    ----------
    key : str
        The prediction's name.

    Returns
    -------
    Prediction
        The recorded prediction.

    Raises
    ------
    PredictionMissing
        When no prediction for ``key`` exists yet; the message names the cell to run.

    Examples
    --------
    >>> _ = predict("die_shows_six", 0.17, "one face in six")
    Recorded prediction for die_shows_six: 0.17 (reason: one face in six)
    >>> require("die_shows_six").value
    0.17
    """
    if key not in PREDICTIONS:
        question = CYCLES.get(key, {}).get("question", key)
        raise PredictionMissing(
            f"No prediction recorded for {key!r} ({question}). Run the PREDICT cell above "
            f"(predict({key!r}, <your value>, \"<one-line reason>\")) first; the value stays "
            f"hidden until you have committed to a prediction.")
    return PREDICTIONS[key]


def _show_with_record(text: str, record: dict) -> None:
    """Show ``text``; in a notebook, as one output whose metadata holds ``record`` for the grader."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display({"text/plain": text}, raw=True, metadata={OBSERVE_METADATA: record})
    else:
        print(text)


def _error(prediction: object, actual: float | str) -> float | str:
    if isinstance(prediction, numbers.Real) and isinstance(actual, numbers.Real):
        return float(actual) - float(prediction)
    return "match" if str(prediction) == str(actual) else "miss"


def observe(key: str, actual: float | str) -> dict:
    """Show the recorded prediction beside the actual value and the error.

    Refuses (raises :class:`PredictionMissing`, showing nothing) until a
    prediction exists. In a notebook the output carries the record in its
    metadata (:data:`OBSERVE_METADATA`), where the autograder's class report
    reads it back; what you see is only the readable lines.

    Parameters
    ----------
    key : str
        The prediction's name.
    actual : float or str
        The measured value (a number, or the choice that turned out true).

    Returns
    -------
    dict
        ``key``, ``prediction``, ``actual``, ``reason`` and ``error``: actual minus
        predicted for numbers, ``"match"`` or ``"miss"`` for choices.

    Raises
    ------
    PredictionMissing
        When no prediction for ``key`` was recorded.

    Examples
    --------
    >>> _ = predict("share_of_rainy_days", 0.3, "a wet autumn")
    Recorded prediction for share_of_rainy_days: 0.3 (reason: a wet autumn)
    >>> record = observe("share_of_rainy_days", 0.25)  # doctest: +ELLIPSIS
    share_of_rainy_days: you predicted 0.300, actual 0.250, error (actual - predicted) -0.050
      your reason was: a wet autumn
    """
    pred = require(key)
    if isinstance(actual, numbers.Real) and not isinstance(actual, bool):
        actual = float(actual)
    else:
        actual = str(actual)
    err = _error(pred.value, actual)
    record = {"key": key, "prediction": pred.value, "actual": actual, "error": err, "reason": pred.reason}
    if isinstance(err, float):
        lines = [f"{key}: you predicted {pred.value:.3f}, actual {actual:.3f}, error (actual - predicted) "
                 f"{err:+.3f}"]
    else:
        lines = [f"{key}: you predicted {pred.value!r}, actual {actual!r} -> {err}"]
    lines.append(f"  your reason was: {pred.reason}")
    _show_with_record("\n".join(lines), record)
    OBSERVED.add(key)
    return record


# --------------------------------------------------------------------------- reveals
#: Reveal texts, rendered from the artifacts by ``python -m helpers reveals`` (written by
#: ``notebooks/make_notebooks.py`` from the notebooks' cell sources).  One section per reveal::
#:
#:     <!-- begin-reveal teacher_tail after=teacher_tail_f1 -->
#:     ...markdown with reveal spans and claim markers...
#:     <!-- end-reveal -->
#:
#: The file is stored obfuscated (zlib, then base64; :mod:`helpers.notebook.reveal_store`): reading a
#: reveal outside ``reveal`` takes deliberate decoding.  It is not secret.
REVEAL_FILE = STORED_REVEALS  # shipped at helpers/reveal_text.b64
SECTION = re.compile(r"<!-- begin-reveal (?P<name>[A-Za-z0-9_]+) after=(?P<after>[A-Za-z0-9_,]+) -->\n"
                     r"(?P<body>.*?)<!-- end-reveal -->", re.S)
SOURCE_LINE = re.compile(r"<!-- reveals_source: (?P<source>[A-Za-z_]+) -->")
_COMMENT = re.compile(r"<!--.*?-->", re.S)


def read_reveal_file(path: str | Path | None = None) -> tuple[str | None, dict[str, tuple[tuple[str, ...], str]]]:
    """``(source, {name: (prediction keys it answers, markdown body)})`` from the reveal file."""
    text = read_reveal_text(Path(path) if path is not None else REVEAL_FILE)
    m = SOURCE_LINE.search(text)
    sections = {}
    for sec in SECTION.finditer(text):
        sections[sec.group("name")] = (tuple(sec.group("after").split(",")), sec.group("body"))
    return (m.group("source") if m else None), sections


def reveal_text(name: str, path: str | Path | None = None) -> str:
    """The markdown of reveal ``name``, once every prediction it answers is recorded and observed.

    Raises :class:`PredictionMissing` (showing nothing of the reveal) before that.
    """
    source, sections = read_reveal_file(path)
    if name not in sections:
        raise KeyError(f"reveal name must be one of {sorted(sections)}, got {name!r}.")
    after, body = sections[name]
    for key in after:
        require(key)
        if key not in OBSERVED:
            raise PredictionMissing(
                f"The reveal {name!r} answers the prediction {key!r}: run its OBSERVE cell (the one that "
                f"calls observe({key!r}, ...)) and write your reconciliation before opening the reveal.")
    text = _COMMENT.sub("", body).strip()
    if source != "hub" and "SYNTHETIC" not in text:
        # A reveal rendered from anything but the course's artifacts must say so in its text.
        text = f"(SYNTHETIC DATA: the lecture's real numbers differ.) {text}"
    return text


def reveal(name: str) -> None:
    """Show the explanation that answers a prediction, once you have predicted and observed.

    The text ships with helpers (it is not in the notebook, where it could be
    read first) and is shown as this cell's output: markdown in a notebook, text
    elsewhere. Write your reconciliation before you run it.

    Parameters
    ----------
    name : str
        The reveal's name, as the REVEAL cell gives it.

    Returns
    -------
    None

    Raises
    ------
    PredictionMissing
        Until every prediction the reveal answers is recorded and observed.
    KeyError
        When ``name`` is not a reveal of this week's notebooks.

    Examples
    --------
    >>> reveal("teacher_tail")  # doctest: +SKIP
    """
    text = reveal_text(name)
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display
        if get_ipython() is not None:
            display(Markdown(text))
            return None
    except ImportError:
        pass
    print(text)
    return None


def parse_observations(notebook: str | Path | Mapping) -> list[dict]:
    """The ``observe`` records of an executed notebook, in cell order, from its outputs' metadata.

    Parameters
    ----------
    notebook : str, pathlib.Path or mapping
        The ``.ipynb`` file, or the notebook already read (an ``nbformat``
        node or the plain JSON dict).

    Returns
    -------
    list of dict
        One record per observed cycle: ``key``, ``prediction``, ``actual``,
        ``error`` and ``reason``.

    Raises
    ------
    TypeError
        When ``notebook`` is neither a path nor a notebook mapping.

    Examples
    --------
    >>> nb = {"cells": [{"cell_type": "code", "outputs": [{"output_type": "display_data",
    ...        "data": {"text/plain": "..."}, "metadata": {OBSERVE_METADATA: {"key": "k", "actual": 1.0}}}]}]}
    >>> parse_observations(nb)
    [{'key': 'k', 'actual': 1.0}]
    """
    if isinstance(notebook, (str, Path)):
        notebook = json.loads(Path(notebook).read_text(encoding="utf-8"))
    if not isinstance(notebook, Mapping):
        raise TypeError(f"notebook must be a path to an .ipynb file or a notebook mapping, got "
                        f"{type(notebook).__name__}; read it with nbformat.read or pass its path.")
    out = []
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        for output in cell.get("outputs", []):
            record = (output.get("metadata") or {}).get(OBSERVE_METADATA)
            if isinstance(record, Mapping) and "key" in record:
                out.append(dict(record))
    return out


def reset() -> None:
    """Forget every prediction and observation (tests use this)."""
    PREDICTIONS.clear()
    OBSERVED.clear()


def as_records() -> list[dict]:
    """The predictions recorded in this session, as plain dicts."""
    return [asdict(p) for p in PREDICTIONS.values()]
