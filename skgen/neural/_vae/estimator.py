"""The public VAE estimator: parameters, fit, scores, samples and imputation.

``VAE`` reads and checks the data (numeric arrays and tables, missing
entries), builds the skorch net of the base (``skgen.neural._base``) around
the module of ``networks.py`` (its arguments read off the data by
``data.py``) and the loss of ``training.py``, and answers from the fitted
module: ``score_samples`` through the importance-weighted estimate of
``scoring.py``, ``sample`` and ``transform`` through the module's own
methods, ``impute`` and ``sample_conditional`` through ``conditional.py``.
"""

import math
import time
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import (
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import check_array
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    check_is_fitted,
    validate_data,
)

from skgen.neural._base import (
    _ACTIVATIONS,
    BaseTorchEstimator,
    check_log_likelihoods,
)
from skgen.neural._vae.conditional import conditional_draws, conditional_mean
from skgen.neural._vae.data import module_kwargs
from skgen.neural._vae.networks import _observed
from skgen.neural._vae.scoring import importance_scores
from skgen.neural._vae.training import _NegativeELBO
from skgen.outlier._conventions import OutlierConventionsMixin
from skgen.preprocessing._table import TableEncoder, adopt_encoder
from skgen.preprocessing._table_input import (
    check_known_categories,
    check_table,
    is_table,
)
from skgen.utils._missing import (
    MissingnessModel,
    check_empty_rows,
    check_gaps,
    is_nan_marker,
    nan_marked,
)
from skgen.utils._torch import make_torch_generator

__all__ = ["VAE"]

# offset_ is the contamination percentile of the training scores: from a
# sample with this many rows below it (and this many rows at least), its
# coverage errs by well under a percentage point.
_OFFSET_TAIL_ROWS = 200
_OFFSET_MIN_ROWS = 2000
# support_fraction='auto' on numeric data: trimming a tenth of each batch
# keeps outliers in the training data from shaping the density.
_AUTO_SUPPORT_FRACTION = 0.9


