"""Importance-weighted scoring of the VAE: ``score_samples``'s estimate.

``score_samples`` is the importance-weighted (IWAE) estimate of
``log p(x)`` over the first ``k`` of ``n_importance_samples`` fixed draws::

    log p(x) ~ log (1/k) sum_j p(x | z_j) p(z_j) / q(z_j | x),
    z_j = mu(x) + sigma(x) * eps_j,

where the ``eps_j`` are the draws kept in the module (see ``networks.py``)
and ``k`` is chosen per row: 16, doubled while the estimated bias of the
row's estimate exceeds ``importance_tol``.  A row's score therefore does not
depend on the other rows, their order, or the call: the estimate is a
deterministic function of ``x``, and a tight bound costs a few forward
passes.  :func:`importance_scores` runs it in blocks of rows and draws,
with the log-weights of :class:`_ImportanceScorer`.
"""

import functools
import math

import numpy as np
import torch

from skgen.neural._vae.networks import _LOG_2PI, _MIN_VARIANCE, _observed

# Importance draws every row gets before its estimate's bias is judged:
# enough weights for a rough variance, few enough that a tight bound costs
# little more than a forward pass.
_FIRST_DRAWS = 16
# Rows times draws per block of scoring: the block's temporaries then stay
# in the processor's cache, where a pass over memory-sized tensors would
# make every elementwise step wait on memory.
_BLOCK_DRAWS = 1024
# Fewest rows of a matrix product in scoring, and the multiple of rows times
# draws that every block of scoring is padded to (see _aligned_rows).
_MIN_PRODUCT_ROWS = 128
_ROW_ALIGNMENT = 64

# The hidden activations in place, where torch has the in-place form.
_INPLACE = {
    torch.nn.ReLU: torch.relu_,
    torch.nn.Tanh: torch.tanh_,
    torch.nn.ELU: torch.nn.functional.elu_,
    torch.nn.SiLU: functools.partial(torch.nn.functional.silu, inplace=True),
}


class _ImportanceScorer:
    """The log importance weights of :meth:`VAE.score_samples`, at inference cost.

    Works on the fitted float32 module as it was trained, with no copy: the
    weights of a row are sums of float32 terms of a few tens of nats, good to
    about 1e-5 nats, far below the Monte Carlo error of the estimate, and a
    float64 network would double the cost of every product. The sums over
    draws are then taken in float64 by the caller.

    For the Gaussian decoder on complete numeric rows (the common case) the
    likelihood is fused: the decoder's last layer is reordered once so that
    its outputs come out as ``(parameter, component, feature)`` without a
    transposed copy, the components that a single-normal feature does not
    use get a bias of minus infinity instead of a mask at every block, and
    the mixture's log-density is built in place in one buffer. Other cases
    (integer features, tables, Bernoulli) take the module's own
    ``importance``.
    """

    def __init__(self, module):
        self.module = module
        self.fused = (module.likelihood == "gaussian" and not module.block_sizes
                      and module.n_numeric > 0)
        if not self.fused:
            return
        last = module.decoder[-1]
        n_params = 2 + (module.n_components > 1)
        n_features, n_components = module.n_numeric, module.n_components
        # Output j of the decoder is (parameter, feature, component) in
        # row-major order; the reordered one is (parameter, component, feature).
        order = torch.arange(n_params * n_features * n_components,
                             device=last.weight.device)
        order = order.view(n_params, n_features, n_components).transpose(1, 2)
        order = order.reshape(-1)
        self.weight = last.weight.detach()[order]
        bias = last.bias.detach()[order].clone()
        if n_components > 1:
            # A single-normal feature gives all weight to its first component.
            logit_bias = bias[: n_components * n_features].view(n_components,
                                                                n_features)
            logit_bias[1:, module.single] = -math.inf
        self.bias = bias
        self.hidden = module.decoder[:-1]
        self.floor = (_MIN_VARIANCE + torch.exp(module.log_floor)).detach()

    def log_weights(self, x, eps, offsets=None, observed=None, encoded=None):
        """``(n, k)`` log-weights of the rows ``x`` over the draws ``eps``.

        As :meth:`_VAEModule.importance`, in standardised units.
        """
        module = self.module
        if not self.fused or module.n_dequantized:
            return module.importance(x, eps, offsets, observed, encoded)[0]
        mu, log_var = module.encode(x, observed) if encoded is None else encoded
        n, (k, latent_dim) = len(x), eps.shape
        z = torch.addcmul(mu[:, None, :], torch.exp(0.5 * log_var)[:, None, :], eps)
        hidden = z.view(-1, latent_dim)
        for layer in self.hidden:
            # The activations in place: one buffer per layer, not two.
            hidden = _INPLACE.get(type(layer), layer)(hidden)
        out = torch.nn.functional.linear(hidden, self.weight, self.bias)
        n_features, n_components = module.n_numeric, module.n_components
        params = out.view(n, k, -1, n_components, n_features).unbind(2)
        x_std = (x - module.loc) / module.scale
        if observed is not None:
            x_std = x_std.masked_fill(~observed, 0.0)
        x_std = x_std[:, None, None, :]
        if n_components == 1:
            mean, raw = params
            logit = None
        else:
            logit, mean, raw = params
        # log N(x; m, v) + logit, less the 2 pi terms, built in one buffer.
        var = torch.nn.functional.softplus(raw).add_(self.floor)
        log_pdf = torch.sub(x_std, mean).square_().div_(var)
        log_pdf.add_(var.log_()).mul_(-0.5)
        if logit is None:
            log_p = log_pdf[:, :, 0]
        else:
            log_pdf.add_(logit)
            log_p = _logsumexp_(log_pdf).sub_(_logsumexp_(logit.clone()))
        # The same arithmetic with and without gaps (a product by ones), so
        # that a complete row scores alike in a batch with gaps and alone.
        if observed is None:
            n_observed = x.new_full((n, 1), n_features)
        else:
            log_p.mul_(observed[:, None, :])
            n_observed = observed.sum(-1, keepdim=True, dtype=x.dtype)
        log_px = log_p.sum(-1).sub_(n_observed.mul_(0.5 * _LOG_2PI))
        # log p(z) - log q(z | x), as in _VAEModule.importance.
        log_ratio = (eps.square().sum(-1) - z.square().sum(-1)
                     + log_var.sum(-1)[:, None]).mul_(0.5)
        return log_px.add_(log_ratio)


