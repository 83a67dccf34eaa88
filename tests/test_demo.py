"""Tests of ``python -m skgen demo``."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

from skgen._demo import _output_folder, main  # noqa: E402


def test_quick_demo_writes_report_and_pictures(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--out", str(out)]) == 0
    report = (out / "report.md").read_text()
    for picture in ("gmm_ring.png", "vae_digits.png", "roc_digits.png",
                    "gan_ring.png", "tabular_diabetes.png"):
        assert (out / picture).stat().st_size > 1000
        assert f"]({picture})" in report
    assert "| GaussianMixture(40, diag) | digits 0-8 |" in report
    assert "unseen 9s among" in report
    assert "| TabularMixture (defaults) | diabetes table, in its units |" in report
    # The report says on what the fits ran and against which baseline.
    for words in ("logical CPUs", "on 1 thread(s)", "load average", "| CPU s |",
                  "| IsolationForest (baseline) |"):
        assert words in report
    captured = capsys.readouterr()
    assert captured.out == ""  # progress goes to stderr
    assert "[skgen demo]" in captured.err
    assert f"report and pictures in {out}" in captured.err


def test_default_output_folder_is_new_and_outside_the_working_directory(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    first, second = _output_folder(None), _output_folder(None)
    try:
        assert first != second
        assert first.parent == Path(tempfile.gettempdir())
        assert list(tmp_path.iterdir()) == []
    finally:
        first.rmdir()
        second.rmdir()


def test_unwritable_output_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    result = subprocess.run(
        [sys.executable, "-m", "skgen", "demo", "--quick",
         "--out", str(blocker / "sub")],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert result.returncode == 2
    assert "cannot write to the output folder" in result.stderr
    assert "Traceback" not in result.stderr
