"""A question naming two papers gets both: the one the model left out is quoted, verbatim and cited."""

from __future__ import annotations

from paperqa_local.answer import build_answer
from paperqa_local.completeness import (
    _quantifies,
    asked_change,
    asked_focus,
    asked_kind,
    asks_number,
    complete_answer,
    missing_papers,
    missing_parts,
    numbers_unanswered,
    quoted_numbers,
    quoted_papers,
    state_number_gap,
)
from paperqa_local.results import Answer, Context
from paperqa_local.text_rules import result_numbers

from fakes import chunk, context, embed

SCORE = "SCoRe improves Gemini 1.5 Flash by 15.6% on the MATH benchmark with reinforcement learning."
ROLLBACK = "Thought Rollback raises GPT-4 to 81.6% on MATH by rolling back erroneous thoughts."
SHARED = "Both methods are evaluated on MATH with large language models."
QUESTION = "How much do SCoRe and Thought Rollback improve large language models on the MATH benchmark?"


def contexts():  # noqa: ANN201
    return [context(1, "score", SCORE), context(2, "rollback", ROLLBACK), context(3, "survey", SHARED)]


def test_a_named_paper_the_answer_leaves_out_is_quoted_with_its_marker() -> None:
    ctxs = contexts()
    answer = build_answer(QUESTION, "SCoRe improves Gemini 1.5 Flash by 15.6% on MATH [1].", ctxs, embed, 0.3)
    assert [r.paper_id for r in answer.references] == ["score"]
    assert list(missing_papers(QUESTION, answer)) == ["rollback"]

    done = complete_answer(QUESTION, answer, embed)
    assert [r.paper_id for r in done.references] == ["score", "rollback"]
    assert done.text.endswith("Thought Rollback raises GPT-4 to 81.6% on MATH by rolling back erroneous thoughts [2].")
    assert done.sentences[-1].quoted and done.sentences[-1].supported and done.sentences[-1].citations == [2]


def test_nothing_is_added_when_the_answer_covers_every_named_paper() -> None:
    ctxs = contexts()
    raw = "SCoRe improves Gemini 1.5 Flash by 15.6% on MATH [1]. Thought Rollback raises GPT-4 to 81.6% [2]."
    answer = build_answer(QUESTION, raw, ctxs, embed, 0.3)
    before = answer.text
    assert complete_answer(QUESTION, answer, embed).text == before


def test_names_several_papers_share_single_out_nothing() -> None:
    """MATH is in every passage: it names no one paper, so a one-paper answer to a one-paper question stays."""
    ctxs = contexts()
    question = "How much does SCoRe improve large language models on MATH?"
    answer = build_answer(question, "SCoRe improves Gemini 1.5 Flash by 15.6% on MATH [1].", ctxs, embed, 0.3)
    assert missing_papers(question, answer) == {}
    assert len(complete_answer(question, answer, embed).sentences) == 1


def test_a_refusal_stays_a_refusal() -> None:
    answer = build_answer(QUESTION, "I cannot answer this from the passages.", contexts(), embed, 0.3)
    assert answer.cannot_answer
    assert complete_answer(QUESTION, answer, embed).cannot_answer


def test_repeating_a_name_without_citing_its_paper_does_not_cover_it() -> None:
    """"SCoRe and Thought Rollback improve … [2]" gives one paper's result for both: SCoRe's own is quoted."""
    raw = "SCoRe and Thought Rollback improve large language models on MATH by rolling back thoughts [2]."
    answer = complete_answer(QUESTION, build_answer(QUESTION, raw, contexts(), embed, 0.3), embed)
    assert [r.paper_id for r in answer.references] == ["rollback", "score"]
    assert "15.6%" in answer.text


LAPP = ("LAPP compresses ResNet-20 to 40.3% of its size without an accuracy drop on CIFAR-10. "
        "On ImageNet, 55.6% of the FLOPs of ResNet-18 are removed with a 0.21% top-1 accuracy increase.")
OTHER = "Channel pruning removes redundant filters from convolutional networks trained on CIFAR-10."
TWO_PARTS = ("How far can LAPP compress ResNet-20 on CIFAR-10 without an accuracy drop, and how much of ResNet-18's "
             "FLOPs does it remove on ImageNet?")


def test_a_part_of_the_question_the_answer_leaves_out_is_quoted() -> None:
    """Two things asked, one answered: the sentence stating the other is added verbatim with its marker."""
    ctxs = [context(1, "lapp", LAPP), context(2, "pruning", OTHER)]
    answer = build_answer(TWO_PARTS, "LAPP compresses ResNet-20 to 40.3% without accuracy drop on CIFAR-10 [1].",
                          ctxs, embed, 0.3)
    assert [part for part, _, _ in missing_parts(TWO_PARTS, answer)] == [
        "how much of ResNet-18's FLOPs does it remove on ImageNet?"]
    done = complete_answer(TWO_PARTS, answer, embed)
    assert done.text.endswith("On ImageNet, 55.6% of the FLOPs of ResNet-18 are removed with a 0.21% top-1 accuracy "
                              "increase [1].")
    assert done.sentences[-1].quoted and done.sentences[-1].citations == [1]


