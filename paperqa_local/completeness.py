"""Answers that leave out a paper the question names get that paper's best sentence, quoted.

A 1.5B model asked about two methods ("How much do SCoRe and Thought Rollback improve …?")
usually answers for one and stops. A name in the question that exactly one evidence paper
mentions (Thought Rollback, CorrMatch, OVFormer) singles that paper out: the question asks
about it. When the answer does not cite that paper (repeating the name is not enough: "SCoRe and
Thought Rollback improve … by 9% [1]" gives one paper's result for both), the part is missing, and
the paper's sentence that best matches the question (one stating a number when a quantity is asked)
is added verbatim with its marker (a quote cannot misattribute). Names several papers share (ImageNet, ResNet-50) single nothing
out and are left alone. On the seeds tune part the rule fires only on multi-paper questions and
always points at a gold paper (docs/results/quality.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from paperqa_local.answerability import mentions, question_names, word_forms
from paperqa_local.evidence import GAP
from paperqa_local.results import Answer, Context, SentenceCheck
from paperqa_local.text_rules import blend, content_words, split_sentences

#: Quoted sentences added to one answer at most (a question rarely names more papers than this).
MAX_ADDED = 2
#: Added to a sentence's score when the question asks for a quantity and the sentence states a number.
NUMBER_BONUS = 0.1
_QUANTITY = re.compile(r"\bhow (?:much|many|far|fast|large|small)\b|\bwhat\b", re.IGNORECASE)
_NUMBER = re.compile(r"\d")


def missing_papers(question: str, answer: Answer) -> dict[str, list[Context]]:
    """The question's names that single out one evidence paper the answer leaves out, with its passages."""
    papers: dict[str, list[Context]] = {}
    for ctx in answer.contexts:
        papers.setdefault(ctx.chunk.paper_id, []).append(ctx)
    vocab = {pid: word_forms(" ".join(f"{c.chunk.title} {c.text}" for c in ctxs)) for pid, ctxs in papers.items()}
    by_number = {c.number: c for c in answer.contexts}
    cited = {by_number[n].chunk.paper_id for n in answer.citations if n in by_number}
    out: dict[str, list[Context]] = {}
    for name in dict.fromkeys(question_names(question)):
        # covered only by citing the paper that holds the name: an answer that merely repeats the name
        # ("SCoRe and Thought Rollback improve … by 9% [1]") still gives one paper's result for both
        holders = [pid for pid, words in vocab.items() if mentions(name, words)]
        if len(holders) == 1 and holders[0] not in cited:
            out.setdefault(holders[0], papers[holders[0]])
    return out


def complete_answer(question: str, answer: Answer, embed: Callable[[list[str]], np.ndarray]) -> Answer:
    """``answer`` with a quoted sentence for each paper the question names and the answer leaves out."""
    if answer.cannot_answer or not answer.sentences:
        return answer
    missing = missing_papers(question, answer)
    if not missing:
        return answer
    q_vec = embed([question])[0]
    q_words = frozenset(content_words(question))
    added: list[SentenceCheck] = []
    for ctxs in list(missing.values())[:MAX_ADDED]:
        pool = [(c, s) for c in ctxs for part in c.text.split(GAP.strip()) for s in split_sentences(part) if s.strip()]
        if not pool:
            continue
        sentences = [s for _, s in pool]
        scores = blend(embed(sentences) @ q_vec, q_words, sentences)
        if _QUANTITY.search(question):  # a result is asked for: a sentence that states one is the answer
            scores = scores + NUMBER_BONUS * np.array([bool(_NUMBER.search(s)) for s in sentences])
        ctx, sentence = pool[int(np.argmax(scores))]
        body = sentence.strip().rstrip(".") + f" [{ctx.number}]."
        added.append(SentenceCheck(text=body, citations=[ctx.number], support=1.0, supported=True, quoted=True))
    return answer.extended(added) if added else answer
