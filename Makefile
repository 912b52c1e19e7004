# Two commands a new machine needs: `make demo` and `make test`.
# Both create (or reuse) .venv and install through this project's own files.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
OUT    ?= out
STAMP  := $(VENV)/.installed

export HF_HUB_OFFLINE ?= 1
export MPLBACKEND ?= Agg

.PHONY: venv demo test test-fast checks lint test-lowest test-kaggle bench bench-grading reveals reveals-check release grade formgrader final-grades report collect roster lock student-wheel clean

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

# --- Version bounds --------------------------------------------------------
# Both targets build their own venv next to .venv (gitignored) with uv, and put
# torch in first with pip, as pinned in the lock (requirements/keep-torch.txt
# keeps uv from replacing it: older CPU wheels are not on PyPI, so the torch
# bound is the one bound not installed at its lowest).
UV     := $(VENV)/bin/uv
LOWEST ?= .venv-lowest
KAGGLE ?= .venv-kaggle
TEST_FLAGS ?= -q -p no:cacheprovider

$(UV): $(STAMP) requirements/tools.txt
	$(PY) -m pip install --quiet -r requirements/tools.txt
	touch $(UV)

define fresh_venv_with_torch
	rm -rf $(1)
	$(PYTHON) -m venv $(1)
	$(1)/bin/python -m pip install --quiet $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) "$$(grep '^torch==' requirements/lock.txt)"
endef

# The lowest version pyproject.toml allows of every direct dependency (uv
# --resolution lowest-direct): the non-slow tests, both solution notebooks
# included.  Then once more on the transformers 5 line (lowest 5.x and the hub
# and accelerate it needs): the tests that import transformers or the hub.
test-lowest: $(UV)
	$(call fresh_venv_with_torch,$(LOWEST))
	$(UV) pip install --quiet --python $(LOWEST)/bin/python --resolution lowest-direct \
	    --override requirements/keep-torch.txt -e ".[train,grade,dev]"
	$(LOWEST)/bin/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	@$(UV) pip list --python $(LOWEST)/bin/python | grep -iE '^(numpy|scipy|pandas|matplotlib|scikit-learn|pyyaml|huggingface-hub|tqdm|torch|transformers|tokenizers|safetensors|accelerate|pyarrow|nbgrader|nbformat|nbconvert|nbclient|ipykernel|copydetect|ipython|pytest) '
	$(LOWEST)/bin/python -m pytest $(TEST_FLAGS) -m "not slow"
	$(UV) pip install --quiet --python $(LOWEST)/bin/python --resolution lowest-direct \
	    --override requirements/keep-torch.txt -c requirements/lowest-transformers5.txt -e ".[train,grade,dev]"
	@$(UV) pip list --python $(LOWEST)/bin/python | grep -iE '^(huggingface-hub|transformers|tokenizers|accelerate|safetensors) '
	$(LOWEST)/bin/python -m pytest $(TEST_FLAGS) -m "not slow" tests/test_training.py \
	    tests/test_training_prepare.py tests/test_hub_download.py tests/test_artifacts.py tests/test_imports.py

# A Kaggle-like preinstalled stack (requirements/kaggle.txt: transformers 4.57,
# hub 0.36, numpy 2.0, pandas 2.2, ...), then this project on top without
# changing it; the check that `pip install <wheel>[train]` plans no change to
# it (needs the package registry), the training tests (the slow kill/resume and
# two-process ones too) and both solution notebooks.
test-kaggle: $(UV)
	$(call fresh_venv_with_torch,$(KAGGLE))
	$(UV) pip install --quiet --python $(KAGGLE)/bin/python --override requirements/keep-torch.txt \
	    -r requirements/kaggle.txt
	$(UV) pip install --quiet --python $(KAGGLE)/bin/python --override requirements/keep-torch.txt \
	    -c requirements/kaggle.txt -e ".[train,grade,dev]"
	$(KAGGLE)/bin/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	$(KAGGLE)/bin/python -m pytest $(TEST_FLAGS) -m "not slow" tests/test_kaggle_stack.py \
	    tests/test_training.py tests/test_training_prepare.py tests/test_notebooks.py
	$(KAGGLE)/bin/python -m pytest $(TEST_FLAGS) tests/test_training_processes.py

# The headline table, plots and both notebooks as HTML; then the instructor's
# side: release (demo flag), grade the generated example submissions, report.
demo: venv
	$(PY) -m helpers demo --out $(OUT)
	$(PY) -m autograder demo --out $(OUT)

test: venv
	$(PY) -m pytest -q

# The tests without the end-to-end ones (nbgrader, sandbox, training subprocesses): 9.5-13 min on two busy cores.
test-fast: venv
	$(PY) -m pytest -q -m "not slow"

# After adding or changing a check or a notebook source: rebuild both notebooks (hidden-test points,
# locked-cell ids, reveal texts) and then the expected values the judges compare with.
checks: venv
	$(PY) notebooks/make_notebooks.py
	$(PY) -m autograder build-expected

lint: venv
	$(PY) -m ruff check .
	$(PY) notebooks/make_notebooks.py --lint

# Autograding vs plain execution, where the time goes, and a class of N with 1 and 2 workers (N=8: ~7 min on 2
# idle cores, measured; N=40, the class of 40: 30 min on 2 busy cores).
N ?= 8
bench-grading: venv
	$(PY) benchmarks/grading.py --n $(N)

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

# Every instructor target passes ARGS on to its command, e.g.
#   make release ARGS="--install-route kaggle-dataset"
#   make grade ARGS="--student alice"
ARGS ?=
release: venv
	$(PY) -m autograder release $(ARGS)

SUBMITTED ?= nbgrader_work/submitted
grade: venv
	$(PY) -m autograder grade $(SUBMITTED) --workers 2 $(ARGS)

# An LMS download into nbgrader's submitted layout: make collect ZIP=download.zip ASSIGNMENT=week6_lab LMS=canvas
ZIP ?=
ASSIGNMENT ?= week6_lab
LMS ?= canvas
collect: venv
	$(PY) -m autograder collect $(ZIP) --assignment $(ASSIGNMENT) --lms $(LMS) $(ARGS)

# Student ids and names for nbgrader and formgrader: make roster CSV=roster.csv
CSV ?=
roster: venv
	$(PY) -m autograder roster $(CSV) $(ARGS)

# nbgrader's formgrader for this course on 127.0.0.1 (prints the URL; Ctrl-C stops it).
formgrader: venv
	$(PY) -m autograder formgrader $(ARGS)

# After manual grading in formgrader: final grades (auto + manual) and regenerated feedback.
final-grades: venv
	$(PY) -m autograder finalize $(ARGS)

report: venv
	$(PY) -m autograder report $(ARGS)

# What students install on Kaggle: helpers only (no autograder, no solutions).
student-wheel: venv
	rm -rf dist
	$(PY) -m pip wheel --no-deps --quiet . -w dist
	$(PY) .ci/check_wheel.py

# Pinning needs the network: the only target that turns offline mode off.
lock: venv
	HF_HUB_OFFLINE=0 $(PY) -m helpers data lock

clean:
	rm -rf $(VENV) $(LOWEST) $(KAGGLE) $(OUT) .pytest_cache
