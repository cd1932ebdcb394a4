"""Embedding backends behind the one seam: in-process torch, the ONNX int8 build, an OpenAI-compatible endpoint.

Real parts throughout: the bundled MiniLM, its ONNX build made here, and `paperqa-local serve-embeddings`
on 127.0.0.1 (also with two workers); one fault-injecting proxy in front of it for the retries.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import numpy as np
import openai
import pytest

from paperqa_local.embedding import DEFAULT_MODEL, Embedder
from paperqa_local.embeddings import make_embedder
from paperqa_local.embeddings.endpoint import EndpointEmbedder
from paperqa_local.embeddings.onnx import OnnxEmbedder, build_onnx, is_built, onnx_dir
from paperqa_local.embeddings.server import embeddings_server
from paperqa_local.errors import BackendUnavailable, ModelError
from paperqa_local.evaluation.servers import free_port
from paperqa_local.settings import Settings

PINNED_COLLECTION = "papers-all-minilm-l6-v2-256-32-f35e59b325"
TEXTS = [
    "FFCV trains an ImageNet ResNet-50 to 75% top-1 accuracy in about 20 minutes on one machine.",
    "Data loading is often the bottleneck when training vision models.",
    "The protein folds into a beta sheet under acidic conditions.",
    "Mutations in BRCA1 raise the risk of breast and ovarian cancer.",
    "Transformers replaced recurrent networks for machine translation.",
    "short",
    "A much longer passage " + "about gradient descent, learning rates and warm-up schedules " * 12,
] * 4
QUERIES = ["fast ImageNet training", "breast cancer genes", "machine translation models"]


@pytest.fixture(scope="module")
def torch_embedder() -> Embedder:
    return Embedder()


@pytest.fixture(scope="module")
def reference(torch_embedder: Embedder) -> np.ndarray:
    return torch_embedder.embed(TEXTS)


@pytest.fixture(scope="module")
def onnx_models(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The build `make install` made, else one made here (the same function)."""
    if is_built(models_dir):
        return models_dir
    path = tmp_path_factory.mktemp("models")
    build_onnx(path)
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("embed-server") / "server.log"
    with embeddings_server(Settings.load(), log_path=log) as url:
        yield url


def _endpoint(url: str, **kw) -> EndpointEmbedder:  # noqa: ANN003
    return EndpointEmbedder(DEFAULT_MODEL, kw.pop("batch_size", 4), base_url=url, **kw)


# ---------------------------------------------------------------------- the seam
def test_backend_from_settings_and_one_collection(home: Path, onnx_models: Path) -> None:
    kinds = {"local": Embedder, "onnx": OnnxEmbedder, "openai": EndpointEmbedder}
    for backend, kind in kinds.items():
        settings = Settings.load(home=home, embed_backend=backend, models_dir=onnx_models)
        assert type(make_embedder(settings)) is kind
        # the same model's vectors whoever computes them: existing libraries keep opening
        assert settings.collection_name == PINNED_COLLECTION


# ---------------------------------------------------------------------- ONNX int8
def test_onnx_int8_build_matches_torch(onnx_models: Path, torch_embedder: Embedder, reference: np.ndarray) -> None:
    folder = onnx_dir(onnx_models)
    built = (folder / "model.onnx").stat().st_mtime_ns
    assert build_onnx(onnx_models) == folder and (folder / "model.onnx").stat().st_mtime_ns == built  # cached
    onnx = OnnxEmbedder(models_path=onnx_models)
    vecs = onnx.embed(TEXTS)
    assert vecs.dtype == np.float32 and vecs.shape == reference.shape == (len(TEXTS), onnx.dim)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    cosine = (vecs * reference).sum(axis=1)
    assert cosine.min() > 0.97 and cosine.mean() > 0.99  # int8: one-word texts move most
    # the same nearest passage for each query as torch
    for query in QUERIES:
        assert np.argmax(reference @ torch_embedder.embed_query(query)) == np.argmax(vecs @ onnx.embed_query(query))


def test_onnx_without_a_build_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"no ONNX build of embedding model 'all-MiniLM-L6-v2' in .*: "
                                         r"run `paperqa-local models build-onnx`"):
        OnnxEmbedder(models_path=tmp_path)