def test_an_answer_that_speaks_to_every_part_gets_nothing_added() -> None:
    ctxs = [context(1, "lapp", LAPP), context(2, "pruning", OTHER)]
    raw = ("LAPP compresses ResNet-20 to 40.3% without accuracy drop on CIFAR-10 [1]. "
           "It removes 55.6% of ResNet-18's FLOPs on ImageNet [1].")
    answer = build_answer(TWO_PARTS, raw, ctxs, embed, 0.3)
    assert missing_parts(TWO_PARTS, answer) == []
    assert complete_answer(TWO_PARTS, answer, embed).text == answer.text



def test_what_a_follow_up_rewrite_carries_is_no_part_asked() -> None:
    """The fifth trial's chat: "(recovers the sewing pattern …)", carried after the rewrite's question mark for the
    search, made the answer look like it left a part out, and an off-topic sentence was quoted."""
    ctxs = [context(1, "lapp", LAPP), context(2, "pruning", OTHER)]
    raw = ("LAPP compresses ResNet-20 to 40.3% without accuracy drop on CIFAR-10 [1]. "
           "It removes 55.6% of ResNet-18's FLOPs on ImageNet [1].")
    carried = f"{TWO_PARTS} (the progressive pruning method that learns layer thresholds with soft masks over rounds)"
    answer = build_answer(carried, raw, ctxs, embed, 0.3)
    assert missing_parts(carried, answer) == []
    assert complete_answer(carried, answer, embed).text == answer.text


CONADV = ("ConAdv can increase the batch size on ResNet-50 training on ImageNet while keeping accuracy high. "
          "ConAdv reaches 75.3% top-1 accuracy on ImageNet ResNet-50 training with a 96K batch size. "
          "The method uses stale parameters to compute adversarial examples concurrently.")
LARS = "LARS trains ResNet-50 on ImageNet with a 32K batch size in 14 minutes."
BATCH = "Up to what batch size can ConAdv train ResNet-50 on ImageNet?"


def test_an_asked_number_the_answer_leaves_out_is_quoted_from_the_cited_paper() -> None:
    """"Up to what batch size …?" answered without a number: the cited paper's sentence naming the batch size with
    its number is quoted (not another paper's, not one whose numbers are about something else)."""
    ctxs = [context(1, "conadv", CONADV), context(2, "lars", LARS)]
    answer = build_answer(BATCH, "ConAdv can increase the batch size on ResNet-50 training on ImageNet [1].",
                          ctxs, embed, 0.3)
    done = complete_answer(BATCH, answer, embed)
    assert done.text.endswith("ConAdv reaches 75.3% top-1 accuracy on ImageNet ResNet-50 training with a 96K batch "
                              "size [1].")
    assert done.sentences[-1].quoted and [r.paper_id for r in done.references] == ["conadv"]


def test_an_answer_that_states_the_asked_number_gets_nothing_added() -> None:
    ctxs = [context(1, "conadv", CONADV), context(2, "lars", LARS)]
    for raw in ("ConAdv trains ResNet-50 on ImageNet with a 96K batch size [1].",
                "ConAdv scales the batch size two times further than LARS [1]."):  # a spelled number states one too
        answer = build_answer(BATCH, raw, ctxs, embed, 0.3)
        assert complete_answer(BATCH, answer, embed).text == answer.text


def test_a_number_about_something_else_is_not_quoted() -> None:
    """"How many iterations …?" when the cited paper's only numbers are accuracy and batch size: nothing is added."""
    ctxs = [context(1, "conadv", CONADV)]
    question = "How many iterations does ConAdv need on ImageNet?"
    answer = build_answer(question, "ConAdv uses stale parameters to compute adversarial examples [1].",
                          ctxs, embed, 0.3)
    assert complete_answer(question, answer, embed).text == answer.text


def test_result_numbers_skip_names_and_markers() -> None:
    assert result_numbers("ResNet-50 and GPT-4 reach 80.4% in 2,000 steps [3].") == {"80.4", "2000"}
    assert result_numbers("after two iterations, than the one used", spelled=True) == {"2"}
    assert result_numbers("problems providing (1) low-entropy indicators and (2) unreliable data") == set()


