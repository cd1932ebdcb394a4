"""The Gradio layout: three tabs (Ask, Library, Settings) wired to ``Callbacks``.

Everything is served from this machine: local fonts only, no CDN, analytics off
(``paperqa_local.offline``), inline CSS and one small inline script for citation links.
"""

from __future__ import annotations

import typing
from typing import Any

import gradio as gr
from annotated_types import Ge, Gt, Le

from paperqa_local.readers import SUPPORTED_EXTENSIONS
from paperqa_local.settings import Settings
from paperqa_local.ui import render
from paperqa_local.ui.callbacks import SETTINGS_FIELDS, Callbacks

TITLE = "paperqa-local"
# UI-friendly slider ranges; the settings object still validates.
SLIDER_LIMITS: dict[str, tuple[float, float, float]] = {"k": (1, 20, 1), "temperature": (0.0, 1.5, 0.05),
                                                        "max_tokens": (32, 2048, 32)}

THEME = gr.themes.Default(
    primary_hue="indigo", secondary_hue="sky", neutral_hue="slate",
    # Bundled fonts and system fonts only: nothing is fetched from a font CDN.
    font=(gr.themes.LocalFont("Source Sans Pro", weights=(400, 600)), "ui-sans-serif", "system-ui", "sans-serif"),
    font_mono=(gr.themes.LocalFont("IBM Plex Mono", weights=(400, 600)), "ui-monospace", "monospace"),
)

CSS = """
.gradio-container {max-width: 1400px !important}
#pq-header h1 {margin: 0; font-size: 1.5rem}
#pq-header p {margin: 2px 0 0; color: var(--body-text-color-subdued)}
.pq-answer {line-height: 1.55}
.pq-cite {display: inline-block; padding: 0 4px; margin: 0 1px; border-radius: 4px; font-size: .8em; font-weight: 600;
  text-decoration: none !important; background: var(--color-accent-soft); color: var(--color-accent) !important;
  vertical-align: super; line-height: 1.2; cursor: pointer}
.pq-cite:hover {background: var(--color-accent); color: white !important}
.pq-unsupported {text-decoration: underline wavy #d97706; text-underline-offset: 3px; background: #fef3c7;
  border-radius: 3px; padding: 0 2px}
.dark .pq-unsupported {background: #451a03}
.pq-note {margin-top: 8px; font-size: .85em; color: var(--body-text-color-subdued)}
.pq-warn {color: #b45309}
.pq-muted {color: var(--body-text-color-subdued)}
.pq-small {font-size: .85em}
.pq-refs {margin: 10px 0 0; padding-left: 0; list-style: none; font-size: .85em; border-top: 1px solid
  var(--border-color-primary); padding-top: 6px}
.pq-refs li {margin: 2px 0}
.pq-refs .pq-cite {vertical-align: baseline}
.pq-stats {margin-top: 8px; font-size: .75em; color: var(--body-text-color-subdued); font-family: var(--font-mono)}
.pq-cannot {border-left: 4px solid #94a3b8; padding: 6px 10px; background: var(--background-fill-secondary);
  border-radius: 6px}
.pq-cannot-title {font-weight: 700; color: #475569; margin-bottom: 4px}
.dark .pq-cannot-title {color: #cbd5e1}
.pq-cannot ul {margin: 4px 0 0 18px}
.pq-error {border-left: 4px solid #dc2626; padding: 6px 10px}
.pq-cursor {animation: pq-blink 1s steps(2) infinite; color: var(--color-accent)}
@keyframes pq-blink {50% {opacity: 0}}
#pq-sources-panel {max-height: 680px; overflow-y: auto}
.pq-sources.pq-empty {color: var(--body-text-color-subdued); padding: 18px; border: 1px dashed
  var(--border-color-primary); border-radius: 8px; font-size: .9em}
.pq-turn {margin-bottom: 10px}
.pq-turn > summary {cursor: pointer; font-weight: 600; padding: 4px 0}
.pq-src {border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px; margin: 8px 0;
  background: var(--background-fill-primary); transition: box-shadow .2s, border-color .2s}
.pq-src.pq-uncited {opacity: .65}
.pq-src.pq-active {border-color: var(--color-accent); box-shadow: 0 0 0 3px var(--color-accent-soft); opacity: 1}
.pq-src-head {font-weight: 600; font-size: .92em}
.pq-num {color: var(--color-accent); margin-right: 4px}
.pq-src-meta {font-size: .78em; color: var(--body-text-color-subdued); margin: 2px 0 6px}
.pq-passage {margin: 0; padding: 6px 10px; border-left: 3px solid var(--border-color-primary); font-size: .88em;
  line-height: 1.5}
.pq-passage mark {background: #fde68a; color: inherit; padding: 0 1px; border-radius: 2px}
.dark .pq-passage mark {background: #854d0e}
.pq-src.pq-active .pq-passage {border-left-color: var(--color-accent)}
"""

