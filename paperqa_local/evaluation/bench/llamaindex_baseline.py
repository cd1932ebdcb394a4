"""A plain LlamaIndex baseline on the same papers, embedding model, chunk size and local models.

``VectorStoreIndex`` (its default in-memory vector store, its ``SentenceSplitter``) and
``CitationQueryEngine``. Our ``Embedder`` is wrapped as a ``BaseEmbedding`` and our local
llama.cpp model (the very instance our pipeline uses) as a ``CustomLLM``, so the difference
measured is the pipeline, not the models. Papers come from our readers, de-duplicated by id as
our library does, so both sides index the same 269 papers.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.llms import CompletionResponse, CompletionResponseGen, CustomLLM, LLMMetadata
from llama_index.core.llms.callbacks import llm_completion_callback
from pydantic import PrivateAttr
from tqdm import tqdm

from paperqa_local.evaluation.bench.answer_latency import cites_gold, load_model, model_overrides, summarize
from paperqa_local.evaluation.bench.context import WARMUP_QUESTION, BenchContext
from paperqa_local.evaluation.bench.measure import latency_stats, rate, timer
from paperqa_local.evaluation.bench.search_latency import seeds_queries

log = logging.getLogger(__name__)


class PaperQAEmbedding(BaseEmbedding):
    """llama-index view of our ``Embedder`` (same model, same batch size)."""

    _embedder: Any = PrivateAttr()

    def __init__(self, embedder: Any, **kwargs: Any) -> None:
        super().__init__(model_name=str(embedder.model_name), embed_batch_size=embedder.batch_size, **kwargs)
        self._embedder = embedder

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._embedder.embed([query])[0].tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._embedder.embed([text])[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._embedder.embed(list(texts)).tolist()


class PaperQALLM(CustomLLM):
    """llama-index view of one of our ``LLM`` backends (chat template applied by our backend)."""

    context_window: int = 4096
    num_output: int = 256
    temperature: float = 0.0
    model_name: str = "local"
    _llm: Any = PrivateAttr()
    last_usage: dict[str, int] = {}

    def __init__(self, llm: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._llm = llm

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(context_window=self.context_window, num_output=self.num_output,
                           model_name=self.model_name, is_chat_model=False)

    def _tokens(self, prompt: str) -> Iterator[str]:
        stream = self._llm.stream([{"role": "user", "content": prompt}], max_tokens=self.num_output,
                                  temperature=self.temperature)
        try:
            yield from stream
        finally:
            getattr(stream, "close", lambda: None)()
            self.last_usage = dict(getattr(self._llm, "last_usage", {}) or {})

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text="".join(self._tokens(prompt)))

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        def gen() -> CompletionResponseGen:
            text = ""
            for token in self._tokens(prompt):
                text += token
                yield CompletionResponse(text=text, delta=token)

        return gen()


def read_documents(ctx: BenchContext) -> list[Any]:
    """Our readers over seeds/, one ``Document`` per unique paper (title as metadata, as our chunks carry it)."""
    from llama_index.core import Document

    from paperqa_local.readers import discover, read_path

    settings = ctx.seeds_qa("embedded").settings
    files, _ = discover([ctx.config.seeds], settings.max_file_mb)
    docs: dict[str, Any] = {}
    for path in files:
        for paper in read_path(path):
            docs.setdefault(paper.id, Document(
                id_=paper.id, text=paper.text, metadata={"title": paper.title, "paper_id": paper.id},
                excluded_embed_metadata_keys=["paper_id"], excluded_llm_metadata_keys=["paper_id"],
            ))
    return list(docs.values())


def build_index(ctx: BenchContext) -> tuple[Any, dict[str, Any]]:
    """Read + split + embed + store, timed as one indexing run."""
    from llama_index.core import Settings as LISettings
    from llama_index.core import VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter

    qa = ctx.seeds_qa("embedded")
    s = qa.settings
    embed_model = PaperQAEmbedding(qa.embedder)
    LISettings.embed_model = embed_model
    qa.embedder.embed(["warm up the embedding model"])
    with timer() as t:
        docs = read_documents(ctx)
        index = VectorStoreIndex.from_documents(
            docs, embed_model=embed_model, show_progress=ctx.config.progress,
            transformations=[SentenceSplitter(chunk_size=s.chunk_size, chunk_overlap=s.chunk_overlap)],
        )
    chunks = len(index.index_struct.nodes_dict)
    return index, {"papers": len(docs), "chunks": chunks, "seconds": round(t["s"], 3),
                   "chunks_per_s": rate(chunks, t["s"]), "chunk_size": s.chunk_size}


def run_retrieval(ctx: BenchContext, index: Any) -> dict[str, Any]:
    """The LlamaIndex retriever over the search section's queries: latency and hit@k."""
    k = ctx.seeds_qa("embedded").settings.k
    retriever = index.as_retriever(similarity_top_k=k)
    queries = seeds_queries(ctx)
    for text, _ in queries[:3]:
        retriever.retrieve(text)
    seconds, hits = [], 0
    for text, pid in tqdm(queries, desc="baseline retrieval", unit="q", leave=False, disable=not ctx.config.progress):
        with timer() as t:
            nodes = retriever.retrieve(text)
        seconds.append(t["s"])
        hits += any(n.node.metadata.get("paper_id") == pid for n in nodes)
    return {**latency_stats(seconds), "hit_at_k": round(hits / len(queries), 3) if queries else None, "k": k}


