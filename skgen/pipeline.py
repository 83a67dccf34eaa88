"""Sampling through a scikit-learn Pipeline whose last step is generative.

scikit-learn's :class:`~sklearn.pipeline.Pipeline` transforms data forward and
has no ``sample``. Here the rows that the last step draws go back through the
``inverse_transform`` of the earlier steps, in reverse order, so that they come
out in the units (and the columns) of the data the pipeline was fitted on.
"""

import warnings

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.feature_selection import SelectorMixin
from sklearn.pipeline import FeatureUnion
from sklearn.pipeline import Pipeline as _SklearnPipeline
from sklearn.pipeline import make_pipeline as _sklearn_make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    KBinsDiscretizer,
    OneHotEncoder,
    OrdinalEncoder,
)
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

__all__ = ["Pipeline", "make_pipeline", "sample_pipeline"]

# A NaN out of these steps is a category (missing values encoded as their own
# level), not a failed inverse.
_CATEGORY_ENCODERS = (OneHotEncoder, OrdinalEncoder)


def sample_pipeline(pipeline, n_samples=1, *, random_state=None):
    """Draw samples from a pipeline's last step, in the units of its input.

    The last step (a generative model such as :class:`skgen.GaussianMixture`,
    :class:`skgen.VAE` or :class:`skgen.GAN`) draws ``n_samples`` rows in the
    space it was fitted in. They then go through the ``inverse_transform`` of
    every earlier step, last to first; ``'passthrough'`` and ``None`` steps are
    skipped and nested pipelines are entered. Every step is checked before
    anything is drawn.

    Encoders get the rows they can decode: a one-hot block becomes the code
    of its largest entry (a dropped category counts as one minus the block's
    sum, the value it would have in a one-hot row), and ordinal codes are
    rounded to the nearest existing category (scikit-learn would truncate them
    and wrap negative ones round to the last category).

    Read more in the :ref:`User Guide <pipeline>`.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        A fitted pipeline whose last step has a ``sample`` method. A plain
        scikit-learn pipeline works as well as :class:`skgen.pipeline.Pipeline`.

    n_samples : int, default=1
        Number of samples to generate.

    random_state : int, RandomState instance or None, default=None
        Passed to the last step's ``sample``: with None the last step's own
        ``random_state`` is used. The inverse transforms are deterministic,
        so the same seed gives the same samples.

    Returns
    -------
    X : ndarray or DataFrame of shape (n_samples, n_features_in)
        The samples, in the columns the pipeline was fitted on: a DataFrame
        with the columns ``feature_names_in_`` of the first step when it was
        fitted on one (``object`` columns of numbers made numeric), otherwise
        what the first step's ``inverse_transform`` returns.

    y : ndarray of shape (n_samples,)
        The labels drawn with the samples (the component of each row for a
        mixture), returned only when the last step's ``sample`` returns
        ``(X, y)``, as :meth:`skgen.GaussianMixture.sample` does.

    Raises
    ------
    TypeError
        If ``pipeline`` is not a Pipeline, if its last step cannot sample, or
        if an earlier step has no ``inverse_transform`` (a
        :class:`~sklearn.compose.ColumnTransformer`, a
        :class:`~sklearn.pipeline.FeatureUnion`...). The message names the
        step.

    ValueError
        If a step has an ``inverse_transform`` that would not return samples
        of its input: a :class:`~sklearn.preprocessing.FunctionTransformer`
        with ``func`` but no ``inverse_func``, a feature selector that drops
        features (it fills them with zeros), or a step whose inverse turns the
        samples into NaN or infinity. The message names the step.

    See Also
    --------
    Pipeline : A scikit-learn pipeline with a ``sample`` method that calls
        this function.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skgen import GaussianMixture
    >>> from skgen.pipeline import sample_pipeline
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal([10.0, -5.0], [2.0, 0.1], size=(200, 2))
    >>> pipe = make_pipeline(StandardScaler(), GaussianMixture(random_state=0))
    >>> X_new, labels = sample_pipeline(pipe.fit(X), 500, random_state=0)
    >>> X_new.shape
    (500, 2)
    >>> X_new.mean(axis=0).round()
    array([10., -5.])
    """
    if not isinstance(pipeline, _SklearnPipeline):
        raise TypeError(
            "sample_pipeline expects a scikit-learn Pipeline, got "
            f"{type(pipeline).__name__}. Call the estimator's own sample method, "
            "or wrap it with make_pipeline."
        )
    _check_final_step(pipeline)
    check_is_fitted(pipeline)
    leaves = _leaves(pipeline)
    sampler_path, _, _, sampler = leaves[-1]
    if not callable(getattr(sampler, "sample", None)):
        raise TypeError(
            f"The last step {sampler_path!r} ({type(sampler).__name__}) has no "
            "sample method. Sampling through a pipeline needs a generative model "
            "as its last step, such as skgen.GaussianMixture, skgen.VAE or "
            "skgen.GAN."
        )
    inverses = leaves[:-1]
    # Every step is checked before the draw, which may be costly (a GAN).
    for path, position, nested, step in inverses:
        problem = _inversion_problem(step)
        if problem is not None:
            error, reason = problem
            advice = _advice(path, position, nested)
            raise error(_describe(path, step) + reason + advice)

    drawn = sampler.sample(n_samples, random_state=random_state)
    labels = None
    if isinstance(drawn, tuple):
        drawn, labels = drawn
    X = drawn
    for path, position, nested, step in reversed(inverses):
        X = _invert(path, position, nested, step, X)

    first = leaves[0][3]
    X = _as_input_container(X, getattr(first, "feature_names_in_", None))
    if labels is None:
        return X
    return X, labels


