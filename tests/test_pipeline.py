"""The question-answering pipeline over the real seeds library (real Chroma, real MiniLM).

The extractive backend keeps these fast and deterministic; test_answer_local.py runs the real LLM.
"""

from __future__ import annotations

import pytest

from paperqa_local.errors import ModelError
from paperqa_local.llms.backends import ChatBackend
from paperqa_local.pipeline import PaperQA

FFCV_QUERY = "train a ResNet-50 on ImageNet to 75% in 20 minutes"
FFCV_QUESTION = "Which method trains an ImageNet ResNet-50 to 75% in about 20 minutes on a single machine?"
# about a model no seed paper names: refused from scores, before any backend (a detail the ConvNeXt abstract lacks
# is the local model's to refuse: test_answer_local.py)
UNANSWERABLE = "What word error rate does Whisper large-v2 reach on LibriSpeech test-clean?"


def is_ffcv(title: str) -> bool:
    return "FFCV" in title


def test_hybrid_search_puts_ffcv_first(seeds_qa: PaperQA) -> None:
    hits = seeds_qa.search(FFCV_QUERY, k=5)
    assert is_ffcv(hits[0].chunk.title)
    assert hits[0].dense is not None and hits[0].bm25 is not None  # both retrievers agreed
    assert len({h.chunk.paper_id for h in hits}) >= 3  # per-paper cap spreads results


def test_hybrid_halves_side_by_side_rank_exactly_as_in_turn(seeds_qa: PaperQA) -> None:
    together = seeds_qa.retriever.retrieve(FFCV_QUERY, seeds_qa.settings.with_overrides(parallel_search=True), k=8)
    in_turn = seeds_qa.retriever.retrieve(FFCV_QUERY, seeds_qa.settings.with_overrides(parallel_search=False), k=8)
    assert [(h.chunk.id, h.score) for h in together] == [(h.chunk.id, h.score) for h in in_turn]


@pytest.mark.parametrize(("mode", "depth"), [("dense", 10), ("bm25", 3)])
def test_single_retriever_modes_find_ffcv(seeds_qa: PaperQA, mode: str, depth: int) -> None:
    # MiniLM alone ranks FFCV 7th among papers; BM25 first: why hybrid is the default
    titles = [h.chunk.title for h in seeds_qa.search(FFCV_QUERY, k=10, mode=mode)]
    assert any(is_ffcv(t) for t in titles[:depth]), titles


def test_extractive_answer_cites_ffcv(seeds_qa: PaperQA) -> None:
    answer = seeds_qa.ask(FFCV_QUESTION, llm="extractive")
    assert not answer.cannot_answer
    assert answer.references and is_ffcv(answer.references[0].title)
    assert all(r.number in {c.number for c in answer.contexts} for r in answer.references)
    assert answer.unsupported == []  # quoted sentences support themselves
    assert answer.timings["evidence_s"] > 0 and answer.timings["total_s"] >= answer.timings["evidence_s"]


def test_instruction_goes_to_the_model_not_to_retrieval(seeds_qa: PaperQA) -> None:
    # "Begin your answer with Yes, No or Maybe." holds rare words: were it part of the question, retrieval
    # and the does-the-evidence-answer check would see them, and every labelled question would be refused
    plain = seeds_qa.ask(FFCV_QUESTION, llm="extractive")
    told = seeds_qa.ask(FFCV_QUESTION, llm="extractive", instruction="Begin your answer with Yes, No or Maybe.")
    assert not told.cannot_answer and told.question == FFCV_QUESTION
    assert [c.chunk.id for c in told.contexts] == [c.chunk.id for c in plain.contexts]