def cited_titles(text: str, source_nodes: list[Any]) -> list[str]:
    """Titles of the sources the answer cites as [n] (CitationQueryEngine numbers sources from 1)."""
    titles = []
    for n in dict.fromkeys(int(m) for m in re.findall(r"\[(\d+)\]", text)):
        if 1 <= n <= len(source_nodes):
            titles.append(str(source_nodes[n - 1].node.metadata.get("title", "")))
    return titles


def run_answers(ctx: BenchContext, index: Any, llm: Any, label: str) -> dict[str, Any]:
    """``CitationQueryEngine`` answers the seeds questions, timed as ``answer_latency`` times ours."""
    from llama_index.core import Settings as LISettings
    from llama_index.core.query_engine import CitationQueryEngine

    s = ctx.seeds_qa("embedded").settings
    LISettings.llm = llm
    engine = CitationQueryEngine.from_args(index, llm=llm, similarity_top_k=s.k, citation_chunk_size=s.chunk_size,
                                           streaming=True)
    for _ in engine.query(WARMUP_QUESTION).response_gen:  # untimed: its fixed prompt prefix is then cached
        pass
    rows = []
    for question, gold in tqdm(ctx.questions(), desc=f"baseline answers {label}", unit="q",
                               disable=not ctx.config.progress):
        start = time.perf_counter()
        response = engine.query(question)
        evidence_s = time.perf_counter() - start
        first_token_s, parts = None, []
        for token in response.response_gen:
            if first_token_s is None:
                first_token_s = time.perf_counter() - start
            parts.append(token)
        total_s = time.perf_counter() - start
        text = "".join(parts)
        usage = dict(getattr(llm, "last_usage", {}) or {})
        completion = int(usage.get("completion_tokens") or 0)
        gen_s = total_s - first_token_s if first_token_s is not None else None
        titles = cited_titles(text, response.source_nodes)
        rows.append({
            "question": question, "gold": gold, "evidence_s": round(evidence_s, 3),
            "first_token_s": None if first_token_s is None else round(first_token_s, 3), "total_s": round(total_s, 3),
            "prompt_tokens": int(usage.get("prompt_tokens") or 0), "completion_tokens": completion,
            "cached_tokens": int(usage.get("cached_tokens") or 0),
            "gen_tokens_per_s": round(completion / gen_s, 2) if gen_s and completion else None,
            "citations": len(titles), "gold_cited": cites_gold(titles, gold), "text": text,
        })
    return {"rows": rows, "summary": summarize(rows)}


def run(ctx: BenchContext) -> dict[str, Any]:
    """Index, retrieval and answers of the baseline, each model as in the answer section."""
    cfg = ctx.config
    index, indexing = build_index(ctx)
    out: dict[str, Any] = {"index": indexing, "retrieval": run_retrieval(ctx, index), "models": {}}
    if cfg.baseline_llm is not None:
        out["models"]["custom"] = run_answers(ctx, index, cfg.baseline_llm, "custom")
        return out
    base = ctx.seeds_qa("embedded").settings
    for model in cfg.models:
        if model == "extractive":
            continue
        settings = base.with_overrides(**model_overrides(model))
        try:
            load_s = load_model(settings)
            from paperqa_local.llms import get_llm

            llm = PaperQALLM(get_llm(settings), context_window=settings.n_ctx, num_output=settings.max_tokens,
                             temperature=settings.temperature, model_name=model)
        except Exception as err:  # noqa: BLE001  (a missing model is a figure, not a crash)
            log.warning("baseline model %s unavailable: %s", model, err)
            out["models"][model] = {"error": str(err), "rows": []}
            continue
        out["models"][model] = {"load_s": load_s, **run_answers(ctx, index, llm, model)}
    return out
