"""From the model's raw text to a checked ``Answer``: the product's core guarantees live here.

- Citation markers are parsed in the forms small models write ([1], [1, 2], [1-3], [1][2])
  and rewritten as [1][2]; markers that point at no context are removed, never kept.
- Each sentence is scored against the passages it cites (embedding similarity blended with
  word overlap) and its attribution checked (its numbers and method names must come from the
  passages it cites, ``claim_checks.py``); it is flagged when either fails. An uncited or
  misattributed sentence that one passage clearly supports gets that passage's marker.
- A hedge ("… is not specified in the passages") is a gap, never a supported claim: an answer
  of hedges only is "not answered"; one with claims keeps its hedges as plain, uncited gaps.
- A sentence that only points at passages ("This is described in [1].") gives its markers to the
  sentence before it and is dropped: it states nothing.
- A sentence that opened with a marker keeps a subject: the marker moves to its end and the
  cited paper's short name takes its place; "there is a paper on X [1]" gets the paper's title.
- A contrast that fails ("A reaches 80.4%, while B reaches 80.67%" with B's number another paper's) is
  checked clause by clause: a wrong half is flagged without sinking a right one.
- The cannot-answer sentinel, or an answer none of whose sentences is supported, becomes the
  plain "not answered by the indexed papers" response with the closest papers listed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial

import numpy as np

from paperqa_local.answerability import (
    identifies,
    names_paper,
    paper_forms,
    question_names,
    title_head,
    title_name,
    word_forms,
)
from paperqa_local.claim_checks import (
    Papers,
    attribution,
    contrast_clauses,
    is_choice,
    is_hedge,
    opening_name,
    opens_with_it,
    read_it,
    support_score,
    unstated_clause,
)
from paperqa_local.prompts import CANNOT_ANSWER
from paperqa_local.reply_text import tidy_reply
from paperqa_local.results import Answer, Context, Reference, SentenceCheck
from paperqa_local.text_rules import LOOSE_MARKER, MARKER, content_words, split_sentences

NOT_ANSWERED_TEXT = "The indexed papers do not answer this question."
_NOUN_MARKER = re.compile(r"\b(in|by|from|of|see|and|than)\s+\[(\d+)\](?!\s*[.!?]?\s*$)"
                          r"|\b(is|are|was|were)\s+\[(\d+)\](?=\s*(?:[.!?,;]|$))", re.IGNORECASE)
#: A "how …" clause that ends on its verb by itself ("… how strong the feature interactions are [1]"): the marker
#: after it cites the clause, it is not the noun the verb lacks (as it is in "… looks at what changes … is [1]").
_WH_CLAUSE = re.compile(r"\bhow\s+\w+\b[^,;]*$", re.IGNORECASE)
_LEADING = re.compile(r"^\s*((?:\[\d+\]\s*)+)(.+)$", re.DOTALL)
#: Where one sentence joins two statements (each may come from a different paper).
_CLAUSE = re.compile(r",\s+|;\s+|\s+(?:and|while|whereas|but)\s+")
_SENTINEL = re.compile(
    re.escape(CANNOT_ANSWER).replace(r"\ ", r"[\s_]*")
    + r"|\b(?:the )?(?:passages|context|papers) (?:do(?:es)? not|don't) (?:answer|contain|provide|mention)",
    re.IGNORECASE,
)


def parse_markers(text: str, valid: set[int]) -> tuple[str, list[int]]:
    """Canonicalise markers to [n][m]; drop numbers not in ``valid``. Returns (text, cited in order)."""
    cited: list[int] = []

    def repl(m: re.Match[str]) -> str:
        nums: list[int] = []
        for part in re.split(r"\s*(?:,|;|and)\s*", m.group(1).strip()):
            bounds = re.split(r"\s*[-–]\s*", part)
            if len(bounds) == 2 and bounds[0].isdigit() and bounds[1].isdigit():
                lo, hi = int(bounds[0]), int(bounds[1])
                nums.extend(range(lo, hi + 1) if 0 < hi - lo < 20 else [lo, hi])
            elif part.isdigit():
                nums.append(int(part))
        good = [n for n in dict.fromkeys(nums) if n in valid]
        cited.extend(n for n in good if n not in cited)
        return "".join(f"[{n}]" for n in good)

    out = LOOSE_MARKER.sub(lambda m: (" " + r) if (r := repl(m)) else "", text)
    out = re.sub(r"\s+([.,;:!?])", r"\1", out)
    out = re.sub(r"(\])\s+(\[)", r"\1\2", out)
    return re.sub(r"\s{2,}", " ", out).strip(), cited


def is_cannot_answer(text: str) -> bool:
    """True when the model wrote the sentinel (or a plain paraphrase of it) instead of an answer: in its first
    sentence. A hedge after a claim ("X is 75% [1]. The passages do not mention Y.") is a gap of an answer."""
    head = text.strip()[:160]
    return not head or bool(_SENTINEL.search((split_sentences(head) or [head])[0]))


def build_answer(
    question: str,
    raw: str,
    contexts: list[Context],
    embed: Callable[[list[str]], np.ndarray],
    support_threshold: float,
    *,
    truncated: bool = False,
    echoes: tuple[str, ...] = (),
    about: str | None = None,
    **fields: object,
) -> Answer:
    """Turn raw model text into an ``Answer`` with checked sentences and references; ``truncated``: the token
    limit ended the reply; ``echoes``: instructions the model may have written back; ``about``: what a refusal
    ranks its closest papers for (``not_answered``)."""
    if not contexts or is_cannot_answer(raw):
        return not_answered(question, contexts, about=about, **fields)
    by_number = {c.number: c for c in contexts}
    valid = set(by_number)
    lines = [drop_locations(parse_markers(s, valid)[0], contexts)
             for s in tidy_reply(raw, truncated=truncated, echoes=echoes)]
    sentences = [keep_subject(s, by_number) for s in fold_pointers(lines) if LOOSE_MARKER.sub("", s).strip(" .")]
    if not sentences and identifies(question):  # "Which paper …?" answered "[1]": that paper, by its title
        sentences = pointed_paper(lines, by_number, valid)
    if not sentences:
        return not_answered(question, contexts, about=about, **fields)

    bare = [LOOSE_MARKER.sub("", s).strip() for s in sentences]
    context_sents = [split_sentences(c.text) or [c.text] for c in contexts]
    flat = [s for group in context_sents for s in group]
    vecs = embed(bare + flat)
    sent_vecs, flat_vecs = vecs[: len(bare)], vecs[len(bare) :]
    spans: dict[int, tuple[int, int]] = {}
    offset = 0
    for ctx, group in zip(contexts, context_sents, strict=True):
        spans[ctx.number] = (offset, offset + len(group))
        offset += len(group)
    passages = {n: f"{c.chunk.title}. {c.text}" for n, c in by_number.items()}
    forms = paper_forms(contexts)  # once per answer: the checks below run per sentence and candidate citation

    names = {c.chunk.paper_id: title_name(c.chunk.title) for c in contexts}
    title_forms = {c.chunk.paper_id: frozenset(word_forms(c.chunk.title)) for c in contexts}

    def split(nums: list[int]) -> Papers:
        """The papers passages ``nums`` come from (word forms, names), and the other evidence papers' names."""
        mine = {by_number[n].chunk.paper_id for n in nums}
        return Papers(set().union(*(f for p, f in forms.items() if p in mine)),
                      frozenset(v for p, v in names.items() if v and p in mine),
                      frozenset(v for p, v in names.items() if v and p not in mine),
                      frozenset().union(*(f for p, f in title_forms.items() if p not in mine)))

    question_words = frozenset(content_words(question, min_len=1))
    choice = is_choice(question) or identifies(question)  # a pick, or which paper: checked on all its words

    def check(text: str, vec: np.ndarray, read: str, nums: list[int]) -> tuple[float, str]:
        """(support score, why attribution fails or "") of the marker-free ``text`` against passages ``nums``;
        ``read``: ``text`` as attribution reads it (an opening "It" as the subject it stands for)."""
        if not nums:
            return 0.0, ""
        rows = np.concatenate([np.arange(*spans[n]) for n in nums])
        cited = [passages[n] for n in nums]
        support = support_score(text, cited, vec, flat_vecs[rows], question_words, choice)
        others = [p for n, p in passages.items() if n not in nums]
        clause = unstated_clause(text, cited, question_words)
        return support, attribution(read, cited, others, question, split(nums)).reason() or (
            f"a clause the cited passages do not state: {clause}" if clause else "")

    def checked(sentence: str, text: str, vec: np.ndarray, about: str = "") -> SentenceCheck:
        """``sentence`` checked against what it cites; an uncited or misattributed one gets the passage that
        clearly supports it, or the two that do together (a sentence answering two parts from two papers)."""
        cited = [int(n) for n in MARKER.findall(sentence)]
        read = read_it(text, about)
        support, reason = check(text, vec, read, cited)
        if support < support_threshold or reason:
            joins = partial(clauses_attributed, read, passages, question, split)
            best, (best_s, best_reason) = _best_citation(by_number, partial(check, text, vec, read), support_threshold,
                                                         joins)
            if best and best_s >= support_threshold and not best_reason and (reason or best_s > support + 0.1):
                for n in best:
                    sentence = _with_marker(sentence, n) if n == best[0] else _add_marker(sentence, n)
                cited, support, reason = best, best_s, ""
        return SentenceCheck(text=sentence, citations=cited, support=support,
                             supported=support >= support_threshold and not reason, reason=reason)

    checks: list[SentenceCheck] = []
    about = ""  # the question's name the last sentence with a subject of its own opened with
    for i, sentence in enumerate(sentences):
        about = opening_name(bare[i], question) or (about if opens_with_it(bare[i]) else "")
        if is_hedge(bare[i]):  # what the papers do not state: a gap, never a supported claim, cites nothing
            checks.append(SentenceCheck(text=bare[i], citations=[], support=0.0, supported=False, hedge=True))
            continue
        result = checked(sentence, bare[i], sent_vecs[i], about)
        parts = contrast_clauses(bare[i]) if not result.supported else []
        if len(parts) > 1:  # "A reaches 80.4%, while B reaches 80.67%": a wrong half no longer sinks a right one
            markers = "".join(f"[{n}]" for n in MARKER.findall(sentence))
            vecs = embed(parts)
            halves = [checked(f"{p.rstrip('.')} {markers}".strip() + ".", p, v) for p, v in zip(parts, vecs, strict=True)]
            if any(h.supported for h in halves):
                checks.extend(halves)
                continue
        checks.append(result)

    if not any(c.supported for c in checks):
        return not_answered(question, contexts, about=about, **fields)
    for c in checks:  # named once checked: a title's words must not lend a restated question support
        c.text = name_papers(c.text, by_number) if c.supported else c.text
    order = list(dict.fromkeys(n for c in checks for n in c.citations))
    return Answer(
        question=question,
        text=" ".join(c.text for c in checks),
        contexts=contexts,
        references=[_reference(by_number[n]) for n in order],
        sentences=checks,
        **fields,  # type: ignore[arg-type]
    )


