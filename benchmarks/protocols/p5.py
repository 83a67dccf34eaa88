"""Protocol P5: training throughput of the VAE and the GAN against bare torch loops.

Follows P5 of ``PROTOCOLS.md`` (in the shared folder beside the checkout).

**VAE.** Seconds per epoch of ``VAE.fit`` from the slope between fits of 2
and 6 epochs (``early_stopping=False`` so that both loops see the same rows;
``n_importance_samples=1`` because the scoring pass at the end of ``fit`` is
not training and cancels in the slope). The reference is a bare loop over
the same torch modules and optimiser: a permuted index, tensor slicing per
batch, forward, backward, step.

**GAN.** N = 50 000 rows, d = 32, standard normal, ``batch_size=256``, 1 torch thread
(and 1 BLAS thread). Seconds per epoch of ``GAN.fit`` come from the slope
between fits of 2 and 6 epochs (``max_epochs`` 2 and 6, ``max_steps`` and
``early_stopping`` out of the way), so that set-up and the end-of-fit work
(reference samples and the scores behind ``offset_``) drop out.

The reference is a bare loop over the same torch modules (built by the
estimator's own net, so same sizes and initialisation) and two Adam
optimisers with the same settings (fused, as the estimator's): per epoch a
permuted index, tensor slicing per batch, one critic step (the estimator's
loss, with packing) per batch, one generator step after every ``n_critic``
batches, and the same running average of the generator's weights after
each generator step, written as a plain in-place ``lerp_``; its seconds per
epoch come from the same slope. Default GAN parameters otherwise (``lr``
fixed at 1e-3). Repeats run as A, B, A, B, ...; medians are quoted.

Usage::

    python -m benchmarks P5           # 5 repeats each
    python -m benchmarks P5 --quick   # 1 repeat, N = 5 000
"""

import copy
import math
import platform
import statistics
import sys
import time

import numpy as np
import torch

from benchmarks._harness import (
    argument_parser,
    command_line,
    load_average,
    machine_line,
    pin_threads,
    write_results,
)
from skgen import GAN, VAE

TITLE = "Training throughput of the VAE and the GAN against a bare torch loop"


def _timed_fit(estimator, X):
    start = time.perf_counter()
    estimator.fit(X)
    return estimator, time.perf_counter() - start


def _bare_loop_seconds(X, epochs, batch_size, seed, **vae_params):
    """Seconds of ``epochs`` epochs of a bare loop over VAE's own modules.

    ``vae_params`` choose the modules (for example a plain one-normal VAE);
    by default they are the VAE's defaults.
    """
    # Build the module and criterion exactly as VAE does (one short fit on a
    # few rows), then train fresh copies of them in a plain loop.
    template = VAE(batch_size=batch_size, max_epochs=1, early_stopping=False,
                   n_importance_samples=1, random_state=seed,
                   **vae_params).fit(X[:64])
    net = template.net_
    module = type(net.module_)(**net.get_params_for("module"))
    criterion = type(net.criterion_)(**net.get_params_for("criterion"))
    optimizer = torch.optim.Adam(module.parameters(), lr=net.lr)
    generator = torch.Generator().manual_seed(seed)
    X_tensor = torch.as_tensor(X, dtype=torch.float32)
    module.train()
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(X_tensor), generator=generator)
        for first in range(0, len(X_tensor), batch_size):
            batch = X_tensor[order[first : first + batch_size]]
            optimizer.zero_grad()
            loss = criterion(module(batch, generator=generator), batch)
            loss.backward()
            optimizer.step()
    return time.perf_counter() - start


def _skgen_seconds(X, epochs, batch_size, seed):
    vae = VAE(batch_size=batch_size, max_epochs=epochs, early_stopping=False,
              n_importance_samples=1, random_state=seed)
    return _timed_fit(vae, X)[1]


