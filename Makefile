# upnpy — `make test` and `make demo` do everything on a fresh Debian/Ubuntu machine.
# As root they build the real-device test LAN (lab/lab.sh) and run inside its client namespace.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
LAB    := lab/lab.sh
PYTEST_ARGS ?=

# Root with `ip netns`: the test LAN can be built.
CAN_LAB := $(shell [ "$$(id -u)" = 0 ] && ip netns list >/dev/null 2>&1 && echo yes)

.PHONY: all venv lint test demo bench bench-scale bench-latency profile notebook-shot lab-shell lab-up lab-clean clean fuzz

all: test

$(VENV)/.installed: setup.cfg setup.py pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

venv: $(VENV)/.installed

## make lint: ruff (the rule set is written down in pyproject.toml) and mypy --strict (setup.cfg).
LINTED := upnpy tests bench examples

lint: venv
	$(PY) -m ruff check $(LINTED)
	$(PY) -m ruff format --check $(LINTED)
	$(PY) -m mypy

## make test: lint, then every test; the interop tests inside the lab's client namespace when root.
test: venv lint
ifeq ($(CAN_LAB),yes)
	$(LAB) run $(PY) -m pytest $(PYTEST_ARGS) tests
else
	@echo "make test: not root or no 'ip netns': the test LAN cannot be built here;"
	@echo "           unit tests run, tests/interop/ is reported as skipped (a failure with CI=true)."
	$(PY) -m pytest $(PYTEST_ARGS) tests
endif

## make fuzz: every parser fuzzed with a large budget and a random seed (tests/unit/test_fuzz.py;
## make test runs the same file with 50 fixed examples each). Failing examples are kept in
## .hypothesis/ and replayed first next time; each one found becomes a case in tests/corpus/.
FUZZ_EXAMPLES ?= 20000

fuzz: venv
	@seed=$$(od -An -N4 -tu4 /dev/urandom | tr -d ' '); \
	echo "make fuzz: $(FUZZ_EXAMPLES) examples per parser, seed $$seed"; \
	UPNPY_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) UPNPY_FUZZ_RANDOM=1 $(PY) -m pytest $(PYTEST_ARGS) \
		-p no:cacheprovider --hypothesis-seed=$$seed --hypothesis-show-statistics \
		tests/unit/test_fuzz.py

## make demo: the library's main job on the built-in LAN of real devices (the renderer too).
demo: venv
	UPNPY_LAB_DMR=1 $(LAB) run $(PY) examples/demo.py

## make bench: latency and discovery figures next to a raw-socket floor, inside the lab, with
## the peers of the `bench` extra side by side, a crowd of 30 media servers for discovery, and
## discovery at scale among 30, 300, 2000 emulated devices (lab/responder.py; the lab's pool of
## BENCH_EMU_CROWD addresses). `make bench-scale`: that last section alone. The renderer and the
## second gateway run from the start (BENCH_LAB), so that latency covers every lab device.
BENCH_CROWD ?= 30
BENCH_LAB := UPNPY_LAB_DMR=1 UPNPY_LAB_GW2=1
BENCH_EMU_CROWD ?= 2000
BENCH_SCALE ?= 30,300,2000

$(VENV)/.bench-installed: $(VENV)/.installed
	$(PY) -m pip install -q -e '.[bench]'
	touch $@

bench: $(VENV)/.bench-installed
	$(BENCH_LAB) UPNPY_LAB_CROWD=$(BENCH_CROWD) UPNPY_LAB_EMU_CROWD=$(BENCH_EMU_CROWD) \
		UPNPY_BENCH_SCALE=$(BENCH_SCALE) $(LAB) run $(PY) bench/bench.py

bench-scale: venv
	UPNPY_LAB_EMU_CROWD=$(BENCH_EMU_CROWD) UPNPY_BENCH_SCALE=$(BENCH_SCALE) \
		$(LAB) run $(PY) bench/bench.py scale

## make bench-latency: the per-call, first-call and import sections of `make bench` alone.
## make profile: where the time of one operation goes (bench/profile.py: cProfile, and py-spy
## when installed), e.g. `make profile PROFILE="dms first"` or PROFILE="light call --py-spy".
PROFILE ?= dms first

bench-latency: $(VENV)/.bench-installed
	$(BENCH_LAB) $(LAB) run $(PY) bench/bench.py latency

profile: $(VENV)/.bench-installed
	$(BENCH_LAB) $(LAB) run $(PY) bench/profile.py $(PROFILE)

## make notebook-shot: run tests/notebook/upnpy-lab.ipynb in the lab (nbclient), export it to
## HTML (light and dark themes), and render both in headless Chromium, offline, to
## build/notebook/*.png (Chromium, a Debian package, is installed if missing).
NOTEBOOK_OUT := build/notebook

notebook-shot: venv
	command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }
	UPNPY_NOTEBOOK_OUT=$(CURDIR)/$(NOTEBOOK_OUT) $(LAB) run $(PY) -m pytest -q -p no:cacheprovider \
		tests/interop/test_notebook.py
	$(PY) tests/notebook/shot.py $(NOTEBOOK_OUT)/upnpy-lab.html $(NOTEBOOK_OUT)/upnpy-lab.png
	$(PY) tests/notebook/shot.py $(NOTEBOOK_OUT)/upnpy-lab-dark.html $(NOTEBOOK_OUT)/upnpy-lab-dark.png

## make lab-shell: a shell inside the lab's client namespace, the renderer running too (the lab
## is torn down on exit); lab/shellrc runs ~/.bashrc, then puts the venv first on PATH and prints what is on the LAN.
lab-shell: venv
	UPNPY_LAB_DMR=1 $(LAB) run env UPNPY_VENV_BIN="$(CURDIR)/$(VENV)/bin" bash --rcfile "$(CURDIR)/lab/shellrc" -i

lab-clean:  # labs need root: without it there is none to tear down
ifeq ($(CAN_LAB),yes)
	$(LAB) clean
endif

clean: lab-clean
	rm -rf $(VENV) .lab build dist *.egg-info .pytest_cache .hypothesis
