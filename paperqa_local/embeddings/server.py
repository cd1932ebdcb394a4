"""``paperqa-local serve-embeddings``: the bundled MiniLM as an OpenAI-compatible embeddings server.

``GET /v1/models`` and ``POST /v1/embeddings`` in the OpenAI format (float or base64 vectors,
OpenAI-shaped errors), served by FastAPI + uvicorn. Each worker process holds one model (in-process
torch or the ONNX int8 build, from ``embed_backend``) and encodes one request at a time with
``threads`` cores, so throughput grows with ``--workers`` up to the machine's cores. Used by the tests,
the bench and cluster mode (docs/deploy.md).
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel

from paperqa_local.embedding import Embedder, served_name
from paperqa_local.errors import SettingsError
from paperqa_local.settings import Settings

log = logging.getLogger(__name__)

#: Most texts one request may carry (OpenAI's own limit).
MAX_INPUTS = 2048
#: Worker processes read their settings from this variable (uvicorn starts them by import string).
CONFIG_ENV = "PQL_EMBED_SERVER_CONFIG"
SERVED_SETTINGS = ("embed_model", "embed_backend", "embed_batch_size", "models_dir")


class EmbeddingRequest(BaseModel):
    """The OpenAI request body (token-id inputs are not taken: clients send text)."""

    input: str | list[str]
    model: str
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = None
    user: str | None = None


class OpenAIError(Exception):
    """Answered as OpenAI's error body: ``{"error": {"message", "type", "param", "code"}}``."""

    def __init__(self, status: int, message: str, kind: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.kind, self.code = status, kind, code


def default_threads(workers: int) -> int:
    """The machine's cores shared among the workers."""
    return max(1, (os.cpu_count() or 1) // max(1, workers))


def server_embedder(settings: Settings, threads: int | None = None) -> Embedder:
    """The in-process model a worker serves (never another endpoint: a server does not proxy)."""
    if settings.embed_backend == "openai":
        raise SettingsError("serve-embeddings serves a model itself: use --embed-backend local or onnx")
    if settings.embed_backend == "onnx":
        from paperqa_local.embeddings.onnx import OnnxEmbedder

        return OnnxEmbedder(settings.embed_model, settings.embed_batch_size, models_path=settings.models_path,
                            threads=threads)
    if threads:
        import torch

        torch.set_num_threads(threads)
    return Embedder(settings.embed_model, settings.embed_batch_size)


def create_app(settings: Settings, threads: int | None = None) -> Any:
    """The FastAPI app serving ``settings.embed_model`` (loaded now, so a started server is a ready one)."""
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse

    embedder = server_embedder(settings, threads)
    embedder.embed(["warm up"])
    name = served_name(settings.embed_model)
    lock = threading.Lock()  # one batch at a time per worker: its threads are already all its cores

    app = FastAPI(title="paperqa-local embeddings", docs_url=None, redoc_url=None)

    @app.exception_handler(OpenAIError)
    async def _openai_error(_: Request, err: OpenAIError) -> JSONResponse:
        body = {"error": {"message": str(err), "type": err.kind, "param": None, "code": err.code}}
        return JSONResponse(body, status_code=err.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, err: RequestValidationError) -> JSONResponse:
        message = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
        body = {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}}
        return JSONResponse(body, status_code=400)

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": name, "object": "model", "created": 0, "owned_by": "paperqa-local"}]}

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "model": name, "backend": embedder.backend, "pid": str(os.getpid())}

    @app.post("/v1/embeddings")
    def embeddings(request: EmbeddingRequest) -> dict[str, Any]:
        from paperqa_local.embeddings.endpoint import same_model

        if not same_model(request.model, name):
            raise OpenAIError(404, f"The model '{request.model}' does not exist; this server has '{name}'",
                              "invalid_request_error", "model_not_found")
        if request.dimensions is not None and request.dimensions != embedder.dim:
            raise OpenAIError(400, f"'{name}' vectors have {embedder.dim} dimensions, not {request.dimensions}",
                              "invalid_request_error")
        texts = [request.input] if isinstance(request.input, str) else request.input
        if not texts or len(texts) > MAX_INPUTS:
            raise OpenAIError(400, f"input must hold 1 to {MAX_INPUTS} texts (got {len(texts)})",
                              "invalid_request_error")
        with lock:
            vecs = embedder.embed(texts)
        data = [{"object": "embedding", "index": i, "embedding": _encode(v, request.encoding_format)}
                for i, v in enumerate(vecs)]
        # token counts are not computed: the OpenAI shape needs the field, nothing here bills by it
        return {"object": "list", "data": data, "model": name, "usage": {"prompt_tokens": 0, "total_tokens": 0}}

    return app


def _encode(vec: np.ndarray, fmt: str) -> Any:
    if fmt == "base64":
        return base64.b64encode(np.asarray(vec, dtype="<f4").tobytes()).decode("ascii")
    return vec.astype(float).tolist()


def app_from_env() -> Any:
    """uvicorn's factory for worker processes: settings and threads from ``CONFIG_ENV``."""
    config = json.loads(os.environ[CONFIG_ENV])
    threads = config.pop("threads", None)
    return create_app(Settings.model_validate(config), threads)


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8081, workers: int = 1,
          threads: int | None = None) -> None:
    """Run the server until interrupted; ``workers`` processes, each with ``threads`` cores (default: shared)."""
    import uvicorn

    threads = threads or default_threads(workers)
    if workers <= 1:
        uvicorn.run(create_app(settings, threads), host=host, port=port, log_level="warning")
        return
    config = settings.model_dump(mode="json", include=set(SERVED_SETTINGS))
    os.environ[CONFIG_ENV] = json.dumps({**config, "threads": threads})
    uvicorn.run("paperqa_local.embeddings.server:app_from_env", factory=True, host=host, port=port,
                workers=workers, log_level="warning")


@contextmanager
def embeddings_server(settings: Settings, workers: int = 1, threads: int | None = None,
                      log_path: Path | None = None, timeout: float = 180.0) -> Iterator[str]:
    """``paperqa-local serve-embeddings`` in a subprocess on a free 127.0.0.1 port until the block ends;
    yields its base URL (``.../v1``) once every worker answers (tests, bench)."""
    from paperqa_local.evaluation.servers import HOST, free_port, stop_process, wait_for_port

    port = free_port()
    command = [sys.executable, "-m", "paperqa_local.cli", "--embed-model", settings.embed_model,
               "--embed-backend", settings.embed_backend, "--embed-batch-size", str(settings.embed_batch_size),
               "--models-dir", str(settings.models_path), "serve-embeddings", "--host", HOST, "--port", str(port),
               "--workers", str(workers)] + (["--threads", str(threads)] if threads else [])
    with contextlib.ExitStack() as stack:
        log: Any = subprocess.DEVNULL
        if log_path is not None:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            log = stack.enter_context(log_path.open("wb"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERQA_")}  # the flags say it all
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            wait_for_port(port, timeout=timeout, proc=proc)
            url = f"http://{HOST}:{port}/v1"
            _wait_ready(url, proc, timeout)
            yield url
        finally:
            stop_process(proc)


def _wait_ready(url: str, proc: subprocess.Popen, timeout: float) -> None:
    """With several workers the port listens before the models load: wait for an answer."""
    import httpx

    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"embeddings server exited early with code {proc.returncode}")
        try:
            if httpx.get(url.removesuffix("/v1") + "/health", timeout=timeout).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise TimeoutError(f"embeddings server at {url} not ready after {timeout}s")
