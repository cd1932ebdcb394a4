"""Page and quote questions: the matching rules (unit) and whole questions over an indexed PDF (integration)."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperqa_local.quote_search import (
    QuoteMatch,
    asks_where,
    defined_term,
    find_quote,
    locate_answer,
    match_in,
    normalise,
    quoted_span,
)
from paperqa_local.records import Chunk, Hit

DATA = Path(__file__).parent / "data"
ZEPHYR = """# ZephyrNet: Wind-Tunnel Pretraining for Tiny Weather Models

Authors: Ada Quill, Bo Rennet

## Abstract

We introduce ZephyrNet, a 12-million-parameter convolutional weather model pretrained on synthetic wind-tunnel
flows. ZephyrNet forecasts surface wind speed 6 hours ahead.

## Method

ZephyrNet is trained for 90 minutes on a single laptop GPU. Its key idea is vortex dropout: randomly removing
simulated vortices from the training flows so that the network learns the background pressure field.

## Results

Without vortex dropout the error rises to 0.57 metres per second.
"""


def _chunk(text: str, page: int | None = 3, end_page: int | None = None, section: str | None = "2 Method",
           index: int = 0) -> Chunk:
    return Chunk(id=f"p1:{index:04d}", paper_id="p1", index=index, text=text, location="§ 2 Method, p. 3",
                 title="A Paper", source="/a.pdf", page=page, end_page=end_page, section=section)


class Keywords:
    """A stand-in keyword search over fixed chunks (every chunk is a candidate)."""

    def __init__(self, chunks: list[Chunk]) -> None:
        self.chunks = chunks

    def bm25_search(self, query: str, n: int) -> list[Hit]:
        return [Hit(chunk=c, score=1.0, bm25=1.0) for c in self.chunks][:n]


# ------------------------------------------------------------------ rules (unit)
def test_normalise_folds_ligatures_case_hyphen_breaks_and_quotes() -> None:
    pdf = "The ef\ufb01cient router is \u201cbe-\n nefficial\u201d for LONG contexts."
    typed = 'the efficient router is "benefficial" for long contexts'
    assert normalise(pdf)[0] == normalise(typed)[0] == "theefficientrouterisbenefficialforlongcontexts"
    text, where = normalise("Caf\u00e9, d\u00e9j\u00e0")
    assert text == "cafedeja" and len(where) == len(text) and where[-1] == len("Caf\u00e9, d\u00e9j\u00e0") - 1


@pytest.mark.parametrize(("question", "span"), [
    ('Which page says "the router does not require a separate index"?', "the router does not require a separate index"),
    ("Where does it say \u201cwe fix the infrastructure to 99\u201d?", "we fix the infrastructure to 99"),
    ("On which page: 'sparse routing improves exact match on MS MARCO'", "sparse routing improves exact match on MS MARCO"),
    ('What does "vortex dropout" do?', None),  # a term, not a quote
    ("What's the paper's main claim?", None),  # apostrophes are not quotes
])
def test_quoted_span(question: str, span: str | None) -> None:
    assert quoted_span(question) == span


@pytest.mark.parametrize(("question", "where"), [
    ('Which page says "the router does not require a separate index"?', True),
    ("Where does it say \u201cwe fix the infrastructure to 99\u201d?", True),
    ("On which page: 'sparse routing improves exact match on MS MARCO'", True),
    ('Find "sparse routing improves exact match"', True),
    ('"sparse routing improves exact match on MS MARCO"', True),  # a pasted quote
    ('Who wrote "sparse routing improves exact match"?', True),
    ("Where is 'sparse routing improves exact match' stated?", True),
    ('Did the authors find that "gradually increasing the dropped units" helps?', False),  # "find" as a verb
    ('Where does "Battle of the Backbones" get its models from?', False),  # where, but not where it is said
    ('Explain "approximate nearest neighbour search with token embeddings"', False),
    # a quoted title or description, and a question about the content: answered by the pipeline
    ("How many image-text pairs was the original 'predict which caption goes with which image' model trained on?",
     False),
    ('Diagnostic characteristics of child bipolar I disorder: does the "Treatment of Early Age Mania (team)" '
     "sample generalize?", False),
    ("Which datasets were used in 'Label a few, we label the rest'?", False),
])
def test_a_quote_is_looked_up_only_when_asked_where(question: str, where: bool) -> None:
    quote = quoted_span(question)
    assert quote is not None and asks_where(question, quote) is where


@pytest.mark.parametrize(("question", "term"), [
    ("Where does the paper define vortex dropout?", "vortex dropout"),
    ("Where is the term 'sparse routing' defined?", "sparse routing"),
    ("Which page defines the reflective decoder?", "reflective decoder"),
    ("Where in the paper is the term 'sparse routing' defined?", "sparse routing"),
    ("In the setting where the backbone is frozen, how do the authors define Moment Probing?", None),  # not "where?"
    ("Where do the authors define “recall at ten” in the paper?", "recall at ten"),
    ("Where is the loss defined in terms of the margin?", "loss"),
    ("What is vortex dropout?", None),
])
def test_defined_term(question: str, term: str | None) -> None:
    assert defined_term(question) == term


def test_match_in_exact_near_and_none() -> None:
    chunk = _chunk("Results. We therefore \ufb01x the infrastructure to 99 and fine-tune the router.\nDone.")
    exact = match_in(chunk, normalise("we therefore fix the INFRASTRUCTURE to 99")[0])
    assert exact is not None and exact.exact and exact.excerpt == "We therefore \ufb01x the infrastructure to 99"
    near = match_in(chunk, normalise("we therefore fixed the infrastructure to 99 and fine tuned")[0])
    assert near is not None and not near.exact and 0.85 <= near.score < 1
    assert near.excerpt.startswith("We therefore") and near.excerpt.endswith("fine-tune")
    assert match_in(chunk, normalise("a completely different sentence about protein stability")[0]) is None


def test_where_names_page_range_and_section() -> None:
    assert QuoteMatch(_chunk("x"), 0, 1, 1.0).where == "on p. 3 (§ 2 Method)"
    assert QuoteMatch(_chunk("x", page=4, end_page=5, section=None), 0, 1, 1.0).where == "on pp. 4\u20135"
    assert QuoteMatch(_chunk("x", page=None), 0, 1, 1.0).where == "in § 2 Method, p. 3"


def test_every_exact_match_in_library_order_else_the_one_closest() -> None:
    same = "Unlike prior work, the first-stage retriever does not require a separate index."
    chunks = [_chunk(f"Intro. {same}", page=1, index=0), _chunk("Unrelated text about tables.", index=1),
              _chunk(f"{same} Again.", page=4, index=2)]
    found = find_quote(Keywords(chunks), "the first-stage retriever does not require a separate index")
    assert [m.chunk.page for m in found] == [1, 4] and all(m.exact for m in found)
    near = find_quote(Keywords(chunks), "the first stage retrievers do not require a separate index")
    assert len(near) == 1 and not near[0].exact and near[0].chunk.page == 1


def test_overlapping_chunks_at_one_place_are_said_once() -> None:
    same = "Its key idea is vortex dropout: randomly removing simulated vortices from the flows."
    chunks = [_chunk(same, index=0), _chunk(f"{same} More.", index=1), _chunk(same, page=7, index=2)]
    answer = locate_answer('Which page says "randomly removing simulated vortices"?', Keywords(chunks))
    assert answer is not None and answer.text.count("p. 3") == 1 and "p. 7" in answer.text
    assert len(answer.contexts) == len(answer.sentences) == 2


def test_located_answer_cites_the_passage_with_its_page() -> None:
    chunk = _chunk("Its key idea is vortex dropout: randomly removing simulated vortices from the flows.")
    answer = locate_answer('Which page says "randomly removing simulated vortices"?', Keywords([chunk]))
    assert answer is not None and not answer.cannot_answer
    assert answer.text == "The quoted passage is on p. 3 (§ 2 Method) of \u201cA Paper\u201d [1]."
    assert answer.citations == [1] and answer.contexts[0].chunk is chunk and not answer.unsupported
    assert answer.references[0].label() == "A Paper \u2014 § 2 Method, p. 3"
    definition = locate_answer("Where does the paper define vortex dropout?", Keywords([chunk]))
    assert definition is not None and definition.text.startswith("\u201cvortex dropout\u201d is defined on p. 3")
    assert locate_answer("What does ZephyrNet forecast?", Keywords([chunk])) is None
    # a quote that names what the question asks about: a content question, for the pipeline
    assert locate_answer('Why does ZephyrNet use "randomly removing simulated vortices"?', Keywords([chunk])) is None
    assert locate_answer('"randomly removing simulated vortices from the flows"', Keywords([chunk])) is not None
    assert locate_answer('Which page says "nothing like this is written anywhere"?', Keywords([chunk])) is None


# ------------------------------------------------------------------ whole questions (integration)
@pytest.fixture(scope="module")
def qa(tmp_path_factory: pytest.TempPathFactory):
    from paperqa_local.pipeline import PaperQA

    folder = tmp_path_factory.mktemp("quote-papers")
    (folder / "zephyrnet.md").write_text(ZEPHYR, encoding="utf-8")
    qa = PaperQA(home=tmp_path_factory.mktemp("quote-home"), llm="extractive")
    report = qa.add([DATA / "two_column_arxiv.pdf", folder], progress=False)
    assert report.ok and report.total_papers == 2, report.summary()
    yield qa
    qa.close()


@pytest.mark.integration
def test_find_quote_gives_the_page_of_a_pdf_passage(qa) -> None:
    chunk = next(c for c in qa.all_chunks() if c.page == 2 and c.section == "3.1 Routing Function")
    words = chunk.text.split()[3:13]
    typed = " ".join(words).upper().replace("FI", "\ufb01")  # as copied from a viewer: other case, ligatures
    found = {m.chunk.id: m for m in qa.find_quote(typed)}
    assert chunk.id in found and all(m.exact for m in found.values())
    assert found[chunk.id].where == "on p. 2 (§ 3.1 Routing Function)"
    assert normalise(found[chunk.id].excerpt)[0] == normalise(" ".join(words))[0]


@pytest.mark.integration
def test_which_page_question_is_answered_from_the_chunk_location(qa) -> None:
    chunk = next(c for c in qa.all_chunks() if c.end_page is None and c.page == 3 and c.section == "5 Results")
    quote = " ".join(chunk.text.split()[4:14])
    events = list(qa.stream(f'Which page says "{quote}"?'))
    assert [e.kind for e in events] == ["evidence", "answer"]  # no model: a lookup
    answer = events[-1].answer
    assert answer.text.startswith("The quoted passage is on p. 3 (§ 5 Results) of \u201cSparse Mixture Routing")
    assert answer.contexts[0].chunk.page == 3 and answer.citations == [1]
    assert answer.references[0].label().startswith("Nakamura et al., 2021 \u2014 § 5 Results, p. 3")


@pytest.mark.integration
def test_where_is_a_term_defined(qa) -> None:
    answer = qa.ask("Where does the paper define vortex dropout?")
    assert answer.text.startswith("\u201cvortex dropout\u201d is defined in § Method")
    assert "vortex dropout: randomly removing" in answer.contexts[0].text


@pytest.mark.integration
def test_a_quote_found_nowhere_goes_to_the_normal_pipeline(qa) -> None:
    answer = qa.ask('Which page says "the moon is made of green cheese and nothing else"?')
    assert answer.backend == "extractive"
