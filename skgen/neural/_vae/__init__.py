"""The variational autoencoder, one concern per file.

* ``networks.py``: the torch module (encoder, Gaussian-mixture, Bernoulli and
  categorical decoders, the fixed importance draws) and its likelihoods;
* ``training.py``: the training loss, a trimmed negative ELBO (the skorch net,
  its loop and early stopping are the base's, ``skgen.neural._base``);
* ``scoring.py``: the importance-weighted estimate of ``log p(x)`` behind
  ``score_samples``, in blocks of rows and draws;
* ``estimator.py``: the public :class:`~skgen.VAE`.
"""

from skgen.neural._vae.estimator import VAE

__all__ = ["VAE"]
