"""The kinds of detail a question asks for (epochs, latency, GPUs) and whether the passages state them."""

from __future__ import annotations

from paperqa_local.answer import build_answer
from paperqa_local.answerability import answerable
from paperqa_local.asked_details import asked_kinds, missing_kinds, state_gaps, unstated_share
from paperqa_local.settings import Settings

from fakes import context, embed

CONVNEXT = context(1, "convnext", "ConvNeXt reaches 87.8% ImageNet top-1 accuracy and outperforms Swin "
                                  "Transformers on COCO detection and ADE20K segmentation.")
FFCV = context(2, "ffcv", "FFCV trains an ImageNet ResNet-50 to 75% in 20 minutes on a single machine with 8 A100 GPUs.")


def names(kinds: list) -> list[str]:
    return [k.name for k in kinds]


def test_asked_kinds_are_read_from_the_question() -> None:
    q = "What learning rate schedule and how many epochs were used to train ConvNeXt on ImageNet-22K?"
    assert names(asked_kinds(q)) == ["the number of epochs", "the learning rate", "the learning-rate schedule"]
    assert names(asked_kinds("What is ConvBERT-base's inference latency on a CPU?")) == ["the latency", "the CPU"]
    assert names(asked_kinds("How many GPUs and how many hours did it take to train STU-Net?")) == [
        "the hardware (GPUs)", "the training time"]
    # a score, a dataset or a method is no listed kind: left to coverage
    assert asked_kinds("What top-1 accuracy does ConvNeXt reach on ImageNet?") == []


def test_a_kind_no_passage_about_the_subject_states_is_unstated() -> None:
    q = "How many GPUs and how many hours did it take to train ConvNeXt?"
    # FFCV's passage states GPUs and minutes, but it is not about ConvNeXt: it does not count
    assert names(missing_kinds(q, [CONVNEXT, FFCV])) == ["the hardware (GPUs)", "the training time"]
    assert unstated_share(q, [CONVNEXT, FFCV]) == 1.0
    assert missing_kinds("How many GPUs does FFCV use to train ResNet-50 in 20 minutes?", [CONVNEXT, FFCV]) == []
    # a question naming nothing reads every passage
    assert unstated_share("How long does training take on a single machine, in hours?", [FFCV]) == 0.0
    assert unstated_share("What does ConvNeXt outperform?", [CONVNEXT]) == 0.0  # asks no listed kind


def test_the_papers_do_not_answer_when_they_state_none_of_the_asked_kinds() -> None:
    s = Settings()
    ok = {"relevance": 0.65, "coverage": 0.36, "missing": 0.0}
    assert answerable({**ok, "unstated": 0.5}, {}, s)
    assert not answerable({**ok, "unstated": 1.0}, {}, s)


def test_a_partly_answered_question_says_plainly_what_the_papers_do_not_state() -> None:
    q = "How many GPUs does FFCV use, and what learning rate?"
    passage = context(1, "ffcv", FFCV.text)
    answer = build_answer(q, "FFCV trains an ImageNet ResNet-50 with 8 A100 GPUs [1].", [passage], embed, 0.3)
    answer = state_gaps(q, answer)
    assert not answer.cannot_answer and answer.gaps == ["The indexed papers do not state the learning rate."]
    assert answer.text.endswith("do not state the learning rate.") and answer.unsupported == []
    assert answer.citations == [1]
