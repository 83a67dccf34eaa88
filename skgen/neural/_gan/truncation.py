"""The Jacobian truncation of the GAN's samples: what it measures.

A continuous generator of a connected latent space joins separate modes by
thin bridges and crosses them where it is steep (Tanielian et al., 2020).
``GAN.fit`` sets a threshold on the Frobenius norm of the generator's
Jacobian ``dG/dz`` and ``GAN.sample`` rejects the latent draws above it;
this file holds the network whose Jacobian is measured and the norms.
"""

import torch


class _NumericHead(torch.nn.Module):
    """The generator's network restricted to its numeric outputs.

    The Jacobian truncation measures the steepness of the numeric columns
    only: the logits of the categorical blocks are not data.
    """

    def __init__(self, net, n_numeric):
        super().__init__()
        self.net = net
        self.n_numeric = n_numeric

    def forward(self, z):
        return self.net(z)[..., : self.n_numeric]


def _steepness_net(module):
    """The network whose Jacobian the truncation measures: numeric outputs."""
    if not module.block_sizes:
        return module.net
    return _NumericHead(module.net, module.n_numeric)


def _jacobian_norms(net, z):
    """Frobenius norm of the Jacobian ``d net(z) / dz`` at each row of ``z``.

    Forward-mode automatic differentiation (``torch.func.jacfwd``, one pass
    per latent dimension) under ``vmap``, in chunks of rows that keep each
    layer's tangents (rows x width x latent_dim) near 4 million numbers.
    """
    jacobian = torch.func.vmap(torch.func.jacfwd(net))
    widest = max(layer.out_features for layer in net.modules()
                 if isinstance(layer, torch.nn.Linear))
    rows = max(1, 2**22 // (widest * z.shape[1]))
    return torch.cat([jacobian(part).square().sum(dim=(1, 2)).sqrt()
                      for part in z.split(rows)])
