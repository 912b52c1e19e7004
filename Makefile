# Two commands a new machine needs: `make demo` and `make test`.
# Both create (or reuse) .venv and install through this project's own files.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
OUT    ?= out
STAMP  := $(VENV)/.installed

export HF_HUB_OFFLINE ?= 1
export MPLBACKEND ?= Agg

.PHONY: venv demo test bench reveals reveals-check release grade formgrader final-grades lock student-wheel clean

venv: $(STAMP)

# torch is installed first, exactly as pinned: left to the resolver, a bare
# `torch` requirement pulls a multi-GB CUDA build on a CPU machine.  Where no
# CPU wheel is at hand, point TORCH_INDEX at PyTorch's CPU wheel index.
TORCH_INDEX ?=
$(STAMP): pyproject.toml requirements/lock.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade --quiet pip
	$(PY) -m pip install --quiet $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) "$$(grep '^torch==' requirements/lock.txt)"
	$(PY) -m pip install --quiet -c requirements/lock.txt -e ".[train,grade,dev]"
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

# The headline table, plots and both notebooks as HTML; then the instructor's
# side: release (demo flag), grade the generated example submissions, report.
demo: venv
	$(PY) -m helpers demo --out $(OUT)
	$(PY) -m autograder demo --out $(OUT)

test: venv
	$(PY) -m pytest -q

bench: venv
	$(PY) benchmarks/bootstrap.py
	$(PY) benchmarks/synthetic.py
	$(PY) benchmarks/notebooks.py
	$(PY) benchmarks/grading.py --n 4
	$(PY) benchmarks/training.py --device cpu --tiny

reveals: venv
	$(PY) -m helpers reveals --source synthetic

reveals-check: venv
	$(PY) -m helpers reveals --source synthetic --check

release: venv
	$(PY) -m autograder release

SUBMITTED ?= nbgrader_work/submitted
grade: venv
	$(PY) -m autograder grade $(SUBMITTED) --workers 2

# nbgrader's formgrader for this course on 127.0.0.1 (prints the URL; Ctrl-C stops it).
formgrader: venv
	$(PY) -m autograder formgrader

# After manual grading in formgrader: final grades (auto + manual) and regenerated feedback.
final-grades: venv
	$(PY) -m autograder finalize

# What students install on Kaggle: helpers only (no autograder, no solutions).
student-wheel: venv
	$(PY) -m pip wheel --no-deps --quiet . -w dist
	@ls dist/*.whl

# Pinning needs the network: the only target that turns offline mode off.
lock: venv
	HF_HUB_OFFLINE=0 $(PY) -m helpers data lock

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
