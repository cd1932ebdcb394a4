"""What the UI's buttons do: thin calls into the one shared ``PaperQA`` object.

Per-session data (the conversation) lives in ``gr.State``; the shared object is only read or
asked. Model calls are serialised by ``PaperQA`` itself (llama.cpp is not re-entrant) and by
the Gradio queue (one answer at a time, in arrival order); indexing runs in its own queue.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from paperqa_local.errors import PaperQAError
from paperqa_local.records import FileFailure, IndexReport
from paperqa_local.settings import Settings
from paperqa_local.ui import render
from paperqa_local.ui.render import Turn
from paperqa_local.ui.security import store_upload

log = logging.getLogger(__name__)

# Settings shown in the Settings tab, in field order: the fields tagged ``ui`` (see settings.py).
SETTINGS_FIELDS = list(Settings.ui_fields())
EXPORT_DIR = Path(tempfile.gettempdir()) / "paperqa-ui-exports"


class Callbacks:
    """Event handlers bound to one ``PaperQA`` (the same object the API and CLI use)."""

    def __init__(self, qa: Any) -> None:
        self.qa = qa
        self._index_lock = threading.Lock()

    # ------------------------------------------------------------------ chat
    def ask(self, question: str, turns: list[Turn] | None, collection: str | None = "",
            tag: str | None = "") -> Iterator[tuple[Any, ...]]:
        """Stream one answer: (chatbot, sources, question box, turns, markdown, download); ``collection`` /
        ``tag``: only those papers ("" for all)."""
        question = (question or "").strip()
        turns = list(turns or [])
        if not question:
            yield self._chat_outputs(turns, keep_question="")
            return
        history = [(t.answer.question, t.answer.text) for t in turns if t.answer is not None]
        turn = Turn(question=question)
        turns.append(turn)
        yield self._chat_outputs(turns, pending=render.render_searching())
        only = {"collection": collection or None, "tag": tag or None}
        events = self.qa.stream_chat(history, question, **only) if history else self.qa.stream(question, **only)
        last_push = 0.0
        try:
            with contextlib.closing(events):  # closing stops the model (Stop button, closed tab)
                for event in events:
                    if event.kind == "evidence":
                        turn.contexts = list(event.contexts)
                        yield self._chat_outputs(turns, pending=render.render_partial(len(turns), "", len(turn.contexts)))
                    elif event.kind == "token":
                        turn.partial += event.text
                        now = time.monotonic()
                        if now - last_push > 0.05:  # coalesce tokens: fewer, larger UI updates
                            last_push = now
                            yield self._chat_outputs(
                                turns, pending=render.render_partial(len(turns), turn.partial, len(turn.contexts)))
                    elif event.kind == "answer" and event.answer is not None:
                        turn.answer = event.answer
                        turn.contexts = list(event.answer.contexts) or turn.contexts
        except PaperQAError as err:
            turn.error = str(err)
        except Exception as err:  # the user must see it; the log keeps the traceback
            log.exception("answering %r failed", question)
            turn.error = f"{type(err).__name__}: {err}"
        yield self._chat_outputs(turns)

    def stop(self, turns: list[Turn] | None) -> tuple[Any, ...]:
        """After Gradio cancelled the answer (which closes the model stream): show what was written."""
        turns = list(turns or [])
        if turns and turns[-1].answer is None and turns[-1].error is None:
            turns[-1].stopped = True
        return self._chat_outputs(turns)

    def clear(self) -> tuple[Any, ...]:
        return self._chat_outputs([])

    def _chat_outputs(self, turns: list[Turn], pending: str | None = None,
                      keep_question: str | None = "") -> tuple[Any, ...]:
        messages: list[dict[str, str]] = []
        for i, t in enumerate(turns, start=1):
            messages.append({"role": "user", "content": render.esc(t.question)})
            if t.answer is not None:
                body = render.render_answer(i, t.answer)
            elif t.error is not None:
                body = render.render_error(t.error)
            elif t.stopped:
                body = render.render_stopped(i, t)
            elif i == len(turns) and pending is not None:
                body = pending
            else:
                body = render.render_stopped(i, t)
            messages.append({"role": "assistant", "content": body})
        markdown = render.conversation_markdown(turns)
        download = self._export_file(markdown) if markdown and pending is None else None
        return (messages, render.render_sources(turns), keep_question, turns, markdown,
                gr.update(value=download, interactive=download is not None))

    @staticmethod
    def _export_file(markdown: str) -> str:
        EXPORT_DIR.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=EXPORT_DIR, prefix="answer-", suffix=".md", delete=False,
                                         encoding="utf-8") as fh:
            fh.write(markdown)
        return fh.name

    # ------------------------------------------------------------------ API
    def api_ask(self, question: str, history: list[dict] | None = None, collection: str | None = None,
                tag: str | None = None) -> Iterator[dict]:
        """Ask a question: yields {"status": "evidence"}, {"status": "streaming"}..., then the Answer as a dict.

        ``history`` is a list of {"role": "user"|"assistant", "content": ...} messages for follow-ups;
        ``collection`` / ``tag`` restrict the answer to those papers of an indexed Zotero / BibTeX library.
        """
        text = ""
        events = self.qa.stream_chat(history or [], question, collection=collection or None, tag=tag or None)
        with contextlib.closing(events):
            for event in events:
                if event.kind == "evidence":
                    yield {"status": "evidence", "contexts": [c.to_dict() for c in event.contexts]}
                elif event.kind == "token":
                    text += event.text
                    yield {"status": "streaming", "text": text}
                elif event.answer is not None:
                    yield {"status": "done", **event.answer.to_dict(), "markdown": event.answer.to_markdown()}

    # --------------------------------------------------------------- library
    def library(self, query: str = "", collection: str | None = "", tag: str | None = "") -> tuple[list[list[object]], str]:
        papers = self.qa.papers()
        rows = render.library_rows(papers, query, collection, tag)
        filtered = (query or "").strip() or collection or tag
        shown = f"{len(rows)} of {len(papers)} papers" if filtered else f"{len(papers)} papers"
        return rows, shown

    def label_choices(self) -> tuple[Any, ...]:
        """The collection and tag filters' choices (Ask tab, Library tab): "all" plus every indexed name."""
        names = self.qa.labels()
        updates = {kind: gr.update(choices=[("all", ""), *((n, n) for n in names[kind])]) for kind in names}
        return updates["collection"], updates["tag"], updates["collection"], updates["tag"]

    def upload(self, files: Sequence[str] | None, query: str, collection: str | None = "", tag: str | None = "",
               progress: gr.Progress = gr.Progress()) -> tuple[str, list[list[object]], str, None]:  # noqa: B008
        """Store uploads safely under <home>/uploads/ and index them; every failure is listed."""
        paths = [Path(f) for f in (files or [])]
        if not paths:
            return ("Choose one or more files to add.", *self.library(query, collection, tag), None)
        uploads = Path(self.qa.settings.home) / "uploads"
        stored: list[Path] = []
        failed: list[FileFailure] = []
        for path in paths:
            try:
                stored.append(store_upload(path, uploads, path.name, self.qa.settings.max_upload_mb))
            except (PaperQAError, OSError) as err:
                failed.append(FileFailure(path=path.name, reason=str(err).split(": ", 1)[-1]))

        def on_progress(done: int, total: int, message: str) -> None:
            progress((done, total) if total else None, desc=message)

        progress(0, desc=f"indexing {len(stored)} file(s)")
        report = IndexReport()
        if stored:
            with self._index_lock:
                try:
                    report = self.qa.add(stored, progress=False, on_progress=on_progress)
                except PaperQAError as err:
                    failed.append(FileFailure(path=", ".join(p.name for p in stored), reason=str(err)))
        report.failed = failed + report.failed
        return (render.render_report(report), *self.library(query, collection, tag), None)

    def select_paper(self, evt: gr.SelectData) -> str:
        row = evt.row_value or []
        return str(row[-1]) if row else ""

    def remove(self, paper_id: str, query: str, collection: str | None = "",
               tag: str | None = "") -> tuple[str, list[list[object]], str, str]:
        paper_id = (paper_id or "").strip()
        if not paper_id:
            return ("Select a paper in the table first.", *self.library(query, collection, tag), "")
        try:
            with self._index_lock:
                info = self.qa.remove(paper_id)
            message = f"Removed **{info.title}** (`{info.id}`)."
        except PaperQAError as err:
            message = f"**Could not remove:** {err}"
        return (message, *self.library(query, collection, tag), "")

    # -------------------------------------------------------------- settings
    def save_settings(self, *values: Any) -> str:
        """Apply to the shared PaperQA and persist in <home>/settings.toml."""
        overrides = {name: _coerce(name, value) for name, value in zip(SETTINGS_FIELDS, values, strict=True)}
        try:
            settings = self.qa.update_settings(**overrides)
            path = settings.save(SETTINGS_FIELDS)
        except PaperQAError as err:
            return f"**Not saved:** {err}"
        return f"Saved to `{path}`; used for the next answer."

    def status_line(self) -> str:
        backend = self.qa.backend()
        model = backend.label if backend.generates else "no model"
        return f"{len(self.qa.papers())} papers · {backend.name}: {model}"


def _coerce(name: str, value: Any) -> Any:
    """Gradio sliders send floats; int fields want ints."""
    annotation = Settings.model_fields[name].annotation
    if annotation is int and value is not None:
        return int(round(float(value)))
    return value