def clauses_attributed(sentence: str, passages: dict[int, str], question: str,
                       split: Callable[[list[int]], Papers], pair: list[int]) -> bool:
    """Each clause of ``sentence`` is rightly attributed to one passage of ``pair`` on its own.

    What tells "79.29% with the bag of tricks and 78.13% with DropBlock" (each clause from one paper) from
    "Moment Probing reaches FFCV's 75%" (one clause mixing two papers: a misattribution, not a join). A clause
    cut at "and" or a comma may open with a word that is not its subject ("A and B differ …" gives "B differ …"),
    so the rule on a sentence's sole subject (``claim_checks.attribution``, other papers' titles) is not applied.
    """
    for clause in filter(None, (c.strip() for c in _CLAUSE.split(sentence))):
        if not any(attribution(clause, [passages[n]], [passages[m] for m in pair if m != n], question,
                               split([n])._replace(other_titles=frozenset())).ok for n in pair):
            return False
    return True


def _best_citation(by_number: dict[int, Context], check: Callable[[list[int]], tuple[float, str]],
                   threshold: float, joins: Callable[[list[int]], bool]) -> tuple[list[int], tuple[float, str]]:
    """The passage, else the pair of passages, that supports a sentence best with nothing misattributed.

    Pairs are tried only when no single passage passes: a sentence joining two papers' results ("79.29%
    with the bag of tricks and 80.4% with DropBlock") holds a number or a name from each, so neither
    passage alone can carry it; ``joins`` checks that each clause comes from one of the two.
    """
    def rank(t: tuple[list[int], tuple[float, str]]) -> tuple[bool, float]:
        return not t[1][1], t[1][0]

    singles = [([n], check([n])) for n in by_number]
    best = max(singles, key=rank, default=([], (0.0, "")))
    if best[1][0] >= threshold and not best[1][1]:
        return best
    nums = sorted(by_number)
    pairs = [([a, b], check([a, b])) for j, a in enumerate(nums) for b in nums[j + 1:]
             if by_number[a].chunk.paper_id != by_number[b].chunk.paper_id]
    passing = [p for p in pairs if p[1][0] >= threshold and not p[1][1]]
    return max([p for p in passing if joins(p[0])], key=rank, default=best)


