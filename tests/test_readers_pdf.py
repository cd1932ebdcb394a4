"""The PDF reader on generated papers (tests/data, made by tests/data/make_pdfs.py): structure, furniture,
hyphenation, captions, references, metadata, page spans and fidelity (fast, no models)."""

from __future__ import annotations

import io
import json
import re
import sys

import pytest
from pypdf import PdfWriter
from reportlab.pdfgen import canvas  # dev dependency: builds the test PDFs

from paperqa_local.chunking import Chunker
from paperqa_local.errors import ReaderError
from paperqa_local.readers import read_path
from paperqa_local.readers.fidelity import report

from conftest import ROOT, SHARED

DATA = ROOT / "tests" / "data"
TRUTH = json.loads((DATA / "pdf_truth.json").read_text(encoding="utf-8"))
PDFS = sorted(name for name in TRUTH if name.endswith(".pdf"))
sys.path.insert(0, str(DATA))
import make_pdfs  # noqa: E402  (the generator: the text each PDF was made from)

SPECS = {spec.file: spec for spec in make_pdfs.SPECS}


@pytest.fixture(scope="module")
def papers():
    return {name: read_path(DATA / name)[0] for name in PDFS}


@pytest.fixture(scope="module")
def chunks(papers):
    chunker = Chunker(256, 32)
    return {name: chunker.chunk(paper) for name, paper in papers.items()}


def make_pdf(pages: list[list[str]], title: str | None = None, author: str | None = None) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    if title:
        c.setTitle(title)
    if author:
        c.setAuthor(author)
    for lines in pages:
        y = 800
        for line in lines:
            c.drawString(72, y, line)
            y -= 14
        if not lines:  # an "image only" page
            c.rect(100, 100, 300, 300, fill=1)
        c.showPage()
    c.save()
    return buf.getvalue()


def encrypt(pdf: bytes, user_password: str) -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(pdf))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def flat(text: str) -> str:
    return " ".join(text.split())


# --- generated papers ---------------------------------------------------------------------------------------------


def test_fixtures_are_small_and_match_the_truth_file():
    assert PDFS == sorted(SPECS)
    for name in PDFS:
        assert (DATA / name).stat().st_size < 50_000


@pytest.mark.parametrize("name", PDFS)
def test_metadata_from_the_first_page(papers, name):
    paper, truth = papers[name], TRUTH[name]
    assert paper.title == truth["title"]
    assert paper.authors == truth["authors"] and paper.author_count == len(truth["authors"])
    assert paper.year == truth["year"]  # never the PDF's creation date (the day the file was generated)
    if truth["date"]:
        assert paper.date == truth["date"]
    assert (paper.doi, paper.arxiv_id, paper.venue) == (truth["doi"], truth["arxiv_id"], truth["venue"])


@pytest.mark.parametrize("name", PDFS)
def test_every_sentence_comes_out_whole_and_in_order(chunks, name):
    """Two columns, figures, captions, headers and page breaks in the way: the running text reads on."""
    text = flat(" ".join(c.text for c in chunks[name]))
    cursor = 0
    paragraphs = [re.sub(r"<[^>]+>", "", t) for kind, t in SPECS[name].blocks if kind == "para"]
    for para in paragraphs:
        for sentence in re.split(r"(?<=\.)\s+(?=[A-Z])", flat(para.removeprefix("Abstract—"))):
            at = text.find(sentence, cursor)
            assert at >= 0, f"missing or out of order: {sentence}"
            cursor = at + len(sentence)


@pytest.mark.parametrize("name", PDFS)
def test_headers_footers_and_page_numbers_are_gone(papers, chunks, name):
    text = "\n".join(c.text for c in chunks[name])
    for furniture in TRUTH[name]["furniture"]:
        assert furniture not in text
    assert flat(text).count(papers[name].title) == 1  # the title on page 1, not the running header
    assert not re.search(r"(^|\n)\s*(Page )?\d{1,2}\s*(\n|$)", text)  # no lone page numbers


@pytest.mark.parametrize("name", PDFS)
def test_hyphenated_line_ends_are_joined_and_ligatures_spelled_out(chunks, name):
    text = flat(" ".join(c.text for c in chunks[name]))
    assert "\x02" not in text and "\ufffe" not in text and "\ufb01" not in text and "\u00ad" not in text
    assert not re.search(r"[a-z]- [a-z]", text)
    long_words = {w for p in make_pdfs.spec_paragraphs(SPECS[name]) for w in re.findall(r"\b[a-z]{11,}\b", p)}
    assert long_words and all(w in text for w in long_words)  # the reportlab layout broke many of them
    for compound in ("fine-tune", "efficient"):  # a real hyphen stays; the "fi" ligature reads as letters
        assert compound in text


