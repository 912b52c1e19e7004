"""The bug hunt: lab_bug_choices (which statements about the colleague's KD loss are bugs) and
lab_fixed_kd_loss (the colleague's function fixed in place).

The fix is judged on the colleague's code: inputs that tell every combination of
fixes (and of edits to correct code) apart by its values, run on the fixed_kd_loss
cell ALONE in the function host (the student's kd_loss_fn is not defined there), and
the cell's source, read here in the driver: the function must keep most of the
colleague's tokens and pass ``fix_problem``'s rules (the colleague's statements edited
in place: no other functions or lambdas, no dead code after the return, nothing
called but torch, F and methods, the result computed from the function's own statements).  Which
statements are real bugs, what each bug is and the hints that name them are in the
answer key (``autograder/answer_key.json``, ``colleague_bugs``), read by the judges
in the driver: this module names none of them.
"""
from __future__ import annotations

from collections.abc import Mapping

import helpers.kd as hk

from ..kernel.encoding import describe, plain
from ..kernel.pristine import PY
from .base import Check
from .fix_rules import def_source, fix_problem
from .kd import ce_term, kd_inputs, kd_tolerance, soft_term
from .kd_judge import KD_ATOL, KD_RTOL, kd_value
from .runner import Runner, lookup, missing
from .verdict import Part, Verdict, close, error_of, part, verdict, zero

# --------------------------------------------------------------------------- inputs (drawn from the run's seed)
# Settings chosen so that every combination of fixes and edits gives different values
# (build-expected asserts it): small and large T_d, symmetric and asymmetric alpha.
FIXED_CASES = [(5, 113, 1.0, 0.5), (5, 113, 4.0, 0.5), (5, 113, 4.0, 0.8), (4, 7, 2.0, 0.2), (5, 113, 8.0, 0.7)]


def fixed_inputs(j: int, batch: int, n_classes: int, seed: int = 0) -> tuple:
    """(student logits, teacher logits, labels) of the fixed loss's case ``j``."""
    return kd_inputs(800 + j, batch, n_classes, seed=seed)


def probe_fixed(ns: Mapping, run: Runner) -> dict:
    """fixed_kd_loss on the cases (its cell alone in the host), the def's source and the static rules' verdict."""
    found, fn = lookup(ns, "fixed_kd_loss")
    if not found:
        return {"missing": missing("fixed_kd_loss")}
    cases = []
    for j, (b, c, T, a) in PY.enumerate(FIXED_CASES):
        s, t, y = fixed_inputs(j, b, c, seed=run.seed)
        cases.append(run.call(fn, (s, t, y, T, a), "loss"))
    cell = getattr(fn, "cell_source", None)
    if cell is None:  # a local function (tests, references): its source is what it is
        return {"cases": cases, "source": source_of(fn), "fix_problem": ""}
    return {"cases": cases, "source": def_source(cell, "fixed_kd_loss"), "fix_problem": fix_problem(cell)}


def source_of(fn: object) -> str | None:
    """The source text of a local function (None when it has none)."""
    import inspect
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):
        return None


def probe_choices(ns: Mapping, run: Runner) -> dict:
    """The statement ids in chosen_bugs (a set, list or dict of them, as the kernel's reporter sent it), sorted."""
    found, chosen = lookup(ns, "chosen_bugs")
    if not found:
        return {"chosen": missing("chosen_bugs")}
    try:
        items = PY.list(chosen.keys()) if PY.isinstance(chosen, PY.dict) else PY.list(chosen)
        return {"chosen": {"ok": True, "value": PY.sorted({PY.str(plain(v)) for v in items})}}
    except PY.BaseException as exc:
        return {"chosen": {"ok": False, "error": f"chosen_bugs could not be read as a set of ids ({describe(exc)})"}}


# --------------------------------------------------------------------------- the fixed loss: judge (driver side)
# How close the fixed function's code must stay to the colleague's: the share of the
# colleague's tokens that survive in order (difflib).  Fixing the three bugs in place keeps
# about 0.9 of them (also with .float()/.detach() added); a KD loss written afresh, even in
# the colleague's style, keeps at most about 0.67 (tests/checks/test_bugs.py).
FIX_MIN_KEPT = 0.8


def colleague_bugs() -> dict:
    """The answer key's description of the colleague's bugs (driver only)."""
    from .answer_files import load_answer_key
    return load_answer_key()["colleague_bugs"]


def _code_tokens(source: str) -> list[str] | None:
    """Names, operators and literals of a function's body (no signature, docstring, comments or layout)."""
    import io
    import tokenize
    try:
        gen = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None
    skip = (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENDMARKER)
    toks, body = [], False
    for tok in gen:
        if not body:
            # The body starts after the logical line of the def (whatever its annotations or defaults).
            body = tok.type == tokenize.NEWLINE
            continue
        if tok.type in skip:
            continue
        if tok.type == tokenize.STRING and not toks:
            continue  # the docstring
        toks.append(tok.string)
    return toks


