"""Embedding backends behind the one seam, ``paperqa_local.embedding.Embedder``.

``make_embedder(settings)`` picks the backend ``settings.embed_backend`` names:

- ``local``: the bundled MiniLM in-process through sentence-transformers (``Embedder`` itself);
- ``onnx``: its ONNX Runtime int8 build, made locally by ``paperqa-local models build-onnx`` (``onnx.py``);
- ``openai``: any OpenAI-compatible ``/v1/embeddings`` endpoint (``endpoint.py``), e.g. ``paperqa-local
  serve-embeddings`` (``server.py``).

All return the same model's float32 unit vectors, so the backend is not part of the collection key.
"""

from __future__ import annotations

from paperqa_local.embedding import Embedder
from paperqa_local.settings import Settings

__all__ = ["Embedder", "make_embedder"]


def make_embedder(settings: Settings) -> Embedder:
    """The embedder for ``settings`` (lazy: models load and endpoints are checked on first use)."""
    backend = settings.embed_backend
    if backend == "onnx":
        from paperqa_local.embeddings.onnx import OnnxEmbedder

        return OnnxEmbedder(settings.embed_model, settings.embed_batch_size, models_path=settings.models_path)
    if backend == "openai":
        from paperqa_local.embeddings.endpoint import EndpointEmbedder

        return EndpointEmbedder.from_settings(settings)
    return Embedder(settings.embed_model, settings.embed_batch_size)
