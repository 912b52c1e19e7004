"""The week's two nbgrader source notebooks: structure, release, and a full run on the embedded data.

Each notebook is executed once per session (module fixture), top to bottom, with the solutions in
place, offline (HF_HUB_OFFLINE=1, so the source resolves to the synthetic data).  Nothing is written
inside the working tree: the data cache, the executed copies and the nbgrader course live in tmp.
"""
import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "notebooks"))

import make_notebooks  # noqa: E402  (notebooks/make_notebooks.py)

from autograder import checks  # noqa: E402
from helpers.notebook import predict as P  # noqa: E402
from helpers.notebook.reveal_store import read_reveal_text  # noqa: E402
from helpers.notebook.setup_env import INSTALL_SPEC  # noqa: E402
from helpers.tools import reveals  # noqa: E402

LAB = ROOT / "notebooks" / "week6_lab" / "week6_lab.ipynb"
HOMEWORK = ROOT / "notebooks" / "week6_homework" / "week6_homework.ipynb"

ASSIGNMENT = {LAB: "week6_lab", HOMEWORK: "week6_homework"}
KIND = {LAB: "lab", HOMEWORK: "homework"}


def registry_checks(path) -> dict[str, int]:
    """check id -> points of the notebook's checks, in registry order (autograder.checks, nothing by hand)."""
    return {c.id: c.points for c in checks.REGISTRY if c.notebook == ASSIGNMENT[path]}


def source_cells(path, role):
    """The notebook's source cells of one role (notebooks/lab_*.py or hw_*.py), in order."""
    return [c for c in make_notebooks.TARGETS[KIND[path]].source_cells() if c.meta.get("role") == role]


def predictions(path) -> set[str]:
    """The prediction keys the sources declare (``role="predict" key=...``)."""
    return {c.meta["key"] for c in source_cells(path, "predict")}


def reveals_of(path) -> dict[str, tuple[str, ...]]:
    """reveal name -> the predictions it answers (``role="reveal" name=... after=...``)."""
    return {c.meta["name"]: tuple(c.meta["after"].split(",")) for c in source_cells(path, "reveal")}


#: Printed after the notebook: the kernel's final answers, for the model-answer checks.
FINAL_STATE = {
    LAB: 'import json; print("@@FINAL@@", json.dumps({"deployment": {k: (v if isinstance(v, (str, int, float)) '
         'else str(v)) for k, v in deployment.items()}, "cal_ci": {f"{m}_{t}": [r["ci_low"], r["ci_high"]] '
         'for (m, t), r in cal_ci.iterrows()}}, default=float))',
    HOMEWORK: 'import json; print("@@FINAL@@", json.dumps({"SCENARIO": SCENARIO, "best": best, "verdict": verdict, '
              '"GRID_PICK": GRID_PICK, '
              '"DEPLOY_MODEL": DEPLOY_MODEL, "carry_over": carry_over, "arms": arms_df.to_dict(orient="index"), '
              '"frac": frac, "js_least": js_df["reduction"].idxmin(), "noise": noise_df.to_dict(orient="index"), '
              '"test_b_ece_ci_low": test_b.loc["ECE: distilled - vanilla+T", "ci_low"], '
              '"rerun": rerun}, default=float))',
}
# A function check's cell runs nothing (the autograder calls the function in the function host);
# a value check's cell reports the named answers through the kernel's reporter.
HIDDEN = re.compile(r"\A# Autograder check: [^\n]+\. The autograder calls your function in a separate\n"
                    r"# process: [^\n]+\n"
                    r"### BEGIN HIDDEN TESTS\n"
                    r"# Nothing runs here: (?P<id>[a-z0-9_]+) is graded outside this notebook\.\n"
                    r"### END HIDDEN TESTS\Z"
                    r"|\A# Autograder check: [^\n]+\. Your answers are read here as plain values;\n"
                    r"# they are judged outside this notebook\.\n"
                    r"### BEGIN HIDDEN TESTS\n"
                    r"try:\n    import autograder\.kernel\.reporter\n"
                    r"except ModuleNotFoundError: [^\n]+\n(    [^\n]+\n)+"
                    r"from autograder\.kernel\.reporter import report; "
                    r"report\(\"(?P<vid>[a-z0-9_]+)\", globals\(\)(, \"[a-z0-9_]+\")+\)\n"
                    r"### END HIDDEN TESTS\Z")
