"""Embeddings from any OpenAI-compatible ``/v1/embeddings`` endpoint (``paperqa-local serve-embeddings``,
vLLM, llama.cpp, a hosted API).

Batches go out concurrently (a thread pool of ``embed_concurrency``), each retried by the
``openai`` SDK on connection errors, 408/429 and 5xx with backoff. Before the first batch the
endpoint is checked once: it must serve the model asked for, answer with that model, and return
vectors of this library's size; otherwise one ``ModelError`` line says which and what to set.
Only the configured endpoint is contacted, and nothing falls back to in-process embedding.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np

from paperqa_local.embedding import Embedder, folder_dim, resolve_model_path, served_name
from paperqa_local.errors import BackendUnavailable, ModelError

log = logging.getLogger(__name__)

RETRIES = 3
TIMEOUT = 120.0
PLACEHOLDER_KEY = "sk-no-key"  # local servers ignore the key, the SDK insists on one
PROBE = "embedding dimension probe"


def same_model(a: str, b: str) -> bool:
    """Names of one model across servers: ``sentence-transformers/all-MiniLM-L6-v2`` == ``all-minilm-l6-v2``."""
    return a.rstrip("/").rsplit("/", 1)[-1].lower() == b.rstrip("/").rsplit("/", 1)[-1].lower()


class EndpointEmbedder(Embedder):
    """``embed_model``'s vectors computed by an endpoint; the endpoint is checked on first use."""

    backend = "openai"

    def __init__(self, model: str, batch_size: int = 64, *, base_url: str, api_model: str | None = None,
                 concurrency: int = 4, api_key: str | None = None, api_key_env: str = "OPENAI_API_KEY",
                 timeout: float = TIMEOUT, retries: int = RETRIES) -> None:
        super().__init__(model, batch_size)
        self.base_url = base_url.rstrip("/")
        self.api_model = api_model or served_name(model)
        self.concurrency = concurrency
        self.api_key = api_key
        self.api_key_env = api_key_env
        self.timeout = timeout
        self.retries = retries

    @classmethod
    def from_settings(cls, settings: Any) -> EndpointEmbedder:
        return cls(settings.embed_model, settings.embed_batch_size, base_url=settings.embed_base_url,
                   api_model=settings.embed_api_model, concurrency=settings.embed_concurrency,
                   api_key=os.environ.get(settings.openai_api_key_env), api_key_env=settings.openai_api_key_env)

    def _resolve(self, model: str) -> Path | None:
        """The library's model need not be on this machine; when it is, its size is checked against the endpoint."""
        try:
            return resolve_model_path(model)
        except ModelError:
            return None

    @property
    def expected_dim(self) -> int | None:
        return folder_dim(self.path) if self.path else None

    @property
    def dim(self) -> int:
        if self._dim is None:
            self.check()  # sets _dim from the probe
        assert self._dim is not None
        return self._dim

    def check(self) -> None:
        self.model  # noqa: B018  (loading = connecting and checking once)

    def _load(self) -> Any:
        try:
            import openai
        except ImportError:
            raise BackendUnavailable("the openai embedding backend needs the `openai` package: run `make install`") \
                from None
        self._openai = openai
        client = openai.OpenAI(base_url=self.base_url, api_key=self.api_key or PLACEHOLDER_KEY, timeout=self.timeout,
                               max_retries=self.retries)
        self._check(client)
        return client

    def _check(self, client: Any) -> None:
        """Same model, same size, or one line saying what differs."""
        url, name = self.base_url, self.api_model
        try:
            served = [m.id for m in client.with_options(max_retries=0).models.list()]
        except self._openai.NotFoundError:
            served = []  # some servers have no /models: the probe below still checks
        except self._openai.OpenAIError as err:
            raise self._error(err) from None
        if served and not any(same_model(name, s) for s in served):
            raise ModelError(f"embeddings endpoint {url} serves {', '.join(map(repr, served))}, not '{name}' "
                             f"(this library's embed_model '{self.model_name}'); set embed_api_model to the "
                             "endpoint's name for the same model, or point embed_base_url at a server of it")
        response = self._request(client, [PROBE])
        answered = getattr(response, "model", None)
        if answered and not same_model(name, answered):
            raise ModelError(f"embeddings endpoint {url} answered with model '{answered}', not '{name}': "
                             f"its vectors would not match this library's '{self.model_name}'")
        dim = len(response.data[0].embedding)
        expected = self.expected_dim
        if expected is not None and dim != expected:
            raise ModelError(f"embeddings endpoint {url} returns {dim}-dimensional vectors for '{name}'; this "
                             f"library's '{self.model_name}' vectors are {expected}-dimensional")
        self._dim = dim
        log.info("embeddings endpoint %s: model %s, %d dimensions", url, name, dim)

    def _request(self, client: Any, texts: list[str]) -> Any:
        try:
            return client.embeddings.create(model=self.api_model, input=texts, encoding_format="float")
        except self._openai.OpenAIError as err:
            raise self._error(err) from None

    def _encode(self, texts: list[str]) -> np.ndarray:
        response = self._request(self.model, texts)
        rows = sorted(response.data, key=lambda d: d.index)
        if len(rows) != len(texts):
            raise ModelError(f"embeddings endpoint {self.base_url} returned {len(rows)} vectors for {len(texts)} texts")
        vecs = np.asarray([d.embedding for d in rows], dtype=np.float32)
        if vecs.shape[1] != self._dim:
            raise ModelError(f"embeddings endpoint {self.base_url} changed vector size: {vecs.shape[1]} after {self._dim}")
        vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)  # unit rows, whatever the server does
        return vecs

    def _run(self, batches: list[list[str]]) -> Iterator[tuple[int, np.ndarray]]:
        """Up to ``concurrency`` requests in flight; the first failure cancels the rest."""
        self.check()
        if self.concurrency <= 1 or len(batches) <= 1:
            yield from super()._run(batches)
            return
        pool = ThreadPoolExecutor(max_workers=min(self.concurrency, len(batches)), thread_name_prefix="embed")
        try:
            futures: dict[Future, int] = {pool.submit(self._encode, batch): i for i, batch in enumerate(batches)}
            for future in as_completed(futures):
                yield futures[future], future.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _error(self, err: Exception) -> Exception:
        o, url = self._openai, self.base_url
        text = " ".join(str(err).split())[:300] or type(err).__name__
        if isinstance(err, o.APITimeoutError):
            return BackendUnavailable(f"embeddings endpoint {url} did not answer within {self.timeout:g}s")
        if isinstance(err, o.APIConnectionError):
            cause = err.__cause__ or err
            return BackendUnavailable(f"embeddings endpoint {url} unreachable: {' '.join(str(cause).split())[:300]}")
        if isinstance(err, (o.AuthenticationError, o.PermissionDeniedError)):
            return BackendUnavailable(f"embeddings endpoint {url} refused the API key (set ${self.api_key_env}): {text}")
        if isinstance(err, o.NotFoundError):
            return ModelError(f"embeddings endpoint {url}: model '{self.api_model}' or the embeddings API was not "
                              f"found: {text}")
        if isinstance(err, o.APIStatusError):
            return ModelError(f"embeddings endpoint {url} answered HTTP {err.status_code}: {text}")
        return ModelError(f"embeddings endpoint {url}: {text}")
