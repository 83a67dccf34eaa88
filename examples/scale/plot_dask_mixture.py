"""
==========================================
A Gaussian mixture on a lazy Dask array
==========================================

:class:`skgen.GaussianMixture` fits a Dask array block by block: each EM
pass computes the sufficient statistics of every block where it lies and
adds them up, so the client never holds the rows. Here the rows are drawn
lazily, block by block, as data read from storage would be; with a
``distributed.Client`` the same code runs on a cluster, and with more
blocks on data far larger than the memory of any machine.
"""

# %%
# A lazy array of a million rows
# ------------------------------
# Nothing is drawn here: each block of 250 000 rows is drawn when a pass
# needs it, and dropped after.
import dask.array as da
import matplotlib.pyplot as plt
import numpy as np

from skgen import GaussianMixture

centres = np.array([[-4.0, 0.0], [0.0, 3.0], [4.0, -1.0]])


def block(block_info=None):
    """The rows of one block, drawn from its own seed."""
    (start, stop), _ = block_info[None]["array-location"]
    rng = np.random.default_rng(start)
    labels = rng.integers(0, len(centres), size=stop - start)
    rows = centres[labels] + rng.normal(size=(stop - start, 2))
    return rows.astype(np.float32)


X = da.map_blocks(block, chunks=((250_000,) * 4, (2,)), dtype=np.float32)
print(X)

# %%
# Fit, then score lazily
# ----------------------
gmm = GaussianMixture(n_components=3, max_iter=20, random_state=0).fit(X)
print("means:\n", gmm.means_.round(2))
log_density = gmm.score_samples(X)          # lazy, one block per block of X
print("mean log-likelihood:", float(log_density.mean().compute()))

# %%
# The fitted density over a sample of the rows
# --------------------------------------------
sample = X[:5000].compute()
grid = np.stack(np.meshgrid(np.linspace(-8, 8, 200), np.linspace(-5, 7, 200)), -1)
density = gmm.score_samples(grid.reshape(-1, 2)).reshape(grid.shape[:2])
fig, ax = plt.subplots(figsize=(6, 4.5), layout="constrained")
ax.scatter(*sample.T, s=2, c="lightgray")
ax.contour(grid[..., 0], grid[..., 1], density, levels=12)
ax.set_title("A mixture fitted on 1 000 000 lazily drawn rows")
plt.show()
