"""Citation handling, sentence verification and the cannot-answer path (deterministic embeddings)."""

from __future__ import annotations

from paperqa_local.answer import NOT_ANSWERED_TEXT, build_answer, is_cannot_answer, keep_subject, parse_markers
from paperqa_local.results import Context
from paperqa_local.text_rules import split_sentences

from fakes import chunk, context, embed

FFCV = "FFCV trains an ImageNet ResNet-50 to 75% accuracy in 20 minutes on a single machine with 8 GPUs."
OTHER = "Moment probing builds a linear classifier on the feature distribution instead of the mean feature."
CTX = [context(1, "ffcv", FFCV), context(2, "mp", OTHER)]


def test_markers_are_canonicalised_and_invented_numbers_dropped() -> None:
    text, cited = parse_markers("It is fast [1, 2]. It uses [3] loaders [1-2]. Also [7].", {1, 2})
    assert text == "It is fast [1][2]. It uses loaders [1][2]. Also."
    assert cited == [1, 2]


def test_supported_answer_keeps_its_citations() -> None:
    raw = "FFCV trains a ResNet-50 on ImageNet to 75% accuracy in 20 minutes on one machine [1]."
    answer = build_answer("q", raw, CTX, embed, support_threshold=0.45)
    assert not answer.cannot_answer
    assert answer.citations == [1]
    assert [r.paper_id for r in answer.references] == ["ffcv"]
    assert answer.unsupported == []


def test_invented_marker_is_removed_and_sentence_reattached_to_its_real_source() -> None:
    raw = "FFCV trains an ImageNet ResNet-50 to 75% accuracy in 20 minutes [9]."
    answer = build_answer("q", raw, CTX, embed, support_threshold=0.45)
    assert "[9]" not in answer.text
    assert answer.citations == [1]


def test_unsupported_sentence_is_flagged_not_hidden() -> None:
    raw = ("FFCV trains an ImageNet ResNet-50 to 75% accuracy in 20 minutes [1]. "
           "It was developed at a quantum computing startup in Zurich in 1987 [2].")
    answer = build_answer("q", raw, CTX, embed, support_threshold=0.45)
    assert not answer.cannot_answer
    assert len(answer.unsupported) == 1 and "Zurich" in answer.unsupported[0]
    assert "Zurich" in answer.text  # flagged, still shown


def test_a_number_the_cited_passage_lacks_fails_the_check() -> None:
    good = build_answer("q", "FFCV reaches 75% in 20 minutes [1].", CTX, embed, 0.45).sentences[0]
    assert good.supported
    assert build_answer("q", "FFCV reaches 91% in 3 minutes [1].", CTX, embed, 0.0).cannot_answer
    mixed = build_answer("q", "FFCV reaches 75% in 20 minutes [1]. It needs 91 GPUs [1].", CTX, embed, 0.0)
    bad = mixed.sentences[1]
    assert not bad.supported and "91" in bad.reason


def test_a_number_with_thousands_separators_is_one_number() -> None:
    """"1,000,000" in the answer is the passage's 1000000, not 1000 and 000 (which would fail a passage "10^6")."""
    scale = [context(1, "scale", "We index 1,000,000 chunks and search them in 55 ms.")]
    assert build_answer("q", "It indexes 1000000 chunks in 55 ms [1].", scale, embed, 0.3).sentences[0].supported
    bad = build_answer("q", "It indexes 1,000,500 chunks in 55 ms [1].", scale, embed, 0.0)
    assert bad.cannot_answer


def test_a_number_the_passage_spells_out_is_stated_by_it() -> None:
    """"eight tasks" in the passage states the 8 of the answer; a number it does not state still fails."""
    faces = [context(1, "face", "FaceXFormer handles eight facial analysis tasks and runs in real time at 37 FPS.")]
    good = build_answer("q", "FaceXFormer handles 8 facial analysis tasks at 37 FPS [1].", faces, embed, 0.3)
    assert good.sentences[0].supported, good.sentences[0].reason
    bad = build_answer("q", "FaceXFormer handles 9 facial analysis tasks at 37 FPS [1].", faces, embed, 0.0)
    assert bad.cannot_answer


