"""Protocols P2 and P5 for skgen.VAE: density on the digits, training speed.

Follows ``PROTOCOLS.md`` (in the shared folder beside the checkout).

**P2, density on the 8x8 digits.** ``X = load_digits().data`` (raw 0..16)
plus U[0, 1) noise from ``np.random.default_rng(seed)``; split with
``train_test_split(X, test_size=0.2, random_state=seed)``; the score is the
held-out mean of ``score_samples`` in nats per image, in raw dequantised
units. Seeds 0, 1, 2 (on which the VAE's defaults were tuned) and, in a
second table, the held-out seeds 3, 4, 5 that tuning never saw. Rows:

* skgen GaussianMixture and sklearn GaussianMixture, each with the number of
  components and covariance type chosen by held-out score from a small grid
  (diag with k in 10, 20, 40, 80; full with k in 2, 5, 10);
* sklearn KernelDensity, bandwidth chosen by 5-fold GridSearchCV on the
  training split;
* skgen VAE with its default parameters (``random_state=seed`` only), and
  two ablations: without trimming (``support_fraction=1.0``), and the former
  default, one normal per feature without trimming
  (``n_decoder_components=1, support_fraction=1.0``).

Fit seconds are wall seconds of the one fit that is scored (for the grids,
of the chosen model), at the thread setting stated in the table.

**P5, training throughput.** N = 50 000, d = 32, standard normal,
``batch_size=256``, 1 torch thread. Seconds per epoch of ``VAE.fit`` from
the slope between fits of 2 and 6 epochs (``early_stopping=False`` so that
both loops see the same 50 000 rows; ``n_importance_samples=1`` because the
scoring pass at the end of ``fit`` is not training and cancels in the
slope). The reference is a bare loop over the same torch modules and
optimiser: a permuted index, tensor slicing per batch, forward, backward,
step; its seconds per epoch come from the same slope. Repeats run as A, B,
A, B, ...; medians are quoted.

Usage::

    python benchmarks/bench_vae.py            # P2 and P5, ~25 minutes
    python benchmarks/bench_vae.py --quick    # smoke run, ~2 minutes
    python benchmarks/bench_vae.py --only p5  # one protocol
    python benchmarks/bench_vae.py --only p2 --seed-groups held-out
"""

import argparse
import math
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from _machine import load_average, machine_line

RESULTS = Path(__file__).parent / "results"


def _set_threads(n_threads):
    """Thread count of torch and of the BLAS libraries numpy and sklearn use."""
    import torch
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=n_threads)
    torch.set_num_threads(n_threads)


# ------------------------------------------------------------------- P2


def p2_data(seed):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X = load_digits().data
    X = X + np.random.default_rng(seed).uniform(size=X.shape)
    return train_test_split(X, test_size=0.2, random_state=seed)


def _timed_fit(estimator, X):
    start = time.perf_counter()
    estimator.fit(X)
    return estimator, time.perf_counter() - start


def _best_mixture(cls, X_train, X_test, grid, seed):
    """The (k, covariance) of ``grid`` with the best held-out score."""
    best = None
    for k, covariance_type in grid:
        try:
            gmm, seconds = _timed_fit(
                cls(n_components=k, covariance_type=covariance_type,
                    random_state=seed),
                X_train,
            )
        except ValueError:  # ill-defined covariance: too many components
            continue
        score = gmm.score(X_test)
        if best is None or score > best[0]:
            best = (score, seconds, f"k={k} {covariance_type}")
    return best


# The VAE rows of P2: the defaults (the goal's row), then what the trimmed
# loss costs on these clean data, and what the mixture of normals per feature
# given z gains over one normal.
VAE_ROWS = {
    "skgen VAE": {},
    "skgen VAE, support_fraction=1.0": {"support_fraction": 1.0},
    "skgen VAE, n_decoder_components=1, support_fraction=1.0": {
        "n_decoder_components": 1, "support_fraction": 1.0},
}