def _aligned_rows(n_rows, n_draws):
    """Rows to pad a block of ``n_rows`` rows and ``n_draws`` draws to.

    A row's score must not depend on the rows around it, to the last bit.
    A matrix product of few rows takes another path through the BLAS than
    one of many, with its sums in another order; and torch's vectorised
    elementwise loops hand the last elements of a tensor that fill no whole
    vector to a scalar loop, whose exp and log round differently. So every
    block has ``_MIN_PRODUCT_ROWS`` row-draws at least, and a number of
    row-draws divisible by ``_ROW_ALIGNMENT``, a multiple of every vector
    width.
    """
    multiple = _ROW_ALIGNMENT // math.gcd(_ROW_ALIGNMENT, n_draws)
    n_rows = max(n_rows, -(-_MIN_PRODUCT_ROWS // n_draws))
    return -(-n_rows // multiple) * multiple


def _padded(index, n_rows, *tensors):
    """The rows ``index`` of each tensor, padded to ``n_rows`` rows at least.

    The padding repeats the first row; None passes through (see
    ``_aligned_rows``).
    """
    out = []
    for tensor in tensors:
        if tensor is not None:
            tensor = tensor[index]
            if 0 < len(tensor) < n_rows:
                tensor = torch.cat([tensor, tensor[:1].expand(
                    n_rows - len(tensor), *tensor.shape[1:])])
        out.append(tensor)
    return out


def _logsumexp_(x):
    """``logsumexp(x, dim=2)``, using ``x`` as its buffer.

    The components are few: ``torch.logsumexp`` spends more on its checks
    for infinities than on the sums. The first component of every feature is
    finite, so the maximum is; a clamp keeps a maximum that underflowed to
    minus infinity from giving NaN.
    """
    top = x.amax(2).clamp_min_(torch.finfo(x.dtype).min)
    return x.sub_(top[:, :, None]).exp_().sum(2).log_().add_(top)


def _any_observed(module, x):
    """Whether each row of the model's matrix ``x`` has an observed entry.

    A numeric entry is missing when NaN, a categorical one when its one-hot
    block is all zeros.
    """
    n_numeric = module.n_numeric
    seen = ~torch.isnan(x[:, :n_numeric]).all(1) if n_numeric else torch.zeros(
        len(x), dtype=torch.bool, device=x.device)
    if module.block_sizes:
        seen |= x[:, n_numeric:].sum(1) > 0
    return seen


def importance_scores(module, X, tol, chunk_rows):
    """Importance-weighted scores, with draws added only where they count.

    The scores of the rows of the model's float matrix ``X`` under the
    fitted ``module``, with ``tol`` the ``importance_tol`` of the estimator
    and ``chunk_rows`` its rule for the rows per chunk of a given size
    (``BaseTorchEstimator._chunk_rows``).

    Every row starts with the first ``_FIRST_DRAWS`` fixed draws; a row
    gets the next draws, doubling its count, while the estimated bias
    of its estimate exceeds ``tol`` and draws remain. The
    bias of the log of a mean of ``k`` weights is about
    ``Var(w) / (2 k E[w]^2)`` (the delta method), estimated from the
    row's own weights; so a row's draws, and its score, depend on that
    row alone. Returns the scores and the number of draws of each row.
    """
    scorer = _ImportanceScorer(module)
    n_draws = len(module.eps)
    # Per row and draw: the decoder's layers, and four tensors of
    # (features x components) in the mixture's log-likelihood.
    widths = [module.n_numeric * 4 * module.n_components + sum(module.block_sizes),
              *module.eps.shape[1:]]
    widths += [layer.out_features for layer in module.decoder
               if isinstance(layer, torch.nn.Linear)]
    if module.n_dequantized:
        # Each draw then has its own input x + u_j and encoder pass.
        widths += [len(module.loc)]
        widths += [layer.out_features for layer in module.encoder
                   if isinstance(layer, torch.nn.Linear)]
    draw_bytes = 4 * sum(widths)
    # The network's own float32, as in training (see _ImportanceScorer).
    X = np.ascontiguousarray(X)
    if not X.flags.writeable:  # a read-only block (Dask, pandas): torch warns
        X = X.copy()
    X = torch.as_tensor(X, dtype=module.loc.dtype, device=module.loc.device)
    n_rows = len(X)
    # Running log-sum-exp of the weights and of their squares, per row.
    top = torch.full((n_rows,), -math.inf, dtype=torch.float64)
    sum_w = torch.zeros(n_rows, dtype=torch.float64)
    sum_w2 = torch.zeros(n_rows, dtype=torch.float64)
    used = torch.zeros(n_rows, dtype=torch.float64)
    active = None  # every row
    done = 0
    stop = min(_FIRST_DRAWS, n_draws) if tol > 0 else n_draws
    observed = _observed(X)
    with torch.inference_mode():
        encoded = None
        if not module.n_dequantized:
            x, mask = _padded(slice(None), _aligned_rows(n_rows, 1), X,
                              observed)
            encoded = tuple(part[:n_rows] for part in module.encode(x, mask))
        while active is None or len(active):
            n_active = n_rows if active is None else len(active)
            rows = max(1, min(chunk_rows(draw_bytes * (stop - done)),
                              _BLOCK_DRAWS // (stop - done)))
            # Whole blocks need no padding (see _aligned_rows).
            multiple = _aligned_rows(1, stop - done)
            rows = max(multiple, rows // multiple * multiple)
            eps = module.eps[done:stop]
            offsets = module.offsets[done:stop] if module.n_dequantized else None
            for start in range(0, n_active, rows):
                index = (slice(start, start + rows) if active is None
                         else active[start : start + rows])
                n_index = min(rows, n_active - start)
                block = _padded(
                    index, _aligned_rows(n_index, stop - done), X, observed,
                    *(() if encoded is None else encoded)
                )
                log_w = scorer.log_weights(
                    block[0], eps, offsets, block[1],
                    None if encoded is None else block[2:],
                )[:n_index].to(device="cpu", dtype=torch.float64)
                new_top = torch.maximum(top[index], log_w.amax(1))
                shift = torch.exp(top[index] - new_top)
                log_w = log_w - new_top[:, None]
                sum_w[index] = sum_w[index] * shift + torch.exp(log_w).sum(1)
                sum_w2[index] = (sum_w2[index] * shift**2
                                 + torch.exp(2 * log_w).sum(1))
                top[index] = new_top
            if active is None:
                active = torch.arange(n_rows)
            used[active] = stop
            done = stop
            if done == n_draws:
                break
            excess = done * sum_w2[active] / sum_w[active] ** 2 - 1
            active = active[excess > 2 * done * tol]
            stop = min(2 * done, n_draws)
        # The Jacobian in float64, as the training scores' check takes it.
        log_scale = torch.log(module.scale.to(device="cpu", dtype=torch.float64))
        log_jacobian = (log_scale.sum() if observed is None
                        else (log_scale * observed.cpu()).sum(-1))
        log_p = top + torch.log(sum_w) - torch.log(used) - log_jacobian
        if observed is not None or module.block_sizes:
            # Nothing observed: the marginal of no entry is 1, exactly.
            log_p[~_any_observed(module, X).cpu()] = 0.0
    return log_p.numpy(), used.numpy()