# Citation links: open the source card of marker [n] in the sources panel and highlight it.
HEAD = """
<script>
(function () {
  function show(id) {
    var card = document.getElementById(id);
    if (!card) return false;
    var group = card.closest('details');
    if (group) group.open = true;
    document.querySelectorAll('.pq-src.pq-active').forEach(function (e) { e.classList.remove('pq-active'); });
    card.classList.add('pq-active');
    card.scrollIntoView({behavior: 'smooth', block: 'center'});
    return true;
  }
  document.addEventListener('click', function (ev) {
    var a = ev.target && ev.target.closest ? ev.target.closest('a[href*="#src-"]') : null;
    if (!a) return;
    ev.preventDefault();
    ev.stopPropagation();
    show(a.getAttribute('href').split('#').pop());
  }, true);
  window.pqCopy = function (text) {
    if (!text) return;
    if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(text); return; }
    var area = document.createElement('textarea');
    area.value = text; document.body.appendChild(area); area.select();
    document.execCommand('copy'); document.body.removeChild(area);
  };
})();
</script>
"""


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
                    query = gr.Textbox(placeholder="Filter by title, author, file or id", show_label=False, scale=4,
                                       elem_id="pq-filter")
                    count = gr.Markdown(elem_id="pq-count")
                table = gr.Dataframe(headers=render.LIBRARY_COLUMNS, interactive=False, wrap=True, max_height=560,
                                     column_widths=["50%", "10%", "7%", "18%", "15%"], elem_id="pq-papers",
                                     datatype=["str", "str", "number", "str", "str"])
                with gr.Row():
                    selected = gr.Textbox(label="Selected paper (click a row, or type an id / id prefix)", scale=4,
                                          elem_id="pq-selected")
                    remove_btn = gr.Button("Remove paper", variant="stop", scale=1, elem_id="pq-remove")

            with gr.Tab("Settings", id="settings"):
                gr.Markdown(f"Saved in `{qa.settings.home / 'settings.toml'}` and used for the next answer "
                            "(all sessions share one library and model).")
                controls = [_control(name, value, desc, qa.settings.models_path) for name, value, desc in
                            qa.settings.public_fields(SETTINGS_FIELDS)]
                save_btn = gr.Button("Save settings", variant="primary", elem_id="pq-save")
                settings_status = gr.Markdown(elem_id="pq-settings-status")

        # ---- wiring -----------------------------------------------------------------
        chat_out = [chatbot, sources, question, turns, markdown, download]
        ask_events = [
            trigger(cb.ask, [question, turns], chat_out, api_name=name, concurrency_limit=1,
                    concurrency_id="answer", api_visibility="public" if name == "chat" else "private")
            for trigger, name in ((ask_btn.click, "chat"), (question.submit, "chat_submit"))
        ]
        stop_btn.click(cb.stop, [turns], chat_out, cancels=ask_events, queue=False, api_visibility="private")
        for clear in (clear_btn.click, chatbot.clear):  # the chatbot's own trash button also forgets the turns
            clear(cb.clear, None, chat_out, cancels=ask_events, queue=False, api_visibility="private")
        copy_btn.click(None, [markdown], None, js="(md) => { window.pqCopy(md); }", api_visibility="private")
        gr.api(cb.api_ask, api_name="ask", concurrency_limit=1, concurrency_id="answer")

        table_out = [table, count]
        files.upload(cb.upload, [files, query], [index_status, *table_out, files], concurrency_limit=1,
                     concurrency_id="index", api_visibility="private").then(
            cb.status_line, None, status, api_visibility="private")
        query.change(cb.library, [query], table_out, queue=False, api_visibility="private")
        table.select(cb.select_paper, None, selected, queue=False, api_visibility="private")
        remove_btn.click(cb.remove, [selected, query], [index_status, *table_out, selected], concurrency_limit=1,
                         concurrency_id="index", api_visibility="private").then(
            cb.status_line, None, status, api_visibility="private")
        save_btn.click(cb.save_settings, controls, settings_status, api_visibility="private").then(
            cb.status_line, None, status, api_visibility="private")
        demo.load(cb.library, [query], table_out, api_visibility="private")
        demo.load(cb.status_line, None, status, api_visibility="private")
    return demo


