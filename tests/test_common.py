"""scikit-learn's estimator checks over every public skgen estimator."""

import sklearn
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.fixes import parse_version

from skgen import (
    GAN,
    VAE,
    DensityOutlierDetector,
    GaussianMixture,
    GenerativeImputer,
    TabularMixture,
)
from skgen.preprocessing import TableEncoder

# Every public estimator, with the parameters the checks run it with.
ESTIMATORS = [
    GaussianMixture(),
    # Two components: the sample-weight checks then test the initialisation
    # (weights must equal repeated rows for every init but "random").
    GaussianMixture(n_components=2),
    GaussianMixture(n_components=2, init_params="k-means++"),
    GaussianMixture(n_components=2, init_params="random_from_data"),
    DensityOutlierDetector(),
    GenerativeImputer(),
    # The default chooses n_components on a validation split; the sample-weight
    # checks then test that the split and the init follow values, not positions.
    TabularMixture(random_state=0),
    TabularMixture(n_components=2, random_state=0),
    TableEncoder(),
    # Few epochs and importance draws: the checks test the contract, not the fit.
    VAE(max_epochs=3, n_importance_samples=16, random_state=0),
    VAE(max_epochs=3, n_importance_samples=16, n_decoder_components=1,
        support_fraction=1.0, random_state=0),
    # A small step budget and small networks, likewise.
    GAN(generator_hidden_layer_sizes=(16,), discriminator_hidden_layer_sizes=(16,),
        max_steps=10, n_critic=2, random_state=0),
]

# The one place where expected failures are kept: {estimator class name:
# {check name: reason}}. GaussianMixture has none.
EXPECTED_FAILED_CHECKS = {}

# scikit-learn 1.7 gives an estimator with the 'categorical' input tag (the
# VAE and the GAN take tables) int32 data in this check, then subtracts a float
# mean in place, which raises before the estimator is called; later versions
# cast the mean first. Only at the floor version is it an expected failure.
if parse_version(sklearn.__version__) < parse_version("1.8"):
    for _name in ("VAE", "GAN"):
        EXPECTED_FAILED_CHECKS.setdefault(_name, {})[
            "check_positive_only_tag_during_fit"
        ] = "scikit-learn 1.7's check casts X to int32, then subtracts a float"


# The check's 15 rows have 15 values per column: TabularMixture models such
# columns as discrete, and dequantizes each row with its own draw, so the
# copies of a row and its weight see different draws. With n_components=2 the
# fits agree all the same; with 'auto' the held-out choice shares repeated
# rows between its sides, and the candidates' fits, which follow the draws,
# can start the final fit elsewhere. (With continuous columns they are equal.)
AUTO_TABULAR_FAILED_CHECKS = {
    "check_sample_weight_equivalence_on_dense_data":
        "copies of a row of a discrete column get their own dequantization draws",
}


def _expected_failed_checks(estimator):
    failed = dict(EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {}))
    if isinstance(estimator, TabularMixture) and estimator.n_components == "auto":
        failed.update(AUTO_TABULAR_FAILED_CHECKS)
    return failed


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
