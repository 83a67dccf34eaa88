"""P6 fit seconds side by side: TabularMixture against TVAE and CTGAN, one run.

``bench_tables.py`` times each fit when it runs, and its cache gathers fits
made at different times and loads. This script times the models of P6
interleaved in one process on the same training rows (the P6 split of the
given seed), as A, B, A, B, ..., so that their ratio compares like with
like: median seconds per model over ``--repeats`` rounds, and the ratio of
the medians. 1 thread, as ``bench_tables.py`` (it imports that script's
loading and fitting).

Usage::

    python benchmarks/bench_tables_speed.py --dataset diamonds --repeats 2 \\
        --models skgen-TabularMixture TVAE
"""

import argparse
import statistics
import time
from pathlib import Path

import bench_tables as p6
from _machine import load_average, machine_line


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="diamonds", choices=list(p6.DATASETS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--models", nargs="+",
                        default=["skgen-TabularMixture", "TVAE"])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    train, _ = p6.split(p6.load_table(args.dataset), args.seed)
    start = load_average()
    seconds = {model: [] for model in args.models}
    for _ in range(args.repeats):
        for model in args.models:
            begin = time.perf_counter()
            p6.fit_model(model, train, args.seed)
            seconds[model].append(time.perf_counter() - begin)
            print(f"{model}: {seconds[model][-1]:.1f} s", flush=True)
    first = statistics.median(seconds[args.models[0]])
    lines = [
        f"# P6 fit seconds side by side: {args.dataset}, seed {args.seed}",
        "",
        f"`benchmarks/bench_tables_speed.py`: {len(train)} training rows; the "
        f"models fitted in turn, {args.repeats} rounds, in one process; fit "
        "seconds (including the sampling each fit function does for P6).",
        "",
        machine_line(start),
        "",
        f"| model | seconds per round | median | median / {args.models[0]}'s |",
        "|---|---|---|---|",
    ]
    for model, values in seconds.items():
        median = statistics.median(values)
        lines.append(f"| {model} | {', '.join(f'{v:.1f}' for v in values)} | "
                     f"{median:.1f} | {median / first:.1f}x |")
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