#: A sentence that only points at passages ("This is described in [1].", "See [2]."): no claim of its own.
_POINTER = re.compile(
    r"(?:(?:this|these|that|it|all of this|the above)(?:\s+(?!not\b|never\b|no\b)\w+)?\s+(?:is|are|was|were|can be)\s+"
    r"(?:(?!not\b|never\b|no\b)\w+\s+)?(?:described|shown|stated|reported|mentioned|discussed|explained|detailed|presented)"
    r"\s+(?:in|by)|see|source:?|sources:?|references?:?)\s*(?:(?:the\s+)?passages?\s*)?"
    r"(?:\[\d+\](?:\s*,?\s*(?:and\s+)?)?)+\s*\.?",
    re.IGNORECASE)


#: A clause at a sentence's end that only points at passages ("…, as stated in [1].", "… according to [2]").
_TRAILING_POINTER = re.compile(
    r",?\s+(?:as\s+(?:\w+\s+)?(?:described|shown|stated|reported|mentioned|discussed|explained|detailed|presented"
    r"|noted)\s+(?:in|by)|according\s+to)\s+((?:\[\d+\]\s*)+)(?=[.!?]?\s*$)", re.IGNORECASE)


def fold_pointers(sentences: list[str]) -> list[str]:
    """A sentence that only points at passages ("… an interpolation technique. This is described in [1].") gives
    its markers to the sentence before it (the one after it when it comes first) and goes: the claim is cited,
    the answer holds no empty sentence. "This is not mentioned in [2]" is no pointer: it says something. A
    pointing clause at a sentence's end (", as stated in [1].") leaves its markers only."""
    out: list[str] = []
    pending: list[int] = []
    for sentence in (_TRAILING_POINTER.sub(lambda m: " " + m.group(1).strip(), s) for s in sentences):
        markers = [int(n) for n in MARKER.findall(sentence)]
        if markers and _POINTER.fullmatch(sentence.strip()):
            if out:
                out[-1] = _cite(out[-1], markers)
            else:
                pending += markers
            continue
        out.append(_cite(sentence, pending) if pending else sentence)
        pending = []
    return out if out or not pending else sentences