@pytest.mark.parametrize("name", PDFS)
def test_sections_found(papers, chunks, name):
    headings = [s.heading for s in papers[name].sections if s.kind == "text" and s.heading]
    assert headings == TRUTH[name]["sections"]
    found = sum(1 for c in chunks[name] if c.section)
    assert found / len(chunks[name]) >= 0.9
    assert all(c.location.startswith(f"§ {c.section}, p. ") for c in chunks[name] if c.section)


@pytest.mark.parametrize("name", PDFS)
def test_captions_are_their_own_sections(papers, name):
    paper = papers[name]
    captions = [s for s in paper.sections if s.kind == "caption"]
    labels = [re.match(r"(Figure|Fig\.?|Table|TABLE) \w+", s.text)[0] for s in captions]  # type: ignore[index]
    assert labels == TRUTH[name]["captions"]
    body = " ".join(s.text for s in paper.sections if s.kind == "text")
    for caption in captions:
        assert caption.heading in TRUTH[name]["sections"]
        assert flat(caption.text.split("\n")[0]) not in flat(body)
    table = captions[-1].text.split("\n")
    assert len(table) == 4 and table[-1].startswith("Ours ")  # the table's rows stay with its caption


@pytest.mark.parametrize("name", PDFS)
def test_reference_list_on_the_paper_not_in_the_evidence(papers, chunks, name):
    paper = papers[name]
    assert len(paper.references) == TRUTH[name]["references"]
    refs = [s for s in paper.sections if s.kind == "references"]
    assert len(refs) == 1 and refs[0].heading in ("References", "Bibliography")
    text = flat(" ".join(c.text for c in chunks[name]))
    for entry in paper.references:
        assert flat(entry)[:50] not in text
    assert all("\n" not in r and len(r) > 60 for r in paper.references)


def test_reference_entries_and_the_appendix_after_them(papers):
    paper = papers["two_column_arxiv.pdf"]
    assert paper.references[0].startswith("[1] Ashish Vaswani, Noam Shazeer")
    assert paper.references[0].endswith("pages 5998–6008, 2017.")
    assert paper.references[6].endswith("arXiv preprint arXiv:2101.03961, 2021.")
    assert paper.sections[-1].heading == "A Additional Results" and paper.sections[-1].kind == "text"
    assert paper.arxiv_id == "2106.04560"  # from the stamp, not from a reference's arXiv id
    journal = papers["single_column_journal.pdf"].references
    assert journal[2].startswith("3. Rives A, Meier J") and "2021;118(15):e2016239118." in journal[2]


def test_a_chunk_crossing_a_page_break_knows_both_pages(papers, chunks):
    spanning = [c for c in chunks["two_column_arxiv.pdf"] if c.page == 1 and c.end_page == 2]
    assert len(spanning) == 1
    chunk = spanning[0]
    assert (chunk.section, chunk.location) == ("2 Related Work", "§ 2 Related Work, p. 1–2")
    section = next(s for s in papers["two_column_arxiv.pdf"].sections if s.heading == "2 Related Work")
    assert section.location == "§ 2 Related Work, p. 1–2" and [p for _, p in section.page_starts] == [1, 2]
    break_at = section.page_starts[1][0]
    assert section.text[break_at - 40:break_at + 40].replace("\n", " ") in flat(chunk.text)
    others = [c for c in chunks["two_column_arxiv.pdf"] if c.end_page is None]
    assert all(c.location.endswith(f"p. {c.page}") for c in others)


def test_fidelity_report_over_every_pdf():
    """Title, first author, year, section and reference-list rates (shared real PDFs too, when present)."""
    rep = report([DATA, SHARED / "datasets" / "pdfs"], DATA / "pdf_truth.json")
    assert rep["files"] >= 3 and rep["read"] == rep["files"]
    for key in ("title", "first_author", "year", "references_kept_out", "section_per_chunk"):
        assert rep[key] >= 0.9, (key, rep[key], rep["per_file"])


# --- small hand-made PDFs -----------------------------------------------------------------------------------------


