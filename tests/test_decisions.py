"""Scored decisions and sentence checks: the logic behind verdicts, hedges and attribution (no model)."""

from __future__ import annotations

import json
import math
from pathlib import Path

from paperqa_local.answer import build_answer
from paperqa_local.answerability import title_name, word_forms
from paperqa_local.claim_checks import Papers, attribution, is_hedge, names, picks_between, unstated_clause
from paperqa_local.results import Context
from paperqa_local.verdicts import (
    calibration,
    cross_validated,
    decide,
    fit_linear,
    fit_offsets,
    linear_inputs,
    save_calibration,
)

from fakes import chunk, context, embed


def lp(**probs: float) -> dict[str, float]:
    return {k: math.log(v) for k, v in probs.items()}


def test_decide_takes_the_most_probable_option_after_offsets() -> None:
    assert decide(lp(yes=0.6, no=0.3, maybe=0.1)).label == "yes"
    shifted = decide(lp(yes=0.6, no=0.3, maybe=0.1), {"no": math.log(3)})
    assert shifted.label == "no"
    assert abs(sum(shifted.probabilities.values()) - 1) < 1e-9


def test_offsets_remove_a_models_yes_bias() -> None:
    # a model that leans "yes": the gold "no" items still have relatively more "no" mass
    rows = [(lp(yes=0.7, no=0.3), "yes")] * 5 + [(lp(yes=0.55, no=0.45), "no")] * 5
    assert sum(decide(r).label == g for r, g in rows) == 5  # always "yes"
    offsets = fit_offsets(rows)
    assert sum(decide(r, offsets).label == g for r, g in rows) == 10


def test_a_linear_calibration_reads_a_feature_the_offsets_cannot() -> None:
    """The model says SUPPORT alike for supported and unaddressed claims; the best evidence sentence's similarity
    tells them apart. Offsets cannot use it; the fitted linear score can, and cross-validation inside the
    rows shows it without touching other data."""
    rows = []
    for i in range(40):
        gold = "SUPPORT" if i % 2 else "NEI"
        logprobs = lp(SUPPORT=0.6 + 0.001 * (i % 7), NEI=0.4 - 0.001 * (i % 7))
        rows.append((logprobs, {"similarity": (0.8 if gold == "SUPPORT" else 0.4) + 0.01 * (i % 5)}, gold))
    offsets = fit_offsets([(lps, g) for lps, _, g in rows])
    assert sum(decide(lps, offsets, f).label == g for lps, f, g in rows) <= 25
    linear = [(linear_inputs(lps, f), g) for lps, f, g in rows]
    values = fit_linear(linear)
    assert all(decide(lps, values, f).label == g for lps, f, g in rows)
    assert values["SUPPORT*similarity"] > values["NEI*similarity"]  # similarity is what tells them apart
    # an input the calibration reads is missing: the model's own arg-max, not a guess of 0
    assert decide(rows[0][0], values, {}).label == "SUPPORT" and decide(rows[0][0], values).label == "SUPPORT"
    # an option the fit never saw cannot win
    assert decide({**rows[0][0], "CONTRADICT": 0.0}, values, rows[0][1]).label == "NEI"

    def label(x: dict[str, float], v: dict[str, float]) -> str:
        return decide({k: x[f"lp:{k}"] for k in ("SUPPORT", "NEI")}, v, {"similarity": x["similarity"]}).label

    assert cross_validated(linear, fit_linear, label) == 1.0
    assert cross_validated([(lps, g) for lps, _, g in rows], fit_offsets, lambda x, v: decide(x, v).label) < 0.7


def test_calibration_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "calibration.json"
    save_calibration("verdict", "m", {"yes": 0.0, "no": 0.5}, path)
    assert calibration("verdict", "m", path) == {"yes": 0.0, "no": 0.5}
    assert calibration("verdict", "other", path) == {}
    assert json.loads(path.read_text())["verdict"]["m"]["no"] == 0.5


