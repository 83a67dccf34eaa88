"""What ``VAE.score_samples`` costs on 10 000 rows x 32 features (issue #16).

The default VAE is fitted on two data sets of 10 000 x 32 (five Gaussian
blobs, ``make_blobs``; and a correlated normal), then every training row is
scored, interleaved (A, B, C, D, A, ...) five times in one process, at one
torch thread and one BLAS thread:

* ``former``: the scoring before this benchmark's change, reproduced here:
  a float64 copy of the module, the module's own ``log_weights`` per block
  of 1 024 row-draws, ``importance_tol=0.005``;
* ``tol 0.005``: today's scoring at the former tolerance (same draws per
  row as ``former``; float32, fused mixture likelihood);
* ``default``: today's scoring with today's default ``importance_tol``;
* ``16 draws``: today's scoring with the first 16 draws for every row
  (no row ever doubles).

The quality of each estimate is its mean over 500 held-out rows against a
reference with 5 000 independent draws per row (the estimate's bias, plus
the chance error that the fixed draws share across rows).

Usage::

    python benchmarks/bench_vae_score.py [--repeats 5] [--quick]
"""

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from _machine import load_average, machine_line  # noqa: E402
from sklearn.datasets import make_blobs  # noqa: E402

from skgen import VAE  # noqa: E402

RESULTS = Path(__file__).parent / "results"
FORMER_TOL = 0.005
N_REFERENCE = 5000


def _data(n_rows):
    rng = np.random.default_rng(0)
    blobs, _ = make_blobs(n_rows, 32, centers=5, random_state=0)
    mixing = rng.normal(size=(32, 32)) / np.sqrt(32)
    return {"blobs": blobs, "correlated normal": rng.normal(size=(n_rows, 32)) @ mixing}


def _former_scores(vae, X):
    """The scoring of the previous release: float64 copy, blocks of 1 024."""
    module = vae._inference_module()
    X = torch.as_tensor(X, dtype=torch.float64)
    n_rows, n_draws = len(X), len(module.eps)
    top = torch.full((n_rows,), -math.inf, dtype=torch.float64)
    sum_w = torch.zeros(n_rows, dtype=torch.float64)
    sum_w2 = torch.zeros(n_rows, dtype=torch.float64)
    used = torch.zeros(n_rows, dtype=torch.float64)
    active, done, stop = torch.arange(n_rows), 0, min(16, n_draws)
    with torch.no_grad():
        encoded = module.encode(X)
        while len(active):
            rows = max(1, 1024 // (stop - done))
            for start in range(0, len(active), rows):
                index = active[start : start + rows]
                log_w = module.log_weights(X[index], slice(done, stop),
                                           (encoded[0][index], encoded[1][index]))
                new_top = torch.maximum(top[index], log_w.amax(1))
                shift = torch.exp(top[index] - new_top)
                log_w = log_w - new_top[:, None]
                sum_w[index] = sum_w[index] * shift + torch.exp(log_w).sum(1)
                sum_w2[index] = sum_w2[index] * shift**2 + torch.exp(2 * log_w).sum(1)
                top[index] = new_top
            used[active] = stop
            done = stop
            if done == n_draws:
                break
            excess = done * sum_w2[active] / sum_w[active] ** 2 - 1
            active = active[excess > 2 * done * FORMER_TOL]
            stop = min(2 * done, n_draws)
    log_p = top + torch.log(sum_w) - torch.log(used) - module.log_jacobian()
    return log_p.numpy(), used.numpy()


def _reference(vae, X, n_draws, seed=123):
    """Mean of an IWAE estimate with ``n_draws`` independent draws per row."""
    module = vae.net_.module_
    generator = torch.Generator().manual_seed(seed)
    X = torch.as_tensor(X, dtype=torch.float32)
    scores = []
    with torch.inference_mode():
        for start in range(0, len(X), 10):
            x = X[start : start + 10]
            eps = torch.randn(len(x), n_draws, module.latent_dim, generator=generator)
            log_w = module.importance(x, eps)[0].double()
            scores.append(torch.logsumexp(log_w, 1) - math.log(n_draws))
    scores = torch.cat(scores) - module.log_jacobian().double()
    return float(scores.mean())


def _configs(vae, default_tol):
    def today(tol):
        def score(X):
            vae.importance_tol = tol
            with vae._threads():
                return vae._importance_scores(X)
        return score

    return {
        "former": lambda X: _former_scores(vae, X),
        f"tol {FORMER_TOL}": today(FORMER_TOL),
        f"default (tol {default_tol})": today(default_tol),
        "16 draws": today(math.inf),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="smoke run")
    args = parser.parse_args()
    torch.set_num_threads(1)
    n_rows, n_held_out = (1000, 100) if args.quick else (10_000, 500)
    n_reference = 200 if args.quick else N_REFERENCE
    default_tol = VAE().importance_tol
    start_load = load_average()
    lines = ["| data | fit s (epochs) | scoring | score_samples s (median of "
             f"{args.repeats}) | ratio to former | draws per row | mean score, "
             f"held-out | gap to {n_reference}-draw reference |",
             "|---|---|---|---|---|---|---|---|"]
    for name, X in _data(n_rows + n_held_out).items():
        X_train, X_held = X[:n_rows], X[n_rows:]
        start = time.perf_counter()
        vae = VAE(random_state=0).fit(X_train)
        fit_s = time.perf_counter() - start
        reference = _reference(vae, X_held, n_reference)
        configs = _configs(vae, default_tol)
        seconds = {config: [] for config in configs}
        for _ in range(args.repeats):
            for config, score in configs.items():
                start = time.perf_counter()
                _, n_draws = score(X_train)
                seconds[config].append(time.perf_counter() - start)
        former = statistics.median(seconds["former"])
        for config, score in configs.items():
            _, n_draws = score(X_train)
            held = float(np.mean(score(X_held)[0]))
            median = statistics.median(seconds[config])
            lines.append(
                f"| {name} | {fit_s:.1f} ({vae.n_iter_}) | {config} | {median:.2f} | "
                f"{median / former:.2f} | {n_draws.mean():.1f} | {held:.3f} | "
                f"{held - reference:+.3f} |")
            print(lines[-1], file=sys.stderr, flush=True)
        vae.importance_tol = default_tol
    table = "\n".join(lines)
    header = (f"## VAE score_samples cost, 10 000 x 32\n\n"
              f"{machine_line(start_load)} torch {torch.__version__}.\n\n")
    print(header + table)
    if not args.quick:
        (RESULTS / "vae_score_cost.md").write_text(header + table + "\n")


if __name__ == "__main__":
    main()
