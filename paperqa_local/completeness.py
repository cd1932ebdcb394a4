"""Answers that leave out a part of the question, or a paper it names, get the best sentence for it, quoted.

A 1.5B model asked about two methods ("How much do SCoRe and Thought Rollback improve …?")
usually answers for one and stops. A name in the question that exactly one evidence paper
mentions (Thought Rollback, CorrMatch, OVFormer) singles that paper out: the question asks
about it. When the answer does not cite that paper (repeating the name is not enough: "SCoRe and
Thought Rollback improve … by 9% [1]" gives one paper's result for both), the part is missing, and
the paper's sentence that best matches the question (one stating a number when a quantity is asked)
is added verbatim with its marker (a quote cannot misattribute). Names several papers share (ImageNet, ResNet-50) single nothing
out and are left alone. On the seeds tune part the rule fires only on multi-paper questions and
always points at a gold paper (docs/results/quality.md).

Parts work the same way, without names: a question that asks two things ("How far can LAPP compress
ResNet-20 on CIFAR-10, and how much of ResNet-18's FLOPs does it remove on ImageNet?") often gets the
first answered and the second dropped. A part (``question_parts``) is left out when the answer's
supported sentences hold under ``PART_COVERED`` of the words that set it apart from the other parts
("ResNet-18", "FLOPs", "remove", "ImageNet"); its best evidence sentence is then quoted, if that sentence
holds more of those words than the answer does.

Asked numbers work the same way: a question (or part) that asks for a quantity ("How much faster …?",
"Up to what batch size …?", "What Dice score …?") answered without any number of its own ("ConAdv can
increase the batch size … [1]") gets the cited paper's best sentence that states one, quoted.

A quote answers for the paper it is taken from, so it is only taken where the question points: a part
whose names single out papers ("What accuracy does LowFormer reach, and what throughput does it achieve
on an A100?") is quoted only from a paper that mentions all of them (a pronoun part keeps the names of
the part before it), never from the paper that merely shares "A100"; and a question naming something no
passage mentions (FlashAttention-2) is about a paper that is not there, so nothing beyond the papers the
answer cites is quoted for it.

Two ends of the same idea: a refusal the checks made (not the model) for a question naming two or more
evidence papers by their own names ("Compare REST and DReSD.") becomes each paper's best sentence, quoted;
and an answer that gives no number to a question asking only numbers says so plainly (``NUMBER_GAP``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from paperqa_local.answer import is_cannot_answer, parse_markers
from paperqa_local.answerability import (
    mentions,
    missing_names,
    names_paper,
    paper_forms,
    question_names,
    title_name,
    word_forms,
)
from paperqa_local.asked_details import missing_kinds
from paperqa_local.evidence import GAP
from paperqa_local.followups import CARRIED
from paperqa_local.question_parts import question_parts
from paperqa_local.results import Answer, Context, SentenceCheck
from paperqa_local.text_rules import KEYWORD_QUANTITY, blend, content_words, result_numbers, split_sentences

#: Quoted sentences added to one answer at most (a question rarely asks more parts or names more papers).
MAX_ADDED = 3
#: A part is answered when the answer's supported sentences hold at least this share of its own words.
PART_COVERED = 0.34
#: Words that ask rather than say what is asked about (how *much*, what *kind*).
_ASKING = frozenset({"much", "many", "far", "kind", "type", "sort", "long", "often", "does", "did"})
#: Added to a sentence's score when the question asks for a quantity and the sentence states a number.
NUMBER_BONUS = 0.1
_QUANTITY = re.compile(r"\bhow (?:much|many|far|fast|large|small)\b|\bwhat\b", re.IGNORECASE)
_NUMBER = re.compile(r"\d")
#: Letters two words must share to name the same quantity ("accurately", "accuracy").
STEM = 6
#: A question that asks for a result given as a number (not merely "what method ...").
_ASKS_NUMBER = re.compile(
    r"\bhow (?:much|many|far|fast|quickly|large|big|small|long|often|accurate(?:ly)?)\b|\bby (?:what|how much)\b"
    r"|\bup to what\b|\bwhat (?!(?:kinds?|types?|sorts?|forms?) of\b)(?:\S+ ){0,3}?"  # not "what kind of gain"
    r"(?:accuracy|score|percentage|percent|proportion|fraction|rate|map|ap|nds"
    r"|f1|bleu|rouge|dice|error|perplexity|speed-?ups?|number|size|count|gain|improvement|margin|reduction|ratio"
    r"|top-[15]|latency|throughput|fps|parameters?)\b", re.IGNORECASE)


#: "What score does X propose / introduce / define …?" asks for the score's name, not its value.
_ASKS_NAME = re.compile(r"^\s*what\b(?:\s+\S+){0,3}?\s+(?:(?:does|did|do)\b(?:\s+\S+){0,6}?\s+"
                        r"(?:propose|introduce|define|call|name|design|coin)|(?:is|was|are|were)\b(?:\s+\S+){0,6}?\s+"
                        r"(?<!\bthe\s)(?<!\bour\s)(?<!\ba\s)(?:proposed|introduced|defined|called|named|designed|coined))\b",
                        re.IGNORECASE)


def asks_number(part: str) -> re.Match[str] | None:
    """Where ``part`` asks for a result given as a number: the asking phrase, or a keyword query's quantity (not
    "What score does X propose …?", which asks for a name)."""
    if _ASKS_NAME.search(part):
        return None
    return _ASKS_NUMBER.search(part) or KEYWORD_QUANTITY.search(part)


#: A name right after "on", "with", "using" … states a condition ("on an A100 GPU", "on ImageNet"), not a paper
#: asked about.
_CONDITION = re.compile(r"\b(?:on|in|at|with|using|over|across|under|via)\s+(?:an?\s+|the\s+)?([A-Za-z0-9][A-Za-z0-9-]*)",
                        re.IGNORECASE)


def missing_papers(question: str, answer: Answer) -> dict[str, list[Context]]:
    """The question's names that single out one evidence paper the answer leaves out, with its passages (not a
    name stating a condition: "on an A100 GPU" singles out no paper asked about), and the papers the question
    names by title. Names are looked up in the passages as shown, what the model read."""
    papers: dict[str, list[Context]] = {}
    for ctx in answer.contexts:
        papers.setdefault(ctx.chunk.paper_id, []).append(ctx)
    vocab = {pid: word_forms(" ".join(f"{c.chunk.title} {c.text}" for c in ctxs)) for pid, ctxs in papers.items()}
    by_number = {c.number: c for c in answer.contexts}
    cited = {by_number[n].chunk.paper_id for n in answer.citations if n in by_number}
    out: dict[str, list[Context]] = {}
    conditions = {m.group(1) for m in _CONDITION.finditer(question)}
    for name in dict.fromkeys(n for n in question_names(question) if n not in conditions):
        # covered only by citing the paper that holds the name: an answer that merely repeats the name
        # ("SCoRe and Thought Rollback improve … by 9% [1]") still gives one paper's result for both
        holders = [pid for pid, words in vocab.items() if mentions(name, words)]
        if len(holders) == 1 and holders[0] not in cited:
            out.setdefault(holders[0], papers[holders[0]])
    for pid, ctxs in papers.items():  # named by its title ("Stable ResNet and the mean-field analysis …")
        if pid not in cited and names_paper(question, ctxs[0].chunk.title):
            out.setdefault(pid, ctxs)
    return out


def part_words(question: str) -> list[tuple[str, set[str]]]:
    """Each part of the question with the content words that set it apart from the other parts."""
    parts = question_parts(question)
    # numbers in a question restate what is given ("above 80%"), not what is asked
    asked = [CARRIED.sub("", p) for p in parts]  # the subject a follow-up's rewrite carries is no part asked
    words = [{w for w in content_words(a) - _ASKING if not _NUMBER.match(w)} for a in asked]
    others = [set().union(*(o for j, o in enumerate(words) if j != i)) for i in range(len(words))]
    return [(p, w - o) for p, w, o in zip(parts, words, others, strict=True)]


def _share(words: set[str], pool: set[str]) -> float:
    return sum(mentions(w, pool) for w in words) / len(words) if words else 1.0


def missing_parts(question: str, answer: Answer) -> list[tuple[str, set[str], float]]:
    """The question's parts the answer's supported sentences leave out: (part, its own words, the share of
    them the answer holds)."""
    claimed = word_forms(" ".join(s.text for s in answer.sentences if s.supported))
    found = [(part, own, _share(own, claimed)) for part, own in part_words(question) if own]
    return [(part, own, share) for part, own, share in found if share < PART_COVERED]


def complete_answer(question: str, answer: Answer, embed: Callable[[list[str]], np.ndarray]) -> Answer:
    """``answer`` with a quoted sentence for each part of the question, and each paper it names, that the answer
    leaves out (no named paper is quoted for a question naming something no passage mentions)."""
    if answer.cannot_answer or not answer.sentences:
        return answer
    added: list[SentenceCheck] = []
    shown = {s.text.rstrip(".") for s in answer.sentences}
    elsewhere = bool(missing_names(question, answer.contexts))
    pools = part_pools(question, answer, elsewhere)
    for part, own, share in missing_parts(question, answer):
        pick = _best_sentence(part, pools.get(part, answer.contexts), embed)
        if pick and len(added) < MAX_ADDED and _share(own, word_forms(pick[1])) > share:
            _quote(pick, added, shown)
    answer = answer.extended(added)
    cited = {c.chunk.paper_id for c in answer.contexts if c.number in answer.citations}
    asked = _asked_numbers(question, answer.sentences, answer.contexts, cited, embed, shown, MAX_ADDED - len(added),
                           pools)
    added += asked
    answer = answer.extended(asked)  # the papers those quotes cite are no longer left out
    named: list[SentenceCheck] = []
    for ctxs in ({} if elsewhere else missing_papers(question, answer)).values():
        pick = _best_sentence(question, ctxs, embed)
        if pick and len(added) + len(named) < MAX_ADDED:
            _quote(pick, named, shown)
    return answer.extended(named)


def quoted_numbers(question: str, raw: str, answer: Answer, embed: Callable[[list[str]], np.ndarray]) -> Answer:
    """A refusal that only the checks made (the model answered, every sentence failed, most often on a number
    the passage does not state: "an accuracy of 95%" where it says 98.93%), for a question asking a quantity:
    the sentences of the papers the model cited that state the asked quantity, quoted. ``answer`` when none does."""
    if not _checks_refused(answer, raw) or not asks_number(question):
        return answer
    by_number = {c.number: c for c in answer.contexts}
    cited = {by_number[n].chunk.paper_id for n in parse_markers(raw, set(by_number))[1]}  # [1], [1, 2], [1-3]
    # from the papers each part is about, not from one only the model's marker points at
    quotes = _asked_numbers(question, [], answer.contexts, cited, embed, set(), MAX_ADDED,
                            part_pools(question, answer, False))
    return _answered_by(answer, quotes)


#: A question that compares or sets papers side by side ("Compare REST and DReSD.", "How do A and B differ?").
_COMPARES = re.compile(r"\b(?:compar\w*|versus|vs\.?|differ\w*|between|both|each|than|or)\b", re.IGNORECASE)


def quoted_papers(question: str, raw: str, answer: Answer, embed: Callable[[list[str]], np.ndarray]) -> Answer:
    """A refusal that only the checks made, for a question comparing two or more evidence papers it names by the
    names they go by ("Compare REST and DReSD": the model gave DReSD's gain to REST, and the check failed it):
    each named paper's sentence that best answers the question, quoted. ``answer`` otherwise (a question naming
    something no passage mentions is about a paper that is not there)."""
    if not _checks_refused(answer, raw) or not _COMPARES.search(question) or missing_names(question, answer.contexts):
        return answer
    asked = set(question_names(question))
    papers: dict[str, list[Context]] = {}
    for ctx in answer.contexts:
        if title_name(ctx.chunk.title) in asked or names_paper(question, ctx.chunk.title):
            papers.setdefault(ctx.chunk.paper_id, []).append(ctx)
    if len(papers) < 2:
        return answer
    quotes: list[SentenceCheck] = []
    shown: set[str] = set()
    for ctxs in list(papers.values())[:MAX_ADDED]:
        pick = _best_sentence(question, ctxs, embed)
        if pick:
            _quote(pick, quotes, shown)
    return _answered_by(answer, quotes)


def _checks_refused(answer: Answer, raw: str) -> bool:
    """The answer is a refusal the checks made: the model answered, and every sentence failed."""
    return answer.cannot_answer and not is_cannot_answer(raw)


def _answered_by(answer: Answer, quotes: list[SentenceCheck]) -> Answer:
    """The refusal ``answer`` made an answer of ``quotes`` (``answer`` itself when there are none)."""
    if not quotes:
        return answer
    return replace(answer, text="", cannot_answer=False, closest_papers=[], references=[], sentences=[]).extended(quotes)


def _asked_numbers(question: str, sentences: list[SentenceCheck], contexts: list[Context], cited: set[str],
                   embed: Callable[[list[str]], np.ndarray], shown: set[str], room: int,
                   pools: dict[str, list[Context]] | None = None) -> list[SentenceCheck]:
    """Quotes for the question's parts that ask a quantity ``sentences`` do not give (a part's quote from its
    ``pools`` entry when given)."""
    quotes: list[SentenceCheck] = []
    for part in question_parts(question) or [question]:
        pool = (pools or {}).get(part, contexts)
        pick = _asked_number(part, question, sentences, pool, cited, embed) if len(quotes) < room else None
        if pick:
            _quote(pick, quotes, shown)
    return quotes


def _asked_number(part: str, question: str, sentences: list[SentenceCheck], contexts: list[Context], cited: set[str],
                  embed: Callable[[list[str]], np.ndarray]) -> tuple[Context, str] | None:
    """For a part asking a quantity that no supported sentence on it answers with a number (one the question does
    not already give), the best sentence stating one: from the ``cited`` papers for a one-part question."""
    if not asks_number(part):
        return None
    given = result_numbers(question)
    # the words that set the part apart (not the lead all parts share); its own words when it has no others
    own = (dict(part_words(question)).get(part) or content_words(part) - _ASKING) if part != question else set()
    for s in sentences:  # "two iterations" answers "how many iterations" too
        if s.supported and result_numbers(s.text, spelled=True) - given and _share(own, word_forms(s.text)) >= PART_COVERED:
            return None
    pool = [c for c in contexts if c.chunk.paper_id in cited or part != question]
    with_number = [(c, s) for c, s in _pool(pool, whole=True) if result_numbers(_ORDINAL.sub(" ", s)) - given]
    # only sentences that name what is asked ("faster", "batch size", "Dice score"): a number about
    # something else answers nothing
    focus = asked_focus(part)
    named = [sum(_names(w, s) for w in focus) for _, s in with_number]
    if not any(named) and focus & _PERCENT_KINDS:  # "What accuracy does FFCV reach?": "… to 75% in only 20 mins"
        named = [int("%" in s and not _OTHER_QUANTITY.search(s)) for _, s in with_number]
    best = max(named, default=0)
    if focus and not best:
        return None
    return _best_of(part, [p for p, n in zip(with_number, named, strict=True) if n == best], embed)


#: What an answer says when it talks about what a question asks to quantify without giving any number.
NUMBER_GAP = "The retrieved passages do not give the number asked for."
#: Words that give a number without a digit ("on a single GPU", "once").
_ONE = re.compile(r"\b(?:one|single|once|twice|half|double)\b", re.IGNORECASE)


def numbers_unanswered(question: str, answer: Answer) -> bool:
    """Every part of the question asks a quantity ("What top-1 accuracy does LowFormer reach, and what throughput
    …?") and no supported sentence gives one ("LowFormer achieves similar or better accuracy … [1]"; the quotes
    for asked numbers, ``complete_answer``, have already been looked for)."""
    parts = question_parts(question) or [question]
    if answer.cannot_answer or not all(asks_number(p) for p in parts):
        return False
    given = result_numbers(question)
    supported = [s.text for s in answer.sentences if s.supported]
    return not any(result_numbers(t, spelled=True) - given or _ONE.search(t) for t in supported)


def state_number_gap(question: str, answer: Answer) -> Answer:
    """``answer`` saying plainly that the papers give no number, when it gives none to a question asking only
    numbers: what the papers state stays ("runs asymptotically faster than RNNs"), the gap cites nothing. Not
    when the answer already says what is missing, or when the asked kind's own gap will (``state_gaps``)."""
    if any(s.hedge for s in answer.sentences) or missing_kinds(question, answer.contexts):
        return answer
    return answer.extended([SentenceCheck.gap(NUMBER_GAP)]) if numbers_unanswered(question, answer) else answer


