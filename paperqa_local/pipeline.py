"""``PaperQA``: the one object every surface (CLI, Python, UI, evals) calls.

question -> retrieval -> evidence (event) -> answerability -> backend text (events) -> checked Answer (event).
The answer backend comes from the registry in ``llms/backends.py``; nothing here depends on which one it is.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from paperqa_local.answer import build_answer, not_answered
from paperqa_local.answerability import (
    answerable,
    apart_share,
    identifies,
    is_yes_no,
    missing_share,
    question_coverage,
)
from paperqa_local.asked_details import state_gaps, unstated_share
from paperqa_local.chunking import count_tokens
from paperqa_local.claim_verification import verify_claim
from paperqa_local.completeness import complete_answer, quoted_numbers, quoted_papers, state_number_gap
from paperqa_local.embedding import Embedder
from paperqa_local.embeddings import make_embedder
from paperqa_local.errors import PaperQAError
from paperqa_local.evidence import Evidence, select_evidence
from paperqa_local.followups import carry_names
from paperqa_local.library import Library, Subset
from paperqa_local.llms.backends import Backend, get_backend
from paperqa_local.prompts import load_prompts
from paperqa_local.question_parts import interleave, question_parts
from paperqa_local.quote_search import QuoteMatch, find_quote, locate_answer
from paperqa_local.records import Chunk, Hit, IndexReport, Paper, PaperInfo
from paperqa_local.results import Answer, Event, EventKind, Verdict
from paperqa_local.retrieval import Retriever
from paperqa_local.sentence_vectors import SentenceVectors
from paperqa_local.settings import Settings
from paperqa_local.verdict_answer import denial_answer, opens_with_verdict, verdict_answer
from paperqa_local.verdicts import calibration

log = logging.getLogger(__name__)

History = Sequence[tuple[str, str]] | Sequence[dict[str, str]]
ProgressFn = Callable[[int, int, str], None]
Candidates = tuple[list[Hit], list[Hit]]


class PaperQA:
    """Index papers and answer questions about them with verified citations.

    >>> qa = PaperQA(home="~/papers-lib")          # doctest: +SKIP
    >>> qa.add(["papers/"]).summary()              # doctest: +SKIP
    >>> print(qa.ask("What does FFCV speed up?").to_markdown())  # doctest: +SKIP
    """

    def __init__(self, home: str | Path | None = None, settings: Settings | None = None,
                 config: str | Path | None = None, embedder: Embedder | None = None, **overrides: Any) -> None:
        """``embedder``: an already loaded ``Embedder`` to share (benches, several libraries in one process)."""
        self._given_embedder = embedder
        if settings is None:
            settings = Settings.load(config, home=home, **overrides)
        else:
            settings = settings.with_overrides(home=Path(home).expanduser() if home else None, **overrides)
        self.settings = settings
        self.prompts = load_prompts(settings.prompts_dir)
        self._open_library()

    # ----------------------------------------------------------------- library
    def _open_library(self) -> None:
        s = self.settings
        given = self._given_embedder
        same = given is not None and given.model_name == s.embed_model and given.backend == s.embed_backend
        self.embedder = given if same else make_embedder(s)
        self.sentence_vectors = SentenceVectors(self.embedder.embed, max_items=s.sentence_cache)
        self.library = Library(s, self.embedder)
        self.retriever = Retriever(self.library, self.embedder, self.sentence_vectors)

    def add(self, paths: str | Path | Sequence[str | Path], progress: bool = True,
            on_progress: ProgressFn | None = None) -> IndexReport:
        """Index files, folders or globs; bad files are reported in the result, never raised."""
        if isinstance(paths, (str, Path)):
            paths = [paths]
        return self.library.add(list(paths), self.settings, progress=progress, on_progress=on_progress)

    def add_papers(self, papers: Sequence[Paper], progress: bool = True,
                   on_progress: ProgressFn | None = None) -> IndexReport:
        """Index papers built in code (a BEIR corpus, a dataset), grouped by ``paper.source`` like files."""
        return self.library.add_papers(papers, progress=progress, on_progress=on_progress)

    def add_library(self, bibtex: str | Path | None = None, zotero: str | Path | None = None, progress: bool = True,
                    on_progress: ProgressFn | None = None) -> IndexReport:
        """Index a BibTeX file's or a Zotero data directory's attachments, with the library's metadata,
        collections and tags; run again, it picks up additions and removals (see ``Library.add_entries``)."""
        from paperqa_local.readers.bibtex import read_bibtex
        from paperqa_local.readers.zotero import read_zotero

        if (bibtex is None) == (zotero is None):
            raise PaperQAError("add_library: give one of bibtex= or zotero=")
        kind, given = ("bibtex", bibtex) if bibtex is not None else ("zotero", zotero)
        where = Path(str(given)).expanduser().absolute()
        entries = read_bibtex(where) if kind == "bibtex" else read_zotero(where)
        return self.library.add_entries(entries, f"{kind}:{where}", progress=progress, on_progress=on_progress)

    def labels(self) -> dict[str, list[str]]:
        """Collection and tag names from indexed libraries: the values ``collection=`` / ``tag=`` take."""
        return self.library.labels()

    def papers(self) -> list[PaperInfo]:
        return self.library.papers()

    def remove(self, paper_id: str) -> PaperInfo:
        return self.library.remove(paper_id)

    def stats(self) -> dict[str, int]:
        """Papers, chunks, vectors and keyword entries: equal chunk counts mean the stores are in step."""
        return self.library.stats()

    def all_chunks(self) -> Iterator[Chunk]:
        """Every indexed chunk, in a stable order."""
        return self.library.all_chunks()

    def search(self, query: str, k: int | None = None, mode: str | None = None, *, collection: str | None = None,
               tag: str | None = None) -> list[Hit]:
        """Hybrid (or ``mode``) search: the passages, best first, at most ``per_paper_cap`` per paper
        (of the papers in ``collection`` / with ``tag`` only, when given)."""
        return self._retriever(self.library.subset(collection, tag)).retrieve(query, self.settings, k=k, mode=mode)

    def find_quote(self, text: str, *, collection: str | None = None, tag: str | None = None) -> list[QuoteMatch]:
        """Where ``text`` is quoted: passages holding it exactly or near-exactly, with page and section."""
        return find_quote(self.library.subset(collection, tag), text)

    def _retriever(self, view: Library | Subset) -> Retriever:
        """The retriever over ``view``: the library itself, or a collection / tag ``Subset`` of it."""
        return self.retriever if view is self.library else Retriever(view, self.embedder, self.sentence_vectors)

    def candidates(self, query: str, depth: int | None = None, mode: str | None = None) -> Candidates:
        """The dense and BM25 candidate lists before fusion, best first (empty when ``mode`` skips one).

        With ``rank`` this splits ``search`` in two, so a settings sweep retrieves each query once.
        """
        s = self.settings
        return self.retriever.candidates(query, s, depth or s.k, mode or s.retrieval_mode)

    def rank(self, query: str, candidates: Candidates, k: int | None = None, mode: str | None = None,
             **overrides: Any) -> list[Hit]:
        """Fuse, re-rank and cap ``candidates`` under these settings (the candidates are not modified)."""
        s = self.settings.with_overrides(**overrides)
        dense, sparse = ([copy.copy(h) for h in hits] for hits in candidates)
        return self.retriever.rank(query, dense, sparse, s, k or s.k, mode or s.retrieval_mode)

    def update_settings(self, **overrides: Any) -> Settings:
        """Change settings for later calls (the UI's settings panel); reopens the library if needed."""
        new = self.settings.with_overrides(**overrides)
        changed = {k for k in overrides if getattr(new, k) != getattr(self.settings, k)}
        self.settings = new
        if "prompts_dir" in changed:
            self.prompts = load_prompts(new.prompts_dir)
        if changed & Settings.fields_tagged("reopen"):
            self.library.close()
            self._open_library()
        self.sentence_vectors.max_items = new.sentence_cache
        return new

    def close(self) -> None:
        self.library.close()

    def backend(self, settings: Settings | None = None) -> Backend:
        """The answer backend ``settings.llm`` names (see ``llms/backends.py``)."""
        return get_backend(settings or self.settings, self.prompts, self.sentence_vectors)

    def warm_up(self) -> None:
        """Load the embedder, keyword index and answer model now (a local model also reads the fixed system
        prompt once), so the first question costs what every later one does. The UI runs this at start-up;
        evals run it before timing. A model that cannot load fails here, clearly."""
        self.backend().warm_up()
        self.retriever.retrieve("warm up", self.settings, k=1)

    # ----------------------------------------------------------------- answers
    def ask(self, question: str, *, instruction: str | None = None, **overrides: Any) -> Answer:
        """Answer ``question`` from the indexed papers (see ``stream`` for the steps and ``instruction``)."""
        return _final(self.stream(question, instruction=instruction, **overrides))

    def chat(self, history: History, question: str, *, instruction: str | None = None, **overrides: Any) -> Answer:
        """Answer a follow-up: it is first rewritten as a stand-alone question, then answered."""
        return _final(self.stream_chat(history, question, instruction=instruction, **overrides))

    def stream_chat(self, history: History, question: str, *, instruction: str | None = None,
                    collection: str | None = None, tag: str | None = None, **overrides: Any) -> Iterator[Event]:
        s = self.settings.with_overrides(**overrides)
        turns = _turns(history)
        overrides.update(collection=collection, tag=tag)
        if not turns:
            yield from self.stream(question, instruction=instruction, **overrides)
            return
        t0 = time.perf_counter()
        standalone = self.condense(turns, question, s)
        condense_s = time.perf_counter() - t0
        for event in self.stream(standalone, _display_question=question, instruction=instruction, **overrides):
            if event.answer is not None:
                event.answer.standalone_question = standalone
                event.answer.timings["condense_s"] = round(condense_s, 3)
            yield event

    def condense(self, turns: list[tuple[str, str]], question: str, settings: Settings | None = None) -> str:
        """Rewrite a follow-up as a stand-alone question (the model's job; a plain join for extractive), keeping
        the names of the conversation's last question that the rewrite dropped (``followups.carry_names``)."""
        return carry_names(self.backend(settings).condense(turns, question), turns, question)

    def stream(self, question: str, _display_question: str | None = None, *, instruction: str | None = None,
               collection: str | None = None, tag: str | None = None, **overrides: Any) -> Iterator[Event]:
        """Yield an "evidence" event, then "token" events, then one "answer" event.

        ``instruction`` (say, "Begin your answer with Yes, No or Maybe.") goes to the model after the question
        and nowhere else: retrieval and the does-the-evidence-answer check see the question alone.
        Closing the generator (a UI stop button) stops the model mid-answer. ``collection`` / ``tag``: only
        those papers. A page / quote / definition question is answered from chunk locations (``quote_search``).
        """
        question = question.strip()
        if not question:
            raise PaperQAError("question: empty question")
        s = self.settings.with_overrides(**overrides)
        shown = _display_question or question
        t0 = time.perf_counter()
        view = self.library.subset(collection, tag)
        located = locate_answer(question, view, shown)
        if located is not None:
            located.timings["total_s"] = round(time.perf_counter() - t0, 3)
            yield Event(EventKind.EVIDENCE, contexts=located.contexts)
            yield Event(EventKind.ANSWER, answer=located)
            return
        backend = self.backend(s)
        retriever = self._retriever(view)
        hits = retriever.retrieve(question, s)
        parts = question_parts(question) if s.question_parts else []
        echoes: tuple[str, ...] = ()  # instructions the model may write back into its reply
        if parts:  # each part's own best passages join the whole question's, in turn
            hits = interleave([hits] + [retriever.retrieve(p, s) for p in parts], s.k + 2 * len(parts))
            numbered = " ".join(f"({i}) {p}" for i, p in enumerate(parts, start=1))
            asked = self.prompts.render("parts_instruction", parts=numbered, count=len(parts))
            instruction = f"{instruction.strip()} {asked}" if instruction else asked
            echoes = (asked.strip(),)
        retrieval_s = time.perf_counter() - t0
        evidence = self._evidence(question, hits, s, backend, parts)
        evidence_s = time.perf_counter() - t0
        yield Event(EventKind.EVIDENCE, contexts=evidence.contexts)

        timings = {"retrieval_s": round(retrieval_s, 3), "evidence_s": round(evidence_s, 3)}
        fields: dict[str, Any] = {"backend": s.llm, "model": backend.label, "timings": timings, "usage": {}}
        idf = self.library.idf()
        scores = {"relevance": round(evidence.best_relevance, 4),
                  "coverage": round(question_coverage(question, evidence.contexts, idf), 4),
                  "missing": round(missing_share(question, evidence.contexts, idf), 4),
                  "unstated": round(unstated_share(question, evidence.contexts), 4),
                  "identifies": float(identifies(question))}
        yes_no = is_yes_no(question)
        if yes_no:  # its answer relates what it names: some paper must mention them together
            scores["apart"] = round(apart_share(question, evidence.contexts, idf), 4)
        weights = calibration("answerability", backend.label)
        # The model's probability costs a prompt evaluation; it is free (KV cache) only when the answer
        # follows, so read it when a calibration uses it, when the thresholds answer, or when asked to.
        wanted = "model" in weights or s.score_refusals or answerable(scores, {}, s)
        opening: dict[str, float] = {}  # the answer prompt's own yes/no/maybe log-probabilities
        if evidence.contexts and scores["relevance"] >= s.min_relevance and wanted:
            model_p, opening = backend.answer_probability(question, evidence, instruction, verdict=yes_no)
            if model_p is not None:
                scores["model"] = round(model_p, 4)
        fields["answerability"] = scores
        refused = not evidence.contexts or not answerable(scores, weights, s)
        if yes_no and (not refused or (s.score_refusals and evidence.contexts)):
            decision = backend.decide("verdict", question, evidence, opening)  # scored on refusals too when asked,
            fields["verdict"] = decision.to_dict() if decision else None  # so calibration sees every question
        if refused:
            log.info("not answered: %s", scores)
            timings["total_s"] = round(time.perf_counter() - t0, 3)
            yield Event(EventKind.ANSWER, answer=not_answered(shown, evidence.contexts, about=question, **fields))
            return

        parts: list[str] = []
        for piece in backend.answer(question, evidence, instruction=instruction):
            if not parts:
                timings["first_token_s"] = round(time.perf_counter() - t0, 3)
            parts.append(piece)
            yield Event(EventKind.TOKEN, text=piece)
        timings["llm_s"] = round(time.perf_counter() - t0 - evidence_s, 3)
        fields["usage"] = backend.usage
        raw = "".join(parts)
        truncated = backend.usage.get("completion_tokens", 0) >= s.max_tokens  # the token limit ended it
        answer = build_answer(shown, raw, evidence.contexts, self.sentence_vectors, s.support_threshold,
                              truncated=truncated, echoes=echoes, about=question, raw_text=raw, **fields)
        # refused, or its yes/no prose failed the checks: the evidence may say "no" in so many words
        denied = denial_answer(shown, evidence, self.sentence_vectors, raw_text=raw, **fields) \
            if yes_no and answer.cannot_answer else None
        if denied is not None:
            answer = denied
        elif answer.cannot_answer and fields.get("verdict") and opens_with_verdict(raw):
            # a yes/no answer whose prose failed the checks: the scored verdict with quoted evidence
            answer = verdict_answer(shown, evidence, self.sentence_vectors, raw_text=raw, **fields) or answer
        elif s.complete_answers:
            rescued = quoted_papers(question, raw, quoted_numbers(question, raw, answer, self.sentence_vectors),
                                    self.sentence_vectors)
            answer = complete_answer(question, rescued, self.sentence_vectors)
            answer = state_number_gap(question, answer)
        answer = state_gaps(question, answer)
        timings["total_s"] = round(time.perf_counter() - t0, 3)
        yield Event(EventKind.ANSWER, answer=answer)

    def verify(self, claim: str, **overrides: Any) -> Verdict:
        """Is ``claim`` supported, contradicted, or not addressed by the papers? With the sentences behind it."""
        claim = claim.strip()
        if not claim:
            raise PaperQAError("claim: empty claim")
        s = self.settings.with_overrides(**overrides)
        backend = self.backend(s)
        t0 = time.perf_counter()
        evidence = self._evidence(claim, self.retriever.retrieve(claim, s), s, backend)
        evidence_s = time.perf_counter() - t0
        verdict = verify_claim(claim, evidence, backend, self.sentence_vectors)
        verdict.timings = {"evidence_s": round(evidence_s, 3), "total_s": round(time.perf_counter() - t0, 3)}
        return verdict

    # ----------------------------------------------------------------- internals
    def _evidence(self, question: str, hits: list[Hit], s: Settings, backend: Backend,
                  parts: Sequence[str] = ()) -> Evidence:
        evidence = select_evidence(question, hits, self.sentence_vectors, self.embedder.embed_query(question),
                                   count_tokens, s.evidence_budget,
                                   parts=[(p, self.embedder.embed_query(p)) for p in parts])
        if s.summarize_evidence and evidence.contexts:
            backend.summarize(question, evidence)
        return evidence


def _final(events: Iterator[Event]) -> Answer:
    answer = None
    for event in events:
        if event.kind is EventKind.ANSWER:
            answer = event.answer
    assert answer is not None
    return answer


def _turns(history: History) -> list[tuple[str, str]]:
    """Accept (user, assistant) pairs or OpenAI-style message dicts."""
    turns: list[tuple[str, str]] = []
    pending_user: str | None = None
    for item in history:
        if isinstance(item, dict):
            role, content = item.get("role"), str(item.get("content") or "")
            if role == "user":
                pending_user = content
            elif role == "assistant" and pending_user is not None:
                turns.append((pending_user, content))
                pending_user = None
        else:
            user, assistant = item
            turns.append((str(user), str(assistant or "")))
    return turns