def test_a_result_given_to_another_papers_method_fails_the_check() -> None:
    contexts = [context(1, "ffcv", FFCV), context(2, "mp", "Moment Probing (MP) reaches 84.2% on ImageNet-1K.")]
    answer = build_answer("q", "Moment Probing trains ResNet-50 to 75% accuracy in 20 minutes [1].", contexts,
                          embed, 0.45)
    assert answer.cannot_answer or answer.unsupported, answer.sentences


def test_hedges_are_gaps_not_claims() -> None:
    hedged = ("The learning rate schedule is not specified in the given passage [1]. "
              "The passage only mentions that FFCV trains ResNet-50 quickly [1].")
    assert build_answer("What schedule does FFCV use?", hedged, CTX, embed, 0.45).cannot_answer
    partial = ("FFCV trains an ImageNet ResNet-50 to 75% accuracy in 20 minutes [1]. "
               "The learning rate schedule is not specified in the passages [1].")
    answer = build_answer("How fast is FFCV and what schedule does it use?", partial, CTX, embed, 0.45)
    assert not answer.cannot_answer and answer.citations == [1]
    assert answer.gaps == ["The learning rate schedule is not specified in the passages."]
    assert answer.unsupported == []  # a gap is not an unsupported claim


def test_a_sentence_opening_with_a_marker_keeps_its_subject() -> None:
    contexts = [Context(number=1, chunk=chunk("ffcv", FFCV, title="FFCV: Accelerating Training by Removing Data "
                                                                  "Bottlenecks"), text=FFCV, score=1.0, relevance=0.5)]
    answer = build_answer("q", "[1] trains an ImageNet ResNet-50 to 75% accuracy in 20 minutes.", contexts, embed,
                          0.45)
    assert answer.text == "FFCV trains an ImageNet ResNet-50 to 75% accuracy in 20 minutes [1]."
    assert keep_subject("[1][2] FFCV is fast.", {1: contexts[0]}) == "FFCV is fast [1][2]."
    # a marker used as a noun after the leading one still cites its paper
    rest = Context(number=2, chunk=chunk("rest", OTHER, title="REST: Retrieval-Based Speculative Decoding"),
                   text=OTHER, score=1.0, relevance=0.5)
    assert keep_subject("[1] and [2] are about fast training.", {1: contexts[0], 2: rest}) == (
        "FFCV and REST are about fast training [1][2].")
    assert keep_subject("[1] FFCV is fast [2].", {1: contexts[0], 2: rest}) == "FFCV is fast [1][2]."
    # a marker used as a noun gets the paper's name beside it, so the sentence says who did it
    named = build_answer("q", "The method in [1] trains an ImageNet ResNet-50 to 75% accuracy in 20 minutes.",
                         contexts, embed, 0.45)
    assert named.text.startswith("The method in FFCV [1] trains") and not named.cannot_answer
    # a lower-case name that already opens the sentence is its subject: not written twice
    ein = Context(number=4, chunk=chunk("ein", OTHER, title="einspace: Searching for Neural Architectures"),
                  text=OTHER, score=1.0, relevance=0.5)
    assert keep_subject("[4] einspace suggests a grammar.", {4: ein}) == "einspace suggests a grammar [4]."
    rst = Context(number=2, chunk=chunk("rst", OTHER, title="ReST: Reinforced Self-Training"), text=OTHER, score=1.0,
                  relevance=0.5)  # a name that only begins the first word ("restores") is no subject
    assert keep_subject("[2] restores the policy.", {2: rst}) == "ReST restores the policy [2]."
    plus = Context(number=3, chunk=chunk("pp", OTHER, title="Pantheon+: The Full Dataset"), text=OTHER, score=1.0,
                   relevance=0.5)
    assert keep_subject("[3] pantheon+ releases 1701 light curves.", {3: plus}) == (
        "pantheon+ releases 1701 light curves [3].")
    # "Which approach …?" answered with a marker as the noun it asks for: the paper's name says which
    assert keep_subject("The approach that trains in 20 minutes is [1].", {1: contexts[0]}) == (
        "The approach that trains in 20 minutes is FFCV [1].")


def test_sentinel_and_all_unsupported_answers_become_not_answered() -> None:
    for raw in ("NOT ANSWERED", "not_answered.", "The passages do not answer this question.", ""):
        answer = build_answer("q", raw, CTX, embed, 0.45)
        assert answer.cannot_answer and answer.text.startswith(NOT_ANSWERED_TEXT), raw
        assert answer.references == [] and answer.closest_papers
    guess = build_answer("q", "ConvNeXt uses a cosine schedule with 20 warmup epochs [2].", CTX, embed, 0.45)
    assert guess.cannot_answer


