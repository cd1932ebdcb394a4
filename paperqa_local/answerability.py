"""Does the evidence talk about what the question asks? An IDF-weighted term coverage.

Dense similarity alone cannot tell "a passage about the same field" from "a passage that
answers": a question about Whisper on LibriSpeech still lands near speech papers. The
rare words of a question (names, datasets, the asked-for quantity) carry most of its IDF;
when no single evidence passage holds enough of that weight, the papers do not answer.
The threshold (``Settings.min_coverage``) was chosen on the tune parts of the four question sets; the IDF
comes from the library (``Library.idf``).

Coverage alone cannot tell a paraphrase (the right paper, worded without its rare terms) from a
near miss (a question about a model or dataset the papers never name). Names separate them: a
question naming something (PaLM, GSM8K, Whisper, large-v2) that no evidence passage mentions is
about another paper, however close the rest of it lands; a paraphrase, by construction, names
nothing the passages lack. ``missing_names`` is that signal, a share of the question's IDF weight.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from typing import Protocol

import numpy as np

from paperqa_local.results import Context
from paperqa_local.text_rules import KEYWORD_QUANTITY, STOPWORDS, content_words


class Thresholds(Protocol):
    """The settings the threshold rule reads (``Settings`` has them)."""

    min_relevance: float
    min_coverage: float
    max_missing: float
    max_unstated: float
    max_apart: float
    min_identify_coverage: float


def question_coverage(question: str, contexts: Sequence[Context], idf: Callable[[str], float]) -> float:
    """Largest share of the question's IDF weight found in one passage (title included), 0..1."""
    words = content_words(question)
    total = sum(idf(w) for w in words)
    if not words or total <= 0:
        return 1.0
    best = 0.0
    for ctx in contexts:
        pool = content_words(f"{ctx.chunk.title} {ctx.chunk.text}")
        best = max(best, sum(idf(w) for w in words & pool) / total)
    return best


_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-]*")


def question_names(question: str) -> list[str]:
    """The question's names, one word each, as written: words with a capital past their first letter
    (ConvNeXt, GSM8K), letters with digits (large-v2, 540B), or a capital not at the question's start
    (Whisper). ``claim_checks.names`` finds the phrase-level names of answer sentences."""
    found: list[str] = []
    title_case = _title_case(question)
    shouted = _shouted(question)
    for i, m in enumerate(_TOKEN.finditer(question)):
        word = _DESCRIBING.sub("", m.group().strip("-"))  # "SimCLRv2-based" names SimCLRv2
        if len(word) < 2 or word.lower() in STOPWORDS or word.isdigit():
            continue
        if shouted:  # in capitals throughout, only letters with digits (GSM8K, V2) still mark a name
            if any(c.isdigit() for c in word) and any(c.isalpha() for c in word):
                found.append(word)
            continue
        inner_capital = any(c.isupper() for c in word[1:])
        digits = any(c.isdigit() for c in word) and any(c.isalpha() for c in word)
        capitalised = i > 0 and word[0].isupper() and not title_case
        if inner_capital or digits or capitalised:
            found.append(word)
    return found


#: A suffix that makes a name describe something else ("SimCLRv2-based", "GPT-style", "LiDAR-guided").
_DESCRIBING = re.compile(r"(?<=\w)-(?:based|style|like|type|driven|powered|guided|inspired|enhanced|only|specific"
                         r"|free|aware|level|scale|sized|wise)$", re.IGNORECASE)


def _title_case(question: str) -> bool:
    """Most of the question's longer words are capitalised ("Is Acupuncture Efficacious for Treating …?"):
    a capital then marks the style, not a name. Words with a capital inside (ImageNet) are names in any style
    and do not count: "What top-1 accuracy does Patternformer get on ImageNet?" is not title case."""
    words = [w for w in re.findall(r"[A-Za-z]{4,}", question)[1:]
             if w.lower() not in STOPWORDS and not any(c.isupper() for c in w[1:])]
    # three capitalised words at least: "What does Gaussian Splatting achieve?" names Gaussian Splatting
    capitalised = sum(w[0].isupper() for w in words)
    return capitalised >= 3 and capitalised >= 0.6 * len(words)


