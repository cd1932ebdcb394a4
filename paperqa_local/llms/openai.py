"""The ``openai`` backend: any OpenAI-compatible chat endpoint (llama.cpp server, vLLM, Ollama, OpenAI...).

Why the ``openai`` SDK directly rather than llama-index's ``OpenAILike``: we need the
stream's final usage chunk (``stream_options.include_usage``) with a retry for servers that
reject the option, a plain way to close the HTTP stream when the consumer stops reading
(so the server stops generating), and error types we can turn into one-line messages.
``OpenAILike`` wraps the same client and would hide all three.

Only the configured endpoint is ever contacted; if it is unreachable we raise
``BackendUnavailable`` and never fall back to another backend.

Requests run concurrently, at most ``openai_concurrency`` in flight per client (a semaphore held
for a whole stream): the endpoint batches them (vLLM) or queues them itself (llama.cpp server).
No other lock is taken here; only the in-process llama.cpp context (``local.py``) serialises.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from functools import cached_property
from typing import Any

from paperqa_local.errors import BackendUnavailable, ModelError
from paperqa_local.llms.base import LLM, Message
from paperqa_local.settings import Settings

log = logging.getLogger(__name__)

#: Used when the key env var is unset: local servers ignore the key but the SDK insists on one.
PLACEHOLDER_KEY = "sk-no-key"
#: How long ``check`` waits for the endpoint to answer (capped by ``openai_timeout``).
CHECK_TIMEOUT = 5.0


class OpenAICompatibleLLM(LLM):
    """Streams chat completions from ``base_url``; usage from the server, else counted with tiktoken."""

    name = "openai"

    def __init__(self, base_url: str, model: str, *, api_key: str | None = None, api_key_env: str = "OPENAI_API_KEY",
                 timeout: float = 120.0, concurrency: int = 8, repeat_penalty: float | None = None,
                 grammar_field: str | None = None) -> None:
        self._local = threading.local()  # usage and timings per thread: concurrent streams share this client
        super().__init__()
        try:
            import openai
        except ImportError:
            raise BackendUnavailable("openai backend needs the `openai` package: run `make install`") from None
        self._openai = openai
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key_env = api_key_env
        self.timeout = timeout
        self._client = openai.OpenAI(base_url=self.base_url, api_key=api_key or PLACEHOLDER_KEY, timeout=timeout,
                                     max_retries=1)
        self._usage_option = True  # ask for the usage chunk until the server refuses it
        self.concurrency = concurrency
        # a llama.cpp server's own option, in the request body; None: not sent (hosted APIs reject it)
        self._body: dict[str, Any] = {} if repeat_penalty is None else {"repeat_penalty": repeat_penalty}
        # the request field a GBNF grammar goes in, where the endpoint takes one ("grammar": llama.cpp's servers)
        self.grammar_field = grammar_field
        self._slots = threading.BoundedSemaphore(concurrency)  # requests in flight, held per stream
        self.last_timings = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAICompatibleLLM:
        return cls(settings.openai_base_url, settings.openai_model, api_key=os.environ.get(settings.openai_api_key_env),
                   api_key_env=settings.openai_api_key_env, timeout=settings.openai_timeout,
                   concurrency=settings.openai_concurrency, repeat_penalty=settings.openai_repeat_penalty,
                   grammar_field=settings.openai_grammar_field)

    def check(self) -> None:
        """Fail fast if nothing answers at the endpoint; HTTP errors other than auth mean it is up."""
        client = self._client.with_options(timeout=min(CHECK_TIMEOUT, self.timeout), max_retries=0)
        try:
            client.models.list()
        except (self._openai.AuthenticationError, self._openai.PermissionDeniedError, self._openai.APIConnectionError) as err:
            raise self._error(err) from None
        except self._openai.APIStatusError as err:
            log.debug("%s/models answered %s; assuming the endpoint is up", self.base_url, err.status_code)

    @property
    def last_usage(self) -> dict[str, int]:
        """Usage of the last stream this thread ran (each thread its own: streams run concurrently)."""
        return getattr(self._local, "usage", {"prompt_tokens": 0, "completion_tokens": 0})

    @last_usage.setter
    def last_usage(self, value: dict[str, int]) -> None:
        self._local.usage = value

    @property
    def last_timings(self) -> dict[str, float]:
        """Timings of the last stream this thread ran."""
        return getattr(self._local, "timings", {})

    @last_timings.setter
    def last_timings(self, value: dict[str, float]) -> None:
        self._local.timings = value

    @cached_property
    def _encoding(self) -> Any:
        import tiktoken

        try:
            return tiktoken.encoding_for_model(self.model)
        except KeyError:
            return tiktoken.get_encoding("cl100k_base")

    def count_tokens(self, text: str) -> int:
        """An estimate (tiktoken): the endpoint's own tokenizer is not known here."""
        return len(self._encoding.encode(text, disallowed_special=()))

    def stream(
        self,
        messages: list[Message],
        *,
        max_tokens: int,
        temperature: float,
        stop: list[str] | None = None,
        grammar: str | None = None,
    ) -> Iterator[str]:
        # ``grammar`` goes in the request field the endpoint takes it in (``grammar_field``); endpoints without
        # one get none, and the answer's post-checks (invented markers dropped, sentences checked) do that work
        extra = dict(self._body)
        if grammar and self.grammar_field:
            extra[self.grammar_field] = grammar
        return self._generate(list(messages), max_tokens, temperature, list(stop or []), extra)

    def _open(self, messages: list[Message], max_tokens: int, temperature: float, stop: list[str],
              extra: dict[str, Any]) -> Any:
        kwargs: dict[str, Any] = {"model": self.model, "messages": messages, "max_tokens": max_tokens,
                                  "temperature": temperature, "stream": True}
        if extra:
            kwargs["extra_body"] = extra
        if stop:
            kwargs["stop"] = stop
        if self._usage_option:
            try:
                return self._client.chat.completions.create(**kwargs, stream_options={"include_usage": True})
            except (self._openai.BadRequestError, self._openai.UnprocessableEntityError) as err:
                if "stream_options" not in str(err):
                    raise
                log.info("%s does not take stream_options; counting usage with tiktoken", self.base_url)
                self._usage_option = False
        return self._client.chat.completions.create(**kwargs)

    def _generate(self, messages: list[Message], max_tokens: int, temperature: float, stop: list[str],
                  extra: dict[str, Any]) -> Iterator[str]:
        with self._slots:  # released when the stream ends, fails or is closed
            yield from self._generate_unbounded(messages, max_tokens, temperature, stop, extra)

    def _generate_unbounded(self, messages: list[Message], max_tokens: int, temperature: float,
                            stop: list[str], extra: dict[str, Any]) -> Iterator[str]:
        start = time.perf_counter()
        timings: dict[str, float] = {}  # set on this thread when the stream ends (a consumer may switch threads)
        self.last_timings = timings
        self.last_usage = {"prompt_tokens": 0, "completion_tokens": 0}
        parts: list[str] = []
        server_usage = None
        try:
            stream = self._open(messages, max_tokens, temperature, stop, extra)
        except self._openai.OpenAIError as err:
            raise self._error(err) from None
        try:
            for chunk in stream:
                if getattr(chunk, "usage", None):
                    server_usage = chunk.usage
                for choice in chunk.choices or []:
                    piece = choice.delta.content if choice.delta else None
                    if piece:
                        if not parts:
                            timings["first_token_s"] = time.perf_counter() - start
                        parts.append(piece)
                        yield piece
        except self._openai.OpenAIError as err:
            raise self._error(err) from None
        finally:
            stream.close()  # stops the server generating when the consumer closes us early
            timings["total_s"] = time.perf_counter() - start
            self.last_timings = timings
            if server_usage is not None:
                self.last_usage = {"prompt_tokens": server_usage.prompt_tokens or 0,
                                   "completion_tokens": server_usage.completion_tokens or 0}
            else:
                self.last_usage = {"prompt_tokens": self._count_messages(messages),
                                   "completion_tokens": self.count_tokens("".join(parts))}

    def _count_messages(self, messages: list[Message]) -> int:
        # OpenAI's published accounting for chat formatting: 3 tokens per message + 3 to prime the reply
        return sum(3 + self.count_tokens(m.get("content") or "") for m in messages) + 3

    def _error(self, err: Exception) -> Exception:
        """One-line, actionable errors; unreachable or refused endpoints are BackendUnavailable."""
        o = self._openai
        url = self.base_url
        if isinstance(err, o.APITimeoutError):
            return BackendUnavailable(f"openai endpoint {url} did not answer within {self.timeout:g}s")
        if isinstance(err, o.APIConnectionError):
            cause = err.__cause__ or err
            return BackendUnavailable(f"openai endpoint {url} unreachable: {_one_line(cause)}")
        if isinstance(err, (o.AuthenticationError, o.PermissionDeniedError)):
            return BackendUnavailable(
                f"openai endpoint {url} refused the API key (set ${self.api_key_env}): {_one_line(err)}"
            )
        if isinstance(err, o.NotFoundError):
            return ModelError(f"openai endpoint {url}: model '{self.model}' or the chat API was not found: {_one_line(err)}")
        if isinstance(err, o.APIStatusError):
            return ModelError(f"openai endpoint {url} answered HTTP {err.status_code}: {_one_line(err)}")
        return ModelError(f"openai endpoint {url}: {_one_line(err)}")


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text[:300]