#: A part pointing back at what the part before it is about ("… and what regularization did *the paper* introduce?";
#: not "the work *that* adds convolutional tokens …", "the model *from* the paper that …": those describe another).
_PRONOUN = re.compile(r"\b(?:it|its|they|their|them|this|these|the\s+(?:paper|method|model|approach|authors|work|study)"
                      r"(?!\s+(?:that|which|who|whose|from|with|by|of|on|in|for|behind|called|named|proposed|introduced)"
                      r"\b))\b", re.IGNORECASE)


def part_pools(question: str, answer: Answer, elsewhere: bool) -> dict[str, list[Context]]:
    """For each part of the question (the question itself when it has one), the passages a quote for it may come
    from: the cited ones when the question names something no passage mentions (``elsewhere``); else those of
    papers mentioning every name of the part that singles out a paper (one evidence paper mentions it), a
    pronoun part ("what throughput does *it* reach") counting the names of the part before it, or, when none of
    those singles out a paper ("Which method …? Where did *it* beat …?"), the papers the answer's supported
    sentences cite; all passages when no name singles one out (so a part comparing two named papers gets no
    quote: none mentions both)."""
    contexts = answer.contexts
    parts = question_parts(question) or [question]
    if elsewhere:
        cited = [c for c in contexts if c.number in answer.citations]
        return dict.fromkeys(parts, cited)
    forms = paper_forms(contexts)
    answered = {n for s in answer.sentences if s.supported for n in s.citations}
    pools: dict[str, list[Context]] = {}
    for at, part in enumerate(parts):
        wanted = list(question_names(part))
        if at and _PRONOUN.search(part):
            wanted += question_names(parts[at - 1])
        singling = [n for n in wanted if sum(mentions(n, words) for words in forms.values()) == 1]
        keep = {pid for pid, words in forms.items() if all(mentions(n, words) for n in singling)}
        if not singling and at and _PRONOUN.search(part):  # "Which method …? Where did it beat …?": "it" is
            keep = {c.chunk.paper_id for c in contexts if c.number in answered}  # what the answer named
        pools[part] = [c for c in contexts if c.chunk.paper_id in keep] if singling or keep else contexts
    return pools