class VAE(ClassNamePrefixFeaturesOutMixin, TransformerMixin, OutlierConventionsMixin,
          BaseTorchEstimator):
    """Variational autoencoder: a density, a generator and an embedding.

    A latent variable model ``z ~ N(0, I)``, ``x | z ~ p(x | z)`` with a
    neural decoder, fitted by maximising the evidence lower bound with a
    Gaussian encoder ``q(z | x)``, by default over the ``support_fraction``
    of each batch that it explains best. Once fitted it gives:

    * a **log-likelihood**: :meth:`score_samples` is an importance-weighted
      estimate of ``log p(x)`` in nats, in the units of the data, comparable
      with :meth:`GaussianMixture.score_samples <skgen.GaussianMixture.score_samples>`;
      for integer-valued features (counts, pixels; see ``dequantize``) a
      lower bound on the log-probability of their values;
    * **samples**: :meth:`sample` draws new rows;
    * an **embedding**: :meth:`transform` returns the posterior means of z and
      :meth:`inverse_transform` decodes latent points;
    * **anomaly labels**, following scikit-learn's outlier detectors:
      :meth:`decision_function` and :meth:`predict`.

    It takes numeric arrays, and tables: a pandas DataFrame with numeric,
    integer, boolean and categorical columns (see ``categorical_features``).
    On a table, the numeric columns are modelled as numeric features, and
    each categorical column by a categorical distribution given z (a
    softmax of decoder logits, one per level); the encoder reads the numeric
    columns and one-hot blocks of the categories. :meth:`score_samples` then
    estimates the log of the density of the continuous columns times the
    probability of the integer and categorical values, and :meth:`sample`
    returns a DataFrame with the training frame's columns, dtypes and
    category sets.

    Training runs through `skorch <https://skorch.readthedocs.io>`_, whose
    net is kept as ``net_``. The global random states of numpy, torch and
    Python are never touched.

    Read more in the :ref:`User Guide <vae>`.

    Parameters
    ----------
    latent_dim : int, default=8
        Dimension of the latent space.

    hidden_layer_sizes : array-like of int, default=(256, 256)
        Widths of the hidden layers of the encoder; the decoder uses them in
        reverse order. An empty tuple gives a linear model.

    activation : {'relu', 'tanh', 'elu', 'gelu', 'silu'}, default='elu'
        Activation of the hidden layers.

    likelihood : {'gaussian', 'bernoulli'}, default='gaussian'
        The decoder's distribution. 'gaussian': given z, each feature is a
        mixture of ``n_decoder_components`` normals whose weights, means and
        variances depend on z (a single normal with 1); the data are
        standardised internally and each variance is bounded below by 1e-3
        plus a learned floor per feature (in standardised units).
        'bernoulli': for data in [0, 1] (binary, or intensities used as
        probabilities); the data are not scaled.

    n_decoder_components : int, default=4
        Number of normals in the law of each feature given z, with
        ``likelihood='gaussian'`` (ignored with 'bernoulli'); 1 is the
        classic VAE with a normal decoder. More than one lets a feature be
        skewed, bounded or multimodal given z. A feature where one value
        holds at least 5% of the training rows (a point mass: zeros of
        counts, flags, clipped values; see ``point_mass_features_``) keeps
        one normal, since a mixture would put a spike of vanishing width on
        that value. See the User Guide.

    beta : float, default=1.0
        Weight of the KL term of the training loss (1 is the ELBO).

    max_epochs : int, default=500
        Maximum number of passes over the training data.

    batch_size : int, default=128
        Number of rows per gradient step.

    lr : float, default=1e-3
        Learning rate of the Adam optimiser. If training diverges (a
        non-finite loss; an epoch's mean loss above the loss before the
        first step by more than 1000 times that loss's magnitude; training
        scores at the end of the fit that are not finite, or as far below),
        fit raises a ValueError asking for a smaller lr.

    weight_decay : float, default=0.0
        L2 penalty of the Adam optimiser.

    early_stopping : bool, default=True
        Whether to hold out ``validation_fraction`` of the training data and
        stop when the validation loss has not improved by 1e-3 nats for
        ``n_iter_no_change`` epochs; the weights of the best epoch are kept.

    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping.

    n_iter_no_change : int, default=10
        Number of epochs without improvement before stopping. ``max_epochs``
        is then a cap: training ends ``n_iter_no_change`` epochs after the
        last improvement.

    n_importance_samples : int, default=128
        Largest number ``k`` of importance samples of :meth:`score_samples`
        per row. The estimate is a lower bound of ``log p(x)`` in
        expectation that tightens as ``k`` grows; its cost grows linearly
        with the draws a row uses (see ``importance_tol``). Read at fit
        time, when the draws are made.

    importance_tol : float, default=0.1
        When a row's estimate is close enough, in nats. Each row starts with
        16 of the fixed draws and doubles them, up to
        ``n_importance_samples``, while the estimated bias of its estimate,
        ``Var(w) / (2 k E[w]^2)`` over its ``k`` importance weights ``w``,
        exceeds ``importance_tol``. A tight bound (a good encoder) then
        costs a few forward passes, and a loose one gets more draws. A
        tenth of a nat per row is well below the differences between rows
        that rank outliers, and below the chance error that the fixed draws
        share across rows; a smaller value buys a tighter bound at up to
        ``n_importance_samples / 16`` times the cost. 0 uses all
        ``n_importance_samples`` draws for every row. A row's draws depend
        on that row alone, so its score does not depend on the other rows.

    contamination : float, default=0.1
        Expected share of outliers in the training data, in (0, 0.5]. It
        only sets ``offset_``, the threshold of :meth:`predict`, as in
        scikit-learn's outlier detectors: the fitted density, and so
        :meth:`score_samples`, does not depend on it.

    support_fraction : float in (0, 1] or 'auto', default='auto'
        Share of the rows of each batch that the training loss counts: the
        rows with the lowest loss (a trimmed likelihood), so that outliers
        in the training data do not shape the density. 1.0 trains on the
        plain ELBO of every row, the choice for a density of clean data,
        where trimming costs some likelihood. Trimming can leave values seen
        only in the trimmed rows with a very low likelihood. It is
        independent of ``contamination``.
        'auto' is 0.9 on numeric data and 1.0 on a table with categorical
        columns: there the rows a trimmed loss leaves out are those of the
        rare categories, which the samples would then all but lose.

    dequantize : 'auto' or bool, default='auto'
        How integer-valued features are modelled, with
        ``likelihood='gaussian'``. A continuous density on integers is not a
        probability: it can exceed 1 and grows without bound on a repeated
        value. A dequantised feature is modelled through ``x + u``, with
        ``u`` uniform on [0, 1): training adds fresh noise ``u`` to it at
        every batch, :meth:`score_samples` estimates the log-probability of
        its integer value (a lower bound in expectation, see the User Guide),
        and :meth:`sample` returns integers within the range of the
        training data.

        - 'auto': dequantise every feature whose training values are all
          integers (constant and binary features included);
        - True: dequantise every feature; raise a ValueError if one holds a
          non-integer value;
        - False: dequantise none, with a UserWarning if some feature is
          integer-valued.

        Ignored with ``likelihood='bernoulli'`` (True raises there). Data
        already dequantised (integers plus uniform noise, as in protocol
        P2) are continuous and are not affected. On a table it applies to
        the numeric columns.

    categorical_features : 'from_dtype', None, array-like of int, str or bool, \
            default='from_dtype'
        Which columns are categorical, as in
        :class:`~sklearn.ensemble.HistGradientBoostingClassifier`.
        'from_dtype': the columns of a DataFrame with a categorical, string,
        object or boolean dtype. Otherwise the indices, names or a boolean
        mask of the categorical columns (to treat integer codes as
        categories, say). When there are any, X goes through a
        :class:`~skgen.preprocessing.TableEncoder` kept as ``encoder_``; a
        column of another dtype (datetimes, ...) raises a TypeError naming
        it. None, or a numeric array or DataFrame under 'from_dtype', gives
        the numeric model. A category not seen in fit raises a ValueError
        at scoring time.

    missing_values : float, int, np.nan or None, default=np.nan
        The marker of a missing entry, as in scikit-learn's imputers. Every
        method takes rows with such entries (MIWAE, see the User Guide):
        training and :meth:`score_samples` use the likelihood of the
        observed entries, :meth:`impute` and :meth:`sample_conditional`
        fill the missing ones. With a marker other than NaN, a NaN in X
        raises. A table's missing entries may be NaN, None or ``pd.NA``.

    sample_gaps : bool, default=True
        Whether :meth:`sample` draws missing entries when the training rows
        had some: each column with gaps gets a logistic regression of its
        missing indicator on the row's other columns (``missingness_``), and
        a sampled row misses each entry with the chance its other entries
        give. False draws complete rows.

    empty_rows : {'error', 'prior'}, default='error'
        What :meth:`score_samples` (and so :meth:`score`,
        :meth:`decision_function` and :meth:`predict`) answer for a row with
        no observed entry. 'error' raises a ValueError naming the rows: the
        probability of observing nothing is 1 whatever the row, so its
        score would rank it as the most normal row of all. 'prior' scores
        such a row 0 (log 1). :meth:`impute` and :meth:`sample_conditional`
        always fill an empty row from the model's own law.

    device : str or torch.device, default='cpu'
        Where the model is trained and evaluated: ``'cpu'`` or ``'cuda'``.
        Outputs are numpy arrays whatever the device.

    random_state : int, RandomState instance or None, default=None
        Seeds the weights, the importance draws, the validation split, the
        batch order and the training noise through local generators, and the
        samples drawn by :meth:`sample` when it is not given its own.

    verbose : int, default=0
        0 prints nothing. 1 prints skorch's table of losses per epoch (no
        colour codes unless stdout is a terminal): with ``early_stopping``,
        ``valid_loss`` is the monitored criterion, ``best`` marks the epochs
        that improved it, and ``stop_by`` is the last epoch training will
        run unless it improves again; then a line for the scoring of the
        training rows that sets ``offset_``. 2 adds a progress bar per
        epoch.

    callbacks : list of skorch callbacks or None, default=None
        Extra :mod:`skorch.callbacks` (instances or ``(name, callback)``
        pairs), run after the built-in ones.

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained skorch net: its ``module_`` holds the encoder and
        decoder, ``history_`` the losses of every epoch.

    offset_ : float
        The ``contamination`` percentile of the training scores:
        ``decision_function = score_samples - offset_``. Past
        ``max(2000, 200 / contamination)`` training rows it is the
        percentile of a sample of that many rows, drawn from
        ``random_state``.

    n_iter_ : int
        Number of epochs run (over all calls of :meth:`fit` or
        :meth:`partial_fit` since the last :meth:`fit`).

    point_mass_features_ : ndarray of shape (`n_features_in_`,), dtype=bool
        Whether one value holds at least 5% of the first training data's
        rows in each feature (two rows at least) that is not dequantised
        (a dequantised value has no atom). With ``likelihood='gaussian'``
        and several decoder components, these features keep one normal.
        False for a table's categorical columns.

    dequantized_features_ : ndarray of shape (`n_features_in_`,), dtype=bool
        The features modelled as integers (see ``dequantize``), read off
        the first training data. False for a table's categorical columns.

    encoder_ : TableEncoder
        The fitted encoder of a table (only when X had categorical columns,
        see ``categorical_features``): numeric columns as they are, then a
        one-hot block per categorical column.

    n_features_in_ : int
        Number of features seen during :meth:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :meth:`fit`, when X has string column
        names.

    See Also
    --------
    skgen.GaussianMixture : A mixture density, fitted by EM.
    skgen.TabularMixture : A mixture density of tables, fitted by EM.
    sklearn.decomposition.PCA : A linear embedding without a likelihood.

    Notes
    -----
    The importance-weighted estimate is the bound of Burda, Grosse and
    Salakhutdinov (2016), *Importance Weighted Autoencoders*; the model and
    its training follow Kingma and Welling (2014), *Auto-Encoding Variational
    Bayes*.

    Examples
    --------
    >>> import numpy as np
    >>> from skgen import VAE
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3)) @ [[1.0, 0.5, 0.0], [0.0, 1.0, 0.5], [0, 0, 1]]
    >>> vae = VAE(latent_dim=2, max_epochs=5, random_state=0).fit(X)
    >>> vae.transform(X[:4]).shape
    (4, 2)
    >>> vae.score_samples(X[:4]).shape
    (4,)
    >>> vae.sample(5, random_state=0).shape
    (5, 3)

    Counts are integer-valued: they are modelled as discrete values.

    >>> counts = rng.poisson(3.0, size=(200, 2))
    >>> vae = VAE(latent_dim=1, max_epochs=5, random_state=0).fit(counts)
    >>> vae.dequantized_features_
    array([ True,  True])
    >>> drawn = vae.sample(5, random_state=0)
    >>> bool(np.all(drawn == np.floor(drawn)))
    True

    A table: categorical columns get a categorical likelihood, and the
    samples come back as a DataFrame.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"x": rng.normal(size=200), "n": rng.poisson(3.0, 200),
    ...                    "c": pd.Categorical(rng.choice(["a", "b"], 200))})
    >>> vae = VAE(latent_dim=2, max_epochs=5, random_state=0).fit(df)
    >>> drawn = vae.sample(3, random_state=0)
    >>> list(drawn.columns), bool((drawn.dtypes == df.dtypes).all())
    (['x', 'n', 'c'], True)
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # DataFrames with categorical columns (see categorical_features).
        tags.input_tags.categorical = True
        # Missing entries in fit, scores, impute and sample_conditional.
        tags.input_tags.allow_nan = True
        return tags

    _parameter_constraints: dict = {
        **BaseTorchEstimator._parameter_constraints,
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like"],
        "activation": [StrOptions(set(_ACTIVATIONS))],
        "likelihood": [StrOptions({"gaussian", "bernoulli"})],
        "n_decoder_components": [Interval(Integral, 1, None, closed="left")],
        "beta": [Interval(Real, 0.0, None, closed="left")],
        "n_importance_samples": [Interval(Integral, 1, None, closed="left")],
        "importance_tol": [Interval(Real, 0.0, None, closed="left")],
        "contamination": [Interval(Real, 0.0, 0.5, closed="right")],
        "support_fraction": [Interval(Real, 0.0, 1.0, closed="right"),
                             StrOptions({"auto"})],
        "dequantize": [StrOptions({"auto"}), "boolean"],
        "categorical_features": [StrOptions({"from_dtype"}), "array-like", None],
        "missing_values": [Real, None],
        "sample_gaps": ["boolean"],
        "empty_rows": [StrOptions({"error", "prior"})],
    }

    def __init__(
        self,
        latent_dim=8,
        *,
        hidden_layer_sizes=(256, 256),
        activation="elu",
        likelihood="gaussian",
        n_decoder_components=4,
        beta=1.0,
        max_epochs=500,
        batch_size=128,
        lr=1e-3,
        weight_decay=0.0,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=10,
        n_importance_samples=128,
        importance_tol=0.1,
        contamination=0.1,
        support_fraction="auto",
        dequantize="auto",
        categorical_features="from_dtype",
        missing_values=np.nan,
        sample_gaps=True,
        empty_rows="error",
        device="cpu",
        random_state=None,
        verbose=0,
        callbacks=None,
    ):
        self.latent_dim = latent_dim
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.likelihood = likelihood
        self.n_decoder_components = n_decoder_components
        self.beta = beta
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.n_importance_samples = n_importance_samples
        self.importance_tol = importance_tol
        self.contamination = contamination
        self.support_fraction = support_fraction
        self.dequantize = dequantize
        self.categorical_features = categorical_features
        self.missing_values = missing_values
        self.sample_gaps = sample_gaps
        self.empty_rows = empty_rows
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks

    # ------------------------------------------------------- net assembly

    def _module_kwargs(self, X, seed):
        return module_kwargs(self, X, seed)

    # ------------------------------------------------------------ tables

    def _block_sizes(self):
        """Levels of each categorical column of a table; () for numeric data."""
        if not hasattr(self, "encoder_"):
            return ()
        return tuple(int(levels.size) for levels in self.encoder_.categories_)

    def _numeric_columns(self):
        """The input column of each numeric feature, in the model's order.

        The table encoder puts continuous columns first, then integer and
        discrete ones.
        """
        if not hasattr(self, "encoder_"):
            return np.arange(self.n_features_in_)
        kinds = list(self.encoder_.kinds_)
        return np.asarray(
            [j for j, k in enumerate(kinds) if k == "continuous"]
            + [j for j, k in enumerate(kinds) if k in ("integer", "discrete")],
            dtype=np.intp,
        )

    def _per_column(self, mask):
        """A mask over the numeric features as a mask over the input columns."""
        if not hasattr(self, "encoder_"):
            return mask
        full = np.zeros(self.n_features_in_, dtype=bool)
        full[self._numeric_columns()] = mask
        return full

    def _training_matrix(self, X, first):
        """The validated training rows as a float matrix; fits the encoder first."""
        if not first:
            return self._inference_matrix(X)
        if is_table(X, self.categorical_features):
            # Unknown categories get an all-zero block, which
            # _inference_matrix turns into an error naming the column.
            encoder = TableEncoder(
                self.categorical_features, numeric_transform="identity",
                handle_unknown="ignore", allow_missing=True,
            )
            X = nan_marked(X, self.missing_values)
            Z = encoder.fit_transform(X)
            adopt_encoder(self, encoder)
            check_gaps(encoder.missing_mask(X), "the VAE")
            return Z
        if hasattr(self, "encoder_"):
            del self.encoder_
        X = validate_data(self, nan_marked(X, self.missing_values),
                          dtype=[np.float64, np.float32], ensure_min_samples=2,
                          ensure_all_finite="allow-nan")
        check_gaps(np.isnan(X), "the VAE")
        return X

    def _inference_matrix(self, X):
        """X validated against the fit, as the model's float matrix."""
        X = nan_marked(X, self.missing_values)
        if not hasattr(self, "encoder_"):
            return validate_data(self, X, dtype=[np.float64, np.float32], reset=False,
                                 ensure_all_finite="allow-nan")
        X = check_table(self, X, ensure_all_finite="allow-nan")
        Z = self.encoder_.transform(X)
        if np.isinf(Z[:, :self.encoder_.n_numeric_]).any():
            raise ValueError(
                "Input X contains infinity. Replace it with a finite value, or "
                "with NaN to mark the entry as missing."
            )
        check_known_categories(
            self, X, "The VAE gives them no probability; fit on data that has "
            "them, or map them to a seen category.")
        return Z

    def _support_fraction(self):
        """``support_fraction``, with 'auto' resolved for the data fitted."""
        if self.support_fraction != "auto":
            return self.support_fraction
        # The rows a trimmed loss leaves out are those of rare categories.
        return 1.0 if self._block_sizes() else _AUTO_SUPPORT_FRACTION

    def _criterion_kwargs(self):
        return {"criterion": _NegativeELBO, "criterion__beta": self.beta,
                "criterion__support_fraction": self._support_fraction()}

    def _check_training_input(self, X):
        low, high = np.fmin.reduce(X, axis=None), np.fmax.reduce(X, axis=None)
        if self.likelihood == "bernoulli" and X.size and (low < 0 or high > 1):
            raise ValueError(
                "likelihood='bernoulli' needs data in [0, 1], but X has values in "
                f"[{low:.4g}, {high:.4g}]. Scale the data (for instance with "
                "sklearn.preprocessing.MinMaxScaler) or use likelihood='gaussian'."
            )

    # ---------------------------------------------------------------- fit

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the VAE to X, from a fresh initialisation.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training data (at least 2 rows); a table with categorical
            columns is encoded first (see ``categorical_features``).
            Missing entries (``missing_values``) are left out of each row's
            likelihood; a row or a column with no observed entry raises.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X = self._training_matrix(X, first=True)
        self._fit_net(X, partial=False)
        self._set_offset(self._checked_training_scores(X))
        self._fit_missingness(X)
        return self

    def _fit_missingness(self, X):
        """``missingness_``: each gap column's chance of a gap given the others."""
        missing = self._missing_entries(X)
        self.missingness_ = None
        if missing.any():
            sizes = self._block_sizes()
            n_numeric = X.shape[1] - sum(sizes)
            ends = np.cumsum([n_numeric, *sizes])
            own = [np.array([i]) for i in range(n_numeric)] + [
                np.arange(end - size, end) for size, end in zip(sizes, ends[1:],
                                                                strict=True)
            ]
            self.missingness_ = MissingnessModel().fit(X, missing, own)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Train for one more epoch on X, without early stopping.

        The first call on an unfitted estimator initialises the model (and,
        with the Gaussian likelihood, fits the standardisation to this
        batch). ``offset_`` is recomputed from the scores of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The estimator, trained one more epoch.
        """
        first = not hasattr(self, "net_")
        X = self._training_matrix(X, first=first)
        self._fit_net(X, partial=True)
        self._set_offset(self._checked_training_scores(X))
        if first:
            self._fit_missingness(X)
        return self

    def _checked_training_scores(self, X):
        """Scores of (a sample of) the training rows, checked for divergence.

        ``offset_`` is a percentile of these scores and the divergence check
        a median: a sample of ``_offset_rows()`` rows, drawn from the fit's
        seed, estimates both as well as all rows, at a fraction of the cost
        of scoring a large training set.
        """
        n_rows = self._offset_rows()
        if n_rows < len(X):
            rng = np.random.default_rng([self._seed, self._n_fit_calls, 1])
            X = X[np.sort(rng.choice(len(X), n_rows, replace=False))]
        if self.verbose:
            print(f"Scoring {len(X)} training rows for offset_ ...", end="",
                  flush=True)
        start = time.perf_counter()
        with self._threads():
            scores, n_draws = self._importance_scores(X)
        if self.verbose:
            print(f" {time.perf_counter() - start:.2f} s, {n_draws.mean():.1f} "
                  f"importance draws per row on average (at most "
                  f"{len(self.net_.module_.eps)}).", flush=True)
        # The training loss is in standardised units: undo the Jacobian (of
        # each row's observed features).
        log_scale = np.log(self.net_.module_.scale.double().cpu().numpy())
        log_jacobian = np.where(np.isnan(X), 0.0, log_scale).sum(1)
        check_log_likelihoods(scores + log_jacobian, self.net_)
        return scores

    def _offset_rows(self):
        """Training rows scored for ``offset_``: ``_OFFSET_TAIL_ROWS`` in its tail."""
        return max(_OFFSET_MIN_ROWS,
                   math.ceil(_OFFSET_TAIL_ROWS / self.contamination))

    # --------------------------------------------------------- inference

    def _score_samples(self, X):
        with self._threads():
            return self._importance_scores(X)[0]

    def _importance_scores(self, X):
        """Importance-weighted scores of X and the draws each row used.

        See :func:`~skgen.neural._vae.scoring.importance_scores`.
        """
        return importance_scores(self.net_.module_, X, self.importance_tol,
                                 self._chunk_rows)

    def score_samples(self, X):
        """Log-likelihood of each sample, an importance-weighted estimate.

        Deterministic: the importance draws (and the offsets that dequantise
        integer features) are fixed at fit time, and each row uses as many
        of them as its own weights ask for (see ``importance_tol``), so a
        row's score does not depend on the other rows or on the call.

        For the features in ``dequantized_features_`` the score is of the
        probability of their integer values, ``log P(x)``: the log of the
        model's density of ``x + u`` integrated over the unit cell
        ``u in [0, 1)``, estimated by importance sampling with ``u`` as an
        extra latent variable. Like the rest of the estimate it is a lower
        bound in expectation. A non-integer value ``x`` of such a feature is
        scored as the cell ``[x, x + 1)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples to score; a row with missing entries is scored on
            its observed ones.

        Returns
        -------
        log_prob : ndarray of shape (n_samples,)
            Estimated ``log p(x)`` of each row, in nats: the log of the
            probability of the dequantised features' values (and of a
            table's categories) times the density of the other features, in
            the units of X. For a row with missing entries, the estimate of
            ``log p(x_obs)``, the marginal of its observed entries (see
            ``empty_rows`` for a row with none).
        """
        check_is_fitted(self)
        Z = self._inference_matrix(X)
        check_empty_rows(self._missing_entries(Z), self.empty_rows)
        return self._score_samples(Z)

    def _missing_entries(self, Z):
        """The (n_samples, n_columns) mask of the missing entries of a matrix.

        A numeric entry is missing when NaN, a categorical one when its
        one-hot block is all zeros.
        """
        sizes = self._block_sizes()
        start = Z.shape[1] - sum(sizes)
        missing = [np.isnan(Z[:, :start])]
        for size in sizes:
            missing.append(Z[:, start : start + size].sum(1, keepdims=True) == 0)
            start += size
        return np.hstack(missing)

    def score(self, X, y=None):
        """Mean log-likelihood of the samples of X (higher is better).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples to score.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        log_likelihood : float
            Mean of :meth:`score_samples` over X, in nats per row.
        """
        return float(np.mean(self.score_samples(X)))

    def transform(self, X):
        """Posterior mean of the latent variable of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        Z : ndarray of shape (n_samples, latent_dim)
            ``E[z | x]`` under the encoder; a dequantised feature is given
            at the centre of its cell, ``x + 1/2``. For a row with missing
            entries, ``E[z | x_obs]``: the encoder reads them as zeros in
            its standardised units, as in training.
        """
        check_is_fitted(self)
        return self._latent_means(self._inference_matrix(X))

    def _latent_means(self, X):
        """``E[z | x_obs]`` of the rows of the model's matrix X."""
        module = self._inference_module()
        with torch.no_grad():
            X = self._as_inference_tensor(X)
            mu, _ = module.encode(module.centre(X), _observed(X))
        return mu.cpu().numpy()

    def inverse_transform(self, X):
        """Decode latent points into the mean of x given z.

        Parameters
        ----------
        X : array-like of shape (n_samples, latent_dim)
            Points of the latent space.

        Returns
        -------
        X_original : ndarray or DataFrame of shape (n_samples, ``n_features_in_``)
            ``E[x | z]`` in the units of the training data; for a
            dequantised feature, the mean of ``x + u`` less 1/2, the mean of
            the offset ``u``. When fitted on a table, a DataFrame like it:
            integers rounded from their mean, and each categorical column at
            its most probable level given z.
        """
        check_is_fitted(self)
        latent_dim = self.net_.module_.latent_dim
        Z = check_array(X, dtype=np.float64)
        if Z.shape[1] != latent_dim:
            raise ValueError(
                f"X has {Z.shape[1]} features, but VAE.inverse_transform is "
                f"expecting {latent_dim} features (latent_dim) as input."
            )
        module = self._inference_module()
        with torch.no_grad():
            mean = module.decode_mean(self._as_inference_tensor(Z)).cpu().numpy()
        if not hasattr(self, "encoder_"):
            return mean
        # The encoder reads an integer as its cell [v, v + 1): round the
        # means of integer features to the nearest value first.
        n_numeric = module.n_numeric
        integer = module.dequantized[:n_numeric].cpu().numpy()
        mean[:, :n_numeric] = np.where(integer, np.round(mean[:, :n_numeric]),
                                       mean[:, :n_numeric])
        return self.encoder_.inverse_transform(mean)

    def sample(self, n_samples=1, *, random_state=None):
        """Draw new samples from the fitted model.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples to generate.

        random_state : int, RandomState instance or None, default=None
            Randomness of this call. With None the estimator's
            ``random_state`` is used, as in scikit-learn: an integer then
            gives the same samples at every call.

        Returns
        -------
        X : ndarray or DataFrame of shape (n_samples, ``n_features_in_``)
            Rows drawn from ``p(z) p(x | z)``, in the units of the data.
            Dequantised features hold integers: the cell ``[k, k + 1)`` of
            the draw, clipped to the range of the training data. When fitted
            on a table, a DataFrame like it (``encoder_.inverse_transform``):
            each categorical column holds a level drawn from its categorical
            distribution given z, and continuous columns are clipped to
            their training range.
        """
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(
                f"Invalid value for 'n_samples': {n_samples!r}. The sampling "
                "requires at least one sample (an integer >= 1)."
            )
        module = self._inference_module()
        generator = make_torch_generator(
            self.random_state if random_state is None else random_state,
            self.net_.device,
        )
        with torch.no_grad():
            z = self._latent(module, n_samples, generator)
            X = module.draw(z, generator).cpu().numpy()
            missing = self._drawn_gaps(X, generator)
        if hasattr(self, "encoder_"):
            if missing is not None:  # the encoder's order: numbers, categories
                order = self.encoder_._numeric + self.encoder_._categorical
                missing = missing[:, np.argsort(order)]
            return self.encoder_.inverse_transform(X, missing, self.missing_values)
        if missing is not None:
            X[missing] = np.nan if is_nan_marker(self.missing_values) else (
                self.missing_values)
        return X

    def _drawn_gaps(self, X, generator):
        """The gaps of the drawn rows X, or None (see ``sample_gaps``)."""
        model = getattr(self, "missingness_", None)
        if not self.sample_gaps or model is None:
            return None
        uniform = torch.rand((X.shape[0], model.columns.size), generator=generator,
                             device=generator.device, dtype=torch.float64)
        return model.draw(X, uniform.cpu().numpy())

    # ---------------------------------------------------- missing values

    def impute(self, X):
        """Fill the missing entries of X with their conditional mean.

        The MIWAE single imputation: over the ``n_importance_samples``
        fixed draws ``z_j`` from the encoder given the observed entries,
        ``E[x_miss | x_obs] ~ sum_j w_j E[x_miss | z_j]``, with the
        self-normalised importance weights ``w_j`` proportional to
        ``p(x_obs | z_j) p(z_j) / q(z_j | x_obs)``. Deterministic, as
        :meth:`score_samples` is. A row with no observed entry gets the
        model's mean.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Rows with ``missing_values`` (NaN by default) where an entry is
            unknown; a table's missing entries may be NaN, None or ``pd.NA``.

        Returns
        -------
        X_filled : ndarray or DataFrame of shape (n_samples, n_features)
            A float64 copy of X whose missing entries are replaced by their
            conditional mean; observed entries are unchanged. When fitted on
            a table, a DataFrame like X: a missing category gets its most
            probable level under the weighted posterior, a missing integer
            its rounded mean.

        Examples
        --------
        >>> import numpy as np
        >>> from skgen import VAE
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(200, 3))
        >>> X[rng.random(X.shape) < 0.2] = np.nan
        >>> X = X[~np.isnan(X).all(axis=1)]
        >>> vae = VAE(latent_dim=2, max_epochs=5, random_state=0).fit(X)
        >>> filled = vae.impute([[0.5, np.nan, -1.0]])
        >>> filled[0, [0, 2]], bool(np.isfinite(filled).all())
        (array([ 0.5, -1. ]), True)
        """
        check_is_fitted(self)
        return conditional_mean(self, X)

    def sample_conditional(self, X, n_samples=1, *, random_state=None):
        """Draw the missing entries of each row given its observed ones.

        Sampling-importance-resampling over the posterior: for each draw,
        ``n_importance_samples`` fresh latents ``z_j`` are drawn from the
        encoder given the observed entries and weighted by ``p(x_obs | z_j)
        p(z_j) / q(z_j | x_obs)``; one of them is resampled with these
        weights, and the missing entries are drawn from the decoder's
        ``p(x_miss | z)``. The draws approach ``p(x_miss | x_obs)`` as the
        number of importance samples grows. Draws are independent across
        rows and across the ``n_samples`` repetitions.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_rows, n_features)
            Rows with ``missing_values`` (NaN by default) where an entry is
            to be drawn.

        n_samples : int, default=1
            Number of draws per row.

        random_state : int, RandomState instance or None, default=None
            Randomness of this call, through a private torch generator; with
            None the estimator's ``random_state`` is used, as in
            :meth:`sample`.

        Returns
        -------
        X_drawn : ndarray of shape (n_samples, n_rows, n_features) or DataFrame
            ``X_drawn[i]`` is X, in float64, with its missing entries
            replaced by the i-th draw; observed entries are unchanged.
            When fitted on a table, the ``n_samples`` filled copies of X
            stacked under a first index level ``"draw"``, as
            :meth:`TabularMixture.sample_conditional
            <skgen.TabularMixture.sample_conditional>` gives them.

        Examples
        --------
        >>> import numpy as np
        >>> from skgen import VAE
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(200, 3))
        >>> X[rng.random(X.shape) < 0.2] = np.nan
        >>> X = X[~np.isnan(X).all(axis=1)]
        >>> vae = VAE(latent_dim=2, max_epochs=5, random_state=0).fit(X)
        >>> vae.sample_conditional([[0.5, np.nan, -1.0]], n_samples=10,
        ...                        random_state=0).shape
        (10, 1, 3)
        """
        check_is_fitted(self)
        if (not isinstance(n_samples, Integral) or isinstance(n_samples, bool)
                or n_samples < 1):
            raise ValueError(
                f"Invalid value for 'n_samples': {n_samples!r}. Give the number "
                "of draws per row, an integer >= 1."
            )
        return conditional_draws(self, X, n_samples, random_state)

    # ------------------------------------------------------- attributes

    @property
    def _n_features_out(self):
        """Number of features out of :meth:`transform`, for feature names."""
        return self.net_.module_.latent_dim
