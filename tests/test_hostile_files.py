"""Submission files and outputs as hostile data, piece by piece (fast; the whole pipeline with the same
attacks is tests/test_hostile_submissions.py): the notebook read without following links or blocking
on FIFOs, destinations replaced instead of written through, the kernel's scratch cwd and safe-path
mode, output bounded in bytes while it runs (300 MB printed, the grading process stays small),
sanitised HTML, the notebook-edit / prediction / verdict-like flags, and the similarity report.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from html.parser import HTMLParser

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from autograder import flags as F
from autograder.nbgrader_config import REPO
from autograder.outputs import replace_file, write_new_file
from autograder.sanitize import SanitizeSubmission
from autograder.submissions import RefusedFile, discover, folder_entries, read_notebook_bytes

NB = nbformat.writes(new_notebook(cells=[new_code_cell("x = 1")]))


# ---------------------------------------------------------------- reading the notebook
def test_a_regular_notebook_is_read(tmp_path):
    p = tmp_path / "week6_lab.ipynb"
    p.write_text(NB)
    assert read_notebook_bytes(p) == NB.encode()


@pytest.mark.timeout(20)
@pytest.mark.parametrize("kind", ["symlink", "fifo", "dev_zero", "folder", "too_big"])
def test_anything_but_a_small_regular_file_is_refused_without_being_followed(tmp_path, kind):
    victim = tmp_path / "answer_key.json"
    victim.write_text('{"secret": 1}')
    p = tmp_path / "week6_lab.ipynb"
    if kind == "symlink":
        p.symlink_to(victim)
    elif kind == "fifo":
        os.mkfifo(p)  # opening it for reading would block until a writer comes: it must not be opened
    elif kind == "dev_zero":
        p.symlink_to("/dev/zero")  # reading it would never end
    elif kind == "folder":
        p.mkdir()
    else:
        p.write_text(NB)
    with pytest.raises(RefusedFile) as err:
        read_notebook_bytes(p, max_bytes=len(NB) - 1 if kind == "too_big" else 1 << 20)
    expected = {"symlink": "a symlink to", "fifo": "FIFO", "dev_zero": "a symlink to /dev/zero",
                "folder": "a folder", "too_big": "over the"}[kind]
    assert expected in str(err.value) and "week6_lab.ipynb" in str(err.value)


@pytest.mark.timeout(30)
def test_discover_refuses_linked_notebooks_and_folders_and_names_them(tmp_path):
    sub = tmp_path / "submitted"
    honest = sub / "alice" / "week6_lab"
    honest.mkdir(parents=True)
    (honest / "week6_lab.ipynb").write_text(NB)
    (honest / "key.json").symlink_to(REPO / "autograder" / "answer_key.json")
    os.mkfifo(honest / "pipe")
    (honest / "helpers").mkdir()
    (honest / "notes.txt").write_text("hi")
    (sub / "bob" / "week6_lab").mkdir(parents=True)
    (sub / "bob" / "week6_lab" / "week6_lab.ipynb").symlink_to(honest / "week6_lab.ipynb")
    (sub / "carol" / "week6_lab").mkdir(parents=True)
    os.mkfifo(sub / "carol" / "week6_lab" / "week6_lab.ipynb")
    (sub / "dave").symlink_to(sub / "alice")  # a whole student folder that is a classmate's
    found, problems = discover(sub)
    assert [(s.student, s.assignment) for s in found] == [("alice", "week6_lab")]
    why = {p.student: " ".join(p.issues) for p in problems}
    assert "a symlink to" in why["bob"] and "refused" in why["bob"]
    assert "FIFO" in why["carol"]
    assert "dave" in why and "a symlink" in why["dave"]
    refused, ignored = folder_entries(honest, honest / "week6_lab.ipynb")
    assert any(r.startswith("key.json (a symlink to") for r in refused), refused
    assert any(r.startswith("pipe (a FIFO") for r in refused), refused
    assert ignored == ["helpers/", "notes.txt"]


# ---------------------------------------------------------------- writing outputs
def test_a_link_at_the_destination_is_replaced_never_written_through(tmp_path):
    victim = tmp_path / "gradebook.db"
    victim.write_text("the class's grades")
    src = tmp_path / "feedback.html"
    src.write_text("<p>feedback</p>")
    dest = tmp_path / "out" / "feedback.html"
    dest.parent.mkdir()
    dest.symlink_to(victim)
    replace_file(src, dest)
    assert victim.read_text() == "the class's grades"
    assert not dest.is_symlink() and dest.read_text() == "<p>feedback</p>"
    write_new_file(dest, b"again")  # over a read-only copy too (nbgrader leaves its outputs 0444)
    assert dest.read_bytes() == b"again"
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(ValueError, match="not a regular file"):  # a FIFO source: refused on the descriptor
        replace_file(tmp_path / "fifo", tmp_path / "copy")
    link = tmp_path / "link.html"
    link.symlink_to(src)
    with pytest.raises(OSError):  # a link as the source: O_NOFOLLOW refuses it
        replace_file(link, tmp_path / "copy")


# ---------------------------------------------------------------- the kernel: cwd, safe path, output bytes
KERNEL_SCRIPT = textwrap.dedent('''
    import json, resource, sys
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook
    from autograder.preprocessors.execute import GuardedExecute, output_limit_issues
    from autograder.nbgrader_config import ensure_tools_on_path
    ensure_tools_on_path()
    folder = sys.argv[1]
    nb = new_notebook(cells=[
        new_code_cell("import os, sys\\nprint(os.getcwd())\\nprint(sorted(os.listdir('.')))"),
        new_code_cell("import helpers\\nprint(helpers.__file__)"),
        new_code_cell("chunk = 'x' * (1 << 20)\\nfor _ in range(300):\\n    print(chunk)"),
        new_code_cell("print('y' * (40 << 20))"),
        new_code_cell("print('still running')"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    ep = GuardedExecute(timeout=120, kernel_name="python3")
    base_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the imports (torch, nbgrader)
    nb, _ = ep.preprocess(nb, {"metadata": {"path": folder}})
    outs = [[o.get("text", "") for o in c.outputs] for c in nb.cells]
    print(json.dumps({"outs": [[t[:300] + ("..." if len(t) > 300 else "") for t in o] for o in outs],
                      "sizes": [sum(map(len, o)) for o in outs], "issues": output_limit_issues(nb),
                      "growth_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - base_mb}))
''')


@pytest.mark.timeout(300)
def test_kernel_runs_in_scratch_with_safe_path_and_bounded_output(tmp_path):
    """The notebook's folder holds a helpers/ package meant to shadow the real one: the kernel never sees
    it (its cwd is an empty scratch folder, safe-path mode on).  300 MB printed in 1 MiB lines and one
    40 MiB line: each cell keeps at most 1 MiB and a note, the next cell still runs, the grading process
    stays small (a message over 8 MiB is never read: zmq's MAXMSGSIZE)."""
    folder = tmp_path / "submission"
    (folder / "helpers").mkdir(parents=True)
    (folder / "helpers" / "__init__.py").write_text("SHADOW = True\n")
    script = tmp_path / "run.py"
    script.write_text(KERNEL_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, str(script), str(folder)], capture_output=True, text=True,
                          timeout=280, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    cwd_out = r["outs"][0][0]
    assert str(folder) not in cwd_out and "ag-cwd-" in cwd_out and "[]" in cwd_out, cwd_out
    assert str(folder) not in r["outs"][1][0] and "helpers" in r["outs"][1][0], r["outs"][1]
    # The kernel batches prints: the cell keeps at most its 1 MiB (what fit before the limit, or nothing
    # when one batch was already over max_message_bytes) and a note either way.
    assert r["sizes"][2] <= (1 << 20) + 4096, r["sizes"]
    assert "[autograder] output limit:" in "".join(r["outs"][2])
    assert r["sizes"][3] < 4096, r["outs"][3]   # the 40 MiB line: dropped (never read), with a note
    assert "a single output over 8388608 bytes was dropped" in "".join(r["outs"][3])
    assert r["outs"][4] == ["still running\n"], r["outs"]
    assert any("output limit in cell #2" in i for i in r["issues"]), r["issues"]
    assert r["growth_mb"] < 250, r  # 300 MB printed; the grading process grows far less than that
    assert not list(folder.glob("*.ipynb")) and sorted(os.listdir(folder)) == ["helpers"]


# ---------------------------------------------------------------- sanitised HTML
ATTACK = "XSSMARK"
HTML_ATTACK = (f"<script>alert('{ATTACK}1')</script><img src=x onerror=\"alert('{ATTACK}2')\">"
               f"<style>body{{display:none}} /*{ATTACK}3*/</style><iframe src='https://evil/{ATTACK}4'></iframe>"
               f"<svg onload=\"alert('{ATTACK}5')\"></svg><a href=\"javascript:alert('{ATTACK}6')\">x</a>"
               f"<form action='https://evil/{ATTACK}7'><input></form><object data='{ATTACK}8'></object>"
               f"<embed src='{ATTACK}9'><table><tr><td>kept table cell</td></tr></table>")


def attack_notebook() -> nbformat.NotebookNode:
    """A notebook whose outputs and markdown carry every kind of active content."""
    code = new_code_cell("display(...)", outputs=[
        new_output("display_data", data={"text/html": HTML_ATTACK, "text/plain": "plain"}),
        new_output("display_data", data={"image/svg+xml": f"<svg onload=\"alert('{ATTACK}10')\"/>"}),
        new_output("display_data", data={"application/javascript": f"alert('{ATTACK}11')"}),
        new_output("execute_result", data={"text/markdown": HTML_ATTACK}, execution_count=1),
    ])
    md = new_markdown_cell(f"# Answer\n\n> a quote\n\n{HTML_ATTACK}")
    nb = new_notebook(cells=[md, code])
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "state": {"x": {"model_name": f"</script><script>alert('{ATTACK}12')"}}, "version_major": 2,
        "version_minor": 0}}
    return nb