FOUNDATION = "The Foundation analysis uses 1,338 SNe from a single telescope to measure cosmological parameters."
PANTHEON = ("Here we present 1701 light curves of 1550 spectroscopically confirmed Type Ia supernovae for Pantheon+. "
            "The total number of light curves released in Pantheon+, compiled across 18 different surveys, is a "
            "significant increase from the first Pantheon analysis (1048 SNe).")


def test_the_quote_for_how_many_x_is_the_sentence_that_gives_x_its_number() -> None:
    """"how many light curves …" is answered by "1701 light curves", not by a sentence that talks about light
    curves and states other numbers (18 surveys, 1048 SNe), however close its wording."""
    question = ("How many supernovae does the Foundation analysis use, and how many light curves are released in "
                "Pantheon+?")
    ctxs = [context(1, "pantheon", PANTHEON), context(2, "foundation", FOUNDATION)]
    answer = build_answer(question, "The Foundation analysis uses 1,338 SNe from a single telescope [2].", ctxs,
                          embed, 0.3)
    done = complete_answer(question, answer, embed)
    assert done.sentences[-1].quoted and done.sentences[-1].citations == [1]
    assert "1701 light curves" in done.sentences[-1].text
    # a year or a table number beside the asked word is no answer to "how many"
    for other in ("In 2012 light curves were released in Pantheon+.", "Table 2 lists light curves of Pantheon+."):
        assert not _quantifies({"light", "curves"}, other)


TB = ("A few-shot Prototypical Network classifies tuberculosis in chest X-rays. "
      "With ResNet-18 as the feature extractor it reaches 98.93% accuracy on the test set.")


def test_a_refusal_made_by_a_wrong_number_quotes_the_stated_one() -> None:
    """The model answers with a number the passage does not state: the checks refuse the sentence; the question
    asks a quantity the cited paper states, so that sentence is quoted instead of refusing."""
    question = "How accurate is the few-shot tuberculosis classifier with ResNet-18 features?"
    ctxs = [context(1, "tb", TB), context(2, "lars", LARS)]
    raw = "The few-shot classifier reaches an accuracy of 95% with ResNet-18 features [1]."
    refused = build_answer(question, raw, ctxs, embed, 0.3)
    assert refused.cannot_answer
    answer = quoted_numbers(question, raw, refused, embed)
    assert not answer.cannot_answer
    assert answer.text == "With ResNet-18 as the feature extractor it reaches 98.93% accuracy on the test set [1]."
    assert [r.paper_id for r in answer.references] == ["tb"] and answer.sentences[0].quoted


def test_a_refusal_stays_when_the_cited_paper_does_not_state_the_asked_quantity() -> None:
    """"How many parameters …?" and the cited passage states none: an invented number is never replaced by another."""
    question = "How many parameters does the few-shot tuberculosis classifier have?"
    ctxs = [context(1, "tb", TB)]
    for raw in ("The classifier has 11 million parameters [1].", "NOT ANSWERED"):
        refused = build_answer(question, raw, ctxs, embed, 0.3)
        assert refused.cannot_answer
        assert quoted_numbers(question, raw, refused, embed).cannot_answer


def test_an_ordinal_is_no_asked_number_to_quote() -> None:
    """Fifth trial U03: the model made up "98.5%" for an accuracy the abstract does not give; the checks refused it,
    and the rescue quoted "… high accuracy … from the 8th century BCE …" for its "8". A position is no quantity: the
    refusal stays."""
    aramaic = ("The ResNet model demonstrates high accuracy in classifying real images from the 8th century BCE Hadad "
               "statue inscription. The dataset holds synthetic images of 22 letter classes.")
    question = "What exact classification accuracy does the Aramaic letter ResNet reach on the Hadad statue inscription?"
    raw = "The Aramaic letter ResNet reaches an accuracy of 98.5% on the Hadad statue inscription [1]."
    refused = build_answer(question, raw, [context(1, "aramaic", aramaic)], embed, 0.3)
    assert refused.cannot_answer
    assert quoted_numbers(question, raw, refused, embed).cannot_answer


def test_the_asked_number_may_sit_in_the_cited_chunk_beyond_the_sentences_shown() -> None:
    """The evidence shows a chunk's best sentences only; the sentence stating the asked number is quoted from the
    cited chunk itself, with that chunk's marker."""
    question = "How accurate is the few-shot tuberculosis classifier with ResNet-18 features?"
    shown = context(1, "tb", TB)
    shown.text = TB.split(". ")[0] + "."  # the evidence showed the first sentence only
    raw = "The few-shot classifier reaches an accuracy of 95% with ResNet-18 features [1, 2]."  # a marker group
    refused = build_answer(question, raw, [shown, context(2, "lars", LARS)], embed, 0.3)
    answer = quoted_numbers(question, raw, refused, embed)
    assert answer.text == "With ResNet-18 as the feature extractor it reaches 98.93% accuracy on the test set [1]."


