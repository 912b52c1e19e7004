"""Predict, then observe: refusal before a prediction, the side-by-side after, the record in the output's
metadata (never a machine line the student sees)."""
import json
import re

import pytest

from helpers.notebook import predict as P


@pytest.fixture(autouse=True)
def fresh():
    P.reset()
    yield
    P.reset()


def test_observe_refuses_without_a_prediction_and_shows_nothing(capsys):
    with pytest.raises(P.PredictionMissing) as err:
        P.observe("teacher_tail_f1", 0.1987)
    assert "teacher_tail_f1" in str(err.value) and "predict(" in str(err.value)
    assert "0.198" not in str(err.value)
    assert "0.198" not in capsys.readouterr().out


def test_require_refuses_until_predicted():
    with pytest.raises(P.PredictionMissing):
        P.require("most_peaked_tier")
    P.predict("most_peaked_tier", "head", "more data, sharper evidence")
    assert P.require("most_peaked_tier").value == "head"


def test_numeric_cycle_shows_prediction_actual_and_error(capsys):
    P.predict("teacher_tail_f1", 0.35, "big model, few examples")
    assert "Recorded" in capsys.readouterr().out
    rec = P.observe("teacher_tail_f1", 0.198)
    out = capsys.readouterr().out
    assert "0.350" in out and "0.198" in out and "-0.152" in out
    assert rec == {"key": "teacher_tail_f1", "prediction": 0.35, "actual": 0.198,
                   "error": pytest.approx(-0.152), "reason": "big model, few examples"}
    assert "{" not in out and "JSON" not in out, out   # readable lines only


def test_in_a_notebook_the_record_rides_in_the_output_metadata_only():
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "from helpers.notebook.predict import predict, observe\n"
        "predict('teacher_tail_f1', 0.35, 'big model, few examples')"),
        nbformat.v4.new_code_cell("observe('teacher_tail_f1', 0.198);")]
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    (out,) = nb.cells[1].outputs
    shown = out.get("text", "") + "".join(v for v in out.get("data", {}).values() if isinstance(v, str))
    assert "you predicted 0.350, actual 0.198" in shown
    assert "{" not in shown and "JSON" not in shown, shown
    (rec,) = P.parse_observations(nb)
    assert rec["key"] == "teacher_tail_f1" and rec["actual"] == 0.198 and rec["prediction"] == 0.35
    assert P.parse_observations(json.loads(nbformat.writes(nb))) == [rec]
    with pytest.raises(TypeError, match="notebook must be"):
        P.parse_observations(42)


def test_choice_cycle_reports_match_or_miss(capsys):
    P.predict("f1_lift_lands", "Tail", "soft targets help rare classes")
    assert P.PREDICTIONS["f1_lift_lands"].value == "tail"
    assert P.observe("f1_lift_lands", "head")["error"] == "miss"
    P.predict("prior_best_recipe", "VANILLA+t", "cheap and calibrated")
    assert P.PREDICTIONS["prior_best_recipe"].value == "vanilla+T"
    assert P.observe("prior_best_recipe", "vanilla+T")["error"] == "match"
    assert "Updated" not in capsys.readouterr().out


@pytest.mark.parametrize("key,value", [("teacher_tail_f1", 1.5), ("teacher_tail_f1", "high"),
                                       ("teacher_tail_f1", None), ("most_peaked_tier", "bottom"),
                                       ("ece_follows_f1", True), ("custom", ...)])
def test_bad_predictions_are_refused_with_the_expected_form(key, value):
    with pytest.raises(ValueError, match=key):
        P.predict(key, value, "a reason")
    assert key not in P.PREDICTIONS


def test_a_reason_is_required():
    with pytest.raises(ValueError, match="reason"):
        P.predict("most_peaked_tier", "head", "")


def test_re_predicting_says_updated(capsys):
    P.predict("custom_key", 3, "first guess")
    P.predict("custom_key", 4, "second guess")
    assert "Updated" in capsys.readouterr().out
    assert P.PREDICTIONS["custom_key"].value == 4.0


# --------------------------------------------------------------------------- reveals
REVEAL_FILE_TEXT = """<!-- reveals_source: synthetic -->
<!-- begin-reveal tail after=teacher_tail_f1 -->
**Reveal 1.** <!-- reveal:source_note -->(SYNTHETIC DATA: the lecture's real numbers differ.) <!-- /reveal -->The tail
F1 is <!-- reveal:teacher_f1_tail -->0.190<!-- /reveal -->. <!-- claim:teacher_tail_lowest -->Data, not size.
<!-- end-reveal -->
"""


@pytest.fixture
def reveal_file(tmp_path, monkeypatch):
    path = tmp_path / "reveal_text.md"
    path.write_text(REVEAL_FILE_TEXT)
    monkeypatch.setattr(P, "REVEAL_FILE", path)
    return path


