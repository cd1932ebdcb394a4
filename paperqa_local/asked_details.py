"""What kind of detail a question asks for, and whether the evidence states that kind at all.

Names and term coverage tell whether the evidence is about the question's subject; they cannot tell
whether it holds the asked-for *kind* of detail. "What is ConvBERT-base's inference latency on a
CPU?" lands on ConvBERT's abstract (every name is there), which gives GLUE scores and training cost
but no latency; a 1.5B model then answers from the nearest number ("ConvBERT-base achieves 86.4 GLUE
[1]") and the number check passes, since 86.4 is in the passage. The kinds below are the training and
deployment details papers state in their body and abstracts often leave out (epochs, learning rate,
optimizer, GPUs, hours, latency, memory, …). Each has the words a question asks it with and the
words a passage states it with; a question asking for kinds that no passage about its subject states
is not answered by the papers, and an answer that gives some asked kinds says plainly which it
cannot (``Answer.gaps``). Kinds not listed here (a score, a dataset, a method) are left to coverage.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from paperqa_local.answerability import mentions, question_names, word_forms
from paperqa_local.results import Answer, Context, SentenceCheck


@dataclass(frozen=True)
class Kind:
    """A kind of detail: the words that ask for it and the words that state it."""

    name: str  # as an answer's gap sentence says it ("the number of epochs")
    asked: re.Pattern[str]
    stated: re.Pattern[str]


def _kind(name: str, asked: str, stated: str) -> Kind:
    return Kind(name, re.compile(asked, re.IGNORECASE), re.compile(stated, re.IGNORECASE))


_GPU = r"\b(?:gpus?|tpus?(?:v\d)?|a100s?|v100s?|h100s?|accelerators?)\b"
KINDS: tuple[Kind, ...] = (
    _kind("the number of epochs", r"\bepochs?\b", r"\bepochs?\b"),
    _kind("the learning rate", r"\blearning[- ]rates?\b", r"\blearning[- ]rates?\b|\blr\b"),
    _kind("the learning-rate schedule", r"\bschedul(?:e|es|ing)\b",
          r"\bschedul|\bcosine\b|\bwarm-?up\b|\blinear decay\b|\bstep decay\b"),
    _kind("the optimizer", r"\boptimi[sz]ers?\b",
          r"\boptimi[sz]ers?\b|\badam\w*|\bsgd\b|\blamb\b|\blion\b|\badafactor\b|\bmomentum\b"),
    _kind("the weight decay", r"\bweight[- ]decay\b", r"\bweight[- ]decay\b"),
    _kind("the batch size", r"\bbatch[- ]sizes?\b", r"\bbatch(?:[- ]sizes?|es)?\b"),
    _kind("the hardware (GPUs)", r"\bhow many (?:\w+ )?(?:gpus?|tpus?|accelerators?)\b|\bwhich (?:gpus?|hardware)\b",
          _GPU),
    _kind("the training time", r"\bhow (?:many|much) (?:\w+ )?(?:gpu[- ])?(?:hours?|days?|minutes?|time)\b"
          r"|\bhow long (?:does|did|do|will) (?:\S+ ){1,6}?(?:take|train)\b|\bwall[- ]clock\b",
          r"\bhours?\b|\bdays?\b|\bmin(?:ute)?s?\b|\bgpu[- ]hours?\b|\bwall[- ]clock\b"),
    _kind("the latency", r"\blatency\b|\binference (?:time|speed)\b|\bframes per second\b|\bfps\b",
          r"\blatency\b|\bms\b|\bmillisec|\bfps\b|\bframes per second\b|\bthroughput\b|\binference (?:time|speed)\b"
          r"|\bper second\b|\breal[- ]time\b|\bfaster\b|\bspeed-?ups?\b|\d\s?(?:x|×)(?![a-z])"),
    _kind("the memory use", r"\b(?:gpu )?memory (?:use|usage|footprint|consumption|does|is|needed|required)\b"
          r"|\bhow much memory\b|\bvram\b", r"\bmemory\b|\bvram\b|\bgb\b|\bgib\b"),
    _kind("the vocabulary size", r"\bvocabulary(?: size)?\b", r"\bvocabular(?:y|ies)\b"),
    _kind("the cost", r"\bhow much (?:does it |did it )?cost\b|\b(?:training|compute) cost\b|\bdollars?\b|\$",
          r"\bcosts?\b|\$|\bdollars?\b|\bcheap|\bbudget\b"),
    _kind("the CPU", r"\bon (?:a |the )?cpus?\b", r"\bcpus?\b"),
)


def asked_kinds(question: str) -> list[Kind]:
    """The listed kinds of detail ``question`` asks for, in the list's order."""
    return [k for k in KINDS if k.asked.search(question)]


def subject_passages(question: str, contexts: Sequence[Context]) -> list[Context]:
    """The passages about the question's subject: those mentioning the most of its names ("FFCV", "ImageNet",
    "ResNet-50": FFCV's passage names all three, another ImageNet paper's only two), else all of them. A name
    that is itself a kind's word (GPUs, A100) names no subject."""
    names = [n for n in question_names(question) if not any(k.stated.search(n) for k in KINDS)]
    counts = [sum(mentions(n, word_forms(f"{c.chunk.title} {c.text}")) for n in names) for c in contexts]
    top = max(counts, default=0)
    return [c for c, n in zip(contexts, counts, strict=True) if n == top] if top else list(contexts)


def missing_kinds(question: str, contexts: Sequence[Context]) -> list[Kind]:
    """The asked kinds that no passage about the question's subject states."""
    kinds = asked_kinds(question)
    if not kinds:
        return []
    pool = [f"{c.chunk.title} {c.text}" for c in subject_passages(question, contexts)]
    return [k for k in kinds if not any(k.stated.search(text) for text in pool)]


def unstated_share(question: str, contexts: Sequence[Context]) -> float:
    """Share of the asked kinds no passage about the subject states (0 when none is asked): 1.0 means the
    papers state none of what the question asks for."""
    kinds = asked_kinds(question)
    return len(missing_kinds(question, contexts)) / len(kinds) if kinds else 0.0


def state_gaps(question: str, answer: Answer) -> Answer:
    """``answer`` with a plain gap sentence for each asked kind no passage about the subject states (the
    papers answer part of the question; they do not state, say, the learning rate). Gaps cite nothing."""
    if answer.cannot_answer:
        return answer
    said = {s.text for s in answer.sentences if s.hedge}
    gaps = [f"The indexed papers do not state {k.name}." for k in missing_kinds(question, answer.contexts)]
    gaps = [g for g in gaps if g not in said]
    if not gaps:
        return answer
    answer.sentences = answer.sentences + [SentenceCheck(text=g, citations=[], support=0.0, supported=False,
                                                         hedge=True) for g in gaps]
    answer.text = " ".join(s.text for s in answer.sentences)
    return answer