def _is_passthrough(step):
    return step is None or (isinstance(step, str) and step == "passthrough")


def _check_final_step(pipeline, prefix=""):
    """Raise if the last step, nested pipelines entered, is 'passthrough'."""
    name, step = pipeline.steps[-1]
    if _is_passthrough(step):
        raise TypeError(
            f"The last step {prefix + name!r} of the pipeline is {step!r}, which "
            "cannot sample. Make the last step a generative model, such as "
            "skgen.GaussianMixture, skgen.VAE or skgen.GAN."
        )
    if isinstance(step, _SklearnPipeline):
        _check_final_step(step, prefix + name + "__")


def _leaves(pipeline, prefix="", position=None):
    """``(path, top-level position, nested, step)`` of every step, in order.

    Nested pipelines are entered and 'passthrough' or None steps left out;
    the path joins the names with '__', as ``get_params`` does.
    """
    leaves = []
    for index, (name, step) in enumerate(pipeline.steps):
        if _is_passthrough(step):
            continue
        top = index if position is None else position
        if isinstance(step, _SklearnPipeline):
            leaves.extend(_leaves(step, prefix + name + "__", top))
        else:
            leaves.append((prefix + name, top, position is not None, step))
    return leaves


def _describe(path, step):
    return f"Step {path!r} ({type(step).__name__}) "


def _advice(path, position, nested):
    if nested:
        return (
            " Drop or replace this step, or sample the steps after it to get "
            "rows as it outputs them."
        )
    return (
        f" Drop or replace this step, or sample pipeline[{position + 1}:] to get "
        f"rows as {path!r} outputs them."
    )


def _inversion_problem(step):
    """``(error class, reason)`` when samples cannot go back through ``step``."""
    if isinstance(step, FunctionTransformer):
        # With func but no inverse_func, scikit-learn's inverse is the
        # identity, which leaves the samples in the units of func's output.
        if step.func is not None and step.inverse_func is None:
            return ValueError, (
                "is a FunctionTransformer with a func but no inverse_func: its "
                "inverse_transform would return the samples unchanged, in the "
                "units of func's output. Pass inverse_func (check_inverse=True, "
                "the default, then checks it on the training data at fit)."
            )
        return None
    if isinstance(step, SelectorMixin):
        support = np.asarray(step.get_support())
        if not support.all():
            return ValueError, (
                f"selects {int(support.sum())} of {support.size} features: its "
                "inverse_transform fills the dropped features with zeros, which "
                "are not samples of them. Select the features before the "
                "pipeline (fit it on the selected columns) to sample those."
            )
        return None
    if not callable(getattr(step, "inverse_transform", None)):
        if isinstance(step, ColumnTransformer | FeatureUnion):
            hint = (
                f"{type(step).__name__} cannot map its output back to its input "
                "columns. Use one invertible step for all the columns (a "
                "OneHotEncoder on categorical columns alone, a scaler on "
                "numeric columns alone), or a model that takes a mixed-type "
                "table itself."
            )
        else:
            hint = "it is needed to map the samples back to its input."
        return TypeError, "has no inverse_transform; " + hint
    return None


def _invert(path, position, nested, step, X):
    """``step.inverse_transform(X)``, with its failures naming the step."""
    try:
        with warnings.catch_warnings():
            # scikit-learn before 1.8 checks the input of some elementwise
            # inverse_transform (QuantileTransformer's) against the names
            # seen in fit; drawn samples carry none, rightly.
            warnings.filterwarnings(
                "ignore", message="X does not have valid feature names"
            )
            X_inverse = step.inverse_transform(_decodable(step, X))
    except (TypeError, ValueError) as exc:
        error = TypeError if isinstance(exc, TypeError) else ValueError
        raise error(
            _describe(path, step) + f"could not invert the samples: {exc}"
            + _advice(path, position, nested)
        ) from exc
    if not isinstance(step, _CATEGORY_ENCODERS):
        n_before, n_after = _n_rows_not_finite(X), _n_rows_not_finite(X_inverse)
        if n_before == 0 and n_after:
            raise ValueError(
                _describe(path, step) + f"turned {n_after} of {len(X_inverse)} "
                "samples into NaN or infinity: the model drew values outside "
                "what its inverse_transform maps back (for example outside the "
                "range of a Box-Cox transform, or an imputer's indicator "
                "columns)." + _advice(path, position, nested)
            )
    return X_inverse