def test_yes_no_verdict_that_restates_the_question_is_judged_on_its_claim() -> None:
    question = "Can FFCV train an ImageNet ResNet-50 to 75% accuracy in 20 minutes on a single machine?"
    verdict = build_answer(question, "Yes, FFCV can train an ImageNet ResNet-50 to 75% accuracy in 20 minutes "
                                     "on a single machine [1].", CTX, embed, 0.45)
    assert not verdict.cannot_answer and verdict.unsupported == [] and verdict.citations == [1]
    # the same restatement without a verdict adds nothing: not an answer
    echo = build_answer(question, "FFCV can train an ImageNet ResNet-50 to 75% accuracy in 20 minutes on a "
                                  "single machine [1].", CTX, embed, 0.45)
    assert echo.cannot_answer
    # a verdict whose claim the passages do not hold is not supported
    other = "Does moment probing reach 90% top-1 accuracy on ImageNet-21k within one hour?"
    wrong = build_answer(other, "Yes, moment probing reaches 90% top-1 accuracy on ImageNet-21k within one "
                                "hour [2].", CTX, embed, 0.45)
    assert wrong.cannot_answer


def test_is_cannot_answer_ignores_answers_that_merely_mention_papers() -> None:
    assert not is_cannot_answer("The papers describe FFCV, a data loading library [1].")
    assert is_cannot_answer("NOT ANSWERED")


def test_markdown_export_has_references() -> None:
    answer = build_answer("What is FFCV?", "FFCV trains ResNet-50 to 75% in 20 minutes [1].", CTX, embed, 0.45)
    md = answer.to_markdown()
    assert "**References**" in md and "[1] Paper ffcv" in md
    assert answer.to_dict()["references"][0]["paper_id"] == "ffcv"


def test_a_sentence_joining_two_papers_results_cites_both() -> None:
    tricks = "Bag of tricks: training refinements raise ResNet-50 top-1 accuracy on ImageNet to 79.29%."
    drop = "DropBlock: structured block-wise dropout gives ResNet-50 78.13% top-1 accuracy on ImageNet."
    ctx = [context(1, "tricks", tricks), context(2, "dropblock", drop)]
    raw = "ResNet-50 reaches 79.29% top-1 accuracy with training refinements and 78.13% with DropBlock."
    answer = build_answer("What accuracies does ResNet-50 reach with refinements and with block dropout?", raw,
                          ctx, embed, support_threshold=0.45)
    assert not answer.cannot_answer
    assert answer.citations == [1, 2]
    assert answer.sentences[0].supported and answer.text.endswith("[1][2].")


def test_a_copied_passage_location_is_not_a_claim() -> None:
    ctx = [Context(number=1, chunk=chunk("ffcv", FFCV, index=41, title="FFCV: Accelerating Training"),
                   text=FFCV, score=1.0, relevance=0.8)]
    answer = build_answer("q", "[1] FFCV: Accelerating Training (entry 42) trains a ResNet-50 to 75% in 20 minutes.",
                          ctx, embed, support_threshold=0.45)
    assert not answer.cannot_answer and "entry 42" not in answer.text and answer.citations == [1]


def test_a_single_digit_is_what_an_answer_adds_to_the_question() -> None:
    """"… uses only 3 augmentations" restates the question but for the 3: it answers, and is checked on it."""
    question = "How many data augmentations does the simplified training recipe in DeiT III use?"
    passage = "The DeiT III recipe includes a new simple data-augmentation procedure with only 3 augmentations."
    raw = "The simplified training recipe in DeiT III uses only 3 augmentations [1]."
    assert build_answer(question, raw, [context(1, "deit", passage)], embed, 0.45).sentences[0].supported
    wrong = build_answer(question, raw.replace("3", "5"), [context(1, "deit", passage)], embed, 0.45)
    assert wrong.cannot_answer


