"""The `paperqa-local` command as a user runs it (subprocesses, real library)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import MODELS_DIR, SEEDS

CLI = [sys.executable, "-m", "paperqa_local.cli"]


def run(home: Path, *args: str, chroma_url: str | None = None) -> subprocess.CompletedProcess[str]:
    base = CLI + ["--home", str(home), "--models-dir", str(MODELS_DIR)]
    if chroma_url:
        base += ["--chroma-url", chroma_url]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERQA_")}
    return subprocess.run(base + list(args), capture_output=True, text=True, timeout=600, env=env)


def write_papers(folder: Path) -> None:
    folder.mkdir()
    (folder / "lanterns.md").write_text(
        "# Bioluminescent Lanterns for Deep-Sea Mapping\n\n## Method\n"
        "We mapped 40 trenches using lantern squid swarms guided by acoustic beacons.\n"
        "The swarm covered 12 square kilometres per hour.\n", encoding="utf-8")
    (folder / "glaciers.txt").write_text(
        "Acoustic Monitoring of Glacier Calving\n\nHydrophones recorded 311 calving events at "
        "Jakobshavn over two summers, and the events clustered at high tide.\n", encoding="utf-8")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (folder / "notes.xyz").write_text("unsupported")


def test_index_reports_bad_files_and_keeps_the_rest(tmp_path: Path) -> None:
    folder = tmp_path / "papers"
    write_papers(folder)
    home = tmp_path / "home"
    result = run(home, "index", str(folder), "--no-progress")
    assert result.returncode == 1, result.stderr  # something failed, and the exit code says so
    assert "broken.pdf" in result.stderr and "notes.xyz" in result.stderr
    assert "2 added" in result.stdout and "2 failed" in result.stdout

    papers = json.loads(run(home, "papers", "--json").stdout)
    assert sorted(p["title"] for p in papers) == [
        "Acoustic Monitoring of Glacier Calving", "Bioluminescent Lanterns for Deep-Sea Mapping"]
    assert set(papers[0]) >= {"id", "title", "authors", "date", "url", "source", "chunks"}

    hits = json.loads(run(home, "search", "how many calving events did hydrophones record", "--json").stdout)
    assert hits[0]["title"] == "Acoustic Monitoring of Glacier Calving"
    assert set(hits[0]) >= {"title", "paper_id", "location", "score", "text"}

    answer = json.loads(run(home, "ask", "How many calving events were recorded?", "--llm", "extractive",
                            "--json").stdout)
    assert answer["references"][0]["title"] == "Acoustic Monitoring of Glacier Calving"
    assert "311" in answer["text"]

    again = run(home, "index", str(folder / "lanterns.md"), str(folder / "glaciers.txt"), "--no-progress")
    assert again.returncode == 0 and "2 unchanged" in again.stdout and "0 chunks embedded" in again.stdout

    glacier_id = next(p["id"] for p in papers if p["title"].startswith("Acoustic"))
    removed = run(home, "remove", glacier_id)
    assert removed.returncode == 0 and "Glacier" in removed.stdout
    assert len(json.loads(run(home, "papers", "--json").stdout)) == 1


def test_errors_are_one_line(tmp_path: Path) -> None:
    result = run(tmp_path / "home", "search", "x", "-k", "0")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "k" in result.stderr
    missing = run(tmp_path / "home", "remove", "deadbeef")
    assert missing.returncode == 2 and "deadbeef" in missing.stderr


def test_every_command_prints_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    """Each settings flag's help is its field's description, "25%" and all (argparse reads % as a format)."""
    from paperqa_local.cli import build_parser, main

    commands = [[]] + [[name] for name in build_parser()._subparsers._group_actions[0].choices]
    for command in commands + [["models", "list"], ["eval", "run"]]:
        with pytest.raises(SystemExit) as done:
            main([*command, "--help"])
        assert done.value.code == 0, command
    assert "--requantize" in capsys.readouterr().out


def test_seeds_against_a_chroma_server(tmp_path: Path, chroma_server: str) -> None:
    home = tmp_path / "home"
    result = run(home, "index", str(SEEDS), "--no-progress", chroma_url=chroma_server)
    assert result.returncode == 0, result.stderr
    assert "library: 272 papers" in result.stdout
    hits = json.loads(run(home, "search", "train a ResNet-50 on ImageNet to 75% in 20 minutes", "--json",
                          chroma_url=chroma_server).stdout)
    assert "FFCV" in hits[0]["title"]
