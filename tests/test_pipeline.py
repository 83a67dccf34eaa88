"""Sampling through a Pipeline: skgen.pipeline."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import BaseEstimator, clone
from sklearn.compose import make_column_transformer
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.feature_selection import SelectKBest, f_regression
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KernelDensity
from sklearn.pipeline import Pipeline as SklearnPipeline
from sklearn.pipeline import make_pipeline as sklearn_make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    KBinsDiscretizer,
    MinMaxScaler,
    OneHotEncoder,
    OrdinalEncoder,
    PolynomialFeatures,
    QuantileTransformer,
    StandardScaler,
)

from skgen import GAN, VAE, GaussianMixture
from skgen.metrics import make_sample_scorer
from skgen.pipeline import Pipeline, make_pipeline, sample_pipeline

pd = pytest.importorskip("pandas")


def _correlated(n=600, seed=0):
    """Gaussian rows with correlated columns on very different scales."""
    rng = np.random.default_rng(seed)
    mixing = np.array([[2.0, 0.5, 0.0], [0.0, 1.0, -0.3], [0.0, 0.0, 0.2]])
    return rng.normal(size=(n, 3)) @ mixing * [1.0, 100.0, 0.01] + [5.0, -300, 0.1]


def _categories(n=1000, seed=0):
    rng = np.random.default_rng(seed)
    return np.column_stack([
        rng.choice(["a", "b", "c"], n, p=[0.6, 0.3, 0.1]),
        rng.choice(["x", "y"], n, p=[0.8, 0.2]),
    ])


def _shares(column):
    values, counts = np.unique(column, return_counts=True)
    return dict(zip(values.tolist(), (counts / counts.sum()).tolist(), strict=True))


# ------------------------------------------------------------ round trips


def test_samples_follow_the_inverses_in_reverse_order():
    # What scikit-learn computes by hand: the model's draw, then each
    # inverse_transform from the last transformer to the first.
    X = _correlated()
    pipe = make_pipeline(StandardScaler(), PCA(whiten=True),
                         GaussianMixture(2, random_state=0)).fit(X)
    X_new, labels = pipe.sample(50, random_state=3)
    Z, expected_labels = pipe[-1].sample(50, random_state=3)
    expected = pipe[0].inverse_transform(pipe[1].inverse_transform(Z))
    assert_allclose(X_new, expected, rtol=1e-12)
    assert_array_equal(labels, expected_labels)


def test_full_rank_gaussian_pipeline_recovers_the_data_moments():
    # One full-covariance Gaussian behind invertible linear maps is the
    # Gaussian fitted to the data: the samples, in the data's units, have its
    # mean and covariance.
    X = _correlated()
    pipe = make_pipeline(StandardScaler(), PCA(whiten=True),
                         GaussianMixture(1, random_state=0)).fit(X)
    X_new, _ = pipe.sample(20_000, random_state=0)
    scale = X.std(axis=0)
    standard_error = scale / np.sqrt(len(X_new))
    assert np.all(np.abs(X_new.mean(axis=0) - X.mean(axis=0)) < 5 * standard_error)
    assert_allclose(X_new.std(axis=0), scale, rtol=0.03)
    assert_allclose(np.corrcoef(X_new.T), np.corrcoef(X.T), atol=0.03)


def test_quantile_transformer_returns_the_data_marginals():
    # A skewed, positive column: a mixture in the normal scores of the data
    # gives positive samples with the data's quantiles.
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.exponential(2.0, 2000), rng.uniform(10, 20, 2000)])
    pipe = make_pipeline(MinMaxScaler(),
                         QuantileTransformer(output_distribution="normal",
                                             n_quantiles=200),
                         GaussianMixture(1, random_state=0)).fit(X)
    X_new, _ = pipe.sample(4000, random_state=0)
    assert np.all(X_new >= X.min(axis=0)) and np.all(X_new <= X.max(axis=0))
    quantiles = [0.1, 0.25, 0.5, 0.75, 0.9]
    assert_allclose(np.quantile(X_new, quantiles, axis=0),
                    np.quantile(X, quantiles, axis=0), rtol=0.1)


@pytest.mark.parametrize("drop", [None, "first", "if_binary"])
def test_one_hot_samples_keep_the_category_shares(drop):
    # scikit-learn decodes a dropped category only from an all-zero block,
    # which a continuous draw never gives: "first" would never sample "a" or
    # "x", and "if_binary" never "x".
    C = _categories()
    pipe = make_pipeline(OneHotEncoder(drop=drop, sparse_output=False),
                         GaussianMixture(6, random_state=0)).fit(C)
    C_new, _ = pipe.sample(4000, random_state=0)
    assert C_new.shape == (4000, 2)
    for j in range(2):
        real, drawn = _shares(C[:, j]), _shares(C_new[:, j])
        assert drawn.keys() == real.keys()
        for category, share in real.items():
            assert abs(drawn[category] - share) < 0.04, (category, drawn, real)


def test_ordinal_codes_are_rounded_to_existing_categories():
    # Each component sits on one code with a tiny variance: truncating its
    # draws (scikit-learn's astype(int)) would move half of them to the code
    # below, and -0.001 would wrap round to the last category.
    C = _categories()
    pipe = make_pipeline(OrdinalEncoder(), GaussianMixture(6, random_state=0)).fit(C)
    C_new, _ = pipe.sample(4000, random_state=0)
    for j in range(2):
        real, drawn = _shares(C[:, j]), _shares(C_new[:, j])
        assert drawn.keys() == real.keys()
        for category, share in real.items():
            assert abs(drawn[category] - share) < 0.04, (category, drawn, real)


def test_ordinal_bins_are_rounded_to_existing_bins():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1000, 1))
    bins = KBinsDiscretizer(n_bins=4, encode="ordinal", strategy="quantile")
    pipe = make_pipeline(bins, GaussianMixture(4, random_state=0)).fit(X)
    X_new, _ = pipe.sample(4000, random_state=0)
    edges = pipe[0].bin_edges_[0]
    centres = (edges[1:] + edges[:-1]) / 2
    drawn = _shares(X_new[:, 0])
    assert_allclose(sorted(drawn), centres)
    assert_allclose(list(drawn.values()), 0.25, atol=0.04)


def test_function_transformer_with_inverse_func():
    rng = np.random.default_rng(0)
    X = rng.lognormal(size=(500, 2))
    pipe = make_pipeline(FunctionTransformer(np.log, inverse_func=np.exp),
                         GaussianMixture(1, random_state=0)).fit(X)
    X_new, _ = pipe.sample(2000, random_state=0)
    assert np.all(X_new > 0)
    assert_allclose(np.median(X_new, axis=0), np.median(X, axis=0), rtol=0.15)


def test_nested_and_passthrough_steps_give_the_flat_samples():
    X = _correlated()
    flat = make_pipeline(StandardScaler(), PCA(whiten=True),
                         GaussianMixture(2, random_state=0)).fit(X)
    expected, _ = flat.sample(40, random_state=1)
    nested_first = make_pipeline(
        sklearn_make_pipeline(StandardScaler(), PCA(whiten=True)),
        GaussianMixture(2, random_state=0))
    nested_last = SklearnPipeline([
        ("skip", "passthrough"),
        ("scale", StandardScaler()),
        ("none", None),
        ("model", sklearn_make_pipeline(PCA(whiten=True),
                                        GaussianMixture(2, random_state=0))),
    ])
    for pipe in (nested_first, nested_last):
        X_new, _ = sample_pipeline(pipe.fit(X), 40, random_state=1)
        assert_allclose(X_new, expected, rtol=1e-12)


# ------------------------------------------------------------ outputs


def test_labels_are_kept_and_arrays_returned_alone():
    X = _correlated()
    with_labels = make_pipeline(StandardScaler(), GaussianMixture(3, random_state=0))
    X_new, labels = with_labels.fit(X).sample(30, random_state=0)
    assert labels.shape == (30,) and set(labels) <= {0, 1, 2}
    # KernelDensity.sample returns the rows alone.
    kde = make_pipeline(StandardScaler(), KernelDensity(bandwidth=0.1)).fit(X)
    X_kde = kde.sample(30, random_state=0)
    assert isinstance(X_kde, np.ndarray) and X_kde.shape == (30, 3)
    expected = kde[0].inverse_transform(kde[-1].sample(30, random_state=0))
    assert_allclose(X_kde, expected)


@pytest.mark.parametrize(
    "model",
    [
        VAE(max_epochs=2, n_importance_samples=4, random_state=0),
        GAN(generator_hidden_layer_sizes=(8,), discriminator_hidden_layer_sizes=(8,),
            max_steps=5, random_state=0),
    ],
    ids=["VAE", "GAN"],
)
def test_neural_last_step_returns_rows_in_the_data_units(model):
    X = _correlated(200)
    pipe = make_pipeline(StandardScaler(), model).fit(X)
    X_new = pipe.sample(10, random_state=0)
    assert isinstance(X_new, np.ndarray)
    expected = pipe[0].inverse_transform(pipe[-1].sample(10, random_state=0))
    assert_allclose(X_new, expected)


def test_dataframe_in_dataframe_out():
    X = pd.DataFrame(_correlated(), columns=["age", "income", "rate"])
    pipe = make_pipeline(StandardScaler(), PCA(whiten=True),
                         GaussianMixture(2, random_state=0)).fit(X)
    X_new, _ = pipe.sample(25, random_state=0)
    assert isinstance(X_new, pd.DataFrame)
    assert list(X_new.columns) == ["age", "income", "rate"]
    assert all(dtype == np.float64 for dtype in X_new.dtypes)
    # The values are those drawn without the frame.
    array_pipe = clone(pipe).fit(X.to_numpy())
    assert_allclose(X_new.to_numpy(), array_pipe.sample(25, random_state=0)[0])


def test_dataframe_of_categories_out_of_one_hot():
    C = pd.DataFrame(_categories(), columns=["colour", "size"])
    pipe = make_pipeline(OneHotEncoder(sparse_output=False),
                         GaussianMixture(6, random_state=0)).fit(C)
    C_new, _ = pipe.sample(200, random_state=0)
    assert isinstance(C_new, pd.DataFrame)
    assert list(C_new.columns) == ["colour", "size"]
    assert set(C_new["colour"]) <= {"a", "b", "c"}
    assert set(C_new["size"]) <= {"x", "y"}


def test_set_output_pandas_pipeline_samples_without_warnings():
    X = pd.DataFrame(_correlated(), columns=["age", "income", "rate"])
    pipe = make_pipeline(StandardScaler(), QuantileTransformer(n_quantiles=100),
                         PCA(whiten=True), GaussianMixture(2, random_state=0))
    pipe.set_output(transform="pandas").fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        X_new, _ = pipe.sample(25, random_state=0)
    assert list(X_new.columns) == ["age", "income", "rate"]


class _FrameSampler(BaseEstimator):
    """A model whose sample returns a DataFrame, as a table model does."""

    def fit(self, X, y=None):
        self.model_ = GaussianMixture(1, random_state=0).fit(X)
        return self

    def sample(self, n_samples=1, *, random_state=None):
        X, _ = self.model_.sample(n_samples, random_state=random_state)
        return pd.DataFrame(X, columns=["u", "v", "w"])


def test_a_dataframe_from_the_last_step_goes_back_through_the_steps():
    X = _correlated()
    pipe = make_pipeline(StandardScaler(), _FrameSampler()).fit(X)
    X_new = pipe.sample(20, random_state=0)
    Z, _ = pipe[-1].model_.sample(20, random_state=0)
    assert_allclose(np.asarray(X_new), pipe[0].inverse_transform(Z))
    only = make_pipeline(_FrameSampler()).fit(X)
    assert list(only.sample(5).columns) == ["u", "v", "w"]


# ------------------------------------------------------------ errors


@pytest.mark.parametrize(
    "step, error, named",
    [
        (make_column_transformer((StandardScaler(), [0]), remainder="passthrough"),
         TypeError, r"'columntransformer' \(ColumnTransformer\)"),
        (PolynomialFeatures(), TypeError, r"'polynomialfeatures'"),
        (SelectKBest(f_regression, k=1), ValueError, r"'selectkbest' \(SelectKBest\)"),
        (FunctionTransformer(np.tanh), ValueError,
         r"'functiontransformer'.*inverse_func"),
        (SimpleImputer(), ValueError, r"'simpleimputer' \(SimpleImputer\)"),
    ],
)
def test_a_step_that_cannot_invert_is_named(step, error, named):
    rng = np.random.default_rng(0)
    X, y = np.abs(rng.normal(size=(80, 3))), rng.normal(size=80)
    pipe = make_pipeline(StandardScaler(), step, GaussianMixture(random_state=0))
    pipe.fit(X, y)
    with pytest.raises(error, match=named) as info:
        pipe.sample(5)
    assert "pipeline[2:]" in str(info.value)  # what to do


def test_nested_step_is_named_by_its_path():
    X = _correlated()
    pipe = make_pipeline(
        sklearn_make_pipeline(StandardScaler(), PolynomialFeatures()),
        GaussianMixture(random_state=0)).fit(X)
    with pytest.raises(TypeError, match=r"'pipeline__polynomialfeatures'"):
        pipe.sample(5)


def test_selector_keeping_every_feature_inverts():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(80, 3)), rng.normal(size=80)
    pipe = make_pipeline(SelectKBest(f_regression, k="all"),
                         GaussianMixture(random_state=0)).fit(X, y)
    assert pipe.sample(5)[0].shape == (5, 3)


def test_inverse_giving_nan_raises_naming_the_step():
    # exp then a Gaussian draws negative values, which log sends to NaN.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 1))
    pipe = make_pipeline(FunctionTransformer(np.exp, inverse_func=np.log),
                         GaussianMixture(1, random_state=0)).fit(X)
    with np.errstate(invalid="ignore"), pytest.raises(
        ValueError, match=r"'functiontransformer'.*NaN or infinity"
    ):
        pipe.sample(500, random_state=0)


def test_last_step_that_cannot_sample():
    X, y = _correlated(), np.arange(600.0)
    regression = make_pipeline(StandardScaler(), LinearRegression()).fit(X, y)
    assert not hasattr(regression, "sample")
    with pytest.raises(TypeError, match=r"'linearregression' \(LinearRegression\)"):
        sample_pipeline(regression, 5)
    ending_in_passthrough = make_pipeline(StandardScaler(), "passthrough").fit(X)
    assert not hasattr(ending_in_passthrough, "sample")
    with pytest.raises(TypeError, match="'passthrough'"):
        sample_pipeline(ending_in_passthrough, 5)
    with pytest.raises(TypeError, match="expects a scikit-learn Pipeline"):
        sample_pipeline(GaussianMixture().fit(X), 5)
    with pytest.raises(NotFittedError):
        make_pipeline(StandardScaler(), GaussianMixture()).sample(5)


# ------------------------------------------------------------ scikit-learn API


def test_subclass_keeps_the_sklearn_pipeline_api():
    X = _correlated()
    pipe = make_pipeline(StandardScaler(), GaussianMixture(2, random_state=0))
    assert isinstance(pipe, SklearnPipeline) and isinstance(pipe, Pipeline)
    assert list(pipe.named_steps) == ["standardscaler", "gaussianmixture"]
    params = pipe.get_params()
    assert params["gaussianmixture__n_components"] == 2
    copy = clone(pipe).set_params(gaussianmixture__n_components=3)
    assert type(copy) is Pipeline and copy[-1].n_components == 3
    pipe.fit(X)
    assert type(pipe[:1]) is Pipeline
    # score_samples delegates to the model, in its space.
    assert_allclose(pipe.score_samples(X),
                    pipe[-1].score_samples(pipe[0].transform(X)))


def test_grid_search_over_the_pipeline():
    X = _correlated(300)
    pipe = make_pipeline(StandardScaler(), GaussianMixture(random_state=0))
    grid = {"gaussianmixture__n_components": [1, 2]}
    for scoring in (None, make_sample_scorer("mmd")):
        search = GridSearchCV(pipe, grid, cv=3, scoring=scoring).fit(X)
        assert type(search.best_estimator_) is Pipeline
        X_new, _ = search.best_estimator_.sample(10, random_state=0)
        assert X_new.shape == (10, 3)


def test_same_seed_same_samples_and_no_global_state():
    X = _correlated()
    pipe = make_pipeline(StandardScaler(), PCA(whiten=True),
                         GaussianMixture(2, random_state=0)).fit(X)
    state = np.random.get_state()[1].copy()
    first, _ = pipe.sample(20, random_state=7)
    assert_array_equal(pipe.sample(20, random_state=7)[0], first)
    assert not np.allclose(pipe.sample(20, random_state=8)[0], first)
    # None falls back to the model's own random_state, as its sample does.
    assert_array_equal(pipe.sample(20)[0], pipe.sample(20)[0])
    assert_array_equal(np.random.get_state()[1], state)


def test_a_table_encoder_step_gives_a_table_back():
    import pandas as pd

    from skgen import GaussianMixture
    from skgen.pipeline import make_pipeline
    from skgen.preprocessing import TableEncoder

    rng = np.random.default_rng(0)
    n = 400
    city = rng.choice(["Oslo", "Rome"], n, p=[0.7, 0.3])
    table = pd.DataFrame({
        "height": np.where(city == "Oslo", rng.normal(180, 5, n),
                           rng.normal(160, 5, n)),
        "children": rng.poisson(2, n),
        "city": pd.Categorical(city),
        "member": rng.random(n) < 0.4,
    })
    pipe = make_pipeline(TableEncoder(),
                         GaussianMixture(4, covariance_type="diag", random_state=0))
    samples, _ = pipe.fit(table).sample(2000, random_state=0)
    assert list(samples.columns) == list(table.columns)
    assert (samples.dtypes == table.dtypes).all()
    assert samples["children"].between(0, table["children"].max()).all()
    # the numbers follow their category through the encoder and back
    by_city = samples.groupby("city", observed=True)["height"].mean()
    assert by_city["Oslo"] - by_city["Rome"] > 10
