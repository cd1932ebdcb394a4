"""Readers: HF Daily Papers listings, text, Markdown, HTML, content sniffing, bad input and discovery (fast, no
models). The PDF reader has its own file, test_readers_pdf.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from paperqa_local.errors import ReaderError
from paperqa_local.readers import discover, read_path
from paperqa_local.readers.hf_papers import looks_like_listing, parse_date

from conftest import SEEDS

SEED_FILES = sorted(SEEDS.glob("*.txt"))
CHROME = {
    "new",
    "subscribe",
    "daily papers",
    "byak and the research community",
    "get trending papers in your email inbox!",
    "get trending papers in your email inbox once a day!",
}


@pytest.fixture(scope="module")
def seed_papers():
    return {f.name: read_path(f) for f in SEED_FILES}


def by_title(papers, title):
    matches = [p for p in papers if p.title == title]
    assert matches, f"no paper titled {title!r}"
    return matches[0]


def reason_of(path: Path) -> str:
    with pytest.raises(ReaderError) as info:
        read_path(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    return message


# --- Hugging Face Daily Papers listings -------------------------------------------------------------------------


def test_seed_counts_entries_and_unique_papers(seed_papers):
    # Measured on the seeds: 53 + 75 (full layout) + 147 (compact layout) = 275 entries; three papers appear in
    # two files, so 272 unique ids. (A parser that needs the author·date lines misses Omni-AVSR and
    # B-cosification, and one that keeps the glued "Subscribe" chrome misses the first compact entry: 272/269.)
    counts = {name: len(papers) for name, papers in seed_papers.items()}
    assert sorted(counts.values()) == [53, 75, 147]
    everything = [p for papers in seed_papers.values() for p in papers]
    assert len(everything) == 275
    assert len({p.id for p in everything}) == 272
    titles = {p.title for p in everything}
    for title in (
        "Omni-AVSR: Towards Unified Multimodal Speech Recognition with Large Language Models",
        "B-cosification: Transforming Deep Neural Networks to be Inherently Interpretable",
        "Reducing Information Loss for Spiking Neural Networks",
    ):
        assert title in titles


def test_same_paper_on_two_pages_and_layouts_gets_one_id(seed_papers):
    everything = [p for papers in seed_papers.values() for p in papers]
    dupes = [p for p in everything if p.title == "A ConvNet for the 2020s"]
    assert len(dupes) == 2
    assert dupes[0].id == dupes[1].id
    assert dupes[0].source != dupes[1].source
    assert {Path(p.source).name[:3] for p in dupes} == {"001", "002"}


def test_ffcv_title_and_abstract(seed_papers):
    ffcv = by_title(
        [p for ps in seed_papers.values() for p in ps], "FFCV: Accelerating Training by Removing Data Bottlenecks"
    )
    assert ffcv.text.startswith("We present FFCV, a library for easy and fast machine learning model training.")
    assert len(ffcv.sections) == 1
    assert ffcv.sections[0].location.startswith("entry ")
    assert Path(ffcv.source).is_absolute()


def test_compact_layout_and_glued_subscribe(seed_papers):
    papers = seed_papers["002_bb1c8db523e0ccea.txt"]
    assert papers[0].title == "Reducing Information Loss for Spiking Neural Networks"
    assert papers[0].text.startswith("The Spiking Neural Network (SNN) has attracted more and more attention recently.")
    ace = papers[1]
    assert ace.title == "ACE : Off-Policy Actor-Critic with Causality-Aware Entropy Regularization"
    assert ace.text.startswith("The varying significance of distinct primitive behaviors")
    assert ace.text.endswith("Benchmark results and videos are available at https://ace-rl.github.io/.")
    assert ace.sections[0].location == "entry 2"
    assert ace.author_count is None and ace.date is None and ace.authors == []


def test_full_layout_author_count_and_dates(seed_papers):
    papers = seed_papers["000_749900d1330c4652.txt"]
    first = papers[0]
    assert first.title == "HBFormer: A Hybrid-Bridge Transformer for Microtumor and Miniature Organ Segmentation"
    assert (first.author_count, first.authors, first.date) == (9, [], "Dec 3")
    assert first.sections[0].location == "entry 1"
    mp = by_title(papers, "Tuning Pre-trained Model via Moment Probing")
    assert (mp.author_count, mp.date) == (6, "2023-07-21")
    bob = papers[2]
    assert bob.title.startswith("Battle of the Backbones")
    assert (bob.author_count, bob.date) == (13, "2023-10-30")  # "Oct 30, 2023 1": upvote count dropped
    # an entry without author/date lines does not swallow its neighbour
    omni = by_title(papers, "Omni-AVSR: Towards Unified Multimodal Speech Recognition with Large Language Models")
    nxt = papers[papers.index(omni) + 1]
    assert nxt.title == "Generalized Domain Conditioned Adaptation Network"
    assert omni.author_count is None and nxt.author_count == 6 and nxt.date == "2021-03-23"
    assert "Generalized Domain" not in omni.text


def test_chrome_never_becomes_a_paper(seed_papers):
    for papers in seed_papers.values():
        for p in papers:
            assert p.title.lower() not in CHROME
            assert not p.title.startswith("Subscribe")
            assert parse_date(p.title) is None
            assert len(p.text) > 300  # every entry carries its abstract
            assert "authors" not in p.text.split("\n")[-1]


def test_parse_date():
    assert parse_date("Jul 21, 2023") == "2023-07-21"
    assert parse_date("Oct 30, 2023 1") == "2023-10-30"
    assert parse_date("Dec 3") == "Dec 3"
    assert parse_date("Deep learning") is None


def test_listing_sniffing(tmp_path):
    abstract = "We study a thing. " * 30
    compact = "\n".join(f"Paper Number {i}: A Title\n{abstract}" for i in range(3))
    assert looks_like_listing(compact)
    (tmp_path / "compact.txt").write_text(compact)
    papers = read_path(tmp_path / "compact.txt")
    assert [p.title for p in papers] == [f"Paper Number {i}: A Title" for i in range(3)]
    assert len({p.id for p in papers}) == 3
    plain = "A Plain Paper\n\nJane Doe\n\nAbstract\n\n" + abstract + "\n\n1 Introduction\n\n" + abstract
    assert not looks_like_listing(plain)
    headings = "\n".join(f"{i} Introduction\n{abstract}" for i in range(1, 4))
    assert not looks_like_listing(headings)


# --- text, Markdown, HTML ---------------------------------------------------------------------------------------


def test_plain_text_paper(tmp_path):
    body = "We study gadgets in depth. " * 20
    text = f"A Study of Gadgets\nJane Doe\n\nAbstract\n\n{body}\n\n1 Introduction\n\n{body}\n\n2 Methods\n\n{body}\n"
    (tmp_path / "gadgets.txt").write_text(text)
    [paper] = read_path(tmp_path / "gadgets.txt")
    assert paper.title == "A Study of Gadgets"
    locations = [s.location for s in paper.sections]
    assert locations == [
        "lines 1-2",
        "§ Abstract, lines 4-6",
        "§ 1 Introduction, lines 8-10",
        "§ 2 Methods, lines 12-14",
    ]
    assert paper.sections[2].text.startswith("1 Introduction\n\nWe study gadgets")
    assert [s.heading for s in paper.sections] == [None, "Abstract", "1 Introduction", "2 Methods"]


def test_plain_text_without_headings_is_grouped_by_lines(tmp_path):
    paragraphs = [f"Paragraph {i} " + "word " * 120 for i in range(10)]
    (tmp_path / "notes.txt").write_text("\n\n".join(paragraphs))
    [paper] = read_path(tmp_path / "notes.txt")
    assert 2 <= len(paper.sections) <= 6
    assert all(s.location.startswith("lines ") for s in paper.sections)
    assert paper.sections[0].location.startswith("lines 1-")
    assert "Paragraph 9" in paper.sections[-1].text


def test_markdown_sections(tmp_path):
    md = (
        "---\ntitle: Front Matter Title\n---\nPreface line.\n\n# Graph Widgets\n\nIntro text.\n\n"
        "## Methods\n\nWe did X.\n\n```python\n# a comment, not a heading\n```\n\nResults\n-------\n\nIt worked.\n\n## Empty\n"
    )
    (tmp_path / "paper.md").write_text(md)
    [paper] = read_path(tmp_path / "paper.md")
    assert paper.title == "Graph Widgets"
    assert [s.location for s in paper.sections] == ["line 4", "§ Graph Widgets", "§ Methods", "§ Results"]
    assert [s.heading for s in paper.sections] == [None, "Graph Widgets", "Methods", "Results"]
    assert "# a comment, not a heading" in paper.sections[2].text
    assert paper.sections[3].text == "Results\n\nIt worked."


def test_markdown_without_h1_uses_front_matter_or_first_line(tmp_path):
    (tmp_path / "a.md").write_text("---\ntitle: 'Front Title'\n---\n## Part\n\ntext\n")
    (tmp_path / "b.md").write_text("Just a note about widgets\n\nmore text\n")
    assert read_path(tmp_path / "a.md")[0].title == "Front Title"
    [b] = read_path(tmp_path / "b.md")
    assert b.title == "Just a note about widgets" and b.sections[0].location == "lines 1-3"


def test_html_title_sections_and_chrome(tmp_path):
    html = """<!DOCTYPE html><html><head><title>  Widget   Paper | Site </title>
    <meta name="citation_author" content="Ann Author"><meta name="citation_author" content="Bob Builder">
    <meta name="citation_publication_date" content="2023/07/21"><link rel="canonical" href="https://example.org/w">
    <style>p {color: red}</style><script>var secret = "SCRIPT";</script></head>
    <body><nav>Home | About NAVTEXT</nav><!-- COMMENT -->
    <h1>Widget Paper</h1><p>We present <b>widgets</b>,
       a new   idea.</p>
    <h2>Method</h2><p>Step one.<br>Step two.</p><ul><li>alpha</li><li>beta</li></ul>
    <h3>Details</h3><p>Fine print.</p><footer>FOOTER</footer></body></html>"""
    (tmp_path / "w.html").write_text(html)
    [paper] = read_path(tmp_path / "w.html")
    assert paper.title == "Widget Paper | Site"
    assert paper.authors == ["Ann Author", "Bob Builder"] and paper.date == "2023-07-21"
    assert paper.url == "https://example.org/w"
    assert [s.location for s in paper.sections] == ["§ Widget Paper", "§ Method", "§ Details"]
    assert [s.heading for s in paper.sections] == ["Widget Paper", "Method", "Details"]
    assert "We present widgets, a new idea." in paper.sections[0].text
    assert "Step one.\nStep two." in paper.sections[1].text
    for junk in ("SCRIPT", "color", "NAVTEXT", "COMMENT", "FOOTER"):
        assert junk not in paper.text


def test_html_title_from_h1_when_no_title_tag(tmp_path):
    (tmp_path / "x.htm").write_text("<html><body><h1>Only An H1</h1><p>Text body here.</p></body></html>")
    assert read_path(tmp_path / "x.htm")[0].title == "Only An H1"


# --- content sniffing ------------------------------------------------------------------------------------------


def test_web_page_saved_as_txt_goes_through_the_html_reader(tmp_path):
    page = (
        "<!DOCTYPE html>\n<html><head><title>Saved Widget Paper</title><style>p {color: red}</style></head>"
        "<body><h1>Saved Widget Paper</h1><p>We present <b>widgets</b> &amp; gadgets.</p>"
        "<h2>Method</h2><p>Step one.</p><script>var x = 1;</script></body></html>"
    )
    (tmp_path / "page.txt").write_text(page)
    [paper] = read_path(tmp_path / "page.txt")
    assert paper.title == "Saved Widget Paper"
    assert [s.location for s in paper.sections] == ["§ Saved Widget Paper", "§ Method"]
    assert "We present widgets & gadgets." in paper.text
    for markup in ("<", ">", "DOCTYPE", "color", "var x"):
        assert markup not in paper.text
    (tmp_path / "bom.md").write_bytes("\ufeff<html><body><h1>BOM Page</h1><p>text</p></body></html>".encode())
    assert read_path(tmp_path / "bom.md")[0].title == "BOM Page"
    (tmp_path / "notes.md").write_text("# Notes\n\nInline <b>HTML</b> in Markdown stays Markdown.\n")
    assert read_path(tmp_path / "notes.md")[0].sections[0].location == "§ Notes"


def test_text_encodings_are_sniffed(tmp_path):
    text = "Caf\u00e9 Study\n\nA na\u00efve body text about r\u00e9sum\u00e9s.\n"
    for name, data in [
        ("utf16le-bom.txt", text.encode("utf-16")),
        ("utf16be-bom.txt", b"\xfe\xff" + text.encode("utf-16-be")),
        ("utf16le-nobom.txt", text.encode("utf-16-le")),
        ("latin1.txt", text.encode("latin-1")),
        ("utf8.txt", text.encode("utf-8")),
    ]:
        (tmp_path / name).write_bytes(data)
        [paper] = read_path(tmp_path / name)
        assert paper.title == "Caf\u00e9 Study", name
        assert "na\u00efve body text about r\u00e9sum\u00e9s." in paper.text, name


# --- ids ----------------------------------------------------------------------------------------------------------


def test_ids_are_content_hashes(tmp_path):
    (tmp_path / "a.txt").write_text("Same Paper\n\nSame body text.\n")
    (tmp_path / "copy-of-a.txt").write_text("Same Paper\n\nSame body text.\n")
    (tmp_path / "c.txt").write_text("Other Paper\n\nDifferent body text.\n")
    a, b, c = (read_path(tmp_path / n)[0] for n in ("a.txt", "copy-of-a.txt", "c.txt"))
    assert a.id == b.id != c.id
    assert a.source != b.source


# --- bad input ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("binary.txt", bytes(range(256)) * 50, "binary file"),
        ("latin-junk.txt", bytes(range(128, 256)) * 50, "not UTF-8 text"),
        ("empty.txt", b"", "empty file"),
        ("blank.md", b"  \n\t\n   \n", "empty file (only whitespace)"),
        ("empty.html", b"<html><head><script>x()</script></head><body> </body></html>", "no text"),
        ("paper.docx", b"PK\x03\x04", "unsupported file type '.docx'"),
        ("README", b"hello", "unsupported file type '(no extension)'"),
    ],
)
def test_bad_files_raise_reader_error(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    assert reason in reason_of(path)


def test_legacy_encodings_are_read(tmp_path):
    (tmp_path / "cp1252.txt").write_bytes(
        "Caf\u00e9 Study \u2014 r\u00e9sum\u00e9\n\nA na\u00efve body text.\n".encode("cp1252")
    )
    (tmp_path / "utf16.txt").write_bytes("UTF-16 Paper\n\nBody text here.\n".encode("utf-16"))
    (tmp_path / "bom.md").write_bytes("\ufeff# BOM Paper\n\ntext\n".encode())
    assert read_path(tmp_path / "cp1252.txt")[0].title == "Caf\u00e9 Study \u2014 r\u00e9sum\u00e9"
    assert read_path(tmp_path / "utf16.txt")[0].title == "UTF-16 Paper"
    assert read_path(tmp_path / "bom.md")[0].title == "BOM Paper"


def test_missing_folder_and_too_big(tmp_path):
    assert "not found" in reason_of(tmp_path / "nope.pdf")
    (tmp_path / "dir.txt").mkdir()
    assert "is a folder" in reason_of(tmp_path / "dir.txt")
    (tmp_path / "big.txt").write_text("Big\n\n" + "x" * 3_000_000)
    with pytest.raises(ReaderError, match="too large"):
        read_path(tmp_path / "big.txt", max_file_mb=1)


def test_unreadable_file(tmp_path, monkeypatch):
    path = tmp_path / "locked.txt"
    path.write_text("Locked\n\ntext\n")

    def deny(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", deny)
    assert "permission denied" in reason_of(path)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_and_folder_for_real(tmp_path):
    locked = tmp_path / "locked.txt"
    locked.write_text("Locked\n\ntext\n")
    locked.chmod(0)
    closed = tmp_path / "closed"
    closed.mkdir()
    (closed / "inside.txt").write_text("x")
    closed.chmod(0)
    try:
        assert "permission denied" in reason_of(locked)
        files, failures = discover([tmp_path])
        assert files == []
        assert {(Path(f.path).name, f.reason) for f in failures} == {
            ("locked.txt", "permission denied"),
            ("closed", "permission denied"),
        }
    finally:
        locked.chmod(0o644)
        closed.chmod(0o755)
