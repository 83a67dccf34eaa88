"""The two networks of the GAN: the generator and the critic.

A generator ``G`` maps latent draws ``z ~ N(0, I)`` to data; a critic
(discriminator) ``D`` tells data from generated rows.  With ``pac > 1`` the
critic sees packs of ``pac`` rows concatenated into one input (PacGAN, Lin
et al., 2018), which penalises a generator that drops modes.

The data are standardised inside the model (mean and standard deviation of
the training data); the generator and critic work in standardised units.
On a table (:class:`~skgen.preprocessing.TableEncoder`), the generator's
output ends with a block of logits per categorical column; the critic sees
one-hot draws of them in training (straight-through Gumbel-softmax), and
``sample`` draws exact categories too.
"""

import torch

from skgen.neural._base import initialise_module_, make_mlp
from skgen.neural._categorical import gumbel_softmax_blocks, sample_blocks


class _Generator(torch.nn.Module):
    """The generator, with the standardisation of the data as buffers.

    ``forward(z)`` returns rows in standardised units; ``to_data`` maps them
    back to the units of the training data.

    On a table the output ends with one block of logits per categorical
    column (``block_sizes``), after ``n_numeric`` numeric columns; ``rows``
    turns the logits into one-hot rows (relaxed in training) and leaves the
    numeric columns as they are.  The one-hot columns have a location of 0
    and a scale of 1, so that the data's one-hot rows are their own
    standardised form.
    """

    def __init__(self, latent_dim, hidden_layer_sizes, n_features, loc, scale, seed,
                 block_sizes=(), missing_levels=(), gap_columns=(), observed_levels=()):
        super().__init__()
        self.latent_dim = latent_dim
        self.block_sizes = tuple(block_sizes)
        self.missing_levels = list(missing_levels)
        self.gap_columns = list(gap_columns)
        self.observed_levels = list(observed_levels)
        self.n_numeric = n_features - sum(self.block_sizes)
        self.net = make_mlp(latent_dim, hidden_layer_sizes, n_features, "relu")
        initialise_module_(self, torch.Generator().manual_seed(seed))
        self.register_buffer("loc", torch.as_tensor(loc, dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))

    def forward(self, z):
        return self.net(z)

    def rows(self, out, generator, tau=None, complete=False):
        """Outputs as the critic sees them: numeric columns, one-hot blocks.

        ``tau`` gives straight-through Gumbel-softmax draws at that
        temperature, for training: exact one-hot rows forward (the argmax
        of the relaxed draw, a draw of the block's categorical
        distribution) with the gradient of the relaxed draw backward, so
        that the critic cannot tell generated rows from the data's one-hot
        rows by their softness. None draws exact one-hot rows, without
        gradient.

        With gaps (see ``gaps.py``), a numeric column with gaps is masked to
        0 where its indicator block draws "missing", as the data's gaps are
        standardised. ``complete`` draws no gap: the "missing" levels get no
        probability and the numeric values stay unmasked.
        """
        if not self.block_sizes:
            return out
        numeric, logits = out[:, : self.n_numeric], out[:, self.n_numeric :]
        if complete and self.missing_levels:
            logits = logits.clone()
            logits[:, self.missing_levels] = -torch.inf
        if tau is None:
            onehot = sample_blocks(logits, self.block_sizes, generator)
        else:
            soft = gumbel_softmax_blocks(logits, self.block_sizes, tau, generator)
            hard = torch.cat([
                torch.nn.functional.one_hot(block.argmax(1), block.shape[1])
                for block in soft.split(self.block_sizes, dim=1)
            ], dim=1).to(soft.dtype)
            onehot = hard - soft.detach() + soft
        if self.gap_columns and not complete:
            numeric = numeric.clone()
            numeric[:, self.gap_columns] = (numeric[:, self.gap_columns]
                                            * onehot[:, self.observed_levels])
        return torch.cat([numeric, onehot], dim=1)

    def to_data(self, x_std):
        return x_std * self.scale + self.loc


class _Critic(torch.nn.Module):
    """The critic: one real number per pack of ``pac`` rows."""

    def __init__(self, n_features, pac, hidden_layer_sizes, seed):
        super().__init__()
        self.pac = pac
        self.net = make_mlp(n_features * pac, hidden_layer_sizes, 1, "relu")
        initialise_module_(self, torch.Generator().manual_seed(seed))

    def forward(self, packs):
        return self.net(packs).squeeze(-1)
