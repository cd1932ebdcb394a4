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
    assert names(asked_kinds("What is ConvBERT-base's inference latency on a CPU?")) == ["the latency"]
    assert names(asked_kinds("How many GPUs and how many hours did it take to train STU-Net?")) == [
        "the hardware", "the training time"]
    # inference time is the latency, not the training time
    assert names(asked_kinds("How much inference time does HarDNet save compared with ResNet-50?")) == ["the latency"]
    # a noise schedule is no learning-rate schedule; a LaTeX formula asks no cost
    assert asked_kinds("What noise schedule does DDPM use?") == []
    assert asked_kinds("Why is attention $O(n^2)$ in the sequence length?") == []
    # a score, a dataset or a method is no listed kind: left to coverage
    assert asked_kinds("What top-1 accuracy does ConvNeXt reach on ImageNet?") == []


def test_a_kind_no_passage_about_the_subject_states_is_unstated() -> None:
    q = "How many GPUs and how many hours did it take to train ConvNeXt?"
    # FFCV's passage states GPUs and minutes, but it is not about ConvNeXt: it does not count
    assert names(missing_kinds(q, [CONVNEXT, FFCV])) == ["the hardware", "the training time"]
    assert unstated_share(q, [CONVNEXT, FFCV]) == 1.0
    assert missing_kinds("How many GPUs does FFCV use to train ResNet-50 in 20 minutes?", [CONVNEXT, FFCV]) == []
    # a question naming nothing reads every passage: FFCV's states the time though ConvNeXt's comes first
    assert unstated_share("How many hours does the training take on a single machine?", [CONVNEXT, FFCV]) == 0.0
    assert unstated_share("What does ConvNeXt outperform?", [CONVNEXT]) == 0.0  # asks no listed kind


def test_a_papers_other_passages_count_though_they_do_not_repeat_its_name() -> None:
    abstract = context(1, "convnext", "ConvNeXt is a pure ConvNet that reaches 87.8% top-1 on ImageNet-1K.")
    method = context(2, "convnext", "We train for 300 epochs with AdamW and a cosine schedule on ImageNet-1K.")
    other = context(3, "swin", "Swin Transformer computes self-attention in shifted windows on ImageNet-1K.")
    assert missing_kinds("How many epochs was ConvNeXt trained for on ImageNet-1K?", [abstract, other, method]) == []
    assert names(missing_kinds("How many epochs was ConvNeXt trained for on ImageNet-1K?", [abstract, other])) == [
        "the number of epochs"]


def test_the_stated_words_cover_how_papers_write_the_kind() -> None:
    for question, passage in [
        ("Which optimizer trained word2vec?", "word2vec vectors are trained with stochastic gradient descent."),
        ("What batch size does the model use?", "We use minibatches of 256 images."),
        ("How much memory does MobileNet need?", "The model needs only 17MB of storage."),
        ("What is the vocabulary size of GPT-2?", "GPT-2 uses a byte-level BPE vocab of 50,257."),
        ("How long did it take to train GPT-3?", "GPT-3 was trained for several weeks."),
        ("What weight decay does ResNet use?", "ResNet uses an L2 regularization of 1e-4."),
    ]:
        assert missing_kinds(question, [context(1, "p", passage)]) == [], question


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
    assert not answer.cannot_answer and answer.gaps == ["The retrieved passages do not state the learning rate."]
    assert answer.text.endswith("do not state the learning rate.") and answer.unsupported == []
    assert answer.citations == [1] and [r.number for r in answer.references] == [1]
    # the model already said so itself: no second gap
    hedged = build_answer(q, "FFCV trains an ImageNet ResNet-50 with 8 A100 GPUs [1]. The passages do not "
                             "mention the learning rate.", [passage], embed, 0.3)
    assert len(state_gaps(q, hedged).gaps) == 1
