"""Neural generative models trained with PyTorch through skorch."""

from skgen.neural._gan import GAN
from skgen.neural._vae import VAE

__all__ = ["GAN", "VAE"]
