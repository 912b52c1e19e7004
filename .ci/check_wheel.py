"""The student wheel holds the helpers package and its data, and nothing of the instructor's.

Run after `make student-wheel`: fails when the wheel lacks a module or data
file students need, or carries the autograder, the answer key or the source
(solution) notebooks.
"""
import sys
import zipfile
from pathlib import Path

wheels = sorted(Path("dist").glob("ecbs_week6_helpers-*.whl"))
if not wheels:
    sys.exit("no dist/ecbs_week6_helpers-*.whl: run `make student-wheel` first")
names = zipfile.ZipFile(wheels[-1]).namelist()
needed = ["helpers/__init__.py", "helpers/kd.py", "helpers/metrics.py", "helpers/data_manifest.yaml",
          "helpers/reveal_text.b64"]
missing = [n for n in needed if not any(x.endswith(n) for x in names)]
leaked = [n for n in names if n.startswith(("autograder/", "notebooks/", "tests/")) or n.endswith(".ipynb")]
if missing or leaked:
    sys.exit(f"{wheels[-1].name}: missing {missing}, must not contain {leaked}")
print(f"{wheels[-1].name}: {len(names)} files, helpers only")
