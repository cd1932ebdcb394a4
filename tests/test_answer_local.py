"""Integration: the real local model (llama.cpp) and a real OpenAI-compatible server answer about seeds/."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from paperqa_local.evaluation.servers import free_port, stop_process, wait_for_port
from paperqa_local.llms.models import resolve_model
from paperqa_local.pipeline import PaperQA
from paperqa_local.results import Answer

from conftest import MODELS_DIR

pytestmark = pytest.mark.integration

FAST = "qwen2.5-coder-0.5b-instruct-q4_k_m"
QUESTIONS = [
    ("Which method trains an ImageNet ResNet-50 to 75% in about 20 minutes on a single machine?", "FFCV"),
    ("Which optimizer resets momentum and clips gradients when it detects gradient spikes during LLM training?",
     "SPAM"),
]


@pytest.mark.parametrize(("question", "gold"), QUESTIONS)
def test_default_local_model_cites_the_right_paper(seeds_qa: PaperQA, question: str, gold: str) -> None:
    answer = seeds_qa.ask(question)  # defaults: llm=local, the 1.5B model
    assert answer.backend == "local" and answer.model == seeds_qa.settings.model
    assert not answer.cannot_answer, answer.text
    assert any(gold in r.title for r in answer.references), (answer.text, [r.title for r in answer.references])
    assert answer.usage["prompt_tokens"] > 0 and answer.usage["completion_tokens"] > 0
    assert answer.timings["first_token_s"] >= answer.timings["evidence_s"]


# the grammar's sentence (llms/grammar.py) as a regular expression: optional leading markers, words (a
# period only before a digit), then markers and full stop in either order
_MARKERS = r"(?:\[\d+\])+"
_SENTENCE = rf"(?:{_MARKERS} )?(?:[^\[\]\n.!?]|\.\d)+(?: {_MARKERS}[.!?]|[.!?] {_MARKERS})"


def assert_cited_by_construction(answer: Answer) -> None:
    """The model's own text is sentences that each end in markers (before or after the full stop), and every
    marker names a passage it was given."""
    given = {c.number for c in answer.contexts}
    assert not answer.cannot_answer, answer.raw_text
    assert re.fullmatch(rf"{_SENTENCE}(?:(?: |\n|\n\n){_SENTENCE})*", answer.raw_text.strip()), answer.raw_text
    assert {int(n) for n in re.findall(r"\[(\d+)\]", answer.raw_text)} <= given, answer.raw_text


def test_local_answer_is_cited_by_construction(seeds_qa: PaperQA) -> None:
    """With ``cite_grammar`` llama.cpp can only write sentences that end in markers of the given passages."""
    answer = seeds_qa.ask(QUESTIONS[1][0], cite_grammar=True)
    assert_cited_by_construction(answer)
    assert any(QUESTIONS[1][1] in r.title for r in answer.references), answer.text


def test_local_model_says_not_answered(seeds_qa: PaperQA) -> None:
    # issue 9's question: the ConvNeXt abstract names ImageNet-22K but neither schedule nor epochs
    answer = seeds_qa.ask("What learning rate schedule and how many epochs were used to train ConvNeXt on ImageNet-22K?")
    assert answer.cannot_answer, answer.text
    assert answer.text.startswith("The indexed papers do not answer")


CLAIMS = [
    ("FFCV trains an ImageNet ResNet-50 to 75% accuracy in about 20 minutes on a single machine.", "SUPPORT"),
    ("FFCV needs several days on a large cluster to train ResNet-50 on ImageNet.", "CONTRADICT"),
    ("Whisper large-v2 reaches a word error rate of 2.7% on LibriSpeech test-clean.", "NOT_ENOUGH_INFO"),
]


@pytest.mark.parametrize(("claim", "label"), CLAIMS)
def test_local_model_verifies_claims_with_quoted_evidence(seeds_qa: PaperQA, claim: str, label: str) -> None:
    """``qa.verify`` with the default local model and the calibration fitted on SciFact's tune part."""
    verdict = seeds_qa.verify(claim)
    assert verdict.scored and verdict.label == label, (verdict.label, verdict.probabilities)
    if label == "NOT_ENOUGH_INFO":
        assert verdict.evidence == []
    else:  # the sentences behind the label, verbatim from FFCV's passage, with its number
        assert verdict.evidence and all(e.title.startswith("FFCV") for e in verdict.evidence)
        by_number = {c.number: c for c in verdict.contexts}
        assert all(e.sentence in by_number[e.number].text for e in verdict.evidence)


