"""The generative adversarial network, one concern per file.

* ``networks.py``: the torch modules, the generator (with the data's
  standardisation and a table's categorical outputs) and the critic;
* ``training.py``: the losses, the skorch net that steps the two networks
  in turn, the running average of the generator and the Adam steps;
* ``stopping.py``: the stopping rule, held-out checks of the averaged
  generator by a nearest-neighbour distance;
* ``truncation.py``: the Jacobian norms behind the rejection of steep latent
  draws in ``sample``;
* ``estimator.py``: the public :class:`~skgen.GAN`.
"""

from skgen.neural._gan.estimator import GAN

__all__ = ["GAN"]
