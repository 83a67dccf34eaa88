"""The VAE's answers given observed entries: imputation and conditional draws.

Both weight latents drawn from the encoder given a row's observed entries by
``p(x_obs | z) p(z) / q(z | x_obs)`` (``_VAEModule.importance``): the
imputation averages the decoder's means with these weights, the draws
resample one latent by them and draw the missing entries from the decoder.
"""

import numpy as np
import torch

from skgen.utils._missing import fill_missing, nan_marked
from skgen.utils._torch import make_torch_generator

__all__ = ["conditional_draws", "conditional_mean", "draw_bytes", "gap_input"]


def conditional_mean(vae, X):
    """``vae.impute(X)``: the missing entries of X at their conditional mean."""
    X, Z, missing = gap_input(vae, X)
    module = vae._inference_module()
    Z_tensor = vae._as_inference_tensor(Z)
    observed = ~torch.isnan(Z_tensor)
    offsets = module.offsets if module.n_dequantized else None
    rows = vae._chunk_rows(draw_bytes(module) * len(module.eps))
    means = torch.empty_like(Z_tensor)
    with vae._threads(), torch.no_grad():
        for start in range(0, len(Z), rows):
            part = slice(start, start + rows)
            log_w, _, out = module.importance(
                Z_tensor[part], module.eps, offsets, observed[part]
            )
            weight = torch.softmax(log_w, dim=1)[..., None]
            means[part] = (weight * module.mean_from_out(out)).sum(1)
    means = means.cpu().numpy()
    if not hasattr(vae, "encoder_"):
        return np.where(missing, means, Z)
    n_numeric = module.n_numeric
    integer = module.dequantized[:n_numeric].cpu().numpy()
    means[:, :n_numeric] = np.where(integer, np.round(means[:, :n_numeric]),
                                    means[:, :n_numeric])
    return fill_missing(X, vae.encoder_.inverse_transform(means), missing)


def conditional_draws(vae, X, n_samples, random_state):
    """``vae.sample_conditional(X, n_samples, random_state=...)``."""
    X, Z, missing = gap_input(vae, X)
    module = vae._inference_module()
    device = vae.net_.device
    generator = make_torch_generator(
        vae.random_state if random_state is None else random_state, device
    )
    n_rows, width = Z.shape
    # The rows of draw i are rows i * n_rows ... (i + 1) * n_rows - 1.
    Z_tensor = vae._as_inference_tensor(Z).repeat(n_samples, 1)
    observed = ~torch.isnan(Z_tensor)
    k, latent_dim = module.eps.shape
    rows = vae._chunk_rows(draw_bytes(module) * k)
    drawn = torch.empty_like(Z_tensor)
    with vae._threads(), torch.no_grad():
        for start in range(0, len(Z_tensor), rows):
            part = slice(start, start + rows)
            x = Z_tensor[part]
            eps = torch.randn((len(x), k, latent_dim), generator=generator,
                              dtype=torch.float64, device=device)
            offsets = None
            if module.n_dequantized:
                offsets = torch.rand((len(x), k, width), generator=generator,
                                     dtype=torch.float64, device=device)
                offsets = offsets * module.dequantized
            log_w, z, _ = module.importance(x, eps, offsets, observed[part])
            pick = torch.multinomial(torch.softmax(log_w, dim=1), 1,
                                     generator=generator)[:, 0]
            chosen = z[torch.arange(len(x), device=device), pick]
            drawn[part] = module.draw(chosen, generator)
    drawn = drawn.cpu().numpy().reshape(n_samples, n_rows, width)
    if not hasattr(vae, "encoder_"):
        return np.where(missing, drawn, Z)
    filled = [fill_missing(X, vae.encoder_.inverse_transform(draw), missing)
              for draw in drawn]
    if hasattr(X, "iloc"):
        import pandas as pd

        return pd.concat(filled, keys=range(n_samples), names=["draw"])
    return np.stack(filled)


def gap_input(vae, X):
    """``(X, Z, missing)``: X with NaN gaps, the model's matrix, the gaps.

    ``missing`` is the mask of the missing entries of X's columns.
    """
    Z = vae._inference_matrix(X)
    if not hasattr(vae, "encoder_"):
        return Z, Z, np.isnan(Z)
    X = nan_marked(X, vae.missing_values)
    return X, Z, vae.encoder_.missing_mask(X)


def draw_bytes(module):
    """Bytes of the float64 temporaries of one row and importance draw."""
    widths = [module.decoder[-1].out_features * 4, len(module.loc) * 4,
              module.latent_dim * 4]
    widths += [layer.out_features for layer in module.decoder
               if isinstance(layer, torch.nn.Linear)]
    widths += [layer.out_features for layer in module.encoder
               if isinstance(layer, torch.nn.Linear)]
    return 8 * sum(widths)