def run_p2(seeds, quick):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture as SkGaussianMixture
    from sklearn.model_selection import GridSearchCV
    from sklearn.neighbors import KernelDensity

    from skgen import VAE, GaussianMixture

    if quick:
        grid = [(40, "diag"), (5, "full")]
    else:
        grid = [(k, "diag") for k in (10, 20, 40, 80)] + [
            (k, "full") for k in (2, 5, 10)
        ]
    bandwidths = np.logspace(-0.3, 0.7, 6 if quick else 21)
    rows = {}
    for seed in seeds:
        X_train, X_test = p2_data(seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            rows.setdefault("skgen GaussianMixture", []).append(
                _best_mixture(GaussianMixture, X_train, X_test, grid, seed)
            )
            rows.setdefault("sklearn GaussianMixture", []).append(
                _best_mixture(SkGaussianMixture, X_train, X_test, grid, seed)
            )
        search = GridSearchCV(KernelDensity(), {"bandwidth": bandwidths}, cv=5)
        search.fit(X_train)
        kde, seconds = _timed_fit(KernelDensity(**search.best_params_), X_train)
        rows.setdefault("sklearn KernelDensity", []).append(
            (kde.score_samples(X_test).mean(), seconds,
             f"bandwidth={search.best_params_['bandwidth']:.3g}")
        )
        for name, params in VAE_ROWS.items():
            vae = VAE(random_state=seed, **params)
            if quick:
                vae.set_params(max_epochs=20)
            vae, seconds = _timed_fit(vae, X_train)
            rows.setdefault(name, []).append(
                (vae.score(X_test), seconds, f"{vae.n_iter_} epochs")
            )
        for name, results in rows.items():
            score, seconds, choice = results[-1]
            print(f"  seed {seed} {name}: {score:.1f} nats ({choice}, {seconds:.1f} s)",
                  file=sys.stderr)

    lines = [
        "| model | mean score (nats/image) | bits/dim | per seed | choice per seed "
        "| median fit s |",
        "|---|---|---|---|---|---|",
    ]
    for name, results in rows.items():
        scores = [r[0] for r in results]
        mean = float(np.mean(scores))
        lines.append(
            f"| {name} | {mean:.1f} | {-mean / (64 * math.log(2)):.3f} | "
            + ", ".join(f"{s:.1f}" for s in scores)
            + " | " + "; ".join(r[2] for r in results)
            + f" | {statistics.median(r[1] for r in results):.1f} |"
        )
    return "\n".join(lines)


# ------------------------------------------------------------------- P5


def _bare_loop_seconds(X, epochs, batch_size, seed, **vae_params):
    """Seconds of ``epochs`` epochs of a bare loop over VAE's own modules.

    ``vae_params`` choose the modules (for example a plain one-normal VAE);
    by default they are the VAE's defaults.
    """
    import torch

    from skgen import VAE

    # Build the module and criterion exactly as VAE does (one short fit on a
    # few rows), then train fresh copies of them in a plain loop.
    template = VAE(batch_size=batch_size, max_epochs=1, early_stopping=False,
                   n_importance_samples=1, random_state=seed,
                   **vae_params).fit(X[:64])
    net = template.net_
    module = type(net.module_)(**net.get_params_for("module"))
    criterion = type(net.criterion_)(**net.get_params_for("criterion"))
    optimizer = torch.optim.Adam(module.parameters(), lr=net.lr)
    generator = torch.Generator().manual_seed(seed)
    X_tensor = torch.as_tensor(X, dtype=torch.float32)
    module.train()
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(X_tensor), generator=generator)
        for first in range(0, len(X_tensor), batch_size):
            batch = X_tensor[order[first : first + batch_size]]
            optimizer.zero_grad()
            loss = criterion(module(batch, generator=generator), batch)
            loss.backward()
            optimizer.step()
    return time.perf_counter() - start


def _skgen_seconds(X, epochs, batch_size, seed):
    from skgen import VAE

    vae = VAE(batch_size=batch_size, max_epochs=epochs, early_stopping=False,
              n_importance_samples=1, random_state=seed)
    return _timed_fit(vae, X)[1]


def run_p5(quick):
    n_samples = 10_000 if quick else 50_000
    repeats = 1 if quick else 5
    X = np.random.default_rng(0).standard_normal((n_samples, 32))
    batch_size = 256
    slopes = {"skgen VAE.fit": [], "bare loop": []}
    timers = {"skgen VAE.fit": _skgen_seconds, "bare loop": _bare_loop_seconds}
    _skgen_seconds(X[:1000], 1, batch_size, 0)  # warm-up: imports, allocator
    for repeat in range(repeats):
        for name, timer in timers.items():  # A, B, A, B, ...
            short = timer(X, 2, batch_size, repeat)
            long = timer(X, 6, batch_size, repeat)
            slopes[name].append((long - short) / 4)
            print(f"  repeat {repeat} {name}: {slopes[name][-1]:.3f} s/epoch",
                  file=sys.stderr)
    skgen = statistics.median(slopes["skgen VAE.fit"])
    bare = statistics.median(slopes["bare loop"])
    lines = [
        f"N = {n_samples}, d = 32, batch_size = 256, 1 torch thread, "
        f"median of {repeats} slopes (2 to 6 epochs).",
        "",
        "| loop | s/epoch (median) | all slopes | ratio to bare loop |",
        "|---|---|---|---|",
    ]
    for name, value in (("skgen VAE.fit", skgen), ("bare loop", bare)):
        lines.append(
            f"| {name} | {value:.3f} | "
            + ", ".join(f"{s:.3f}" for s in slopes[name])
            + f" | {value / bare:.2f}x |"
        )
    return "\n".join(lines)


# ------------------------------------------------------------------- main


def _header(threads_note):
    import sklearn
    import skorch
    import torch

    return (
        f"Machine: {platform.machine()}, {os.cpu_count()} cores; Python "
        f"{platform.python_version()}, torch {torch.__version__}, skorch "
        f"{skorch.__version__}, scikit-learn {sklearn.__version__}. {threads_note}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run")
    parser.add_argument("--only", choices=["p2", "p5"], default=None)
    parser.add_argument("--p2-threads", type=int, default=2,
                        help="torch and BLAS threads for P2 (default 2)")
    parser.add_argument("--seed-groups", nargs="+", choices=["tuning", "held-out"],
                        default=["tuning", "held-out"],
                        help="P2 seeds: tuning (0-2), held-out (3-5), or both")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    suffix = "_quick" if args.quick else ""
    if args.only in (None, "p5"):
        _set_threads(1)
        table = "## P5: VAE training throughput\n\n" + _header(
            "torch.set_num_threads(1)."
        ) + "\n\n" + run_p5(args.quick)
        print(table)
        (RESULTS / f"vae_p5{suffix}.md").write_text(table + "\n")
    if args.only in (None, "p2"):
        _set_threads(args.p2_threads)
        groups = {"tuning": [0, 1, 2], "held-out": [3, 4, 5]}
        sections = []
        for group in args.seed_groups:
            seeds = groups[group][:1] if args.quick else groups[group]
            start = load_average()
            body = run_p2(seeds, args.quick)
            sections.append(
                f"### Seeds {seeds[0]}-{seeds[-1]} ({group})\n\n"
                + machine_line(start) + "\n\n" + body
            )
        table = "## P2: density on the 8x8 digits\n\n" + _header(
            f"torch.set_num_threads({args.p2_threads}); BLAS threads "
            f"{args.p2_threads}. Held-out mean log-likelihood, higher is better; "
            "grids chosen by held-out score. The VAE's defaults were chosen on "
            "seeds 0-2; seeds 3-5 were not used for tuning."
        ) + "\n\n" + "\n\n".join(sections)
        print(table)
        (RESULTS / f"vae_p2{suffix}.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
