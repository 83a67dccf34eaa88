"""The demo's wall time alone and beside one busy CPU-bound process (#16).

Issue #16 asks that ``python -m skgen demo``, with one other single-threaded
CPU-bound process running beside it, take at most 2.5x its time alone.
This script runs the demo (with its defaults: 1 torch thread) as a
subprocess ``--repeats`` times in each condition, alternating alone and
loaded, where the load is a Python process spinning on one core, started
before and stopped after each loaded run. It writes the medians and their
ratio, with the machine's load at both ends.

Usage::

    python benchmarks/bench_demo_load.py --repeats 1
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _machine import load_average, machine_line

RESULTS = Path(__file__).resolve().parent / "results"


def run_demo():
    with tempfile.TemporaryDirectory() as out:
        begin = time.perf_counter()
        subprocess.run([sys.executable, "-m", "skgen", "demo", "--out", out],
                       check=True, capture_output=True)
        return time.perf_counter() - begin


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS / "demo_load.md")
    args = parser.parse_args()
    start = load_average()
    alone, loaded = [], []
    for _ in range(args.repeats):
        alone.append(run_demo())
        print(f"alone: {alone[-1]:.1f} s", flush=True)
        spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            loaded.append(run_demo())
        finally:
            spinner.kill()
            spinner.wait()
        print(f"beside one busy process: {loaded[-1]:.1f} s", flush=True)
    a, b = statistics.median(alone), statistics.median(loaded)
    lines = [
        "# The demo alone and beside one busy process",
        "",
        "`benchmarks/bench_demo_load.py`: `python -m skgen demo` (defaults, 1 "
        f"torch thread), {args.repeats} run(s) in each condition, alternating; "
        "the load is one Python process spinning on a core.",
        "",
        machine_line(start),
        "",
        "| condition | seconds per run | median |",
        "|---|---|---|",
        f"| alone | {', '.join(f'{v:.1f}' for v in alone)} | {a:.1f} |",
        f"| beside one busy process | {', '.join(f'{v:.1f}' for v in loaded)} | "
        f"{b:.1f} |",
        "",
        f"Ratio of the medians: **{b / a:.2f}x** (goal: at most 2.5x).",
    ]
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
