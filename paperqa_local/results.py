"""What the pipeline returns: a checked ``Answer`` (with its contexts, references and sentence
checks), the streaming ``Event``s that lead to it, and a claim's ``Verdict``."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from paperqa_local.records import Chunk


@dataclass
class Context:
    """A numbered passage sent to the model; ``number`` is the [n] users see."""

    number: int
    chunk: Chunk
    text: str  # the (possibly trimmed) passage text actually sent
    score: float  # retrieval score
    relevance: float  # question-passage similarity used for selection
    tokens: int = 0

    def to_dict(self) -> dict[str, Any]:
        c = self.chunk
        return {
            "number": self.number,
            "paper_id": c.paper_id,
            "chunk_id": c.id,
            "title": c.title,
            "location": c.location,
            "page": c.page,
            "date": c.date,
            "authors": c.authors,
            "url": c.url,
            "source": c.source,
            "text": self.text,
            "score": round(self.score, 6),
            "relevance": round(self.relevance, 6),
            "tokens": self.tokens,
        }


@dataclass
class Reference:
    """An entry of the reference list: a cited context, labelled "Author et al., Year — § Section, p. N"."""

    number: int
    paper_id: str
    title: str
    location: str
    source: str
    authors: str = ""  # the display label: "A. Author, B. Author" or "9 authors"
    date: str | None = None
    url: str | None = None
    passage: str = ""
    author_names: list[str] = field(default_factory=list)
    year: int | None = None
    section: str | None = None
    page: int | None = None
    end_page: int | None = None

    @classmethod
    def of(cls, ctx: Context) -> Reference:
        """The reference for a cited context (its chunk's paper fields and location)."""
        c = ctx.chunk
        return cls(number=ctx.number, paper_id=c.paper_id, title=c.title, location=c.location, source=c.source,
                   authors=c.authors, date=c.date, url=c.url, passage=ctx.text, author_names=list(c.author_names),
                   year=c.year, section=c.section, page=c.page, end_page=c.end_page)

    def citation(self) -> str:
        """ "Vaswani et al., 2017" ("Author, Year"; "A and B, Year"); the title stands in for unknown authors."""
        names = self.author_names or _names_in(self.authors)
        count = max(len(names), _count_in(self.authors))
        if not names:
            lead = self.title
        elif count == 1:
            lead = _surname(names[0])
        elif count == 2 and len(names) == 2:
            lead = f"{_surname(names[0])} and {_surname(names[1])}"
        else:
            lead = f"{_surname(names[0])} et al."
        year = self.year or _year_in(self.date)
        return f"{lead}, {year}" if year else lead

    def label(self) -> str:
        """ "Vaswani et al., 2017 — § 3 Model, p. 4 · Attention Is All You Need" (the title last, when the
        citation does not already lead with it)."""
        text = self.citation() + (f" — {self.location}" if self.location else "")
        return text if text.startswith(self.title) else f"{text} · {self.title}"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "label": self.label()}


_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d)\b")
_COUNT = re.compile(r"^(\d+) authors$")
_SUFFIXES = {"jr", "sr", "ii", "iii", "iv"}


def _names_in(label: str) -> list[str]:
    """Names from a display label "A. Author, B. Author" ("9 authors" names nobody)."""
    return [] if not label or _COUNT.match(label) else [n.strip() for n in label.split(",") if n.strip()]


def _count_in(label: str) -> int:
    m = _COUNT.match(label or "")
    return int(m.group(1)) if m else 0


def _year_in(date: str | None) -> int | None:
    m = _YEAR.search(date or "")
    return int(m.group(1)) if m else None


def _surname(name: str) -> str:
    """ "Ashish Vaswani" -> "Vaswani", "Vaswani, Ashish" -> "Vaswani", "Jan van der Berg" -> "van der Berg"."""
    name = name.strip()
    if "," in name:
        head, tail = (p.strip() for p in name.split(",", 1))
        if tail.lower().rstrip(".") not in _SUFFIXES:
            return head
        name = head
    words = [w for w in name.split() if w.lower().rstrip(".") not in _SUFFIXES] or name.split()
    if not words:
        return name
    start = len(words) - 1
    while start > 0 and words[start - 1].islower():
        start -= 1
    return " ".join(words[start:])


@dataclass
class SentenceCheck:
    """One answer sentence, the contexts it cites and how well they support it."""

    text: str
    citations: list[int]
    support: float
    supported: bool
    hedge: bool = False  # says what the passages do NOT state: never a supported claim, shown as a gap
    reason: str = ""  # why it is not supported, when a check (not the score) failed it
    quoted: bool = False  # a passage sentence added verbatim for a paper the model left out (completeness.py)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def gap(cls, text: str) -> SentenceCheck:
        """A sentence saying what the papers do not state: it cites nothing and is never a supported claim."""
        return cls(text=text, citations=[], support=0.0, supported=False, hedge=True)


