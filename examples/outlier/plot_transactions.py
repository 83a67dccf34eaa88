"""
=========================================
Unusual rows of a table of transactions
=========================================

:class:`skgen.DensityOutlierDetector` turns a density model into an outlier
detector. Around a :class:`skgen.TabularMixture` it scores the rows of a
pandas table of numbers and categories by their log-likelihood, so a row is
unusual when its combination of amount, hour and merchant category is
unlikely, even when each value alone is common.

The table here is made up: card transactions whose amount depends on the
merchant category and whose hour follows a daily rhythm, with a few planted
anomalies (large amounts at night in a category where amounts are small).
"""

# %%
# A table of transactions
# -----------------------
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from skgen import DensityOutlierDetector, TabularMixture

rng = np.random.default_rng(0)
n = 2000
category = rng.choice(["grocery", "fuel", "travel"], size=n, p=[0.6, 0.3, 0.1])
typical = {"grocery": 40.0, "fuel": 60.0, "travel": 400.0}
amount = np.array([rng.lognormal(np.log(typical[c]), 0.4) for c in category])
hour = np.clip(rng.normal(14, 3.5, size=n), 0, 23.99)
table = pd.DataFrame({"amount": amount.round(2), "hour": hour,
                      "category": pd.Categorical(category)})

# Six planted anomalies, scattered: grocery purchases of travel-sized amounts
# in the small hours.
planted = pd.DataFrame({"amount": rng.lognormal(np.log(400.0), 0.8, size=6).round(2),
                        "hour": rng.uniform(0, 5, size=6),
                        "category": pd.Categorical(["grocery"] * 6,
                                                   categories=table["category"]
                                                   .cat.categories)})
data = pd.concat([table, planted], ignore_index=True)
is_planted = np.r_[np.zeros(n, dtype=bool), np.ones(6, dtype=bool)]

# %%
# Fit the detector without labels
# -------------------------------
# The detector is unsupervised: it sees the planted rows during ``fit``, as a
# real training set holds its own anomalies. ``contamination`` sets only the
# threshold of :meth:`~skgen.DensityOutlierDetector.predict`.
detector = DensityOutlierDetector(TabularMixture(random_state=0),
                                  contamination=0.01).fit(data)
flagged = detector.predict(data) == -1
print(f"flagged {flagged.sum()} rows; {np.sum(flagged & is_planted)} of the "
      f"6 planted anomalies among them")

# %%
# Where the flagged rows sit
# --------------------------
scores = detector.score_samples(data)
fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
points = ax.scatter(data["hour"], data["amount"], c=scores, s=6, cmap="viridis")
ax.scatter(data.loc[flagged, "hour"], data.loc[flagged, "amount"], s=60,
           facecolors="none", edgecolors="red", label="flagged")
ax.set(xlabel="hour of the day", ylabel="amount", yscale="log",
       title="Transactions coloured by log-likelihood")
ax.legend(loc="upper right")
fig.colorbar(points, ax=ax, label="log-likelihood")
plt.show()
