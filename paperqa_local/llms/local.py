"""The ``local`` backend: a GGUF model run in-process by llama.cpp (llama-cpp-python).

Why llama_cpp directly rather than llama-index's LlamaCPP wrapper or
``create_chat_completion``: we need exact prompt/completion token counts while streaming
(llama-cpp-python only reports usage for non-streamed calls), control over the prompt
cache, and a generation loop that stops at the next token when the consumer closes the
iterator. So we render the GGUF's own chat template (Qwen2.5: ChatML) ourselves, tokenize
once, and drive ``Llama.generate``. ``generate`` keeps the KV cache of the previous call
and re-evaluates only the tokens after the longest common prefix, so a fixed system
prompt as the first message is read once per process, not once per question.

``LlamaRAMCache`` is deliberately not used: each snapshot copies the logits of every
prompt token (~280 MiB for a 480-token prompt with Qwen's 152k vocabulary) and costs
0.3-0.8 s to save or restore on 2 cores; it only pays off when several different prompt
prefixes alternate. With one fixed system prompt the live KV cache gives the whole benefit
(measured: a 457-token prompt whose first 192 tokens repeat is read in 2.0 s instead of
3.4 s with the 0.5B model, 4.2 s instead of 7.2 s with the 1.5B).
"""

from __future__ import annotations

import codecs
import contextlib
import logging
import os
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from paperqa_local.errors import BackendUnavailable, ModelError
from paperqa_local.llms.base import LLM, Message
from paperqa_local.llms.models import CATALOG, resolve_model
from paperqa_local.llms.requantize import runnable
from paperqa_local.settings import Settings

log = logging.getLogger(__name__)

#: Fixed sampling seed: the same question and settings give the same answer.
SEED = 1234
#: llama-cpp-python's chat defaults apart from temperature.
#: Log a warning when a stream waits this long for the model (another stream still open).
LOCK_WARN_S = 30.0
SAMPLING = {"top_k": 40, "top_p": 0.95, "min_p": 0.05, "repeat_penalty": 1.0}


def local_model_path(settings: Settings) -> Path:
    """The GGUF to load for ``settings.model`` (a shipped model re-encoded as ``settings.requantize``);
    BackendUnavailable (naming the install command) if it is missing."""
    try:
        path = resolve_model(settings.model, settings.models_path)
    except ModelError as err:
        raise BackendUnavailable(f"local backend: {err}") from None
    if settings.requantize != "none" and settings.model in CATALOG:
        return runnable(path, settings.requantize)
    return path