def test_picking_one_option_of_a_choice_question_is_an_answer_checked_on_all_its_words() -> None:
    """The answer to "which one of A and B …" is the question's own words paired: the passage must pair them."""
    question = "Among SCAR and SLUG, which one removes the need for a retain set?"
    scar = context(1, "scar", "SCAR eliminates specific information without using a retain set, so no retain set "
                              "is needed to remove the need for one.")
    slug = context(2, "slug", "SLUG needs only a one-time gradient computation and edits a single layer.")
    assert build_answer(question, "SCAR removes the need for a retain set [1].", [scar, slug], embed,
                        0.45).sentences[0].supported
    assert build_answer("How does SCAR remove the need for a retain set?", "SCAR removes the need for a retain set [1].",
                        [scar, slug], embed, 0.45).cannot_answer


def test_a_digit_the_passage_spells_out_is_found_in_it() -> None:
    """"OptFS was evaluated on 3 datasets" against "three public datasets": the 3 is stated, as for the number
    check, so the digit that makes the sentence an answer is also found in the passage."""
    question = "Which of OptFS and FCN was evaluated on more datasets, and how many did each use?"
    optfs = context(1, "optfs", "OptFS is evaluated on three public datasets for click-through rate prediction.")
    fcn = context(2, "fcn", "FCN is evaluated on six benchmark datasets for click-through rate prediction.")
    answer = build_answer(question, "OptFS was evaluated on 3 datasets, while FCN was evaluated on 6 datasets [1][2].",
                          [optfs, fcn], embed, 0.45)
    assert answer.sentences[0].supported and answer.sentences[0].citations == [1, 2]


def test_a_sentence_that_only_points_at_a_passage_gives_its_marker_to_the_claim_before_it() -> None:
    """"… 20 minutes. This is described in [1]." reads as one cited claim; "See [1]." is no sentence of its own."""
    for pointer in ("This is described in [1].", "This approach is described in [1].", "See [1]."):
        raw = f"FFCV trains an ImageNet ResNet-50 to 75% accuracy in 20 minutes on a single machine. {pointer}"
        answer = build_answer("q", raw, CTX, embed, support_threshold=0.45)
        assert answer.text == ("FFCV trains an ImageNet ResNet-50 to 75% accuracy in 20 minutes on a single "
                               "machine [1].")
        assert answer.citations == [1] and answer.unsupported == []


def test_a_sentence_that_says_something_about_a_passage_is_no_pointer() -> None:
    """"This is not mentioned in [2]." and "This was first reported in 2019 [2]." state something: they stay
    sentences of their own (checked, and flagged when unsupported); several markers or a pointer first fold too."""
    claim = "FFCV trains an ImageNet ResNet-50 to 75% accuracy in 20 minutes on a single machine"
    for other in ("This is not mentioned in [2].", "This was first reported in 2019 [2]."):
        answer = build_answer("q", f"{claim} [1]. {other}", CTX, embed, support_threshold=0.45)
        assert len(answer.sentences) == 2 and answer.sentences[0].citations == [1]
    assert build_answer("q", f"See [1]. {claim}.", CTX, embed, 0.45).text == f"{claim} [1]."
    assert build_answer("q", f"{claim}. This is described in [1][2].", CTX, embed, 0.45).sentences[0].text.startswith(
        claim)


def test_an_abbreviation_full_stop_does_not_end_the_sentence() -> None:
    """"… compared to Levy et al. (2021)." is one claim: its marker goes at its end, not inside "et al"."""
    dp = [context(1, "dp", "Our mechanism has lower local deletion sensitivity than the one of Levy et al. (2021). "
                           "It needs milder smoothness assumptions, e.g. no second derivative.")]
    raw = "The new mechanism has lower local deletion sensitivity compared to Levy et al. (2021)."
    answer = build_answer("How does it compare with Levy et al. (2021)?", raw, dp, embed, 0.3)
    assert answer.text == "The new mechanism has lower local deletion sensitivity compared to Levy et al. (2021) [1]."
    assert len(answer.sentences) == 1 and answer.sentences[0].supported
    assert split_sentences("See Fig. 3 for details. No. The study found no effect.") == [
        "See Fig. 3 for details.", "No.", "The study found no effect."]
    # "et al." ends a sentence unless a citation follows; an acronym ("CF.") ends one; a marker in a join stays
    assert split_sentences("As shown by Lu et al. Traditional fixes fail.") == ["As shown by Lu et al.",
                                                                                  "Traditional fixes fail."]
    assert split_sentences("Patients with CF. The cohort was small.") == ["Patients with CF.", "The cohort was small."]
    assert split_sentences("Proposed by Smith et al. [3] The method works.") == [
        "Proposed by Smith et al. [3] The method works."]
    assert split_sentences("No. 30% of patients improved. As in Eq. (3) the loss is convex, e.g. Adam.") == [
        "No.", "30% of patients improved.", "As in Eq. (3) the loss is convex, e.g. Adam."]


