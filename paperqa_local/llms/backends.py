"""The answer backends behind one seam, keyed by ``settings.llm`` (the shape of simonw/llm's model plugins).

A backend knows its label (what the answer says wrote it), whether it generates text, and
how to turn a question plus its evidence into text pieces. ``PaperQA`` never branches on the
backend's name: it asks the registry for one and calls these methods. A new backend is a
subclass decorated with ``@register``.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
from collections.abc import Callable, Hashable, Iterator
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from paperqa_local.errors import SettingsError
from paperqa_local.llms.extractive import extractive_answer
from paperqa_local.llms.grammar import citation_grammar
from paperqa_local.reply_text import runaway
from paperqa_local.verdicts import OPTIONS, Decision, calibration, decide

if TYPE_CHECKING:
    from paperqa_local.evidence import Evidence
    from paperqa_local.llms.base import LLM, Message
    from paperqa_local.prompts import Prompts
    from paperqa_local.settings import Settings

Embed = Callable[[list[str]], np.ndarray]
log = logging.getLogger(__name__)
#: A piece that may end a sentence or a marker: only then can the reply have started to loop.
_LOOP_ENDS = frozenset(".!?]\n")

BACKENDS: dict[str, type[Backend]] = {}


def register(cls: type[Backend]) -> type[Backend]:
    """Class decorator: make ``cls`` the backend for ``settings.llm == cls.name``."""
    BACKENDS[cls.name] = cls
    return cls


def get_backend(settings: Settings, prompts: Prompts, embed: Embed) -> Backend:
    """The backend ``settings.llm`` names (cheap: models are loaded once, by ``get_llm``)."""
    try:
        cls = BACKENDS[settings.llm]
    except KeyError:
        raise SettingsError(f"llm: no backend '{settings.llm}' (known: {', '.join(sorted(BACKENDS))})") from None
    return cls(settings, prompts, embed)


class Backend:
    """One answer backend for one call's settings; ``usage`` holds the last call's token counts."""

    name: ClassVar[str] = ""
    generates: ClassVar[bool] = False

    def __init__(self, settings: Settings, prompts: Prompts, embed: Embed) -> None:
        self.settings = settings
        self.prompts = prompts
        self.embed = embed
        self.usage: dict[str, int] = {}

    @property
    def label(self) -> str:
        """The model's name as answers and the UI show it."""
        return self.name

    def answer(self, question: str, evidence: Evidence, *, instruction: str | None = None) -> Iterator[str]:
        """The answer's text, in pieces, citing ``evidence.contexts`` by number."""
        raise NotImplementedError

    def condense(self, turns: list[tuple[str, str]], question: str) -> str:
        """A follow-up rewritten as a stand-alone question."""
        raise NotImplementedError

    def summarize(self, question: str, evidence: Evidence) -> None:  # noqa: B027  (optional step)
        """Condense each passage to what bears on the question (``summarize_evidence``); a no-op by default."""

    def warm_up(self) -> None:  # noqa: B027  (nothing to load by default)
        """Load what the first question would otherwise wait for."""

    def option_logprobs(self, messages: list[Message], options: dict[str, list[str]]) -> dict[str, float] | None:
        """Log-probability that the reply starts with each option; None when the backend cannot tell."""
        return None

    def answer_probability(self, question: str, evidence: Evidence, instruction: str | None = None,
                           verdict: bool = False) -> tuple[float | None, dict[str, float]]:
        """The model's probability that its reply to the answer prompt is an answer, not the cannot-answer
        sentinel, read from the first token's logits (the prompt stays cached for the answer itself); with
        ``verdict``, also the log-probabilities that the reply opens with yes, no or maybe, from the same
        logits (``answer:yes`` …: a second view a verdict's linear calibration may read, at no cost)."""
        from paperqa_local.prompts import CANNOT_ANSWER

        options = {"refuse": [CANNOT_ANSWER], **(OPTIONS["verdict"] if verdict else {})}
        logprobs = self.option_logprobs(self.answer_messages(question, evidence, instruction), options)
        if logprobs is None:
            return None, {}
        return 1.0 - math.exp(logprobs.pop("refuse")), {f"answer:{k}": v for k, v in logprobs.items()}

    def decide(self, kind: str, text: str, evidence: Evidence,
               features: dict[str, float] | None = None) -> Decision | None:
        """A scored decision (``verdicts.OPTIONS[kind]``) with this model's calibration, which may also read
        ``features`` (``verdicts.decide``); None without token probabilities."""
        logprobs = self.option_logprobs(self.decision_messages(kind, text, evidence), OPTIONS[kind])
        return None if logprobs is None else decide(logprobs, calibration(kind, self.label), features)

    def answer_messages(self, question: str, evidence: Evidence, instruction: str | None = None) -> list[Message]:
        """The chat the answer is written from: the fixed system prompt, then passages and question."""
        asked = f"{question} {instruction.strip()}" if instruction else question
        return [
            {"role": "system", "content": self.prompts.render("system")},
            {"role": "user", "content": self.prompts.render(
                "answer", context=self.prompts.passages(evidence.contexts), question=asked)},
        ]

    def decision_messages(self, kind: str, text: str, evidence: Evidence) -> list[Message]:
        """The chat a scored decision (``verdict``: yes/no/maybe, ``verify``: a claim's label) is read from."""
        return [
            {"role": "system", "content": self.prompts.render("system")},
            {"role": "user", "content": self.prompts.render(
                kind, context=self.prompts.passages(evidence.contexts), question=text)},
        ]


