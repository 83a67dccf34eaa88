"""How a fitted GAN draws rows: truncation, raking and gaps.

The generator's rows are drawn in rounds of rejection: latent draws whose
Jacobian norm passes the threshold fit set (``truncation.py``), then, with
``match_categories``, rows kept with a chance proportional to their raking
weight (``raking.py``); ``missingness_`` draws their gaps (``sample_gaps``).
All draws come from one torch generator, in order.
"""

import math

import numpy as np
import torch

from skgen.neural._base import check_finite_or_diverged
from skgen.neural._gan.raking import block_levels, raking_weights
from skgen.neural._gan.truncation import _jacobian_norms, _steepness_net

__all__ = ["GANSampling"]

# Rounds of rejection sampling before ``sample`` gives up. Each round draws
# what is missing divided by the accepted share, plus a margin, so that at
# the share fit measured one or two rounds suffice; a rate far below it
# (a generator or threshold changed since fit) would otherwise loop forever.
_MAX_ROUNDS = 10


def _in_rounds(n_samples, share, draw_kept):
    """Rejection sampling in rounds: ``(kept parts, n kept, n drawn)``.

    Each round draws what is missing divided by the accepted ``share``, plus
    a margin, through ``draw_kept(n_draws)`` (the kept ones of ``n_draws``
    draws); it stops once ``n_samples`` are kept or after ``_MAX_ROUNDS``.
    """
    kept, n_kept, n_drawn = [], 0, 0
    for _ in range(_MAX_ROUNDS):
        n_draws = math.ceil((n_samples - n_kept) / share) + 16
        part = draw_kept(n_draws)
        kept.append(part)
        n_kept += len(part)
        n_drawn += n_draws
        if n_kept >= n_samples:
            break
    return kept, n_kept, n_drawn


class GANSampling:
    """The drawing half of :class:`~skgen.GAN` (a mixin of the estimator)."""

    def _draw(self, n_samples, generator, truncate=True, gaps=True):
        """``(Z, missing)``: drawn rows in the encoded columns and their gaps.

        The generator draws complete rows; with ``gaps``, ``missingness_``
        (None without gaps in fit) draws their gaps given the rows, from
        ``generator`` after the rows. ``missing`` is None when no gap is
        drawn.
        """
        if self.category_factors_ is None:
            M = self._complete_rows(n_samples, generator, truncate)
        else:
            M = self._raked_rows(n_samples, generator, truncate)
        model = self.missingness_
        if not gaps or model is None:
            return M, None
        uniform = torch.rand((len(M), model.columns.size), generator=generator,
                             device=generator.device, dtype=torch.float64)
        return M, model.draw(M, uniform.cpu().numpy())

    def _complete_rows(self, n_samples, generator, truncate):
        """Complete rows from the generator, in the encoded columns."""
        M = self._generate(n_samples, generator, truncate, complete=True)
        check_finite_or_diverged(M, self.net_)
        if self._gap_layout is not None:
            M = self._gap_layout.encoded_rows(M)[0]
        return M

    def _levels(self, Z):
        return block_levels(Z, self.encoder_.n_numeric_,
                            [c.size for c in self.encoder_.categories_])

    def _raked_rows(self, n_samples, generator, truncate):
        """Complete rows, each kept with a chance proportional to its weight.

        See ``raking.py``; the draws and the uniform numbers of the choice
        come from ``generator`` in rounds, as in ``_accepted_latent``.
        """
        def kept_rows(n_draws):
            M = self._complete_rows(n_draws, generator, truncate)
            weights = raking_weights(self._levels(M), self.category_factors_)
            uniform = torch.rand(n_draws, generator=generator, dtype=torch.float64,
                                 device=generator.device).cpu().numpy()
            return M[uniform * self._raking_max < weights]

        kept, n_kept, n_drawn = _in_rounds(n_samples, self._raking_share, kept_rows)
        if n_kept >= n_samples:
            return np.vstack(kept)[:n_samples]
        raise ValueError(
            f"GAN.sample kept {n_kept} of {n_drawn} drawn rows in {_MAX_ROUNDS} "
            f"rounds, where fit measured a share of {self._raking_share:.0%}: the "
            "generator changed after fit. Fit the model again, or fit it with "
            "match_categories=False."
        )

    def _as_data_rows(self, Z, missing):
        """Drawn rows as a data row would be modelled: gaps, whole integers."""
        if hasattr(self, "encoder_"):
            return self._model_rows(self.encoder_.transform(self._decode(Z, missing)))
        if missing is not None:
            Z = Z.copy()
            Z[missing] = np.nan
        return self._model_rows(Z)

    def _decode(self, Z, missing=None):
        """Encoded rows (normal scores, one-hot blocks) as a table.

        ``missing`` masks the gaps, numeric columns then blocks.
        """
        encoder = self.encoder_
        if missing is not None:  # the encoder's order: numbers, categories
            order = encoder._numeric + encoder._categorical
            missing = missing[:, np.argsort(order)]
        return encoder.inverse_transform(Z, missing)

    def _generate(self, n_samples, generator, truncate=True, complete=False):
        """``n_samples`` rows from the generator in eval mode, float64.

        With ``truncate``, latent draws whose Jacobian norm exceeds
        ``jacobian_threshold_`` are rejected and drawn again, in rounds, in
        the order of the generator's stream. Only what fit stored is used
        (``jacobian_threshold_`` and the share ``jacobian_truncation_``),
        never the current parameter. On a table the categorical blocks are
        exact one-hot draws of the generator's logits, taken from
        ``generator`` after the latent draws. ``complete`` draws no gap (see
        ``sample_gaps``).
        """
        module = self._inference_module()
        threshold = self.jacobian_threshold_
        with torch.no_grad():
            if not truncate or math.isinf(threshold):
                z = self._latent(module, n_samples, generator)
            else:
                z = self._accepted_latent(module, n_samples, generator, threshold)
            rows = module.rows(module(z), generator, complete=complete)
            return module.to_data(rows).cpu().numpy()

    def _accepted_latent(self, module, n_samples, generator, threshold):
        """``n_samples`` latent draws whose Jacobian norm is at most ``threshold``."""
        share = 1.0 - self.jacobian_truncation_
        net = _steepness_net(module)

        def kept_latent(n_draws):
            z = self._latent(module, n_draws, generator)
            return z[_jacobian_norms(net, z) <= threshold]

        kept, n_kept, n_drawn = _in_rounds(n_samples, share, kept_latent)
        if n_kept >= n_samples:
            return torch.cat(kept)[:n_samples]
        raise ValueError(
            f"GAN.sample accepted {n_kept} of {n_drawn} latent draws "
            f"({n_kept / n_drawn:.2%}) in {_MAX_ROUNDS} rounds, where fit set "
            f"jacobian_threshold_ to accept {share:.0%} of them: the generator "
            "or its threshold changed after fit. Fit the model again, or fit it "
            "with jacobian_truncation=0 to sample without rejection."
        )
