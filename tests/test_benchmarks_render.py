"""``python -m benchmarks render``: blocks come from results; --check catches drift."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the benchmarks package lives beside skgen

render = pytest.importorskip("benchmarks._render")


def make_tree(tmp_path, figures, readme, page=None):
    results = tmp_path / "benchmarks" / "results"
    results.mkdir(parents=True)
    (results / "P1.json").write_text(json.dumps(
        {"protocol": "P1", "commit": "abc", "figures": figures}))
    (tmp_path / "README.md").write_text(readme)
    if page is not None:
        (tmp_path / "doc").mkdir()
        (tmp_path / "doc" / "page.rst").write_text(page)
    return tmp_path


def test_inline_block_is_rendered_and_checked(tmp_path):
    readme = "Fast: <!-- figures: {P1.speed:.1f}x -->old<!-- /figures --> here.\n"
    root = make_tree(tmp_path, {"speed": 12.345}, readme)
    assert render.render(root, check=True) == [root / "README.md"]
    assert (root / "README.md").read_text() == readme  # --check writes nothing
    render.render(root)
    assert (root / "README.md").read_text() == (
        "Fast: <!-- figures: {P1.speed:.1f}x -->12.3x<!-- /figures --> here.\n")
    assert render.render(root, check=True) == []


def test_check_fails_when_a_figure_changes(tmp_path):
    readme = "<!-- figures: {P1.speed}x -->old<!-- /figures -->\n"
    root = make_tree(tmp_path, {"speed": 7.3}, readme)
    render.render(root)
    assert render.render(root, check=True) == []
    (root / "benchmarks" / "results" / "P1.json").write_text(json.dumps(
        {"protocol": "P1", "commit": "def", "figures": {"speed": 7.4}}))
    assert render.render(root, check=True) == [root / "README.md"]
    assert render.main(["--check", "--root", str(root)]) == 1


def test_rst_block_and_missing_results(tmp_path):
    page = ("Text.\n\n.. figures: P1 {P1.speed} and P3 {P3.auc}\n\nold\n\n"
            ".. /figures\n\nMore.\n")
    root = make_tree(tmp_path, {"speed": 2.5}, "no blocks\n", page)
    render.render(root)
    text = (root / "doc" / "page.rst").read_text()
    # a protocol without a results file says how to make one, not a number
    assert "python -m benchmarks P3" in text
    assert text.startswith("Text.\n\n.. figures: P1 {P1.speed} and P3 {P3.auc}\n\n")
    assert text.endswith("\n\n.. /figures\n\nMore.\n")


def test_unknown_figure_is_an_error(tmp_path):
    root = make_tree(tmp_path, {"speed": 1.0},
                     "<!-- figures: {P1.nope} -->x<!-- /figures -->\n")
    with pytest.raises(KeyError, match="nope"):
        render.render(root)


def test_repository_renders_what_it_ships(tmp_path):
    """A fresh copy of the README, docs and results renders to itself."""
    shutil.copytree(ROOT / "benchmarks" / "results",
                    tmp_path / "benchmarks" / "results",
                    ignore=shutil.ignore_patterns("quick"))
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    shutil.copytree(ROOT / "doc", tmp_path / "doc",
                    ignore=shutil.ignore_patterns("_build", "generated",
                                                  "auto_examples"))
    if (ROOT / "benchmarks" / "README.md").exists():
        shutil.copy(ROOT / "benchmarks" / "README.md",
                    tmp_path / "benchmarks" / "README.md")
    assert render.render(tmp_path, check=True) == []


def test_help_lists_every_protocol():
    out = subprocess.run([sys.executable, "-m", "benchmarks", "--help"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    for name in [f"P{i}" for i in range(1, 10)]:
        assert f"  {name} " in out