LOWFORMER = ("LowFormer achieves a remarkable speedup in throughput and latency with similar or better accuracy. "
             "We evaluate it on GPU, mobile GPU and ARM CPU.")
INCEPTION = "InceptionNeXt-T achieves 1.6x higher training throughput than ConvNeXt-T when trained on A100 GPUs."
RESNET = "A vanilla ResNet-50 reaches 80.4% top-1 accuracy on ImageNet with a better training recipe."
MEAL = "MEAL V2 boosts a vanilla ResNet-50 to 80.67% top-1 accuracy on ImageNet without tricks."


def test_quotes_come_only_from_the_paper_a_part_is_about() -> None:
    """"What accuracy does LowFormer reach, and what throughput does it achieve on an A100?": the paper that
    shares "A100" or "top-1 accuracy" is not LowFormer; nothing is quoted from it."""
    question = "What ImageNet top-1 accuracy does LowFormer reach, and what throughput does it achieve on an A100 GPU?"
    ctxs = [context(1, "lowformer", LOWFORMER), context(2, "resnet", RESNET), context(3, "inception", INCEPTION),
            context(4, "meal", MEAL)]
    answer = build_answer(question, LOWFORMER.rstrip(".") + " [1].", ctxs, embed, 0.3)
    done = complete_answer(question, answer, embed)
    assert [r.paper_id for r in done.references] == ["lowformer"]
    assert "80.4%" not in done.text and "1.6x" not in done.text


def test_a_pronoun_part_after_a_which_part_is_quoted_from_the_paper_the_answer_gave() -> None:
    """"Which approach …? Where did it beat supervised pretraining?": "it" is the paper the answer named, so the
    second part's quote comes from that paper, not from another paper that also beats supervised pretraining."""
    obow = ("OBoW reconstructs bag-of-visual-words targets from perturbed images. It beats supervised "
            "pretraining on Places205 classification and Pascal object detection.")
    selfie = "Selfie did beat supervised pretraining in every setting where it was tried."
    question = ("Which self-supervised approach reconstructs bag-of-visual-words targets from perturbed images? "
                "Where did it beat supervised pretraining?")
    ctxs = [context(1, "obow", obow), context(2, "selfie", selfie)]
    answer = build_answer(question, "The approach is OBoW, which reconstructs bag-of-visual-words targets [1].",
                          ctxs, embed, 0.3)
    done = complete_answer(question, answer, embed)
    assert [r.paper_id for r in done.references] == ["obow"] and "Places205" in done.text


def test_a_name_stating_a_condition_singles_out_no_paper() -> None:
    question = "What throughput does LowFormer achieve on an A100 GPU?"
    ctxs = [context(1, "lowformer", LOWFORMER), context(2, "inception", INCEPTION)]
    answer = build_answer(question, LOWFORMER.rstrip(".") + " [1].", ctxs, embed, 0.3)
    assert missing_papers(question, answer) == {}


def test_a_paper_the_question_names_by_title_is_quoted_when_left_out() -> None:
    stable = Context(number=2, chunk=chunk("stable", "Stable ResNet keeps gradients from exploding as depth grows.",
                                           title="Stable ResNet"),
                     text="Stable ResNet keeps gradients from exploding as depth grows.", score=1.0, relevance=0.5)
    field = context(1, "meanfield", "Scaled deep ResNets in the mean-field regime get generalization bounds.")
    question = "Stable ResNet and the mean-field analysis of scaled deep ResNets: what problem does each address?"
    answer = build_answer(question, "Scaled deep ResNets in the mean-field regime get generalization bounds [1].",
                          [field, stable], embed, 0.3)
    assert list(missing_papers(question, answer)) == ["stable"]
    assert "exploding" in complete_answer(question, answer, embed).text


def test_nothing_is_quoted_from_other_papers_for_a_question_about_a_missing_one() -> None:
    """FlashAttention-2 is in no passage: the question is about a paper that is not there; the A100 paper is
    not quoted for it."""
    question = "How does FlashAttention-2 compare with InceptionNeXt-T in training throughput?"
    ctxs = [context(1, "lowformer", LOWFORMER), context(2, "inception", INCEPTION)]
    answer = build_answer(question, LOWFORMER.rstrip(".") + " [1].", ctxs, embed, 0.3)
    assert complete_answer(question, answer, embed).text == answer.text


def _rescued_refusal(question: str, raw: str, ctxs: list[Context]) -> Answer:
    """The answer the checks made a refusal of (asserted), after ``quoted_numbers``."""
    answer = build_answer(question, raw, ctxs, embed, 0.3)
    assert answer.cannot_answer
    return quoted_numbers(question, raw, answer, embed)


