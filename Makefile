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

# llama.cpp is compiled for this machine's CPU (-march=native) from PyPI's llama-cpp-python sdist,
# with ggml's AMX kernels mended (deploy/llama_cpp_amx_fix.py): on CPUs with AMX (Xeon Sapphire
# Rapids and later, the VMs here) they read prompts ~1.6x faster; unmended they crash the first
# batched decode, and multiply with the wrong tile shapes once onnxruntime's int8 kernels ran on the
# same thread. CPUs without AMX compile without those kernels.
LLAMA_VERSION := $(shell sed -n 's/.*"llama-cpp-python\[server\]==\([0-9.]*\)".*/\1/p' pyproject.toml)
LLAMA_FIX     := deploy/llama_cpp_amx_fix.py
# the cached wheel is named for the fix's contents: a changed fix compiles afresh
LLAMA_WHEELS  := $(HOME)/.cache/paperqa_local/wheels/llama-cpp-python-$(LLAMA_VERSION)-amx-$(shell sha256sum $(LLAMA_FIX) | cut -c1-8)
LLAMA_SRC     := build/llama-cpp-python

.PHONY: install models browser test lint demo bench llama-server clean

$(STAMP): pyproject.toml $(LLAMA_FIX)
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q -U pip wheel setuptools
	@# torch first: the CPU build on local disk (a plain requirement pulls CUDA)
	$(PIP) install torch==2.13.0
	@# llama-cpp-python compiles once (~9 min on 2 cores); the wheel is kept in $(LLAMA_WHEELS)
	@ls $(LLAMA_WHEELS)/llama_cpp_python-*.whl >/dev/null 2>&1 || { set -e; \
	  echo "Compiling llama-cpp-python $(LLAMA_VERSION) (~9 min on 2 cores, once per machine)"; \
	  rm -rf $(LLAMA_SRC) && mkdir -p $(LLAMA_SRC); \
	  $(PIP) download -q --no-deps --no-binary :all: -d $(LLAMA_SRC) llama-cpp-python==$(LLAMA_VERSION); \
	  tar xzf $(LLAMA_SRC)/llama_cpp_python-$(LLAMA_VERSION).tar.gz -C $(LLAMA_SRC) --strip-components=1; \
	  $(PY) $(LLAMA_FIX) $(LLAMA_SRC); \
	  $(PIP) wheel -q --no-deps --no-cache-dir -w $(LLAMA_WHEELS) ./$(LLAMA_SRC); }
	@# --force-reinstall: a venv holding another build of the same version gets this one; its
	@# dependencies (and the [server] extra) come with the project's own requirements below
	$(PIP) install -q --force-reinstall --no-deps $(LLAMA_WHEELS)/llama_cpp_python-*.whl
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

# llama.cpp's own OpenAI-compatible server, which decodes several answers in one batch (`--parallel`),
# built from the llama.cpp sources inside PyPI's llama-cpp-python sdist (~25 min on 2 cores; optional:
# cluster mode and the concurrency bench, docs/deploy.md). Binary: build/llama.cpp/build/bin/llama-server
LLAMA_SERVER := build/llama.cpp/build/bin/llama-server
llama-server: $(LLAMA_SERVER)
$(LLAMA_SERVER): $(STAMP)
	mkdir -p build/sdist
	$(PIP) download -q --no-deps --no-binary :all: -d build/sdist \
	  "llama-cpp-python==$$($(PY) -c 'import llama_cpp; print(llama_cpp.__version__)')"
	rm -rf build/llama.cpp && mkdir -p build/llama.cpp
	tar xzf build/sdist/llama_cpp_python-*.tar.gz -C build/llama.cpp --strip-components=3 --wildcards '*/vendor/llama.cpp/*'
	$(PY) $(LLAMA_FIX) build/llama.cpp
	cmake -S build/llama.cpp -B build/llama.cpp/build -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF \
	  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON
	cmake --build build/llama.cpp/build --target llama-server -j2

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache test-output