class ActiveContent(HTMLParser):
    """Every place in a page where an attack's marker could run or style the page."""

    BAD_TAGS = {"script", "style", "iframe", "object", "embed", "form", "svg"}

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.open.append(tag)
        for k, v in attrs:
            v = v or ""
            if (k.startswith("on") or v.strip().lower().startswith("javascript:")) and ATTACK in v:
                self.found.append(f"<{tag} {k}={v}>")
            if tag in self.BAD_TAGS and ATTACK in v:
                self.found.append(f"<{tag} {k}={v}>")

    def handle_endtag(self, tag):
        if tag in self.open:
            del self.open[len(self.open) - 1 - self.open[::-1].index(tag):]

    def handle_data(self, data):
        inside = [t for t in self.open if t in self.BAD_TAGS]
        if inside and ATTACK in data:
            self.found.append(f"{inside[-1]}: {data[:80]}")


def active_content(page: str) -> list[str]:
    """What of the attack is still active in ``page`` (empty: nothing)."""
    p = ActiveContent()
    p.feed(page)
    return p.found


def test_the_attack_is_active_in_an_unsanitised_page():
    """The detector works: nbconvert without sanitising lets the attack through."""
    from nbconvert import HTMLExporter
    html, _ = HTMLExporter().from_notebook_node(attack_notebook())
    assert len(active_content(html)) >= 5


