"""Answer backends (``backends.py``: the registry keyed by ``settings.llm``) and their chat models.

``get_llm`` loads a backend's model once per process and never falls back to another backend:
if the one asked for cannot run, it raises ``BackendUnavailable`` saying what to do.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

from paperqa_local.llms.base import LLM
from paperqa_local.settings import Settings

__all__ = ["LLM", "get_llm", "clear_llm_cache"]

#: Local models kept loaded at once (each holds its weights mmapped plus a KV cache).
MAX_LOCAL_MODELS = 2

_cache: OrderedDict[Hashable, LLM] = OrderedDict()
_lock = threading.Lock()


def get_llm(settings: Settings) -> LLM:
    """The chat model of the generating backend ``settings.llm`` names, loaded once per key (model + load options)."""
    from paperqa_local.llms.backends import BACKENDS, ChatBackend

    backend = BACKENDS.get(settings.llm)
    if backend is None or not issubclass(backend, ChatBackend):
        raise ValueError(f"backend {settings.llm!r} has no chat model")
    key: Hashable = backend.client_key(settings)

    def make() -> LLM:
        return backend.make_client(settings)

    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
        llm = make()
        llm.check()
        _cache[key] = llm
        local_keys = [k for k in _cache if k[0] == "local"]
        for old in local_keys[:-MAX_LOCAL_MODELS]:
            del _cache[old]  # freed once no running stream holds it
        return llm


def clear_llm_cache() -> None:
    """Forget loaded models (tests; freeing memory after switching models)."""
    with _lock:
        _cache.clear()
