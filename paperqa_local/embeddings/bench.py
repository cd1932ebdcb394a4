"""Embedding throughput per backend, and concurrent against sequential ``openai`` questions.

``python -m paperqa_local.embeddings.bench --beir ../shared/datasets/scifact`` measures, on the same
texts: in-process torch, in-process ONNX int8, and the embeddings endpoint with 1 and 2 worker
processes (the cores shared among them, and one core each); then 20 questions against ``llama_cpp.server`` one at a
time and all at once. Figures go to docs/results/embeddings.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from paperqa_local.embedding import Embedder
from paperqa_local.settings import Settings

SLICE = 512  # documents embedded (and cached) at a time by ``dense_ndcg``


def beir_texts(beir: Path, n: int) -> list[str]:
    """The first ``n`` documents of a BEIR corpus, title and abstract, as the library embeds them."""
    texts = []
    with (beir / "corpus.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            doc = json.loads(line)
            texts.append(f"{doc.get('title', '')}\n{doc['text']}".strip())
            if len(texts) >= n:
                break
    return texts


def embedding_throughput(texts: list[str], settings: Settings, repeats: int = 3) -> dict[str, Any]:
    """Texts per second per backend on the same texts, the backends' runs interleaved (best and median of
    ``repeats``), so a machine shared with other work weighs on all of them alike."""
    import contextlib

    from paperqa_local.embeddings.endpoint import EndpointEmbedder
    from paperqa_local.embeddings.onnx import OnnxEmbedder
    from paperqa_local.embeddings.server import embeddings_server

    cores = os.cpu_count() or 1
    batch = settings.embed_batch_size
    with contextlib.ExitStack() as stack:
        embedders: dict[str, Embedder] = {
            "torch": Embedder(settings.embed_model, batch),
            "onnx_int8": OnnxEmbedder(settings.embed_model, batch, models_path=settings.models_path, threads=cores),
        }
        # the machine's cores shared among the workers, then one core of its own per worker (as on a cluster,
        # where each added worker brings its cores): only the second can grow with workers on a small machine
        for workers, threads in ((1, None), (2, None), (1, 1), (2, 1)):
            url = stack.enter_context(embeddings_server(settings, workers=workers, threads=threads))
            # half-size batches, two in flight per worker: each worker always has the next one queued
            name = f"endpoint_{workers}_worker" + ("_1_core_each" if threads else "")
            embedders[name] = EndpointEmbedder(settings.embed_model, max(1, batch // 2), base_url=url,
                                               concurrency=2 * workers)
        for embedder in embedders.values():
            embedder.embed(texts[:64])  # loaded, warm, every server worker started
        runs: dict[str, list[float]] = {name: [] for name in embedders}
        for _ in range(repeats):
            for name, embedder in embedders.items():
                start = time.perf_counter()
                embedder.embed(texts)
                runs[name].append(len(texts) / (time.perf_counter() - start))
    out: dict[str, Any] = {"texts": len(texts), "batch_size": batch, "cores": cores, "repeats": repeats,
                           "load_average_1m": round(os.getloadavg()[0], 1)}
    for name, values in runs.items():
        values.sort()
        out[name] = {"best": round(values[-1], 1), "median": round(values[len(values) // 2], 1)}
    return out


def dense_ndcg(beir: Path, embedder: Embedder, k: int = 10, cache: Path | None = None) -> dict[str, Any]:
    """Dense-only nDCG@k of whole documents (title and abstract) ranked by cosine: what int8 weights could
    change, without the library's chunking and fusion around it."""
    import numpy as np

    from paperqa_local.evaluation.datasets import load_beir
    from paperqa_local.evaluation.metrics import ndcg_at_k

    data = load_beir(beir)
    ids = list(data.corpus)
    texts = [f"{t}\n{x}".strip() for t, x in data.corpus.values()]
    parts, seconds, done = [], 0.0, 0
    for at in range(0, len(texts), SLICE):  # slices kept on disk: a long run that is stopped resumes
        saved = cache / f"{embedder.backend}-{at}.npy" if cache else None
        if saved is not None and saved.is_file():
            parts.append(np.load(saved))
            continue
        start = time.perf_counter()
        parts.append(embedder.embed(texts[at:at + SLICE]))
        seconds += time.perf_counter() - start
        done += len(parts[-1])
        if saved is not None:
            saved.parent.mkdir(parents=True, exist_ok=True)
            np.save(saved, parts[-1])
        print(f"{embedder.backend}: {at + len(parts[-1])}/{len(texts)} documents", file=sys.stderr, flush=True)
    docs = np.concatenate(parts)
    qids = list(data.queries)
    queries = embedder.embed([data.queries[q] for q in qids])
    top = np.argsort(-(queries @ docs.T), axis=1)[:, :k]
    scores = [ndcg_at_k([ids[j] for j in row], data.qrels[q], k) for q, row in zip(qids, top, strict=True)]
    return {"ndcg@10": round(float(np.mean(scores)), 4), "queries": len(qids), "documents": len(ids),
            "docs_per_s": round(done / seconds, 1) if seconds else None}


