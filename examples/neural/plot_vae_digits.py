"""
=====================================
Generated digits and a 2-D latent map
=====================================

A :class:`skgen.VAE` with a two-dimensional latent space, fitted on the 8x8
digits of scikit-learn, gives two pictures at once:

* **generated digits**: latent points drawn from the prior ``N(0, I)`` and
  decoded with :meth:`~skgen.VAE.inverse_transform`, beside real digits;
* **the latent map**: :meth:`~skgen.VAE.transform` places every image at the
  mean of its posterior, and the digits, which the model never saw labelled,
  form clusters.

The fit is kept short (a few seconds on a CPU); more epochs and a larger
latent space give better samples and a better likelihood.
"""

# %%
# Fit the VAE
# -----------
# The pixels are integers 0..16; adding uniform noise in [0, 1)
# ("dequantisation") turns them into continuous data that the Gaussian
# likelihood can model.

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

from skgen import VAE

digits = load_digits()
rng = np.random.default_rng(0)
X = digits.data + rng.uniform(size=digits.data.shape)

vae = VAE(latent_dim=2, max_epochs=40, early_stopping=False, random_state=0)
vae.fit(X)
print(f"{vae.n_iter_} epochs, mean log-likelihood {vae.score(X):.1f} nats per image")

# %%
# Real and generated digits
# -------------------------
# ``inverse_transform`` decodes latent points into the mean image given z.

real = X[rng.choice(len(X), size=36, replace=False)]
generated = vae.inverse_transform(rng.standard_normal((36, 2)))

fig, axes = plt.subplots(1, 2, figsize=(8, 4.3))
titles = ["real", "generated"]
for ax, images, title in zip(axes, [real, generated], titles, strict=True):
    mosaic = images.reshape(6, 6, 8, 8).transpose(0, 2, 1, 3).reshape(48, 48)
    ax.imshow(mosaic, cmap="gray_r", vmin=0, vmax=17)
    ax.set_title(f"{title} digits")
    ax.set_axis_off()
fig.tight_layout()

# %%
# The latent space
# ----------------
# Each image at the posterior mean of its latent variable, coloured by the
# digit it shows.

Z = vae.transform(X)
fig, ax = plt.subplots(figsize=(7, 6))
points = ax.scatter(Z[:, 0], Z[:, 1], c=digits.target, cmap="tab10", s=8, alpha=0.8)
fig.colorbar(points, ax=ax, ticks=range(10), label="digit")
ax.set_xlabel("z 0")
ax.set_ylabel("z 1")
ax.set_title("skgen.VAE: posterior means of the 8x8 digits")
fig.tight_layout()
plt.show()