def test_a_refusal_is_not_rescued_from_a_paper_about_something_else() -> None:
    """The model cited CUDA's 80.66% for Patternformer; CUDA never mentions Patternformer, so its number is
    not quoted as the answer: the refusal stays."""
    question = "What top-1 accuracy does Patternformer report on CIFAR-100?"
    ctxs = [context(1, "cuda", "ERM on the clean training data achieves a clean test accuracy of 80.66%."),
            context(2, "patch", "We propose a Pattern Transformer (Patternformer) with top results on CIFAR-100.")]
    raw = "Patternformer reports a top-1 accuracy of 80.66% on CIFAR-100 [1]."
    assert _rescued_refusal(question, raw, ctxs).cannot_answer


def test_a_refusal_of_a_two_paper_question_is_rescued_part_by_part() -> None:
    """Each part names its own paper: each part's asked number comes from that part's paper."""
    question = "What top-1 accuracy does LowFormer reach, and what throughput does EfficientViT reach?"
    ctxs = [context(1, "lowformer", "LowFormer reaches 79.1% top-1 accuracy with a hardware-efficient design."),
            context(2, "efficientvit", "EfficientViT reaches a throughput of 2400 images per second on one GPU.")]
    raw = "LowFormer reaches 81.5% top-1 accuracy [1]. EfficientViT reaches a throughput of 3000 images per second [2]."
    rescued = _rescued_refusal(question, raw, ctxs)
    assert "79.1%" in rescued.text and "2400" in rescued.text
    assert [r.paper_id for r in rescued.references] == ["lowformer", "efficientvit"]


def ctxs_vague() -> list[Context]:
    return [context(1, "lowformer", "LowFormer achieves similar or better accuracy than efficient backbones with a "
                                    "remarkable speedup in throughput.")]


def test_an_answer_giving_no_asked_number_says_the_papers_give_none() -> None:
    """"LowFormer achieves similar or better accuracy [1]" talks about the subject without answering "what
    accuracy … and what throughput": the answer says so; one asked number given is an answer."""
    question = "What top-1 accuracy does LowFormer reach, and what throughput does it achieve on an A100 GPU?"
    vague = build_answer(question, "LowFormer achieves similar or better accuracy than efficient backbones [1].",
                         ctxs_vague(), embed, 0.3)
    assert not vague.cannot_answer and numbers_unanswered(question, vague)
    text, citations = vague.text, vague.citations
    stated = state_number_gap(question, vague)  # what the papers state stays; that they give no number is said
    assert stated.text == text + " The retrieved passages do not give the number asked for."
    assert stated.gaps == ["The retrieved passages do not give the number asked for."]
    assert stated.citations == citations == [1] and not stated.cannot_answer
    # "a single GPU" gives a number; an answer that already says what is missing gets no second gap
    gpus = "How many GPUs does LowFormer need for training?"
    single = build_answer(gpus, "LowFormer trains on a single GPU [1].",
                          [context(1, "lowformer", "LowFormer trains on a single GPU in two days.")], embed, 0.3)
    assert not numbers_unanswered(gpus, single)
    hedged = build_answer(question, "LowFormer achieves similar or better accuracy than efficient backbones [1]. "
                          "The passages do not state its exact throughput.", ctxs_vague(), embed, 0.3)
    assert len(state_number_gap(question, hedged).gaps) == 1
    ctxs = [context(1, "lowformer", "LowFormer reaches 79.1% top-1 accuracy with a remarkable speedup.")]
    given = build_answer(question, "LowFormer reaches 79.1% top-1 accuracy [1].", ctxs, embed, 0.3)
    assert not numbers_unanswered(question, given)
    # a question asking something besides numbers is answered by the rest
    assert not numbers_unanswered("How does LowFormer work, and what accuracy does it reach?", vague)
    # "what kind of improvement" asks what sort, not how much: no gap sentence
    assert not numbers_unanswered("What kind of improvement does LowFormer bring over efficient backbones?", vague)


def test_a_question_asking_which_score_a_paper_proposes_asks_a_name_not_a_number() -> None:
    """"What score does … propose?" (a new user's trial): the answer names the Schur Complement Entropy score, and
    no "do not give the number" gap follows it; "What top-1 accuracy is reported for the proposed model?" still
    asks a number."""
    question = "What score does the Schur complement decomposition paper propose for measuring diversity?"
    ctxs = [context(1, "sce", "We propose the Schur Complement Entropy (SCE) score to measure intrinsic diversity.")]
    named = build_answer(question, "The paper proposes the Schur Complement Entropy (SCE) score [1].", ctxs, embed, 0.3)
    assert not named.cannot_answer and not numbers_unanswered(question, named)
    assert state_number_gap(question, named).gaps == []
    assert not asks_number("What score is defined by the Schur-complement decomposition?")
    assert asks_number("What top-1 accuracy is reported for the proposed model?")
    assert asks_number("What Dice score does HBFormer report on the liver tumor benchmark?")