#: Asking how fast is answered by a speed ("3x faster", "a 2.1x speedup") or a duration ("to 75% in 20 mins").
_SPEED = frozenset({"fast", "quick", "quickly", "speed"})
_SPEED_WORDS = re.compile(r"\b(?:fast|quick|speed)\w*|\b(?:ms|secs?|seconds?|mins?|minutes?|hrs?|hours?|days?)\b",
                          re.IGNORECASE)


#: Quantities papers state as percentages: when no sentence with a number names the asked one, one with a "%" does,
#: unless it names another quantity ("reduces FLOPs by 40%").
_PERCENT_KINDS = frozenset({"accuracy", "accurate", "accurately"})
_OTHER_QUANTITY = re.compile(r"\b(?:flops|memory|param\w*|latency|throughput|errors?|speed\w*|faster|fewer|less"
                             r"|reduc\w*|compress\w*|sparsity|prun\w*|labels?|data|costs?|energy|size)\b", re.IGNORECASE)


def _names(word: str, sentence: str) -> bool:
    """``sentence`` names ``word``: a form of it, or a word sharing its first six letters ("accurately",
    "accuracy"); "%" names a percentage, a speed or a duration names how fast."""
    if word in ("percentage", "percent") and "%" in sentence:
        return True
    if word in _SPEED and _SPEED_WORDS.search(sentence):
        return True
    forms = word_forms(sentence)
    return mentions(word, forms) or (len(word) >= STEM and any(f[:STEM] == word[:STEM] for f in forms))


