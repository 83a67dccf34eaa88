"""The training loss of the VAE: a trimmed negative ELBO.

Training maximises the evidence lower bound (ELBO) through skorch (the
net and its loop are the base's, ``skgen.neural._base``), by default over
the rows of each batch that the model explains best (a trimmed likelihood).
"""

import torch


class _NegativeELBO(torch.nn.Module):
    """Mean of ``beta * KL - log p(x | z)`` over a batch's best-explained rows.

    The ``round(support_fraction * n)`` rows of lowest loss in a batch of
    ``n`` count (at least one): a trimmed likelihood, in nats per row. With
    ``support_fraction=1`` it is the negative ELBO of the whole batch.
    """

    def __init__(self, beta=1.0, support_fraction=1.0):
        super().__init__()
        self.beta = beta
        self.support_fraction = support_fraction

    def forward(self, y_pred, X=None):
        log_px, kl = y_pred
        loss = self.beta * kl - log_px
        n_kept = max(1, round(self.support_fraction * len(loss)))
        if n_kept < len(loss):
            loss = torch.topk(loss, n_kept, largest=False, sorted=False).values
        return loss.mean()