# ---------------------------------------------------------------------- the server
def test_server_speaks_the_openai_format(server: str, reference: np.ndarray) -> None:
    client = openai.OpenAI(base_url=server, api_key="unused")
    assert [m.id for m in client.models.list()] == [DEFAULT_MODEL]
    as_float = client.embeddings.create(model=DEFAULT_MODEL, input=TEXTS[:3], encoding_format="float")
    as_base64 = client.embeddings.create(model=DEFAULT_MODEL, input=TEXTS[:3])  # the SDK's default
    assert as_float.model == DEFAULT_MODEL and [d.index for d in as_float.data] == [0, 1, 2]
    for got in (as_float, as_base64):
        assert np.allclose(np.array([d.embedding for d in got.data]), reference[:3], atol=1e-5)
    single = client.embeddings.create(model=f"sentence-transformers/{DEFAULT_MODEL}", input=TEXTS[0])
    assert len(single.data) == 1
    with pytest.raises(openai.NotFoundError) as err:
        client.embeddings.create(model="bge-small-en", input="x")
    assert err.value.body["code"] == "model_not_found" and "this server has 'all-MiniLM-L6-v2'" in err.value.body["message"]
    for bad in ({"model": DEFAULT_MODEL, "input": []}, {"model": DEFAULT_MODEL, "input": "x", "dimensions": 768},
                {"model": DEFAULT_MODEL}):
        answer = httpx.post(f"{server}/embeddings", json=bad, timeout=30)
        assert answer.status_code == 400 and answer.json()["error"]["type"] == "invalid_request_error"


def test_endpoint_backend_equals_in_process(server: str, reference: np.ndarray) -> None:
    embedder = _endpoint(server, batch_size=3, concurrency=4)
    seen: list[int] = []
    vecs = embedder.embed(TEXTS, on_batch=seen.append)
    assert embedder.dim == 384 and sum(seen) == len(TEXTS) and len(seen) == -(-len(TEXTS) // 3)
    assert np.allclose(vecs, reference, atol=1e-5)  # order kept across concurrent batches
    assert embedder.embed([]).shape == (0, 384)
    assert embedder.embed_query(TEXTS[0]) is embedder.embed_query(TEXTS[0])  # cached


def test_endpoint_of_another_model_is_one_clear_line(server: str) -> None:
    with pytest.raises(ModelError, match=r"embeddings endpoint .* serves 'all-MiniLM-L6-v2', not 'bge-small-en' "
                                         r"\(this library's embed_model 'all-MiniLM-L6-v2'\)"):
        _endpoint(server, api_model="bge-small-en").embed(["x"])


def test_endpoint_of_another_dimension_is_one_clear_line(server: str, tmp_path: Path) -> None:
    library_model = tmp_path / DEFAULT_MODEL  # a local folder of that name whose vectors are 768-dimensional
    (library_model / "1_Pooling").mkdir(parents=True)
    (library_model / "1_Pooling" / "config.json").write_text(json.dumps({"word_embedding_dimension": 768}))
    embedder = EndpointEmbedder(str(library_model), base_url=server)
    with pytest.raises(ModelError, match=r"returns 384-dimensional vectors for 'all-MiniLM-L6-v2'; this library's "
                                         r"'.*all-MiniLM-L6-v2' vectors are 768-dimensional"):
        embedder.check()


def test_endpoint_unreachable(home: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    settings = Settings.load(home=home, embed_backend="openai", embed_base_url=url)
    with pytest.raises(BackendUnavailable, match=f"embeddings endpoint {url} unreachable") as err:
        make_embedder(settings).embed(["x"])
    assert "\n" not in str(err.value)


class _Flaky(BaseHTTPRequestHandler):
    """Forwards to the real server, after answering the first ``failures`` POSTs with 503."""

    upstream = ""
    failures = 0
    posts = 0
    lock = threading.Lock()

    def do_GET(self) -> None:  # noqa: N802
        self._forward(httpx.get(self.upstream + self.path, timeout=60))

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.lock:
            type(self).posts += 1
            fail = type(self).posts <= self.failures
        if fail:
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self._forward(httpx.post(self.upstream + self.path, content=body, timeout=60,
                                 headers={"Content-Type": "application/json"}))

    def _forward(self, answer: httpx.Response) -> None:
        self.send_response(answer.status_code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    def log_message(self, *args) -> None:  # noqa: ANN002
        pass


def test_endpoint_retries_server_errors(server: str, reference: np.ndarray) -> None:
    handler = type("Flaky", (_Flaky,), {"upstream": server.removesuffix("/v1"), "failures": 2, "posts": 0})
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        embedder = _endpoint(f"http://127.0.0.1:{proxy.server_port}/v1", batch_size=8, concurrency=2)
        assert np.allclose(embedder.embed(TEXTS), reference, atol=1e-5)
        assert handler.posts == 2 + 1 + -(-len(TEXTS) // 8)  # two 503s, the probe, the batches
    finally:
        proxy.shutdown()
        proxy.server_close()


def test_two_server_workers(tmp_path: Path, reference: np.ndarray) -> None:
    with embeddings_server(Settings.load(), workers=2, threads=1, log_path=tmp_path / "server.log") as url:
        vecs = _endpoint(url, batch_size=2, concurrency=4).embed(TEXTS)
    assert np.allclose(vecs, reference, atol=1e-5)
