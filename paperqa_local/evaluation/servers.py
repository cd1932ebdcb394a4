"""Local servers for tests and benches: a free port, a `chroma run` and a `llama_cpp.server`, all on 127.0.0.1.

Both the test suite and the bench measure against real servers; starting, waiting for and stopping
them lives here once so the two cannot drift apart.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"


def free_port() -> int:
    """A port nothing listens on now (the OS picks it)."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 90.0, proc: subprocess.Popen | None = None) -> None:
    """Return once ``port`` accepts connections; raise if ``proc`` exits first or ``timeout`` passes."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited early with code {proc.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"nothing listening on {HOST}:{port} after {timeout}s")


def stop_process(proc: subprocess.Popen) -> None:
    """Terminate, then kill if it has not stopped within 15 s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


@contextmanager
def _serve(command: list[str], port: int, log_path: Path | None, timeout: float) -> Iterator[None]:
    """Run ``command`` (output to ``log_path``, else dropped) until the block ends; ready once ``port`` listens."""
    with contextlib.ExitStack() as stack:
        if log_path is None:
            log: Any = subprocess.DEVNULL
        else:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            log = stack.enter_context(log_path.open("wb"))
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for_port(port, timeout=timeout, proc=proc)
            yield
        finally:
            stop_process(proc)


@contextmanager
def chroma_server(data: Path, timeout: float = 90.0) -> Iterator[str]:
    """A `chroma run` storing under ``data`` (log in ``data/server.log``); yields its URL."""
    exe = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    if exe is None:
        raise RuntimeError("the `chroma` command is missing: run `make install`")
    port = free_port()
    command = [exe, "run", "--host", HOST, "--port", str(port), "--path", str(data / "db")]
    with _serve(command, port, data / "server.log", timeout):
        yield f"http://{HOST}:{port}"


@contextmanager
def llama_cpp_server(model: Path, log_path: Path | None = None, n_ctx: int = 2048, alias: str | None = None,
                     timeout: float = 120.0) -> Iterator[str]:
    """``python -m llama_cpp.server`` serving the GGUF ``model`` (named ``alias`` if given); yields its
    OpenAI-compatible base URL (``.../v1``)."""
    port = free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", HOST,
               "--port", str(port), "--n_ctx", str(n_ctx), "--interrupt_requests", "False"]
    command += ["--model_alias", alias] if alias else []  # not interrupted: concurrent requests each finish
    with _serve(command, port, log_path, timeout):
        yield f"http://{HOST}:{port}/v1"