def test_a_refused_comparison_of_two_named_papers_quotes_each_paper() -> None:
    """The model gave DReSD's gain to REST and the check failed it: each named paper's best sentence is quoted,
    never the sentence that only says where the code is."""
    dresd = Context(number=1, chunk=chunk("dresd", "x", title="DReSD: Dense Retrieval for Speculative Decoding"),
                    text="DReSD achieves 87% higher acceptance rates than sparse retrieval (REST).", score=1.0,
                    relevance=0.5)
    rest_text = ("REST speeds up generation by 1.62X to 2.36X with retrieval instead of a draft model. "
                 "The code of REST is available at https://github.com/FasterDecoding/REST.")
    rest = Context(number=2, chunk=chunk("rest", rest_text, title="REST: Retrieval-Based Speculative Decoding"),
                   text=rest_text, score=1.0, relevance=0.5)
    question, raw = "Compare REST and DReSD.", "REST achieves 87% higher acceptance rates [1]."
    refused = build_answer(question, raw, [dresd, rest], embed, 0.3)
    assert refused.cannot_answer
    rescued = quoted_papers(question, raw, refused, embed)
    assert [r.paper_id for r in rescued.references] == ["dresd", "rest"]
    assert "1.62X" in rescued.text and "github" not in rescued.text
    # one named paper, no comparison, the model's own refusal, or a name no passage mentions: left a refusal
    assert quoted_papers("What does REST achieve?", raw, refused, embed).cannot_answer
    assert quoted_papers("What do REST and DReSD achieve?", raw, refused, embed).cannot_answer
    assert quoted_papers(question, "NOT ANSWERED", refused, embed).cannot_answer
    assert quoted_papers("How do REST and DReSD compare with Medusa on speed and acceptance rates?", raw, refused,
                         embed).cannot_answer
    # a question asking for the code gets the sentence saying where it is
    asked = quoted_papers("Compare the code of REST and DReSD.", raw, refused, embed)
    assert "github" in asked.text


def test_a_refusal_is_rescued_with_the_number_of_the_named_paper_that_is_there() -> None:
    """SCoRe is in no passage; the model gave Thought Rollback's 9% to both and the check failed it. The number
    Thought Rollback's paper states is quoted ("How much do SCoRe …": the name is not the asked quantity)."""
    question = "How much do SCoRe and Thought Rollback improve large language models on the MATH benchmark?"
    ctxs = [context(1, "tr", "Thought Rollback (TR) lets LLMs roll back thoughts. For instance, TR improves GPT-4 "
                             "on MATH by 9% over the current best.")]
    rescued = _rescued_refusal(question, "SCoRe and Thought Rollback improve LLMs on MATH by 9% [1].", ctxs)
    assert not rescued.cannot_answer and "TR improves GPT-4 on MATH by 9%" in rescued.text


def test_a_part_answered_with_its_number_is_not_quoted_again_for_the_lead_it_shares() -> None:
    """"For DeepOrgan pancreas segmentation in CT, how many patients were evaluated and what Dice score …?": the
    lead goes with both parts, so "82 patients were evaluated [1]" answers the first without repeating it; only
    the Dice score, which the answer leaves out, is quoted."""
    text = ("We evaluate DeepOrgan on CT images of 82 patients in 4-fold cross-validation. "
            "DeepOrgan achieves a Dice Similarity Coefficient of 71.8% in testing.")
    question = ("For the DeepOrgan pancreas segmentation in CT, how many patients were evaluated and what Dice score "
                "was obtained at test time?")
    answer = build_answer(question, "82 patients were evaluated in 4-fold cross-validation [1].",
                          [context(1, "deeporgan", text)], embed, 0.3)
    done = complete_answer(question, answer, embed)
    assert done.text == ("82 patients were evaluated in 4-fold cross-validation [1]. DeepOrgan achieves a Dice "
                         "Similarity Coefficient of 71.8% in testing [1].")


FFCV = ("FFCV speeds up model training by eliminating data bottlenecks from the training process. Using FFCV, we "
        "train ResNet-50 on ImageNet with competitive tradeoff between accuracy and training time. For example, we "
        "are able to train an ImageNet ResNet-50 model to 75% in only 20 mins on a single machine. We also release "
        "3 case studies.")


