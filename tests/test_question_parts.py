"""Multi-part questions are split into their parts; one-part questions are left alone."""

from __future__ import annotations

import pytest

from paperqa_local.question_parts import interleave, question_parts
from paperqa_local.records import Chunk, Hit


@pytest.mark.parametrize("question, parts", [
    ("What objective does CLOOB use in place of InfoNCE, and what score is defined by the Schur-complement "
     "decomposition of CLIP embeddings?",
     ["What objective does CLOOB use in place of InfoNCE?",
      "what score is defined by the Schur-complement decomposition of CLIP embeddings?"]),
    ("What ImageNet top-1 accuracies does ResNet-50 reach with a bag of training refinements and with "
     "structured block-wise dropout?",
     ["What ImageNet top-1 accuracies does ResNet-50 reach with a bag of training refinements?",
      "What ImageNet top-1 accuracies does ResNet-50 reach with structured block-wise dropout?"]),
    ("Which two works speed up deep learning by targeting data movement, one removing data-loading "
     "bottlenecks in training and one reducing memory traffic at inference?",
     ["Which two works speed up deep learning by targeting data movement removing data-loading bottlenecks "
      "in training?",
      "Which two works speed up deep learning by targeting data movement reducing memory traffic at inference?"]),
    ("How many epochs? And which optimizer was used for pre-training?",
     ["How many epochs?", "which optimizer was used for pre-training?"]),
    ("TiC and ConvShareViT both bring convolution into ViT self-attention; what module does TiC introduce and "
     "what hardware does ConvShareViT target?",
     ["what module does TiC introduce?", "what hardware does ConvShareViT target?"]),
    ("Stable ResNet and the mean-field analysis of scaled deep ResNets both study very deep residual networks; "
     "what problem does each address?",
     ["what problem does Stable ResNet address?",
      "what problem does the mean-field analysis of scaled deep ResNets address?"]),
    ("How do CenterMask and MAYOR change the mask branch of Mask R-CNN-style instance segmentation?",
     ["How does CenterMask change the mask branch of Mask R-CNN-style instance segmentation?",
      "How does MAYOR change the mask branch of Mask R-CNN-style instance segmentation?"]),
    ("For nucleus segmentation, what new loss function does CPP-Net introduce and on which public databases "
     "is it evaluated?",
     ["For nucleus segmentation, what new loss function does CPP-Net introduce?",
      "For nucleus segmentation, on which public databases is it evaluated?"]),
    ("What does SN-Netv2 change relative to the original SN-Net in how stitches are made and how they are "
     "sampled?",
     ["What does SN-Netv2 change relative to the original SN-Net in how stitches are made?",
      "What does SN-Netv2 change relative to the original SN-Net in how they are sampled?"]),
])
def test_parts_of_multi_part_questions(question: str, parts: list[str]) -> None:
    assert question_parts(question) == parts


@pytest.mark.parametrize("question", [
    "Which method trains an ImageNet ResNet-50 to 75% in about 20 minutes on a single machine?",
    "How do sparse string-matching retrieval and dense token-embedding retrieval compare in speed?",
    "What is the trade-off between accuracy and speed?",
    "Which page says 'we train for 16 epochs'?",
    # one verb asks both things; comparing sides or what they share is one question
    "What learning rate schedule and how many epochs were used to train ConvNeXt on ImageNet-22K?",
    "How do Stitchable Neural Networks and Learngene Pool differ in how many pretrained models they store?",
    "What do BERT and GPT-2 have in common?",
    "How do dropout and weight decay work?",
    "Which pretrained models and what datasets were used?",
    "How do BERT and the proposed method perform?",
    "How do BERT and GPT and T5 handle tokens?",
    "What do BERT and GPT-2 share?",
    # "each" before a noun asks about that noun; a side that is not a plain name is no side
    "LoRA and QLoRA are both adapters; what does each layer change?",
    "Note that BERT and GPT both use transformers; what does each optimise?",
])
def test_one_part_questions_are_not_split(question: str) -> None:
    assert question_parts(question) == []


def _hit(cid: str) -> Hit:
    return Hit(chunk=Chunk(id=cid, paper_id=cid[0], index=0, text=cid, location="", title=cid, source="t"), score=1.0)


def test_interleave_takes_each_ranking_in_turn_without_repeats() -> None:
    whole = [_hit("a1"), _hit("a2"), _hit("b1")]
    part1 = [_hit("a1"), _hit("a3")]
    part2 = [_hit("c1"), _hit("b1")]
    assert [h.chunk.id for h in interleave([whole, part1, part2], 5)] == ["a1", "c1", "a2", "a3", "b1"]
    assert [h.chunk.id for h in interleave([whole, part1, part2], 2)] == ["a1", "c1"]


@pytest.mark.parametrize("question, parts", [
    # a clause that asks something is a part even before ";"
    ("In BERT, what is masked; how is it predicted?", ["In BERT, what is masked?", "how is it predicted?"]),
    # a second question of its own does not repeat the first one's head
    ("What did the authors find about how attention works and how was it evaluated?",
     ["What did the authors find about how attention works?", "how was it evaluated?"]),
    # a piece too short to ask anything keeps its clause whole
    ("What are the results and which metrics and what baselines were used?",
     ["What are the results?", "which metrics and what baselines were used?"]),
])
def test_parts_keep_what_each_asks(question: str, parts: list[str]) -> None:
    assert question_parts(question) == parts


def test_a_very_long_question_gets_a_bounded_number_of_parts() -> None:
    parts = question_parts("What is A " + "and what is B " * 2000 + "?")
    assert 1 < len(parts) <= 6
