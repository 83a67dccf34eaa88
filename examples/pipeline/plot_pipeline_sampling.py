"""
=========================================================
Sampling through a pipeline: synthetic rows in data units
=========================================================

A generative model often fits best after preprocessing: here a
:class:`~sklearn.preprocessing.QuantileTransformer` maps skewed, positive
wine measurements on very different scales to normal scores, where a
:class:`skgen.GaussianMixture` is at ease. Its samples are then normal scores
too. :meth:`skgen.pipeline.Pipeline.sample` sends them back through the
``inverse_transform`` of the earlier steps, so that they come out as wine
measurements, in the columns of the DataFrame the pipeline was fitted on.

The same mixture fitted to the raw columns draws impossible wines: negative
concentrations of malic acid.
"""

# %%
# The data
# --------
# Four columns of scikit-learn's wine data set: alcohol (%), malic acid (g/l),
# colour intensity and proline (mg/l), from about 1 to over 1000, two of them
# skewed.

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_wine
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import QuantileTransformer

from skgen import GaussianMixture
from skgen.pipeline import make_pipeline

columns = ["alcohol", "malic_acid", "color_intensity", "proline"]
X = load_wine(as_frame=True).frame[columns]
X.describe().round(2)

# %%
# A pipeline that can sample
# --------------------------
# :func:`skgen.pipeline.make_pipeline` builds a scikit-learn pipeline with a
# ``sample`` method. Everything else is scikit-learn's: here a grid search
# picks the number of components by the held-out log-likelihood, scored in the
# quantile transformer's space.

pipe = make_pipeline(
    QuantileTransformer(output_distribution="normal", n_quantiles=100),
    GaussianMixture(random_state=0),
)
search = GridSearchCV(pipe, {"gaussianmixture__n_components": [1, 2, 3, 4, 5]}, cv=5)
search.fit(X)
pipe = search.best_estimator_
print("components:", search.best_params_["gaussianmixture__n_components"])

# %%
# ``sample`` returns the rows and, as :meth:`skgen.GaussianMixture.sample`
# does, the component of each; the rows form a DataFrame with the training
# columns, because the pipeline was fitted on one.

X_new, components = pipe.sample(2000, random_state=0)
X_new.describe().round(2)

# %%
# The same mixture on the raw columns
# -----------------------------------
# Fitted to the measurements themselves, the mixture spends Gaussian tails on
# values no wine has.

raw = GaussianMixture(
    n_components=search.best_params_["gaussianmixture__n_components"],
    random_state=0,
).fit(X)
X_raw, _ = raw.sample(2000, random_state=0)
print(f"negative malic acid, raw mixture: {np.mean(X_raw[:, 1] < 0):.1%}")
print(f"negative malic acid, pipeline:    {np.mean(X_new['malic_acid'] < 0):.1%}")

# %%
# Plot
# ----
# Left, the distribution of malic acid: the pipeline follows the skewed
# histogram of the data; the raw mixture spreads below zero. Right, two
# columns against each other: the pipeline's samples cover the data's cloud.
# The quantile transformer maps back only into the range it saw, so no sample
# lies beyond the smallest or largest training value.

fig, (ax_hist, ax_scatter) = plt.subplots(1, 2, figsize=(11, 4.5))
bins = np.linspace(-2, 7, 37)
ax_hist.hist(X["malic_acid"], bins=bins, density=True, color="grey", alpha=0.5,
             label="data")
ax_hist.hist(X_new["malic_acid"], bins=bins, density=True, histtype="step",
             linewidth=2, color="tab:blue", label="pipeline samples")
ax_hist.hist(X_raw[:, 1], bins=bins, density=True, histtype="step", linewidth=2,
             color="tab:red", label="mixture on raw columns")
ax_hist.axvline(0, color="black", linewidth=0.8)
ax_hist.set_xlabel("malic acid (g/l)")
ax_hist.set_ylabel("density")
ax_hist.legend()

ax_scatter.scatter(X_new["color_intensity"], X_new["proline"], s=4,
                   color="tab:blue", alpha=0.3, label="pipeline samples")
ax_scatter.scatter(X["color_intensity"], X["proline"], s=12, color="black",
                   label="data")
ax_scatter.set_xlabel("colour intensity")
ax_scatter.set_ylabel("proline (mg/l)")
ax_scatter.legend()
fig.suptitle("Sampling through QuantileTransformer + GaussianMixture")
fig.tight_layout()
plt.show()

# %%
# A step that cannot go back
# --------------------------
# Every earlier step must map its output back to its input. A
# :class:`~sklearn.compose.ColumnTransformer` cannot, and the error names it
# and says what to do.

from sklearn.compose import make_column_transformer
from sklearn.preprocessing import StandardScaler

by_column = make_pipeline(
    make_column_transformer((StandardScaler(), ["proline"]), remainder="passthrough"),
    GaussianMixture(random_state=0),
).fit(X)
try:
    by_column.sample(5)
except TypeError as error:
    print(error)