def test_a_pointing_clause_at_a_sentences_end_leaves_only_its_marker() -> None:
    """"…, as stated in [1]." is the marker said in words: the answer reads "… 1.6% [1]."."""
    ctxs = [context(1, "dropblock", "DropBlock improves ResNet-50 on ImageNet by 1.6% accuracy.")]
    raw = "DropBlock improves ResNet-50 on ImageNet by 1.6% accuracy, as stated in [1]."
    answer = build_answer("How much does DropBlock improve ResNet-50?", raw, ctxs, embed, 0.45)
    assert answer.text == "DropBlock improves ResNet-50 on ImageNet by 1.6% accuracy [1]."


RSB = "With our more demanding training setting, a vanilla ResNet-50 reaches 80.4% top-1 accuracy at resolution 224x224 on ImageNet-val."
BOT = "Bag of tricks raises ResNet-50's top-1 validation accuracy from 75.3% to 79.29% on ImageNet."
MEAL = "MEAL V2 achieves 80.67% top-1 accuracy on ImageNet with a vanilla ResNet-50."


def _papers() -> list[Context]:
    def ctx(n: int, pid: str, text: str, title: str) -> Context:
        return Context(number=n, chunk=chunk(pid, text, title=title), text=text, score=1.0, relevance=1.0)
    return [ctx(1, "rsb", RSB, "ResNet strikes back: An improved training procedure in timm"),
            ctx(2, "bot", BOT, "Bag of Tricks for Image Classification with Convolutional Neural Networks"),
            ctx(3, "meal", MEAL, "MEAL V2: Boosting Vanilla ResNet-50 to 80%+ Top-1 Accuracy on ImageNet without Tricks")]


def test_a_wrong_half_of_a_contrast_does_not_sink_the_right_half() -> None:
    """The model gave MEAL V2's 80.67% to Bag of Tricks: that clause fails, ResNet strikes back's 80.4% stands."""
    question = "What top-1 accuracy do ResNet strikes back and Bag of Tricks reach with ResNet-50 on ImageNet?"
    raw = ("ResNet strikes back reaches 80.4% top-1 accuracy on ImageNet-val with a vanilla ResNet-50, while "
           "Bag of Tricks reaches 80.67% top-1 accuracy on ImageNet with vanilla ResNet-50.")
    answer = build_answer(question, raw, _papers(), embed, support_threshold=0.45)
    assert not answer.cannot_answer
    right, wrong = answer.sentences
    assert right.supported and right.citations == [1] and "80.4%" in right.text
    assert not wrong.supported and wrong.citations == []  # shown, flagged, cited to no paper
    assert [r.paper_id for r in answer.references] == ["rsb"]


def test_there_is_a_paper_names_the_paper() -> None:
    rest = Context(number=1, chunk=chunk("rest", "REST retrieves draft tokens from a datastore.",
                                         title="REST: Retrieval-Based Speculative Decoding"),
                   text="REST retrieves draft tokens from a datastore.", score=1.0, relevance=1.0)
    raw = "Yes, there is a paper on retrieval-based speculative decoding [1]."
    answer = build_answer("Is there a paper on retrieval-based speculative decoding?", raw, [rest], embed, 0.0)
    assert answer.text == ('Yes, there is a paper on retrieval-based speculative decoding: '
                           '"REST: Retrieval-Based Speculative Decoding" [1].')
    named = "Yes, REST is a paper on retrieval-based speculative decoding [1]."
    assert build_answer("Is there a paper on it?", named, [rest], embed, 0.0).text == named
    says = "There is a paper that studies drafting, which is Retrieval drafts [1]."
    assert build_answer("Is there a paper on it?", says, [rest], embed, 0.0).text == says


