"""A follow-up's stand-alone rewrite keeps the names the conversation was about."""

from __future__ import annotations

from paperqa_local.followups import carry_names


def test_a_rewrite_that_drops_the_subject_gets_its_name_back() -> None:
    turns = [("What does FoldGPT combine to compress LLMs?", "FoldGPT combines block removal and sharing [1].")]
    rewritten = carry_names("How does it improve performance after sharing blocks?", turns,
                            "How does it recover performance after the blocks are shared?")
    assert rewritten == "How does it improve performance after sharing blocks? (FoldGPT LLMs)"


def test_title_case_names_are_carried_too() -> None:
    turns = [("What is Reconstructive Neuron Pruning?", "It prunes neurons [1].")]
    assert carry_names("At what level does each step operate?", turns, "At what granularity does each step operate?") \
        == "At what level does each step operate? (Reconstructive Neuron Pruning)"


def test_a_good_rewrite_or_a_new_subject_is_left_alone() -> None:
    turns = [("What is SkeletonX?", "A skeleton-based one-shot action recognition method [1].")]
    assert carry_names("Which datasets was SkeletonX tested on?", turns, "Which datasets was it tested on?") \
        == "Which datasets was SkeletonX tested on?"
    assert carry_names("How fast is Whisper?", turns, "And how fast is Whisper?") == "How fast is Whisper?"
    assert carry_names("How fast is it?", [], "How fast is it?") == "How fast is it?"


def test_a_name_for_a_part_of_the_discussed_method_keeps_the_conversation_names() -> None:
    """"What does the Air variant add?" after "What is Chain-of-Model learning?": Air is a variant of CoM, so the
    rewrite that lost Chain-of-Model gets it back; a follow-up naming another method does not."""
    turns = [("What is Chain-of-Model learning?", "A paradigm in which each layer's hidden state is split into chains.")]
    assert carry_names("What does the Air variant add to the model?", turns, "What does the Air variant add?") \
        == "What does the Air variant add to the model? (Chain-of-Model)"
    assert carry_names("What does LoRA add?", turns, "What does LoRA add?") == "What does LoRA add?"
    assert carry_names("What does the BERT model add?", turns, "What does the BERT model add?") \
        == "What does the BERT model add?"


def test_a_follow_up_that_points_back_keeps_the_names_even_when_it_names_a_condition() -> None:
    """"How fast does it train ResNet-50?" after "What does FFCV speed up?": ResNet-50 is what it trains, FFCV is
    still "it"; and a third turn still gets the name only the first one held."""
    turns = [("What does FFCV speed up?", "Data loading for training [1].")]
    assert carry_names("How fast does ResNet-50 train?", turns, "How fast does it train ResNet-50?") \
        == "How fast does ResNet-50 train? (FFCV)"
    turns.append(("How fast does it train ResNet-50?", "75% in 20 minutes [1]."))
    assert carry_names("What accuracy does ResNet-50 reach?", turns, "and what accuracy does it reach?") \
        == "What accuracy does ResNet-50 reach? (FFCV)"


def test_a_definition_of_a_new_bare_subject_starts_a_new_topic() -> None:
    """"what is speculative decoding?" after a DropBlock question asks about speculative decoding, not DropBlock;
    "what is the speedup?" and "what is it?" still ask about DropBlock."""
    turns = [("How does DropBlock regularize networks?", "DropBlock drops contiguous regions [1].")]
    for question in ("what is speculative decoding?", "What are vision-language models?",
                     "Define knowledge distillation"):
        assert carry_names(question, turns, question) == question
    for question in ("what is the speedup?", "what is it?", "What is more important?", "how many epochs?"):
        assert carry_names(question, turns, question) == f"{question} (DropBlock)"


def test_a_follow_up_that_puts_a_name_of_its_own_first_is_about_that_name() -> None:
    """"ok and the DropBlock paper - how much does it improve …?" after ConAdv turns: "it" is DropBlock, so the
    old subject is not carried; a pronoun before the question's names still points back."""
    turns = [("Up to what batch size does ConAdv scale ResNet-50 training?", "ConAdv scales to a 96K batch [1].")]
    switch = "ok and the DropBlock paper - how much does it improve ResNet-50 on ImageNet?"
    assert carry_names(switch, turns, switch) == switch
    assert carry_names("DropBlock: does it help?", turns, "DropBlock: does it help?") == "DropBlock: does it help?"
    back = "How much faster than LARS is their method?"
    assert carry_names(back, turns, back) == f"{back} (ConAdv ResNet-50)"


