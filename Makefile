# Two commands on a fresh machine: `make demo` and `make test` (see README).
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
PIP   := $(VENV)/bin/pip
CLI   := $(VENV)/bin/paperqa-local
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False
export CMAKE_BUILD_PARALLEL_LEVEL := 2

.PHONY: install models browser test lint demo bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q -U pip wheel setuptools
	@# torch first: the CPU build on local disk (a plain requirement pulls CUDA)
	$(PIP) install torch==2.13.0
	@echo "Installing paperqa_local (llama-cpp-python compiles once, ~9 min on 2 cores; pip caches the wheel)"
	$(PIP) install -e '.[dev]'
	touch $(STAMP)

models: $(STAMP)
	$(CLI) models install qwen2.5-coder-1.5b-instruct-q4_k_m
	$(CLI) models install qwen2.5-coder-0.5b-instruct-q4_k_m
	$(CLI) models build-onnx

browser:
	@test -x /usr/bin/chromium || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

install: $(STAMP) models browser

lint: $(STAMP)
	$(VENV)/bin/ruff check paperqa_local tests

test: install lint
	$(VENV)/bin/pytest -q -ra --timeout=900 $(PYTEST_ARGS)

demo: install
	$(CLI) index seeds/
	$(CLI) search "train a ResNet-50 on ImageNet to 75% in 20 minutes" -k 3
	$(CLI) ask "Which method trains an ImageNet ResNet-50 to 75% in about 20 minutes on a single machine?"
	$(CLI) ui

bench: install
	$(CLI) -v eval bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache test-output