def _shouted(question: str) -> bool:
    """Written in capitals throughout ("WHAT ACCURACY DOES MEAL V2 REACH?"): case marks no name."""
    words = re.findall(r"[A-Za-z]{2,}", question)
    return len(words) >= 4 and sum(w.isupper() for w in words) >= 0.8 * len(words)


def _forms(word: str) -> set[str]:
    """A word as it can be matched: lower case, without hyphens, without a plural or possessive s."""
    w = word.lower().replace("-", "")
    return {w, w[:-1]} if w.endswith("s") and len(w) > 3 else {w}


def paper_forms(contexts: Sequence[Context]) -> dict[str, set[str]]:
    """Each evidence paper's ``word_forms``: its title and the whole chunks of its passages (a passage shows a
    chunk's best sentences only; a name may sit in another)."""
    forms: dict[str, set[str]] = {}
    for ctx in contexts:
        forms.setdefault(ctx.chunk.paper_id, word_forms(ctx.chunk.title)).update(word_forms(ctx.chunk.text))
    return forms


def title_head(title: str) -> str:
    """A title's part before its colon ("FFCV" of "FFCV: Accelerating Training …"); "" without a colon."""
    head, colon, _ = title.partition(":")
    return head.strip() if colon else ""


#: A title head that reads as a name: an inner capital or a digit (DReSD, MEAL V2, CfA3) or an acronym (REST).
_NAME_LIKE = re.compile(r"[A-Za-z][a-z]*[A-Z0-9][A-Za-z0-9-]*|[A-Z]{2,}[a-z0-9]*")


def title_name(title: str) -> str:
    """The name a paper goes by, as its title writes it: a head of up to three words one of which reads as a
    name ("REST", "DReSD", "MEAL V2"); "" otherwise ("Batch Normalization: …", "A: …")."""
    head = title_head(title)
    words = head.split()
    if not 0 < len(words) <= 3 or not any(_NAME_LIKE.fullmatch(w) for w in words):
        return ""
    return "" if re.match(r"(?i)(?:figure|fig\.?|table|appendix|section|chapter)\b", head) else head


def names_paper(question: str, title: str) -> bool:
    """The question names the paper by its title, or by the title's part before a colon ("Stable ResNet",
    "'Prefix Conditioning Unifies Language and Label Supervision'"): two words at least, and as written
    (case included) when under four words, so "two at once" in a sentence is not the paper "Two at Once".
    Hyphens and spaces between the title's words are one ("single-layer single-gradient" names "Single Layer
    Single Gradient …"; "retrieval based" names "Retrieval-Based …"). A name spelling the title's words
    ("SN-Net": Stitchable Neural Networks) names it too."""
    if any(abbreviates(name, title) for name in question_names(question)):
        return True
    for name in dict.fromkeys((title, title_head(title) or title)):
        words = re.split(r"[\s-]+", name.strip(" \"'?.!"))  # "Are Transformers Effective …?" named without its "?"
        if len(name.split()) < 2:
            continue
        pattern = r"(?<![\w-])" + r"[\s-]+".join(re.escape(w) for w in words if w) + r"(?![\w-])"
        if re.search(pattern, question, 0 if len(name.split()) < 4 else re.IGNORECASE):
            return True
    return False


def abbreviates(name: str, title: str) -> bool:
    """``name`` spells the words of ``title``, three at least, each capitalised, in order: each capital run gives
    one word's initial per letter, a capitalised piece starts a word ("SN-Net": Stitchable, Neural, Networks).
    "SN-Netv2" spells no title ("Netv2" starts no word); a review's title ("Large Language Models: A Survey")
    is not spelled by "LLM", nor is a title in sentence case ("Chronic kidney disease") by "CKD"."""
    words = [w.strip("\"'()[]{}“”‘’:,.?!") for w in re.split(r"[\s-]+", title)]
    words = [w for w in words if w and w.lower() not in STOPWORDS]  # "Learning *to* Prompt *for* …"
    if len(words) < 3 or not all(w[0].isupper() for w in words) or not re.fullmatch(r"[A-Za-z]+(?:-[A-Za-z]+)*", name):
        return False
    at = 0
    for piece in re.findall(r"[A-Z]+(?![a-z])|[A-Z][a-z]+|[a-z]+", name):
        if piece.isupper():
            for letter in piece:
                if at >= len(words) or words[at][0] != letter:
                    return False
                at += 1
        else:
            if at >= len(words) or not words[at].lower().startswith(piece.lower()):
                return False
            at += 1
    return at == len(words)


