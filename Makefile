# sandboxlib: `make demo` and `make test` work from a fresh clone with only
# Python 3.11+, gcc and make; they create .venv and install what they need.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat Makefile pyproject.toml constraints.txt setup.py sandboxlib/*.c sandboxlib/*.h sandboxlib/backends/wasmtime/*.c sandboxlib/wrapped/expat/*.c | cksum | cut -d' ' -f1)

.PHONY: all demo dask test typecheck unit quick lint bench venv wheels clean

all: test

venv: $(STAMP)

$(STAMP): Makefile pyproject.toml constraints.txt setup.py $(wildcard sandboxlib/*.c sandboxlib/*.h) \
          sandboxlib/backends/wasmtime/_adapter.c sandboxlib/wrapped/expat/_fastlane.c
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "installing sandboxlib and its pinned dependencies into $(VENV) ..."
	@# editable_mode=compat: a plain path entry, which mypy follows (the default import hook it cannot)
	@$(PY) -m pip uninstall --quiet --yes sandboxlib 2>/dev/null || true  # the name before sandboxlib-wasm
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt \
	    --config-settings editable_mode=compat -e '.[dev,dask,wrap,serve]'
	@rm -f $(VENV)/.installed-* && touch $@

demo: venv
	$(PY) examples/demo.py

# Past one machine: untrusted inputs on a Dask LocalCluster, 1 then 2 workers (< 1 min).
dask: venv
	$(PY) examples/dask_requests.py

typecheck: venv
	$(PY) -m mypy sandboxlib tests examples
	$(PY) -m mypy benchmarks  # apart: its test_dask.py shares a module name with tests/'s

unit: venv
	$(PY) -m pytest -q

test: typecheck unit

# The fast tier (under 2 min, even with an empty build cache): the tests marked `quick`,
# which need no compiler. SANDBOXLIB_NO_COMPILE makes every compiling entry point raise
# (sandboxlib/toolchain/guard.py), so a test here that would compile fails at once.
quick: venv
	SANDBOXLIB_NO_COMPILE=1 $(PY) -m pytest -q -m quick

# the project's own C; c_src/ is test input whose line numbers the tests name
C_OWN := $(wildcard sandboxlib/*.[ch] sandboxlib/toolchain/sjlj/*.c sandboxlib/toolchain/libc/*.c sandboxlib/toolchain/sjlj/include/*.h sandboxlib/backends/*/*.c sandboxlib/backends/wasm2c/csrc/*.[ch] \
                    sandboxlib/wrapped/expat/*.c sandboxlib/wrapped/zlib/shim/*.c sandboxlib/wrapped/image/shim/*.[ch] \
                    sandboxlib/wrapped/image/shim/neon/*.c sandboxlib/wrapped/image/shim/wasm/*.[ch] \
                    sandboxlib/wrapped/image/config/*.h)

lint: venv
	$(PY) -m ruff check sandboxlib tests benchmarks examples
	$(VENV)/bin/clang-format --dry-run --Werror $(C_OWN)

# Benchmarks (not part of `make test`: timings belong here, not in unit tests).
bench: venv
	$(PY) -m sandboxlib bench
	$(PY) -m pytest -q benchmarks --benchmark-columns=median,iqr,rounds

# One manylinux wheel per CPython (3.11, 3.12, 3.13 from pyenv; WHEEL_PYTHONS= to
# choose), each with the drop-ins' wasm2c extensions built, repaired by auditwheel, in dist/.
WHEEL_PYTHONS ?= 3.11 3.12 3.13
wheels:
	.ci/build-wheels $(WHEEL_PYTHONS)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache
