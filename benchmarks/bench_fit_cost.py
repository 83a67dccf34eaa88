"""Fit seconds against the number of rows, for every skgen model's defaults.

Issue #16 asks how the cost of a default fit grows with the data. Each model
is fitted with its defaults (``random_state=0``) on N = 300, 3 000, 30 000
and 300 000 rows of the same 8-feature data (5 Gaussian blobs,
``sklearn.datasets.make_blobs``, seed 0; ``TabularMixture`` gets the same
numbers as a DataFrame with one more column, the blob label as a category),
at 1 torch thread and 1 BLAS thread, once per (model, N), largest N last.
The GAN's own table with steps and seconds per step is
``results/gan_cost.md`` (``bench_gan_cost.py``); it is fitted here too so
that the four models share one run.

Usage::

    python benchmarks/bench_fit_cost.py                 # every model, every N
    python benchmarks/bench_fit_cost.py --models VAE --sizes 300 3000
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from _machine import load_average, machine_line  # noqa: E402
from sklearn.datasets import make_blobs  # noqa: E402

import skgen  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
SIZES = (300, 3_000, 30_000, 300_000)
MODELS = ("GaussianMixture", "TabularMixture", "VAE", "GAN")


def data(n, model):
    X, y = make_blobs(n_samples=n, n_features=8, centers=5, random_state=0)
    if model != "TabularMixture":
        return X
    import pandas as pd

    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(8)])
    frame["blob"] = pd.Categorical(np.array(list("abcde"))[y])
    return frame


def what_ran(model):
    """The size of the fit that ran: components, steps or epochs."""
    if isinstance(model, skgen.TabularMixture):
        return f"{model.n_components_} components, {model.n_iter_} EM iterations"
    if isinstance(model, skgen.GaussianMixture):
        return f"{model.n_iter_} EM iterations"
    if hasattr(model, "n_steps_"):
        return f"{model.n_steps_} generator steps"
    return f"{model.n_iter_} epochs"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--sizes", nargs="+", type=int, default=list(SIZES))
    parser.add_argument("--out", type=Path, default=RESULTS / "fit_cost.md")
    args = parser.parse_args()
    torch.set_num_threads(1)
    start = load_average()
    rows = []
    for n in args.sizes:
        for name in args.models:
            X = data(n, name)
            model = getattr(skgen, name)(random_state=0)
            begin = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.fit(X)
            seconds = time.perf_counter() - begin
            rows.append((name, n, seconds, what_ran(model)))
            print(f"{name} N={n}: {seconds:.1f} s ({what_ran(model)})", flush=True)
    lines = [
        "# Default fit seconds against N",
        "",
        "Written by `benchmarks/bench_fit_cost.py`: every model with its "
        "defaults (`random_state=0`) on N rows of 8-feature data (5 Gaussian "
        "blobs, seed 0; TabularMixture also gets the blob label as a "
        "category), one fit per cell, at 1 torch thread and 1 BLAS thread.",
        "",
        machine_line(start),
        "",
        "| model | N | fit s | s per 1 000 rows | what ran |",
        "|---|---|---|---|---|",
    ]
    for name, n, seconds, ran in rows:
        lines.append(f"| {name} | {n:,} | {seconds:.1f} | "
                     f"{1000 * seconds / n:.3f} | {ran} |")
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
