# The two commands: `make run` starts the whole system, `make test` runs every test.
# Both create .venv and install what they need on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test test-repeat protos venv clean bench bench-webhooks browser

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@echo "installing scimd and its dependencies into $(VENV) (pip's output: $(VENV)/pip.log)"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]' > $(VENV)/pip.log 2>&1 \
	  || { cat $(VENV)/pip.log; exit 1; }
	rm -f $(VENV)/.installed-*
	touch $@

run: $(STAMP)
	exec $(BIN)/scimd up

test: $(STAMP) browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The suite N times from a fresh clone of HEAD with a CPU-bound competitor (see tools/repeat_suite.py --help).
test-repeat: $(STAMP)
	$(BIN)/python tools/repeat_suite.py $(REPEAT_ARGS)

# The Admin Portal's browser tests drive Debian's chromium; install it where we may.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && { apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 \
	  && apt-get install -y -q chromium >/dev/null 2>&1; }; }; } \
	  || echo "chromium is not installed: the browser tests will be skipped (apt-get install chromium)"

# Regenerate gen/ from protos/ (tests/test_generated_code.py fails when they drift).
protos: $(STAMP)
	$(BIN)/python tools/gen_protos.py

clean:
	rm -rf $(VENV) gen/__pycache__

# Load on the system started by `make run` (see bench/scim_load.py --help).
bench: $(STAMP)
	$(BIN)/python -m bench.scim_load $(BENCH_ARGS)

# Webhook delivery under SCIM writes (see bench/webhook_load.py --help).
bench-webhooks: $(STAMP)
	$(BIN)/python -m bench.webhook_load $(BENCH_ARGS)