def test_hedges_are_recognised() -> None:
    for hedge in (
        "The learning rate schedule was not specified in the given passage.",
        "The passage does not mention the number of epochs [1].",
        "The passages only mention that ConvNeXt was pre-trained on ImageNet-22K.",
        "There is no information about the batch size in the passages.",
    ):
        assert is_hedge(hedge), hedge
    for claim in (
        "FFCV trains ResNet-50 on ImageNet to 75% in 20 minutes [1].",
        "The model was trained for 300 epochs with a cosine schedule [2].",
        "Pruning does not hurt accuracy on ImageNet [1].",
    ):
        assert not is_hedge(claim), claim


def test_names_are_method_like_words() -> None:
    assert names("SN-Netv2 beats ConvNeXt and ResNet-50 on ImageNet, says the FFCV team.") >= {
        "sn-netv2", "convnext", "resnet-50", "imagenet", "ffcv"}
    assert "the" not in names("The model")


def test_a_number_the_cited_passage_lacks_fails_attribution() -> None:
    cited = ["MEAL V2. Our method reaches 80.67% top-1 with a vanilla ResNet-50."]
    good = attribution("MEAL V2 reaches 80.67% top-1 accuracy [1].", cited, [])
    bad = attribution("MEAL V2 reaches 80.4% top-1 accuracy [1].", cited, [])
    assert good.ok and not bad.ok and bad.missing_numbers == ("80.4",)


def test_a_method_from_another_passage_fails_attribution() -> None:
    cited = ["FFCV. FFCV trains an ImageNet ResNet-50 to 75% in 20 minutes on one machine."]
    others = ["Training data-efficient image transformers. DeiT reaches 83.1% on ImageNet without extra data."]
    wrong = attribution("DeiT trains ResNet-50 to 75% in 20 minutes [1].", cited, others)
    assert not wrong.ok and wrong.foreign_names == ("deit",)
    right = attribution("FFCV trains ResNet-50 to 75% in 20 minutes [1].", cited, others)
    assert right.ok


def test_a_result_given_to_the_questions_method_from_another_papers_passage_fails() -> None:
    """"Patternformer reports 80.66% [4]": the question's one-word name opens the sentence, passage 4 never
    mentions it and another paper's does; repeating the question's name is no licence to borrow a number."""
    question = "What top-1 accuracy does Patternformer report on CIFAR-100?"
    cited = ["CUDA. ERM on the clean training data achieves a clean test accuracy of 80.66%."]
    others = ["Patch Is Not All You Need. We propose a Pattern Transformer (Patternformer) for CIFAR-100."]
    wrong = attribution("Patternformer reports a top-1 accuracy of 80.66% on CIFAR-100 [4].", cited, others, question)
    assert wrong.foreign_subjects == ("patternformer",)
    # also when the question's other name (ImageNet) makes it look title case, and no evidence paper is about it
    short = "What top-1 accuracy does Patternformer get on ImageNet?"
    resnet = ["ResNet strikes back. A vanilla ResNet-50 reaches 80.4% top-1 accuracy on ImageNet."]
    borrowed = attribution("Patternformer achieves 80.4% top-1 accuracy on ImageNet [6].", resnet, [], short)
    assert borrowed.foreign_subjects == ("patternformer",)
    # named as an object, or spelled differently by the cited passage ("ConvNeX-T"), it is not the subject
    objects = attribution("InceptionNeXt-T trains 1.6x faster than ConvNeXt-T [1].",
                          ["InceptionNeXt. InceptionNeXt-T trains 1.6x faster than ConvNeX-T."],
                          ["A ConvNet for the 2020s. ConvNeXt-T reaches 82.1%."], "How much faster than ConvNeXt-T?")
    assert objects.ok
    # the cited paper names it in a passage the evidence did not show: the paper's whole text counts
    shown, other = ["Medical paper. Our method needs only 10% as much labeled data."], ["Other. ConVIRT is a baseline."]
    whole = ["Medical paper. We propose ConVIRT. Our method needs only 10% as much labeled data."]
    claim, asked = "ConVIRT needs only 10% as much labeled data [1].", "How much data does ConVIRT need?"
    assert not attribution(claim, shown, other, asked).ok
    assert attribution(claim, shown, other, asked, Papers(word_forms(" ".join(whole)))).ok