def _control(name: str, value: Any, description: str, models_path: Any) -> gr.components.Component:
    """A settings control from the field's type and bounds (so UI and settings never drift)."""
    field = Settings.model_fields[name]
    annotation = field.annotation
    label = f"{description} ({name})"
    if typing.get_origin(annotation) is typing.Literal:
        return gr.Radio(choices=list(typing.get_args(annotation)), value=value, label=label, elem_id=f"pq-set-{name}")
    if name == "model":
        from paperqa_local.llms.models import list_models

        choices = [m["name"] for m in list_models(models_path) if m.get("installed")]
        return gr.Dropdown(choices=sorted({*choices, value}), value=value, label=label, allow_custom_value=True,
                           elem_id=f"pq-set-{name}", info="an installed GGUF name, or a path to a .gguf file")
    if annotation in (int, float):
        lo, hi, step = _bounds(name, field.metadata, annotation)
        return gr.Slider(lo, hi, value=value, step=step, label=label, elem_id=f"pq-set-{name}")
    return gr.Textbox(value=str(value or ""), label=label, elem_id=f"pq-set-{name}")


def _bounds(name: str, metadata: list[Any], annotation: Any) -> tuple[float, float, float]:
    if name in SLIDER_LIMITS:
        return SLIDER_LIMITS[name]
    lo = next((m.ge for m in metadata if isinstance(m, Ge)), next((m.gt for m in metadata if isinstance(m, Gt)), 0))
    hi = next((m.le for m in metadata if isinstance(m, Le)), lo + 100)
    return float(lo), float(hi), 1.0 if annotation is int else 0.01


def launch(qa: Any, host: str = "127.0.0.1", port: int = 7860, auth: tuple[str, str] | None = None,
           prevent_thread_lock: bool = False, quiet: bool = True) -> gr.Blocks:
    """Serve the UI (queue on, upload cap, library home never served as files)."""
    demo = build_app(qa)
    demo.queue(default_concurrency_limit=1)
    demo.launch(
        server_name=host, server_port=port, auth=auth, prevent_thread_lock=prevent_thread_lock, quiet=quiet,
        share=False, inbrowser=False, show_error=True, theme=THEME, css=CSS, head=HEAD,
        max_file_size=f"{int(qa.settings.max_upload_mb * 1024 * 1024)}b", blocked_paths=[str(qa.settings.home)],
        footer_links=["api"], run_history=False, enable_monitoring=False, ssr_mode=False, mcp_server=False,
        pwa=False,
    )
    return demo
