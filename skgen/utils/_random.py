"""numpy random generators from scikit-learn's ``random_state`` values."""

from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["check_generator"]


def check_generator(random_state):
    """A numpy Generator; None gives a fresh one, never numpy's global state."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, Integral):
        return np.random.default_rng(int(random_state))
    # A RandomState (anything else is refused by check_random_state): its
    # stream seeds the generator, so that calls with the same instance differ.
    legacy = check_random_state(random_state)
    return np.random.default_rng(legacy.randint(np.iinfo(np.int32).max))
