"""
Tuning a GAN with GridSearchCV and an MMD scorer
================================================

A GAN has no likelihood to cross-validate, but its samples can be compared
with held-out data. :func:`skgen.metrics.make_sample_scorer` turns the squared
maximum mean discrepancy (:func:`skgen.metrics.mmd`) into a scorer: on each
validation fold it draws as many samples as the fold has rows, with a fixed
seed, and returns minus the MMD^2, so that higher is better.
:class:`~sklearn.model_selection.GridSearchCV` then tunes
:class:`skgen.GAN` like any other estimator.
"""

# %%
# Data: a ring of 8 Gaussians, and a small grid over the GAN's training
# budget and packing. The budgets are kept small so that the example runs in
# seconds on a CPU.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV

from skgen import GAN
from skgen.datasets import make_ring
from skgen.metrics import make_sample_scorer, mode_coverage

X, _, centers = make_ring(1000, std=0.05, random_state=0, return_centers=True)

search = GridSearchCV(
    GAN(random_state=0),
    {"max_steps": [20, 400], "pac": [1, 4]},
    scoring=make_sample_scorer("mmd"),
    cv=2,
)
search.fit(X)
for params, score in zip(search.cv_results_["params"],
                         search.cv_results_["mean_test_score"], strict=True):
    print(f"{params}: -MMD^2 = {score:.4f}")
print("best:", search.best_params_)

# %%
# The samples of the worst and of the best candidate, refitted on all the
# data, over the data, with the mode coverage of each.
worst_index = int(np.argmin(search.cv_results_["mean_test_score"]))
worst = search.cv_results_["params"][worst_index]
candidates = {"worst": GAN(random_state=0, **worst).fit(X),
              "best": search.best_estimator_}
fig, axes = plt.subplots(1, 2, figsize=(9, 4.5), sharex=True, sharey=True)
for ax, (name, model) in zip(axes, candidates.items(), strict=True):
    samples = model.sample(1000, random_state=0)
    coverage = mode_coverage(samples, centers, std=0.05)
    ax.scatter(*X[:1000].T, s=2, c="lightgray", label="data")
    ax.scatter(*samples.T, s=2, label="GAN samples")
    ax.set_title(f"{name}: {coverage['modes']}/8 modes, "
                 f"{100 * coverage['high_quality']:.0f}% high quality")
    ax.set_aspect("equal")
axes[0].legend(loc="lower left", markerscale=4)
plt.show()
