"""The table front door: one answer to "is this a table?" for every model."""

import numpy as np
import pandas as pd
import pytest

from skgen import GAN, VAE, TabularMixture
from skgen.preprocessing._table_input import is_table

FAST = {
    "VAE": dict(hidden_layer_sizes=(8,), max_epochs=2, early_stopping=False),
    "GAN": dict(generator_hidden_layer_sizes=(8,),
                discriminator_hidden_layer_sizes=(8,), max_steps=10, n_critic=1),
}


def _numeric_frame(n=80):
    rng = np.random.default_rng(0)
    return pd.DataFrame({"a": rng.normal(size=n), "b": rng.integers(0, 5, n)})


@pytest.mark.parametrize(
    "categorical_features, expected",
    [
        (None, False),
        ("from_dtype", False),
        ([], False),
        ([False, False], False),
        (np.array([False, False]), False),
        ([True, False], True),
        ([1], True),
        (["b"], True),
    ],
)
def test_is_table_on_a_numeric_frame(categorical_features, expected):
    assert is_table(_numeric_frame(), categorical_features) is expected


def test_is_table_from_dtype():
    frame = _numeric_frame()
    assert is_table(frame.assign(c=pd.Categorical(["x", "y"] * 40)))
    assert is_table(frame.assign(flag=frame["a"] > 0))
    assert is_table(frame.assign(when=pd.Timestamp("2026-01-01")))  # then refused
    assert not is_table(frame.to_numpy())
    assert not is_table(frame.to_numpy(), "from_dtype")


@pytest.mark.parametrize("mask", [[False, False], np.array([False, False]), []])
def test_vae_and_gan_agree_that_no_selected_column_is_numeric(mask):
    X = _numeric_frame().to_numpy(dtype=float)
    for name, cls in (("VAE", VAE), ("GAN", GAN)):
        model = cls(categorical_features=mask, random_state=0, **FAST[name]).fit(X)
        assert not hasattr(model, "encoder_"), name


def test_models_name_the_column_and_values_of_unseen_categories():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({
        "x": rng.normal(size=120),
        "colour": pd.Categorical(rng.choice(["red", "blue"], 120)),
    })
    bad = frame.iloc[:3].astype({"colour": object})
    bad.loc[bad.index[1], "colour"] = "green"
    models = [
        TabularMixture(2, random_state=0).fit(frame),
        VAE(random_state=0, **FAST["VAE"]).fit(frame),
        GAN(random_state=0, **FAST["GAN"]).fit(frame),
    ]
    for model in models:
        with pytest.raises(ValueError, match=r"not seen in fit.*'colour' \('green'\)"):
            model.score_samples(bad)


@pytest.mark.parametrize("X, found", [
    (pd.DataFrame({"bill": [39.1, 39.5, 40.3], "species": ["Adelie"] * 3}),
     r"columns \['species'\] are not numbers"),
    (pd.DataFrame({"x": [1.0, 2.0, 3.0], "member": [True, False, True]}),
     r"columns \['member'\] are not numbers"),
    (np.array([[39.1, "Adelie"], [39.5, "Gentoo"]], dtype=object), "holds strings"),
])
def test_gaussian_mixture_points_a_table_to_the_table_models(X, found):
    from skgen import GaussianMixture

    for method in ("fit", "partial_fit"):
        with pytest.raises(ValueError, match=found) as error:
            getattr(GaussianMixture(1), method)(X)
        assert "TabularMixture" in str(error.value)
    fitted = GaussianMixture(1).fit(np.array([[1.0, 2.0], [2.0, 1.0], [0.0, 0.5]]))
    with pytest.raises(ValueError, match="TabularMixture"):
        fitted.score_samples(X)


def test_numbers_written_as_strings_are_still_numbers():
    from skgen import GaussianMixture

    X = np.array([["1.5", "2"], ["3", "4"], ["0", "1"]])
    np.testing.assert_allclose(GaussianMixture(1).fit(X).means_, [[1.5, 7 / 3]])
