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