def _cite(sentence: str, numbers: list[int]) -> str:
    """``sentence`` with ``numbers`` among its markers (the ones it lacks added at its end)."""
    have = [int(n) for n in MARKER.findall(sentence)]
    for n in (n for n in dict.fromkeys(numbers) if n not in have):
        sentence = _add_marker(sentence, n) if have else _with_marker(sentence, n)
        have.append(n)
    return sentence


def drop_locations(text: str, contexts: list[Context]) -> str:
    """Remove passage headers' locations the model copied ("MEAL V2 (entry 42) reports…"): where a passage
    sits is not a claim, and its number would fail the attribution check of an otherwise right sentence."""
    for loc in {c.chunk.location for c in contexts if c.chunk.location}:
        text = re.sub(r"\s*\(" + re.escape(loc) + r"\)", "", text)
    return text


def keep_subject(sentence: str, by_number: dict[int, Context]) -> str:
    """Markers that open a sentence move to its end, with every other marker it holds; a sentence they left
    subject-less gets the paper's name.

    "[1] introduces SN-Netv2." becomes "Stitchable Neural Networks v2 introduces SN-Netv2 [1]."; a marker
    used as a noun ("the method in [1]", "the approach that … is [1].") gets the paper's name beside it ("the
    method in FFCV [1]", "… is OBoW [1].").
    """
    def named(m: re.Match[str]) -> str:
        word, n = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        if m.group(3) and _WH_CLAUSE.search(m.string, 0, m.start()):
            return m.group(0)
        return f"{word} {short_title(by_number[int(n)].chunk.title)} [{n}]"

    sentence = _NOUN_MARKER.sub(named, sentence)
    m = _LEADING.match(sentence)
    if not m:
        return sentence
    rest = m.group(2).strip()
    # every marker the sentence holds: "[1] and [2] are about …" names both papers and cites both
    nums = list(dict.fromkeys(int(n) for n in MARKER.findall(m.group(1)) + MARKER.findall(rest)))
    name = short_title(by_number[nums[0]].chunk.title)
    # "[4] einspace suggests …" has its subject; "[1] reduces …" (paper "Re") has none
    if rest[:1].islower() and not re.match(re.escape(name) + r"(?![\w-])", rest, re.IGNORECASE):
        rest = f"{name} {rest}"
    for n in nums:
        rest = _with_marker(rest, n) if n == nums[0] else _add_marker(rest, n)
    return rest