def test_reveal_refuses_before_the_prediction_and_before_the_observation(reveal_file, capsys):
    with pytest.raises(P.PredictionMissing, match="teacher_tail_f1"):
        P.reveal("tail")
    P.predict("teacher_tail_f1", 0.3, "a guess")
    with pytest.raises(P.PredictionMissing, match="OBSERVE"):
        P.reveal("tail")
    assert "0.190" not in capsys.readouterr().out


def test_reveal_shows_the_rendered_text_without_markup_once_observed(reveal_file, capsys):
    P.predict("teacher_tail_f1", 0.3, "a guess")
    P.observe("teacher_tail_f1", 0.19)
    capsys.readouterr()
    P.reveal("tail")
    out = capsys.readouterr().out
    assert out.startswith("**Reveal 1.** (SYNTHETIC DATA") and "0.190" in out and "<!--" not in out


def test_reveal_text_from_unmarked_synthetic_prose_still_says_synthetic(reveal_file):
    reveal_file.write_text(REVEAL_FILE_TEXT.replace(
        "<!-- reveal:source_note -->(SYNTHETIC DATA: the lecture's real numbers differ.) <!-- /reveal -->", ""))
    P.predict("teacher_tail_f1", 0.3, "a guess")
    P.observe("teacher_tail_f1", 0.19)
    assert P.reveal_text("tail").startswith("(SYNTHETIC DATA")
    reveal_file.write_text(reveal_file.read_text().replace("source: synthetic", "source: hub"))
    assert P.reveal_text("tail").startswith("**Reveal 1.**")


def test_unknown_reveal_names_the_known_ones(reveal_file):
    with pytest.raises(KeyError, match="tail"):
        P.reveal("no_such_reveal")


def test_the_shipped_reveal_file_answers_only_declared_predictions():
    source, sections = P.read_reveal_file()
    assert source in ("synthetic", "hub") and sections
    for name, (after, body) in sections.items():
        assert set(after) <= set(P.CYCLES), name
        assert "<!-- reveal:source_note -->" in body, name


def test_lift_choices_are_what_the_reveal_can_return():
    import pandas as pd

    from helpers.bootstrap import lift_pattern
    seen = set()
    for bits in range(8):
        ci = {t: pd.Series({"ci_low": 0.1 if bits >> i & 1 else -0.1}) for i, t in enumerate(("head", "mid", "tail"))}
        seen.add(lift_pattern(ci))
    assert seen == set(P.CYCLES["f1_lift_lands"]["choices"])


def test_the_class_report_reads_the_records_from_the_output_metadata(tmp_path):
    import nbformat

    from autograder import report
    nb = nbformat.v4.new_notebook()
    record = {"key": "most_peaked_tier", "prediction": "tail", "actual": "head", "error": "miss", "reason": "r"}
    nb.cells = [nbformat.v4.new_code_cell("observe(...)", outputs=[nbformat.v4.new_output(
        "display_data", data={"text/plain": "most_peaked_tier: you predicted 'tail', actual 'head' -> miss"},
        metadata={P.OBSERVE_METADATA: record})])]
    nbformat.write(nb, tmp_path / "a.ipynb")
    entry = {"student": "s1", "assignment": "week6_lab", "status": "graded", "issues": [], "flags": [],
             "checks": {}, "autograded": "a.ipynb", "feedback": None}
    (tmp_path / "grades.json").write_text(json.dumps([entry]))
    text = report.build(tmp_path, tmp_path / "report").read_text()
    assert "### most_peaked_tier" in text and "1 predictions: head 0, tail 1; actual head" in text


def test_the_shipped_reveal_file_is_obfuscated_and_round_trips(tmp_path):
    from helpers.notebook import reveal_store as RS
    stored = P.REVEAL_FILE.read_text(encoding="utf-8")
    assert P.REVEAL_FILE.suffix == ".b64" and RS.is_encoded(stored)
    plain = RS.read_reveal_text()
    _, sections = P.read_reveal_file()
    assert sections and "<!-- begin-reveal" in plain
    # No sentence of any reveal is readable in the stored file.
    for _, body in sections.values():
        words = [w for w in re.split(r"<!--.*?-->", body) if len(w.strip()) > 12]
        assert words and not any(w.strip() in stored for w in words)
    assert RS.decode_reveals(RS.encode_reveals(plain)) == plain
    copy = tmp_path / "r.b64"
    RS.write_reveal_text(copy, plain)
    assert RS.is_encoded(copy.read_text()) and RS.read_reveal_text(copy) == plain
    RS.write_reveal_text(copy, "plain working copy", encoded=False)
    assert RS.read_reveal_text(copy) == "plain working copy"
    with pytest.raises(ValueError, match="damaged"):
        RS.decode_reveals(RS.HEADER + "\n!!!not base64!!!\n")
