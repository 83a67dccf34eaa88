"""``TabularMixture.partial_fit``: stepwise EM over a stream of table batches.

The first batch (or :meth:`fit`) fixes the table encoder: the columns'
kinds, levels, numeric maps and relations; later batches are encoded with
it.  The running statistics are the engine's product-family sums per unit
of weight, the feature-map sums ``phi R^T`` of
``MaskedDiagonalGaussianFamily`` and ``CategoricalFamily``, which do not
depend on the parameters, so batches blend them linearly (stepwise EM,
as in ``GaussianMixture.partial_fit``).  The M-step runs on them scaled to
the weight seen so far, so that ``prior_strength`` counts as many
pseudo-rows as in a fit on all those rows.
"""

import copy

import numpy as np
import torch
from sklearn.base import _fit_context
from sklearn.utils import check_random_state
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from skgen.mixture._base import FitData, restored_on_failure
from skgen.mixture._engine.passes import em_pass
from skgen.mixture._engine.sources import TensorSource
from skgen.mixture._table_layout import Layout, layout_sums
from skgen.preprocessing._table_input import check_known_categories, check_table
from skgen.utils._dask import is_dask_collection
from skgen.utils._missing import check_empty_rows, check_gaps, nan_marked
from skgen.utils._threads import torch_work
from skgen.utils._torch import as_tensor, resolve_device

__all__ = ["StreamingTables"]