def test_sanitised_notebook_renders_no_active_content():
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    from autograder.sanitize import configure
    nb, _ = SanitizeSubmission().preprocess(attack_notebook(), {})
    raw = json.dumps(nb)
    for bad in ("<script", "onerror", "onload", "javascript:", "<iframe", "<style", "<svg", "<form", "<embed"):
        assert bad not in raw.lower(), bad
    assert "kept table cell" in raw and "> a quote" in nb.cells[0].source  # tables and quotes survive
    for cfg in (Config(), configure(Config())):  # rendered as is, and with nbconvert's own sanitising on
        html, _ = HTMLExporter(config=cfg).from_notebook_node(nb)
        assert active_content(html) == [], active_content(html)


# ---------------------------------------------------------------- flags
def _release():
    hidden = new_code_cell("check()", metadata={"nbgrader": {"grade": True, "locked": True, "solution": False,
                                                              "points": 6, "grade_id": "lab_kd_loss",
                                                              "schema_version": 3}})
    answer = new_code_cell("def f(): ...", metadata={"nbgrader": {"grade": False, "locked": False,
                                                                   "solution": True, "grade_id": "answer_f",
                                                                   "schema_version": 3}})
    predict = new_code_cell('predict("teacher_tail_f1", 0.35, "why")',
                            metadata={"nbgrader": {"grade": False, "locked": False, "solution": True,
                                                   "grade_id": "predict_teacher_tail_f1", "schema_version": 3}})
    observe = new_code_cell('require("teacher_tail_f1")\nobserve("teacher_tail_f1", x)',
                            metadata={"nbgrader": {"grade": False, "locked": True, "solution": False,
                                                   "grade_id": "lab_co012", "schema_version": 3}})
    nb = new_notebook(cells=[answer, predict, observe, hidden])
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    return nb


