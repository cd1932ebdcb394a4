"""Tiny evaluation datasets built in tmp_path, and helpers shared by the evaluation tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from paperqa_local.cli import main

from conftest import MODELS_DIR, ROOT

PNG = b"\x89PNG\r\n\x1a\n"
CONFIGS = ROOT / "evals" / "configs"


# ============================================================================ helpers
def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def cli(capsys: pytest.CaptureFixture[str], home: Path, *args: str) -> tuple[int, str, str]:
    """``paperqa-local --home HOME --models-dir ... ARGS`` in-process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = main(["--home", str(home), "--models-dir", str(MODELS_DIR), *args])
    out, err = capsys.readouterr()
    return code, out, err


def read_items(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def assert_png(path: Path) -> None:
    assert path.is_file(), path
    assert path.read_bytes()[:8] == PNG and path.stat().st_size > 1000, path


# Fifteen abstracts on unrelated topics, each with words no other one uses.
DOCS = {
    "101": ("Lantern squid swarms map deep-sea trenches",
            "Swarms of bioluminescent lantern squid guided by acoustic beacons mapped forty ocean trenches, "
            "covering twelve square kilometres per hour."),
    "102": ("Hydrophone monitoring of glacier calving",
            "Hydrophones moored near Jakobshavn recorded 311 glacier calving events over two summers; "
            "the calving clustered at high tide."),
    "103": ("The microbiome of sourdough starters",
            "Sourdough starters from 500 bakeries shared lactobacilli and wild yeasts whose balance set "
            "the bread's sourness and rise."),
    "104": ("Decoding the honeybee waggle dance",
            "Video tracking of honeybee waggle dances showed that the run angle encodes the direction "
            "of nectar sources relative to the sun."),
    "105": ("Volcanic ash erodes jet engine turbines",
            "Volcanic ash ingested by jet engines melts in the combustor and glazes turbine blades, "
            "eroding them within minutes at high concentrations."),
    "106": ("Thermal stress and coral reef bleaching",
            "Marine heatwaves expelled symbiotic algae from reef-building corals; bleaching followed "
            "four degree-heating weeks of thermal stress."),
    "107": ("Quantum dot solar cells",
            "Lead sulfide quantum dot photovoltaic cells reached 13 percent power conversion efficiency "
            "after ligand exchange passivated surface traps."),
    "108": ("Tardigrade proteins protect against desiccation",
            "Tardigrades survive complete desiccation by expressing intrinsically disordered proteins "
            "that vitrify the cytoplasm into a glass."),
    "109": ("Green roofs cool urban heat islands",
            "Vegetated green roofs lowered rooftop surface temperatures by 30 degrees and reduced the "
            "urban heat island effect across the city."),
    "110": ("Mycorrhizal networks share carbon between trees",
            "Mycorrhizal fungal networks transferred carbon isotopes from mother trees to seedlings "
            "through the forest soil."),
    "111": ("Antibiotic resistance genes in hospital wastewater",
            "Metagenomic sequencing of hospital wastewater found carbapenemase resistance genes on "
            "plasmids shared by many bacteria."),
    "112": ("Exoplanet detection by transit photometry",
            "Transit photometry detected an exoplanet by the periodic dimming of its host star's light "
            "as the planet crossed the stellar disk."),
    "113": ("Sleep spindles consolidate memory",
            "Sleep spindles during non-REM sleep predicted overnight memory consolidation of word pairs "
            "learned before bed."),
    "114": ("Octopus arms make local decisions",
            "Each octopus arm holds a neural ganglion chain that coordinates suckers and reaching without "
            "input from the central brain."),
    "115": ("Methane emissions from thawing permafrost",
            "Thawing Arctic permafrost released methane from thermokarst lakes, adding to greenhouse "
            "warming feedbacks."),
}


def make_beir(root: Path) -> Path:
    """A BEIR-layout folder: 15 documents, 5 judged queries (one with two relevant documents)."""
    write_jsonl(root / "corpus.jsonl", [{"_id": k, "title": t, "text": x} for k, (t, x) in DOCS.items()])
    queries = [
        {"_id": "1", "text": "lantern squid swarms guided by acoustic beacons mapped ocean trenches"},
        {"_id": "2", "text": "tardigrades survive desiccation with intrinsically disordered proteins"},
        {"_id": "3", "text": "hydrophones recorded glacier calving events at Jakobshavn"},
        {"_id": "4", "text": "vegetated green roofs reduce the urban heat island effect"},
        {"_id": "5", "text": "coral reef bleaching from marine heatwaves and methane from thawing permafrost"},
        {"_id": "6", "text": "a query without judgements is ignored"},
    ]
    write_jsonl(root / "queries.jsonl", queries)
    (root / "qrels").mkdir()
    rows = [("1", "101", 1), ("2", "108", 1), ("3", "102", 1), ("4", "109", 1), ("5", "106", 1), ("5", "115", 1),
            ("4", "103", 0)]  # a zero judgement is not relevant
    (root / "qrels" / "train.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t{s}\n" for q, d, s in rows), encoding="utf-8")
    return root


def make_pubmedqa(root: Path) -> Path:
    """PubMedQA-shaped: corpus.jsonl ({_id, text}) beside questions.jsonl; returns the questions file."""
    corpus = [{"_id": k, "text": f"{t}. {x}", "labels": ["BACKGROUND"], "meshes": [], "year": "2019"}
              for k, (t, x) in list(DOCS.items())[:6]]
    write_jsonl(root / "corpus.jsonl", corpus)
    questions = [
        {"id": "9001", "question": "Do hydrophones record glacier calving events at Jakobshavn?",
         "gold_doc_id": "102", "final_decision": "yes", "long_answer": "Yes, 311 calving events."},
        {"id": "9002", "question": "Does volcanic ash ingested by jet engines erode turbine blades?",
         "gold_doc_id": "105", "final_decision": "yes", "long_answer": "Yes, within minutes."},
        {"id": "9003", "question": "Is the sourdough starter microbiome identical across bakeries?",
         "gold_doc_id": "103", "final_decision": "no", "long_answer": "No, lactobacilli and yeasts vary."},
    ]
    return write_jsonl(root / "questions.jsonl", questions)


def make_seeds(root: Path) -> tuple[Path, Path]:
    """Seeds-format questions over a folder of markdown papers: (questions file, papers folder)."""
    papers = root / "papers"
    papers.mkdir(parents=True)
    for key in ("101", "102", "108", "109", "112"):
        title, text = DOCS[key]
        (papers / f"p{key}.md").write_text(f"# {title}\n\n## Abstract\n\n{text}\n", encoding="utf-8")
    questions = [
        {"id": "s1", "question": "How many glacier calving events did the hydrophones near Jakobshavn record?",
         "gold_titles": [DOCS["102"][0]], "key_facts": ["311 calving events"], "answerable": True, "type": "single"},
        {"id": "s2", "question": "How do tardigrades survive complete desiccation?",
         "gold_titles": [DOCS["108"][0]], "key_facts": ["disordered proteins"], "answerable": True,
         "type": "single"},
        {"id": "s3", "question": "By how many degrees did vegetated green roofs lower rooftop temperatures?",
         "gold_titles": [DOCS["109"][0]], "key_facts": ["30 degrees"], "answerable": True, "type": "single"},
        {"id": "s4", "question": "Which medieval king commissioned the Bayeux tapestry embroidery?",
         "gold_titles": [], "key_facts": [], "answerable": False, "type": "unanswerable"},
    ]
    return write_jsonl(root / "seeds_qa.jsonl", questions), papers


