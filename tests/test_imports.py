"""How the modules import each other: the analysis side stays light (transformers is for training
only, DESIGN.md), and helpers and autograder use only public names across modules and import without cycles."""
import ast
import subprocess
import sys
from pathlib import Path

ANALYSIS = ["helpers.metrics", "helpers.calibration", "helpers.bootstrap", "helpers.ranking", "helpers.kd",
            "helpers.artifacts",
            "helpers.data", "helpers.data.manifest", "helpers.synthetic", "helpers.plots", "helpers.notebook.predict",
            "helpers.tools.reveals", "helpers.deploy", "helpers.notebook.setup_env", "helpers.notebook.display",
            "helpers.notebook.answers", "helpers.tools.demo"]
ROOT = Path(__file__).resolve().parents[1]
# The packages whose internal imports are checked here: the library, the autograder and the notebook
# builder, whole.  notebooks/ is not a package: its scripts run with their folder on sys.path, so each
# is named by its file's stem (``nbsource``), as the builder imports it.
CHECKED = [ROOT / "helpers", ROOT / "autograder", ROOT / "notebooks"]
SCRIPT_FOLDERS = {ROOT / "notebooks"}


def test_analysis_modules_do_not_import_transformers():
    code = ("import sys\n"
            + "".join(f"import {m}\n" for m in ANALYSIS)
            + "heavy = sorted(m for m in sys.modules\n"
              "               if m.split('.')[0] in {'transformers', 'tokenizers', 'accelerate'})\n"
            + "print(','.join(heavy))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"analysis imports pulled in training libraries: {out}"


def test_cli_help_lists_every_command_without_importing_them():
    out = subprocess.run([sys.executable, "-m", "helpers", "--help"], capture_output=True, text=True, check=True).stdout
    for command in ("data", "synthetic", "reveals", "train", "demo"):
        assert f"  {command}" in out
    bad = subprocess.run([sys.executable, "-m", "helpers", "nope"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown command 'nope'" in bad.stderr


def _modules() -> dict[str, Path]:
    out = {}
    for folder in CHECKED:
        for f in sorted(folder.rglob("*.py")):
            if folder in SCRIPT_FOLDERS:
                out[".".join(f.relative_to(folder).with_suffix("").parts)] = f
                continue
            name = ".".join(f.relative_to(ROOT).with_suffix("").parts)
            out[name.removesuffix(".__init__")] = f
    return out


def _imports(name: str, path: Path):
    """(imported module, imported names, local names bound to helpers modules) of one file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            yield module, [a.name for a in node.names], [a.asname or a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, [], [a.asname or a.name.split(".")[0]]


def test_the_import_graph_counts_imports_inside_functions(tmp_path):
    """A cycle closed by an import inside a function is still a cycle: the scan must see that import."""
    source = tmp_path / "mod.py"
    source.write_text("import os\n\n\ndef late():\n    from autograder import checks\n    return checks\n")
    assert ("autograder", ["checks"], ["checks"]) in list(_imports("autograder.mod", source))


def test_no_private_name_is_used_across_modules():
    bad = []
    for name, path in _modules().items():
        modules_here = set()
        for module, names, bound in _imports(name, path):
            if not module.startswith(("helpers", "autograder")):
                continue
            bad += [f"{name}: from {module} import {n}" for n in names if n.startswith("_") and not n.startswith("__")]
            modules_here.update(bound)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        bad += [f"{name}: {n.value.id}.{n.attr}" for n in ast.walk(tree)
                if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id in modules_here
                and n.attr.startswith("_") and not n.attr.startswith("__")]
    assert bad == [], "private names used across modules (make them public or move them):\n" + "\n".join(bad)


def test_helpers_and_autograder_import_without_cycles():
    mods = _modules()
    graph = {m: set() for m in mods}
    for name, path in mods.items():
        for module, names, _ in _imports(name, path):
            for target in [module, *(f"{module}.{n}" for n in names)]:
                # a package importing its own submodules (its __init__) is not a cycle
                if target in mods and target != name and not target.startswith(name + "."):
                    graph[name].add(target)
    cycles = []

    def visit(node, stack):
        for nxt in graph[node]:
            if nxt in stack:
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in done:
                visit(nxt, stack + [nxt])
        done.add(node)

    done: set[str] = set()
    for m in sorted(graph):
        if m not in done:
            visit(m, [m])
    assert cycles == [], "import cycles:\n" + "\n".join(cycles)


def test_readme_lists_every_environment_variable_the_course_reads():
    from autograder import settings
    from helpers import course

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = [*course.ENVIRONMENT, *settings.ENVIRONMENT]
    missing = [n for n in names if f"`{n}`" not in readme]
    assert missing == [], f"README's environment table lacks {missing}"


def test_course_environment_variables_are_named_only_in_their_constants_modules():
    """A COURSE_*/AUTOGRADER_* literal outside course.py/settings.py is a second definition."""
    import re

    literal = re.compile(r"""["'](COURSE|AUTOGRADER)_[A-Z_]+["']""")
    owners = {ROOT / "helpers" / "course.py", ROOT / "autograder" / "settings.py",
              ROOT / "autograder" / "kernel" / "wire.py"}
    bad = []
    for path in sorted([*(ROOT / "helpers").rglob("*.py"), *(ROOT / "autograder").rglob("*.py")]):
        if path in owners:
            continue
        for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if literal.search(line) and "__all__" not in line:
                bad.append(f"{path.relative_to(ROOT)}:{no}: {line.strip()}")
    assert bad == [], "environment variable names defined outside helpers/course.py and autograder/settings.py:\n" \
        + "\n".join(bad)