def _n_rows_not_finite(X):
    """Rows of X with a NaN or infinity; None when X is not all numeric."""
    try:
        values = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if values.ndim != 2:
        return None
    return int(np.count_nonzero(~np.isfinite(values).all(axis=1)))


def _decodable(step, X):
    """Samples made into codes that ``step.inverse_transform`` decodes right.

    A model draws continuous values where an encoder wrote codes. scikit-learn
    decodes a one-hot block by its largest entry but takes a dropped category
    only from an all-zero block (never drawn), and it truncates ordinal codes,
    wrapping negative ones to the last category.
    """
    if isinstance(step, OneHotEncoder):
        return _onehot_codes(step, X)
    if isinstance(step, OrdinalEncoder):
        n_codes = [
            _n_categories(step, i) - _n_missing(categories)
            for i, categories in enumerate(step.categories_)
        ]
        return _nearest_codes(X, n_codes)
    if isinstance(step, KBinsDiscretizer) and step.encode == "ordinal":
        return _nearest_codes(X, [int(n) for n in step.n_bins_])
    return X


def _n_categories(encoder, i):
    """Codes of feature ``i``: infrequent categories share one."""
    n = len(encoder.categories_[i])
    infrequent = getattr(encoder, "infrequent_categories_", None)
    if infrequent is not None and infrequent[i] is not None:
        n -= len(infrequent[i]) - 1
    return n


def _n_missing(categories):
    # scikit-learn's encoders keep a missing value (None or NaN) as a category
    # that ordinal codes never reach: missing values are not drawn.
    return sum(
        1 for c in categories if c is None or (isinstance(c, float) and c != c)
    )


def _nearest_codes(X, n_codes):
    values = np.array(X, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] != len(n_codes):
        return X  # the step's inverse_transform reports the wrong shape
    for j, n in enumerate(n_codes):
        values[:, j] = np.clip(np.rint(values[:, j]), 0, n - 1)
    return values


def _onehot_codes(encoder, X):
    """Exact one-hot rows: each block's largest entry, dropped ones included."""
    values = np.asarray(X, dtype=np.float64)
    n_features = len(encoder.categories_)
    dropped = [
        encoder.drop_idx_ is not None and encoder.drop_idx_[i] is not None
        for i in range(n_features)
    ]
    widths = [_n_categories(encoder, i) - dropped[i] for i in range(n_features)]
    if values.ndim != 2 or values.shape[1] != sum(widths):
        return X  # the step's inverse_transform reports the wrong shape
    codes = np.zeros_like(values)
    rows = np.arange(len(values))
    start = 0
    for width, drop in zip(widths, dropped, strict=True):
        block = values[:, start : start + width]
        if width:
            largest = block.argmax(axis=1)
            kept = np.ones(len(values), dtype=bool)
            if drop:
                # A one-hot row sums to one, so the dropped column's entry is
                # one less the others; the dropped category is an all-zero code.
                kept = block.max(axis=1) > 1.0 - block.sum(axis=1)
            codes[rows[kept], start + largest[kept]] = 1.0
        start += width
    return codes


def _as_input_container(X, feature_names_in):
    """X as a DataFrame with the first step's input columns, if it had names."""
    if feature_names_in is None or hasattr(X, "columns"):
        return X
    values = np.asarray(X)
    if values.ndim != 2 or values.shape[1] != len(feature_names_in):
        return X
    import pandas as pd  # only a pipeline fitted on a DataFrame gets here

    frame = pd.DataFrame(values, columns=list(feature_names_in))
    # An encoder's inverse returns one object array for all the columns.
    return frame.infer_objects() if values.dtype == object else frame


def _final_estimator_can_sample(pipeline):
    """Whether the last step, nested pipelines entered, has ``sample``.

    Used with ``available_if``, as scikit-learn's Pipeline delegates its other
    methods: the original AttributeError is raised when it has not.
    """
    step = pipeline.steps[-1][1]
    if _is_passthrough(step):
        return False
    if isinstance(step, _SklearnPipeline):
        return _final_estimator_can_sample(step)
    return callable(step.sample)  # raises the step's own AttributeError


