"""
==========================================
Synthetic rows of a mixed-type table
==========================================

:class:`skgen.TabularMixture` takes a pandas DataFrame of numbers, integers
and categories, and gives back rows in the same columns, dtypes and category
sets: no hand-written encoder, and no inverse to write.

Here the table is scikit-learn's diabetes data in its original units (442
patients): age and the disease-progression target are integers, sex is a
category, and the blood measurements are numbers rounded to a few digits.
"""

# %%
# The table
# ---------
# ``sex`` becomes a category and the integer-valued columns integers.

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_diabetes
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import cross_val_score

from skgen import TabularMixture

table = load_diabetes(scaled=False, as_frame=True).frame
table = table.astype({"age": "int64", "target": "int64"})
table["sex"] = pd.Categorical(table["sex"].map({1.0: "one", 2.0: "two"}))
print(table.dtypes.value_counts())

# %%
# Fit and sample
# --------------
# The number of components is chosen by the likelihood of held-out rows.
# Each column gets a kind: numbers that repeat (rounded measurements) are
# discrete over the values seen, integers are discrete numbers, and
# categories are categorical.

model = TabularMixture(random_state=0).fit(table)
print(f"{model.n_components_} components")
print(dict(zip(table.columns, model.encoder_.kinds_, strict=True)))

synthetic = model.sample(len(table), random_state=0)
print((synthetic.dtypes == table.dtypes).all())
synthetic.head()

# %%
# Real against synthetic
# ----------------------
# The marginals of a few columns, the shares of the category, and one pair
# of columns, whose dependence the mixture carries.

fig, axes = plt.subplots(2, 3, figsize=(11, 6.5), layout="constrained")
bins = {"age": 20, "bmi": 20, "s5": 20, "target": 20}
for ax, column in zip(axes.flat[:4], bins, strict=True):
    edges = np.histogram_bin_edges(table[column], bins=bins[column])
    ax.hist(table[column], bins=edges, density=True, alpha=0.5, label="real")
    ax.hist(synthetic[column], bins=edges, density=True, histtype="step",
            linewidth=2, label="synthetic")
    ax.set_title(column)
axes[0, 0].legend()
shares = pd.DataFrame({
    "real": table["sex"].value_counts(normalize=True),
    "synthetic": synthetic["sex"].value_counts(normalize=True),
})
shares.plot.bar(ax=axes[1, 1], rot=0, title="sex (share)")
ax = axes[1, 2]
ax.scatter(table["bmi"], table["target"], s=8, alpha=0.5, label="real")
ax.scatter(synthetic["bmi"], synthetic["target"], s=8, alpha=0.5,
           label="synthetic")
ax.set(xlabel="bmi", ylabel="target", title="a pair of columns")
ax.legend()
plt.show()

# %%
# Can a classifier tell them apart?
# ---------------------------------
# A gradient-boosting classifier trained to tell real rows from synthetic
# ones: a cross-validated ROC AUC of 0.5 means it cannot.

both = pd.concat([table, synthetic], ignore_index=True)
is_synthetic = np.r_[np.zeros(len(table)), np.ones(len(synthetic))]
detector = HistGradientBoostingClassifier(categorical_features="from_dtype",
                                          random_state=0)
auc = cross_val_score(detector, both, is_synthetic, cv=5, scoring="roc_auc")
print(f"detection AUC {auc.mean():.2f}")

# %%
# A density too
# -------------
# :meth:`~skgen.TabularMixture.score_samples` is the log-likelihood of a row
# in the data's units: log-probabilities of the integer, discrete and
# categorical values plus the log-density of the continuous ones.

print(model.score_samples(table.head(3)))