@dataclass
class Answer:
    """The result of ``PaperQA.ask``: text with [n] markers plus everything behind them."""

    question: str
    text: str
    contexts: list[Context] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    sentences: list[SentenceCheck] = field(default_factory=list)
    cannot_answer: bool = False
    closest_papers: list[str] = field(default_factory=list)  # titles, when cannot_answer
    backend: str = ""
    model: str = ""
    timings: dict[str, float] = field(default_factory=dict)  # evidence_s, first_token_s, total_s ...
    usage: dict[str, int] = field(default_factory=dict)  # prompt_tokens, completion_tokens
    standalone_question: str | None = None  # the rewritten follow-up, in chat
    raw_text: str = ""  # the model's own words before citation checks; kept when they were judged not an answer
    verdict: dict[str, Any] | None = None  # yes/no/maybe scored from the model's probabilities (``verdicts.py``)
    answerability: dict[str, float] = field(default_factory=dict)  # the scores the answer/refuse decision read

    @property
    def citations(self) -> list[int]:
        """Context numbers cited in the text, in order of first appearance."""
        seen: list[int] = []
        for s in self.sentences:
            for n in s.citations:
                if n not in seen:
                    seen.append(n)
        return seen

    @property
    def cited_papers(self) -> list[str]:
        return list(dict.fromkeys(r.paper_id for r in self.references))

    @property
    def unsupported(self) -> list[str]:
        """Claims their citations do not back (hedges are gaps, not claims)."""
        return [s.text for s in self.sentences if not s.supported and not s.hedge]

    @property
    def gaps(self) -> list[str]:
        """What the answer says the papers do not state."""
        return [s.text for s in self.sentences if s.hedge]

    def extended(self, added: list[SentenceCheck]) -> Answer:
        """This answer with ``added`` sentences after its own: text and references follow (a sentence citing a
        context not referenced yet adds its reference)."""
        self.sentences = self.sentences + list(added)
        self.text = " ".join(s.text for s in self.sentences)
        known = {r.number: r for r in self.references}
        by_number = {c.number: c for c in self.contexts}
        self.references = [known.get(n) or Reference.of(by_number[n]) for n in self.citations]
        return self

    def to_markdown(self) -> str:
        lines = [f"**Q:** {self.question}", "", self.text, ""]
        if self.unsupported:
            lines += ["_Not supported by the cited passages:_"] + [f"- {s}" for s in self.unsupported] + [""]
        if self.references:
            lines.append("**References**")
            lines += [f"[{r.number}] {r.label()} — {r.source}" for r in self.references]
        elif self.cannot_answer and self.closest_papers:
            lines.append("**Closest papers**")
            lines += [f"- {t}" for t in self.closest_papers]
        return "\n".join(lines).rstrip() + "\n"

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "text": self.text,
            "cannot_answer": self.cannot_answer,
            "citations": self.citations,
            "references": [r.to_dict() for r in self.references],
            "contexts": [c.to_dict() for c in self.contexts],
            "sentences": [s.to_dict() for s in self.sentences],
            "unsupported": self.unsupported,
            "closest_papers": self.closest_papers,
            "backend": self.backend,
            "model": self.model,
            "timings": self.timings,
            "usage": self.usage,
            "standalone_question": self.standalone_question,
            "raw_text": self.raw_text,
            "verdict": self.verdict,
            "answerability": self.answerability,
        }


class EventKind(StrEnum):
    """What a streaming event carries; a str, so ``event.kind == "answer"`` still reads naturally."""

    EVIDENCE = "evidence"  # contexts ready, before the model writes
    TOKEN = "token"  # a piece of the model's text
    ANSWER = "answer"  # the checked Answer, last


@dataclass
class Event:
    """A streaming event of ``PaperQA.stream``."""

    kind: EventKind
    text: str = ""
    contexts: list[Context] = field(default_factory=list)
    answer: Answer | None = None


@dataclass
class EvidenceSentence:
    """One sentence a verdict rests on, with the passage it comes from."""

    number: int  # the context's [n]
    paper_id: str
    title: str
    sentence: str
    index: int  # position of the sentence in its passage's text
    location: str = ""
    score: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Verdict:
    """The result of ``PaperQA.verify``: a claim's label and the evidence sentences behind it."""

    claim: str
    label: str  # SUPPORT | CONTRADICT | NOT_ENOUGH_INFO
    probabilities: dict[str, float] = field(default_factory=dict)
    evidence: list[EvidenceSentence] = field(default_factory=list)
    contexts: list[Context] = field(default_factory=list)
    scored: bool = True  # False: the backend gave no probabilities and evidence similarity decided
    logprobs: dict[str, float] = field(default_factory=dict)  # the model's, before calibration
    features: dict[str, float] = field(default_factory=dict)  # what else the calibrated decision read
    backend: str = ""
    model: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def papers(self) -> list[str]:
        return list(dict.fromkeys(e.paper_id for e in self.evidence))

    def to_markdown(self) -> str:
        lines = [f"**Claim:** {self.claim}", "", f"**{self.label}**"]
        lines += [f"- {e.sentence} [{e.number}] ({e.title}, {e.location})" for e in self.evidence]
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        return {"claim": self.claim, "label": self.label,
                "probabilities": {k: round(v, 4) for k, v in self.probabilities.items()},
                "evidence": [e.to_dict() for e in self.evidence], "contexts": [c.to_dict() for c in self.contexts],
                "scored": self.scored, "logprobs": {k: round(v, 4) for k, v in self.logprobs.items()},
                "features": {k: round(v, 4) for k, v in self.features.items()}, "backend": self.backend, "model": self.model, "timings": self.timings}
