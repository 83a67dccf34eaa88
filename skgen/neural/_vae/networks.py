"""The networks of the VAE: encoder, decoder and the fixed importance draws.

The model is ``z ~ N(0, I)``, ``x | z ~ p(x | z)`` with a neural decoder,
and a Gaussian encoder ``q(z | x)``.  With the Gaussian likelihood the data
are standardised inside the module (mean and standard deviation of the
training data) and each feature, given z, is a mixture of
``n_decoder_components`` normals, or a single normal when the feature has a
point mass (see ``point_masses`` in ``data.py``).
Each variance is ``_MIN_VARIANCE + exp(log_floor) + softplus(.)`` in
standardised units: bounded from below, so that the likelihood cannot grow
without limit on a collapsed feature, with a learned floor per feature under
the part that depends on z.  The log-Jacobian of the standardisation,
``-sum(log scale)``, is added to every score, so the scores are
log-densities of the data in the units given.

The importance draws ``eps_j`` of the scores (normal quantiles of a
scrambled Sobol sequence) are drawn once, when the module is built, and kept
in it as buffers.  Integer-valued features (``dequantize``) are modelled
through their dequantised values ``x + u``, ``u ~ U[0, 1)``: training draws
fresh ``u``, and the score treats ``u`` as a second latent variable with
proposal ``q(u) = U[0, 1)``, so that it estimates ``log P(x)``, the
log-probability of the integers, with the same importance-weighted bound;
the offsets ``u_j`` are drawn with the ``eps_j``.
"""

import math

import numpy as np
import torch

from skgen.neural._base import initialise_module_, make_mlp
from skgen.neural._categorical import categorical_log_prob, sample_blocks

# Lower bound of the decoder variance, in standardised units.
_MIN_VARIANCE = 1e-3
# Initial learned floor of each feature's variance, in standardised units:
# narrow for a mixture, whose components must shape a feature's law given z,
# wider for a single normal, which must cover all of it.
_LOG_FLOOR_INIT = {"single": -3.0, "mixture": -6.0}
_LOG_2PI = math.log(2 * math.pi)
# Smooth upper bound of the encoder's log-variance: a posterior variance of
# exp(6) = 403 prior variances is never useful, and rows far out in the
# tails would otherwise drive it past float32 and make the loss infinite.
_MAX_LOG_VAR = 6.0


def _balanced_uniform(n_draws, dimension, generator):
    """``(n_draws, dimension)`` points, each uniform on [0, 1)^dimension.

    A scrambled Sobol sequence, seeded from ``generator``: each point is
    still uniform, so an importance-weighted estimate over them keeps its
    expectation, and every prefix of 2, 4, 8, ... points is spread evenly
    over each coordinate. The scores use the first draws alone where the
    bound is tight; drawn independently, those few would share the same
    chance error in every row, and the scores of all rows would move
    together.
    """
    seed = int(torch.randint(2**62, (), generator=generator))
    if dimension > torch.quasirandom.SobolEngine.MAXDIM:
        return torch.rand(n_draws, dimension, generator=generator,
                          dtype=torch.float64)
    engine = torch.quasirandom.SobolEngine(dimension, scramble=True, seed=seed)
    return engine.draw(n_draws, dtype=torch.float64)


def _variance(raw, log_floor):
    """Decoder variance: fixed bound + learned per-feature floor + softplus."""
    return _MIN_VARIANCE + torch.exp(log_floor) + torch.nn.functional.softplus(raw)


