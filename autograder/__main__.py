"""``python -m autograder <command>``: release, collect, roster, grade, finalize, formgrader, similarity, report, ...

build-expected and make-examples too: `python -m autograder --help` lists them all."""
from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "release": ("autograder.release", "build the student versions of both notebooks (nbgrader generate_assignment)"),
    "grade": ("autograder.grading", "autograde every submission under DIR; grades.csv, feedback, summary"),
    "collect": ("autograder.collect", "an LMS download (zip) into nbgrader's submitted layout (zip_collect)"),
    "roster": ("autograder.roster", "import the class list (CSV) so nbgrader and formgrader show names"),
    "finalize": ("autograder.finalize", "after manual grading: final grades CSV (auto + manual), feedback regenerated"),
    "formgrader": ("autograder.formgrader", "start nbgrader's formgrader for this course on 127.0.0.1"),
    "similarity": ("autograder.similarity", "which submissions' graded functions look alike (never a grade)"),
    "report": ("autograder.report", "class report: score distributions, common failures, predictions"),
    "build-expected": ("autograder.build_expected", "rebuild autograder/expected/*.json from helpers' references"),
    "demo": ("autograder.demo", "release (demo flag), grade example submissions, write grades, feedback, report"),
    "make-examples": ("autograder.examples.make_examples",
                      "generate the example submissions from the source notebooks"),
}


def usage() -> str:
    lines = ["usage: python -m autograder <command> [options]", "", "commands:"]
    lines += [f"  {n:<15} {h}" for n, (_, h) in COMMANDS.items()]
    return "\n".join(lines)


def go_offline_when_unreachable() -> None:
    """Run offline, saying so in one line, when the Hub cannot be reached and offline mode was not asked
    for: otherwise the first data access retries and prints connection tracebacks."""
    import os

    from helpers.reachability import hub_unreachable, offline_requested
    if offline_requested() or os.environ.get("HF_HUB_OFFLINE", "").strip() == "0":
        return  # asked for explicitly: offline, or online on purpose (HF_HUB_OFFLINE=0)
    why = hub_unreachable()
    if why:
        os.environ["HF_HUB_OFFLINE"] = "1"
        print(f"note: the Hugging Face Hub is unreachable ({why}); running offline from the local cache "
              "(set HF_HUB_OFFLINE=1 to skip this check, or connect and `python -m helpers data fetch`)",
              file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0
    if argv[0] not in COMMANDS:
        print(f"error: unknown command {argv[0]!r}; expected one of {', '.join(COMMANDS)}.\n\n{usage()}",
              file=sys.stderr)
        return 2
    go_offline_when_unreachable()
    module = importlib.import_module(COMMANDS[argv[0]][0])
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