def word_forms(text: str) -> set[str]:
    """Every form (``_forms``) of the words of ``text``, of their hyphen-separated parts, and of a word joined to
    a short next one ("Llama 2", "YOLO v8" are forms of Llama-2 and YOLOv8)."""
    pool: set[str] = set()
    tokens = _TOKEN.findall(text)
    for i, token in enumerate(tokens):
        after = tokens[i + 1] if i + 1 < len(tokens) else ""
        pool |= _forms(token)
        pool.update(f for part in token.split("-") if part for f in _forms(part))
        if after and len(after) <= 3 and any(c.isdigit() for c in after):
            pool |= _forms(token + after)
    return pool


def mentions(name: str, pool: AbstractSet[str]) -> bool:
    """``name`` is among the ``word_forms`` in ``pool``; a hyphenated name also when each of its parts is
    (``BERT-large`` in "BERT large")."""
    if _forms(name) & pool:
        return True
    parts = [p for p in name.split("-") if len(p) >= 2]
    return len(parts) > 1 and all(_forms(p) & pool for p in parts)


def missing_names(question: str, contexts: Sequence[Context]) -> list[str]:
    """The question's names that no passage (title included) mentions."""
    wanted = question_names(question)
    if not wanted:
        return []
    pool = word_forms(" ".join(f"{ctx.chunk.title} {ctx.chunk.text}" for ctx in contexts))
    return [n for n in wanted if not mentions(n, pool)]


def missing_share(question: str, contexts: Sequence[Context], idf: Callable[[str], float]) -> float:
    """Share of the question's IDF weight (content words and names) on names no passage mentions, 0..1."""
    return _name_share(question, missing_names(question, contexts), idf)


def _name_share(question: str, names: list[str], idf: Callable[[str], float]) -> float:
    if not names:
        return 0.0
    words = content_words(question) | {n.lower() for n in question_names(question)}
    total = sum(idf(w) for w in words)
    lost = sum(idf(n.lower()) for n in set(names))
    return min(1.0, lost / total) if total > 0 else 1.0


def apart_names(question: str, contexts: Sequence[Context]) -> list[str]:
    """The question's names that evidence papers mention, but no paper together with the rest: those the paper
    mentioning the most of them (the first such in rank order) lacks. "Is RESTGPT built on GPT-4?" over RESTGPT's
    abstract, which never names GPT-4, and another paper's GPT-4 sentence: ``["GPT-4"]``. Names no passage
    mentions are ``missing_names``'s, and are left out here."""
    forms = list(paper_forms(contexts).values())
    names = list(dict.fromkeys(n for n in question_names(question) if any(mentions(n, f) for f in forms)))
    if len(names) < 2:
        return []
    best = max(forms, key=lambda f: sum(mentions(n, f) for n in names))  # max keeps the first of equals
    return [n for n in names if not mentions(n, best)]


def apart_share(question: str, contexts: Sequence[Context], idf: Callable[[str], float]) -> float:
    """Share of the question's IDF weight (content words and names) on ``apart_names``, 0..1: for a yes/no
    question, the weight of what no paper states in relation to the rest of what is asked."""
    return _name_share(question, apart_names(question, contexts), idf)


# --- the decision -------------------------------------------------------------------------
#: Features the decision reads: retrieval relevance, term coverage, the weight of names no passage mentions,
#: and (when the backend gives token probabilities) the model's own probability that it will answer rather
#: than write the sentinel.
FEATURES = ("relevance", "coverage", "missing", "model")


def answerable(scores: dict[str, float], weights: dict[str, float], thresholds: Thresholds) -> bool:
    """Answer or refuse, from scores.

    A question asking only kinds of detail that no passage about its subject states (``max_unstated``), a yes/no
    question whose names no one paper mentions together (``max_apart``; the score is read for yes/no questions
    only), or which paper fits a description no passage holds much of (``min_identify_coverage``), is refused
    first, whatever the rest. With weights calibrated for this backend and model (``calibration.json``,
    fitted on the tuning parts by ``fit_answerability``): a logistic score ``bias + sum(w * feature) >= 0``, the model's
    probability entering as its log-odds. Without them: the thresholds from the settings.
    """
    if scores.get("unstated", 0.0) >= thresholds.max_unstated:
        return False  # the papers state none of the asked kinds of detail: no weighting outvotes that
    if scores.get("apart", 0.0) >= thresholds.max_apart:
        return False  # a yes/no question relating names no one paper mentions together: none states the relation
    if scores.get("identifies") and scores["coverage"] < thresholds.min_identify_coverage:
        return False  # "Which paper …?" whose description no passage holds: any paper named would be a wrong one
    if weights and all(f in scores for f in FEATURES if f in weights):
        return _z(scores, weights) >= 0
    return (scores["relevance"] >= thresholds.min_relevance and scores["coverage"] >= thresholds.min_coverage
            and scores.get("missing", 0.0) < thresholds.max_missing)