def test_how_fast_is_answered_by_a_duration_and_what_accuracy_by_a_percentage() -> None:
    """"How fast is FFCV?" and "What accuracy does FFCV reach?" answered without a number: the sentence giving
    "75% in only 20 mins" is quoted (no other sentence with a number names speed or accuracy), not the gap."""
    ctxs = [context(1, "ffcv", FFCV)]
    vague = "FFCV speeds up model training by eliminating data bottlenecks from the training process [1]."
    quote = "For example, we are able to train an ImageNet ResNet-50 model to 75% in only 20 mins on a single machine [1]."
    for question in ("How fast is FFCV?", "How quickly does FFCV train a ResNet-50?", "What accuracy does FFCV reach?"):
        done = complete_answer(question, build_answer(question, vague, ctxs, embed, 0.3), embed)
        assert done.text.endswith(quote) and not numbers_unanswered(question, done), question
    # a number about something else ("3 case studies", "40% fewer FLOPs") still answers neither
    other = [context(1, "ffcv", FFCV.split(" For example")[0] + " We also release 3 case studies. It needs 40% "
                     "fewer FLOPs.")]
    for question in ("How fast is FFCV?", "What accuracy does FFCV reach?"):
        done = complete_answer(question, build_answer(question, vague, other, embed, 0.3), embed)
        assert "3 case studies" not in done.text and "FLOPs" not in done.text, question


def test_a_keyword_query_naming_a_quantity_asks_for_its_number() -> None:
    """"1-bit FQT speedup" refused by the checks (the model's "10x" is in no passage) is answered with the cited
    paper's sentence that states the speedup; "FFCV speed?" answered vaguely gets its duration quoted."""
    fqt = ("We study 1-bit fully quantized training. Our method achieves an average accuracy of 94.6% on several "
           "datasets. It reaches a training speedup of up to 5.13x compared to full precision training.")
    ctxs = [context(1, "fqt", fqt)]
    raw = "1-bit FQT achieves a 10x speedup over full precision training [1]."
    refused = build_answer("1-bit FQT speedup", raw, ctxs, embed, 0.3)
    assert refused.cannot_answer
    answer = quoted_numbers("1-bit FQT speedup", raw, refused, embed)
    assert answer.text == "It reaches a training speedup of up to 5.13x compared to full precision training [1]."
    vague = "FFCV speeds up model training by eliminating data bottlenecks from the training process [1]."
    done = complete_answer("FFCV speed?", build_answer("FFCV speed?", vague, [context(1, "ffcv", FFCV)], embed, 0.3),
                           embed)
    assert "75% in only 20 mins" in done.text


def test_a_part_about_the_paper_is_quoted_from_the_paper_the_part_before_names() -> None:
    """Trial Q24: "… what regularization technique did *the paper* introduce?" after a part naming NASNet: the quote
    comes from NASNet's paper, not from another paper that says "regularization"."""
    nasnet = ("NASNet achieves 2.4% error rate on CIFAR-10 and 82.7% top-1 accuracy on ImageNet. We also introduce "
              "ScheduledDropPath, a new regularization technique that improves generalization.")
    other = "This regularization prescribes running a first phase of RL on a base model to generate a policy."
    question = ("What does NASNet achieve on CIFAR-10 and on ImageNet, and what regularization technique did the paper "
                "introduce?")
    shown = context(1, "nasnet", nasnet)
    shown.text = nasnet.split(". ")[0] + "."  # the evidence showed the first sentence only
    ctxs = [shown, context(2, "score", other)]
    answer = build_answer(question, "NASNet achieves 2.4% error rate on CIFAR-10 and 82.7% top-1 accuracy on "
                          "ImageNet [1].", ctxs, embed, 0.3)
    done = complete_answer(question, answer, embed)
    assert [r.paper_id for r in done.references] == ["nasnet"] and "prescribes" not in done.text


def test_the_work_that_a_part_describes_is_another_paper() -> None:
    from paperqa_local.completeness import part_pools
    cvt = "Pre-trained on ImageNet-22k, our CvT-W24 obtains a top-1 accuracy of 87.7% on the ImageNet-1k val set."
    convbert = "ConvBERT's base model achieves 86.4 GLUE score, replacing some attention heads with convolutions."
    question = ("What GLUE score does ConvBERT's base model get? And what top-1 did the work that adds convolutional "
                "token embeddings to vision transformers report?")
    ctxs = [context(1, "convbert", convbert), context(2, "cvt", cvt)]
    answer = build_answer(question, "ConvBERT's base model achieves 86.4 GLUE score [1].", ctxs, embed, 0.3)
    pools = part_pools(question, answer, False)
    assert "cvt" in {c.chunk.paper_id for c in pools[list(pools)[-1]]}


