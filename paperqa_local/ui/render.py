"""HTML for answers, sources and the library: pure functions of the records, no Gradio.

Citation markers become ``<a class="pq-cite" href="#src-T-N">`` links; the page script in
``static/app.js`` opens and highlights the matching source card ``#src-T-N`` in the sources panel
(T is the turn of the conversation, N the context number). Every card and reference says where
the passage sits: "Vaswani et al., 2017 · § 3 Model · p. 4".
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from paperqa_local.library.labels import matches
from paperqa_local.records import Chunk, IndexReport, PaperInfo
from paperqa_local.results import Answer, Context, Reference
from paperqa_local.text_rules import MARKER, content_words, numbers, split_sentences


@dataclass
class Turn:
    """One question of a chat session and what came back (kept in per-session gr.State)."""

    question: str
    contexts: list[Context] = field(default_factory=list)
    answer: Answer | None = None
    partial: str = ""
    error: str | None = None
    stopped: bool = False


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def words(text: str) -> set[str]:
    """Words of 3+ letters and every number: what ties a claim to the passage sentence it came from."""
    return content_words(text, min_len=3) | numbers(text)


def link_markers(escaped: str, turn: int, known: Iterable[int] | None = None,
                 pages: dict[int, str] | None = None) -> str:
    """Turn ``[n]`` in already-escaped text into links to source card ``src-<turn>-<n>`` (titled with the
    passage's page when ``pages`` knows it)."""
    allowed = set(known) if known is not None else None

    def repl(m: re.Match[str]) -> str:
        n = int(m.group(1))
        if allowed is not None and n not in allowed:
            return m.group(0)
        where = f" ({esc(pages[n])})" if pages and pages.get(n) else ""
        return (f'<a class="pq-cite" href="#src-{turn}-{n}" data-turn="{turn}" data-n="{n}" '
                f'title="Show passage [{n}]{where}">[{n}]</a>')

    return MARKER.sub(repl, escaped)


def highlight_passage(passage: str, claims: Sequence[str], max_marks: int = 2) -> str:
    """The passage, escaped, with the sentence(s) that best match ``claims`` wrapped in <mark>."""
    sentences = split_sentences(passage)
    target = set().union(*(words(MARKER.sub(" ", c)) for c in claims)) if claims else set()
    scores = [len(words(s) & target) for s in sentences]
    best = max(scores, default=0)
    marked: set[int] = set()
    if best > 0:
        ranked = sorted(range(len(sentences)), key=lambda i: (-scores[i], i))
        marked = {i for i in ranked[:max_marks] if scores[i] >= max(1, 0.6 * best)}
    return " ".join(f"<mark>{esc(s)}</mark>" if i in marked else esc(s) for i, s in enumerate(sentences))


def page_label(c: Chunk) -> str:
    """ "p. 4", "pp. 4–5", or "" for a passage without pages."""
    if c.page is None:
        return ""
    return f"p. {c.page}" if c.end_page in (None, c.page) else f"pp. {c.page}\u2013{c.end_page}"


def context_meta(ctx: Context) -> str:
    """ "Vaswani et al., 2017 · § 3 Model · p. 4 · paper.pdf" (the location itself when it has no page)."""
    c = ctx.chunk
    citation = Reference.of(ctx).citation()
    where = [f"§ {c.section}" if c.section else "", page_label(c)] if c.page is not None else [c.location or ""]
    bits = ["" if citation.startswith(c.title) else citation, *where, Path(c.source).name if c.source else ""]
    return " · ".join(esc(b) for b in bits if b)


# --------------------------------------------------------------------- chat
def render_partial(turn_no: int, text: str, n_contexts: int) -> str:
    """The answer while it streams: plain text with live citation links and a cursor."""
    body = link_markers(esc(text), turn_no, range(1, n_contexts + 1)) if text else ""
    hint = "" if text else f'<span class="pq-muted">Found {n_contexts} passages; writing the answer…</span>'
    return f'<div class="pq-answer pq-streaming">{body}{hint}<span class="pq-cursor">▍</span></div>'


def render_searching() -> str:
    return '<div class="pq-answer pq-streaming"><span class="pq-muted">Searching the library…</span></div>'


def render_answer(turn_no: int, answer: Answer, stopped: bool = False) -> str:
    """The checked answer: linked markers, unsupported sentences flagged, references, stats."""
    if answer.cannot_answer:
        return render_cannot_answer(answer)
    known = {c.number for c in answer.contexts}
    body = _sentences_html(answer, turn_no, known, {c.number: page_label(c.chunk) for c in answer.contexts})
    parts = [f'<div class="pq-answer">{body}']
    if stopped:
        parts.append('<div class="pq-note">⏹ Stopped before the answer was finished.</div>')
    if answer.unsupported:
        parts.append(f'<div class="pq-note pq-warn">⚠ {len(answer.unsupported)} sentence(s) are not supported by '
                     "the passages they cite (underlined).</div>")
    if answer.standalone_question and answer.standalone_question != answer.question:
        parts.append(f'<div class="pq-muted pq-small">Searched for: {esc(answer.standalone_question)}</div>')
    if answer.references:
        refs = "".join(
            f'<li>{link_markers(esc(f"[{r.number}]"), turn_no)} {esc(r.title)}'
            f'<span class="pq-muted"> · {esc(_ref_meta(r))}</span></li>'
            for r in answer.references
        )
        parts.append(f'<ul class="pq-refs">{refs}</ul>')
    parts.append(render_stats(answer))
    parts.append("</div>")
    return "".join(parts)


def _ref_meta(r: Reference) -> str:
    """ "Vaswani et al., 2017 — § 3 Model, p. 4" (the year alone when the citation is the title)."""
    citation = r.citation()
    if citation.startswith(r.title):
        citation = citation[len(r.title):].lstrip(", ")
    return " — ".join(b for b in (citation, r.location) if b)


def _sentences_html(answer: Answer, turn_no: int, known: set[int], pages: dict[int, str] | None = None) -> str:
    """Wrap each unsupported sentence of ``answer.text`` in a flagged span and each gap (what the passages do
    not state: no claim, nothing to flag) in a plain one; link every marker."""
    text, out, pos = answer.text, [], 0
    for check in answer.sentences:
        start = text.find(check.text, pos)
        if start < 0 or check.supported:
            continue
        out.append(link_markers(esc(text[pos:start]), turn_no, known, pages))
        if check.hedge:
            out.append(f'<span class="pq-gap" title="Not stated in the retrieved passages">{esc(check.text)}</span>')
        else:
            tip = f"Not supported by the cited passages (support {check.support:.2f})"
            out.append(f'<span class="pq-unsupported" title="{esc(tip)}">⚠ '
                       f"{link_markers(esc(check.text), turn_no, known, pages)}</span>")
        pos = start + len(check.text)
    out.append(link_markers(esc(text[pos:]), turn_no, known, pages))
    return "".join(out).replace("\n", "<br>")


def render_cannot_answer(answer: Answer) -> str:
    closest = "".join(f"<li>{esc(t)}</li>" for t in answer.closest_papers)
    closest_html = f'<div class="pq-small">Closest papers:</div><ul>{closest}</ul>' if closest else ""
    return ('<div class="pq-answer pq-cannot"><div class="pq-cannot-title">∅ Not answered by these papers</div>'
            f"<div>{esc(answer.text)}</div>{closest_html}{render_stats(answer)}</div>")


def render_error(message: str) -> str:
    return f'<div class="pq-answer pq-error"><b>Error:</b> {esc(message)}</div>'


def render_stopped(turn_no: int, turn: Turn) -> str:
    """A cancelled answer: what was written so far (unchecked), its markers still linked."""
    known = range(1, len(turn.contexts) + 1)
    body = link_markers(esc(turn.partial), turn_no, known) if turn.partial else ""
    return (f'<div class="pq-answer">{body}<div class="pq-note">⏹ Stopped; this partial answer was not '
            "checked against its sources.</div></div>")


def render_stats(answer: Answer) -> str:
    t, u = answer.timings, answer.usage
    labels = {"condense_s": "rewrite", "retrieval_s": "retrieval", "evidence_s": "evidence",
              "first_token_s": "first token", "total_s": "total"}
    bits = [f"{esc(answer.backend)}: {esc(answer.model)}"] if answer.backend else []
    bits += [f"{label} {t[key]:.1f}s" for key, label in labels.items() if key in t]
    if u:
        bits.append(f"{u.get('prompt_tokens', 0)} tokens in / {u.get('completion_tokens', 0)} out")
    return f'<div class="pq-stats">{" · ".join(bits)}</div>'


# ------------------------------------------------------------------ sources
def render_sources(turns: Sequence[Turn]) -> str:
    """The sources panel: one group per turn, latest first and open; cited cards first."""
    groups = [_turn_sources(i, t, open_=(i == len(turns))) for i, t in reversed(list(enumerate(turns, start=1)))
              if t.contexts]
    if not groups:
        return ('<div class="pq-sources pq-empty">Sources appear here as soon as the passages are found; '
                "click a citation marker like [1] to see its exact passage.</div>")
    return f'<div class="pq-sources">{"".join(groups)}</div>'


def _turn_sources(turn_no: int, turn: Turn, open_: bool) -> str:
    answer = turn.answer
    cited = set(answer.citations) if answer else set()
    claims_for = {n: [s.text for s in answer.sentences if n in s.citations] for n in cited} if answer else {}
    contexts = sorted(turn.contexts, key=lambda c: (c.number not in cited, c.number)) if answer else turn.contexts
    cards = []
    for ctx in contexts:
        claims = claims_for.get(ctx.number) or [turn.question]
        cls = "pq-src" + (" pq-cited" if ctx.number in cited else "") + (" pq-uncited" if answer and cited and
                                                                          ctx.number not in cited else "")
        link = f' <a class="pq-open" href="{esc(ctx.chunk.url)}" target="_blank" rel="noopener">link</a>' \
            if ctx.chunk.url and ctx.chunk.url.startswith(("http://", "https://")) else ""
        cards.append(
            f'<div class="{cls}" id="src-{turn_no}-{ctx.number}" data-turn="{turn_no}" data-n="{ctx.number}">'
            f'<div class="pq-src-head"><span class="pq-num">[{ctx.number}]</span> {esc(ctx.chunk.title)}{link}'
            f'{_page_badge(ctx.chunk)}</div>'
            f'<div class="pq-src-meta">{context_meta(ctx)}</div>'
            f'<blockquote class="pq-passage">{highlight_passage(ctx.text, claims)}</blockquote></div>'
        )
    n = len(turn.contexts)
    n_cited = len(cited & {c.number for c in turn.contexts})
    status = (f"{n_cited} of {n} cited" if n_cited else f"{n} retrieved, none cited") if answer else f"{n} retrieved"
    summary = f"Q{turn_no}: {esc(_short(turn.question, 70))} <span class='pq-muted'>· {status}</span>"
    return (f'<details class="pq-turn" id="turn-{turn_no}"{" open" if open_ else ""}>'
            f"<summary>{summary}</summary>{''.join(cards)}</details>")


def _page_badge(c: Chunk) -> str:
    label = page_label(c)
    return f' <span class="pq-page" title="where the passage is in the paper">{esc(label)}</span>' if label else ""


def _short(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


# ------------------------------------------------------------------ library
LIBRARY_COLUMNS = ["Title", "Authors", "Year", "Venue", "Collections · tags", "Chunks", "ID"]
LIBRARY_TYPES = ["str", "str", "str", "str", "str", "number", "str"]


def library_rows(papers: Sequence[PaperInfo], query: str = "", collection: str | None = None,
                 tag: str | None = None) -> list[list[object]]:
    """Table rows, filtered by a case-insensitive substring of title, authors, venue, file or id, and by
    ``collection`` / ``tag`` (matched as searches match them)."""
    q = (query or "").strip().lower()
    rows = []
    for p in papers:
        hay = " ".join([p.title, " ".join(p.authors), p.source, p.id, p.date or "", p.venue or ""]).lower()
        if q and q not in hay:
            continue
        if collection and not any(matches("collection", c, collection) for c in p.collections):
            continue
        if tag and not any(matches("tag", t, tag) for t in p.tags):
            continue
        year = p.year or (p.date or "")[:4]
        labels = " · ".join([*p.collections, *(f"#{t}" for t in p.tags)])
        rows.append([p.title, _authors(p), str(year or ""), p.venue or "", labels, p.chunks, p.id])
    return rows


def _authors(p: PaperInfo) -> str:
    """ "A. Author, B. Author" for up to three names, "A. Author et al. (9)" for more."""
    count = max(p.author_count or 0, len(p.authors))
    if not p.authors:
        return f"{count} authors" if count > 1 else ""
    if count <= 3:
        return ", ".join(p.authors)
    return f"{p.authors[0]} et al. ({count})"


def render_report(report: IndexReport) -> str:
    """An index run as Markdown: the summary line and every failed file with its reason."""
    lines = [f"**Indexed.** {report.summary()}"]
    if report.failed:
        lines.append("")
        lines.append(f"**{len(report.failed)} file(s) failed:**")
        lines += [f"- `{Path(f.path).name}`: {f.reason}" for f in report.failed]
    return "\n".join(lines)


def conversation_markdown(turns: Sequence[Turn]) -> str:
    """Every finished answer of a session as Markdown with its references."""
    return "\n---\n\n".join(t.answer.to_markdown() for t in turns if t.answer is not None)
