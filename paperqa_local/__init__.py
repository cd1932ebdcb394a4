"""paperqa_local: local, citation-first answers about research papers.

Public API: ``PaperQA``, ``Answer``, ``Settings``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from paperqa_local import offline  # noqa: F401  (must run before any ML library import)
from paperqa_local.results import Answer
from paperqa_local.settings import Settings

if TYPE_CHECKING:
    from paperqa_local.pipeline import PaperQA

__all__ = ["PaperQA", "Answer", "Settings"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # PaperQA pulls in torch/chromadb: import it only when asked for.
    if name == "PaperQA":
        from paperqa_local.pipeline import PaperQA

        return PaperQA
    raise AttributeError(name)