def kept_share(student_source: str, colleague_source: str) -> float:
    """The share of the colleague's body tokens that survive, in order, in the student's function."""
    import difflib
    mine, theirs = _code_tokens(student_source), _code_tokens(colleague_source)
    if not mine or not theirs:
        return 0.0
    sm = difflib.SequenceMatcher(None, theirs, mine, autojunk=False)
    return sum(b.size for b in sm.get_matching_blocks()) / len(theirs)


def judge_fixed(check: Check, data: dict, exp: dict) -> Verdict:
    """One point per bug fixed (read from which combination of fixes the values match), -1 for breaking correct code."""
    check_id = check.id
    if "missing" in data:
        return zero(check_id, check.points, f"{error_of(data['missing'])}; fix the colleague's code in the cell that "
                                            "defines fixed_kd_loss.", "graded")
    bugs = colleague_bugs()
    order, hints = bugs["order"], bugs["fix_hints"]

    def all_parts(ok_bugs, message, detail=""):
        return [part(f"fixed_{b}", b in ok_bugs, 1, message or f"{hints[b]}.", detail) for b in order]

    if data.get("fix_problem"):
        return verdict(check_id, check.points, all_parts(
            set(), f"{data['fix_problem']}; the task is to fix the colleague's code in place (change the "
                   "lines that are wrong, keep the rest); the cell is graded alone, without your other cells.",
            data["fix_problem"]))
    if data.get("is_kd_loss_fn") or data.get("name") == "kd_loss_fn":
        return verdict(check_id, check.points, all_parts(
            set(), "fixed_kd_loss is your own kd_loss_fn; the task is to fix the colleague's code: edit the copy of it "
                   "in the fixed_kd_loss cell.", "aliased kd_loss_fn"))
    src = data.get("source")
    if not isinstance(src, str):
        return verdict(check_id, check.points, all_parts(
            set(), "the source of fixed_kd_loss could not be read; define it with def in the cell that holds the "
                   "colleague's copy.", "no source"))
    kept = kept_share(src, exp["colleague_source"])
    if kept < FIX_MIN_KEPT:
        return verdict(check_id, check.points, all_parts(
            set(), f"fixed_kd_loss keeps only {kept:.0%} of the colleague's code; the task is to fix the "
                   "colleague's function in place (change the lines that are wrong, keep the rest), not to write "
                   "a new loss.", f"kept share {kept:.3f}"))
    got = data.get("cases", [])
    values = [kd_value(r) for r in got]
    if any(v is None for v in values):
        first = next(r for r in got if kd_value(r) is None)
        msg = f"fixed_kd_loss raised or returned something unusable ({error_of(first)}) on the probe's inputs."
        return verdict(check_id, check.points, all_parts(set(), msg, msg))
    match = None
    for combo in exp["combos"]:
        if all(close(v, e, KD_RTOL, KD_ATOL) for v, e in zip(values, combo["values"])):
            match = combo
            break
    if match is None:
        return verdict(check_id, check.points, all_parts(
            set(), "fixed_kd_loss computes neither the colleague's loss nor any version of it with some bugs "
                   "fixed: change only the lines that are wrong, and compare with your kd_loss_fn.",
            f"no combination matched; values {values[:3]}"))
    extra = match["edits"]
    parts = [part(f"fixed_{b}", b in match["fixed"], 1, f"{hints[b]}.", f"matched {match['name']}")
             for b in order]
    if extra:
        parts.append(Part("changed_correct_code", -1, 0, False,
                          f"you also changed code that was correct as written ({', '.join(extra)}); "
                          "that makes the loss wrong again (-1).", f"edits {extra}"))
    return verdict(check_id, check.points, parts)