def run_vae(quick):
    n_samples = 5_000 if quick else 50_000
    repeats = 1 if quick else 5
    X = np.random.default_rng(0).standard_normal((n_samples, 32))
    batch_size = 256
    slopes = {"skgen VAE.fit": [], "bare loop": []}
    timers = {"skgen VAE.fit": _skgen_seconds, "bare loop": _bare_loop_seconds}
    _skgen_seconds(X[:1000], 1, batch_size, 0)  # warm-up: imports, allocator
    for repeat in range(repeats):
        for name, timer in timers.items():  # A, B, A, B, ...
            short = timer(X, 2, batch_size, repeat)
            long = timer(X, 6, batch_size, repeat)
            slopes[name].append((long - short) / 4)
            print(f"  repeat {repeat} {name}: {slopes[name][-1]:.3f} s/epoch",
                  file=sys.stderr)
    skgen = statistics.median(slopes["skgen VAE.fit"])
    bare = statistics.median(slopes["bare loop"])
    lines = [
        f"N = {n_samples}, d = 32, batch_size = 256, 1 torch thread, "
        f"median of {repeats} slopes (2 to 6 epochs).",
        "",
        "| loop | s/epoch (median) | all slopes | ratio to bare loop |",
        "|---|---|---|---|",
    ]
    for name, value in (("skgen VAE.fit", skgen), ("bare loop", bare)):
        lines.append(
            f"| {name} | {value:.3f} | "
            + ", ".join(f"{s:.3f}" for s in slopes[name])
            + f" | {value / bare:.2f}x |"
        )
    ratios = [a / b for a, b in zip(slopes["skgen VAE.fit"], slopes["bare loop"],
                                    strict=True)]
    figures = {"vae_ratio": round(skgen / bare, 2),
               "vae_ratio_per_repeat": round(statistics.median(ratios), 2)}
    return "\n".join(lines), figures





def _estimator(epochs):
    return GAN(max_epochs=epochs, max_steps=10**9, batch_size=256, lr=1e-3,
               early_stopping=False, random_state=0)


def time_skgen(X, epochs):
    gan = _estimator(epochs)
    start = time.perf_counter()
    gan.fit(X)
    return time.perf_counter() - start


def time_bare(X, epochs):
    """The same modules and optimiser settings, trained by a plain loop."""
    gan = _estimator(epochs)
    gan.n_features_in_ = X.shape[1]
    gan._block_sizes = ()  # numeric data: no categorical blocks (set by fit)
    net = gan._make_net(X, seed=0, device=torch.device("cpu"))
    generator_net = copy.deepcopy(net.module_)
    critic = copy.deepcopy(net.critic_)
    opt_g = torch.optim.Adam(generator_net.parameters(), lr=gan.lr, betas=(0.5, 0.9),
                             fused=True)
    opt_c = torch.optim.Adam(critic.parameters(), lr=gan.lr, betas=(0.5, 0.9),
                             fused=True)
    average = [p.detach().clone() for p in generator_net.parameters()]
    softplus = torch.nn.functional.softplus
    rng = torch.Generator().manual_seed(0)
    pac, n_critic, batch_size = gan.pac, gan.n_critic, gan.batch_size
    latent_dim, d = gan.latent_dim, X.shape[1]

    start = time.perf_counter()
    data = torch.as_tensor(X, dtype=torch.float32)
    data = (data - generator_net.loc) / generator_net.scale
    step = 0
    for _ in range(epochs):
        order = torch.randperm(len(data), generator=rng)
        for first in range(0, len(data), batch_size):
            real = data[order[first:first + batch_size]]
            n_packs = math.ceil(len(real) / pac)
            if n_packs * pac != len(real):
                real = real[torch.arange(n_packs * pac) % len(real)]
            real = real.reshape(n_packs, pac * d)
            with torch.no_grad():
                z = torch.randn(n_packs * pac, latent_dim, generator=rng)
                fake = generator_net(z)
            fake = fake.reshape(n_packs, pac * d)
            if gan.loss == "nonsaturating":
                loss = softplus(-critic(real)).mean() + softplus(critic(fake)).mean()
            else:
                eps = torch.rand(n_packs, 1, generator=rng)
                between = (eps * real + (1 - eps) * fake).requires_grad_(True)
                (grad,) = torch.autograd.grad(critic(between).sum(), between,
                                              create_graph=True)
                loss = (critic(fake).mean() - critic(real).mean()
                        + gan.gp_weight * ((grad.norm(dim=1) - 1) ** 2).mean())
            opt_c.zero_grad(set_to_none=True)
            loss.backward()
            opt_c.step()
            loss.item()
            step += 1
            if step % n_critic == 0:
                critic.requires_grad_(False)
                z = torch.randn(n_packs * pac, latent_dim, generator=rng)
                fake = generator_net(z)
                d_fake = critic(fake.reshape(n_packs, pac * d))
                if gan.loss == "nonsaturating":
                    g_loss = softplus(-d_fake).mean()
                else:
                    g_loss = -d_fake.mean()
                opt_g.zero_grad(set_to_none=True)
                g_loss.backward()
                opt_g.step()
                critic.requires_grad_(True)
                g_loss.item()
                n_steps = step // n_critic
                decay = min(0.999, n_steps / (9.0 + n_steps))
                with torch.no_grad():
                    for a, p in zip(average, generator_net.parameters(), strict=True):
                        a.lerp_(p, 1.0 - decay)
    return time.perf_counter() - start


