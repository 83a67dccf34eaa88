"""Tests of ``python -m skgen demo``."""

import os
import subprocess
import sys

import pytest

pytest.importorskip("matplotlib")

from skgen._demo import main  # noqa: E402


def test_quick_demo_writes_report_and_pictures(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--out", str(out)]) == 0
    report = (out / "report.md").read_text()
    for picture in ("gmm_ring.png", "vae_digits.png", "roc_digits.png"):
        assert (out / picture).stat().st_size > 1000
        assert f"]({picture})" in report
    assert "| GaussianMixture(40, diag) | digits: density |" in report
    assert "partly shuffled digits as anomalies" in report
    captured = capsys.readouterr()
    assert captured.out == ""  # progress goes to stderr
    assert "[skgen demo]" in captured.err


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