def test_a_follow_up_to_a_question_naming_nothing_carries_what_its_answer_named() -> None:
    """Trial chat: "Which paper proposes stitching …?" names nothing; "how many epochs does it need?" is about the
    paper the answer gave, not about "the proposed method" anywhere in the library."""
    turns = [("Which paper proposes stitching pretrained models of different sizes into one network?",
              "Stitchable Neural Networks proposes stitching pretrained models of different sizes [1].")]
    assert carry_names("How many epochs of training does the proposed method need?", turns,
                       "how many epochs of training does it need?") \
        == "How many epochs of training does the proposed method need? (Stitchable Neural Networks)"
    pointed = [("Which paper mines millions of objects from videos into a graph to learn visual representations?",
                '"Transitive Invariance for Self-supervised Visual Representation Learning" [1].')]
    assert carry_names("What network does it train on the image pairs?", pointed, "what network does it train?") \
        == "What network does it train on the image pairs? (Transitive Invariance for Self-supervised Visual " \
           "Representation Learning)"


def test_a_follow_up_to_a_refused_question_naming_nothing_carries_what_the_user_described() -> None:
    """The fourth trial's chat: turn 1 ("Which paper mines millions of objects …?") was refused and named nothing;
    the rewrite of "what network does it train on the resulting image pairs?" kept "it", and retrieval found an
    image-text paper. The user's own description of the subject goes with it; a rewrite that resolved "it" is
    left alone."""
    refused = [("Which paper mines millions of objects from videos into a graph?",
                "The indexed papers do not answer this question. The closest papers are: \"A\".")]
    assert carry_names("What network does it train on the resulting image pairs?", refused,
                       "what network does it train on the resulting image pairs?") \
        == "What network does it train on the resulting image pairs? (mines millions of objects from videos into a graph)"
    assert carry_names("What network does the object graph method train?", refused, "what network does it train?") \
        == "What network does the object graph method train?"


def test_that_paper_points_back_like_it() -> None:
    """"what does that paper use instead of 3x3x3 convolutions?" names "3x3x3" but points back: the rewrite that
    dropped "Pseudo-3D Residual Net" gets it back (the third trial's chat, refused before)."""
    turns = [("Which paper proposes the Pseudo-3D Residual Net?", "Pseudo-3D Residual Net is proposed in [1]."),
             ("how much does it improve over 3D CNNs on Sports-1M?", "It improves by 5.3% [1].")]
    rewritten = carry_names("What method does the paper use instead of 3x3x3 convolutions?", turns,
                            "what does that paper use instead of 3x3x3 convolutions?")
    assert "Pseudo-3D Residual Net" in rewritten


def test_the_fifth_trials_chats_carry_the_paper_once_and_no_stray_words() -> None:
    """Fifth trial: 'Yes, there is a paper …: "Towards Garment …" [1].' gives that title as the subject, not a
    description; a rewrite that already holds the title, and copied a marker from the answer, gets neither again;
    "I remember a paper that builds … . Which one is it?" names nothing (not "Which"), so when its answer names
    nothing either, the describing sentence is carried without "I remember a paper that"."""
    title = "Towards Garment Sewing Pattern Reconstruction from a Single Image"
    turns = [("Is there a paper that recovers the sewing pattern of a garment from one photo?",
              f'Yes, there is a paper that recovers the sewing pattern of a garment from one photo: "{title}" [1].')]
    assert carry_names(f'What dataset did they create for the paper "{title}" [1], and how large is it?', turns,
                       "What dataset did they create for it, and how large is it?") \
        == f'What dataset did they create for the paper "{title}", and how large is it?'
    assert carry_names("Does their model work on casual photos?", turns, "Does their model work on casual photos?") \
        == f"Does their model work on casual photos? ({title})"
    recalled = [("I remember a paper that builds a residual network entirely in hyperbolic space. Which one is it?",
                 "The paper is [1] Poincaré ResNet, which builds a residual network in hyperbolic space.")]
    assert carry_names("What did they use in place of batch normalization?", recalled,
                       "What did they use in place of batch normalization?") \
        == "What did they use in place of batch normalization? (builds a residual network entirely in hyperbolic space)"