class _VAEModule(torch.nn.Module):
    """Encoder, decoder and the fixed importance draws of a VAE.

    Built on the meta device and initialised from a local generator seeded
    by ``seed``; the same generator then draws ``eps``, the
    ``(n_importance_samples, latent_dim)`` standard normal draws used by
    every score, and ``offsets``, the ``(n_importance_samples, n_features)``
    uniform offsets that dequantise the integer features marked in
    ``dequantized`` (zero elsewhere).  ``loc`` and ``scale`` standardise the
    input; ``low`` and ``high`` bound the integers that :meth:`draw` gives.

    ``n_features`` counts the numeric features; a table's categorical
    columns follow them in the input as one-hot blocks of ``block_sizes``
    levels, which the encoder reads as they are and the decoder models with
    one logit per level (a categorical likelihood). ``loc``, ``scale`` and
    ``dequantized`` span the numeric features only.
    """

    def __init__(
        self,
        n_features,
        latent_dim,
        hidden_layer_sizes,
        activation,
        likelihood,
        n_components,
        n_importance_samples,
        loc,
        scale,
        seed,
        point_masses,
        dequantized,
        low,
        high,
        block_sizes=(),
    ):
        super().__init__()
        self.likelihood = likelihood
        self.latent_dim = latent_dim
        self.n_components = n_components
        self.n_numeric = n_features
        self.block_sizes = tuple(int(size) for size in block_sizes)
        n_levels = sum(self.block_sizes)
        # Gaussian: per feature and component a mean and a raw variance, and
        # with several components a logit of its weight.
        n_params = 2 + (n_components > 1) if likelihood == "gaussian" else 1
        self.n_numeric_out = n_params * n_features * n_components
        n_out = self.n_numeric_out + n_levels
        self.encoder = make_mlp(
            n_features + n_levels, hidden_layer_sizes, 2 * latent_dim, activation
        )
        self.decoder = make_mlp(latent_dim, hidden_layer_sizes[::-1], n_out, activation)
        generator = torch.Generator().manual_seed(seed)
        initialise_module_(self, generator)
        # The one-hot blocks enter the encoder as they are.
        loc = np.concatenate([np.asarray(loc, dtype=np.float64), np.zeros(n_levels)])
        scale = np.concatenate([np.asarray(scale, dtype=np.float64),
                                np.ones(n_levels)])
        self.register_buffer("loc", torch.as_tensor(loc, dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))
        # The draws of z (through the normal quantile) and of the offsets,
        # from one balanced sequence.
        points = _balanced_uniform(
            n_importance_samples, latent_dim + n_features, generator
        )
        tiny = torch.finfo(torch.float32).tiny
        eps = torch.special.ndtri(points[:, :latent_dim].clamp(tiny, 1 - tiny))
        self.register_buffer("eps", eps.to(torch.float32))
        dequantized = np.concatenate([np.asarray(dequantized, dtype=bool),
                                      np.zeros(n_levels, dtype=bool)])
        dequantized = torch.as_tensor(dequantized)
        self.n_dequantized = int(dequantized.sum())
        self.register_buffer("dequantized", dequantized)
        offsets = points[:, latent_dim:].to(torch.float32)
        offsets = torch.cat([offsets, offsets.new_zeros(len(offsets), n_levels)], 1)
        self.register_buffer("offsets", offsets * dequantized)
        self.register_buffer("low", torch.as_tensor(low, dtype=torch.float32))
        self.register_buffer("high", torch.as_tensor(high, dtype=torch.float32))
        if likelihood == "gaussian":
            # A floor per feature under the variance, shared by all z: it
            # learns the noise no code explains, and keeps the decoder from
            # shrinking the variance of single training rows.
            # The features that keep one normal: every feature with one
            # component, and those with a point mass with several.
            single = torch.tensor(point_masses, dtype=torch.bool)
            single |= n_components == 1
            self.register_buffer("single", single)
            init = torch.where(single, _LOG_FLOOR_INIT["single"],
                               _LOG_FLOOR_INIT["mixture"])
            self.log_floor = torch.nn.Parameter(init.to(torch.float32))

    # -- pieces

    def encode(self, x, observed=None):
        """Posterior mean and log-variance of z for raw ``x``.

        With a boolean ``observed`` mask (broadcastable to ``x``), the
        missing entries enter the encoder as zeros in standardised units,
        the training mean (as in MIWAE).
        """
        x_std = (x - self.loc) / self.scale
        if observed is not None:
            x_std = x_std.masked_fill(~observed, 0.0)
        mu, raw = self.encoder(x_std).chunk(2, dim=-1)
        # max - softplus(max - raw): equal to raw to within 3e-3 below 0, and
        # never above max, with a gradient everywhere (a clamp would have
        # none past the bound, and could leave a row stuck there).
        log_var = _MAX_LOG_VAR - torch.nn.functional.softplus(_MAX_LOG_VAR - raw)
        return mu, log_var

    def mixture(self, out):
        """Log-weights, means and variances of the Gaussian decoder.

        Each of shape ``(..., n_features, n_components)``, in standardised
        units; with one component the log-weights are zeros.
        """
        shape = (-1, self.n_numeric, self.n_components)
        params = out.unflatten(-1, shape).unbind(-3)
        if self.n_components == 1:
            mean, raw = params
            log_weight = torch.zeros_like(mean)
        else:
            logit, mean, raw = params
            # A single-normal feature gives all weight to its first component.
            others = torch.arange(self.n_components, device=logit.device) > 0
            logit = logit.masked_fill(self.single[:, None] & others, -math.inf)
            log_weight = torch.log_softmax(logit, dim=-1)
        return log_weight, mean, _variance(raw, self.log_floor[:, None])

    def log_likelihood(self, x_std, out, observed=None):
        """Log-likelihood log p(x | z) in standardised units, summed over features.

        With one-hot blocks, plus the log-probability of each block's
        observed level under the softmax of its logits (a missing category
        is an all-zero block, which adds nothing). With a boolean
        ``observed`` mask, the sum runs over the observed entries only: the
        likelihood of the observed part, ``log p(x_obs | z)``, since the
        decoder's features are independent given z.
        """
        if not self.block_sizes:
            return self.numeric_log_likelihood(x_std, out, observed)
        n_numeric = self.n_numeric
        log_p = categorical_log_prob(out[..., self.n_numeric_out:],
                                     x_std[..., n_numeric:], self.block_sizes)
        if n_numeric:
            log_p = log_p + self.numeric_log_likelihood(
                x_std[..., :n_numeric], out[..., :self.n_numeric_out],
                None if observed is None else observed[..., :n_numeric])
        return log_p

    def numeric_log_likelihood(self, x_std, out, observed=None):
        """Log-likelihood of the numeric features, summed over the observed ones.

        ``observed`` None means every entry is observed, the path of
        complete data. Otherwise missing entries (NaN in ``x_std``) are
        set to zero before any arithmetic, so that no NaN reaches the
        gradient, and their terms are dropped from the sum.
        """
        if observed is not None:
            x_std = x_std.masked_fill(~observed, 0.0)
        if self.likelihood == "bernoulli":
            bce = torch.nn.functional.binary_cross_entropy_with_logits(
                out, x_std.expand_as(out), reduction="none"
            )
            if observed is not None:
                bce = bce * observed
            return -bce.sum(-1)
        n_features = self.n_numeric
        # Components before features, (..., params, components, features):
        # the sums over components then run across contiguous rows of
        # features, where the decoder's order would make them reductions
        # over a tiny innermost axis, several times slower in torch.
        params = out.unflatten(-1, (-1, n_features, self.n_components))
        params = params.transpose(-1, -2).contiguous().unbind(-3)
        floor = _MIN_VARIANCE + torch.exp(self.log_floor)
        if self.n_components == 1:
            mean, raw = params
            var = torch.nn.functional.softplus(raw[..., 0, :]) + floor
            diff = x_std - mean[..., 0, :]
            terms = _LOG_2PI + torch.log(var) + diff**2 / var
            if observed is not None:
                terms = terms * observed
            return -0.5 * terms.sum(-1)
        logit, mean, raw = params
        # A single-normal feature gives all weight to its first component.
        others = torch.arange(self.n_components, device=logit.device) > 0
        logit = logit.masked_fill(others[:, None] & self.single, -math.inf)
        var = torch.nn.functional.softplus(raw) + floor
        # log sum_c w_c N(x; m_c, v_c), with w = softmax(logit): the
        # normaliser of the weights is taken once, outside the sum.
        log_pdf = logit - 0.5 * (torch.log(var) + (x_std[..., None, :] - mean) ** 2
                                 / var)
        log_p = torch.logsumexp(log_pdf, dim=-2) - torch.logsumexp(logit, dim=-2)
        if observed is not None:
            n_observed = observed.sum(-1, dtype=log_p.dtype)
            return (log_p * observed).sum(-1) - 0.5 * _LOG_2PI * n_observed
        return log_p.sum(-1) - 0.5 * _LOG_2PI * n_features

    def centre(self, x):
        """``x`` with each integer feature moved to the centre of its cell."""
        return x + 0.5 * self.dequantized if self.n_dequantized else x

    def decode_mean(self, z):
        """E[x | z] in the units of the data.

        For an integer feature, the mean of its dequantised value ``x + u``
        less 1/2, the mean of ``u``.
        """
        return self.mean_from_out(self.decoder(z))

    def mean_from_out(self, out):
        """E[x | z] in the units of the data, from the decoder's outputs."""
        if self.block_sizes:
            # A block's mean is the vector of its levels' probabilities.
            logits = out[..., self.n_numeric_out:]
            proba = torch.cat([torch.softmax(block, dim=-1) for block in
                               torch.split(logits, self.block_sizes, dim=-1)], -1)
            return torch.cat([self.numeric_mean(out[..., :self.n_numeric_out]),
                              proba], -1)
        return self.numeric_mean(out)

    def numeric_mean(self, out):
        """E[x | z] of the numeric features, from the decoder's numeric outputs."""
        if not self.n_numeric:
            return out
        if self.likelihood == "gaussian":
            n, dequantized = self.n_numeric, self.dequantized[:self.n_numeric]
            log_weight, mean, _ = self.mixture(out)
            mean = (torch.exp(log_weight) * mean).sum(-1)
            mean = mean * self.scale[:n] + self.loc[:n]
            return mean - 0.5 * dequantized if self.n_dequantized else mean
        return torch.sigmoid(out)

    def draw(self, z, generator):
        """One x ~ p(x | z) for each row of ``z``, in the units of the data.

        With one-hot blocks, each block holds a one-hot draw of its level,
        after the numeric features.
        """
        out = self.decoder(z)
        if self.block_sizes:
            numeric = self.draw_numeric(out[..., :self.n_numeric_out], generator)
            levels = sample_blocks(out[..., self.n_numeric_out:], self.block_sizes,
                                   generator)
            return torch.cat([numeric, levels], -1)
        return self.draw_numeric(out, generator)

    def draw_numeric(self, out, generator):
        """One draw of the numeric features from the decoder's numeric outputs."""
        if not self.n_numeric:
            return out
        n, dequantized = self.n_numeric, self.dequantized[:self.n_numeric]
        if self.likelihood == "gaussian":
            log_weight, mean, var = self.mixture(out)
            # A component per row and feature, then a normal draw from it.
            weight = torch.exp(log_weight).reshape(-1, self.n_components)
            pick = torch.multinomial(weight, 1, generator=generator)
            pick = pick.reshape(*mean.shape[:-1], 1)
            mean = mean.gather(-1, pick)[..., 0]
            std = var.gather(-1, pick)[..., 0].sqrt()
            noise = torch.randn(mean.shape, generator=generator, dtype=mean.dtype,
                                device=mean.device)
            x = (mean + std * noise) * self.scale[:n] + self.loc[:n]
            if self.n_dequantized:
                # The integer whose cell [k, k + 1) holds the draw: its law
                # is the model's probability of each integer.
                k = torch.clamp(torch.floor(x), self.low, self.high)
                x = torch.where(dequantized, k, x)
            return x
        return torch.bernoulli(torch.sigmoid(out), generator=generator)

    # -- training: one reparameterised draw per row

    def forward(self, x, generator):
        """``(log p(x | z), KL(q(z | x) || p(z)))`` per row, one z per row.

        Integer features are dequantised first: ``x + u``, with ``u`` fresh
        uniform noise in training, and in evaluation (the validation loss)
        one of the fixed offsets per row, so that the validation loss
        changes between epochs only with the model.
        """
        if self.n_dequantized:
            if self.training:
                u = torch.rand(x.shape, generator=generator, dtype=x.dtype,
                               device=x.device) * self.dequantized
            else:
                rows = torch.arange(len(x), device=x.device) % len(self.offsets)
                u = self.offsets[rows]
            x = x + u
        observed = _observed(x)
        mu, log_var = self.encode(x, observed)
        std = torch.exp(0.5 * log_var)
        if self.training:
            noise = torch.randn(
                mu.shape, generator=generator, dtype=mu.dtype, device=mu.device
            )
        else:
            # Validation: the first fixed draw for every row, so that the
            # validation loss changes between epochs only with the model.
            noise = self.eps[0].expand_as(mu)
        out = self.decoder(mu + std * noise)
        log_px = self.log_likelihood((x - self.loc) / self.scale, out, observed)
        kl = 0.5 * (mu**2 + std**2 - log_var - 1.0).sum(-1)
        return log_px, kl

    # -- scoring: importance weighting over the fixed draws

    def log_weights(self, x, draws, encoded=None, observed=None):
        """Log importance weights of the fixed draws ``draws`` (a slice), per row.

        ``log p(x | z_j) + log p(z_j) - log q(z_j | x)``, of shape
        ``(n, n_draws)``, in standardised units (the Jacobian is left out).
        With integer features, the offsets ``u_j`` are a second latent
        variable with proposal U[0, 1), ``u_j`` paired with ``eps_j``, and
        ``z_j`` drawn from ``q(z | x + u_j)``. ``encoded``, the
        ``(mu, log_var)`` of ``x`` without offsets, saves the encoder pass
        when there are none. With a boolean mask ``observed`` (None: all),
        the weights are those of the observed entries, ``p(x_obs | z_j)``.
        """
        offsets = self.offsets[draws] if self.n_dequantized else None
        return self.importance(x, self.eps[draws], offsets, observed, encoded)[0]

    def importance(self, x, eps, offsets=None, observed=None, encoded=None):
        """Log importance weights, latent draws and decoder outputs, per row.

        ``eps`` holds the standard normal draws, ``(k, latent_dim)`` shared
        by the rows or ``(n, k, latent_dim)``, ``offsets`` the uniform
        offsets of the dequantised features in the same way. Returns the
        ``(n, k)`` log-weights ``log p(x_obs | z_j) + log p(z_j) - log
        q(z_j | x_obs)``, the ``(n, k, latent_dim)`` draws ``z_j`` and the
        ``(n, k, n_out)`` decoder outputs.
        """
        k, latent_dim = eps.shape[-2:]
        if observed is not None:
            observed = observed[:, None, :]
        if self.n_dequantized:
            x = x[:, None, :] + offsets  # (n, k, features)
            mu, log_var = self.encode(x, observed)  # (n, k, latent)
        else:
            mu, log_var = self.encode(
                x, None if observed is None else observed[:, 0]
            ) if encoded is None else encoded
            x, mu, log_var = x[:, None, :], mu[:, None, :], log_var[:, None, :]
        z = torch.addcmul(mu, torch.exp(0.5 * log_var), eps)  # (n, k, latent)
        out = self.decoder(z.reshape(-1, latent_dim)).reshape(len(x), k, -1)
        log_px = self.log_likelihood((x - self.loc) / self.scale, out, observed)
        # log p(z) - log q(z | x) at z = mu + std * eps; the 2 pi terms
        # cancel, and q(u) = 1. log(std) is 0.5 * log_var, taken from
        # log_var: on a far-out row exp(0.5 * log_var) underflows to 0 and
        # torch.log(std) would be -inf.
        log_ratio = 0.5 * ((eps**2).sum(-1) - (z**2).sum(-1) + log_var.sum(-1))
        return log_px + log_ratio, z, out

    def log_marginal(self, x):
        """IWAE estimate of log p(x) over all the fixed draws, per row.

        In the units of the data; with integer features, of the
        log-probability of their values times the density of the others.
        """
        k = len(self.eps)
        observed = _observed(x)
        log_w = self.log_weights(x, slice(0, k), observed=observed)
        return (torch.logsumexp(log_w, dim=1) - math.log(k)
                - self.log_jacobian(observed))

    def log_jacobian(self, observed=None):
        """Log-Jacobian of the standardisation, ``sum(log scale)``.

        With a mask ``observed`` of shape ``(n, features)``, per row, over
        the observed features only.
        """
        if observed is None:
            return torch.log(self.scale).sum()
        return (torch.log(self.scale) * observed).sum(-1)



def _observed(x):
    """The mask of the entries of ``x`` that are not NaN; None when all are.

    None keeps complete data on the unmasked path, bit for bit and at its
    speed.
    """
    observed = ~torch.isnan(x)
    return None if bool(observed.all()) else observed
