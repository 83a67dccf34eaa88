"""
==============================================
Density, clusters and samples of a 2-D mixture
==============================================

A single :class:`skgen.GaussianMixture` gives three things at once:

* a **density**: :meth:`~skgen.GaussianMixture.score_samples` returns the
  log-likelihood of each point, drawn here as contour lines;
* a **clustering**: :meth:`~skgen.GaussianMixture.predict` assigns each point to
  its most probable component;
* a **generator**: :meth:`~skgen.GaussianMixture.sample` draws new points from
  the fitted model.

The data are three Gaussian blobs stretched by a linear map, so the clusters are
elongated and tilted, which is what full covariance matrices can capture.
"""

# %%
# Make anisotropic blob data
# --------------------------
# ``make_blobs`` draws round clusters; multiplying by a matrix shears them.

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_blobs

from skgen import GaussianMixture

X, _ = make_blobs(n_samples=600, centers=3, cluster_std=1.0, random_state=7)
shear = np.array([[0.6, -0.6], [-0.4, 0.8]])
X = X @ shear

# %%
# Fit the mixture
# ---------------
# Three components with full covariance matrices (the default).

gmm = GaussianMixture(n_components=3, random_state=0)
gmm.fit(X)

print(f"converged: {gmm.converged_} after {gmm.n_iter_} iterations")
print(f"mean log-likelihood per sample: {gmm.score(X):.3f}")
print("mixing weights:", np.round(gmm.weights_, 3))

# %%
# Evaluate the log-density on a grid
# ----------------------------------
# ``score_samples`` gives log p(x) for each row, so we can evaluate it on a
# regular grid that covers the data and draw its contour lines.

pad = 1.5
x_min, y_min = X.min(axis=0) - pad
x_max, y_max = X.max(axis=0) + pad
xx, yy = np.meshgrid(np.linspace(x_min, x_max, 200), np.linspace(y_min, y_max, 200))
grid = np.column_stack([xx.ravel(), yy.ravel()])
log_density = gmm.score_samples(grid).reshape(xx.shape)

# %%
# Cluster labels and new samples
# ------------------------------
# ``predict`` labels the training points; ``sample`` draws fresh points and
# tells which component produced each one. The ``random_state`` passed to
# ``sample`` makes this draw reproducible without refitting.

labels = gmm.predict(X)
X_new, y_new = gmm.sample(300, random_state=0)

# %%
# Plot
# ----

fig, ax = plt.subplots(figsize=(7, 6))
levels = np.linspace(log_density.max() - 12, log_density.max(), 13)
contours = ax.contour(xx, yy, log_density, levels=levels, cmap="Greys", linewidths=1)
fig.colorbar(contours, ax=ax, label="log-density")
ax.scatter(X[:, 0], X[:, 1], c=labels, cmap="viridis", s=12, alpha=0.7, label="data")
ax.scatter(
    X_new[:, 0],
    X_new[:, 1],
    marker="x",
    c="crimson",
    s=16,
    linewidths=1,
    label="sampled",
)
ax.scatter(
    gmm.means_[:, 0],
    gmm.means_[:, 1],
    marker="*",
    c="black",
    s=200,
    label="component means",
)
ax.set_title("skgen.GaussianMixture: density, clusters and samples")
ax.set_xlabel("feature 0")
ax.set_ylabel("feature 1")
ax.legend(loc="upper right")
fig.tight_layout()
plt.show()