def test_an_opening_it_is_checked_as_the_subject_before_it() -> None:
    """j006: "It reaches 80.67% …" after a LowFormer sentence gives LowFormer MEAL V2's number: it fails."""
    low = ("LowFormer achieves a remarkable speedup in terms of throughput and latency, while achieving similar "
           "or better accuracy than current state-of-the-art efficient backbones.")
    contexts = [Context(number=1, chunk=chunk("low", low, title="LowFormer: Hardware Efficient Design for Convolutional "
                                                                  "Transformer Backbones"), text=low, score=1.0, relevance=1.0),
                Context(number=2, chunk=chunk("meal", MEAL, title="MEAL V2: Boosting Vanilla ResNet-50 to 80%+ Top-1 "
                                                                    "Accuracy on ImageNet without Tricks"),
                        text=MEAL, score=1.0, relevance=1.0)]
    question = "What ImageNet top-1 accuracy does LowFormer reach, and what throughput does it achieve on an A100 GPU?"
    raw = f"{low} [1]. It reaches 80.67% top-1 accuracy on ImageNet with a vanilla ResNet-50 [2]."
    first, second = build_answer(question, raw, contexts, embed, support_threshold=0.45).sentences
    assert first.supported and first.citations == [1]
    assert not second.supported and "lowformer" in second.reason
    # about MEAL V2 itself, the same sentence stands
    meal = build_answer("What top-1 accuracy does MEAL V2 reach?", "MEAL V2 uses a vanilla ResNet-50 [2]. "
                        "It reaches 80.67% top-1 accuracy on ImageNet [2].", contexts, embed, 0.45)
    assert meal.sentences[1].supported and meal.sentences[1].citations == [2]


def test_a_sentence_restating_the_question_in_other_forms_is_no_answer() -> None:
    """k055: "RESTGPT uses Large Language Models (LLMs) under the hood" adds nothing to "Which LLM does RESTGPT use
    under the hood?": other forms of its words and the acronym spelled out."""
    text = ("RESTGPT harnesses the power of Large Language Models (LLMs) to improve REST API testing, "
            "and we outline research directions for leveraging LLMs more broadly.")
    ctx = [Context(number=1, chunk=chunk("rg", text, title="Leveraging Large Language Models to Improve REST API "
                                                           "Testing"), text=text, score=1.0, relevance=1.0)]
    question = "Which LLM does RESTGPT use under the hood?"
    echo = build_answer(question, "RESTGPT uses Large Language Models (LLMs) under the hood [1].", ctx, embed, 0.45)
    assert echo.cannot_answer
    # a sentence that says what the LLM does answers something
    said = build_answer("What does RESTGPT use?", "RESTGPT uses Large Language Models (LLMs) to improve REST API "
                        "testing [1].", ctx, embed, 0.45)
    assert not said.cannot_answer and said.citations == [1]


def test_which_paper_answered_by_the_paper_cited_is_checked_on_its_claim_and_named() -> None:
    """Trial Q15: "The paper splits … [1]" restates "Which paper splits …?" and says [1] is the one: checked on all
    its words against [1], and named."""
    text = ("We decompose large-kernel depthwise convolution into four parallel branches along the channel "
            "dimension, i.e. a small square kernel, two orthogonal band kernels, and an identity mapping.")
    ctx = [Context(number=1, chunk=chunk("inc", text, title="InceptionNeXt: When Inception Meets ConvNeXt"), text=text,
                   score=1.0, relevance=1.0)]
    question = ("Which paper decomposes a large depthwise convolution kernel into parallel branches: a small square "
                "kernel, two band kernels and an identity mapping?")
    raw = ("The paper decomposes a large depthwise convolution kernel into parallel branches: a small square kernel, "
           "two band kernels and an identity mapping [1].")
    answer = build_answer(question, raw, ctx, embed, 0.45)
    assert not answer.cannot_answer and answer.text.startswith("InceptionNeXt decomposes a large depthwise")
    wrong = build_answer("Which paper prunes attention heads with a learned gate?",
                         "The paper prunes attention heads with a learned gate [1].", ctx, embed, 0.45)
    assert wrong.cannot_answer


def test_a_paper_the_sentence_describes_is_not_renamed() -> None:
    text = "We introduce the Word Embedding Association Test (WEAT) and show that GloVe picks up human-like biases."
    ctx = [Context(number=1, chunk=chunk("weat", text, title="Semantics derived automatically from language corpora "
                                                             "contain human-like biases"), text=text, score=1.0,
                   relevance=1.0)]
    raw = "The paper showing GloVe picks up human-like biases introduces the Word Embedding Association Test [1]."
    assert build_answer("What bias test did that paper introduce?", raw, ctx, embed, 0.0).text == raw