def test_local_stream_can_be_stopped(seeds_qa: PaperQA) -> None:
    events = seeds_qa.stream(QUESTIONS[0][0], llm="local", model=FAST, max_tokens=200)
    kinds = []
    for event in events:
        kinds.append(event.kind)
        if kinds.count("token") == 3:
            events.close()  # what the UI stop button does
    assert kinds[0] == "evidence" and kinds.count("token") == 3 and "answer" not in kinds
    # the model is free again: the next question runs normally
    assert seeds_qa.ask(QUESTIONS[0][0], llm="local", model=FAST, max_tokens=60).contexts


def test_instruction_shapes_the_local_answer(seeds_qa: PaperQA) -> None:
    from paperqa_local.evaluation.metrics import parse_label
    from paperqa_local.prompts import load_prompts

    answer = seeds_qa.ask("Can FFCV train an ImageNet ResNet-50 to 75% in about 20 minutes on a single machine?",
                          instruction=load_prompts().render("label_instruction"), model=FAST, max_tokens=60)
    assert not answer.cannot_answer, answer.text
    assert parse_label(answer.text) == "yes", answer.text


def test_openai_backend_against_a_real_server(seeds_qa: PaperQA) -> None:
    port = free_port()
    # the default model behind llama.cpp's own server, as a user would run it
    model = resolve_model(seeds_qa.settings.model, seeds_qa.settings.models_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", "fast",
         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, timeout=120, proc=proc)
        # repeat_penalty 1.0 as the local backend samples (the server's own default, 1.1, changes greedy answers)
        answer = seeds_qa.ask(QUESTIONS[0][0], llm="openai", openai_base_url=f"http://127.0.0.1:{port}/v1",
                              openai_model="fast", openai_repeat_penalty=1.0)
        assert answer.backend == "openai" and not answer.cannot_answer, answer.text
        assert answer.backend == "openai"
        assert any("FFCV" in r.title for r in answer.references), answer.text
        assert answer.usage.get("completion_tokens", 0) > 0
        # cited by construction at the endpoint: the grammar goes in the field llama.cpp's servers take it in
        cited = seeds_qa.ask(QUESTIONS[0][0], llm="openai", openai_base_url=f"http://127.0.0.1:{port}/v1",
                             openai_model="fast", openai_repeat_penalty=1.0, cite_grammar=True,
                             openai_grammar_field="grammar")
        assert_cited_by_construction(cited)
    finally:
        stop_process(proc)


def test_warm_up_loads_the_model_and_reads_the_system_prompt_once(seeds_home) -> None:
    from paperqa_local.llms import get_llm

    # n_ctx=3072: a model instance no other test has touched, so its KV cache starts empty (last in this
    # module: a third loaded model evicts the least recent one)
    qa = PaperQA(home=seeds_home, models_dir=MODELS_DIR, model=FAST, n_ctx=3072)
    try:
        qa.warm_up()
        llm = get_llm(qa.settings)
        warm = llm._llm.input_ids[: llm._llm.n_tokens].tolist()
        system = llm.prompt_tokens([{"role": "system", "content": qa.prompts.render("system")},
                                    {"role": "user", "content": QUESTIONS[0][0]}])
        shared = llm._llm.longest_token_prefix(warm, system)
        assert shared > 40  # the system prompt is in the KV cache already
        answer = qa.ask(QUESTIONS[0][0], max_tokens=40)
        assert answer.usage["cached_tokens"] >= shared, answer.usage
    finally:
        qa.close()