def test_a_number_read_at_the_wrong_place_of_a_respectively_list_fails_and_the_list_is_quoted() -> None:
    """Trial Q05: HarDNet's 35% is its reduction against FC-DenseNet-103; against ResNet-50 the list gives 30%."""
    hardnet = ("HarDNet achieves 35%, 36%, 30%, 32%, and 45% inference time reduction compared with FC-DenseNet-103, "
               "DenseNet-264, ResNet-50, ResNet-152, and SSD-VGG, respectively.")
    question = "By how much does HarDNet reduce inference time compared with ResNet-50?"
    ctxs = [context(1, "hardnet", hardnet)]
    raw = "HarDNet achieves 35% inference time reduction compared with ResNet-50 [1]."
    refused = build_answer(question, raw, ctxs, embed, 0.3)
    assert refused.cannot_answer
    assert quoted_numbers(question, raw, refused, embed).text == hardnet.rstrip(".") + " [1]."
    # a reply without markers (what the trial got) stays refused: quoting the question's paper for it answered an
    # unanswerable held-out question (i066) with a sentence holding no asked number, so it was not kept
    bare = raw.replace(" [1]", "")
    assert quoted_numbers(question, bare, build_answer(question, bare, ctxs, embed, 0.3), embed).cannot_answer
    right = build_answer(question, "HarDNet achieves 30% inference time reduction compared with ResNet-50 [1].",
                         ctxs, embed, 0.3)
    assert not right.cannot_answer and right.citations == [1]


def test_a_which_x_part_is_quoted_with_the_sentence_that_names_an_x() -> None:
    """"… and which dataset is it pre-trained on?": of the paper's sentences, the one naming a dataset
    ("a large-scale TotalSegmentator dataset") answers, not one that only shares "pre-trained" (seeds set q045)."""
    question = "STU-Net: what's the range of model sizes, and which dataset is it pre-trained on?"
    sizes = "We design STU-Net models with parameter sizes ranging from 14 million to 1.4 billion."
    rest = ("Our pre-trained model is good in both direct inference and fine-tuning on it. "
            "We train our scalable STU-Net models on a large-scale TotalSegmentator dataset.")
    ctxs = [context(1, "stunet", sizes), context(2, "stunet", rest)]
    answer = build_answer(question, "STU-Net model sizes range from 14 million to 1.4 billion [1].", ctxs, embed, 0.3)
    done = complete_answer(question, answer, embed)
    assert "TotalSegmentator" in done.text and "direct inference" not in done.text


def test_the_kind_a_part_asks_for_by_name() -> None:
    assert asked_kind("which dataset is it pre-trained on?") == "dataset"
    assert asked_kind("What regularization technique did the paper introduce?") == "technique"
    assert asked_kind("What accuracy does LowFormer reach?") == ""  # a quantity: the number rules' job
    assert asked_kind("What does SN-Net call the models it stitches?") == ""


def test_how_much_a_method_improves_is_quoted_with_the_improvement_not_the_setup() -> None:
    """"… and how much does Selfie improve ResNet-50 with 5% of ImageNet labels?": the quote is the sentence
    stating the improvement, not the one listing the label fractions the paper tried (the third trial's Q08)."""
    question = ("What top-1 does SimMatchV2 reach on ImageNet with 1% and 10% labels, and how much does Selfie "
                "improve ResNet-50 with 5% of ImageNet labels?")
    simmatch = "SimMatchV2 achieves 71.9% and 76.2% Top-1 Accuracy with 1% and 10% labeled examples on ImageNet."
    selfie = ("We evaluate how much Selfie improves ResNet-50 with varying amounts of ImageNet labels, from 5% to 100% "
              "of the training sets. Notably, with 60 examples per class, our method raises the mean accuracy from "
              "35.6% to 46.7%, an improvement of 11.1 points.")
    ctxs = [context(1, "simmatch", simmatch), context(2, "selfie", selfie)]
    answer = build_answer(question, simmatch.rstrip(".") + " [1].", ctxs, embed, 0.3)
    done = complete_answer(question, answer, embed)
    assert "46.7%" in done.text and "100% of the training sets" not in done.text


def test_the_asked_quantity_is_the_word_after_how_much_and_a_change_the_verb_after_the_subject() -> None:
    assert asked_focus("every how many steps does it reset the momentum?") == {"steps"}
    assert asked_focus("How much do SCoRe and Thought Rollback improve large language models?") == set()
    assert asked_change("How much do SCoRe and Thought Rollback improve large language models?") == {"improve"}
    assert asked_change("how much does it reduce inference time?") == {"reduce", "reduction"}  # "a 35% reduction"
    assert asked_change("How much does the method cost?") == set()
    assert asked_change("How many benchmarks was Moment Probing evaluated on?") == set()
