"""Small torch helpers shared by every skgen estimator."""

import warnings

import numpy as np
import torch
from sklearn.utils import check_random_state

__all__ = ["as_tensor", "make_torch_generator", "resolve_device"]


def resolve_device(device):
    """Turn the ``device`` parameter into a :class:`torch.device`.

    Raises a ``ValueError`` that names the remedy when the string is not a
    device torch knows, or when CUDA is asked for on a machine without it.
    """
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device={device!r} is not a valid torch device. Use 'cpu' or 'cuda'."
        ) from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but CUDA is not available on this "
            "machine. Use device='cpu'."
        )
    return resolved


def as_tensor(array, device):
    """View a validated numpy array as a tensor on ``device``.

    On the CPU this shares memory with ``array``: the data are not copied,
    except when the array has a negative stride (``X[::-1]``), which torch
    cannot view.  torch warns about read-only arrays (a memmap, say) because it cannot
    protect them from writes; skgen never writes to its input, so that
    warning is silenced here rather than paid for with a copy.
    """
    array = np.asarray(array)
    if any(stride < 0 for stride in array.strides):
        array = np.ascontiguousarray(array)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*not writable.*")
        tensor = torch.as_tensor(array)
    return tensor.to(device)


def make_torch_generator(random_state, device="cpu"):
    """Derive a private :class:`torch.Generator` from ``random_state``.

    The global torch random state is left untouched: the seed is drawn from
    the numpy ``RandomState`` that :func:`~sklearn.utils.check_random_state`
    returns, so the same ``random_state`` gives the same stream.
    """
    rng = check_random_state(random_state)
    seed = int(rng.randint(np.iinfo(np.int32).max))
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    return generator