def test_pdf_without_structure_is_one_section_across_pages(tmp_path):
    pdf = make_pdf(
        [
            ["Deep Widgets for Everyone", "Ann Author, Bob Builder", "Abstract. We build widgets that are deep."],
            ["Results: widgets are 3x deeper with self-", "attention than without."],
            ["Conclusion: use deep widgets."],
        ],
        title="Deep Widgets for Everyone",
        author="Ann Author; Bob Builder",
    )
    (tmp_path / "widgets.pdf").write_bytes(pdf)
    [paper] = read_path(tmp_path / "widgets.pdf")
    assert paper.title == "Deep Widgets for Everyone"
    assert paper.authors == ["Ann Author", "Bob Builder"] and paper.author_count == 2
    assert [(s.location, s.page, s.heading) for s in paper.sections] == [
        ("p. 1", 1, None), ("§ Abstract, p. 1–3", 1, "Abstract")]
    assert [p for _, p in paper.sections[1].page_starts] == [1, 2, 3]
    assert "selfattention" in paper.sections[1].text  # line-break hyphen joined
    assert paper.date and len(paper.date) == 10 and paper.year  # nothing on the page: the creation date
    assert paper.source == str((tmp_path / "widgets.pdf").resolve())


def test_pdf_title_falls_back_to_first_line_and_blank_pages_skip(tmp_path):
    # reportlab writes "untitled" and "anonymous" as metadata defaults: neither is a title or an author
    pdf = make_pdf([["arXiv:2401.01234v1 [cs.CL] 1 Jan 2024", "Sparse Gadgets at Scale", "body text"], [], ["end"]])
    (tmp_path / "gadgets.pdf").write_bytes(pdf)
    [paper] = read_path(tmp_path / "gadgets.pdf")
    assert paper.title == "Sparse Gadgets at Scale"
    assert paper.authors == []
    assert (paper.arxiv_id, paper.date, paper.year) == ("2401.01234", "2024-01-01", 2024)
    [section] = paper.sections
    assert section.location == "p. 1–3" and [p for _, p in section.page_starts] == [1, 3]
    assert "arXiv" not in section.text  # the stamp is furniture


def test_first_page_footnotes_give_venue_and_year_but_are_not_text(tmp_path):
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setFont("Helvetica-Bold", 18)
    c.drawString(72, 760, "Gadget Transformers at Scale")
    c.setFont("Helvetica", 11)
    c.drawString(72, 735, "Ada Lovelace*, Alan Turing")
    c.drawString(72, 720, "Analytical Engines Ltd., London, UK")
    body = [f"Sentence {i} of the introduction says something about gadgets." for i in range(30)]
    c.setFont("Helvetica-Bold", 11)
    c.drawString(72, 690, "1 Introduction")
    c.setFont("Helvetica", 10)
    for i, line in enumerate(body):
        c.drawString(72, 675 - 12 * i, line)
    c.setFont("Helvetica", 8)
    c.drawString(72, 60, "*Equal contribution.")
    c.drawString(72, 50, "36th Conference on Neural Information Processing Systems (NeurIPS 2022).")
    c.showPage()
    c.save()
    (tmp_path / "neurips.pdf").write_bytes(buf.getvalue())
    [paper] = read_path(tmp_path / "neurips.pdf")
    assert (paper.title, paper.authors) == ("Gadget Transformers at Scale", ["Ada Lovelace", "Alan Turing"])
    assert (paper.venue, paper.year) == ("NeurIPS 2022", 2022)
    assert "Conference" not in paper.text and "Equal contribution" not in paper.text
    assert paper.sections[-1].heading == "1 Introduction" and body[-1] in paper.sections[-1].text


def test_pdf_owner_password_only_is_readable(tmp_path):
    (tmp_path / "locked.pdf").write_bytes(encrypt(make_pdf([["Owner Locked Paper Title", "text"]]), user_password=""))
    [paper] = read_path(tmp_path / "locked.pdf")
    assert paper.title == "Owner Locked Paper Title"


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("secret.pdf", lambda: encrypt(make_pdf([["Secret Paper", "text"]]), user_password="pw"), "encrypted PDF"),
        ("scan.pdf", lambda: make_pdf([[], []]), "no extractable text (scanned?)"),
        ("junk.pdf", lambda: bytes(range(256)) * 20, "not a valid PDF"),
        ("truncated.pdf", lambda: make_pdf([["Some Paper Title", "text"]])[:600], "not a valid PDF"),
        ("header-only.pdf", lambda: b"%PDF-1.4\ngarbage\n", "not a valid PDF"),
        ("empty.pdf", lambda: b"", "empty file"),
        ("login.pdf", lambda: b"<!DOCTYPE html><html><title>Sign in</title></html>", "it is a web page"),
    ],
)
def test_bad_pdfs(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content())
    with pytest.raises(ReaderError) as info:
        read_path(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    assert reason in message


def test_pdf_is_found_by_its_content_whatever_its_name(tmp_path):
    data = (DATA / "ieee_two_column.pdf").read_bytes()
    for name in ("paper", "download.bin", "saved.txt"):
        (tmp_path / name).write_bytes(data)
        [paper] = read_path(tmp_path / name)
        assert paper.title == TRUTH["ieee_two_column.pdf"]["title"]