class Pipeline(_SklearnPipeline):
    """A scikit-learn pipeline that can sample from its last step.

    Everything of :class:`sklearn.pipeline.Pipeline` is kept (parameters,
    ``get_params``/``set_params``, cloning, slicing, ``score_samples`` and the
    other delegated methods, ``set_output``, caching, metadata routing);
    :meth:`sample` is added when the last step has one. The samples the last
    step draws go back through the ``inverse_transform`` of the earlier
    steps, in reverse order, to come out in the units of the data: see
    :func:`sample_pipeline`.

    Read more in the :ref:`User Guide <pipeline>`.

    Parameters
    ----------
    steps : list of tuples
        ``(name, transform)`` tuples chained in order, the last one a
        generative model (e.g. :class:`skgen.GaussianMixture`) for
        :meth:`sample`. A step may be ``'passthrough'`` or None.

    transform_input : list of str, default=None
        Names of the fit parameters transformed by the steps before the one
        that requests them, as in scikit-learn (needs metadata routing).

    memory : str or object with the joblib.Memory interface, default=None
        Caches the fitted transformers, as in scikit-learn.

    verbose : bool, default=False
        If True, the time taken to fit each step is printed.

    Attributes
    ----------
    named_steps : :class:`~sklearn.utils.Bunch`
        The steps by name.

    n_features_in_ : int
        Number of features seen by the first step during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen by the first step during fit, when X had
        string column names.

    See Also
    --------
    make_pipeline : Build a Pipeline, naming its steps after their classes.
    sample_pipeline : The same sampling, for a scikit-learn Pipeline.
    sklearn.pipeline.Pipeline : The class this extends.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skgen import GaussianMixture
    >>> from skgen.pipeline import Pipeline
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 3)) @ [[2.0, 1.0, 0.0], [0.0, 1.0, 0.0],
    ...                                  [0.0, 0.0, 10.0]] + [0.0, 0.0, 100.0]
    >>> pipe = Pipeline([("scale", StandardScaler()),
    ...                  ("pca", PCA(whiten=True)),
    ...                  ("gmm", GaussianMixture(n_components=2, random_state=0))])
    >>> X_new, labels = pipe.fit(X).sample(5000, random_state=0)
    >>> X_new.shape, labels.shape
    ((5000, 3), (5000,))
    >>> print(X.std(axis=0).round(1), X_new.std(axis=0).round(1))
    [2.  1.4 9.6] [1.9 1.4 9.6]
    """

    @available_if(_final_estimator_can_sample)
    def sample(self, n_samples=1, *, random_state=None):
        """Draw samples from the last step, in the units of the input.

        Only available when the last step has a ``sample`` method.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples to generate.

        random_state : int, RandomState instance or None, default=None
            Passed to the last step's ``sample``: with None the last step's
            own ``random_state`` is used.

        Returns
        -------
        X : ndarray or DataFrame of shape (n_samples, `n_features_in_`)
            The samples, gone back through the ``inverse_transform`` of
            every earlier step; a DataFrame with the columns
            ``feature_names_in_`` when the pipeline was fitted on one.

        y : ndarray of shape (n_samples,)
            The labels drawn with the samples, only when the last step's
            ``sample`` returns ``(X, y)`` (the components of a mixture).

        Raises
        ------
        TypeError or ValueError
            Naming a step that cannot map the samples back: see
            :func:`sample_pipeline`.
        """
        return sample_pipeline(self, n_samples, random_state=random_state)


def make_pipeline(*steps, memory=None, transform_input=None, verbose=False):
    """Build a :class:`Pipeline` that can sample, naming its steps.

    The shorthand of :func:`sklearn.pipeline.make_pipeline`: each step is
    named after its class in lower case, and the result is a
    :class:`skgen.pipeline.Pipeline`.

    Parameters
    ----------
    *steps : list of estimators
        The estimators chained together, the last one a generative model
        (e.g. :class:`skgen.GaussianMixture`) for :meth:`Pipeline.sample`.

    memory : str or object with the joblib.Memory interface, default=None
        Caches the fitted transformers, as in scikit-learn.

    transform_input : list of str, default=None
        Names of the fit parameters transformed by the steps before the one
        that requests them, as in scikit-learn (needs metadata routing).

    verbose : bool, default=False
        If True, the time taken to fit each step is printed.

    Returns
    -------
    p : Pipeline
        A :class:`skgen.pipeline.Pipeline`.

    See Also
    --------
    Pipeline : The pipeline class, with named steps.
    sample_pipeline : Sampling through a scikit-learn Pipeline.

    Examples
    --------
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skgen import GaussianMixture
    >>> from skgen.pipeline import make_pipeline
    >>> make_pipeline(StandardScaler(), GaussianMixture(n_components=2))
    Pipeline(steps=[('standardscaler', StandardScaler()),
                    ('gaussianmixture', GaussianMixture(n_components=2))])
    """
    named = _sklearn_make_pipeline(*steps)
    return Pipeline(
        named.steps,
        transform_input=transform_input,
        memory=memory,
        verbose=verbose,
    )