class StreamingTables:
    """``partial_fit`` and the stepwise-EM hooks of ``TabularMixture``."""

    @_fit_context(prefer_skip_nested_validation=True)
    @torch_work
    def partial_fit(self, X, y=None, sample_weight=None):
        """Update the mixture with one batch of rows, by stepwise (online) EM.

        For tables that arrive in batches and cannot be read twice. The
        first call on an unfitted model learns the table's encoding from
        its batch (the columns' kinds, levels and numeric maps, the
        relations, and the model of the gaps that :meth:`sample` draws) and
        starts the components from it; that batch needs at least
        ``n_components`` rows. With ``n_components='auto'`` the first batch
        is fitted by :meth:`fit`, which chooses the number of components on
        held-out rows of that batch, and counts as the stream's first step.
        A call on a model fitted by :meth:`fit` continues from its
        parameters and encoding. Each batch's statistics under the current
        parameters (one E-step) are blended into running ones with the step
        size ``(t + 2) ** -0.6`` of batch ``t``, and the parameters are
        their M-step, as in :meth:`GaussianMixture.partial_fit
        <skgen.GaussianMixture.partial_fit>`.

        Later batches must have the same columns and no level that the
        encoding has not seen; a row that breaks a relation found on the
        first batch, or has nothing observed, raises. When the table can be
        read twice, :meth:`fit` (on a Dask DataFrame if it does not fit in
        memory) runs exact EM to convergence and sees every level.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            One batch, with missing entries as in :meth:`fit`.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the batch's rows.

        Returns
        -------
        self : TabularMixture
            The updated mixture. ``n_iter_`` counts the batches since the
            model was initialised or fitted, ``lower_bound_`` is the mean
            log-likelihood of the last batch under the parameters before
            its update, ``lower_bounds_`` those of every batch, and
            ``converged_`` is False.
        """
        if is_dask_collection(X):
            raise TypeError(
                "partial_fit takes one batch in memory. Pass the partitions "
                "of a Dask DataFrame one at a time (for part in "
                "X.partitions: model.partial_fit(part.compute())), or fit "
                "on the whole Dask DataFrame with fit."
            )
        first = not hasattr(self, "converged_")
        if first and self.n_components == "auto":
            self.fit(X, sample_weight=sample_weight)
            # the fit is the stream's first step
            device = resolve_device(self.device)
            moments = self._moments_of(self._params(device))
            self._stream_state = {"step": 1, "moments": {
                name: value.cpu().numpy() for name, value in moments.items()}}
            self.converged_, self.n_iter_ = False, 1
            self.lower_bounds_ = [self.lower_bound_]
            return self
        with restored_on_failure(self):
            data, missing = self._batch_data(X, sample_weight, first)
            self._stepwise_update(data, first)
        if first:  # the gap model of sample() comes from the first batch
            Z, weights = data.init_rows
            self._fit_missingness(Z, missing, weights)
        return self

    def _batch_data(self, X, sample_weight, first):
        """:class:`FitData` of one batch and its missing mask.

        A first batch fits the encoder and the layout.
        """
        if first:
            encoder = self._new_encoder(check_random_state(self.random_state))
            X = nan_marked(X, self.missing_values)
            Z = encoder.fit_transform_dequantized(X, sample_weight)
            check_gaps(encoder.missing_mask(X), "TabularMixture")
            self._adopt(encoder)
            self.validation_scores_ = {}
            self._total_weight = 0.0
        else:
            check_is_fitted(self)
            X = check_table(self, nan_marked(X, self.missing_values))
            encoder = self.encoder_
            check_empty_rows(encoder.missing_mask(X), "error")
            check_known_categories(
                self, X, "partial_fit learns the levels of the first batch (or "
                "of fit): fit on data that has every level, or map the new ones "
                "to a known level.")
            rows, broken = encoder.broken_relations(X)
            if rows.size:
                raise ValueError(
                    f"{rows.size} row(s) of the batch break a relation found in "
                    f"the first batch: row {rows[0]} breaks {broken[0]}. Fit with "
                    "relations=None if the relation does not hold in the data."
                )
            # each batch its own dequantization draws, from the encoder's seed
            seed = np.random.SeedSequence([encoder.random_state, self.n_iter_])
            columns = encoder._columns(X, reset=False)
            Z = encoder._encode(columns, encoder._labels(X, len(columns)),
                                dequantize=np.random.RandomState(seed.generate_state(1)))
        weights = _check_sample_weight(sample_weight, Z, dtype=np.float64,
                                       ensure_non_negative=True)
        needed = self.n_components if first else 1
        n_components = self.n_components if first else self.n_components_
        if np.count_nonzero(weights) < max(needed, 1):
            raise ValueError(
                f"This batch has {np.count_nonzero(weights)} row(s) of positive "
                f"weight; partial_fit needs at least {needed} "
                + ("(n_components) in the first batch." if first else "in each batch.")
            )
        if first:
            layout = Layout(encoder, layout_sums(Z, weights, encoder.n_numeric_))
        else:
            layout = copy.copy(self._layout)
        # Batches may have gaps where the first had none: the masked family
        # takes both, and its statistics are plain sums.
        layout.gaps = True
        self._layout = layout
        device = resolve_device(self.device)
        keep = np.flatnonzero(weights > 0)
        source = TensorSource(as_tensor(np.ascontiguousarray(Z[keep]), device),
                              as_tensor(weights[keep], device),
                              row_width=3 * Z.shape[1] + 3 * n_components + 3)
        data = FitData(
            source=source, dtype=np.float64, device=device, shift=None,
            spread=np.inf, total_weight=float(weights.sum()), inits=None,
            init_rows=(Z[keep], weights[keep]), gaps=True,
        )
        return data, encoder.missing_mask(X)[keep]

    def _family_and_frame(self, params):
        layout = self._layout
        family = layout.family(params, self.reg_covar, self.prior_strength)
        device = params["weights"].device
        return family, family.frame(params, layout.shifts(device), torch.float64)

    # Stepwise EM's hooks (see BaseMixture._stepwise_update).

    def _stream_start(self, data, first):
        if first:
            Z, weights = data.init_rows
            return self._initial_parameters(
                self._layout, Z, weights, self.n_components, data.device,
                check_random_state(self.random_state),
            )
        return self._params(data.device)

    def _moments_of(self, params):
        """The statistics per unit of weight that ``params`` would give."""
        w = params["weights"]
        layout, blocks = self._layout, []
        if layout.n_numeric:
            gaussian = layout.gaussian_params(params)
            means = gaussian["means"]
            variances = gaussian["covariances"] - self.reg_covar
            blocks += [w[:, None] * (variances + means**2), w[:, None] * means,
                       w[:, None].expand_as(means)]
        if layout.n_levels:
            blocks.append(w[:, None] * torch.exp(layout.categorical_log_proba(params)))
        blocks.append(w[:, None])
        return {"phi": torch.cat(blocks, dim=1).T.contiguous()}

    def _batch_moments(self, params, data):
        family, frame = self._family_and_frame(params)
        stats, log_lik = data.source.map_reduce(em_pass, family, frame)
        if not bool(torch.isfinite(log_lik)):
            raise ValueError(
                "The log-likelihood of the batch is not finite: a component "
                "collapsed onto near-duplicate numeric values. Increase "
                "reg_covar or prior_strength."
            )
        return {"phi": stats["phi"] / data.total_weight}, log_lik

    def _blend_moments(self, moments, batch, eta):
        return {"phi": (1.0 - eta) * moments["phi"] + eta * batch["phi"]}

    def _store_moments(self, moments, data):
        self._total_weight += data.total_weight
        # the frame only sets the parts' widths: the M-step reads the sums
        family, frame = self._family_and_frame(
            self._layout.neutral_params(moments["phi"].shape[1], data.device))
        scaled = {"phi": moments["phi"] * self._total_weight}
        eps = np.finfo(np.float64).eps
        self._set_attributes(self._layout, self._layout.parameters(
            family.m_step(frame, scaled, eps), self.prior_strength, self.reg_covar))
