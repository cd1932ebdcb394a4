"""A yes/no question the evidence answers "no" in so many words (``denial.py``): which of the question's terms a
sentence states as not so, and which negations do not count."""

from __future__ import annotations

import pytest

from paperqa_local.denial import negated_terms, stem

SCAR = "Does SCAR need a retain set to keep the unlearned model's test accuracy?"


@pytest.mark.parametrize(("question", "sentence", "terms"), [
    (SCAR, "SCAR eliminates specific information while preserving the model's test accuracy without using a "
           "retain set, which is a key component in approximate unlearning.", {"retain", "set"}),
    ("Does CvT still need positional encoding?", "Finally, our results show that the positional encoding, a crucial "
     "component in existing Vision Transformers, can be safely removed in our model.", {"positional", "encoding"}),
    ("Is VideoGen-of-Thought trained end-to-end on multi-shot video data?",
     "We propose VGoT, a collaborative and training-free architecture.", {"training"}),
    ("Does the mechanism assume the loss is smooth?", "Our mechanism does not require any smoothness assumptions "
     "on the loss.", {"smoothness"}),
    ("Does X rely on labelled pairs?", "X learns from raw images rather than labelled pairs.", {"labelled", "pairs"}),
    ("Does X need a teacher model?", "X doesn't need a teacher.", {"teacher"}),
    # asked of every case, answered with an exception about the asked thing
    ("Did OverFeat features beat the low memory footprint methods on every instance retrieval dataset?",
     "For instance retrieval it outperforms low memory footprint methods except for sculptures dataset.",
     {"except for"}),
    ("Did SWATS close the generalization gap between Adam and SGD on every task?",
     "SWATS closes the generalization gap between SGD and Adam on a majority of the tasks.", {"a majority of"}),
])
def test_a_sentence_that_states_an_asked_term_as_not_so_denies_it(question: str, sentence: str,
                                                                    terms: set[str]) -> None:
    assert set(negated_terms(question, sentence)) == terms


@pytest.mark.parametrize(("question", "sentence"), [
    # "not only" adds, it does not deny
    ("Does CLOOB beat CLIP at zero-shot transfer?", "CLOOB not only beats CLIP at zero-shot transfer but is faster."),
    # the negation reaches a term the question does not ask about
    ("Does CLOOB beat CLIP at zero-shot transfer?", "CLOOB beats CLIP at zero-shot transfer with no extra cost."),
    # a question that asks about a negation is not denied by one
    ("Can SCAR unlearn without a retain set?", "SCAR unlearns without using a retain set."),
    # only a common verb is negated ("use"), not a thing asked about
    ("Does X use ImageNet?", "X uses ImageNet; it does not use it for pretraining."),
    # a clause break ends what a negation reaches
    ("Does X need labels?", "X needs no tuning, and labels come from the web."),
    # an exception is a "no" only to a question asked of every case, and only about the asked thing
    ("Did OverFeat beat the low memory footprint methods on instance retrieval?",
     "For instance retrieval it outperforms low memory footprint methods except for sculptures dataset."),
    ("Does SWATS work on every task?", "Results hold for all models except for the smallest ones."),
    # compared groups, aims and open questions are not findings
    ("Are women treated for hypothyroidism at risk for complications?",
     "Outcomes were analyzed for women with hypothyroidism and compared with women without hypothyroidism."),
    ("Does ureteroscopy need meatus dilatation?", "To assess the safety of ureteroscopy without meatus dilatation."),
    ("Can CIMT serve as a marker of risk?", "It is not known whether CIMT can serve as a marker of risk."),
    ("Does radiotherapy change outcomes?", "Patients who did and did not receive radiotherapy were followed."),
])
def test_negations_that_deny_nothing_asked_are_not_denials(question: str, sentence: str) -> None:
    assert negated_terms(question, sentence) == []


def test_word_forms_meet_at_their_root() -> None:
    assert stem("smoothness") == stem("smooth") and stem("training") == stem("trained") == "train"
    assert stem("sets") == "set" and stem("gas") == "gas"
