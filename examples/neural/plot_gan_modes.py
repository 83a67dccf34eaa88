"""
=========================================
GAN samples over the ring and the grid
=========================================

Protocol P4 of skgen, in miniature: a :class:`skgen.GAN` is fitted on the ring
of 8 Gaussians and on the grid of 25 Gaussians
(:func:`skgen.datasets.make_ring`, :func:`skgen.datasets.make_grid`), and its
samples are drawn over the true modes, with the mode-coverage figures of
:func:`skgen.metrics.mode_coverage`: modes captured, share of high-quality
samples (within 3 standard deviations of a centre) and the reverse KL of the
share of samples per mode.

To keep the example to seconds on a CPU it trains on 5 000 points for 3 000
generator steps, against the default budget of 20 000. That is short for
sharp modes: the samples find the modes but many still lie between them. The
benchmark ``python -m benchmarks P4`` runs the full protocol with the
defaults.
"""

# %%
# Fit one GAN per data set
# ------------------------

import matplotlib.pyplot as plt

from skgen import GAN
from skgen.datasets import make_grid, make_ring
from skgen.metrics import mode_coverage

data_sets = {
    "ring": (make_ring, 0.01),
    "grid": (make_grid, 0.05),
}
results = {}
for name, (make, std) in data_sets.items():
    X, _, centers = make(5000, random_state=0, return_centers=True)
    gan = GAN(max_steps=3000, random_state=0).fit(X)
    samples = gan.sample(2500, random_state=0)
    scores = mode_coverage(samples, centers, std)
    results[name] = (X, centers, samples, scores)
    print(f"{name}: {scores['modes']} / {len(centers)} modes, "
          f"{100 * scores['high_quality']:.1f}% high quality, "
          f"reverse KL {scores['reverse_kl']:.3f}")

# %%
# Samples over the true modes
# ---------------------------
# Blue: generated samples; red crosses: the centres of the true modes.

fig, axes = plt.subplots(1, 2, figsize=(9, 4.5))
for ax, (name, (_, centers, samples, scores)) in zip(
    axes, results.items(), strict=True
):
    ax.scatter(samples[:, 0], samples[:, 1], s=2, alpha=0.4, label="GAN samples")
    ax.scatter(centers[:, 0], centers[:, 1], marker="x", c="red", s=40,
               label="true modes")
    ax.set_title(f"{name}: {scores['modes']}/{len(centers)} modes, "
                 f"{100 * scores['high_quality']:.0f}% HQ")
    ax.set_aspect("equal")
axes[0].legend(loc="upper right", fontsize="small")
fig.tight_layout()
plt.show()
