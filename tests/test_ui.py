"""The web UI: its safety rules (unit), its public API via gradio_client, and a real headless browser.

The servers bind 127.0.0.1 on free ports and are closed by the test that started them.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import paperqa_local.offline  # noqa: F401  (offline env, analytics off, before gradio is imported)
from paperqa_local.errors import LibraryError, ModelError, SettingsError
from paperqa_local.evaluation.servers import free_port
from paperqa_local.ui.security import check_bind, is_loopback, parse_auth, safe_filename, store_upload

FAST = "qwen2.5-coder-0.5b-instruct-q4_k_m"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]

ZEPHYR = """# ZephyrNet: Wind-Tunnel Pretraining for Tiny Weather Models

Authors: Ada Quill, Bo Rennet

## Abstract

We introduce ZephyrNet, a 12-million-parameter convolutional weather model pretrained on synthetic wind-tunnel
flows. ZephyrNet forecasts surface wind speed 6 hours ahead with a mean absolute error of 0.41 metres per second
on the Gale-2024 benchmark, beating the previous best model by 18 percent.

## Method

ZephyrNet is trained for 90 minutes on a single laptop GPU. Its key idea is vortex dropout: randomly removing
simulated vortices from the training flows so that the network learns the background pressure field.
The training set contains 3.2 million synthetic wind-tunnel snapshots.

## Results

On the Gale-2024 benchmark ZephyrNet reaches a mean absolute error of 0.41 metres per second. Without vortex
dropout the error rises to 0.57 metres per second.
"""

KESTREL = """KestrelDB: A Log-Structured Store for Sensor Telemetry

Abstract

