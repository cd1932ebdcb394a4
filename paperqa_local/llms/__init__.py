"""Generative backends behind one ``LLM`` interface, chosen by ``settings.llm``.

``get_llm`` loads a model once per process and never falls back to another backend: if
the one asked for cannot run, it raises ``BackendUnavailable`` saying what to do.
"""

from __future__ import annotations

import os
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
    """The LLM for ``settings.llm`` ("local" or "openai"), cached per backend + model + load options."""
    if settings.llm == "local":
        from paperqa_local.llms.local import LocalLLM, local_model_path

        path = local_model_path(settings)  # BackendUnavailable when not installed
        n_threads = settings.n_threads or os.cpu_count() or 1
        key: Hashable = ("local", str(path.resolve()), settings.n_ctx, n_threads)

        def make() -> LLM:
            return LocalLLM(path, n_ctx=settings.n_ctx, n_threads=n_threads, name=settings.model)

    elif settings.llm == "openai":
        from paperqa_local.llms.openai import OpenAICompatibleLLM

        key = ("openai", settings.openai_base_url, settings.openai_model, settings.openai_api_key_env,
               settings.openai_timeout)

        def make() -> LLM:
            return OpenAICompatibleLLM.from_settings(settings)

    else:
        raise ValueError(f"get_llm handles 'local' and 'openai', not {settings.llm!r} (the pipeline runs 'extractive')")

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