@register
class ExtractiveBackend(Backend):
    """No model: the best evidence sentences, quoted with their markers."""

    name = "extractive"

    def answer(self, question: str, evidence: Evidence, *, instruction: str | None = None) -> Iterator[str]:
        yield extractive_answer(question, evidence.contexts, self.embed, evidence.query_vector)

    def condense(self, turns: list[tuple[str, str]], question: str) -> str:
        return f"{turns[-1][0]} {question}"


class ChatBackend(Backend):
    """A chat model (``get_llm``) prompted with the files in ``prompts/``."""

    generates = True

    @classmethod
    def client_key(cls, settings: Settings) -> Hashable:
        """What identifies one loaded chat model (``get_llm`` keeps one per key)."""
        raise NotImplementedError

    @classmethod
    def make_client(cls, settings: Settings) -> LLM:
        raise NotImplementedError

    @property
    def llm(self) -> LLM:
        from paperqa_local.llms import get_llm

        return get_llm(self.settings)

    def answer(self, question: str, evidence: Evidence, *, instruction: str | None = None) -> Iterator[str]:
        grammar = None
        if self.settings.cite_grammar and evidence.contexts:
            from paperqa_local.prompts import CANNOT_ANSWER

            grammar = citation_grammar([c.number for c in evidence.contexts], CANNOT_ANSWER)
        reply = self.generate(self.answer_messages(question, evidence, instruction), grammar=grammar)
        text = ""
        with contextlib.closing(reply):
            for piece in reply:
                yield piece
                text += piece
                if not _LOOP_ENDS.isdisjoint(piece) and runaway(text):
                    log.info("answer stopped: the model repeats itself")
                    return

    def option_logprobs(self, messages: list[Message], options: dict[str, list[str]]) -> dict[str, float] | None:
        score = getattr(self.llm, "first_token_logprobs", None)
        return score(messages, options) if score is not None else None

    def condense(self, turns: list[tuple[str, str]], question: str) -> str:
        history = "\n".join(self.prompts.render("history_turn", user=u, assistant=a) for u, a in turns[-3:])
        prompt = self.prompts.render("condense", history=history, question=question)
        text = "".join(self.generate([{"role": "user", "content": prompt}], max_tokens=64)).strip()
        text = text.splitlines()[0].strip().strip('"') if text else ""
        return text if len(text) > 3 else question

    def summarize(self, question: str, evidence: Evidence) -> None:
        """PaperQA2-style: each passage condensed by the model; passages it calls irrelevant are dropped."""
        from paperqa_local.prompts import IRRELEVANT

        kept = []
        for ctx in evidence.contexts:
            prompt = self.prompts.render("evidence_summary", title=ctx.chunk.title, location=ctx.chunk.location,
                                         passage=ctx.text, question=question)
            summary = "".join(self.generate([{"role": "user", "content": prompt}], max_tokens=96)).strip()
            if summary and IRRELEVANT not in summary.upper():
                ctx.text = summary
                kept.append(ctx)
        for number, ctx in enumerate(kept, start=1):
            ctx.number = number
        evidence.contexts = kept

    def generate(self, messages: list[Message], max_tokens: int | None = None,
                 grammar: str | None = None) -> Iterator[str]:
        """Stream the reply; closing this iterator stops the model. Concurrency is the LLM's business:
        the in-process llama.cpp context serialises itself, an endpoint takes requests in parallel."""
        llm = self.llm
        s = self.settings
        stream = llm.stream(messages, max_tokens=max_tokens or s.max_tokens, temperature=s.temperature,
                            grammar=grammar)
        try:
            with contextlib.closing(stream):  # type: ignore[type-var]
                yield from stream
        finally:  # also when the consumer stops the reply early
            self.usage = dict(llm.last_usage)


@register
class LocalBackend(ChatBackend):
    """A GGUF model run in-process by llama.cpp."""

    name = "local"

    @classmethod
    def client_key(cls, settings: Settings) -> Hashable:
        from paperqa_local.llms.local import local_model_path

        path = local_model_path(settings)  # BackendUnavailable when not installed
        return ("local", str(path.resolve()), settings.n_ctx, _threads(settings), settings.prompt_lookup,
                settings.flash_attn)

    @classmethod
    def make_client(cls, settings: Settings) -> LLM:
        from paperqa_local.llms.local import LocalLLM, local_model_path

        return LocalLLM(local_model_path(settings), n_ctx=settings.n_ctx, n_threads=_threads(settings),
                        name=settings.model, prompt_lookup=settings.prompt_lookup,
                        flash_attn=settings.flash_attn)

    @property
    def label(self) -> str:
        return self.settings.model

    def warm_up(self) -> None:
        """Load the model and have it read the fixed system prompt once (kept in its KV cache)."""
        messages = [{"role": "system", "content": self.prompts.render("system")},
                    {"role": "user", "content": "Hello"}]
        for _ in self.generate(messages, max_tokens=1):
            pass


@register
class OpenAIBackend(ChatBackend):
    """Any OpenAI-compatible endpoint."""

    name = "openai"

    @classmethod
    def client_key(cls, settings: Settings) -> Hashable:
        return ("openai", settings.openai_base_url, settings.openai_model, settings.openai_api_key_env,
                settings.openai_timeout, settings.openai_concurrency, settings.openai_repeat_penalty,
                settings.openai_grammar_field)

    @classmethod
    def make_client(cls, settings: Settings) -> LLM:
        from paperqa_local.llms.openai import OpenAICompatibleLLM

        return OpenAICompatibleLLM.from_settings(settings)

    @property
    def label(self) -> str:
        return self.settings.openai_model

    def warm_up(self) -> None:
        self.llm  # noqa: B018  (checks the endpoint; generates nothing: a hosted model costs money)


def _threads(settings: Settings) -> int:
    return settings.n_threads or os.cpu_count() or 1
