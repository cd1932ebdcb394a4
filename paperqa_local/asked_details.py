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


_GPU = (r"\b(?:gpus?|tpus?(?:v\d)?|[akhptv]\d{2,3}s?|rtx|titan|xeon|cpus?|accelerators?|nodes|cards)\b"
        r"|\bgpu[- ]hours?\b")
_TIME = r"\b(?:hours?|days?|weeks?|months?|min(?:ute)?s?|sec(?:ond)?s?|ms|millisec\w*|gpu[- ]hours?|wall[- ]clock)\b|\d\s?h\b"
KINDS: tuple[Kind, ...] = (
    _kind("the number of epochs", r"\bepochs?\b", r"\bepochs?\b|\biterations?\b|\b(?:training|optimi[sz]ation) steps\b"
          r"|\b\d+(?:\.\d+)?\s?[km]? steps\b"),
    _kind("the learning rate", r"\blearning[- ]rates?\b", r"\blearning[- ]rates?\b|\blr\b|\bstep[- ]size\b|α\s?="),
    _kind("the learning-rate schedule", r"\b(?:learning[- ]rate|lr|training) schedul(?:e|es|ing)\b",
          r"\bschedul|\bcosine\b|\bwarm-?up\b|\bdecay|\banneal|\bdivided by\b|\bepochs?\b"),
    _kind("the optimizer", r"\boptimi[sz]ers?\b",
          r"\boptimi[sz]ers?\b|\badam\w*|\bsgd\b|\blamb\b|\blion\b|\badafactor\b|\bmomentum\b|\bgradient descent\b"
          r"|\brmsprop\b|\badagrad\b|\bl-?bfgs\b"),
    _kind("the weight decay", r"\bweight[- ]decay\b", r"\bweight[- ]decay\b|\bl2\b|\bregulari[sz]ation\b"),
    _kind("the batch size", r"\bbatch[- ]sizes?\b", r"\b(?:mini-?)?batch(?:[- ]sizes?|es)?\b"),
    _kind("the hardware", r"\bhow many (?:\w+ )?(?:gpus?|tpus?|accelerators?|nodes)\b|\bwhich (?:gpus?|hardware)\b"
          r"|\bwhat hardware\b", _GPU),
    _kind("the training time", r"\bhow (?:many|much) (?!inference\b)(?:\w+ )?(?:gpu[- ])?(?:hours?|days?|minutes?|time)\b"
          r"|\bhow long (?:does|did|do|will) (?:\S+ ){1,6}?(?:take|train)\b|\bwall[- ]clock\b", _TIME),
    _kind("the latency", r"\blatency\b|\binference (?:time|speed)\b|\bframes per second\b|\bfps\b",
          r"\blatency\b|\bfps\b|\bframes per second\b|\bthroughput\b|\binference (?:time|speed)\b|\bper second\b"
          r"|\breal[- ]time\b|\bfast(?:er|est)?\b|\bspeed(?:s|ed)?(?:-?ups?)?\b|\d\s?(?:x|×)(?![a-z0-9])|" + _TIME),
    _kind("the memory use", r"\b(?:gpu )?memory (?:use|usage|footprint|consumption|does|is|needed|required)\b"
          r"|\bhow much memory\b|\bvram\b", r"\bmemory\b|\bvram\b|\d\s?(?:[kmgt]i?b)\b|\b[kmgt]i?b\b"),
    _kind("the vocabulary size", r"\bvocabulary(?: size)?\b",
          r"\bvocab(?:ular(?:y|ies))?\b|\bbpe\b|\bwordpiece\b|\bsentencepiece\b|\btokens?\b"),
    _kind("the cost", r"\bhow much (?:does|did) (?:\S+ ){0,6}?cost\b|\b(?:training|compute|inference) cost\b|\bdollars?\b",
          r"\bcosts?\b|\$\s?\d|\bdollars?\b|\bcheap|\bbudget\b|\bflops\b|\bpetaflop|" + _TIME),
)
#: A name that is a kind's own word names hardware, not the question's subject ("GPUs", "A100").
_HARDWARE = re.compile(_GPU, re.IGNORECASE)


def asked_kinds(question: str) -> list[Kind]:
    """The listed kinds of detail ``question`` asks for, in the list's order."""
    return [k for k in KINDS if k.asked.search(question)]


def subject_passages(question: str, contexts: Sequence[Context]) -> list[Context]:
    """Every passage of the papers about the question's subject: the papers whose passages together mention
    the most of its names ("FFCV", "ImageNet", "ResNet-50": FFCV's paper names all three, another ImageNet
    paper only two); all passages when no paper names any. A paper's other passages count even when they do
    not repeat the name (its method section states the epochs, its abstract names the model)."""
    names = [n for n in question_names(question) if not _HARDWARE.fullmatch(n)]
    papers: dict[str, list[Context]] = {}
    for c in contexts:
        papers.setdefault(c.chunk.paper_id, []).append(c)
    counts = {pid: sum(mentions(n, word_forms(" ".join(_text(c) for c in ctxs))) for n in names)
              for pid, ctxs in papers.items()}
    top = max(counts.values(), default=0)
    return [c for c in contexts if counts[c.chunk.paper_id] == top] if top else list(contexts)


def missing_kinds(question: str, contexts: Sequence[Context]) -> list[Kind]:
    """The asked kinds that no passage of the papers about the question's subject states."""
    kinds = asked_kinds(question)
    if not kinds:
        return []
    pool = [_text(c) for c in subject_passages(question, contexts)]
    return [k for k in kinds if not any(k.stated.search(text) for text in pool)]


def _text(ctx: Context) -> str:
    """What a passage states: its title and its whole chunk (the evidence shows only its best sentences),
    as ``answerability.missing_names`` reads it."""
    return f"{ctx.chunk.title} {ctx.chunk.text}"


def unstated_share(question: str, contexts: Sequence[Context]) -> float:
    """Share of the asked kinds no passage about the subject states (0 when none is asked): 1.0 means the
    papers state none of what the question asks for."""
    kinds = asked_kinds(question)
    return len(missing_kinds(question, contexts)) / len(kinds) if kinds else 0.0


def state_gaps(question: str, answer: Answer) -> Answer:
    """``answer`` with a plain gap sentence for each asked kind no passage of the subject's papers states (the
    papers answer part of the question; they do not state, say, the learning rate). Gaps cite nothing. A kind
    the answer already says is missing (a hedge asking it) or states in a supported sentence citing the subject's
    papers gets none."""
    if answer.cannot_answer:
        return answer
    subject = {c.number for c in subject_passages(question, answer.contexts)}
    hedged = [s.text for s in answer.sentences if s.hedge]
    claimed = [s.text for s in answer.sentences if s.supported and subject & set(s.citations)]
    gaps = [f"The retrieved passages do not state {k.name}." for k in missing_kinds(question, answer.contexts)
            if not any(k.asked.search(h) or k.stated.search(h) for h in hedged)
            and not any(k.stated.search(c) for c in claimed)]
    return answer.extended([SentenceCheck.gap(g) for g in gaps]) if gaps else answer