# --------------------------------------------------------------------------- the bug hunt: judge (driver side)
def judge_bugs(check: Check, data: dict, exp: dict) -> Verdict:
    """One point per real bug chosen, -1 per correct statement chosen; unknown ids are ignored."""
    check_id = check.id
    key = exp["answer_key"]
    got = data.get("chosen", {})
    if not got.get("ok"):
        return zero(check_id, check.points, f"{error_of(got)}; set chosen_bugs to a set of statement ids such as "
                                            "{'S1', 'S2'}.", "graded")
    hunt_hints = colleague_bugs()["hunt_hints"]
    chosen = set(got["value"])
    parts = []
    for sid, kind in sorted(key["bugs"].items()):
        parts.append(part(f"bug_{kind}", sid in chosen, 1,
                          f"one of the three bugs was not chosen; hint: look again at {hunt_hints.get(kind, kind)}.",
                          f"missed {sid}"))
    wrong = sorted(chosen & set(key["non_bugs"]))
    unknown = sorted(chosen - set(key["bugs"]) - set(key["non_bugs"]))
    if wrong:
        parts.append(Part("non_bugs_chosen", -len(wrong), 0, False,
                          f"you chose {', '.join(wrong)}, which {'is' if len(wrong) == 1 else 'are'} not "
                          f"among the bugs (-1 each); that code is correct as written.",
                          f"non-bugs chosen {wrong}"))
    if unknown:
        parts.append(Part("unknown_ids", 0, 0, False, f"ignored ids that are not statements: {', '.join(unknown)}.",
                          f"unknown {unknown}"))
    return verdict(check_id, check.points, parts)


# --------------------------------------------------------------------------- expected values (driver side)
def colleague_loss_values(fixed: tuple[str, ...], edit: str | None, bugs: dict, seed: int = 0) -> list[float]:
    """The colleague's loss on the fixed cases with the bugs in ``fixed`` fixed and one distractor ``edit`` made."""
    edit_kw = bugs["distractor_edits"].get(edit, {}) if edit else {}
    soft_kw, ce_kw, swapped = dict(edit_kw.get("soft", {})), dict(edit_kw.get("ce", {})), False
    for bug in bugs["order"]:
        if bug not in fixed:
            written = bugs["as_written"][bug]
            soft_kw.update(written.get("soft", {}))
            ce_kw.update(written.get("ce", {}))
            swapped = swapped or written.get("weights_swapped", False)
    values = []
    for j, (b, c, T, a) in enumerate(FIXED_CASES):
        s, t, y = fixed_inputs(j, b, c, seed=seed)
        soft = soft_term(s, t, T, **soft_kw)
        ce = ce_term(s, t, y, T, **ce_kw)
        w_soft, w_ce = (1 - a, a) if swapped else (a, 1 - a)
        values.append(float(w_soft * soft + w_ce * ce))
    return values


def fixed_combos(bugs: dict, seed: int = 0) -> list[dict]:
    """The colleague's loss with every subset of its bugs fixed, alone and with one distractor edit."""
    import itertools
    order = bugs["order"]
    edits = [None, *bugs["distractor_edits"]]
    combos = []
    for n in range(len(order), -1, -1):  # more fixes first: an ambiguous edit gets the generous reading
        for fixed in itertools.combinations(order, n):
            for edit in edits:
                values = colleague_loss_values(fixed, edit, bugs, seed)
                name = "+".join(fixed) or "colleague as given"
                if any(all(abs(x - y) <= 1e-3 * max(1.0, abs(x)) for x, y in zip(values, other["values"]))
                       for other in combos):
                    continue  # e.g. with the KL reversed, the first argument's fix cannot be seen
                combos.append({"name": name + (f" with {edit}" if edit else ""), "fixed": list(fixed),
                               "edits": [edit] if edit else [], "values": values})
    return combos


def expected_fixed(check: Check, answer_key: dict, seed: int) -> dict:
    """The fixed cases, every combination's values and the colleague's source."""
    import inspect

    from helpers import kd
    return {"cases": [list(c) for c in FIXED_CASES], "combos": fixed_combos(answer_key["colleague_bugs"], seed),
            "colleague_source": inspect.getsource(kd.colleague_kd_loss)}


def sanity_fixed(entry: dict, seed: int) -> None:
    """Every combination of fixes must be told apart from every other on the probe's inputs."""
    combos = entry["combos"]
    for i, a in enumerate(combos):
        for b in combos[i + 1:]:
            assert any(abs(x - y) > 1e-3 * max(1.0, abs(x)) for x, y in zip(a["values"], b["values"])), \
                f"fixed-loss inputs cannot tell {a['name']} from {b['name']}"


def expected_choices(check: Check, answer_key: dict, seed: int) -> dict:
    """The statements' answer key (the judge reads it in the driver)."""
    return {"answer_key": answer_key[check.id]}


CHECKS = (
    Check(id="lab_bug_choices", notebook="week6_lab", points=3, reads=("chosen_bugs",),
          probe=probe_choices, judge=judge_bugs, expected=expected_choices, kind="value"),
    Check(id="lab_fixed_kd_loss", notebook="week6_lab", points=3, reads=("fixed_kd_loss",),
          probe=probe_fixed, judge=judge_fixed, forbidden=(hk.kd_loss, hk.kd_loss_terms), skill="kd",
          expected=expected_fixed, tolerance=kd_tolerance, sanity=sanity_fixed),
)