@contextmanager
def generation_server(model: Path, n_ctx: int = 2048, llama_server: Path | None = None,
                      parallel: int = 4) -> Iterator[str]:
    """An OpenAI-compatible server on a free 127.0.0.1 port. ``llama_cpp.server`` queues concurrent requests
    (one context, one answer at a time); llama.cpp's own ``llama-server`` (``llama_server``: its binary)
    decodes ``parallel`` answers in one batch, which is where concurrency can beat a queue."""
    from paperqa_local.evaluation.servers import HOST, free_port, stop_process, wait_for_port

    port = free_port()
    if llama_server is not None:  # the context is shared by the slots: n_ctx per slot
        command = [str(llama_server), "--model", str(model), "--alias", "fast", "--host", HOST, "--port", str(port),
                   "--ctx-size", str(n_ctx * parallel), "--parallel", str(parallel), "--threads", str(os.cpu_count() or 1)]
    else:
        command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", "fast",
                   "--host", HOST, "--port", str(port), "--n_ctx", str(n_ctx), "--interrupt_requests", "False"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, timeout=180, proc=proc)
        if llama_server is not None:
            _wait_healthy(f"http://{HOST}:{port}/health", proc)  # the port opens before the model is loaded
        yield f"http://{HOST}:{port}/v1"
    finally:
        stop_process(proc)


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 180.0) -> None:
    """Until ``url`` answers 200 (llama-server says 503 while it loads the model)."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"llama-server exited with {proc.returncode} while loading")
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url}: not ready after {timeout:.0f} s")


def concurrent_questions(home: Path, papers: list[Path], questions: list[str], model: Path,
                         concurrency: int = 20, max_tokens: int = 32, llama_server: Path | None = None,
                         parallel: int = 4) -> dict[str, Any]:
    """The same questions one at a time, then ``concurrency`` at once, against one server
    (``generation_server``)."""
    from paperqa_local.pipeline import PaperQA

    with generation_server(model, llama_server=llama_server, parallel=parallel) as url:
        qa = PaperQA(home=home, llm="openai", openai_base_url=url, openai_model="fast", openai_repeat_penalty=1.0,
                     max_tokens=max_tokens, openai_concurrency=concurrency, k=3, evidence_budget=500)
        qa.add(papers, progress=False)
        qa.ask(questions[0])  # warm: model, query path, server
        start = time.perf_counter()
        for q in questions:
            qa.ask(q)
        sequential = time.perf_counter() - start
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            answers = list(pool.map(qa.ask, questions))
        together = time.perf_counter() - start
        qa.close()
    return {"server": "llama-server" if llama_server else "llama_cpp.server",
            "parallel": parallel if llama_server else 1, "questions": len(questions), "concurrency": concurrency,
            "max_tokens": max_tokens,
            "sequential_s": round(sequential, 1), "concurrent_s": round(together, 1),
            "ratio": round(together / sequential, 2), "answers": sum(bool(a.text) for a in answers)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beir", type=Path, required=True, help="BEIR corpus for the texts (SciFact)")
    parser.add_argument("--texts", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--questions", type=Path, help="seeds_qa.jsonl: also time 20 openai questions")
    parser.add_argument("--papers", type=Path, nargs="*", default=[], help="papers the questions are about")
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct-q4_k_m", help="GGUF for llama_cpp.server")
    parser.add_argument("--home", type=Path, default=Path("bench-output/embeddings-home"))
    parser.add_argument("--out", type=Path, default=Path("bench-output/embeddings.json"))
    parser.add_argument("--ndcg", action="store_true", help="only SciFact dense nDCG@10, torch against ONNX int8")
    parser.add_argument("--llama-server", type=Path, help="llama.cpp's llama-server binary: the questions go to it "
                        "(batched slots) as well as to llama_cpp.server")
    parser.add_argument("--parallel", type=int, default=4, help="llama-server slots decoded in one batch")
    parser.add_argument("--skip-embedding", action="store_true", help="only the questions")
    args = parser.parse_args(argv)
    settings = Settings.load()
    if args.ndcg:
        from paperqa_local.embeddings.onnx import OnnxEmbedder

        onnx = OnnxEmbedder(settings.embed_model, settings.embed_batch_size, models_path=settings.models_path)
        for name, embedder in (("onnx_int8", onnx), ("torch", Embedder(settings.embed_model, settings.embed_batch_size))):
            print(name, json.dumps(dense_ndcg(args.beir, embedder, cache=args.out.parent / "ndcg-cache")), flush=True)
        return 0
    result: dict[str, Any] = {}
    if not args.skip_embedding:
        result["embedding"] = embedding_throughput(beir_texts(args.beir, args.texts), settings, args.repeats)
        print(json.dumps(result, indent=2), flush=True)
    if args.questions:
        from paperqa_local.llms.models import resolve_model

        rows = [json.loads(line) for line in args.questions.read_text(encoding="utf-8").splitlines() if line.strip()]
        text = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in args.papers)
        # questions the papers answer: each one goes to the model (refusals from scores would not)
        questions = [r["question"] for r in rows if r.get("answerable", True)
                     and any(t in text for t in r.get("gold_titles", []))][:20]
        model = resolve_model(args.model, settings.models_path)
        result["questions"] = concurrent_questions(args.home, args.papers, questions, model)
        print(json.dumps(result["questions"], indent=2), flush=True)
        if args.llama_server:
            result["questions_batched"] = concurrent_questions(args.home, args.papers, questions, model,
                                                               llama_server=args.llama_server, parallel=args.parallel)
            print(json.dumps(result["questions_batched"], indent=2), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
