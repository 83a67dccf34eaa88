"""How TabularMixture's encoded columns map onto the engine's families.

A :class:`Layout` reads the encoded table once (as sums, so that the blocks
of a Dask collection add up) and then builds, for any parameters, the
product family of a pass: Gaussians on the continuous and integer columns
(masked where values are missing), categoricals on the one-hot blocks, and
for scoring the interval form of the integer columns.
"""

import numpy as np
import torch

from skgen.mixture._engine.families import (
    CategoricalFamily,
    ExpandedGaussianFamily,
    IntervalGaussianFamily,
    MaskedDiagonalGaussianFamily,
    gaussian_family,
    product_family,
)

__all__ = ["Layout", "layout_sums"]


class Layout:
    """How the encoded columns split into the product's parts.

    The numeric columns (the first ``n_numeric``) form a diagonal Gaussian
    part on normal scores; the one-hot blocks a categorical part whose
    prior is the data's level shares.
    """

    def __init__(self, encoder, sums):
        self.n_numeric = encoder.n_numeric_
        self.n_integer = int(np.isin(encoder.kinds_, ["integer", "discrete"]).sum())
        self.n_continuous = self.n_numeric - self.n_integer
        self.block_sizes = [c.size for c in encoder.categories_]
        self.n_levels = sum(self.block_sizes)
        total = float(sums["weight"])
        self.prior = torch.as_tensor(
            np.asarray(sums["levels"]) / total, dtype=torch.float64
        )
        self.gaps = bool(sums["gaps"])
        # Mean squared norm of the scores: bounds the expanded form's loss.
        self.spread = float(sums["squares"]) / total

    def family(self, params, reg_covar, prior_strength=0.0):
        parts = []
        numeric = slice(0, self.n_numeric)
        if self.n_numeric:
            if self.gaps:
                gaussian = MaskedDiagonalGaussianFamily(reg_covar)
            elif params is None:  # the initialisation: statistics only
                gaussian = ExpandedGaussianFamily("diag", reg_covar)
            else:
                gaussian = gaussian_family(
                    "diag", reg_covar, self.gaussian_params(params),
                    self._zero(params), self.spread, torch.float64,
                )
            parts.append((gaussian, numeric))
        if self.n_levels:
            categorical = CategoricalFamily(
                self.block_sizes, self.prior.to(self._device(params)), prior_strength
            )
            parts.append((categorical, slice(self.n_numeric, None)))
        return product_family(parts)

    # The scoring form: integer columns are scored as interval masses.

    def scoring_matrix(self, encoder, X, Z):
        """``[continuous scores, integer lower edges, upper edges, one-hot]``."""
        lower, upper = encoder.integer_intervals(X)
        c = self.n_continuous
        return np.hstack([Z[:, :c], lower, upper, Z[:, self.n_numeric :]])

    def scoring_family(self, params, gaps):
        parts = []
        c, i = self.n_continuous, self.n_integer
        if c and gaps:
            gaussian = MaskedDiagonalGaussianFamily(0.0)
        elif c:
            gaussian = gaussian_family(
                "diag", 0.0, self._continuous(params),
                self._zero(params)[:c], self.spread, torch.float64,
            )
        if c:
            parts.append((gaussian, slice(0, c)))
        if i:
            parts.append((IntervalGaussianFamily(), slice(c, c + 2 * i)))
        if self.n_levels:
            parts.append((CategoricalFamily(self.block_sizes, None, 0.0),
                          slice(c + 2 * i, None)))
        return product_family(parts)

    def _continuous(self, params):
        gaussian, c = params["parts"][0], self.n_continuous
        return {
            "weights": gaussian["weights"],
            "means": gaussian["means"][:, :c],
            "covariances": gaussian["covariances"][:, :c],
            "prec_chol": gaussian["prec_chol"][:, :c],
        }

    def scoring_params(self, params):
        parts = []
        if self.n_continuous:
            parts.append(self._continuous(params))
        if self.n_integer:
            gaussian, c = params["parts"][0], self.n_continuous
            parts.append({"means": gaussian["means"][:, c:],
                          "covariances": gaussian["covariances"][:, c:]})
        if self.n_levels:
            parts.append(params["parts"][-1])
        return {"weights": params["weights"], "parts": tuple(parts)}

    def scoring_shifts(self, device):
        shifts = []
        if self.n_continuous:
            shifts.append(torch.zeros(self.n_continuous, dtype=torch.float64,
                                      device=device))
        shifts += [None] * (bool(self.n_integer) + bool(self.n_levels))
        return tuple(shifts)

    def _device(self, params):
        return "cpu" if params is None else params["weights"].device

    def _zero(self, params):
        return torch.zeros(self.n_numeric, dtype=torch.float64,
                           device=params["weights"].device)

    def shifts(self, device):
        shifts = []
        if self.n_numeric:
            shifts.append(torch.zeros(self.n_numeric, dtype=torch.float64,
                                      device=device))
        if self.n_levels:
            shifts.append(None)
        return tuple(shifts)

    def gaussian_params(self, params):
        return params["parts"][0] if self.n_numeric else None

    def categorical_log_proba(self, params):
        if not self.n_levels:
            return torch.zeros((params["weights"].shape[0], 0), dtype=torch.float64)
        return params["parts"][-1]["log_proba"]

    def neutral_params(self, k, device):
        """Parameters whose frame only sets the centre (for the init)."""
        opts = {"dtype": torch.float64, "device": device}
        parts = []
        if self.n_numeric:
            parts.append({
                "weights": torch.ones(k, **opts),
                "means": torch.zeros((k, self.n_numeric), **opts),
                "prec_chol": torch.ones((k, self.n_numeric), **opts),
            })
        if self.n_levels:
            parts.append({"log_proba": torch.zeros((k, self.n_levels), **opts)})
        return {"weights": torch.full((k,), 1.0 / k, **opts), "parts": tuple(parts)}

    def parameters(self, m_step_result, prior_strength, reg_covar):
        """Engine parameters from a product M-step, with the priors applied.

        The Gaussian part's variances are drawn towards 1 (the normal
        scores' overall variance) by ``prior_strength`` pseudo-rows; the
        categorical part's M-step has added the same pseudo-rows, spread as
        the data's level shares.
        """
        nk, results = m_step_result
        weights = nk / nk.sum()
        parts = []
        index = 0
        if self.n_numeric:
            counts, means, variances = results[index]
            index += 1
            # per column when the scores have gaps, per component otherwise
            n = counts if counts.ndim == 2 else nk[:, None]
            variances = (n * (variances - reg_covar) + prior_strength) / (
                n + prior_strength
            ) + reg_covar
            parts.append({
                "weights": torch.ones_like(nk),
                "means": means,
                "covariances": variances,
                "prec_chol": 1.0 / torch.sqrt(variances),
            })
        if self.n_levels:
            parts.append(results[index])
        return {"weights": weights, "parts": tuple(parts)}

    def from_attributes(self, weights, means, variances, category_probas, device):
        def t(a):
            return torch.as_tensor(np.asarray(a, dtype=np.float64), device=device)

        parts = []
        if self.n_numeric:
            v = t(variances)
            parts.append({"weights": torch.ones_like(t(weights)), "means": t(means),
                          "covariances": v, "prec_chol": 1.0 / torch.sqrt(v)})
        if self.n_levels:
            log_proba = torch.log(torch.cat([t(p) for p in category_probas], dim=1))
            parts.append({"log_proba": log_proba})
        return {"weights": t(weights), "parts": tuple(parts)}


def layout_sums(Z, weights, n_numeric):
    """What ``Layout`` reads from the encoded rows: sums, so blocks add up."""
    numeric = Z[:, :n_numeric]
    squares = np.nan_to_num(numeric, nan=0.0) ** 2
    return {
        "weight": float(weights.sum()),
        "levels": weights @ Z[:, n_numeric:],
        "squares": float(weights @ squares.sum(1)),
        "gaps": int(np.isnan(numeric).any()),
    }