#: "the 8th century", "the 2nd stage": a position, not a quantity an asked number could be.
_ORDINAL = re.compile(r"\b\d+(?:st|nd|rd|th)\b", re.IGNORECASE)
#: A year ("2012", "(2021)", "2022b,") and a word numbering a part of a paper ("Table 2", "Fig. 4"): no quantity.
_YEAR = re.compile(r"\(?(?:19|20)\d\d[a-z]?\)?[.,;:]?")
_LABEL = re.compile(r"(?:Tables?|Tab\.|Fig(?:ure)?s?\.?|Sec(?:tion)?s?\.?|Eqs?\.|Equations?|Refs?\.)", re.IGNORECASE)


def _quantifies(focus: set[str], sentence: str, given: set[str] | frozenset[str] = frozenset()) -> bool:
    """A number of its own (not one the question ``given``, a year, or a table, figure or section number) stands
    within three words before a word naming the asked quantity or two after it ("1701 light curves", "1.2 million
    labelled images", "accuracy of 80.4%"). A name with digits is no quantity ("ResNet-18" would take "ResNet-20
    to 40.3%")."""
    focus = {f for f in focus if not any(ch.isdigit() for ch in f)}
    if not focus:
        return False
    words = sentence.split()
    counts = [bool(result_numbers(w) - given) and not _YEAR.fullmatch(w) and not (j and _LABEL.fullmatch(words[j - 1]))
              for j, w in enumerate(words)]
    return any(any(_names(f, word) for f in focus) and any(counts[max(0, i - 3):i] + counts[i + 1:i + 3])
               for i, word in enumerate(words))


