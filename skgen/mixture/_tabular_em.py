"""TabularMixture's EM: the choice of n_components, the fits and the scoring passes.

A mixin of :class:`~skgen.mixture.TabularMixture`, over the encoded rows of a
table and the :class:`~skgen.mixture._table_layout.Layout` of its columns.
"""

import numpy as np
import torch

from skgen.mixture._engine.init import nearest_centre_labels
from skgen.mixture._engine.passes import (
    em_pass,
    normalise_,
    stats_of_responsibilities,
)
from skgen.mixture._engine.sources import TensorSource
from skgen.utils._threads import map_chunks
from skgen.utils._torch import as_tensor

__all__ = ["TabularEM"]

# Candidates of n_components="auto": powers of two, each tried while the
# validation likelihood still rises (see _select_n_components).
_AUTO_CANDIDATES = tuple(2**i for i in range(11))
# Rows of training weight per component below which a candidate is not tried.
_ROWS_PER_COMPONENT = 8


class TabularEM:
    """EM over the encoded rows of a table: the fitting half of TabularMixture."""

    def _finish_fit(self, layout, source, total_weight, n_components, init_rows,
                    random_state, start):
        """The final EM on all rows, then the fitted attributes."""
        run = self._fit_em(
            layout, source, total_weight, n_components, init_rows, random_state,
            start,
        )
        self._set_attributes(layout, run[0])
        self._store_em_run(run)
        self._total_weight = total_weight
        self._stream_state = None  # a fit ends a stream of partial_fit

    def _select_n_components(self, layout, source, total_weight, n_rows,
                             init_rows, validation_score, rng):
        """The number of components by the held-out log-likelihood.

        Candidates double while they score within one standard error of the
        best so far (the error of the mean paired difference over the
        held-out rows); the largest of them is chosen.  Differences below
        that are noise of the split, and more components keep more of the
        table's detail.  ``validation_score(params, reference)`` returns the
        held-out sums of ``paired_sums``.  ``source`` holds the training
        rows (of total weight ``total_weight``, ``n_rows`` of them);
        ``init_rows`` the rows the init draws from.
        """
        largest = max(1, min(n_rows, total_weight / _ROWS_PER_COMPONENT))
        candidates = [k for k in _AUTO_CANDIDATES if k <= largest or k == 1]
        if n_rows < total_weight / _ROWS_PER_COMPONENT and n_rows > candidates[-1]:
            candidates.append(int(n_rows))  # few distinct rows: one each
        scores, best, chosen = {}, None, None
        fitted = {}
        for k in candidates:
            params, _, n_iter, _ = self._fit_em(
                layout, source, total_weight, k, init_rows, rng
            )
            reference = None if best is None else fitted[best]
            sums = validation_score(params, reference)
            weight = float(sums["weight"])
            scores[k] = float(sums["new"]) / weight
            if self.verbose:
                print(f"n_components={k}: validation log-likelihood {scores[k]:.4f}"
                      f" ({n_iter} EM iterations)")
            fitted[k] = params
            if best is None or scores[k] > scores[best]:
                best, chosen = k, k
                continue
            difference = (float(sums["new"]) - float(sums["ref"])) / weight
            variance = max(float(sums["squares"]) / weight - difference**2, 0.0)
            if difference < -np.sqrt(variance / weight):
                break
            chosen = k
        return chosen, scores, fitted[chosen]

    def _fit_em(self, layout, source, total_weight, n_components, init_rows, rng,
                params=None):
        """EM with ``n_components`` over the encoded rows of ``source``.

        ``params`` are where EM starts: the chosen candidate's, when
        ``n_components='auto'`` refits on all rows; otherwise the init's,
        drawn from ``init_rows`` (encoded rows and their weights).
        """
        device = source.device
        source = source.resized(3 * source.width + 3 * n_components)
        if params is None:
            starts = (
                self._initial_parameters(layout, *init_rows, n_components, device, rng)
                for _ in range(self.n_init)
            )
        else:
            starts = [params]
        eps = np.finfo(np.float64).eps

        def e_step(params):
            family = layout.family(params, self.reg_covar, self.prior_strength)
            frame = family.frame(params, layout.shifts(device), torch.float64)
            stats, log_lik = source.map_reduce(em_pass, family, frame)
            if not bool(torch.isfinite(log_lik)):
                raise ValueError(
                    "The log-likelihood of the training rows is not finite: the "
                    "table has near-duplicate numeric values that a component "
                    "collapsed onto. Increase reg_covar or prior_strength."
                )
            return (family, frame, stats), float(log_lik) / total_weight

        def m_step(state):
            family, frame, stats = state
            return layout.parameters(family.m_step(frame, stats, eps),
                                     self.prior_strength, self.reg_covar)

        return self._em_from_starts(e_step, m_step, starts)

    def _initial_parameters(self, layout, Z, weights, n_components, device, rng):
        """One M-step from the nearest of k-means++ centres.

        The centres are drawn over the rows in lexicographic order with
        their weights (see ``_engine.init.weighted_order``), so that weights
        and copies of rows draw the same centres.
        """
        Z_rows = Z
        # A missing score starts at 0, the middle of the normal scores.
        Z = np.nan_to_num(Z, nan=0.0)
        labels = nearest_centre_labels(Z, weights, n_components, rng)
        source = TensorSource(as_tensor(np.ascontiguousarray(Z_rows), device),
                              as_tensor(weights, device))
        resp = torch.nn.functional.one_hot(
            torch.as_tensor(labels, device=device), n_components
        ).T.to(torch.float64)
        family = layout.family(None, self.reg_covar, self.prior_strength)
        frame = family.frame(
            layout.neutral_params(n_components, device), layout.shifts(device),
            torch.float64,
        )
        stats = stats_of_responsibilities(family, frame, source, resp)
        eps = np.finfo(np.float64).eps
        return layout.parameters(family.m_step(frame, stats, eps),
                                 self.prior_strength, self.reg_covar)

    def _normalised_chunks(self, layout, params, S):
        """``(log p(x), responsibilities (k, n))`` of each chunk, in order.

        ``S`` is a tensor of rows in the layout's scoring form (see
        ``Layout.scoring_matrix``).
        """
        gaps = bool(torch.isnan(S[:, : layout.n_continuous]).any())
        family = layout.scoring_family(params, gaps)
        frame = family.frame(
            layout.scoring_params(params), layout.scoring_shifts(S.device), S.dtype
        )
        width = S.shape[1] * 2 + 3 * params["weights"].shape[0]

        def one_chunk(chunk):
            return normalise_(family.log_prob(frame, family.whiten(frame, chunk[1])))

        return map_chunks(one_chunk, TensorSource(S, None, row_width=width), S.device)

    def _log_likelihood(self, layout, params, S):
        """Per-row log-likelihood of rows in scoring form, as numpy."""
        chunks = self._normalised_chunks(layout, params, S)
        return torch.cat([log_norm for log_norm, _ in chunks]).cpu().numpy()

    def _set_attributes(self, layout, params):
        self._layout = layout
        self.n_components_ = int(params["weights"].shape[0])
        self.weights_ = params["weights"].cpu().numpy()
        gaussian = layout.gaussian_params(params)
        if gaussian is None:
            self.means_ = np.zeros((self.n_components_, 0))
            self.variances_ = np.zeros((self.n_components_, 0))
        else:
            self.means_ = gaussian["means"].cpu().numpy()
            self.variances_ = gaussian["covariances"].cpu().numpy()
        log_proba = layout.categorical_log_proba(params)
        self.category_probas_ = []
        start = 0
        for size in layout.block_sizes:
            block = np.exp(log_proba[:, start : start + size].cpu().numpy())
            self.category_probas_.append(block)
            start += size

    def _params(self, device):
        """Engine parameters from the fitted attributes."""
        return self._layout.from_attributes(
            self.weights_, self.means_, self.variances_, self.category_probas_,
            device,
        )


def _row_source(Z, weights, device):
    """The in-memory source of encoded rows and their weights."""
    return TensorSource(as_tensor(np.ascontiguousarray(Z), device),
                        as_tensor(np.ascontiguousarray(weights), device),
                        row_width=3 * Z.shape[1] + 3)