def run_gan(quick):
    n_rows = 5_000 if quick else 50_000
    repeats = 1 if quick else 5
    X = np.random.default_rng(0).standard_normal((n_rows, 32))

    # Warm-up: the first Adam of a process imports torch._dynamo (seconds).
    time_skgen(X[:1000], 1), time_bare(X[:1000], 1)
    per_epoch = {"skgen GAN.fit": [], "bare torch loop": []}
    for _ in range(repeats):
        # A, B, A, B: each slope from a 2-epoch and a 6-epoch fit.
        skgen_2, bare_2 = time_skgen(X, 2), time_bare(X, 2)
        skgen_6, bare_6 = time_skgen(X, 6), time_bare(X, 6)
        per_epoch["skgen GAN.fit"].append((skgen_6 - skgen_2) / 4)
        per_epoch["bare torch loop"].append((bare_6 - bare_2) / 4)
    gan = _estimator(2)
    ratios = [a / b for a, b in zip(*per_epoch.values(), strict=True)]
    median = {name: statistics.median(v) for name, v in per_epoch.items()}

    lines = [
        f"N = {n_rows}, d = 32, standard normal, batch_size=256, default GAN "
        f"(loss={gan.loss}, pac={gan.pac}, n_critic={gan.n_critic}, networks "
        f"{gan.generator_hidden_layer_sizes} and "
        f"{gan.discriminator_hidden_layer_sizes}); 1 torch thread, 1 BLAS "
        f"thread; {repeats} repeats as A, B, A, B; medians. torch "
        f"{torch.__version__}, {platform.processor() or platform.machine()}.",
        "",
        "| loop | s / epoch (median) | per repeat |",
        "|---|---|---|",
    ]
    for name, values in per_epoch.items():
        lines.append(f"| {name} | {median[name]:.3f} | "
                     + ", ".join(f"{v:.3f}" for v in values) + " |")
    lines += [
        "",
        f"Ratio skgen / bare: **{statistics.median(ratios):.2f}x** (median of the "
        "per-repeat ratios; goal <= 1.3x).",
    ]
    return "\n".join(lines), {"gan_ratio": round(statistics.median(ratios), 2)}


def main(argv=None):
    parser = argument_parser(__doc__)
    parser.add_argument("--only", choices=["vae", "gan"], default=None)
    args = parser.parse_args(argv)
    pin_threads(1)
    start = load_average()
    body, figures = [], {}
    if args.only in (None, "vae"):
        text, found = run_vae(args.quick)
        body.append("## VAE\n\n" + text)
        figures.update(found)
    if args.only in (None, "gan"):
        text, found = run_gan(args.quick)
        body.append("## GAN\n\n" + text)
        figures.update(found)
    command = command_line("P5", argv)
    path = write_results("P5", TITLE, "\n\n".join(body), figures, quick=args.quick,
                         machine=machine_line(start), command=command.strip())
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