_AUXILIARY = frozenset("do does did is are was were has have had can could will would should".split())


def asked_focus(part: str) -> set[str]:
    """The content words naming the quantity asked for: those of the asking phrase and the two words after
    it ("How much *faster* are …", "Up to what *batch size* …", "What *Dice score* …")."""
    match = asks_number(part)
    if not match:
        return set()
    if match.re is KEYWORD_QUANTITY:  # "Unicron speedup?": the quantity is the query's last words
        return content_words(match.group(1)) - _ASKING
    after = []
    for word in part[match.end():].split()[:2]:
        if word.lower() in _AUXILIARY:  # "How much do SCoRe and …": what follows the verb is not the quantity
            break
        after.append(word)
    return content_words(f"{match.group(0)} {' '.join(after)}") - _ASKING - {"what", "how", "up"}


def asked_change(part: str) -> set[str]:
    """The verb of "How much does Selfie *improve* ResNet-50 …?" (and its noun where they share no stem): the
    change asked for by an amount, after a subject of names. It ranks the sentences stating a number (the one
    with "an improvement of 11.1 points" over one listing "from 5% to 100% of the training sets") but rules
    none out: a paper may state it with another verb ("outperforms the current best by 9%")."""
    match = asks_number(part)
    if not match or match.re is KEYWORD_QUANTITY:
        return set()
    words = part[match.end():].split()
    return set(_change_verb(words[1:])) - {""} if words and words[0].lower() in _AUXILIARY else set()


