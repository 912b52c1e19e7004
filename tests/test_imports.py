"""The analysis side of helpers stays light: transformers is for training only (DESIGN.md)."""
import subprocess
import sys

ANALYSIS = ["helpers.metrics", "helpers.calibration", "helpers.bootstrap", "helpers.kd", "helpers.artifacts",
            "helpers.manifest", "helpers.synthetic", "helpers.plots", "helpers.notebook.predict", "helpers.reveals",
            "helpers.deploy", "helpers.notebook.setup_env", "helpers.notebook.display", "helpers.notebook.answers",
            "helpers.demo"]


def test_analysis_modules_do_not_import_transformers():
    code = ("import sys\n"
            + "".join(f"import {m}\n" for m in ANALYSIS)
            + "heavy = sorted(m for m in sys.modules if m.split('.')[0] in {'transformers', 'tokenizers', 'accelerate'})\n"
            + "print(','.join(heavy))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"analysis imports pulled in training libraries: {out}"


def test_cli_help_lists_every_command_without_importing_them():
    out = subprocess.run([sys.executable, "-m", "helpers", "--help"], capture_output=True, text=True, check=True).stdout
    for command in ("data", "synthetic", "reveals", "train", "demo"):
        assert f"  {command}" in out
    bad = subprocess.run([sys.executable, "-m", "helpers", "nope"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown command 'nope'" in bad.stderr
