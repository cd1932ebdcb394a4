"""The UI's rendering and callbacks for full-text libraries: section and page on every source card and
citation, authors / year / venue in the library table, collection and tag filters (no server, no browser)."""

from __future__ import annotations

import paperqa_local.offline  # noqa: F401  (offline env, analytics off, before gradio is imported)


# ------------------------------------------------------------------ sources, references, library (unit)
def _context(number: int = 1, **chunk_fields):  # noqa: ANN202
    from paperqa_local.records import Chunk
    from paperqa_local.results import Context

    fields = {"id": "p1:0003", "paper_id": "p1", "index": 3, "text": "The router sends each query to two experts.",
              "location": "§ 3 Method, p. 4\u20135", "title": "Sparse Mixture Routing", "source": "/lib/sparse.pdf",
              "page": 4, "end_page": 5, "section": "3 Method", "year": 2021,
              "author_names": ["Alice Nakamura", "Bruno Ferreira", "Chen Wei"], "authors": "3 authors"}
    fields.update(chunk_fields)
    return Context(number=number, chunk=Chunk(**fields), text=fields["text"], score=1.0, relevance=0.8)


def test_sources_panel_shows_section_page_and_citation() -> None:
    from paperqa_local.ui import render

    html = render.render_sources([render.Turn(question="How is a query routed?", contexts=[_context()])])
    assert 'id="src-1-1"' in html and '<span class="pq-page"' in html and "pp. 4\u20135</span>" in html
    assert "Nakamura et al., 2021 · § 3 Method · pp. 4\u20135 · sparse.pdf" in html
    plain = render.render_sources([render.Turn(question="q", contexts=[_context(page=None, end_page=None,
                                                                                 section=None, location="entry 3")])])
    assert "entry 3" in plain and "pq-page" not in plain


def test_answer_references_and_citation_links_name_the_page() -> None:
    from paperqa_local.results import Answer, Reference, SentenceCheck
    from paperqa_local.ui import render

    ctx = _context()
    answer = Answer(question="q", text="Each query goes to two experts [1].", contexts=[ctx],
                    references=[Reference.of(ctx)],
                    sentences=[SentenceCheck("Each query goes to two experts [1].", [1], 0.9, True)])
    html = render.render_answer(1, answer)
    assert 'title="Show passage [1] (pp. 4\u20135)"' in html
    assert "Sparse Mixture Routing<span class=\"pq-muted\"> · Nakamura et al., 2021 \u2014 § 3 Method, p. 4\u20135" in html
    assert answer.references[0].label() == "Nakamura et al., 2021 \u2014 § 3 Method, p. 4\u20135 · Sparse Mixture Routing"


def test_library_rows_show_authors_year_venue_and_filter_by_collection_and_tag() -> None:
    from paperqa_local.records import PaperInfo
    from paperqa_local.ui import render

    papers = [
        PaperInfo(id="a1", title="ZephyrNet", source="/z.md", authors=["Ada Quill", "Bo Rennet"], year=2024,
                  venue="Journal of Tiny Weather", chunks=3, collections=["Reading/Weather"], tags=["cnn"]),
        PaperInfo(id="b2", title="KestrelDB", source="/k.txt", authors=[f"P{i}" for i in range(9)], date="2023-01-02",
                  chunks=2, collections=["Reading"], tags=["databases"]),
        PaperInfo(id="c3", title="Loose PDF", source="/l.pdf", chunks=1),
    ]
    rows = render.library_rows(papers)
    assert len(render.LIBRARY_COLUMNS) == len(render.LIBRARY_TYPES) == len(rows[0])
    assert rows[0] == ["ZephyrNet", "Ada Quill, Bo Rennet", "2024", "Journal of Tiny Weather", "Reading/Weather · #cnn",
                       3, "a1"]
    assert rows[1][1:3] == ["P0 et al. (9)", "2023"]
    assert [r[0] for r in render.library_rows(papers, collection="reading")] == ["ZephyrNet", "KestrelDB"]
    assert [r[0] for r in render.library_rows(papers, collection="Weather")] == ["ZephyrNet"]
    assert [r[0] for r in render.library_rows(papers, tag="databases")] == ["KestrelDB"]
    assert [r[0] for r in render.library_rows(papers, query="tiny weather")] == ["ZephyrNet"]


def test_callbacks_pass_the_filters_and_fill_the_choices() -> None:
    from paperqa_local.records import PaperInfo
    from paperqa_local.results import Answer, Event, EventKind
    from paperqa_local.ui.callbacks import Callbacks

    class FakeQA:
        asked: dict = {}

        def stream(self, question, **kw):  # noqa: ANN001, ANN003, ANN202
            self.asked = kw
            ctx = _context()
            yield Event(EventKind.EVIDENCE, contexts=[ctx])
            yield Event(EventKind.ANSWER, answer=Answer(question=question, text="ok", contexts=[ctx]))

        def papers(self) -> list[PaperInfo]:
            return [PaperInfo(id="a1", title="ZephyrNet", source="/z.md", tags=["cnn"]),
                    PaperInfo(id="b2", title="KestrelDB", source="/k.txt")]

        def labels(self) -> dict[str, list[str]]:
            return {"collection": ["Reading"], "tag": ["cnn"]}

    qa = FakeQA()
    cb = Callbacks(qa)
    *_, last = cb.ask("How is a query routed?", [], "Reading", "")
    assert qa.asked == {"collection": "Reading", "tag": None}
    assert "pp. 4\u20135" in last[1]  # the sources panel
    rows, count = cb.library("", "", "cnn")
    assert [r[0] for r in rows] == ["ZephyrNet"] and count == "1 of 2 papers"
    ask_collection, ask_tag, lib_collection, lib_tag = cb.label_choices()
    assert ask_collection["choices"] == lib_collection["choices"] == [("all", ""), ("Reading", "Reading")]
    assert ask_tag["choices"] == lib_tag["choices"] == [("all", ""), ("cnn", "cnn")]


def test_a_gap_is_shown_plainly_not_flagged_as_unsupported() -> None:
    from paperqa_local.results import Answer, Reference, SentenceCheck
    from paperqa_local.ui import render

    ctx = _context()
    gap = "The retrieved passages do not state the batch size."
    answer = Answer(question="q", text=f"Each query goes to two experts [1]. {gap}", contexts=[ctx],
                    references=[Reference.of(ctx)],
                    sentences=[SentenceCheck("Each query goes to two experts [1].", [1], 0.9, True),
                               SentenceCheck(gap, [], 0.0, False, hedge=True)])
    html = render.render_answer(1, answer)
    assert f'<span class="pq-gap" title="Not stated in the retrieved passages">{gap}</span>' in html
    assert "pq-unsupported" not in html and "not supported" not in html.lower()
