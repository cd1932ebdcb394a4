"""The one seam every generative backend implements (local llama.cpp, OpenAI-compatible).

Small on purpose, in the spirit of simonw/llm: chat messages in, text pieces out, exact
token usage afterwards. Closing the iterator returned by ``stream`` stops generation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator

Message = dict[str, str]


class LLM(ABC):
    """A chat model. ``name`` is the backend ("local", "openai"); ``model`` what it runs."""

    name: str = ""
    model: str = ""

    def __init__(self) -> None:
        self.last_usage: dict[str, int] = {"prompt_tokens": 0, "completion_tokens": 0}

    @abstractmethod
    def stream(
        self,
        messages: list[Message],
        *,
        max_tokens: int,
        temperature: float,
        stop: list[str] | None = None,
        grammar: str | None = None,
    ) -> Iterator[str]:
        """Yield the reply in pieces as they are generated; ``last_usage`` is set when it ends (or is closed).

        ``grammar``: a GBNF grammar the reply must follow, where the backend can enforce one (llama.cpp);
        others ignore it and rely on the post-checks."""

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes in this model's tokenizer (exact locally, tiktoken estimate remotely)."""

    def complete(
        self,
        messages: list[Message],
        *,
        max_tokens: int,
        temperature: float,
        stop: list[str] | None = None,
    ) -> str:
        """The whole reply at once (a convenience over ``stream``)."""
        return "".join(self.stream(messages, max_tokens=max_tokens, temperature=temperature, stop=stop))

    def check(self) -> None:  # noqa: B027  (optional hook, no-op by default)
        """Raise BackendUnavailable if the backend cannot serve requests (called once by ``get_llm``)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model!r})"