def test_a_which_paper_question_answered_by_a_bare_marker_names_that_paper() -> None:
    """The 1.5B model answered "Which paper mines millions of objects from videos …?" with "[1]" alone (a new user's
    trial): the answer names passage 1's paper by its title, cited; a bare marker to any other question, or markers
    to two papers, is still no answer."""
    mined = ("We generate a graph with millions of objects mined from hundreds of thousands of videos and learn "
             "visual representations from its transitive relations.")
    title = "Transitive Invariance for Self-supervised Visual Representation Learning"
    ctxs = [Context(number=1, chunk=chunk("ti", mined, title=title), text=mined, score=1.0, relevance=0.5),
            context(2, "mp", OTHER)]
    question = "Which paper mines millions of objects from videos into a graph to learn visual representations?"
    answer = build_answer(question, "[1]", ctxs, embed, support_threshold=0.45)
    assert not answer.cannot_answer and answer.text == f'"{title}" [1].'
    assert answer.citations == [1] and answer.unsupported == []
    assert build_answer("How are the objects mined?", "[1]", ctxs, embed, 0.45).cannot_answer
    assert build_answer(question, "[1][2]", ctxs, embed, 0.45).cannot_answer


def test_the_closest_papers_offered_start_with_the_one_the_question_names() -> None:
    """A refused question about OverLoCK-T's latency offers the OverLoCK paper first, though passages about GPU
    latency rank above it; without a named paper the order is by relevance."""
    def ctx(number: int, paper: str, title: str, text: str, relevance: float) -> Context:
        return Context(number=number, chunk=chunk(paper, text, title=title), text=text, score=1.0,
                       relevance=relevance)

    contexts = [ctx(1, "eff", "On the Efficiency of Convolutional Neural Networks", "Latency on an A100 GPU.", 0.7),
                ctx(2, "inc", "InceptionNeXt: When Inception Meets ConvNeXt", "Throughput on an A100 GPU.", 0.6),
                ctx(3, "ovl", "OverLoCK: An Overview-first-Look-Closely-next ConvNet", "OverLoCK mixes kernels.", 0.4)]
    refused = build_answer("What is OverLoCK-T's inference latency in milliseconds on an A100 GPU?", "NOT ANSWERED",
                           contexts, embed, 0.45)
    assert refused.closest_papers[0].startswith("OverLoCK")
    plain = build_answer("How fast is it on a GPU?", "NOT ANSWERED", contexts, embed, 0.45)
    assert [t.split(":")[0] for t in plain.closest_papers] == ["On the Efficiency of Convolutional Neural Networks",
                                                               "InceptionNeXt", "OverLoCK"]


def test_a_marker_after_a_clause_that_ends_on_its_verb_is_no_noun() -> None:
    """The fifth trial: "… how strong the feature interactions are [1]." got the paper's title spliced in before the
    marker, and "The paper is [1] Poincaré ResNet, which …" became "Poincaré ResNet is Poincaré ResNet [1] Poincaré
    ResNet, …". A marker that a name follows, or that ends a how/what clause, is left where it is; "… is [1]." after
    a noun phrase still gets the name."""
    def ctx(number: int, title: str) -> Context:
        return Context(number=number, chunk=chunk(f"p{number}", OTHER, title=title), text=OTHER, score=1.0,
                       relevance=0.5)

    papers = {1: ctx(1, "Poincaré ResNet"), 2: ctx(2, "Exploring the cloud of feature interaction scores")}
    agreed = "Yes, similar models largely agreed on how strong the feature interactions are [2]."
    assert keep_subject(agreed, papers) == agreed
    which = "The paper is [1] Poincaré ResNet, which builds a residual network in hyperbolic space."
    assert build_answer("Which paper builds a hyperbolic ResNet?", which, [papers[1]], embed, 0.0).text \
        .startswith("The paper is [1] Poincaré ResNet, which builds")
    assert keep_subject("The method that works best is [1].", papers) == "The method that works best is Poincaré ResNet [1]."
    assert keep_subject("A paper that looks at what changes before the jump is [1], which studies it.", papers) \
        == "A paper that looks at what changes before the jump is Poincaré ResNet [1], which studies it."
