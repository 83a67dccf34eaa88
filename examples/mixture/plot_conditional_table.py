"""
=================================================
Conditional generation of rows of a mixed table
=================================================

:meth:`skgen.TabularMixture.sample_conditional` fixes some columns of a row
and draws the others from their exact conditional law under the fitted
mixture. Here, on scikit-learn's diabetes table: given a patient's sex and
age, draw plausible body mass index and disease progression, and compare
the draws for two groups of patients.
"""

# %%
# Fit the table
# -------------
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_diabetes

from skgen import TabularMixture

table = load_diabetes(scaled=False, as_frame=True).frame
table = table.astype({"age": int, "target": int})
table["sex"] = pd.Categorical(table["sex"].map({1.0: "one", 2.0: "two"}))
model = TabularMixture(random_state=0).fit(table)

# %%
# Draw the missing columns given the fixed ones
# ---------------------------------------------
# A row with NaN where a column is to be drawn; the fixed entries are kept.
def given(sex, age):
    row = pd.DataFrame([{column: np.nan for column in table.columns}])
    row = row.astype({c: float for c in table.columns if c != "sex"})
    row["sex"] = pd.Categorical([sex], categories=table["sex"].cat.categories)
    row["age"] = float(age)
    return row


young = model.sample_conditional(given("one", 30), n_samples=300, random_state=0)
older = model.sample_conditional(given("one", 60), n_samples=300, random_state=0)
print(young[["bmi", "target"]].describe().loc[["mean", "std"]])
print(older[["bmi", "target"]].describe().loc[["mean", "std"]])

# %%
# The two conditional laws beside the data
# ----------------------------------------
fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
ax.scatter(table["bmi"], table["target"], s=8, c="lightgray", label="all patients")
for draws, age in ((young, 30), (older, 60)):
    ax.scatter(draws["bmi"], draws["target"], s=6, alpha=0.6,
               label=f"drawn: sex one, age {age}")
ax.set(xlabel="body mass index", ylabel="disease progression",
       title="Rows drawn given sex and age")
ax.legend(markerscale=3)
plt.show()
