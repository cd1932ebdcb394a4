"""LLM backends against real models: llama.cpp in-process and a real `llama_cpp.server` over HTTP."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from paperqa_local.errors import BackendUnavailable
from paperqa_local.evaluation.servers import free_port, stop_process, wait_for_port
from paperqa_local.llms import get_llm
from paperqa_local.llms.local import LocalLLM
from paperqa_local.llms.openai import OpenAICompatibleLLM
from paperqa_local.settings import Settings

pytestmark = pytest.mark.integration

FAST = "qwen2.5-coder-0.5b-instruct-q4_k_m"
SYSTEM = "You are a terse assistant. Answer in one short sentence."
MESSAGES = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "What color is the sky on a clear day?"}]


@pytest.fixture
def local(home: Path, models_dir: Path, fast_model: Path) -> LocalLLM:
    llm = get_llm(Settings.load(home=home, models_dir=models_dir, model=FAST, n_ctx=2048))
    assert isinstance(llm, LocalLLM)
    return llm


def test_local_streams_a_reply_with_exact_usage(local: LocalLLM, home: Path, models_dir: Path) -> None:
    pieces = list(local.stream(MESSAGES, max_tokens=24, temperature=0.0))
    text = "".join(pieces)
    assert len(pieces) > 1 and "blue" in text.lower()
    assert local.last_usage["prompt_tokens"] == len(local.prompt_tokens(MESSAGES))
    assert 1 <= local.last_usage["completion_tokens"] <= 24
    assert (local.name, local.model) == ("local", FAST)
    # loaded once per process
    assert get_llm(Settings.load(home=home, models_dir=models_dir, model=FAST, n_ctx=2048)) is local


def test_flash_attention_is_its_own_model_and_answers_alike(local: LocalLLM, home: Path, models_dir: Path) -> None:
    """``flash_attn`` changes how llama.cpp computes attention, not what the model knows: toggling it loads
    another context (the setting is part of the model's key) that answers the same question the same way."""
    import llama_cpp

    default = Settings.load(home=home).flash_attn
    other = get_llm(Settings.load(home=home, models_dir=models_dir, model=FAST, n_ctx=2048, flash_attn=not default))
    assert isinstance(other, LocalLLM) and other is not local

    def fused(llm: LocalLLM) -> bool:  # what llama.cpp was really given
        return llm._llm.context_params.flash_attn_type == llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED

    assert (fused(local), fused(other)) == (default, not default)
    assert "blue" in other.complete(MESSAGES, max_tokens=24, temperature=0.0).lower()


def test_local_reuses_the_system_prompt_prefix(local: LocalLLM) -> None:
    local.complete(MESSAGES, max_tokens=4, temperature=0.0)
    other = [MESSAGES[0], {"role": "user", "content": "Name one planet."}]
    local.complete(other, max_tokens=4, temperature=0.0)
    system_tokens = len(local.prompt_tokens([MESSAGES[0]])) - 3  # minus the "assistant" generation header
    assert local.last_usage["cached_tokens"] >= system_tokens


def test_local_close_stops_generation_and_stop_strings(local: LocalLLM) -> None:
    stream = local.stream(MESSAGES, max_tokens=200, temperature=0.0)
    next(stream)
    stream.close()
    assert local.last_usage["completion_tokens"] <= 2
    count = [{"role": "user", "content": "Count from 1 to 10, separated by commas."}]
    text = local.complete(count, max_tokens=40, temperature=0.0, stop=["5"])
    assert "4" in text and "5" not in text and "6" not in text


def test_local_backend_unavailable_names_the_install_command(home: Path) -> None:
    settings = Settings.load(home=home, llm="local", models_dir=home / "models")  # empty models folder
    with pytest.raises(BackendUnavailable, match=r"not installed: run `paperqa-local models install qwen2\.5-coder-1\.5b"):
        get_llm(settings)


def test_extractive_is_not_an_llm(home: Path) -> None:
    with pytest.raises(ValueError, match="extractive"):
        get_llm(Settings.load(home=home, llm="extractive"))


def test_openai_backend_against_a_real_llama_cpp_server(home: Path, fast_model: Path, tmp_path: Path) -> None:
    port = free_port()
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(fast_model), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "2048"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, timeout=120, proc=proc)
        settings = Settings.load(home=home, llm="openai", openai_base_url=f"http://127.0.0.1:{port}/v1",
                                 openai_model=FAST, openai_timeout=60)
        llm = get_llm(settings)
        assert isinstance(llm, OpenAICompatibleLLM)
        pieces = list(llm.stream(MESSAGES, max_tokens=16, temperature=0.0))
        assert len(pieces) > 1 and "blue" in "".join(pieces).lower()
        assert llm.last_usage["prompt_tokens"] > 10
        assert 1 <= llm.last_usage["completion_tokens"] <= 16
        stream = llm.stream(MESSAGES, max_tokens=200, temperature=0.0)
        next(stream)
        stream.close()  # closes the HTTP stream; the server stops generating
        assert llm.last_usage["completion_tokens"] <= 2
        # llama.cpp's repeat_penalty goes in the body only when set (hosted APIs reject unknown fields)
        assert llm._body == {}
        tuned = get_llm(settings.with_overrides(openai_repeat_penalty=1.0))
        assert tuned is not llm and tuned._body == {"repeat_penalty": 1.0}
        assert "blue" in "".join(tuned.stream(MESSAGES, max_tokens=16, temperature=0.0)).lower()
    finally:
        stop_process(proc)
        log.close()


def test_openai_backend_unreachable(home: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    settings = Settings.load(home=home, llm="openai", openai_base_url=url, openai_timeout=5)
    with pytest.raises(BackendUnavailable, match=f"openai endpoint {url} unreachable"):
        get_llm(settings)
    llm = OpenAICompatibleLLM.from_settings(settings)
    with pytest.raises(BackendUnavailable, match=f"openai endpoint {url} unreachable"):
        list(llm.stream(MESSAGES, max_tokens=8, temperature=0.0))


def test_the_citation_grammar_compiles_and_names_only_the_given_passages() -> None:
    import llama_cpp

    from paperqa_local.llms.grammar import citation_grammar

    grammar = citation_grammar([3, 1, 3], "NOT ANSWERED")
    llama_cpp.LlamaGrammar.from_string(grammar, verbose=False)  # llama.cpp's own parser accepts it
    assert 'num ::= "1" | "3"' in grammar and 'refuse ::= "NOT ANSWERED"' in grammar
    with pytest.raises(ValueError):
        citation_grammar([], "NOT ANSWERED")