def test_instruction_reaches_the_model_prompt(seeds_qa: PaperQA, monkeypatch: pytest.MonkeyPatch) -> None:
    prompts: list[list[dict[str, str]]] = []

    def fake_generate(self, messages, max_tokens=None, grammar=None):  # noqa: ANN001, ANN202
        prompts.append(messages)
        yield "FFCV trains an ImageNet ResNet-50 model to 75% in only 20 mins on a single machine [1]."

    monkeypatch.setattr(ChatBackend, "generate", fake_generate)
    answer = seeds_qa.chat([("What is FFCV?", "A data loading library [1].")], FFCV_QUESTION, llm="local",
                           instruction="Begin your answer with Yes, No or Maybe.")
    user = prompts[-1][-1]["content"]
    assert user.rstrip().splitlines()[-2].endswith("Begin your answer with Yes, No or Maybe.")
    assert not answer.cannot_answer and answer.raw_text.startswith("FFCV trains")


MULTI = ("What objective does CLOOB use in place of InfoNCE, and what score is defined by the Schur-complement "
         "decomposition of CLIP embeddings?")


def test_multi_part_question_gets_each_parts_paper_and_asks_each_part(seeds_qa: PaperQA,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    prompts: list[list[dict[str, str]]] = []

    def fake_generate(self, messages, max_tokens=None, grammar=None):  # noqa: ANN001, ANN202
        prompts.append(messages)
        yield "CLOOB uses InfoLOOB [1]."

    monkeypatch.setattr(ChatBackend, "generate", fake_generate)
    monkeypatch.setattr(ChatBackend, "option_logprobs", lambda self, messages, options: None)
    answer = seeds_qa.ask(MULTI, llm="local", question_parts=True)
    titles = [c.chunk.title for c in answer.contexts]
    assert any(t.startswith("CLOOB") for t in titles) and any(t.startswith("Dissecting CLIP") for t in titles), titles
    user = prompts[-1][-1]["content"]
    assert "asks 2 things" in user and "(2) what score is defined by the Schur-complement" in user


def test_model_probability_is_read_only_when_it_is_used(seeds_qa: PaperQA, monkeypatch: pytest.MonkeyPatch) -> None:
    # reading P(answer) costs a prompt evaluation; for a question the thresholds refuse it is wasted
    # unless a calibration reads it or a tune run records it for the calibration
    calls: list[int] = []

    def fake_logprobs(self, messages, options):  # noqa: ANN001, ANN202
        calls.append(1)
        return {"refuse": -2.0}

    monkeypatch.setattr(ChatBackend, "option_logprobs", fake_logprobs)
    refused = seeds_qa.ask(FFCV_QUESTION, llm="local", min_coverage=0.99)
    assert refused.cannot_answer and calls == [] and "model" not in refused.answerability
    recorded = seeds_qa.ask(FFCV_QUESTION, llm="local", min_coverage=0.99, score_refusals=True)
    assert recorded.cannot_answer and calls == [1]
    assert recorded.answerability["model"] == pytest.approx(1 - 0.1353, abs=1e-3)


def test_unanswerable_question_gets_plain_not_answered(seeds_qa: PaperQA) -> None:
    answer = seeds_qa.ask(UNANSWERABLE, llm="extractive")
    assert answer.cannot_answer
    assert "do not answer" in answer.text
    assert answer.references == []
    assert answer.closest_papers


def test_a_question_about_a_model_no_passage_names_is_refused_before_the_model(seeds_qa: PaperQA,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    backend = seeds_qa.backend(seeds_qa.settings.with_overrides(llm="extractive"))
    monkeypatch.setattr(type(backend), "answer", lambda *a, **k: calls.append(1) or iter(["x"]))
    answer = seeds_qa.ask("How much does chain-of-thought prompting improve PaLM 540B on the GSM8K math word problems?",
                          llm="extractive")
    assert answer.cannot_answer and calls == []
    assert answer.answerability["missing"] >= seeds_qa.settings.max_missing


def test_a_question_asking_a_detail_its_paper_does_not_state_is_refused_before_the_model(
        seeds_qa: PaperQA, monkeypatch: pytest.MonkeyPatch) -> None:
    """STU-Net's abstract is found (every name is in it) but states neither GPUs nor hours."""
    calls: list[int] = []
    backend = seeds_qa.backend(seeds_qa.settings.with_overrides(llm="extractive"))
    monkeypatch.setattr(type(backend), "answer", lambda *a, **k: calls.append(1) or iter(["x"]))
    answer = seeds_qa.ask("How many GPUs and how many hours did it take to train the 1.4B-parameter STU-Net?",
                          llm="extractive")
    assert answer.cannot_answer and calls == [] and answer.answerability["unstated"] == 1.0
    assert any("STU-Net" in t for t in answer.closest_papers)


def test_a_refusal_lists_the_paper_the_question_names_first(seeds_qa: PaperQA) -> None:
    """The Concept-Centric Transformers abstract states no learning rate; three other papers' passages about
    learning rates rank above it, but the closest paper to offer is the one the user named."""
    answer = seeds_qa.ask("What learning rate was used to train the Concept-Centric Transformers?", llm="extractive")
    assert answer.cannot_answer
    assert answer.closest_papers[0].startswith("Concept-Centric Transformers")
    assert 'The closest papers are: "Concept-Centric Transformers' in answer.text


def test_a_refused_follow_up_lists_the_paper_the_conversation_is_about_first(seeds_qa: PaperQA) -> None:
    """"What learning rate was used to train them?" after a Concept-Centric Transformers turn names nothing itself;
    the closest papers are ranked for its stand-alone rewrite, which names the paper, not for "them"."""
    history = [("What do Concept-Centric Transformers add to a model?", "An object-centric memory module [1].")]
    answer = seeds_qa.chat(history, "What learning rate was used to train them?", llm="extractive")
    assert answer.cannot_answer and answer.question == "What learning rate was used to train them?"
    assert answer.closest_papers[0].startswith("Concept-Centric Transformers")


def test_a_yes_no_question_relating_names_no_paper_mentions_together_is_refused_before_the_model(
        seeds_qa: PaperQA, monkeypatch: pytest.MonkeyPatch) -> None:
    """RESTGPT's abstract never names GPT-4 (other seed papers do), so no paper says whether it is built on it; the
    1.5B model answered "Yes". SimMatchV2's abstract names ResNet-50, so that question is still answered."""
    calls: list[int] = []
    backend = seeds_qa.backend(seeds_qa.settings.with_overrides(llm="extractive"))
    monkeypatch.setattr(type(backend), "answer", lambda *a, **k: calls.append(1) or iter(["x"]))
    answer = seeds_qa.ask("Is RESTGPT built on GPT-4?", llm="extractive")
    assert answer.cannot_answer and calls == [] and answer.references == []
    assert answer.answerability["apart"] >= seeds_qa.settings.max_apart
    assert any("REST API" in t for t in answer.closest_papers)
    monkeypatch.undo()
    found = seeds_qa.ask("Does SimMatchV2 use a ResNet-50 backbone?", llm="extractive")
    assert found.answerability["apart"] == 0.0
    assert not found.cannot_answer and found.references[0].title.startswith("SimMatchV2")


def test_a_partly_stated_question_is_answered_with_the_gap_said(seeds_qa: PaperQA) -> None:
    answer = seeds_qa.ask("How long does FFCV take to train an ImageNet ResNet-50 to 75%, and with what batch size?",
                          llm="extractive")  # FFCV's abstract: "75% in only 20 mins", no batch size
    assert not answer.cannot_answer and any("FFCV" in r.title for r in answer.references)
    assert answer.gaps == ["The retrieved passages do not state the batch size."]
    assert answer.answerability["unstated"] == 0.5


def test_stream_shows_evidence_before_any_token(seeds_qa: PaperQA) -> None:
    kinds = [e.kind for e in seeds_qa.stream(FFCV_QUESTION, llm="extractive")]
    assert kinds[0] == "evidence" and kinds[-1] == "answer"
    assert "token" in kinds and kinds.index("token") > 0


def test_evidence_respects_budget_and_keeps_locations(seeds_qa: PaperQA) -> None:
    events = seeds_qa.stream(FFCV_QUESTION, llm="extractive", evidence_budget=200)
    contexts = next(events).contexts
    events.close()
    assert sum(c.tokens for c in contexts) <= 200
    assert all(c.chunk.location.startswith("entry") for c in contexts)
    assert [c.number for c in contexts] == list(range(1, len(contexts) + 1))


def test_follow_up_is_made_standalone(seeds_qa: PaperQA) -> None:
    history = [(FFCV_QUESTION, "FFCV does [1].")]
    answer = seeds_qa.chat(history, "What else does it speed up?", llm="extractive")
    assert answer.standalone_question and "ResNet-50" in answer.standalone_question
    assert answer.question == "What else does it speed up?"


def test_a_follow_up_whose_rewrite_kept_it_searches_for_what_the_refused_turn_described(
        seeds_qa: PaperQA, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fourth trial's chat: turn 1 was refused and named nothing, and the 1.5B model's rewrite of the follow-up
    kept "it"; searched as is, it found ConVIRT's image-text pairs. With the user's description carried, the
    Transitive Invariance paper (Triplet-Siamese network on the mined image pairs) is found and cited."""
    backend = seeds_qa.backend(seeds_qa.settings.with_overrides(llm="extractive"))
    monkeypatch.setattr(type(backend), "condense",
                        lambda self, turns, question: "What network does it train on the resulting image pairs?")
    history = [("Which paper mines millions of objects from videos into a graph to learn self-supervised visual "
                "representations?", "The indexed papers do not answer this question.")]
    answer = seeds_qa.chat(history, "what network does it train on the resulting image pairs?", llm="extractive")
    assert "mines millions of objects from videos" in answer.standalone_question
    assert answer.references and answer.references[0].title.startswith("Transitive Invariance"), answer.text


def test_missing_local_model_is_an_error_not_a_fallback(seeds_home, tmp_path) -> None:
    qa = PaperQA(home=seeds_home, models_dir=tmp_path / "no-models")
    with pytest.raises(ModelError, match="models install"):
        qa.ask(FFCV_QUESTION, llm="local")
    qa.close()


def test_every_backend_answers_through_the_same_seam(seeds_qa: PaperQA) -> None:
    from paperqa_local.llms.backends import BACKENDS

    assert set(BACKENDS) == {"local", "openai", "extractive"}
    extractive = seeds_qa.backend(seeds_qa.settings.with_overrides(llm="extractive"))
    assert not extractive.generates and extractive.label == "extractive"
    local = seeds_qa.backend()
    assert local.generates and local.label == seeds_qa.settings.model
    answer = seeds_qa.ask(FFCV_QUESTION, llm="extractive")
    assert answer.backend == "extractive" and answer.model == "extractive"


def test_yes_no_answer_whose_prose_fails_the_check_is_the_scored_verdict_quoted(
        seeds_qa: PaperQA, monkeypatch: pytest.MonkeyPatch) -> None:
    """The model restates the question ("Yes, X does Y") in words no passage holds: the answer is the scored
    verdict with the passages' own sentences, not "not answered"."""
    def fake_generate(self, messages, max_tokens=None, grammar=None):  # noqa: ANN001, ANN202
        yield "Yes, the purple elephant committee approved the plan unanimously [1]."

    monkeypatch.setattr(ChatBackend, "generate", fake_generate)
    monkeypatch.setattr(ChatBackend, "option_logprobs",
                        lambda self, messages, options: {k: (-0.2 if k == "yes" else -3.0) for k in options}
                        if "yes" in options else {"refuse": -5.0})
    question = "Can FFCV train an ImageNet ResNet-50 to 75% in about 20 minutes on a single machine?"
    answer = seeds_qa.ask(question, llm="local")
    assert not answer.cannot_answer and answer.verdict["label"] == "yes"
    assert answer.text.startswith("Yes: ") and all(s.quoted and s.supported for s in answer.sentences)
    assert answer.references[0].title.startswith("FFCV")
    assert "elephant" not in answer.text


@pytest.mark.parametrize("reply", ["NOT ANSWERED", "Yes, SCAR needs a retain set to keep the test accuracy [1]."])
def test_a_yes_no_question_the_evidence_denies_is_answered_no_with_that_sentence(
        seeds_qa: PaperQA, monkeypatch: pytest.MonkeyPatch, reply: str) -> None:
    """The 1.5B model refuses, or says "yes", when SCAR's abstract says it works "without using a retain set", and
    its scored verdict says "yes": the answer is "No" with that sentence quoted, and the verdict says "no"."""
    from paperqa_local.prompts import CANNOT_ANSWER

    def fake_generate(self, messages, max_tokens=None, grammar=None):  # noqa: ANN001, ANN202
        yield CANNOT_ANSWER if reply == "NOT ANSWERED" else reply

    monkeypatch.setattr(ChatBackend, "generate", fake_generate)
    monkeypatch.setattr(ChatBackend, "option_logprobs",
                        lambda self, messages, options: {k: (-0.2 if k == "yes" else -3.0) for k in options}
                        if "yes" in options else {"refuse": -5.0})
    answer = seeds_qa.ask("Does SCAR need a retain set to keep the unlearned model's test accuracy?", llm="local")
    assert not answer.cannot_answer and answer.verdict["label"] == "no"
    assert answer.text.startswith("No: ") and "without using a retain set" in answer.text
    assert answer.references[0].title.startswith("Is Retain Set All You Need")
    assert answer.sentences[0].quoted and answer.verdict["denied"] and answer.verdict["scored_label"] == "yes"


def test_a_two_paper_question_answered_for_one_gets_the_other_quoted(seeds_qa: PaperQA,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_generate(self, messages, max_tokens=None, grammar=None):  # noqa: ANN001, ANN202
        yield "CLOOB uses the InfoLOOB objective in place of InfoNCE [1]."

    monkeypatch.setattr(ChatBackend, "generate", fake_generate)
    monkeypatch.setattr(ChatBackend, "option_logprobs", lambda self, messages, options: None)
    answer = seeds_qa.ask(MULTI, llm="local")
    titles = [r.title for r in answer.references]
    assert titles[0].startswith("CLOOB") and any(t.startswith("Dissecting CLIP") for t in titles), titles
    assert answer.sentences[-1].quoted
    alone = seeds_qa.ask(MULTI, llm="local", complete_answers=False)
    assert [r.title for r in alone.references] == titles[:1]


def test_which_paper_fits_a_description_no_paper_holds_is_refused_before_the_model(
        seeds_qa: PaperQA, monkeypatch: pytest.MonkeyPatch) -> None:
    """No seed paper is about quantum error correction; the closest passages (decoding, quantization) hold too
    little of the description, so no paper is named. A "Which method …?" the seeds do answer still is."""
    calls: list[int] = []
    backend = seeds_qa.backend(seeds_qa.settings.with_overrides(llm="extractive"))
    monkeypatch.setattr(type(backend), "answer", lambda *a, **k: calls.append(1) or iter(["x"]))
    answer = seeds_qa.ask("Which paper proposes a decoder for quantum error correction?", llm="extractive")
    assert answer.cannot_answer and calls == [] and answer.references == []
    assert answer.answerability["identifies"] == 1.0
    assert answer.answerability["coverage"] < seeds_qa.settings.min_identify_coverage
    monkeypatch.undo()
    found = seeds_qa.ask(FFCV_QUESTION, llm="extractive")
    assert not found.cannot_answer and found.answerability["identifies"] == 1.0
    assert any(is_ffcv(r.title) for r in found.references)
