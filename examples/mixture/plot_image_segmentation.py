"""
========================================
Segmenting an image by its pixel colours
========================================

A :class:`skgen.GaussianMixture` fitted on the colours of an image's pixels
clusters them: :meth:`~skgen.GaussianMixture.predict` gives each pixel a
component, which segments the image into regions of similar colour, and the
component means make a palette. Unlike k-means, each component has its own
covariance, so a region can be an elongated cloud of shades of one colour.
"""

# %%
# The pixels of a bundled image
# -----------------------------
# ``load_sample_image`` ships with scikit-learn; every fourth pixel in each
# direction keeps the example fast.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_sample_image

from skgen import GaussianMixture

image = load_sample_image("china.jpg")[::4, ::4] / 255.0
height, width, _ = image.shape
pixels = image.reshape(-1, 3)

# %%
# Fit on a sample of pixels, segment them all
# -------------------------------------------
rng = np.random.default_rng(0)
sample = pixels[rng.choice(len(pixels), size=5000, replace=False)]
gmm = GaussianMixture(n_components=6, random_state=0).fit(sample)
labels = gmm.predict(pixels)
segmented = gmm.means_[labels].reshape(height, width, 3).clip(0, 1)

fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
axes[0].imshow(image)
axes[0].set_title("the image")
axes[1].imshow(segmented)
axes[1].set_title(f"{gmm.n_components} components: each pixel its component's mean")
for ax in axes:
    ax.axis("off")
plt.show()
