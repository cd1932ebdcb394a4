"""The Chroma side of the library: one collection of chunk vectors, embedded or on a server.

Chroma never embeds anything itself (vectors come from ``Embedder``) and is never the
source of chunk texts: the manifest is. A vector carries its chunk id and, as metadata,
its paper id (so a paper's vectors can be deleted in one call) and its citation fields
(so the collection is readable with Chroma's own tools).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import numpy as np

from paperqa_local import offline  # noqa: F401  (Chroma telemetry off before import)
from paperqa_local.errors import LibraryError
from paperqa_local.records import Chunk

if TYPE_CHECKING:
    from paperqa_local.settings import Settings

log = logging.getLogger(__name__)

PAGE = 5000  # ids per Chroma page when listing the collection
DELETE_PAPERS = 500  # paper ids per delete-by-paper call


def library_folder(settings: Settings) -> Path:
    """Where the manifest and keyword index of this store live: one folder per collection and server."""
    base = settings.collection_name
    folder = base if not settings.chroma_url else f"{base}@{_server_tag(settings.chroma_url)}"
    return Path(settings.home) / "libraries" / folder


class VectorStore:
    """The library's Chroma collection, tagged with the id of the manifest that describes it."""

    def __init__(self, client: Any, settings: Settings, library_id: str) -> None:
        self.where = settings.chroma_url or str(Path(settings.home) / "chroma")
        self.client = client
        # On a server, several library homes may share one Chroma: each gets its own collection.
        self.name = settings.collection_name + (f"-{library_id[:8]}" if settings.chroma_url else "")
        self.collection = self._open(settings, library_id)
        self.max_batch = _max_batch(self.client)

    def count(self) -> int:
        return self.collection.count()

    def ids(self) -> set[str]:
        """Every chunk id in the collection, read in pages."""
        found: set[str] = set()
        offset = 0
        while True:
            page = self.collection.get(include=[], limit=PAGE, offset=offset)["ids"]
            found.update(page)
            if len(page) < PAGE:
                return found
            offset += PAGE

    def query(self, query_vec: np.ndarray, n: int, paper_ids: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the ``n`` nearest vectors, best first; with ``paper_ids``, only
        vectors of those papers (a collection / tag filter), selected by Chroma itself."""
        where: dict[str, Any] | None = None
        if paper_ids is not None:
            if not paper_ids:
                return []
            ids = sorted(paper_ids)
            where = {"paper_id": ids[0]} if len(ids) == 1 else {"paper_id": {"$in": ids}}
        try:
            res = self.collection.query(
                query_embeddings=[np.asarray(query_vec, dtype=np.float32).tolist()], n_results=n,
                include=["distances"], where=where,
            )
        except Exception as err:  # noqa: BLE001
            raise LibraryError(f"vector search failed in {self.where}: {err}") from None
        return [(cid, min(1.0, max(-1.0, 1.0 - float(dist))))
                for cid, dist in zip(res["ids"][0], res["distances"][0], strict=True)]

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Write chunks with their vectors (``vectors[i]`` belongs to ``chunks[i]``), in server-sized batches."""
        for start in range(0, len(chunks), self.max_batch):
            part = chunks[start:start + self.max_batch]
            self.collection.upsert(
                ids=[c.id for c in part], embeddings=vectors[start:start + len(part)],
                documents=[c.text for c in part], metadatas=[chunk_meta(c) for c in part],
            )

    def delete_papers(self, paper_ids: Sequence[str]) -> None:
        """Delete every vector of these papers."""
        for start in range(0, len(paper_ids), DELETE_PAPERS):
            part = list(paper_ids[start:start + DELETE_PAPERS])
            where: dict[str, Any] = {"paper_id": part[0]} if len(part) == 1 else {"paper_id": {"$in": part}}
            self.collection.delete(where=where)

    def delete_ids(self, chunk_ids: Sequence[str]) -> None:
        for start in range(0, len(chunk_ids), self.max_batch):
            self.collection.delete(ids=list(chunk_ids[start:start + self.max_batch]))

    def drop(self) -> None:
        """Delete the whole collection (a server shared by tests or by several homes)."""
        self.client.delete_collection(self.name)

    def _open(self, settings: Settings, library_id: str) -> Any:
        """Get or create the collection, tagged with this library's id.

        A server collection filled by another library home is refused: its manifest lives
        elsewhere, and reconciling against ours would delete its vectors. Its HNSW ``ef_search`` follows
        ``settings.search_ef``, on an existing collection too (it only changes how wide a search looks; Chroma
        applies it when it next loads the index, so a running server after a restart).
        """
        from chromadb.errors import NotFoundError

        meta = {"library_id": library_id, "embed_model": settings.embed_model,
                "chunk_size": settings.chunk_size, "chunk_overlap": settings.chunk_overlap}
        try:
            try:
                collection = self.client.get_collection(self.name, embedding_function=None)
            except NotFoundError:
                return self.client.create_collection(
                    self.name, embedding_function=None, metadata=meta,
                    configuration={"hnsw": {"space": "cosine", "ef_search": settings.search_ef}})
            owner = (collection.metadata or {}).get("library_id")
            if owner != library_id:
                if settings.chroma_url and owner and collection.count():
                    raise LibraryError(
                        f"collection '{self.name}' at {settings.chroma_url} belongs to another library home"
                        f" (id {owner}); use that home, or another server"
                    )
                collection.modify(metadata={**(collection.metadata or {}), **meta})
            _set_width(collection, settings.search_ef)
            return collection
        except LibraryError:
            raise
        except Exception as err:  # noqa: BLE001  (any store error is one user-facing line)
            raise LibraryError(f"cannot open collection '{self.name}' in {self.where}: {err}") from None


def _set_width(collection: Any, ef_search: int) -> None:
    """Store the search width on the collection; a store that refuses it (read-only, another index type) is still
    searched, at its own width, with a warning: a search-time knob never keeps a library from opening."""
    try:
        if ((collection.configuration or {}).get("hnsw") or {}).get("ef_search") != ef_search:
            collection.modify(configuration={"hnsw": {"ef_search": ef_search}})
    except Exception as err:  # noqa: BLE001
        log.warning("collection '%s': cannot set search_ef=%d (%s); searching at its own width",
                    collection.name, ef_search, err)


def chunk_meta(c: Chunk) -> dict[str, Any]:
    """A chunk's Chroma metadata (Chroma takes no None values: absent fields are "" or left out)."""
    meta: dict[str, Any] = {
        "paper_id": c.paper_id, "index": c.index, "location": c.location, "title": c.title,
        "source": c.source, "date": c.date or "", "url": c.url or "", "authors": c.authors,
    }
    for key in ("page", "end_page", "section", "year"):
        if getattr(c, key) is not None:
            meta[key] = getattr(c, key)
    return meta


def connect(settings: Settings) -> Any:
    """A Chroma client: embedded under ``home/chroma``, or the server at ``chroma_url`` (checked now)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    url = settings.chroma_url
    if not url:
        path = Path(settings.home) / "chroma"
        path.mkdir(parents=True, exist_ok=True)
        try:
            return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        except Exception as err:  # noqa: BLE001
            raise LibraryError(f"{path}: cannot open the Chroma store ({err})") from None
    parsed = urlparse(url if "://" in url else f"http://{url}")
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise LibraryError(f"chroma_url '{url}': expected http://host:port")
    ssl = parsed.scheme == "https"
    try:
        port = parsed.port or (443 if ssl else 8000)
        client = chromadb.HttpClient(host=parsed.hostname, port=port, ssl=ssl, settings=chroma_settings)
        client.heartbeat()
    except Exception as err:  # noqa: BLE001
        raise LibraryError(f"cannot reach the Chroma server at {url}: {err}") from None
    return client


def _server_tag(url: str) -> str:
    parsed = urlparse(url if "://" in url else f"http://{url}")
    return "".join(c if c.isalnum() or c in ".-" else "_" for c in f"{parsed.hostname}-{parsed.port or ''}")


def _max_batch(client: Any) -> int:
    try:
        return max(1, min(int(client.get_max_batch_size()), 4096))
    except Exception:  # noqa: BLE001
        return 1000