def test_an_untouched_notebook_has_no_flags():
    rel = _release()
    assert F.notebook_edit_flags(rel, _release()) == [] and F.duplicate_id_issues(rel) == []
    assert F.output_flags(rel) == []


def test_edits_duplicates_late_predictions_and_verdict_lines_are_flagged_with_their_cell():
    sub = _release()
    answer, predict, observe, hidden = sub.cells
    hidden.metadata.nbgrader["points"] = 60
    hidden.cell_type = "markdown"
    sub.metadata.kernelspec["name"] = "evil"
    predict.source = 'predict("teacher_tail_f1", 0.9, "hindsight")'
    predict.execution_count, observe.execution_count = 12, 7
    observe.outputs = [new_output("stream", name="stdout", text='PREDICT_OBSERVE_JSON ' + json.dumps(
        {"key": "teacher_tail_f1", "prediction": 0.35, "actual": 0.9}) + "\n")]
    answer.outputs = [new_output("stream", name="stdout", text="Autograder: lab_kd_loss: 6 / 6 points\n")]
    sub.cells.append(nbformat.from_dict(json.loads(json.dumps(answer))))  # a duplicated answer cell
    got = "\n".join(F.notebook_edit_flags(sub, _release()))
    assert "cell lab_kd_loss: hidden cell's nbgrader points changed from 6 to 60" in got
    assert "cell lab_kd_loss: hidden cell's type changed from code to markdown" in got
    assert "kernelspec name changed from 'python3' to 'evil'" in got
    assert "cell predict_teacher_tail_f1: prediction run (execution 12) after its observation in cell " \
           "lab_co012 (execution 7)" in got
    assert "prediction edited after its observation" in got and "0.35" in got and "0.9" in got
    assert "grade id answer_f appears in 2 cells (positions 0, 4)" in got
    assert F.duplicate_id_issues(sub) and "answer_f" in F.duplicate_id_issues(sub)[0]
    out = F.output_flags(sub)
    assert out and out[0].startswith("cell answer_f: prints a verdict-like line"), out


# ---------------------------------------------------------------- similarity
def test_similarity_finds_a_renamed_copy_and_escapes_its_pages(tmp_path):
    pytest.importorskip("copydetect")
    from autograder.similarity import compare, function_sources, similarity_report
    body = ("def per_tier_f1(labels, preds, tiers):\n    scores = {}\n    for tier in sorted(set(tiers)):\n"
            "        idx = [i for i, t in enumerate(tiers) if t == tier]\n"
            "        hits = sum(labels[i] == preds[i] for i in idx)\n"
            "        scores[tier] = hits / max(len(idx), 1)  # </pre><script>alert(1)</script>\n"
            "    return scores\n")
    renamed = body.replace("scores", "result").replace("idx", "members").replace("hits", "good")
    other = ("def per_tier_f1(labels, preds, tiers):\n    import collections\n    c = collections.Counter()\n"
             "    n = collections.Counter(tiers)\n    for l, p, t in zip(labels, preds, tiers):\n"
             "        c[t] += l == p\n    return {t: c[t] / n[t] for t in n}\n")
    stub = "def per_tier_f1(labels, preds, tiers):\n    raise NotImplementedError('not yet')\n"
    meta = {"nbgrader": {"solution": True, "grade": False, "locked": False, "grade_id": "a"}}
    sub = tmp_path / "submitted"
    for who, src in (("ann", body), ("ben", renamed), ("cat", other), ("dan", stub), ("eve", stub)):
        (sub / who / "week6_lab").mkdir(parents=True)
        nbformat.write(new_notebook(cells=[new_code_cell(src, metadata=meta)]),
                       sub / who / "week6_lab" / "week6_lab.ipynb")
    assert function_sources(nbformat.reads(nbformat.writes(new_notebook(cells=[new_code_cell(stub, metadata=meta)])),
                                           as_version=4), ("per_tier_f1",)) == {}
    pairs = compare({"ann": {"per_tier_f1": body}, "ben": {"per_tier_f1": renamed},
                     "cat": {"per_tier_f1": other}}, "week6_lab")
    assert (pairs[0].a, pairs[0].b) == ("ann", "ben") and pairs[0].score > 0.9 > pairs[-1].score
    text = similarity_report(sub, tmp_path / "out")
    assert "week6_lab per_tier_f1: ann / ben" in text and "dan / eve" not in text, text
    page = next((tmp_path / "out" / "similarity").glob("*ann__ben.html")).read_text()
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
