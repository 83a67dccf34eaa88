"""The demo's wall time alone and beside one busy CPU-bound process.

``python -m skgen demo`` (its defaults) runs as a subprocess ``--repeats``
times in each condition, alternating alone and loaded, where the load is a
Python process spinning on one core, started before and stopped after each
loaded run. Writes ``results/DEMO.md`` and ``DEMO.json``: the medians and
their ratio, with the machine's load at both ends. The README quotes them.

Usage::

    python -m benchmarks DEMO --repeats 2
    python -m benchmarks DEMO --quick     # the demo's own --quick, alone, once
"""

import statistics
import subprocess
import sys
import tempfile
import time

from benchmarks._harness import (
    ROOT,
    argument_parser,
    command_line,
    load_average,
    machine_line,
    write_results,
)

TITLE = "python -m skgen demo, alone and beside one busy process"


def run_demo(quick):
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "skgen", "demo", "--out", out]
        begin = time.perf_counter()
        subprocess.run(command + (["--quick"] if quick else []), check=True,
                       capture_output=True, cwd=ROOT)
        return time.perf_counter() - begin


def main(argv=None):
    parser = argument_parser(__doc__)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else args.repeats
    start = load_average()
    alone, loaded = [], []
    for _ in range(repeats):
        alone.append(run_demo(args.quick))
        print(f"alone: {alone[-1]:.1f} s", file=sys.stderr, flush=True)
        if args.quick:  # a smoke run: the demo runs, its time means little
            loaded.append(float("nan"))
            continue
        spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            loaded.append(run_demo(args.quick))
        finally:
            spinner.kill()
            spinner.wait()
        print(f"beside one busy process: {loaded[-1]:.1f} s", file=sys.stderr,
              flush=True)
    a, b = statistics.median(alone), statistics.median(loaded)
    if args.quick:
        b = a  # no loaded run in a smoke run
    body = "\n".join([
        f"`python -m skgen demo{' --quick' if args.quick else ''}` (its "
        f"defaults), {repeats} run(s) in each condition, alternating; the load "
        "is one Python process spinning on a core.",
        "",
        "| condition | seconds per run | median |",
        "|---|---|---|",
        f"| alone | {', '.join(f'{v:.1f}' for v in alone)} | {a:.1f} |",
        f"| beside one busy process | {', '.join(f'{v:.1f}' for v in loaded)} | "
        f"{b:.1f} |",
        "",
        f"Ratio of the medians: **{b / a:.2f}x** (goal: at most 2.5x).",
    ])
    figures = {"alone_s": round(a, 1), "busy_s": round(b, 1),
               "busy_ratio": round(b / a, 2),
               "load_at_start": "unknown" if start is None else round(start[0], 1)}
    command = command_line("DEMO", argv)
    path = write_results("DEMO", TITLE, body, figures, quick=args.quick,
                         machine=machine_line(start), command=command.strip())
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
