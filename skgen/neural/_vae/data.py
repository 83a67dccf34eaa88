"""What the VAE's network is built from: the features' kinds read off the data.

Integer-valued features are dequantised, point masses get one normal, and
the Gaussian likelihood's features are standardised with the moments of the
training rows (of ``x + u`` for a dequantised feature).
"""

import warnings

import numpy as np
from sklearn.preprocessing import StandardScaler

from skgen.neural._vae.networks import _VAEModule

__all__ = ["dequantized_features", "integer_valued", "module_kwargs", "point_masses"]

# A feature has a point mass when one value holds at least this share of the
# training rows (and two rows at least): zeros of counts and pixels, flags,
# clipped or coarsely rounded values. A continuous density has no finite
# maximum likelihood there: a mixture gives one component the atom and
# shrinks its variance to the floor, and the spike then outweighs every
# other feature in the score. Such features keep one normal, which must also
# cover the feature's other values.
_POINT_MASS_SHARE = 0.05


def point_masses(X):
    """Boolean mask of the columns of ``X`` where one value holds a point mass.

    Among the observed (not NaN) values of each column.
    """
    min_count = max(2, _POINT_MASS_SHARE * len(X))
    return np.array([
        np.unique(column[~np.isnan(column)], return_counts=True)[1].max(initial=0)
        >= min_count for column in X.T], dtype=bool)


def integer_valued(X):
    """Boolean mask of the columns of ``X`` whose observed values are integers."""
    return np.all((X == np.floor(X)) | np.isnan(X), axis=0)


def module_kwargs(vae, X, seed):
    """The skorch ``module__*`` arguments of the VAE's network for rows X."""
    sizes = np.asarray(vae.hidden_layer_sizes).ravel()
    if sizes.size and (
        not np.issubdtype(sizes.dtype, np.integer) or np.any(sizes < 1)
    ):
        raise ValueError(
            "hidden_layer_sizes must be a sequence of positive integers, got "
            f"{vae.hidden_layer_sizes!r}."
        )
    block_sizes = vae._block_sizes()
    # The numeric features come first; a table's one-hot blocks follow.
    n_features = X.shape[1] - sum(block_sizes)
    X = X[:, :n_features]
    # Read off the data that build the net, as the standardisation is.
    dequantized = dequantized_features(vae, X)
    # A dequantised feature is continuous: its atoms became unit cells.
    masses = point_masses(X) & ~dequantized
    vae.dequantized_features_ = vae._per_column(dequantized)
    vae.point_mass_features_ = vae._per_column(masses)
    if vae.likelihood == "gaussian" and n_features:
        scaler = StandardScaler().fit(X)
        loc, scale = scaler.mean_, scaler.scale_
        # The moments of x + u, u ~ U[0, 1) independent of x.
        loc = np.where(dequantized, loc + 0.5, loc)
        scale = np.where(dequantized, np.sqrt(scaler.var_ + 1 / 12), scale)
    else:
        loc, scale = np.zeros(n_features), np.ones(n_features)
    return {
        "module": _VAEModule,
        "module__n_features": n_features,
        "module__latent_dim": vae.latent_dim,
        "module__hidden_layer_sizes": tuple(int(s) for s in sizes),
        "module__activation": vae.activation,
        "module__likelihood": vae.likelihood,
        "module__n_components": (
            vae.n_decoder_components if vae.likelihood == "gaussian" else 1
        ),
        "module__n_importance_samples": vae.n_importance_samples,
        "module__loc": loc,
        "module__scale": scale,
        "module__seed": seed,
        "module__point_masses": masses,
        "module__dequantized": dequantized,
        "module__low": np.fmin.reduce(X, axis=0, initial=np.inf),
        "module__high": np.fmax.reduce(X, axis=0, initial=-np.inf),
        "module__block_sizes": block_sizes,
    }


def dequantized_features(vae, X):
    """The mask of the numeric features to dequantise, per ``dequantize``."""
    """The mask of the numeric features to dequantise, per ``dequantize``."""
    integer = integer_valued(X)
    names = getattr(vae, "feature_names_in_", None)
    if names is not None:
        names = names[vae._numeric_columns()]
    # 'auto', True or False (a numpy bool counts as a bool).
    mode = vae.dequantize if isinstance(vae.dequantize, str) else bool(
        vae.dequantize)

    def listed(mask):
        index = np.flatnonzero(mask)
        shown = vae._numeric_columns()[index] if names is None else names[index]
        text = ", ".join(str(name) for name in shown[:10])
        return text + (f" and {len(index) - 10} more" if len(index) > 10 else "")

    if vae.likelihood != "gaussian":
        if mode is True:
            raise ValueError(
                "dequantize=True needs likelihood='gaussian'; with "
                "likelihood='bernoulli' the features are already discrete. "
                "Use dequantize='auto' or False."
            )
        return np.zeros(X.shape[1], dtype=bool)
    if mode is True and not integer.all():
        raise ValueError(
            "dequantize=True needs integer-valued features, but features "
            f"{listed(~integer)} of X hold non-integer values. Use "
            "dequantize='auto' to dequantise only the integer-valued features."
        )
    if mode is False:
        if integer.any():
            warnings.warn(
                f"Features {listed(integer)} of X are integer-valued, and "
                "dequantize=False fits a continuous density to them: its "
                "values at the integers are not probabilities, and can grow "
                "without bound on repeated values. Use dequantize='auto' to "
                "score them as discrete values.",
                UserWarning,
                stacklevel=2,
            )
        return np.zeros(X.shape[1], dtype=bool)
    return integer