class LocalLLM(LLM):
    """A GGUF chat model loaded once; streams are serialised (one llama.cpp context per model).

    ``n_ctx``, ``prompt_lookup`` and ``flash_attn`` have no defaults here: they are settings, and ``Settings`` is
    their one home (``LocalBackend.make_client`` passes them)."""

    name = "local"

    def __init__(self, path: Path | str, *, n_ctx: int, prompt_lookup: int, flash_attn: bool,
                 n_threads: int | None = None, n_batch: int = 512, name: str | None = None) -> None:
        super().__init__()
        try:
            import llama_cpp
            from llama_cpp import llama_chat_format
        except ImportError:
            raise BackendUnavailable(
                "local backend needs llama-cpp-python: run `make install` (pip install llama-cpp-python==0.3.36)"
            ) from None
        self.path = Path(path)
        self.model = name or self.path.stem
        self.n_ctx = n_ctx
        self._llama_cpp = llama_cpp
        draft = None
        if prompt_lookup:  # answers copy from the passages: draft the next tokens from the prompt itself
            from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

            draft = LlamaPromptLookupDecoding(num_pred_tokens=prompt_lookup)
        try:
            self._llm = llama_cpp.Llama(
                model_path=str(self.path), n_ctx=n_ctx, n_threads=n_threads or os.cpu_count() or 1,
                n_batch=n_batch, verbose=False, draft_model=draft, flash_attn=flash_attn,
                logits_all=draft is not None,  # drafts are checked against every position's logits
            )
        except (ValueError, RuntimeError, OSError) as err:
            raise BackendUnavailable(f"{self.path}: llama.cpp could not load the model ({err})") from None
        # free the model while the interpreter is still intact (llama_cpp's __del__ fails at shutdown)
        self._finalizer = weakref.finalize(self, self._llm.close)
        self._format = self._chat_formatter(llama_chat_format)
        self._lock = threading.Lock()  # one llama.cpp context: streams queue, from any thread
        self.last_timings: dict[str, float] = {}

    def close(self) -> None:
        """Free the model's memory now rather than at garbage collection."""
        self._finalizer()

    def _chat_formatter(self, llama_chat_format: Any) -> Any:
        """The GGUF's own chat template (what ``create_chat_completion`` would use); ChatML if it has none."""
        template = self._llm.metadata.get("tokenizer.chat_template")
        if not template:
            log.warning("%s has no chat template; using ChatML", self.path.name)
            return llama_chat_format.format_chatml
        model = self._llm._model

        def text(token_id: int) -> str:
            return model.token_get_text(token_id) if token_id != -1 else ""

        return llama_chat_format.Jinja2ChatFormatter(
            template=template, eos_token=text(self._llm.token_eos()), bos_token=text(self._llm.token_bos()),
            add_generation_prompt=True,
        )

    def prompt_tokens(self, messages: list[Message]) -> list[int]:
        """The exact tokens the model reads for ``messages`` (chat template applied)."""
        rendered = self._format(messages=messages)
        return self._llm.tokenize(rendered.prompt.encode("utf-8"), add_bos=not rendered.added_special, special=True)

    def count_tokens(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def stream(
        self,
        messages: list[Message],
        *,
        max_tokens: int,
        temperature: float,
        stop: list[str] | None = None,
        grammar: str | None = None,
    ) -> Iterator[str]:
        tokens = self.prompt_tokens(messages)
        if len(tokens) >= self.n_ctx:
            raise ModelError(
                f"prompt is {len(tokens)} tokens but the local model context is n_ctx={self.n_ctx}: "
                "lower k or evidence_budget, or raise n_ctx"
            )
        compiled = self._llama_cpp.LlamaGrammar.from_string(grammar, verbose=False) if grammar else None
        return self._generate(tokens, min(max_tokens, self.n_ctx - len(tokens)), temperature, list(stop or []),
                              compiled)

    def first_token_logprobs(self, messages: list[Message], options: dict[str, list[str]]) -> dict[str, float]:
        """Log-probability that the reply starts with each option (its spellings' first tokens pooled).

        One forward pass over the prompt, which stays in the KV cache: a ``stream`` of the same messages
        right after re-reads a single token. This is how decisions (does the evidence answer? yes/no/maybe?)
        are scored from the model's probabilities instead of parsed from its free text.
        """
        tokens = self.prompt_tokens(messages)
        if len(tokens) >= self.n_ctx:
            raise ModelError(f"prompt is {len(tokens)} tokens but the local model context is n_ctx={self.n_ctx}")
        first = {name: sorted({self._first_token(v) for v in spellings}) for name, spellings in options.items()}
        with self._locked():
            llm = self._llm
            cached = min(llm.longest_token_prefix(llm.input_ids[: llm.n_tokens].tolist(), tokens), len(tokens) - 1)
            llm.n_tokens = cached
            llm.eval(tokens[cached:])
            logits = np.ctypeslib.as_array(llm._ctx.get_logits_ith(-1), shape=(llm.n_vocab(),)).astype(np.float64)
        top = logits.max()
        log_z = top + np.log(np.exp(logits - top).sum())
        return {name: float(np.logaddexp.reduce(logits[ids]) - log_z) for name, ids in first.items()}

    def _first_token(self, text: str) -> int:
        return self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)[0]

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        if not self._lock.acquire(timeout=LOCK_WARN_S):
            log.warning("waiting for another %s stream to finish (an unclosed stream holds the model)", self.model)
            self._lock.acquire()
        try:
            yield
        finally:
            self._lock.release()

    def _generate(self, tokens: list[int], max_tokens: int, temperature: float, stop: list[str],
                  grammar: Any = None) -> Iterator[str]:
        with self._locked():
            llm = self._llm
            cached = min(llm.longest_token_prefix(llm.input_ids[: llm.n_tokens].tolist(), tokens), len(tokens) - 1)
            self.last_usage = {"prompt_tokens": len(tokens), "completion_tokens": 0, "cached_tokens": cached}
            start = time.perf_counter()
            self.last_timings = {}
            decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
            vocab = llm._model.vocab
            eos = llm.token_eos()
            longest_stop = max((len(s) for s in stop), default=0)
            text, emitted, n_out = "", 0, 0
            llm.set_seed(SEED)
            gen = llm.generate(tokens, temp=temperature, grammar=grammar, **SAMPLING)
            try:
                for token in gen:
                    if n_out == 0:
                        self.last_timings["first_token_s"] = time.perf_counter() - start
                    if token == eos or self._llama_cpp.llama_vocab_is_eog(vocab, token):
                        break
                    n_out += 1
                    self.last_usage["completion_tokens"] = n_out
                    text += decoder.decode(llm.detokenize([token]))
                    hit = _find_stop(text, stop, max(0, emitted - longest_stop))
                    if hit is not None:
                        if hit > emitted:
                            yield text[emitted:hit]
                        emitted = -1  # nothing after a stop string is shown
                        break
                    safe = len(text) - _held_back(text, stop)
                    if safe > emitted:
                        yield text[emitted:safe]
                        emitted = safe
                    if n_out >= max_tokens:
                        break
                if emitted >= 0:
                    tail = text[emitted:] + decoder.decode(b"", final=True)
                    if tail:
                        yield tail
            finally:
                gen.close()
                elapsed = time.perf_counter() - start
                self.last_timings["total_s"] = elapsed
                log.debug("local %s: %s in %.2fs", self.model, self.last_usage, elapsed)


def _find_stop(text: str, stop: list[str], start: int) -> int | None:
    """Index of the earliest stop string in ``text[start:]``, or None."""
    hits = [i for s in stop if s and (i := text.find(s, start)) != -1]
    return min(hits) if hits else None


def _held_back(text: str, stop: list[str]) -> int:
    """Length of the longest tail of ``text`` that could be the start of a stop string (not shown yet)."""
    best = 0
    for s in stop:
        for k in range(min(len(s) - 1, len(text)), best, -1):
            if text.endswith(s[:k]):
                best = k
                break
    return best
