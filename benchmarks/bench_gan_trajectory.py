"""How a GAN's P4 samples sharpen during one fit (issue #16).

Trains ``skgen.GAN`` on P4's ring or grid (100 000 points, ``PROTOCOLS.md``)
and, every ``--every`` generator steps, samples the running average of the
generator as ``GAN.sample`` would: 2 500 latent draws kept under the 85%
quantile of the Jacobian norms of 8 192 others (its default truncation of
0.15), and 2 500 untruncated. It prints the high-quality share and the modes
captured (``skgen.metrics.mode_coverage``), with the training seconds spent
so far (the evaluation's own time left out); at the end, the held-out
distance of every check of the stopping rule, and the fit's final figures.

Used to choose the GAN's ``batch_size='auto'`` and ``lr='auto'`` on large
tables and its stopping rule: pass GAN parameters as JSON, for example a
large ``n_iter_no_change`` to see the whole curve without stopping::

    python benchmarks/bench_gan_trajectory.py grid 2 \
        --params '{"max_steps": 18000, "n_iter_no_change": 1000}'

One torch thread and one BLAS thread.
"""

import argparse
import json
import time

import numpy as np
import torch
from skorch.callbacks import Callback
from threadpoolctl import threadpool_limits

from skgen import GAN
from skgen.datasets import make_grid, make_ring
from skgen.metrics import mode_coverage
from skgen.neural._gan.truncation import _jacobian_norms

DATA = {"grid": (make_grid, 0.05), "ring": (make_ring, 0.01)}
N_SAMPLES = 2500
N_THRESHOLD = 8192


class Trajectory(Callback):
    """Samples the averaged generator every ``every`` generator steps."""

    def __init__(self, every, centers, std, truncation=0.15):
        self.every = every
        self.centers = centers
        self.std = std
        self.truncation = truncation

    def on_train_begin(self, net, **kwargs):
        self.start_ = time.perf_counter()
        self.evaluating_ = 0.0
        self.last_ = -1

    def on_batch_end(self, net, training=False, **kwargs):
        step = net.generator_steps_
        if step % self.every or step == self.last_:
            return
        self.last_ = step
        tic = time.perf_counter()
        module = net.averaged_generator()
        draws = torch.Generator().manual_seed(123)
        with torch.no_grad():
            z = torch.randn(N_THRESHOLD, module.latent_dim, generator=draws)
            threshold = torch.quantile(_jacobian_norms(module.net, z),
                                       1.0 - self.truncation)
            z = torch.randn(2 * N_SAMPLES, module.latent_dim, generator=draws)
            z = z[_jacobian_norms(module.net, z) <= threshold][:N_SAMPLES]
            kept = module.to_data(module(z)).numpy()
            z = torch.randn(N_SAMPLES, module.latent_dim, generator=draws)
            every = module.to_data(module(z)).numpy()
        truncated = mode_coverage(kept, self.centers, self.std)
        untruncated = mode_coverage(every, self.centers, self.std)
        self.evaluating_ += time.perf_counter() - tic
        seconds = time.perf_counter() - self.start_ - self.evaluating_
        print(f"step {step:6d}  train s {seconds:6.1f}  "
              f"HQ {truncated['high_quality']:.3f}  modes {truncated['modes']:2d}  "
              f"reverse KL {truncated['reverse_kl']:.3f}  |  untruncated HQ "
              f"{untruncated['high_quality']:.3f}  modes {untruncated['modes']:2d}",
              flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", choices=sorted(DATA))
    parser.add_argument("seed", type=int)
    parser.add_argument("--every", type=int, default=1000)
    parser.add_argument("--params", type=json.loads, default={},
                        help="GAN parameters as JSON")
    args = parser.parse_args()
    torch.set_num_threads(1)
    make, std = DATA[args.data]
    X, _, centers = make(100_000, random_state=args.seed, return_centers=True)
    with threadpool_limits(1):
        gan = GAN(random_state=args.seed, **args.params,
                  callbacks=[Trajectory(args.every, centers, std)])
        start = time.perf_counter()
        gan.fit(X)
        seconds = time.perf_counter() - start
        final = mode_coverage(gan.sample(N_SAMPLES, random_state=args.seed),
                              centers, std)
    if gan.validation_scores_ is not None:
        distances = np.round(-gan.validation_scores_, 4).tolist()
        print(f"held-out distance at every check: {distances}")
    print(f"{args.data} seed {args.seed} {args.params}: {gan.n_steps_} steps, kept "
          f"step {gan.best_step_}, fit s (with the evaluations) {seconds:.1f}, "
          f"HQ {final['high_quality']:.3f}, modes {final['modes']}, reverse KL "
          f"{final['reverse_kl']:.3f}")


if __name__ == "__main__":
    main()
