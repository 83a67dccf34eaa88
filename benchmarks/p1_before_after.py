"""P1's skgen figures at this checkout against another commit's, in one run.

A refactoring must keep P1's speed: this runs ``bench_gmm.py``'s own worker
(P1 (a), seconds per EM iteration for every covariance type and dtype, and
P1 (b), the whole default fit) for skgen at 1 and 2 threads, each run in a
fresh process, alternating the code of this checkout and of the checkout
given (put first on ``PYTHONPATH``), and writes the medians and their
ratios.

Usage::

    python benchmarks/p1_before_after.py ../old-checkout --repeats 3
"""

import argparse
import os
import statistics
import subprocess
from pathlib import Path

from _machine import load_average, machine_line
from bench_gmm import run_in_fresh_process

RESULTS = Path(__file__).resolve().parent / "results"


def run(base, kind, threads):
    """One fresh-process run of bench_gmm's worker, with ``base`` code or this."""
    saved = os.environ.get("PYTHONPATH")
    try:
        if base is not None:
            os.environ["PYTHONPATH"] = str(Path(base).resolve())
        return run_in_fresh_process(
            dict(kind=kind, library="skgen", threads=threads, n=200_000))
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", type=Path, help="a checkout of the commit before")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS / "p1_before_after.md")
    args = parser.parse_args()
    start = load_average()
    runs = {}
    for repeat in range(args.repeats):
        for kind in ("iteration", "whole"):
            for threads in (1, 2):
                for label, base in (("before", args.base), ("after", None)):
                    result = run(base, kind, threads)
                    for config, values in result.items():
                        figure = values.get("per_iter", values.get("seconds"))
                        runs.setdefault((config, threads, label), []).append(figure)
                    print(f"[{repeat}] {kind} {threads} {label} done", flush=True)
    commit = subprocess.run(["git", "-C", str(args.base), "rev-parse", "--short",
                             "HEAD"], capture_output=True, text=True).stdout.strip()
    lines = [
        "# P1 before and after (skgen only)",
        "",
        f"`benchmarks/p1_before_after.py`: bench_gmm's worker (P1 data, "
        f"200 000 x 16, k = 16), before = {commit or args.base.name}, after = "
        f"this checkout; {args.repeats} fresh processes per cell, alternating "
        "before and after; medians. (a) rows: seconds per EM iteration from "
        "P1's explicit init; `default`: seconds of the whole default fit. Threads "
        "as P1 sets them: `torch.set_num_threads` and the BLAS variables.",
        "",
        "| config | threads | before s | after s | after / before |",
        "|---|---|---|---|---|",
    ]
    configs = sorted({config for config, _, _ in runs},
                     key=lambda c: (c == "default", c))
    for config in configs:
        for threads in (1, 2):
            a = statistics.median(runs[config, threads, "before"])
            b = statistics.median(runs[config, threads, "after"])
            lines.append(f"| {config} | {threads} | {a:.4f} | {b:.4f} | {b / a:.2f} |")
    lines += ["", machine_line(start), ""]
    text = "\n".join(lines)
    print(text)
    args.out.write_text(text)


if __name__ == "__main__":
    main()