def _z(scores: dict[str, float], weights: dict[str, float]) -> float:
    z = weights.get("bias", 0.0)
    for name in FEATURES:
        if name in weights and name in scores:
            z += weights[name] * (_logit(scores[name]) if name == "model" else scores[name])
    return z


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def fit_answerability(rows: list[tuple[dict[str, float], bool]], features: Sequence[str],
                      l2: float = 0.01, steps: int = 3000, lr: float = 0.5) -> dict[str, float]:
    """Logistic regression (answerable or not) over ``features``, fitted by gradient descent.

    Classes are weighted equally, so a set with few unanswerable questions still teaches refusal.
    """
    if not rows:
        return {}
    x = np.array([[(_logit(r[f]) if f == "model" else r[f]) for f in features] for r, _ in rows], dtype=float)
    y = np.array([1.0 if ok else 0.0 for _, ok in rows])
    pos = max(y.sum(), 1.0)
    neg = max(len(y) - y.sum(), 1.0)
    sample_w = np.where(y == 1, len(y) / (2 * pos), len(y) / (2 * neg))
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    xs = (x - mean) / std
    w = np.zeros(xs.shape[1])
    b = 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(xs @ w + b)))
        g = (p - y) * sample_w
        w -= lr * (xs.T @ g / len(y) + l2 * w)
        b -= lr * g.mean()
    # back to raw feature units
    raw_w = w / std
    out = {f: float(v) for f, v in zip(features, raw_w, strict=True)}
    out["bias"] = float(b - (raw_w * mean).sum())
    return out


#: "Which paper / method / model …?": the answer names one, and so asserts the question's description of it.
_IDENTIFIES = re.compile(r"^\s*(?:which|what)\s+(?:papers?|works?|stud(?:y|ies)|articles?|methods?|approach(?:es)?"
                         r"|models?|frameworks?|techniques?|systems?|architectures?|algorithms?)\b", re.IGNORECASE)


def identifies(question: str) -> bool:
    """The question asks which paper or method fits a description ("Which paper proposes a decoder for …?")."""
    return bool(_IDENTIFIES.match(question))


_YES_NO = re.compile(r"^\s*(?:is|are|was|were|do|does|did|can|could|should|would|will|has|have|had|may|might|must)\b",
                     re.IGNORECASE)


_WH = re.compile(r"\b(?:what|which|who|whom|whose|when|where|why|how)\b", re.IGNORECASE)
#: a request, not a yes/no question: "Can you tell me how fast FFCV trains?", "List the datasets HBFormer uses?"
_REQUEST = re.compile(r"^\s*(?:(?:can|could|would|will)\s+you\s+(?:please\s+)?|please\s+)?(?:tell|list|explain|"
                      r"describe|summari[sz]e|give|name|show|outline|walk|compare)\b(?!.*\b(?:whether|if)\b)",
                      re.IGNORECASE)


def is_yes_no(question: str) -> bool:
    """A question a verdict (yes/no/maybe) answers: it, or a clause after a colon or full stop, opens with
    an auxiliary verb ("Does X improve Y?", "Double balloon enteroscopy: is it efficacious and safe?"),
    or it asks with no question word at all ("The nurse cystoscopist: a feasible option?"); a request ("Can you
    tell me …", "List …") or a keyword query naming a quantity ("Unicron speedup?") is not one unless it asks
    whether."""
    question = question.strip()
    if _REQUEST.match(question) or KEYWORD_QUANTITY.match(question):
        return False
    if question.endswith("?") and not _WH.search(question):
        return True
    return any(_YES_NO.match(clause) for clause in re.split(r"(?<=[.:;?])\s+", question))
