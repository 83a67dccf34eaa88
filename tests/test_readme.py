"""The README's python blocks run as they stand, in order, in a fresh interpreter."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def python_blocks(text):
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def shell_blocks(text):
    return re.findall(r"^```bash\n(.*?)^```", text, flags=re.S | re.M)


def test_readme_python_blocks_run_in_order(tmp_path):
    pytest.importorskip("pandas")
    pytest.importorskip("dask.array")
    blocks = python_blocks(README.read_text())
    assert len(blocks) >= 6  # one snippet per job
    script = tmp_path / "readme.py"
    script.write_text("\n".join(blocks))
    # A fresh interpreter: the blocks may not lean on this test's imports;
    # the checkout comes first, as for a reader in the repository root.
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300,
                            env={"PYTHONPATH": str(ROOT), "PATH": "",
                                 "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                                 "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg"})
    assert result.returncode == 0, result.stderr[-3000:]


def test_readme_set_up_commands_come_early_and_match_ci():
    text = README.read_text()
    lines = text.splitlines()
    assert len(lines) <= 250
    first_120 = "\n".join(lines[:120])
    commands = [c.strip() for block in shell_blocks(first_120)
                for c in block.splitlines()]
    assert "python -m skgen demo" in commands
    # The test command is the one CI runs, word for word.
    ci = (ROOT / ".ci" / "run").read_text()
    ci_tests = re.findall(r'^section "Tests: pytest"\n(.*?)\n', ci, flags=re.M)
    assert ci_tests and ci_tests[0].strip() in commands
    # torch is installed before skgen, pinned as CI pins it, so that pip
    # finds it satisfied and cannot pull another build.
    torch_line = next(i for i, c in enumerate(commands)
                      if c.startswith("pip install") and "torch" in c)
    skgen_line = next(i for i, c in enumerate(commands)
                      if c.startswith("pip install -e"))
    ci_torch = re.search(r'pip install "(torch==[0-9.]+)"', ci)[1]
    assert ci_torch in commands[torch_line]
    assert torch_line < skgen_line
