"""A mixture model for mixed-type tables, fitted by EM on skgen's engine."""

import math
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_n_features,
    _check_sample_weight,
    check_array,
    check_is_fitted,
)

from skgen.mixture._base import BaseMixture
from skgen.mixture._split import paired_sums, split_weights
from skgen.mixture._table_conditions import sample_given
from skgen.mixture._table_layout import Layout, layout_sums
from skgen.mixture._tabular_draws import TabularDraws, _inverse_cdf
from skgen.mixture._tabular_em import TabularEM, _row_source
from skgen.mixture._tabular_stream import StreamingTables
from skgen.preprocessing import TableEncoder
from skgen.preprocessing._table import adopt_encoder
from skgen.preprocessing._table_input import check_known_categories, check_table
from skgen.utils._dask import is_dask_collection
from skgen.utils._missing import (
    check_empty_rows,
    check_gaps,
    fill_missing,
    nan_marked,
)
from skgen.utils._threads import torch_work
from skgen.utils._torch import as_tensor, resolve_device

__all__ = ["TabularMixture"]

# The candidates of n_components="auto" are fitted on about this many rows
# at most (a hash-chosen share of the rows not held out).
_SELECTION_ROWS = 50_000


class TabularMixture(StreamingTables, TabularEM, TabularDraws, BaseMixture):
    """Mixture model for tables of numbers, integers, booleans and categories.

    Each component treats the columns as independent: a normal for each
    numeric column, after a per-column map to normal scores, and a
    categorical distribution for each categorical column.  The mixture
    models the dependence between columns.  It is fitted by EM in closed form
    over sufficient statistics (sums of the numeric scores, their squares
    and counts of each category), on the same chunked engine as
    :class:`GaussianMixture`, so that hundreds of components stay cheap.

    :meth:`score_samples` is a log-density in the units of the data: nats
    for the continuous columns (the log-Jacobian of the column maps is
    added), plus the log-probabilities of the integer and categorical
    values.  :meth:`sample` returns a table like the training one: a
    DataFrame with the same columns, dtypes and category sets when fitted on
    one, integers within the observed range.

    Read more in the :ref:`User Guide <tabular>`.

    Parameters
    ----------
    n_components : int or 'auto', default='auto'
        Number of components. ``'auto'`` holds out ``validation_fraction``
        of the distinct rows and fits 1, 2, 4, ... components on the rest
        (at most one per eight rows of training weight) while the held-out
        log-likelihood stays within one standard error of the best so far;
        the largest of these is refitted on all rows, EM starting from its
        fit. Differences within the standard error are noise of the split,
        and more components keep more of the table's detail in the samples.
        The validation scores are in ``validation_scores_``.

    categorical_features : 'from_dtype', None or array-like, default='from_dtype'
        Which columns are categorical, as in
        :class:`~sklearn.ensemble.HistGradientBoostingClassifier`:
        ``'from_dtype'`` takes the DataFrame columns of categorical, string,
        object or boolean dtype; or indices, names or a boolean mask.
        Integer columns are otherwise discrete numbers: their log-probability
        is the density of the column's normal score over the value's unit
        interval, taken at its midpoint. See :class:`~skgen.preprocessing.TableEncoder`.

    numeric_transform : {'quantile-normal', 'standard'}, default='quantile-normal'
        Map of the numeric columns before the mixture (see
        :class:`~skgen.preprocessing.TableEncoder`).

    prior_strength : float, default=0.01
        Pseudo-rows of the data's overall distribution added to each
        component at every M-step: a component's category probabilities are
        drawn towards the data's shares, and its variances towards the
        normal scores' unit variance. This keeps a component of one or a few
        rows from collapsing onto them, and gives every category seen some
        probability in every component. Larger values smooth more: a
        variance ``v`` of ``n`` rows becomes ``(n v + a) / (n + a)``. 0 gives
        maximum likelihood.

    reg_covar : float, default=1e-4
        Added to each variance of the normal scores.

    tol : float, default=1e-3
        EM stops when the mean log-likelihood changes by less than this.

    max_iter : int, default=100
        Largest number of EM iterations of each fit.

    n_init : int, default=1
        Number of initialisations of each EM fit (of each candidate of
        ``n_components='auto'`` too); the run with the largest lower bound
        is kept.

    handle_unknown : {'error', 'floor'}, default='error'
        A category not seen in :meth:`fit` when scoring: raise a
        ``ValueError``, or give it the probability ``1 / (W + 1)`` with
        ``W`` the training weight, whatever the component.

    validation_fraction : float, default=0.1
        Share of the distinct rows held out by ``n_components='auto'``.

    random_state : int, RandomState instance or None, default=None
        Controls the dequantization of integer columns, the validation
        split, the initialisation and, unless :meth:`sample` is given its
        own, the samples.

    verbose : int, default=0
        1 prints each initialisation and each candidate number of components
        with its validation score; 2 also prints the time and the change of
        the lower bound every ``verbose_interval`` iterations.

    verbose_interval : int, default=10
        Number of EM iterations between two progress lines.

    device : str or torch.device, default='cpu'
        Where EM runs.

    missing_values : float, int, str, np.nan or None, default=np.nan
        The marker of a missing entry besides NaN, None and ``pd.NA``, as in
        scikit-learn's imputers (a number, or a string such as ``"?"`` for
        categorical columns). With a marker other than NaN, a NaN in X
        raises.

    max_levels : int or None, default=100
        Most outputs of a categorical column: a column with more levels
        keeps its ``max_levels - 1`` most frequent ones and pools the rest
        (see :class:`~skgen.preprocessing.TableEncoder`); a pooled level is
        sampled with its share of the pool, the same in every component.
        Memory and time then grow with the kept levels. None keeps them all.
        On a Dask table the levels and their counts are those of every block.

    relations : {'auto'}, list or None, default='auto'
        ``'auto'`` finds the exact relations between the columns of the
        training table (a column equal to another or to an affine map of
        it, a category that another determines, a column that a pair of
        categories determines, a number that is the sum or
        difference of two others, a text column that identifies the rows;
        see
        :class:`~skgen.preprocessing.TableEncoder`), models the free columns
        only and computes the dependent ones in :meth:`sample`,
        :meth:`impute` and :meth:`sample_conditional`, so that every
        synthetic row satisfies every relation the training rows satisfy.
        A list declares relations, as tuples such as ``('total', 'sum',
        ['net', 'tax'])``, ``('country', 'determined_by', 'city')``,
        ``('price', 'determined_by', ['name', 'size'])`` or ``('b',
        'affine', 'a')`` (every form is listed in
        :class:`~skgen.preprocessing.TableEncoder`); fit raises when a
        training row breaks one, and ``'auto'`` in the list finds the
        others too. :meth:`sample` draws again the rows whose sources of a
        ``determined_by`` of several columns meet in a combination the
        training rows do not hold.
        An identifier is not modelled: :meth:`sample` gives new values of the
        training ones' form (each position's character among those seen
        there), unique in the sample and unlike any training value.
        :meth:`score_samples` is the density of the free columns. None
        models every column. On a Dask collection the relations are sought
        on the encoder's sample of rows and checked on every block: one that
        a row outside the sample breaks is dropped (a declared one raises).

    broken_relations : {'error', 'ignore'}, default='error'
        A row to score that breaks a kept relation (all its columns observed,
        the relation false): 'error' raises a ValueError naming the row and
        the relation (under the model such a row has density 0); 'ignore'
        scores its free columns.

    sample_gaps : bool, default=True
        Whether :meth:`sample` draws missing entries when the table seen in
        :meth:`fit` had some. Each column with gaps gets a logistic
        regression of its missing indicator on the row's other encoded
        columns (``missingness_``), and a sampled row misses each entry with
        the chance its other drawn entries give, so the synthetic table
        keeps each column's missing share and its dependence on the other
        columns, and the observed values keep their law given that they are
        observed. False draws complete rows: every entry from
        the mixture's law for it, which is what the missing entries would
        have been if they were missing at random given the observed ones.
        The missing entries hold ``missing_values``.

    empty_rows : {'error', 'prior'}, default='error'
        What :meth:`score_samples`, :meth:`score`, :meth:`predict` and
        :meth:`predict_proba` answer for a row with no observed entry. 'error'
        raises a ValueError naming the rows: the density of nothing observed
        is 1 whatever the row, so its score would rank it as the most normal
        row of all. 'prior' gives such a row a log-density of 0 (log 1) and
        the mixing weights as its component probabilities. :meth:`impute`
        and :meth:`sample_conditional` always condition an empty row on
        nothing, which gives the mixture's own law.

    Attributes
    ----------
    n_components_ : int
        Number of components of the fitted mixture.

    weights_ : ndarray of shape (`n_components_`,)
        Component weights.

    means_ : ndarray of shape (`n_components_`, n_numeric)
        Means of the numeric columns' normal scores per component.

    variances_ : ndarray of shape (`n_components_`, n_numeric)
        Their variances.

    category_probas_ : list of ndarray of shape (`n_components_`, n_levels)
        Per categorical column, each component's level probabilities, over
        ``encoder_.categories_``.

    relations_ : list of str
        The relations kept (see ``relations``), in words.

    missingness_ : MissingnessModel or None
        The model of the gaps (see ``sample_gaps``), fitted on the encoded
        training rows (on a Dask table, on the encoder's sample of rows);
        None when the table had none.

    encoder_ : TableEncoder
        The fitted encoder of the table's columns.

    validation_scores_ : dict
        With ``n_components='auto'``: mean validation log-likelihood of each
        candidate number of components.

    converged_ : bool
        Whether the final EM converged.

    n_iter_ : int
        EM iterations of the final fit.

    lower_bound_ : float
        Mean log-likelihood of the encoded training rows at the end of EM
        (in normal-score units, without the Jacobian).

    lower_bounds_ : list of float
        The lower bound at each iteration of the final fit's best
        initialisation.

    n_features_in_ : int
        Number of columns seen in :meth:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names seen in :meth:`fit`, when X is a DataFrame with string
        column names.

    See Also
    --------
    GaussianMixture : A mixture of full-covariance Gaussians for numbers.
    skgen.preprocessing.TableEncoder : The column maps used here.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from skgen import TabularMixture
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({
    ...     "height": rng.normal(170, 10, 300),
    ...     "children": rng.poisson(1.5, 300),
    ...     "city": pd.Categorical(rng.choice(["Oslo", "Rome"], 300)),
    ... })
    >>> model = TabularMixture(random_state=0).fit(df)
    >>> synthetic = model.sample(5, random_state=0)
    >>> list(synthetic.dtypes.astype(str))
    ['float64', 'int64', 'category']
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left"),
                         StrOptions({"auto"})],
        "categorical_features": [StrOptions({"from_dtype"}), "array-like", None],
        "numeric_transform": [StrOptions({"quantile-normal", "standard"})],
        "prior_strength": [Interval(Real, 0.0, None, closed="left")],
        "reg_covar": [Interval(Real, 0.0, None, closed="left")],
        "tol": [Interval(Real, 0.0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "handle_unknown": [StrOptions({"error", "floor"})],
        "validation_fraction": [Interval(Real, 0.0, 1.0, closed="neither")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "verbose_interval": [Interval(Integral, 1, None, closed="left")],
        "device": [str, torch.device],
        "missing_values": [Real, str, None],
        "max_levels": [Interval(Integral, 2, None, closed="left"), None],
        "relations": [StrOptions({"auto"}), list, None],
        "broken_relations": [StrOptions({"error", "ignore"})],
        "sample_gaps": ["boolean"],
        "empty_rows": [StrOptions({"error", "prior"})],
    }

    def __init__(
        self,
        n_components="auto",
        *,
        categorical_features="from_dtype",
        numeric_transform="quantile-normal",
        prior_strength=0.01,
        reg_covar=1e-4,
        tol=1e-3,
        max_iter=100,
        n_init=1,
        handle_unknown="error",
        validation_fraction=0.1,
        random_state=None,
        verbose=0,
        verbose_interval=10,
        device="cpu",
        missing_values=np.nan,
        max_levels=100,
        relations="auto",
        broken_relations="error",
        sample_gaps=True,
        empty_rows="error",
    ):
        self.n_components = n_components
        self.categorical_features = categorical_features
        self.numeric_transform = numeric_transform
        self.prior_strength = prior_strength
        self.reg_covar = reg_covar
        self.tol = tol
        self.max_iter = max_iter
        self.n_init = n_init
        self.handle_unknown = handle_unknown
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.device = device
        self.missing_values = missing_values
        self.max_levels = max_levels
        self.relations = relations
        self.broken_relations = broken_relations
        self.sample_gaps = sample_gaps
        self.empty_rows = empty_rows

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # fit and the scoring methods take missing entries, and categories.
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        return tags

    # ------------------------------------------------------------------ fit

    @_fit_context(prefer_skip_nested_validation=True)
    @torch_work
    def fit(self, X, y=None, sample_weight=None):
        """Fit the mixture to a table.

        Parameters
        ----------
        X : DataFrame, array-like or Dask DataFrame of shape \
                (n_samples, n_features)
            The table, with missing entries as NaN, None, ``pd.NA`` or
            ``missing_values``. A Dask collection is fitted block by block
            on its cluster (see the User Guide).

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights; an integer weight fits as that many
            copies of the row (integer columns aside, whose dequantization
            draws differ).

        Returns
        -------
        self : TabularMixture
            The fitted mixture.
        """
        random_state = check_random_state(self.random_state)
        encoder = self._new_encoder(random_state)
        if is_dask_collection(X):
            return self._fit_dask(X, sample_weight, encoder, random_state)
        X = nan_marked(X, self.missing_values)
        Z = encoder.fit_transform_dequantized(X, sample_weight)
        check_gaps(encoder.missing_mask(X), "TabularMixture")
        weights = _check_sample_weight(
            sample_weight, Z, dtype=np.float64, ensure_non_negative=True
        )
        total_weight = float(weights.sum())
        if np.count_nonzero(weights) < 2:
            raise ValueError(
                "TabularMixture needs at least 2 rows of positive weight; got "
                f"{np.count_nonzero(weights)}."
            )
        self._adopt(encoder)
        device = resolve_device(self.device)
        layout = Layout(encoder, layout_sums(Z, weights, encoder.n_numeric_))
        keep = np.flatnonzero(weights > 0)
        init_rows = (Z[keep], weights[keep])

        if self.n_components == "auto":
            # The split goes by the rows' values, not their positions, so
            # that copies of a row and a weighted row fall on the same side.
            encoded = encoder.transform(X)
            hash_params = self._hash(random_state, encoded.shape[1], weights.sum())
            train_weights, valid_weights = split_weights(encoded, weights, hash_params)
            valid = np.flatnonzero(valid_weights > 0)
            if valid.size == 0 or np.count_nonzero(train_weights) < 2:
                # too few distinct rows to hold some out
                train_weights, valid, valid_weights = weights, keep, weights
            S_valid = as_tensor(layout.scoring_matrix(encoder, X, encoded)[valid],
                                device)
            w_valid = valid_weights[valid]

            def validation_score(params, reference):
                log_lik = self._log_likelihood(layout, params, S_valid)
                ref = (np.zeros_like(log_lik) if reference is None
                       else self._log_likelihood(layout, reference, S_valid))
                return paired_sums(log_lik, ref, w_valid)

            train = np.flatnonzero(train_weights > 0)
            train_source = _row_source(Z[train], train_weights[train], device)
            # copies of a row are one row to the number of components
            n_distinct = np.unique(np.nan_to_num(encoded[train], nan=0.5),
                                   axis=0).shape[0]
            n_components, self.validation_scores_, start = self._select_n_components(
                layout, train_source, float(train_weights.sum()), n_distinct,
                (Z[train], train_weights[train]), validation_score, random_state,
            )
        else:
            n_components = self.n_components
            if n_components > np.count_nonzero(weights):
                raise ValueError(
                    f"n_components={n_components} must be <= the number of rows "
                    f"of positive weight ({np.count_nonzero(weights)})."
                )
            self.validation_scores_, start = {}, None
        source = _row_source(Z[keep], weights[keep], device)
        self._finish_fit(
            layout, source, total_weight, n_components, init_rows, random_state,
            start,
        )
        self._fit_missingness(Z, encoder.missing_mask(X), weights)
        return self

    def _new_encoder(self, random_state):
        """The unfitted table encoder of a fit, its seed drawn from random_state."""
        return TableEncoder(
            self.categorical_features,
            numeric_transform=self.numeric_transform,
            handle_unknown="ignore",
            allow_missing=True,
            random_state=random_state.randint(np.iinfo(np.int32).max),
            relations=self.relations,
            max_levels=self.max_levels,
        )

    def _adopt(self, encoder):
        """Take the fitted encoder's description of the table and its relations."""
        adopt_encoder(self, encoder)
        self.relations_ = list(encoder.relations_)
        if self.verbose and self.relations_:
            print("Relations kept:", "; ".join(self.relations_))

    def _fit_dask(self, X, sample_weight, encoder, random_state):
        """Fit on a Dask DataFrame or array (see ``skgen.mixture._dask_tables``)."""
        from skgen.mixture._dask_tables import fit_table_blocks

        return fit_table_blocks(self, X, sample_weight, encoder, random_state)

    # -------------------------------------------------------------- scoring

    def _encoded(self, X):
        """Rows of X in scoring form, each row's unknown-category count, and X.

        X comes back with its ``missing_values`` entries as NaN.
        """
        check_is_fitted(self)
        X = check_table(self, nan_marked(X, self.missing_values))
        check_empty_rows(self.encoder_.missing_mask(X), self.empty_rows)
        if self.broken_relations == "error":
            rows, broken = self.encoder_.broken_relations(X)
            if rows.size:
                raise ValueError(
                    f"{rows.size} row(s) break a relation that every training row "
                    f"holds: row {rows[0]} breaks {broken[0]} (rows "
                    f"{rows[:10].tolist()}). Under the model such a row has "
                    "density 0. Set broken_relations='ignore' to score their "
                    "free columns, or relations=None to fit every column."
                )
        S = self._layout.scoring_matrix(self.encoder_, X, self.encoder_.transform(X))
        if self.handle_unknown == "error":
            unknown = check_known_categories(
                self, X, "Fit on data that has them, or set handle_unknown='floor' "
                "to give them a floor probability.")
        else:
            unknown = self.encoder_.unknown_mask(X)
        return S, unknown.sum(1), X

    # score_samples, predict_proba and predict are BaseMixture's.

    def _score_samples_in_memory(self, X):
        S, n_unknown, X = self._encoded(X)
        device = self._device()
        params = self._params(device)
        log_lik = self._log_likelihood(self._layout, params, as_tensor(S, device))
        log_floor = -math.log(self._total_weight + 1.0)
        return log_lik + self.encoder_.log_jacobian(X) + n_unknown * log_floor

    def _predict_proba_in_memory(self, X):
        S, _, _ = self._encoded(X)
        device = self._device()
        chunks = self._normalised_chunks(
            self._layout, self._params(device), as_tensor(S, device)
        )
        return torch.cat([resp.T for _, resp in chunks]).cpu().numpy()

    def _posterior_or_prior(self, X):
        """Component probabilities of each row, X marked, its missing mask.

        A row's probabilities are given its observed entries; a row with
        none gets the mixing weights.  X comes back with its
        ``missing_values`` entries as NaN.
        """
        check_is_fitted(self)
        if not hasattr(X, "iloc"):
            X = check_array(X, dtype=None, ensure_all_finite=False)
        _check_n_features(self, X, reset=False)
        marked = nan_marked(X, self.missing_values)
        missing = self.encoder_.missing_mask(marked)
        empty = missing.all(axis=1)
        resp = np.tile(self.weights_, (len(empty), 1))
        if not empty.all():
            rows = X.iloc[~empty] if hasattr(X, "iloc") else X[~empty]
            resp[~empty] = self.predict_proba(rows)
        return resp, marked, missing

    @torch_work
    def sample(self, n_samples=1, *, random_state=None, given=None):
        """Draw rows from the fitted mixture, optionally under conditions.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows.

        random_state : int, RandomState instance or None, default=None
            Randomness of this call; None uses the estimator's
            ``random_state``.

        given : dict, default=None
            Conditions on columns (by name, or by index for an array):
            ``{"region": "south"}`` draws rows with that value, ``{"age":
            (30, 40)}`` rows whose continuous or integer column lies in the
            range (ends included). The rows follow the mixture's law given
            the conditions, exactly: a component is drawn with its weight
            times the conditions' probability in it, then each other column
            from it (a range's column from its normal truncated to the
            range). Conditions that no component can meet raise a
            ValueError; conditions with less than one training row's worth of
            probability warn. A column that follows from others (see
            ``relations``) takes an equality when it is an affine map of one
            column; otherwise give the condition on its sources.

        Returns
        -------
        X : DataFrame or ndarray of shape (n_samples, `n_features_in_`)
            A DataFrame with the training columns, dtypes and category sets
            when fitted on one; the rows are in random order (``predict``
            gives their components).
        """
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(
                f"Invalid value for 'n_samples': {n_samples!r}. The sampling "
                "requires at least one sample (an integer >= 1)."
            )
        rng = check_random_state(
            self.random_state if random_state is None else random_state
        )
        if given is not None:
            return sample_given(self, n_samples, rng, given)
        weights = self.weights_ / self.weights_.sum()
        components = rng.choice(weights.size, size=n_samples, p=weights)
        Z = self._seen_combinations(self._draw(components, rng), weights, rng)
        return self.encoder_.inverse_transform(
            Z, self._drawn_gaps(Z, rng), missing_value=self.missing_values
        )

    def _sample_dask_blocks(self, sizes, seeds):
        """:func:`~skgen.mixture.sample_dask`'s blocks, one per size and seed."""
        from skgen.mixture._dask import tabular_sample_blocks

        return tabular_sample_blocks(self, sizes, seeds)

    @torch_work
    def sample_conditional(self, X, n_samples=1, *, random_state=None):
        """Draw the missing entries of each row from their exact conditional.

        Each draw takes a component from ``p(k | observed entries)``, then
        every missing entry from that component, whose columns are
        independent: exact draws from ``p(missing | observed)``. A row with
        no observed entry is drawn from the mixture itself.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_rows, `n_features_in_`)
            Rows with missing entries (NaN, None or ``pd.NA``) to draw.

        n_samples : int, default=1
            Number of draws per row.

        random_state : int, RandomState instance or None, default=None
            Randomness of this call; None uses the estimator's
            ``random_state``.

        Returns
        -------
        X_drawn : DataFrame or ndarray
            For a DataFrame, the ``n_samples`` filled copies of X stacked
            under a first index level ``"draw"`` (``X_drawn.xs(0,
            level="draw")`` is the first); for an array, an array of shape
            ``(n_samples, n_rows, n_features_in_)``. Observed entries are
            unchanged.
        """
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(
                f"Invalid value for 'n_samples': {n_samples!r}; give an integer "
                ">= 1."
            )
        resp, X, missing = self._posterior_or_prior(X)
        rng = check_random_state(
            self.random_state if random_state is None else random_state
        )
        draws = [
            self.encoder_.inverse_transform(self._draw(_inverse_cdf(resp, rng), rng))
            for _ in range(n_samples)
        ]
        filled = [
            self.encoder_.with_relations(X, fill_missing(X, draw, missing), missing)
            for draw in draws
        ]
        if hasattr(X, "iloc"):
            import pandas as pd

            return pd.concat(filled, keys=range(n_samples), names=["draw"])
        return np.stack(filled)

    @torch_work
    def impute(self, X):
        """Fill the missing entries of X with their conditional expectation.

        A number gets its conditional mean ``sum_k p(k | observed) E_k[x]``
        in the data's units (each component's mean by Gauss-Hermite
        quadrature through the column's map), rounded to the nearest value
        the column takes when it is an integer or discrete column; a
        category gets its most probable level given the observed entries.
        A row with no observed entry gets the mixture's own expectation and
        most probable levels.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_rows, `n_features_in_`)
            Rows with missing entries (NaN, None or ``pd.NA``).

        Returns
        -------
        X_filled : DataFrame or ndarray
            A copy of X with its missing entries filled; observed entries are
            unchanged.
        """
        resp, X, missing = self._posterior_or_prior(X)
        encoder = self.encoder_
        blocks = [encoder.numeric_forward(resp @ self._component_numeric_means())]
        for probas in self.category_probas_:
            blocks.append(resp @ probas)  # decoded to the most probable level
        filled = fill_missing(X, encoder.inverse_transform(np.hstack(blocks)), missing)
        return encoder.with_relations(X, filled, missing)

    def _n_parameters(self):
        k = self.weights_.size
        levels = sum(p.shape[1] - 1 for p in self.category_probas_)
        return (k - 1) + 2 * k * self.means_.shape[1] + k * levels

    # ------------------------------------------------------------ internals

    def _device(self):
        return resolve_device(self.device)

    def _lazy(self, method, X):
        from skgen.mixture._dask_tables import lazy

        check_is_fitted(self)
        return lazy(self, method, X)

    def _hash(self, random_state, width, n_rows):
        """The parameters of the splits' hash (see ``_split.row_hash``).

        ``n_rows`` is the number of rows: the candidates are fitted on at
        most about ``_SELECTION_ROWS`` of those not held out.
        """
        direction = random_state.standard_normal(width)
        fraction = self.validation_fraction
        share = min(1.0, _SELECTION_ROWS / max(n_rows * (1.0 - fraction), 1.0))
        return direction, random_state.uniform(), fraction, share