#: "There is a paper on …": says a paper exists without saying which.
_EXISTS = re.compile(r"\bthere\s+(?:is|are|exists?)\s+(?:a|an|one|two|three|several|some)?\s*"
                     r"(?:papers?|works?|stud(?:y|ies)|articles?)\b", re.IGNORECASE)


#: "… is How connectivity structure shapes …", "… called REST": the sentence says which paper itself.
_SAYS_WHICH = re.compile(r"\b(?:is|called|named|titled|entitled)\s+[\"“']?[A-Z]")


#: "The paper splits …", "The paper [1] proposes …": a subject that says a paper without saying which, then its verb
#: (not "The paper showing GloVe …", "The paper by …": those say which; nor "The paper is [1] Poincaré ResNet": it
#: says which).
_THE_PAPER = re.compile(r"^(?:the|this)\s+(?:paper|work|study|article)(?=(?:\s*\[\d+\])*\s+(?!is\b|was\b)[a-z]+s\b)",
                        re.IGNORECASE)


def pointed_paper(lines: list[str], by_number: dict[int, Context], valid: set[int]) -> list[str]:
    """A reply that only points at passages ("[1]") to a "Which paper …?" question names the paper it points at,
    by its title, with that marker: the sentence checks then judge it like any other. Nothing when it points at
    several papers (no pick) or at none."""
    nums = list(dict.fromkeys(n for line in lines for n in parse_markers(line, valid)[1]))
    if len({by_number[n].chunk.paper_id for n in nums}) != 1:
        return []
    return [f'"{by_number[nums[0]].chunk.title}" [{nums[0]}].']


