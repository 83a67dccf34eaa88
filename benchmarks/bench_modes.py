"""Protocol P4: mode coverage on the ring and the grid (after VEEGAN, PacGAN).

Follows P4 of ``PROTOCOLS.md`` (in the shared folder beside the checkout):

* ring: 8 Gaussians at (cos 2 pi i / 8, sin 2 pi i / 8), std 0.01
  (``skgen.datasets.make_ring``); grid: 25 Gaussians at {-4, -2, 0, 2, 4}^2,
  std 0.05 (``skgen.datasets.make_grid``); 100 000 training points, equal
  weights;
* each model, with default parameters plus ``random_state=seed``, draws
  2 500 samples (``random_state=seed``);
* a sample is high quality (HQ) within 3 std of its nearest centre; a mode is
  captured when an HQ sample has it as nearest centre; reverse KL is
  KL(p || uniform) over the nearest-centre shares of all samples
  (``skgen.metrics.mode_coverage``);
* mean +- standard error over seeds 0-4; fit seconds.

Rows: ``skgen.GAN`` (the subject), and ``skgen.GaussianMixture`` with the true
number of components as a reference a density model should reach.
Threads: torch and BLAS at 2 threads (the machine's cores), or ``--threads``.

Usage::

    python benchmarks/bench_modes.py           # seeds 0-4
    python benchmarks/bench_modes.py --quick   # seed 0, 20 000 points
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from _machine import load_average, machine_line
from threadpoolctl import threadpool_limits

import skgen
from skgen import GaussianMixture
from skgen.datasets import make_grid, make_ring
from skgen.metrics import mode_coverage

RESULTS = Path(__file__).parent / "results"
ANCHORS = {
    "grid": "PacGAN4 24.8 modes, 93.6% HQ; VEEGAN 24.6, 40%; plain GAN 17.3, 94.8%",
    "ring": "PacGAN2 7.9 modes, 95.6% HQ; VEEGAN 8, 52.9%; plain GAN 6.3, 98.2%",
}


def models(seed, n_modes):
    found = {"GaussianMixture(true k)": GaussianMixture(n_modes, random_state=seed)}
    if hasattr(skgen, "GAN"):
        found = {"GAN": skgen.GAN(random_state=seed), **found}
    return found


def mean_se(values):
    values = np.asarray(values, dtype=float)
    se = values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else 0.0
    return f"{values.mean():.2f} +- {se:.2f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--datasets", nargs="*", default=["ring", "grid"])
    parser.add_argument("--threads", type=int, default=2,
                        help="torch and BLAS threads (default: the 2 cores)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    threadpool_limits(limits=args.threads)
    seeds = [0] if args.quick else [0, 1, 2, 3, 4]
    n_train = 20_000 if args.quick else 100_000
    makers = {"ring": (make_ring, 0.01, 8), "grid": (make_grid, 0.05, 25)}
    load_at_start = load_average()

    lines = [
        "# P4: mode coverage (2 500 samples, mean +- s.e. over seeds "
        f"{seeds[0]}-{seeds[-1]})",
        "",
        f"{n_train} training points; default parameters plus random_state=seed; "
        f"torch and BLAS at {args.threads} thread(s).",
        "",
        "| data | model | modes captured | high quality % | reverse KL | fit s |",
        "|---|---|---|---|---|---|",
    ]
    for name in args.datasets:
        make, std, n_modes = makers[name]
        results = {}
        for seed in seeds:
            X, _, centers = make(n_train, random_state=seed, return_centers=True)
            for model_name, model in models(seed, n_modes).items():
                start = time.perf_counter()
                model.fit(X)
                seconds = time.perf_counter() - start
                samples = model.sample(2500, random_state=seed)
                if isinstance(samples, tuple):
                    samples = samples[0]
                scores = mode_coverage(samples, centers, std)
                scores["seconds"] = seconds
                results.setdefault(model_name, []).append(scores)
                print(f"{name} seed {seed} {model_name}: {scores}", file=sys.stderr,
                      flush=True)
        for model_name, runs in results.items():
            def col(key, runs=runs):
                return [r[key] for r in runs]

            lines.append(
                f"| {name} | {model_name} | {mean_se(col('modes'))} / {n_modes} | "
                f"{mean_se(100 * np.array(col('high_quality')))} | "
                f"{mean_se(col('reverse_kl'))} | {mean_se(col('seconds'))} |")
    # The load at the end is known only now: the machine line goes in the header.
    lines[4:4] = [machine_line(load_at_start), ""]
    lines += ["", "Published anchors:", ""]
    lines += [f"- {name}: {ANCHORS[name]}" for name in args.datasets]
    table = "\n".join(lines) + "\n"
    print(table)
    if not args.quick:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "bench_modes.md").write_text(table)


if __name__ == "__main__":
    main()