REST = "ReST is a reinforced self-training method applied to machine translation benchmarks."
MCTS = "ReST-MCTS* integrates process reward guidance with tree search to collect higher-quality reasoning traces."


def test_a_contrast_clause_from_an_uncited_paper_fails_and_both_papers_are_cited() -> None:
    """"A does X, while B does Y [2]" where X is only in A's passage: the clause is not stated by [2], so the
    sentence is re-cited to the pair that states both halves."""
    question = "How do ReST and ReST-MCTS* differ: which application does ReST target, and what search does ReST-MCTS* use?"
    raw = "ReST focuses on machine translation, while ReST-MCTS* uses tree search to collect reasoning traces [2]."
    assert unstated_clause(raw, [MCTS]) == "ReST focuses on machine translation"
    assert unstated_clause(raw, [REST, MCTS]) == ""
    answer = build_answer(question, raw, [context(1, "rest", REST), context(2, "mcts", MCTS)], embed, 0.3)
    assert answer.sentences[0].supported
    assert sorted(r.paper_id for r in answer.references) == ["mcts", "rest"]


def test_a_trailing_clause_without_a_subject_is_not_checked_on_its_own() -> None:
    sentence = "The model shares one encoder across all languages, while still being able to translate well [1]."
    assert unstated_clause(sentence, ["One encoder is shared across all languages."]) == ""


def test_a_method_the_cited_paper_never_mentions_fails_when_another_evidence_paper_is_about_it() -> None:
    """"SPAM resets the model to an EMA of itself [1]" where [1] is the Elastic Reset paper: no number, but the
    sentence describes the question's other method with a paper silent on it, so [1] alone cannot carry it. A metric the question names ("top-1") is no method."""
    question = "Elastic Reset and SPAM both reset something during training. What gets reset in each?"
    elastic = "Elastic Reset periodically resets the online model to an exponentially moving average of itself."
    spam = "SPAM: Spike-Aware Adam with Momentum Reset. SPAM resets the momentum to counter gradient spikes."
    claim = "SPAM resets the online model to an exponentially moving average of itself [1]."
    alone = attribution(claim, [elastic], [spam], question)
    assert alone.ok  # without the other papers' titles, nothing says SPAM is another paper's method
    titled = Papers(word_forms(elastic), other_titles=frozenset(word_forms("SPAM: Spike-Aware Adam with Momentum Reset")))
    assert attribution(claim, [elastic], [spam], question, titled).foreign_subjects == ("spam",)
    ctxs = [Context(number=1, chunk=chunk("elastic", elastic, title="Language Model Alignment with Elastic Reset"),
                    text=elastic, score=1.0, relevance=0.5),
            Context(number=2, chunk=chunk("spam", spam, title="SPAM: Spike-Aware Adam with Momentum Reset"),
                    text=spam, score=1.0, relevance=0.5)]
    answer = build_answer(question, claim, ctxs, embed, 0.3)
    assert not any(s.supported and s.citations == [1] for s in answer.sentences)
    # the cited DropBlock paper never writes "top-1", another evidence title does: a metric, still rightly attributed
    drop = "DropBlock improves ResNet-50 accuracy on ImageNet from 76.51% to 78.13%."
    meal = Papers(word_forms(drop), other_titles=frozenset(word_forms("MEAL V2: Boosting ResNet-50 to 80%+ Top-1")))
    assert attribution("Top-1 accuracy improves with DropBlock [1].", [drop], [],
                       "How does DropBlock change top-1 accuracy?", meal).ok


