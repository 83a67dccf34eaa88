"""TabularMixture's draws: encoded rows, their gaps, and expectations.

A mixin of :class:`~skgen.mixture.TabularMixture`.
"""

import numpy as np
from scipy.special import roots_hermitenorm

from skgen.utils._missing import MissingnessModel

__all__ = ["TabularDraws"]

# Gauss-Hermite nodes of the components' means in the data's units (impute).
_QUADRATURE_NODES = 64
# Rounds of redrawing the sampled rows that meet a combination unseen in fit.
_REDRAWS = 20


class TabularDraws:
    """Drawing rows, gaps and expectations: the sampling half of TabularMixture."""

    def _fit_missingness(self, Z, missing, weights=None):
        """``missingness_`` from encoded rows Z and their (full) missing mask."""
        encoder = self.encoder_
        free = self._free_columns()
        missing = missing[:, free]
        self.missingness_ = None
        if not missing.any():
            return
        # each modelled column's own features in Z, left out of its model
        starts = np.cumsum([encoder.n_numeric_] + [c.size for c in encoder.categories_])
        own = []
        for f in range(len(free)):
            if f in encoder._numeric:
                own.append(np.array([encoder._numeric.index(f)]))
            else:
                i = encoder._categorical.index(f)
                own.append(starts[i] + np.arange(encoder.categories_[i].size))
        self.missingness_ = MissingnessModel().fit(Z, missing, own, weights)

    def _free_columns(self):
        relations = self.encoder_._relations
        return (np.arange(self.n_features_in_) if relations is None
                else np.asarray(relations.free))

    def _drawn_gaps(self, Z, rng):
        """The (full) missing mask of the drawn rows Z, or None (``sample_gaps``)."""
        model = getattr(self, "missingness_", None)
        if not self.sample_gaps or model is None:
            return None
        missing = np.zeros((Z.shape[0], self.n_features_in_), dtype=bool)
        missing[:, self._free_columns()] = model.draw(
            Z, rng.random((Z.shape[0], model.columns.size))
        )
        return missing

    def _seen_combinations(self, Z, weights, rng):
        """Z with the rows that meet a map's unseen combination of sources redrawn.

        The training table holds only the combinations it holds; a row
        still unseen after ``_REDRAWS`` rounds keeps the map's fallback.
        """
        relations = self.encoder_._relations
        if relations is None or all(r.fallback is None for r in relations.items):
            return Z
        for _ in range(_REDRAWS):
            unseen = self.encoder_._unseen_combinations(Z)
            if not unseen.any():
                break
            Z[unseen] = self._draw(
                rng.choice(weights.size, size=int(unseen.sum()), p=weights), rng)
        return Z

    def _draw(self, components, rng):
        """Encoded rows drawn from the given component of each row."""
        n_samples = components.size
        numeric = self.means_[components] + np.sqrt(
            self.variances_[components]
        ) * rng.standard_normal((n_samples, self.means_.shape[1]))
        blocks = [numeric]
        for probas in self.category_probas_:
            blocks.append(np.eye(probas.shape[1])[
                _inverse_cdf(probas[components], rng)
            ])
        return np.hstack(blocks)

    def _component_numeric_means(self):
        """Each component's mean of each numeric column, in the data's units.

        ``E_k[g(z)]``, with ``g`` the decoding of a score as :meth:`sample`
        decodes it, by Gauss-Hermite quadrature.
        """
        nodes, node_weights = roots_hermitenorm(_QUADRATURE_NODES)
        node_weights = node_weights / node_weights.sum()
        k, d = self.means_.shape
        if d == 0:
            return np.zeros((k, 0))
        scores = self.means_[:, None, :] + np.sqrt(self.variances_)[:, None, :] * (
            nodes[None, :, None]
        )
        values = self.encoder_.numeric_inverse(scores.reshape(-1, d))
        return (values.reshape(k, -1, d) * node_weights[None, :, None]).sum(1)


def _inverse_cdf(probas, rng):
    """One index per row of ``probas`` (n, m), drawn by its probabilities."""
    cumulative = np.cumsum(probas, axis=1)
    u = rng.uniform(size=(probas.shape[0], 1)) * cumulative[:, -1:]
    return np.minimum((cumulative < u).sum(1), probas.shape[1] - 1)