def name_papers(sentence: str, by_number: dict[int, Context]) -> str:
    """"Yes, there is a paper on X [1]." names it: "… on X: "REST: Retrieval-Based Speculative Decoding" [1].",
    and "The paper splits … [1]" becomes "InceptionNeXt splits … [1]" (one paper cited); a sentence that names
    its cited papers, or says which paper it means ("… is How connectivity …"), is kept."""
    nums = [int(n) for n in MARKER.findall(sentence) if int(n) in by_number]
    papers = {by_number[n].chunk.paper_id for n in nums}
    if len(papers) == 1 and _THE_PAPER.match(sentence):
        return _THE_PAPER.sub(short_title(by_number[nums[0]].chunk.title), sentence, count=1)
    said = _EXISTS.search(sentence)
    if not nums or not said or _SAYS_WHICH.search(sentence, said.end()):
        return sentence
    titles = list(dict.fromkeys(by_number[n].chunk.title.strip() for n in nums))
    if any(short_title(t).lower() in sentence.lower() for t in titles):
        return sentence
    body = re.sub(r"\s*" + MARKER.pattern, "", sentence).rstrip().rstrip(".!?")
    markers = "".join(f"[{n}]" for n in dict.fromkeys(nums))
    return f"{body}: " + "; ".join(f'"{t}"' for t in titles) + f" {markers}."


def short_title(title: str) -> str:
    """How a sentence names a paper: the part before a colon when there is a short one ("FFCV")."""
    head = title_head(title)
    return head if 0 < len(head) <= 40 else title.strip()


def closest_papers(question: str, contexts: list[Context], limit: int = 3) -> list[str]:
    """The titles to offer when the evidence does not answer: the papers the question names first (by title, or
    by the name the title gives: "OverLoCK-T" is OverLoCK's), then by relevance. "What learning rate was used to
    train the Concept-Centric Transformers?" lists that paper first, not three papers that happen to discuss
    learning rates. Papers that merely mention a name ("A100", "COCO") are not moved up: they would bury the
    paper described in words."""
    names = question_names(question)

    def named(ctx: Context) -> bool:
        called = title_name(ctx.chunk.title)
        return (bool(called) and any(n == called or n.startswith(f"{called}-") for n in names)) \
            or names_paper(question, ctx.chunk.title)

    ranked = sorted(contexts, key=lambda c: (named(c), c.relevance), reverse=True)
    return list(dict.fromkeys(c.chunk.title for c in ranked))[:limit]


def not_answered(question: str, contexts: list[Context], about: str | None = None, **fields: object) -> Answer:
    """The plain response when the evidence does not answer: say so, list the closest papers (ranked for
    ``about``, a follow-up's stand-alone rewrite, which names what "it" was, when given)."""
    closest = closest_papers(about or question, contexts)
    text = NOT_ANSWERED_TEXT
    if closest:
        text += " The closest papers are: " + "; ".join(f'"{t}"' for t in closest) + "."
    return Answer(question=question, text=text, contexts=contexts, cannot_answer=True, closest_papers=closest,
                  **fields)  # type: ignore[arg-type]


def _with_marker(sentence: str, number: int) -> str:
    body = re.sub(r"\s*" + MARKER.pattern, "", sentence).rstrip()
    end = body[-1] if body and body[-1] in ".!?" else ""
    body = body[:-1] if end else body
    return f"{body} [{number}]{end}"


def _add_marker(sentence: str, number: int) -> str:
    body = sentence.rstrip()
    end = body[-1] if body and body[-1] in ".!?" else ""
    body = body[:-1] if end else body
    return f"{body}[{number}]{end}"


def _reference(ctx: Context) -> Reference:
    return Reference.of(ctx)