#: Verbs that state a change by an amount: "How much does Selfie *improve* ResNet-50 …?" asks the improvement.
#: (the noun a paper may state it with instead, where the two share no six letters: "a 35% reduction").
_CHANGES = {"improve": "", "increase": "", "reduce": "reduction", "decrease": "", "cut": "", "boost": "", "raise": "",
            "lower": "", "shrink": "", "compress": "", "speed": "", "save": "savings", "gain": ""}
_SUBJECT_WORD = re.compile(r"^(?:the|a|an|it|they|this|its|their|and|[\w.+/-]*[A-Z0-9][\w.+/-]*)$")


def _change_verb(words: list[str]) -> list[str]:
    """The verb after a question's subject of names ("SCoRe and Thought Rollback improve"), when it states a
    change by an amount; [] otherwise."""
    for word in words[:6]:
        if not _SUBJECT_WORD.match(word):
            verb = word.lower().strip("?,.")
            return [verb, _CHANGES[verb]] if verb in _CHANGES else []
    return []


#: "Which dataset is it pre-trained on?", "what regularization technique did …": the kind of thing asked for by name.
_ASKED_KIND = re.compile(r"\b(?i:which|what)\s+(?:(?:kinds?|types?|sorts?)\s+of\s+)?(?:[a-z][\w-]*\s+)?([a-z][\w-]{2,})\s+"
                         rf"(?:{'|'.join(sorted(_AUXILIARY))})\b")
