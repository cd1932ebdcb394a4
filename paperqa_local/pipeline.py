"""``PaperQA``: the one object every surface (CLI, Python, UI, evals) calls.

question -> retrieval -> evidence (event) -> prompt -> model tokens (events) -> checked Answer (event).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from paperqa_local.answer import build_answer, not_answered
from paperqa_local.chunking import count_tokens
from paperqa_local.coverage import TermStats, question_coverage
from paperqa_local.embedding import Embedder
from paperqa_local.errors import PaperQAError
from paperqa_local.evidence import Evidence, select_evidence
from paperqa_local.library import Library
from paperqa_local.llms.extractive import extractive_answer
from paperqa_local.prompts import load_prompts
from paperqa_local.records import Answer, Event, Hit, IndexReport, PaperInfo
from paperqa_local.retrieval import Retriever
from paperqa_local.sentence_vectors import SentenceVectors
from paperqa_local.settings import Settings

log = logging.getLogger(__name__)

# Settings whose change means another store or embedding space.
_LIBRARY_FIELDS = {"home", "chroma_url", "embed_model", "embed_batch_size", "chunk_size", "chunk_overlap"}
History = Sequence[tuple[str, str]] | Sequence[dict[str, str]]


class PaperQA:
    """Index papers and answer questions about them with verified citations.

    >>> qa = PaperQA(home="~/papers-lib")          # doctest: +SKIP
    >>> qa.add(["papers/"]).summary()              # doctest: +SKIP
    >>> print(qa.ask("What does FFCV speed up?").to_markdown())  # doctest: +SKIP
    """

    def __init__(self, home: str | Path | None = None, settings: Settings | None = None,
                 config: str | Path | None = None, **overrides: Any) -> None:
        if settings is None:
            settings = Settings.load(config, home=home, **overrides)
        else:
            settings = settings.with_overrides(home=Path(home).expanduser() if home else None, **overrides)
        self.settings = settings
        self.prompts = load_prompts(settings.prompts_dir)
        self._generate_lock = threading.Lock()  # llama.cpp is not re-entrant: one generation at a time
        self._open_library()

    # ----------------------------------------------------------------- library
    def _open_library(self) -> None:
        s = self.settings
        self.embedder = Embedder(s.embed_model, batch_size=s.embed_batch_size)
        self.sentence_vectors = SentenceVectors(self.embedder.embed)
        self.library = Library(s, self.embedder)
        self.retriever = Retriever(self.library, self.embedder, self.sentence_vectors)
        manifest = self.library.manifest
        self.term_stats = TermStats(lambda: (manifest.generation, manifest.texts()[1]))

    def add(self, paths: str | Path | Sequence[str | Path], progress: bool = True,
            on_progress: Callable[[int, int, str], None] | None = None) -> IndexReport:
        """Index files, folders or globs; bad files are reported in the result, never raised."""
        if isinstance(paths, (str, Path)):
            paths = [paths]
        return self.library.add(list(paths), progress=progress, on_progress=on_progress)

    def papers(self) -> list[PaperInfo]:
        return self.library.papers()

    def remove(self, paper_id: str) -> PaperInfo:
        return self.library.remove(paper_id)

    def search(self, query: str, k: int | None = None, mode: str | None = None) -> list[Hit]:
        """Hybrid (or ``mode``) search: the passages, best first, at most ``per_paper_cap`` per paper."""
        return self.retriever.retrieve(query, self.settings, k=k, mode=mode)

    def update_settings(self, **overrides: Any) -> Settings:
        """Change settings for later calls (the UI's settings panel); reopens the library if needed."""
        new = self.settings.with_overrides(**overrides)
        changed = {k for k in overrides if getattr(new, k) != getattr(self.settings, k)}
        self.settings = new
        if "prompts_dir" in changed:
            self.prompts = load_prompts(new.prompts_dir)
        if changed & _LIBRARY_FIELDS:
            self.library.close()
            self._open_library()
        return new

    def close(self) -> None:
        self.library.close()

    def warm_up(self) -> None:
        """Load the embedder, keyword index and answer model now, and have a local model read the fixed
        system prompt once, so the first question costs what every later one does (the UI runs this in the
        background at start-up; evals run it before timing). A model that cannot load fails here, clearly."""
        if self.settings.llm == "local":
            messages = [{"role": "system", "content": self.prompts.render("system")},
                        {"role": "user", "content": "Hello"}]
            for _ in self._generate(messages, self.settings, max_tokens=1):
                pass
        elif self.settings.llm == "openai":
            from paperqa_local.llms import get_llm

            get_llm(self.settings)  # checks the endpoint; generates nothing (a hosted model costs money)
        self.retriever.retrieve("warm up", self.settings, k=1)

    # ----------------------------------------------------------------- answers
    def ask(self, question: str, *, instruction: str | None = None, **overrides: Any) -> Answer:
        """Answer ``question`` from the indexed papers (see ``stream`` for the steps and ``instruction``)."""
        return _final(self.stream(question, instruction=instruction, **overrides))

    def chat(self, history: History, question: str, *, instruction: str | None = None, **overrides: Any) -> Answer:
        """Answer a follow-up: it is first rewritten as a stand-alone question, then answered."""
        return _final(self.stream_chat(history, question, instruction=instruction, **overrides))

    def stream_chat(self, history: History, question: str, *, instruction: str | None = None,
                    **overrides: Any) -> Iterator[Event]:
        s = self.settings.with_overrides(**overrides)
        turns = _turns(history)
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
        """Rewrite a follow-up as a stand-alone question (the model's job; a plain join for extractive)."""
        s = settings or self.settings
        if s.llm == "extractive":
            return f"{turns[-1][0]} {question}"
        history = "\n".join(f"User: {u}\nAssistant: {a}" for u, a in turns[-3:])
        prompt = self.prompts.render("condense", history=history, question=question)
        text = "".join(self._generate([{"role": "user", "content": prompt}], s, max_tokens=64)).strip()
        text = text.splitlines()[0].strip().strip('"') if text else ""
        return text if len(text) > 3 else question

    def stream(self, question: str, _display_question: str | None = None, *, instruction: str | None = None,
               **overrides: Any) -> Iterator[Event]:
        """Yield an "evidence" event, then "token" events, then one "answer" event.

        ``instruction`` (say, "Begin your answer with Yes, No or Maybe.") goes to the model after the question
        and nowhere else: retrieval and the does-the-evidence-answer check see the question alone.
        Closing the generator (a UI stop button) stops the model mid-answer.
        """
        question = question.strip()
        if not question:
            raise PaperQAError("question: empty question")
        s = self.settings.with_overrides(**overrides)
        shown = _display_question or question
        t0 = time.perf_counter()
        hits = self.retriever.retrieve(question, s)
        retrieval_s = time.perf_counter() - t0
        evidence = self._evidence(question, hits, s)
        evidence_s = time.perf_counter() - t0
        yield Event("evidence", contexts=evidence.contexts)

        timings = {"retrieval_s": round(retrieval_s, 3), "evidence_s": round(evidence_s, 3)}
        fields: dict[str, Any] = {"backend": s.llm, "model": self._model_label(s), "timings": timings, "usage": {}}
        coverage = question_coverage(question, evidence.contexts, self.term_stats.idf(self.library.manifest.generation))
        if not evidence.contexts or evidence.best_relevance < s.min_relevance or coverage < s.min_coverage:
            log.info("relevance %.3f (min %.3f), coverage %.3f (min %.3f): not answered",
                     evidence.best_relevance, s.min_relevance, coverage, s.min_coverage)
            timings["total_s"] = round(time.perf_counter() - t0, 3)
            yield Event("answer", answer=not_answered(shown, evidence.contexts, **fields))
            return

        parts: list[str] = []
        usage: dict[str, int] = {}
        if s.llm == "extractive":
            text = extractive_answer(question, evidence.contexts, self.sentence_vectors,
                                     self.embedder.embed_query(question))
            timings["first_token_s"] = round(time.perf_counter() - t0, 3)
            parts.append(text)
            yield Event("token", text=text)
        else:
            messages = [
                {"role": "system", "content": self.prompts.render("system")},
                {"role": "user", "content": self.prompts.render(
                    "answer", context=evidence.prompt_block(),
                    question=f"{question} {instruction.strip()}" if instruction else question)},
            ]
            for token in self._generate(messages, s, usage=usage):
                if not parts:
                    timings["first_token_s"] = round(time.perf_counter() - t0, 3)
                parts.append(token)
                yield Event("token", text=token)
        timings["llm_s"] = round(time.perf_counter() - t0 - evidence_s, 3)
        fields["usage"] = usage
        raw = "".join(parts)
        answer = build_answer(shown, raw, evidence.contexts, self.sentence_vectors, s.support_threshold,
                              raw_text=raw, **fields)
        timings["total_s"] = round(time.perf_counter() - t0, 3)
        yield Event("answer", answer=answer)

    # ----------------------------------------------------------------- internals
    def _evidence(self, question: str, hits: list[Hit], s: Settings) -> Evidence:
        evidence = select_evidence(question, hits, self.sentence_vectors, self.embedder.embed_query(question),
                                   count_tokens, s.evidence_budget)
        if s.summarize_evidence and s.llm != "extractive" and evidence.contexts:
            self._summarize(question, evidence, s)
        return evidence

    def _summarize(self, question: str, evidence: Evidence, s: Settings) -> None:
        """Optional PaperQA2-style step: each passage condensed by the model (slow on CPU)."""
        kept = []
        for ctx in evidence.contexts:
            prompt = self.prompts.render("evidence_summary", title=ctx.chunk.title, location=ctx.chunk.location,
                                         passage=ctx.text, question=question)
            summary = "".join(self._generate([{"role": "user", "content": prompt}], s, max_tokens=96)).strip()
            if summary and "IRRELEVANT" not in summary.upper():
                ctx.text = summary
                kept.append(ctx)
        for number, ctx in enumerate(kept, start=1):
            ctx.number = number
        evidence.contexts = kept

    def _generate(self, messages: list[dict[str, str]], s: Settings, max_tokens: int | None = None,
                  usage: dict[str, int] | None = None) -> Iterator[str]:
        from paperqa_local.llms import get_llm

        llm = get_llm(s)
        with self._generate_lock:
            stream = llm.stream(messages, max_tokens=max_tokens or s.max_tokens, temperature=s.temperature)
            with contextlib.closing(stream):  # type: ignore[type-var]
                yield from stream
            if usage is not None:
                usage.update(llm.last_usage)

    @staticmethod
    def _model_label(s: Settings) -> str:
        return {"local": s.model, "openai": s.openai_model, "extractive": "extractive"}[s.llm]


def _final(events: Iterator[Event]) -> Answer:
    answer = None
    for event in events:
        if event.kind == "answer":
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
