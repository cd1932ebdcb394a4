"""Keep every library off the network: set before any of them is imported.

Imported first by ``paperqa_local/__init__.py`` so that tiktoken, Hugging Face,
Chroma and Gradio all see these variables at import time.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path


def _tiktoken_cache() -> str | None:
    """llama-index-core ships cl100k_base and o200k_base; point tiktoken at them."""
    try:
        spec = importlib.util.find_spec("llama_index.core")
    except ModuleNotFoundError:
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "_static" / "tiktoken_cache"
    return str(path) if path.is_dir() else None


def apply() -> None:
    """Set the offline switches unless the user already chose otherwise."""
    defaults = {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "ANONYMIZED_TELEMETRY": "False",
        "TOKENIZERS_PARALLELISM": "false",
        "DO_NOT_TRACK": "1",
    }
    cache = _tiktoken_cache()
    if cache:
        defaults["TIKTOKEN_CACHE_DIR"] = cache
    for key, value in defaults.items():
        os.environ.setdefault(key, value)


apply()