VALUE_CHECKS = {"lab_bug_choices", "lab_bootstrap_ci", "lab_deployment"}
NOTEBOOKS = [LAB, HOMEWORK]
ids = ["lab", "homework"]


def read(path):
    return nbformat.read(str(path), as_version=4)


def nbg(cell):
    return cell.metadata.get("nbgrader", {})


# --------------------------------------------------------------------------- structure
@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_valid_clean_and_nbgrader_metadata_consistent(path):
    nb = read(path)
    nbformat.validate(nb)
    grade_ids = []
    for cell in nb.cells:
        meta = nbg(cell)
        assert meta.get("schema_version") == 3 and meta.get("grade_id"), cell.source[:60]
        grade_ids.append(meta["grade_id"])
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
        if meta["grade"]:
            assert isinstance(meta.get("points"), (int, float)) and meta["points"] > 0, meta["grade_id"]
        if meta["grade"] and not meta["solution"]:
            assert meta["locked"]
        begin, end = cell.source.count("### BEGIN SOLUTION"), cell.source.count("### END SOLUTION")
        assert begin == end and begin <= 1, meta["grade_id"]
        if begin:
            assert meta["solution"] and cell.cell_type == "code", meta["grade_id"]
            assert cell.source.index("### BEGIN SOLUTION") < cell.source.index("### END SOLUTION")
        elif cell.cell_type == "code" and meta["solution"]:
            pytest.fail(f"{meta['grade_id']}: a code solution cell without solution markers")
    assert len(grade_ids) == len(set(grade_ids)), "grade_ids must be unique"
    assert "reveals_source" in nb.metadata["course"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_hidden_tests_have_the_contract_shape_ids_and_points(path):
    """Every registered check has its cell, worth its points, where the registry ranks it (grades.csv's order)."""
    found = {}
    for cell in read(path).cells:
        m = HIDDEN.match(cell.source)
        if "BEGIN HIDDEN TESTS" in cell.source:
            assert m, cell.source
            meta = nbg(cell)
            assert meta["grade"] and not meta["solution"] and meta["locked"]
            gid = m.group("id") or m.group("vid")
            assert meta["grade_id"] == gid and (gid in VALUE_CHECKS) == bool(m.group("vid"))
            found[gid] = meta["points"]
    assert list(found.items()) == list(registry_checks(path).items())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_every_name_a_check_reads_is_defined_by_the_notebook(path):
    """The probe reads each check's ``reads`` from the student's namespace: the notebook must define them."""
    import ast
    defined = set()
    for cell in read(path).cells:
        if cell.cell_type != "code" or cell.source.startswith("%"):
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                defined.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                defined.add(node.id)
    for check in checks.REGISTRY:
        if check.notebook == ASSIGNMENT[path]:
            assert set(check.reads) <= defined, (check.id, sorted(set(check.reads) - defined))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_prediction_cells_and_manual_answers(path):
    nb = read(path)
    keys = {nbg(c)["grade_id"][len("predict_"):] for c in nb.cells if nbg(c)["grade_id"].startswith("predict_")}
    assert keys == predictions(path) and keys
    for c in nb.cells:
        if nbg(c)["grade_id"].startswith("predict_"):
            assert nbg(c)["solution"] and not nbg(c)["grade"] and "predict(" in c.source
    manual = {nbg(c)["grade_id"]: nbg(c)["points"] for c in nb.cells
              if c.cell_type == "markdown" and nbg(c)["solution"] and nbg(c)["grade"]}
    assert len(manual) >= 5
    if path == HOMEWORK:
        memo = [p for gid, p in manual.items() if gid.startswith("hw_memo_")]
        assert memo == [25, 15, 15, 15, 30]
    else:
        # Neutral ids: the student sees grade ids in the metadata, so they must not name the bugs.
        assert {"lab_bug_explain_1", "lab_bug_explain_2", "lab_bug_explain_3", "lab_deployment_reasoning",
                "lab_ece_mechanism"} <= set(manual)
    # No answer sits in a cell: reveals are code cells that call reveal(), after their prediction.
    assert not any("<details>" in c.source for c in nb.cells), "reveals live in helpers/reveal_text.b64"
    order = [nbg(c)["grade_id"] for c in nb.cells]
    calls = {m.group(1): i for i, c in enumerate(nb.cells) for m in re.finditer(r'reveal\("(\w+)"\)', c.source)}
    assert set(calls) == set(reveals_of(path)) and calls
    _, sections = P.read_reveal_file()
    for name, after in reveals_of(path).items():
        assert sections[name][0] == after
        for key in after:
            assert order.index(f"predict_{key}") < calls[name]
            observing = [i for i, c in enumerate(nb.cells) if f'observe("{key}"' in c.source]
            assert observing and observing[0] < calls[name], f"{name}: the reveal must come after observe({key!r})"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_committed_notebook_is_what_the_sources_build(path):
    built, target = make_notebooks.build(KIND[path])
    assert target == path
    blank = lambda text: reveals.SPAN.sub(lambda m: f"<!-- reveal:{m.group('key')} -->", text)  # noqa: E731
    committed = read(path)
    assert [(c.cell_type, blank(c.source), c.metadata) for c in built.cells] == \
        [(c.cell_type, blank(c.source), c.metadata) for c in committed.cells], \
        "stale: run python notebooks/make_notebooks.py"
    assert blank(make_notebooks.reveal_file_text()).split("\n", 1)[1] == \
        blank(read_reveal_text(reveals.REVEAL_FILE)).split("\n", 1)[1], \
        "stale reveal file: run python notebooks/make_notebooks.py"
    assert INSTALL_SPEC in committed.cells[1].source, "the setup cell must install from setup_env.INSTALL_SPEC"


# --------------------------------------------------------------------------- release
def _release(path, tmp_path):
    from nbgrader.preprocessors import ClearHiddenTests, ClearOutput, ClearSolutions

    from autograder.nbgrader_config import CODE_STUB
    nb = read(path)
    for pp in (ClearSolutions(code_stub={"python": CODE_STUB}), ClearHiddenTests(), ClearOutput()):
        nb, _ = pp.preprocess(nb, {})
    return nb


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_release_hides_solutions_and_hidden_tests_and_stubs_raise(path, tmp_path):
    source, release = read(path), _release(path, tmp_path)
    text = "\n".join(c.source for c in release.cells)
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text and "report(" not in text
    instructions = "\n".join(c.source for c in source.cells if not nbg(c)["solution"])
    for cell in source.cells:
        if "### BEGIN SOLUTION" in cell.source:
            before, rest = cell.source.split("### BEGIN SOLUTION")
            body, after = rest.split("### END SOLUTION")
            given = {ln.strip() for ln in (before + after).splitlines()}
            for line in body.splitlines():
                line = line.strip()
                # Lines the instructions spell out on purpose (the resampling recipe), and lines the
                # released cell itself shows (the colleague's code the student fixes), are not leaks.
                if len(line) > 25 and not line.startswith("#") and line not in instructions and line not in given:
                    assert line not in text, f"solution line leaked: {line}"
    import numpy as np
    import pandas as pd
    import torch
    import torch.nn.functional as F
    stubs = 0
    for cell in release.cells:
        if not (nbg(cell).get("solution") and cell.cell_type == "code"):
            continue
        ns = {"np": np, "pd": pd, "torch": torch, "F": F, "predict": P.predict}
        fn = re.match(r"def (\w+)\((.*?)\):", cell.source)
        if fn is None:
            with pytest.raises(NotImplementedError, match="not implemented yet"):
                exec(cell.source, ns)
        else:
            exec(cell.source, ns)
            params = inspect.signature(ns[fn.group(1)]).parameters.values()
            n_required = sum(p.default is inspect.Parameter.empty for p in params)
            with pytest.raises(NotImplementedError, match="not implemented yet"):
                ns[fn.group(1)](*([None] * n_required))
        stubs += 1
    # every solution code cell of the source became a stub that raises (none lost, none left answered)
    assert stubs == sum(nbg(c)["solution"] and c.cell_type == "code" for c in source.cells) > 0


@pytest.mark.slow
def test_nbgrader_generate_assignment(tmp_path):
    """The instructor's real release command, with the course's nbgrader config."""
    subprocess.run([sys.executable, "-m", "autograder", "release", "--work", str(tmp_path),
                    "--allow-synthetic-reveals", "--allow-private-install", "--skip-reveals-check"],
                   check=True, capture_output=True, timeout=300)
    for path in NOTEBOOKS:
        released = (tmp_path / "release" / path.parent.name / path.name).read_text()
        assert "BEGIN SOLUTION" not in released and "BEGIN HIDDEN TESTS" not in released
        assert "not implemented yet" in released


# --------------------------------------------------------------------------- execution
def _reporter_path(tmp):
    """The checkout, so a value check's cell imports the real kernel reporter."""
    return str(ROOT)


_EXECUTED = {}   # one run per session, shared with tests/test_model_answers.py


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    if _EXECUTED:
        return _EXECUTED
    from helpers.tools.notebook_run import execute
    tmp = tmp_path_factory.mktemp("executed")
    mp = pytest.MonkeyPatch()
    mp.setenv("HF_HUB_OFFLINE", "1")
    mp.setenv("MPLBACKEND", "Agg")
    mp.setenv("COURSE_CACHE", str(tmp / "cache"))
    mp.delenv("COURSE_DATA_SOURCE", raising=False)
    mp.setenv("PYTHONPATH", _reporter_path(tmp))
    results = {}
    try:
        for path in NOTEBOOKS:
            nb, seconds = execute(path, timeout=120, append=[FINAL_STATE[path]])
            results[path] = (nb, seconds)
            nbformat.write(nb, str(tmp / path.name))
            print(f"{path.name}: executed in {results[path][1]:.1f} s")
    finally:
        mp.undo()
    _EXECUTED.update(results)
    return results


def outputs(nb):
    text, html = [], []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if o.output_type == "stream":
                text.append(o.text)
            elif "data" in o:
                html.append(o.data.get("text/html", "") or o.data.get("text/markdown", ""))
                text.append(o.data.get("text/plain", ""))
    return "\n".join(text), html


def span_body(path, key):
    for cell in read(path).cells:
        for m in reveals.SPAN.finditer(cell.source):
            if m.group("key") == key:
                return m.group("body")
    raise KeyError(key)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_runs_top_to_bottom_with_solutions(executed, path):
    nb, seconds = executed[path]
    text, html = outputs(nb)
    assert "Traceback" not in text
    probed = {json.loads(line.split(" ", 1)[1])["check"] for line in text.splitlines()
              if line.startswith("@@AUTOGRADER-RESULT@@")}
    assert probed == set(registry_checks(path)) & VALUE_CHECKS  # function checks print nothing in the kernel
    observed = {o["key"]: o for o in P.parse_observations(nb)}
    assert set(observed) == predictions(path)
    # Every table says where its numbers came from.
    captions = [h for h in html if "<caption>" in h]
    assert captions and all("SYNTHETIC" in h for h in captions)
    assert seconds < 300


def test_lab_observations_match_the_rendered_reveals(executed):
    nb, _ = executed[LAB]
    text, html = outputs(nb)
    observed = {o["key"]: o for o in P.parse_observations(nb)}
    assert format(observed["teacher_tail_f1"]["actual"], ".3f") == span_body(LAB, "teacher_f1_tail")
    # The claims the reveals make are what the notebook observes.
    assert observed["most_peaked_tier"]["actual"] == "head"
    assert observed["f1_lift_lands"]["actual"] == "head"
    assert observed["ece_follows_f1"]["actual"] == "no"
    assert any("Deployment self-check: all rules hold" in h for h in html), "the deployment self-check should pass"


def test_homework_numbers_match_the_rendered_reveals(executed):
    nb, _ = executed[HOMEWORK]
    text, _ = outputs(nb)
    m = re.search(r"T-scaling reproduces (\d+)% of KD's ECE gain", text)
    assert m and f"{m.group(1)}%" == span_body(HOMEWORK, "repro_fraction")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_reveals_show_in_the_observing_run_and_say_synthetic(executed, path):
    nb, _ = executed[path]
    _, sections = P.read_reveal_file()
    for name in reveals_of(path):
        (cell,) = [c for c in nb.cells if f'reveal("{name}")' in c.source]
        shown = "".join(o.data.get("text/markdown", "") for o in cell.outputs if "data" in o)
        assert shown.startswith("**Reveal") and "SYNTHETIC DATA" in shown, (name, shown[:200])
        assert "<!--" not in shown


def test_executed_notebooks_render_to_html_with_their_outputs(executed, tmp_path):
    """What `make demo` writes: a standalone page that shows the run's tables and figures."""
    from helpers.tools.notebook_run import write_html
    for path, (nb, _) in executed.items():
        page = write_html(nb, tmp_path / f"{path.stem}.html").read_text()
        assert page.lstrip().lower().startswith("<!doctype html")
        assert "data:image/png;base64" in page  # figures are embedded
        assert "SYNTHETIC" in page
