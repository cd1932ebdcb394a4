"""Fusion, per-paper cap and evidence budgeting (deterministic doubles)."""

from __future__ import annotations

from paperqa_local.answerability import names_paper
from paperqa_local.evidence import select_evidence
from paperqa_local.records import Hit
from paperqa_local.retrieval import cap_per_paper, rrf_fuse, weighted_fuse

from fakes import chunk, embed, hit


def test_rrf_rewards_agreement_between_retrievers() -> None:
    dense = [hit("a", "x", index=0), hit("b", "y", index=0), hit("c", "z", index=0)]
    sparse = [hit("b", "y", index=0), hit("d", "w", index=0)]
    scores = rrf_fuse([(dense, 1.0), (sparse, 1.0)], k=60)
    assert max(scores, key=scores.get) == "b:0000"
    assert scores["a:0000"] > scores["d:0000"]  # rank 1 beats rank 2


def test_weighted_fusion_respects_weights() -> None:
    dense = [hit("a", "x"), hit("b", "y")]
    sparse = [hit("b", "y"), hit("a", "x")]
    scores = weighted_fuse([(dense, [0.9, 0.1], 1.0), (sparse, [5.0, 1.0], 3.0)])
    assert scores["b:0000"] > scores["a:0000"]


def test_cap_per_paper_keeps_order() -> None:
    hits = [hit("a", "1", index=0), hit("a", "2", index=1), hit("a", "3", index=2), hit("b", "4")]
    kept = cap_per_paper(hits, cap=2, k=10)
    assert [h.chunk.id for h in kept] == ["a:0000", "a:0001", "b:0000"]
    assert len(cap_per_paper(hits, cap=2, k=2)) == 2


def _tokens(text: str) -> int:
    return len(text.split())


def test_evidence_fits_budget_and_prefers_relevant_sentences() -> None:
    filler = " ".join(f"Unrelated sentence number {i} talks about gardening and soil." for i in range(20))
    hits = [
        hit("ffcv", filler + " FFCV trains ResNet-50 on ImageNet in 20 minutes. " + filler),
        hit("other", "Moment probing classifies features. " + filler),
    ]
    question = "How fast does FFCV train ResNet-50 on ImageNet?"
    ev = select_evidence(question, hits, embed, embed([question])[0], _tokens, budget=60)
    assert sum(c.tokens for c in ev.contexts) <= 60
    assert ev.contexts[0].chunk.paper_id == "ffcv"
    assert "20 minutes" in ev.contexts[0].text
    assert [c.number for c in ev.contexts] == list(range(1, len(ev.contexts) + 1))


def test_evidence_empty_without_hits() -> None:
    ev = select_evidence("q", [], embed, embed(["q"])[0], _tokens, budget=100)
    assert ev.contexts == [] and ev.best_relevance == 0.0


def test_a_paper_the_question_names_by_title_is_kept_in_the_evidence() -> None:
    """Its sentences may not repeat the title ("Prefix Conditioning Unifies Language and Label Supervision"),
    but the question asks about it by name: it is not cut for scoring low."""
    question = ("How is prefix conditioning used in FlexCap compared with the paper 'Prefix Conditioning Unifies "
                "Language and Label Supervision'?")
    flex = hit("flexcap", "FlexCap extracts diverse visual information through prefix conditioning of captions.")
    named = Hit(chunk=chunk("prefix", "We disentangle dataset bias with tokens that tell the encoder the input type.",
                            title="Prefix Conditioning Unifies Language and Label Supervision"), score=0.5)
    ev = select_evidence(question, [flex, named], embed, embed([question])[0], _tokens, budget=200)
    assert [c.chunk.paper_id for c in ev.contexts] == ["flexcap", "prefix"]


def test_names_paper_needs_two_words_and_the_case_of_a_short_title() -> None:
    assert names_paper("What does Stable ResNet address?", "Stable ResNet")
    assert names_paper("Compare with 'prefix conditioning unifies language and label supervision'.",
                       "Prefix Conditioning Unifies Language and Label Supervision")
    assert not names_paper("Can one model train two at once?", "Two at Once: Multi-task Learning")
    assert not names_paper("What does LowFormer reach?", "LowFormer: Hardware Efficient Design")
    # a title's words hyphenated as modifiers still name it
    assert names_paper("Which needs one gradient, SCAR or the single-layer single-gradient unlearning method?",
                       "Single Layer Single Gradient Unlearning")
    assert names_paper("Is Retrieval Based Speculative Decoding faster?", "Retrieval-Based Speculative Decoding")
    assert names_paper("Do Are Transformers Effective for Time Series Forecasting and DLinear agree?",
                       "Are Transformers Effective for Time Series Forecasting?")


def test_a_name_spelling_the_title_names_the_paper() -> None:
    """"the original SN-Net" is Stitchable Neural Networks; its successor SN-Netv2 is not, and neither is a name
    that spells only some of a title's words."""
    assert names_paper("What does SN-Netv2 change relative to the original SN-Net?", "Stitchable Neural Networks")
    assert not names_paper("What does SN-Netv2 change?", "Stitchable Neural Networks")
    assert not names_paper("What does SNN reach?", "Stitchable Neural Networks for Image Classification")
    assert not names_paper("What does CNN reach?", "Convolutional Networks")  # two words: too short to spell
    # a review's or a sentence-case title is no paper an acronym names
    assert not names_paper("Which LLM is best at code?", "Large Language Models: A Survey")
    assert not names_paper("Does dapagliflozin slow CKD progression?", "Chronic kidney disease")
    assert names_paper("What did the original GAN minimise?", "Generative Adversarial Nets")


def test_evidence_keeps_the_paper_a_question_names_by_its_abbreviation() -> None:
    question = "What does SN-Netv2 change relative to the original SN-Net in how stitches are made?"
    v2 = hit("v2", "SN-Netv2 proposes a two-way stitching scheme to enlarge the stitching space.")
    original = Hit(chunk=chunk("sn", "We split the anchors across blocks and stitch them with simple stitching layers.",
                               title="Stitchable Neural Networks"), score=0.4)
    ev = select_evidence(question, [v2, original], embed, embed([question])[0], _tokens, budget=200)
    assert [c.chunk.paper_id for c in ev.contexts] == ["v2", "sn"]