def test_a_result_whose_subject_is_another_papers_name_fails_even_when_the_cited_paper_mentions_it() -> None:
    """DReSD's paper reports its gain over REST; "REST achieves 87% higher acceptance rates [1]" gives REST
    DReSD's result. A sentence opening with the cited paper's own name, or naming REST only as an object or in
    lower case ("the rest of …"), is fine."""
    question = "Compare REST and DReSD."
    cited = ["DReSD: Dense Retrieval for Speculative Decoding. DReSD achieves 87% higher acceptance rates than "
             "sparse retrieval (REST)."]
    papers = Papers(word_forms(" ".join(cited)), frozenset({"DReSD"}), frozenset({"REST"}))
    wrong = attribution("REST achieves 87% higher acceptance rates [1].", cited, [], question, papers)
    assert wrong.foreign_subjects == ("rest",) and "do not report on" in wrong.reason()
    for right in ("DReSD achieves 87% higher acceptance rates than REST [1].",
                  "Compared with REST, DReSD achieves 87% higher acceptance rates [1].",
                  "The rest of the models reach 87% [1]."):
        assert attribution(right, cited, [], question, papers).ok, right
    # a rival the question does not name is not what the sentence is asked about
    glue = Papers(word_forms("RoBERTa reaches 88.5 on GLUE."), frozenset({"RoBERTa"}), frozenset({"GLUE"}))
    assert attribution("GLUE is 88.5 for RoBERTa [1].", ["RoBERTa reaches 88.5 on GLUE."], [],
                       "How does RoBERTa score?", glue).ok


def test_names_papers_go_by_are_name_like_title_heads() -> None:
    assert title_name("REST: Retrieval-Based Speculative Decoding") == "REST"
    assert title_name("MEAL V2: Boosting Vanilla ResNet-50") == "MEAL V2"
    for title in ("Stable ResNet", "Batch Normalization: Accelerating …", "A: B", "Figure 1: x", "", ":"):
        assert title_name(title) == "", title


def test_a_name_written_apart_or_an_author_is_not_a_foreign_subject() -> None:
    question = "What does Llama-2 70B reach on MMLU, according to Kaplan?"
    cited = ["Scaling. We evaluate Llama 2 70B, which reaches 68.9% on MMLU."]
    assert attribution("Llama-2 70B reaches 68.9% on MMLU [1].", cited, [], question).ok
    assert attribution("Kaplan et al. report 68.9% on MMLU [1].", cited, [], question).ok


def test_the_pick_of_a_choice_question_must_be_named_by_the_paper_cited() -> None:
    """"LowFormer is faster than InceptionNeXt [1]" where [1] is InceptionNeXt's paper, which never names LowFormer."""
    question = "Which is faster, LowFormer or InceptionNeXt?"
    cited = ["InceptionNeXt. InceptionNeXt-T achieves 1.6x higher training throughputs than ConvNeX-T."]
    others = ["LowFormer. LowFormer achieves a remarkable speedup in throughput and latency."]
    assert attribution("LowFormer is faster than InceptionNeXt [1].", cited, others, question).foreign_subjects == (
        "lowformer",)
    assert attribution("LowFormer is faster than InceptionNeXt [2].", others, cited, question).ok
    # "or" between words that are not both names offers no options to pick from
    assert picks_between(question) and picks_between("Which one of SCAR and the other method needs no retain set?")
    assert not picks_between("Does LowFormer improve accuracy or speed?")


def test_a_result_given_to_a_method_no_passage_names_fails() -> None:
    """No passage names FlashAttention-2: its speed-up can only be another paper's."""
    question = "How much wall-clock speed-up does FlashAttention-2 give over standard attention on A100 GPUs?"
    cited = ["Hardware Acceleration of Neural Graphics. Our accelerator gives 1.5X-55X speed-ups over GPUs."]
    wrong = attribution("FlashAttention-2 gives a wall-clock speed-up of 1.5X-55X on A100 GPUs [1].", cited,
                        ["LowFormer. LowFormer is fast on an A100 GPU."], question)
    assert wrong.foreign_subjects == ("flashattention-2",)
