"""The Gradio layout: three tabs (Ask, Library, Settings) wired to ``Callbacks``; collection / tag filters
(from indexed Zotero / BibTeX libraries) narrow both the questions and the library table.

Everything is served from this machine: local fonts only, no CDN, analytics off
(``paperqa_local.offline``); the page's CSS and its one small script for citation links are
``static/app.css`` and ``static/app.js``, read once at start. The Settings tab is built from
the settings' ``ui`` field tags (``Settings.ui_fields``), so its controls and limits never drift.
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

import gradio as gr

from paperqa_local.readers import SUPPORTED_EXTENSIONS
from paperqa_local.settings import Settings
from paperqa_local.ui import render
from paperqa_local.ui.callbacks import Callbacks

TITLE = "paperqa-local"
STATIC = Path(__file__).with_name("static")
CSS = (STATIC / "app.css").read_text(encoding="utf-8")
HEAD = f"<script>\n{(STATIC / 'app.js').read_text(encoding='utf-8')}</script>\n"

THEME = gr.themes.Default(
    primary_hue="indigo", secondary_hue="sky", neutral_hue="slate",
    # Bundled fonts and system fonts only: nothing is fetched from a font CDN.
    font=(gr.themes.LocalFont("Source Sans Pro", weights=(400, 600)), "ui-sans-serif", "system-ui", "sans-serif"),
    font_mono=(gr.themes.LocalFont("IBM Plex Mono", weights=(400, 600)), "ui-monospace", "monospace"),
)


def build_app(qa: Any) -> gr.Blocks:
    """The whole UI for one shared ``PaperQA`` (layout only; behaviour is in ``Callbacks``)."""
    cb = Callbacks(qa)
    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        with gr.Row(elem_id="pq-header"):
            gr.Markdown("# paperqa-local\nAnswers from your papers, with the exact passage behind every citation.")
            status = gr.Markdown(elem_id="pq-status")  # filled on load (a callable value would be a public API)
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"):
                turns = gr.State([])
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(
                            elem_id="pq-chat", height=600, buttons=[], feedback_options=None,
                            latex_delimiters=[], show_label=False, layout="bubble",
                            placeholder="Ask a question about your papers. Every claim is cited [n]; "
                                        "click a marker to read the passage.",
                        )
                        with gr.Row():
                            question = gr.Textbox(placeholder="Ask about your papers… (follow-ups work)",
                                                  show_label=False, scale=8, lines=1, max_lines=4,
                                                  elem_id="pq-question", autofocus=True)
                            ask_btn = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="pq-ask")
                            stop_btn = gr.Button("Stop", variant="stop", scale=1, min_width=80, elem_id="pq-stop")
                        with gr.Row():
                            ask_collection = _label_filter("collection", "pq-ask-collection")
                            ask_tag = _label_filter("tag", "pq-ask-tag")
                        with gr.Row():
                            copy_btn = gr.Button("Copy as Markdown", size="sm", elem_id="pq-copy")
                            download = gr.DownloadButton("Download .md", size="sm", interactive=False,
                                                         elem_id="pq-download")
                            clear_btn = gr.Button("New conversation", size="sm", elem_id="pq-clear")
                        markdown = gr.Textbox(visible="hidden", elem_id="pq-markdown")
                    with gr.Column(scale=2):
                        gr.Markdown("### Sources")
                        sources = gr.HTML(render.render_sources([]), elem_id="pq-sources-panel", js_on_load=None)

            with gr.Tab("Library", id="library"):
                exts = sorted(SUPPORTED_EXTENSIONS)
                files = gr.File(file_count="multiple", file_types=exts, elem_id="pq-upload",
                                label=f"Add papers ({', '.join(e.lstrip('.').upper() for e in exts)}; "
                                      f"Hugging Face Daily Papers pages too) · up to "
                                      f"{qa.settings.max_upload_mb:g} MB each")
                index_status = gr.Markdown(elem_id="pq-index-status")
                with gr.Row():
                    query = gr.Textbox(placeholder="Filter by title, author, venue, file or id", show_label=False,
                                       scale=4, elem_id="pq-filter")
                    lib_collection = _label_filter("collection", "pq-lib-collection")
                    lib_tag = _label_filter("tag", "pq-lib-tag")
                    count = gr.Markdown(elem_id="pq-count")
                table = gr.Dataframe(headers=render.LIBRARY_COLUMNS, interactive=False, wrap=True, max_height=560,
                                     column_widths=["32%", "17%", "6%", "14%", "13%", "6%", "12%"],
                                     elem_id="pq-papers", datatype=render.LIBRARY_TYPES)
                with gr.Row():
                    selected = gr.Textbox(label="Selected paper (click a row, or type an id / id prefix)", scale=4,
                                          elem_id="pq-selected")
                    remove_btn = gr.Button("Remove paper", variant="stop", scale=1, elem_id="pq-remove")

            with gr.Tab("Settings", id="settings"):
                gr.Markdown(f"Saved in `{qa.settings.home / 'settings.toml'}` and used for the next answer "
                            "(all sessions share one library and model).")
                controls = [_control(name, spec, qa.settings) for name, spec in Settings.ui_fields().items()]
                save_btn = gr.Button("Save settings", variant="primary", elem_id="pq-save")
                settings_status = gr.Markdown(elem_id="pq-settings-status")

        # ---- wiring -----------------------------------------------------------------
        chat_out = [chatbot, sources, question, turns, markdown, download]
        # one llama.cpp context answers one question at a time; an endpoint (or no model) several
        answers_at_once = qa.settings.ui_concurrency
        ask_events = [
            trigger(cb.ask, [question, turns, ask_collection, ask_tag], chat_out, api_name=name,
                    concurrency_limit=answers_at_once, concurrency_id="answer", api_visibility="public" if name == "chat" else "private")
            for trigger, name in ((ask_btn.click, "chat"), (question.submit, "chat_submit"))
        ]
        stop_btn.click(cb.stop, [turns], chat_out, cancels=ask_events, queue=False, api_visibility="private")
        for clear in (clear_btn.click, chatbot.clear):  # the chatbot's own trash button also forgets the turns
            clear(cb.clear, None, chat_out, cancels=ask_events, queue=False, api_visibility="private")
        copy_btn.click(None, [markdown], None, js="(md) => { window.pqCopy(md); }", api_visibility="private")
        gr.api(cb.api_ask, api_name="ask", concurrency_limit=answers_at_once, concurrency_id="answer")

        table_out = [table, count]
        table_in = [query, lib_collection, lib_tag]
        files.upload(cb.upload, [files, *table_in], [index_status, *table_out, files], concurrency_limit=1,
                     concurrency_id="index", api_visibility="private").then(
            cb.status_line, None, status, api_visibility="private")
        for box in table_in:
            box.change(cb.library, table_in, table_out, queue=False, api_visibility="private")
        table.select(cb.select_paper, None, selected, queue=False, api_visibility="private")
        remove_btn.click(cb.remove, [selected, *table_in], [index_status, *table_out, selected], concurrency_limit=1,
                         concurrency_id="index", api_visibility="private").then(
            cb.status_line, None, status, api_visibility="private")
        save_btn.click(cb.save_settings, controls, settings_status, api_visibility="private").then(
            cb.status_line, None, status, api_visibility="private")
        demo.load(cb.library, table_in, table_out, api_visibility="private")
        demo.load(cb.label_choices, None, [ask_collection, ask_tag, lib_collection, lib_tag], api_visibility="private")
        demo.load(cb.status_line, None, status, api_visibility="private")
    return demo


def _label_filter(kind: str, elem_id: str) -> gr.Dropdown:
    """A collection / tag filter (choices filled on page load from the indexed Zotero / BibTeX libraries)."""
    return gr.Dropdown(choices=[("all", "")], value="", label=f"{kind.capitalize()} filter", scale=1, min_width=140,
                       allow_custom_value=True, elem_id=elem_id, info="from --bibtex / --zotero libraries")


def _control(name: str, spec: dict[str, Any], settings: Settings) -> gr.components.Component:
    """The control a field's ``ui`` tag names, labelled with its description, holding its current value."""
    field = Settings.model_fields[name]
    value = getattr(settings, name)
    common: dict[str, Any] = {"label": f"{field.description or name} ({name})", "elem_id": f"pq-set-{name}"}
    kind = spec["control"]
    if kind == "radio":
        return gr.Radio(choices=list(typing.get_args(field.annotation)), value=value, **common)
    if kind == "installed_models":
        from paperqa_local.llms.models import list_models

        choices = [m["name"] for m in list_models(settings.models_path) if m.get("installed")]
        return gr.Dropdown(choices=sorted({*choices, value}), value=value, allow_custom_value=True,
                           info="an installed GGUF name, or a path to a .gguf file", **common)
    if kind == "slider":
        return gr.Slider(spec["min"], spec["max"], value=value, step=spec["step"], **common)
    if kind == "textbox":
        return gr.Textbox(value=str(value or ""), **common)
    raise ValueError(f"settings field {name}: unknown UI control {kind!r}")


def launch(qa: Any, host: str = "127.0.0.1", port: int = 7860, auth: tuple[str, str] | None = None,
           prevent_thread_lock: bool = False, quiet: bool = True) -> gr.Blocks:
    """Serve the UI (queue on, upload cap, library home never served as files)."""
    demo = build_app(qa)
    demo.queue(default_concurrency_limit=qa.settings.ui_concurrency)  # 1 for llama.cpp, openai_concurrency for an endpoint
    demo.launch(
        server_name=host, server_port=port, auth=auth, prevent_thread_lock=prevent_thread_lock, quiet=quiet,
        share=False, inbrowser=False, show_error=True, theme=THEME, css=CSS, head=HEAD,
        max_file_size=f"{int(qa.settings.max_upload_mb * 1024 * 1024)}b", blocked_paths=[str(qa.settings.home)],
        footer_links=["api"], run_history=False, enable_monitoring=False, ssr_mode=False, mcp_server=False,
        pwa=False,
    )
    return demo
