"""
=============================================
Imputing from a mixture's conditional law
=============================================

When a value is missing, a density model of the rows gives its whole law
given the values that are observed. :class:`skgen.GenerativeImputer` fills
the gap with the expectation of that law (``strategy="mean"``) or with draws
from it (``strategy="sample"``).

The data here are two clusters along lines of opposite slope. Where the
clusters overlap, the second column given the first has two likely values.
A single regression per column, as in
:class:`~sklearn.impute.IterativeImputer`, fits one line through both
clusters; the mixture's conditional mean follows each cluster's line and
blends them only where the first column leaves the cluster uncertain; and
its draws keep both branches.
"""

# %%
# Two clusters with opposite slopes
# ---------------------------------
# A third of the rows lose their second value.

import matplotlib.pyplot as plt
import numpy as np
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, SimpleImputer

from skgen import GenerativeImputer

rng = np.random.default_rng(0)
n = 600
cluster = rng.random(n) < 0.5
x0 = np.where(cluster, -1.5, 1.5) + rng.normal(size=n)
x1 = 1.5 + np.where(cluster, 0.9, -0.9) * x0 + 0.3 * rng.normal(size=n)
X = np.column_stack([x0, x1])

missing = rng.random(n) < 1 / 3
X_gaps = X.copy()
X_gaps[missing, 1] = np.nan

# %%
# Fill the gaps three ways
# ------------------------
# The default :class:`~skgen.GenerativeImputer` chooses a Gaussian mixture
# (number of components and covariance type) by how well it imputes values
# hidden from it.

imputers = {
    "column mean": SimpleImputer(),
    "IterativeImputer": IterativeImputer(random_state=0),
    "GenerativeImputer": GenerativeImputer(random_state=0),
}
filled = {}
for name, imputer in imputers.items():
    filled[name] = imputer.fit_transform(X_gaps)
    rmse = np.sqrt(np.mean((filled[name][missing, 1] - X[missing, 1]) ** 2))
    print(f"{name:>17}: RMSE {rmse:.3f}")

model = imputers["GenerativeImputer"].estimator_
print(f"mixture: {model.n_components} components, {model.covariance_type}")

# %%
# Multiple imputation: draws from the conditional law
# ---------------------------------------------------
# With ``strategy="sample"`` each ``random_state`` gives a new completed
# table from the same fitted model. The range of 20 draws is a 90% interval
# for each missing value: a 21st value from the same law falls between the
# lowest and the highest of 20 with probability 19/21.

sampler = GenerativeImputer(strategy="sample", random_state=0).fit(X_gaps)
draws = np.stack(
    [sampler.set_params(random_state=i).transform(X_gaps) for i in range(20)]
)
low, high = draws[:, missing, 1].min(axis=0), draws[:, missing, 1].max(axis=0)
truth = X[missing, 1]
print(f"90% intervals cover {np.mean((truth >= low) & (truth <= high)):.0%}"
      " of the missing values")

# %%
# Plot the imputations
# --------------------
# Left: the values each method puts in the gaps, over the rows that were
# complete. Right: the draws, which keep both branches where the clusters
# overlap.

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2), sharey=True)
for ax in (left, right):
    ax.scatter(*X[~missing].T, s=6, c="0.8", label="complete rows")
    ax.set_xlabel("first column (observed)")
left.set_ylabel("second column")
order = np.argsort(X[missing, 0])
for name, style in zip(filled, ["C1--", "C2-", "C0-"], strict=True):
    left.plot(X[missing, 0][order], filled[name][missing, 1][order], style,
              lw=2, label=name)
left.scatter(*X[missing].T, s=8, c="k", marker="x", label="true missing values")
left.set_title("Conditional means")
left.legend(loc="lower center", fontsize=8)

right.scatter(np.tile(X[missing, 0], 20), draws[:, missing, 1].ravel(), s=3,
              c="C0", alpha=0.3, label="20 draws per missing value")
right.scatter(*X[missing].T, s=8, c="k", marker="x", label="true missing values")
right.set_title("Draws (strategy='sample')")
right.legend(loc="lower center", fontsize=8)
fig.tight_layout()
plt.show()