#: A name: a word with a capital after its first letter or a digit ("TotalSegmentator", "ImageNet-22K", "BERT").
_NAME = re.compile(r"^[(\"']?(?=[\w.+/-]*[A-Za-z])[A-Za-z]*[A-Z0-9][\w.+/-]*$")


def asked_kind(part: str) -> str:
    """The kind of thing a part asks for by name ("dataset" in "which dataset is it pre-trained on?"); "" when it
    asks a quantity or nothing of that form."""
    match = _ASKED_KIND.search(part)
    return match.group(1).lower() if match and not asks_number(part) else ""


def _names_kind(kind: str, sentence: str) -> bool:
    """A name stands within three words before a word naming ``kind`` or two after it ("the TotalSegmentator
    dataset", "a modified Mahalanobis distance", "datasets such as ImageNet" is three after, so not)."""
    if not kind:
        return False
    words = sentence.split()
    names = [j > 0 and bool(_NAME.match(w)) for j, w in enumerate(words)]  # a sentence's first word is capitalised
    return any(_names(kind, w) and any(names[max(0, i - 3):i] + names[i + 1:i + 3]) for i, w in enumerate(words))


def _best_sentence(question: str, contexts: list[Context],
                   embed: Callable[[list[str]], np.ndarray]) -> tuple[Context, str] | None:
    """The passage sentence that best answers ``question`` (one stating a number when a quantity is asked)."""
    return _best_of(question, _pool(contexts), embed)


def _pool(contexts: list[Context], whole: bool = False) -> list[tuple[Context, str]]:
    """Each passage's sentences: those the evidence shows, or (``whole``) every sentence of its chunk, since
    the evidence shows a chunk's best sentences only and the asked number may sit in another."""
    return [(c, s) for c in contexts for part in (c.chunk.text if whole else c.text).split(GAP.strip())
            for s in split_sentences(part) if s.strip()]


#: Where the code lives is not an answer unless the question asks for code.
_CODE = re.compile(r"https?://|\b(?:github|gitlab|huggingface)\b|\bcode (?:and \w+ )?(?:is|are) (?:publicly )?available",
                   re.IGNORECASE)
_ASKS_CODE = re.compile(r"\b(?:code|implementation|github|released?|open[- ]source|repository)\b", re.IGNORECASE)


def _best_of(question: str, pool: list[tuple[Context, str]],
             embed: Callable[[list[str]], np.ndarray]) -> tuple[Context, str] | None:
    if not _ASKS_CODE.search(question):
        pool = [(c, s) for c, s in pool if not _CODE.search(s)]
    focus, given = asked_focus(question), result_numbers(question)  # "how many light curves": "1701 light curves"
    pool = [p for p in pool if _quantifies(focus, p[1], given)] or pool  # before "light curves … 18 surveys"
    change = asked_change(question)  # "how much does Selfie improve …": "an improvement of 11.1 points" first
    pool = [p for p in pool if _quantifies(change, p[1], given)] or pool
    if len({c.chunk.paper_id for c, _ in pool}) == 1:  # "which dataset is it pre-trained on": of one paper's sentences,
        kind = asked_kind(question)  # "… on a large-scale TotalSegmentator dataset", not "… on datasets"
        pool = [p for p in pool if _names_kind(kind, p[1])] or pool
    if not pool:
        return None
    sentences = [s for _, s in pool]
    scores = blend(embed(sentences) @ embed([question])[0], frozenset(content_words(question)), sentences)
    if _QUANTITY.search(question):  # a result is asked for: a sentence that states one is the answer
        scores = scores + NUMBER_BONUS * np.array([bool(_NUMBER.search(s)) for s in sentences])
    return pool[int(np.argmax(scores))]


def _quote(pick: tuple[Context, str], added: list[SentenceCheck], shown: set[str]) -> None:
    """Add the sentence verbatim with its marker, unless the answer already holds it."""
    ctx, sentence = pick
    body = sentence.strip().rstrip(".") + f" [{ctx.number}]"
    if body in shown:
        return
    shown.add(body)
    added.append(SentenceCheck(text=body + ".", citations=[ctx.number], support=1.0, supported=True, quoted=True))