KestrelDB is a log-structured key-value store designed for sensor telemetry. It compacts segments with a
tiered merge policy and sustains 2.4 million writes per second on a single NVMe drive. Reads of the latest
value for a sensor complete in 80 microseconds at the 99th percentile.
"""


@contextlib.contextmanager
def serve(qa, auth: tuple[str, str] | None = None) -> Iterator[str]:
    """The real UI in this process on 127.0.0.1:<free port>; closed on exit."""
    from paperqa_local.ui.app import launch

    assert os.environ.get("GRADIO_ANALYTICS_ENABLED") == "False"
    demo = launch(qa, host="127.0.0.1", port=free_port(), auth=auth, prevent_thread_lock=True)
    try:
        yield f"http://127.0.0.1:{demo.server_port}/"
    finally:
        demo.close()


@pytest.fixture
def papers_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "papers"
    folder.mkdir()
    (folder / "zephyrnet.md").write_text(ZEPHYR, encoding="utf-8")
    (folder / "kestreldb.txt").write_text(KESTREL, encoding="utf-8")
    return folder


# ------------------------------------------------------------------ security rules (unit)
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "LOCALHOST", "::1", "[::1]", "127.8.9.10"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "10.0.0.1", "example.com", ""])
def test_non_loopback_hosts(host: str) -> None:
    assert not is_loopback(host)


def test_bind_rule() -> None:
    assert check_bind("127.0.0.1", None, False) is None
    assert check_bind("localhost", "ann:pw", False) == ("ann", "pw")
    with pytest.raises(SettingsError, match="--auth USER:PASSWORD"):
        check_bind("0.0.0.0", None, False)
    with pytest.raises(SettingsError, match="refusing"):
        check_bind("192.168.1.20", None, False)
    assert check_bind("0.0.0.0", None, True) is None  # an explicit --no-auth
    assert check_bind("0.0.0.0", "ann:a:b", False) == ("ann", "a:b")  # the password may contain ':'
    with pytest.raises(SettingsError, match="not both"):
        check_bind("0.0.0.0", "ann:pw", True)


@pytest.mark.parametrize("value", ["ann", "ann:", ":pw", ""])
def test_bad_auth_values(value: str) -> None:
    with pytest.raises(SettingsError, match="USER:PASSWORD"):
        parse_auth(value)


@pytest.mark.timeout(120)
def test_cli_refuses_a_public_host_without_auth(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from paperqa_local.cli import main

    assert main(["--home", str(tmp_path), "ui", "--host", "0.0.0.0"]) != 0
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --host 0.0.0.0: refusing") and "\n" not in err


def test_ui_host_and_port_are_settings(tmp_path: Path) -> None:
    from paperqa_local.cli import build_parser, settings_from_args

    args = build_parser().parse_args(["--home", str(tmp_path), "ui", "--host", "::1", "--port", "9999", "--no-auth"])
    s = settings_from_args(args)
    assert (s.host, s.port, args.no_auth, args.auth) == ("::1", 9999, True, None)


def test_settings_tab_is_built_from_the_field_tags(tmp_path: Path) -> None:
    import gradio as gr

    from paperqa_local.settings import Settings
    from paperqa_local.ui.app import CSS, HEAD, _control

    settings = Settings(home=tmp_path, models_dir=tmp_path / "models", k=4)
    controls = {name: _control(name, spec, settings) for name, spec in Settings.ui_fields().items()}
    assert isinstance(controls["llm"], gr.Radio) and controls["llm"].value == "local"
    assert isinstance(controls["model"], gr.Dropdown) and controls["model"].value == settings.model
    assert isinstance(controls["openai_model"], gr.Textbox)
    k = controls["k"]
    assert isinstance(k, gr.Slider) and (k.minimum, k.maximum, k.step, k.value) == (1, 20, 1, 4)
    assert all(c.elem_id == f"pq-set-{name}" for name, c in controls.items())
    # the page's CSS and script are package files, read at start
    assert ".pq-cite" in CSS and HEAD.startswith("<script>") and "window.pqCopy" in HEAD


@pytest.mark.parametrize(("name", "safe"), [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\win.ini", "win.ini"),
    ("/abs/path/paper.PDF", "paper.pdf"),
    ("C:\\x\\Über paper.pdf", "Uber_paper.pdf"),
    (".bashrc", "bashrc"),
    ("..", "upload"),
    ("", "upload"),
    ("a\x00b;rm -rf.txt", "a_b_rm_-rf.txt"),
    ("notes...md", "notes.md"),
])
def test_safe_filename(name: str, safe: str) -> None:
    assert safe_filename(name) == safe


def test_safe_filename_caps_length_and_keeps_extension() -> None:
    name = safe_filename("x" * 500 + ".pdf")
    assert len(name) <= 120 and name.endswith(".pdf")


def test_store_upload_never_leaves_the_uploads_folder(tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text("a paper", encoding="utf-8")
    uploads = tmp_path / "home" / "uploads"
    for evil in ["../../../evil.txt", "..\\..\\evil.txt", "/etc/evil.txt", "uploads/../../evil.txt"]:
        stored = store_upload(src, uploads, evil, max_mb=1)
        assert stored.parent == uploads and stored.name.endswith("-evil.txt")
    assert sorted(p.name for p in tmp_path.rglob("evil*")) == []  # nothing named evil.txt outside uploads/
    assert {p.parent for p in tmp_path.rglob("*evil.txt")} == {uploads}


def test_store_upload_same_name_never_overwrites(tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    first, second = tmp_path / "a", tmp_path / "b"
    first.write_text("first paper", encoding="utf-8")
    second.write_text("second paper", encoding="utf-8")
    p1 = store_upload(first, uploads, "paper.txt", max_mb=1)
    p2 = store_upload(second, uploads, "paper.txt", max_mb=1)
    assert p1 != p2
    assert p1.read_text(encoding="utf-8") == "first paper" and p2.read_text(encoding="utf-8") == "second paper"
    # the same paper again lands on the same file (so indexing sees it unchanged)
    assert store_upload(first, uploads, "paper.txt", max_mb=1) == p1
    assert not list(uploads.glob("*.part"))


def test_store_upload_size_cap(tmp_path: Path) -> None:
    big = tmp_path / "big.pdf"
    big.write_bytes(b"x" * (1024 * 1024 + 1))
    uploads = tmp_path / "uploads"
    with pytest.raises(LibraryError, match="over the 1 MB upload limit"):
        store_upload(big, uploads, "big.pdf", max_mb=1)
    assert not uploads.exists() or not any(uploads.iterdir())
    assert store_upload(big, uploads, "big.pdf", max_mb=2).stat().st_size == big.stat().st_size


# ------------------------------------------------------------------ the public API (gradio_client)
@pytest.mark.integration
def test_gradio_client_asks_like_a_script(tmp_path: Path, papers_dir: Path, models_dir: Path) -> None:
    from gradio_client import Client

    from paperqa_local.pipeline import PaperQA

    qa = PaperQA(home=tmp_path / "home", models_dir=models_dir, llm="extractive")
    try:
        assert qa.add([papers_dir], progress=False).ok
        with serve(qa) as url:
            client = Client(url, verbose=False, download_files=False, analytics_enabled=False)
            api = client.view_api(print_info=False, return_format="dict")
            assert set(api["named_endpoints"]) == {"/ask", "/chat"}  # nothing else is public

            question = "How many writes per second does KestrelDB sustain?"
            result = client.predict(question, api_name="/ask")
            assert result["status"] == "done" and not result["cannot_answer"], result
            assert "2.4 million writes per second" in result["text"] and result["citations"]
            cited = {r["title"] for r in result["references"]}
            assert cited == {"KestrelDB: A Log-Structured Store for Sensor Telemetry"}, result["references"]
            assert "[1]" in result["markdown"] and "KestrelDB" in result["markdown"]

            # streamed: evidence first, then the text, then the finished answer
            job = client.submit(question, None, api_name="/ask")
            statuses = [update["status"] for update in job]
            assert statuses[0] == "evidence" and statuses[-1] == "done" and "streaming" in statuses

            # a follow-up with history, the way a chat script would send it
            history = [{"role": "user", "content": question}, {"role": "assistant", "content": result["text"]}]
            follow = client.predict("How fast are its reads?", history, api_name="/ask")
            assert "80 microseconds" in follow["text"], follow["text"]
            assert {r["title"] for r in follow["references"]} == cited

            # the chat button's endpoint returns the rendered chat and the sources panel
            chat, sources, *_ = client.predict("What error does ZephyrNet reach on Gale-2024?", api_name="/chat")
            answer_html = chat[-1]["content"][0]["text"]
            assert 'class="pq-cite"' in answer_html and "0.41 metres per second" in answer_html
            assert 'id="src-1-1"' in sources and "ZephyrNet" in sources
    finally:
        qa.close()


@pytest.mark.integration
def test_twenty_sessions_at_once_all_get_their_own_answer(tmp_path: Path, papers_dir: Path, models_dir: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from gradio_client import Client

    from paperqa_local.pipeline import PaperQA

    asked = [("How many writes per second does KestrelDB sustain?", "2.4 million writes per second", "KestrelDB"),
             ("What error does ZephyrNet reach on Gale-2024?", "0.41 metres per second", "ZephyrNet")] * 10
    qa = PaperQA(home=tmp_path / "home", models_dir=models_dir, llm="extractive")
    try:
        assert qa.add([papers_dir], progress=False).ok
        with serve(qa) as url:
            def session(item: tuple[str, str, str]) -> tuple[dict, str, str]:
                client = Client(url, verbose=False, download_files=False, analytics_enabled=False)  # its own session
                return client.predict(item[0], api_name="/ask"), item[1], item[2]

            with ThreadPoolExecutor(max_workers=len(asked)) as pool:
                results = list(pool.map(session, asked))
        assert len(results) == 20
        for result, fact, paper in results:  # 0 errors, and no session got another one's answer
            assert result["status"] == "done" and not result["cannot_answer"], result
            assert fact in result["text"] and all(paper in r["title"] for r in result["references"]), result
    finally:
        qa.close()


@pytest.mark.integration
def test_auth_is_required_when_given(tmp_path: Path, models_dir: Path) -> None:
    import httpx
    from gradio_client import Client

    from paperqa_local.pipeline import PaperQA

    qa = PaperQA(home=tmp_path / "home", models_dir=models_dir, llm="extractive")
    try:
        with serve(qa, auth=("ann", "s3cret:pw")) as url:
            assert httpx.get(url + "config", timeout=30).status_code == 401
            with pytest.raises(Exception):  # noqa: B017  (whatever gradio_client raises: not logged in)
                Client(url, verbose=False, download_files=False, analytics_enabled=False)
            client = Client(url, auth=("ann", "s3cret:pw"), verbose=False, download_files=False,
                            analytics_enabled=False)
            assert client.predict("anything at all?", api_name="/ask")["cannot_answer"]
    finally:
        qa.close()


# ------------------------------------------------------------------ a real browser
# Records every version of the streaming answer the page shows (the answer can finish within a second).
WATCH_STREAM = """() => {
  window.pqPartials = [];
  const chat = document.querySelector('#pq-chat');
  new MutationObserver(() => {
    const el = chat.querySelector('.pq-streaming');
    if (!el) return;
    const text = el.innerText.replace('▍', '').trim();
    if (text && !text.startsWith('Searching') && !text.startsWith('Found')
        && window.pqPartials[window.pqPartials.length - 1] !== text) window.pqPartials.push(text);
  }).observe(chat, {childList: true, subtree: true, characterData: true});
}"""


@pytest.mark.integration
@pytest.mark.browser
@pytest.mark.timeout(600)
def test_browser_upload_ask_and_open_a_citation(tmp_path: Path, models_dir: Path, output_dir: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    from paperqa_local.llms.models import resolve_model
    from paperqa_local.pipeline import PaperQA

    try:
        resolve_model(FAST, models_dir)
    except ModelError as err:
        pytest.fail(f"the fast local model is needed for this test ({err}); run `make install`")
    assert Path(CHROMIUM).is_file(), f"{CHROMIUM} is missing: run `make install` (it installs Debian chromium)"
    paper = tmp_path / "ZephyrNet paper.md"
    paper.write_text(ZEPHYR, encoding="utf-8")

    qa = PaperQA(home=tmp_path / "home", models_dir=models_dir, llm="local", model=FAST, max_tokens=160)
    try:
        with serve(qa) as url, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.set_default_timeout(60_000)
                page.goto(url)
                expect(page.locator("#pq-status")).to_contain_text("0 papers")

                # Library: upload through the file input; the paper shows up in the table
                page.get_by_role("tab", name="Library").click()
                page.locator("#pq-upload input[type=file]").set_input_files(paper)
                expect(page.locator("#pq-index-status")).to_contain_text("1 added", timeout=180_000)
                expect(page.locator("#pq-papers")).to_contain_text("ZephyrNet: Wind-Tunnel Pretraining")
                expect(page.locator("#pq-count")).to_contain_text("1 papers")
                expect(page.locator("#pq-status")).to_contain_text("1 papers")
                stored = list((tmp_path / "home" / "uploads").iterdir())
                assert [p.name.split("-", 1)[1] for p in stored] == ["ZephyrNet_paper.md"]

                # Ask: the answer streams in, then the checked answer with citation links
                page.get_by_role("tab", name="Ask").click()
                page.evaluate(WATCH_STREAM)
                page.locator("#pq-question textarea").fill(
                    "What mean absolute error does ZephyrNet reach on the Gale-2024 benchmark?")
                page.locator("#pq-ask").click()
                answer = page.locator("#pq-chat .pq-answer:not(.pq-streaming)").last
                expect(answer.locator(".pq-stats")).to_contain_text(FAST, timeout=240_000)
                partials = page.evaluate("window.pqPartials")
                assert len(partials) >= 2 and len(partials[-1]) > len(partials[0]), partials  # it streamed
                text = answer.inner_text()
                assert "0.41" in text, text
                marker = answer.locator("a.pq-cite").first
                expect(marker).to_be_visible()

                # the sources panel lists the passages; none is highlighted yet; fold the group away
                panel = page.locator("#pq-sources-panel")
                expect(panel.locator(".pq-src")).not_to_have_count(0)
                assert panel.locator(".pq-src.pq-active").count() == 0
                page.evaluate("document.getElementById('turn-1').open = false")
                target = marker.get_attribute("href").split("#")[-1]
                card = panel.locator(f"#{target}")
                expect(card).to_be_hidden()

                # clicking the marker opens its card, highlights it and scrolls it into view
                marker.click()
                expect(card).to_have_class(re.compile(r"\bpq-active\b"))
                expect(card).to_be_visible()
                expect(card).to_be_in_viewport()
                expect(card.locator(".pq-passage")).to_contain_text("ZephyrNet")
                expect(card.locator(".pq-passage mark")).not_to_have_count(0)
                expect(panel.locator(".pq-src.pq-active")).to_have_count(1)
                assert "#src-" not in page.url  # handled in the page, no navigation
                time.sleep(0.5)  # let the smooth scroll settle for the screenshot
                page.screenshot(path=str(output_dir / "ui-browser.png"))

                # the chatbot's own Clear (trash) button starts a new conversation: sources go too
                page.locator("#pq-chat button[aria-label='Clear']").click()
                expect(panel.locator(".pq-sources.pq-empty")).to_be_visible()
                expect(page.locator("#pq-chat .pq-answer")).to_have_count(0)
            finally:
                browser.close()
    finally:
        qa.close()
