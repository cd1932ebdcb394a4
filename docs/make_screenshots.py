"""Make the README screenshots: docs/screenshot-chat.png and docs/screenshot-library.png.

    .venv/bin/python docs/make_screenshots.py [--model NAME] [--home DIR] [--out DIR]

Indexes seeds/ into a temporary library home (or reuses --home if it already has papers), serves the
real UI on 127.0.0.1, and drives headless Chromium (/usr/bin/chromium, from `make install`): asks the
demo question with the local model, opens the first citation in the sources panel, then shows the
Library tab. Everything stays on this machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import paperqa_local.offline  # noqa: F401  (offline env and analytics off before gradio is imported)
from paperqa_local.evaluation.servers import free_port
from paperqa_local.pipeline import PaperQA
from paperqa_local.settings import Settings
from paperqa_local.ui.app import launch

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "Which method trains an ImageNet ResNet-50 to 75% in about 20 minutes on a single machine?"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--force-color-profile=srgb"]
VIEWPORT = {"width": 1400, "height": 900}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=Settings.model_fields["model"].default,
                        help="local model (default: %(default)s; qwen2.5-coder-0.5b-instruct-q4_k_m is faster)")
    parser.add_argument("--home", type=Path, default=None, help="library home to use (default: a temporary one)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="where the PNGs go (default: docs/)")
    args = parser.parse_args(argv)

    from playwright.sync_api import expect, sync_playwright

    tmp = tempfile.TemporaryDirectory(prefix="paperqa-shots-")
    home = args.home or Path(tmp.name) / "home"
    qa = PaperQA(home=home, llm="local", model=args.model)
    try:
        if not qa.papers():
            t0 = time.perf_counter()
            report = qa.add([ROOT / "seeds"], progress=True)
            print(f"indexed seeds/ in {time.perf_counter() - t0:.0f}s: {report.summary()}", flush=True)
        qa.warm_up()  # as `paperqa-local ui` does at start-up: the shown timings are a warm answer's
        demo = launch(qa, host="127.0.0.1", port=free_port(), prevent_thread_lock=True)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    page = browser.new_page(viewport=VIEWPORT, device_scale_factor=1, color_scheme="light")
                    page.set_default_timeout(60_000)
                    page.goto(f"http://127.0.0.1:{demo.server_port}/?__theme=light")
                    expect(page.locator("#pq-status")).to_contain_text(f"{len(qa.papers())} papers")

                    # Ask: the demo question, its answer, and the first cited passage opened
                    page.locator("#pq-question textarea").fill(QUESTION)
                    page.locator("#pq-ask").click()
                    answer = page.locator("#pq-chat .pq-answer:not(.pq-streaming)").last
                    expect(answer.locator(".pq-stats")).to_be_visible(timeout=300_000)
                    marker = answer.locator("a.pq-cite").first
                    if marker.count():
                        marker.click()
                        page.locator("#pq-sources-panel .pq-src.pq-active").wait_for()
                    else:
                        print("warning: the answer has no citation marker", file=sys.stderr)
                    page.mouse.move(0, 0)  # no hover styles in the picture
                    page.wait_for_timeout(800)  # smooth scroll
                    args.out.mkdir(parents=True, exist_ok=True)
                    chat_png = args.out / "screenshot-chat.png"
                    page.screenshot(path=str(chat_png))
                    print(f"answer: {answer.inner_text().splitlines()[0]}")
                    print(f"wrote {chat_png}")

                    # Library: the papers table
                    page.get_by_role("tab", name="Library").click()
                    expect(page.locator("#pq-count")).to_contain_text(f"{len(qa.papers())} papers")
                    expect(page.locator("#pq-papers [role=row]").nth(3)).to_be_visible()
                    page.mouse.move(0, 0)
                    page.wait_for_timeout(500)
                    library_png = args.out / "screenshot-library.png"
                    page.screenshot(path=str(library_png))
                    print(f"wrote {library_png}")
                finally:
                    browser.close()
        finally:
            demo.close()
    finally:
        qa.close()
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
