"""Chunking: token limits, sentence boundaries, locations and display fields per chunk."""

from __future__ import annotations

import tiktoken

from paperqa_local.chunking import Chunker, author_label, count_tokens
from paperqa_local.records import Paper, Section

SENTENCES = [f"Sentence number {i} explains one more detail about gradient descent on ImageNet." for i in range(200)]


def _paper(**kw) -> Paper:
    base = dict(
        id="abcd1234abcd1234", title="A Study of Things", source="/tmp/study.pdf",
        sections=[Section(" ".join(SENTENCES[:100]), "p. 1", 1), Section("", "p. 2", 2),
                  Section(" ".join(SENTENCES[100:]), "p. 3", 3)],
        authors=["A. Author", "B. Author"], date="2024-05-01", url="https://example.org/paper",
    )
    base.update(kw)
    return Paper(**base)


def test_count_tokens_is_cl100k() -> None:
    text = "Train a ResNet-50 on ImageNet to 75% in 20 minutes."
    assert count_tokens(text) == len(tiktoken.get_encoding("cl100k_base").encode(text))
    assert count_tokens("") == 0
    assert count_tokens("<|endoftext|> is plain text here") > 1  # special tokens are not an error


def test_chunks_fit_the_budget_end_on_sentences_and_overlap() -> None:
    chunks = Chunker(128, 16).chunk(_paper())
    assert len(chunks) > 4
    for c in chunks:
        assert count_tokens(c.text) <= 128
        assert c.text.endswith("."), c.text[-40:]  # sentences are never cut when they fit
        assert c.text[0].isupper()
    # consecutive chunks of one section share text (overlap), none is lost
    same_page = [(a, b) for a, b in zip(chunks, chunks[1:], strict=False) if a.page == b.page]
    assert any(b.text.split(". ")[0] in a.text for a, b in same_page)
    joined = " ".join(c.text for c in chunks)
    assert all(s in joined for s in SENTENCES)


def test_ids_locations_and_display_fields() -> None:
    paper = _paper()
    chunks = Chunker(128, 16).chunk(paper)
    assert [c.id for c in chunks] == [f"{paper.id}:{i:04d}" for i in range(len(chunks))]
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert {c.location for c in chunks} == {"p. 1", "p. 3"}  # the empty page makes no chunk
    assert [c.page for c in chunks] == sorted(c.page for c in chunks)
    first = chunks[0]
    assert (first.title, first.source, first.date, first.url) == (paper.title, paper.source, paper.date, paper.url)
    assert first.authors == "A. Author, B. Author"
    assert first.embed_text.startswith("A Study of Things\n")
    assert Chunker(128, 16).chunk(paper) == chunks  # deterministic


def test_short_sections_are_one_chunk_each() -> None:
    paper = _paper(sections=[Section("Only a short abstract.", "entry 3")])
    (chunk,) = Chunker(256, 32).chunk(paper)
    assert (chunk.text, chunk.location, chunk.page) == ("Only a short abstract.", "entry 3", None)


def test_author_labels() -> None:
    assert author_label([]) == ""
    assert author_label(["Ada"]) == "Ada"
    assert author_label(["A", "B", "C"]) == "A, B, C"
    assert author_label([f"P{i}" for i in range(9)]) == "9 authors"
    assert author_label(["A", "B"], author_count=12) == "12 authors"


def test_long_text_splits_into_budgeted_chunks() -> None:
    # speed is a benchmark figure (evals/bench_index.py: indexing vs raw embedding throughput), never a timed test
    chunker = Chunker(256, 32)
    text = " ".join(SENTENCES * 20)  # ~4,000 sentences, ~70k tokens
    parts = chunker.split(text)
    assert len(parts) > 200
    assert all(count_tokens(p) <= 256 for p in parts)


def _pdf_section(text: str, page_break: int, **kw) -> Section:
    section = Section(text, "", 4, heading="3 Method", page_starts=[(0, 4), (page_break, 5)], **kw)
    section.location = section.span_location(4, 5)
    return section


def test_chunks_cross_page_breaks_and_remember_both_pages() -> None:
    text = "3 Method\n" + " ".join(SENTENCES[:60])
    page_break = text.index(SENTENCES[30])  # page 5 starts at sentence 30
    paper = _paper(sections=[_pdf_section(text, page_break)])
    chunks = Chunker(128, 16).chunk(paper)
    spans = [(c.page, c.end_page) for c in chunks]
    assert spans[0] == (4, None) and spans[-1] == (5, None)
    crossing = [c for c in chunks if c.end_page == 5 and c.page == 4]
    assert len(crossing) == 1 and SENTENCES[29] in crossing[0].text and SENTENCES[30] in crossing[0].text
    assert crossing[0].location == "§ 3 Method, p. 4\u20135"
    assert {c.location for c in chunks} == {"§ 3 Method, p. 4", "§ 3 Method, p. 4\u20135", "§ 3 Method, p. 5"}
    assert all(c.section == "3 Method" for c in chunks)
    assert all(c.location.endswith(f"p. {c.page}") for c in chunks if c.end_page is None)


def test_reference_lists_are_never_chunked_and_captions_are() -> None:
    refs = Section("References\n[1] A. Author. A cited paper. 2020.", "§ References, p. 9", 9, kind="references",
                   heading="References", page_starts=[(0, 9)])
    caption = Section("Figure 2: Widgets at scale.", "§ 3 Method, p. 8", 8, kind="caption", heading="3 Method",
                      page_starts=[(0, 8)])
    chunks = Chunker(128, 16).chunk(_paper(sections=[caption, refs]))
    assert [(c.text, c.location, c.section, c.page) for c in chunks] == [
        ("Figure 2: Widgets at scale.", "§ 3 Method, p. 8", "3 Method", 8)]


def test_listing_and_text_locations_are_kept_as_they_were() -> None:
    paper = _paper(sections=[Section("Only a short abstract.", "entry 3"), Section("Some text.", "§ Methods")])
    assert [(c.location, c.page, c.end_page, c.section) for c in Chunker(256, 32).chunk(paper)] == [
        ("entry 3", None, None, None), ("§ Methods", None, None, None)]
