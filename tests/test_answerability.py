"""The answer-or-refuse decision's signals: names the passages never mention, and the threshold rule."""

from __future__ import annotations

from paperqa_local.answerability import (
    answerable,
    apart_names,
    apart_share,
    identifies,
    missing_names,
    missing_share,
    question_names,
)
from paperqa_local.settings import Settings

from fakes import context


def test_question_names_are_the_words_that_name_things() -> None:
    q = "What word error rate does Whisper large-v2 reach on LibriSpeech test-clean with 540B GPUs?"
    assert question_names(q) == ["Whisper", "large-v2", "LibriSpeech", "540B", "GPUs"]
    # a paraphrase names nothing: plain words, and the question's own first word is not a name
    assert question_names("How long was the single-filter mid-infrared exposure of the sky patch?") == []


def test_a_name_no_passage_mentions_is_missing_and_a_written_variant_is_not() -> None:
    passages = [context(1, "p1", "BERT large reaches 90.9 F1 on SQuAD; we train ResNet50 on 8 GPU nodes."),
                context(2, "p2", "Chain-of-thought prompting helps small models.")]
    assert missing_names("What F1 does BERT-large reach on SQuAD with ResNet-50 and GPUs?", passages) == []
    assert missing_names("How much does chain-of-thought prompting improve PaLM 540B on GSM8K?", passages) == [
        "PaLM", "540B", "GSM8K"]


def test_missing_share_weighs_names_by_rarity() -> None:
    passages = [context(1, "p1", "Chain-of-thought prompting improves arithmetic reasoning of language models.")]
    idf = {"palm": 5.0, "gsm8k": 5.0}.get
    share = missing_share("How much does chain-of-thought prompting improve PaLM on GSM8K?", passages,
                          lambda w: idf(w) or 1.0)
    assert 0.5 < share < 1.0
    assert missing_share("How much does chain-of-thought prompting improve reasoning?", passages, lambda w: 1.0) == 0


def test_the_threshold_rule_refuses_when_names_are_missing() -> None:
    s = Settings()
    ok = {"relevance": 0.6, "coverage": 0.5, "missing": 0.0}
    assert answerable(ok, {}, s)
    assert not answerable({**ok, "missing": s.max_missing}, {}, s)
    assert not answerable({**ok, "coverage": s.min_coverage - 0.01}, {}, s)
    assert answerable({"relevance": 0.6, "coverage": 0.5}, {}, s)  # items recorded before the signal existed


def test_names_no_one_paper_mentions_together_are_apart() -> None:
    """RESTGPT's paper never names GPT-4; another paper does. A name no passage mentions is missing, not apart."""
    passages = [context(1, "restgpt", "RESTGPT leverages large language models to improve REST API testing."),
                context(2, "other", "We prompt GPT-4 to grade the answers."),
                context(3, "restgpt", "RESTGPT extracts rules from API specifications.")]
    assert apart_names("Is RESTGPT built on GPT-4?", passages) == ["GPT-4"]
    assert apart_share("Is RESTGPT built on GPT-4?", passages, lambda w: 1.0) > Settings().max_apart
    assert apart_names("Is RESTGPT built on PaLM?", passages) == []  # PaLM: missing_names's
    together = passages + [context(4, "restgpt", "RESTGPT prompts GPT-4 with the specification.")]
    assert apart_names("Is RESTGPT built on GPT-4?", together) == []
    assert apart_share("Does RESTGPT improve REST API testing?", passages, lambda w: 1.0) == 0.0


def test_the_threshold_rule_refuses_a_question_whose_names_are_apart() -> None:
    s = Settings()
    ok = {"relevance": 0.6, "coverage": 0.5, "missing": 0.0, "apart": 0.0}
    assert answerable(ok, {}, s)
    assert not answerable({**ok, "apart": s.max_apart}, {}, s)
    assert not answerable({**ok, "apart": s.max_apart}, {"bias": 5.0}, s)  # no weighting outvotes it


def test_yes_no_questions_are_found_after_a_title_clause() -> None:
    """PubMedQA titles put the yes/no question after a colon or full stop; each gets a scored verdict."""
    from paperqa_local.answerability import is_yes_no

    assert is_yes_no("Does diabetes mellitus influence the efficacy of FDG-PET?")
    assert is_yes_no("Double balloon enteroscopy: is it efficacious and safe in a community setting?")
    assert is_yes_no("Human papillomavirus and pterygium. Is the virus a risk factor?")
    assert is_yes_no("The nurse cystoscopist: a feasible option?")
    assert not is_yes_no("What learning rate schedule was used to train ConvNeXt?")
    assert not is_yes_no("Which method trains an ImageNet ResNet-50 to 75% in about 20 minutes?")
    # requests are not yes/no questions, unless they ask whether
    assert not is_yes_no("Can you tell me how fast FFCV trains a ResNet-50?")
    assert not is_yes_no("Tell me about HBFormer?")
    assert not is_yes_no("List the datasets used by HBFormer?")
    assert is_yes_no("Can you tell me whether FFCV speeds up training?")
    assert is_yes_no("Can FFCV train a ResNet-50 in 20 minutes?")
    # a keyword query naming a quantity asks for its number
    assert not is_yes_no("Unicron speedup?") and not is_yes_no("nasnet top-1 and top-5 accuracy?")
    assert is_yes_no("School food policy at Dutch primary schools: room for improvement?")


def test_title_case_questions_do_not_turn_every_word_into_a_name() -> None:
    """PubMedQA titles capitalise every word; only inner capitals and digits still mark names there."""
    assert question_names("Is Acupuncture Efficacious for Treating Phonotraumatic Vocal Pathologies?") == []
    assert question_names("Does the HbA1c Target Matter for Treating Older Diabetic Patients?") == ["HbA1c"]
    assert question_names("What word error rate does Whisper large-v2 reach?") == ["Whisper", "large-v2"]
    # two names with inner capitals do not make a short question title case: Patternformer stays a name
    assert question_names("What top-1 accuracy does Patternformer get on ImageNet?") == ["top-1", "Patternformer",
                                                                                         "ImageNet"]
    # two capitalised words of a short question are a name, not a style
    assert question_names("What does Gaussian Splatting achieve?") == ["Gaussian", "Splatting"]


def test_a_question_in_capitals_names_only_what_has_digits() -> None:
    assert question_names("WHAT TOP-1 ACCURACY DOES MEAL V2 REACH ON IMAGENET?") == ["TOP-1", "V2"]
    assert question_names("PREVALENCE OF THE STREPTOCOCUS AGALACTIAE IN THE PREGNANT WOMAN: IS CULTURE A "
                          "DETERMINANT FACTOR?") == []


def test_a_name_with_a_describing_suffix_is_the_name() -> None:
    """"SimCLRv2-based" names SimCLRv2: a passage that says "SimCLRv2" (and never "based") mentions it."""
    assert question_names("What does the SimCLRv2-based method reach?") == ["SimCLRv2"]
    assert question_names("Is a GPT-style model LiDAR-guided?") == ["GPT", "LiDAR"]
    assert question_names("How does ReST-MCTS work on large-v2?") == ["ReST-MCTS", "large-v2"]


def test_which_paper_fits_a_description_no_passage_holds_is_not_answered() -> None:
    """"Which paper proposes a decoder for quantum error correction?" over a library with no such paper: the closest
    passage (a brain-decoding one) holds little of the description, so naming it would be naming a wrong paper.
    The same coverage answers a question that does not ask for a paper by description."""
    s = Settings()
    scores = {"relevance": 0.43, "coverage": 0.14, "missing": 0.0, "unstated": 0.0}
    assert identifies("Which paper proposes a decoder for quantum error correction?")
    assert not answerable({**scores, "identifies": 1.0}, {}, s)
    assert answerable({**scores, "identifies": 0.0}, {}, s)
    assert answerable({**scores, "coverage": 0.25, "identifies": 1.0}, {}, s)  # a paraphrase the tune parts answer
    assert not identifies("What does FFCV speed up?") and identifies("What method won the lane detection challenge?")
