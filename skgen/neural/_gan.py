"""Generative adversarial network trained through skorch.

A generator ``G`` maps latent draws ``z ~ N(0, I)`` to data; a critic
(discriminator) ``D`` tells data from generated rows.  The two are trained in
turn: ``n_critic`` critic steps, each on one batch of data, then one
generator step.  Two losses:

* ``"wgan-gp"``: the Wasserstein loss with a gradient penalty (Gulrajani et
  al., 2017): the critic minimises ``D(fake) - D(real) + gp_weight * (||grad
  D(x_hat)|| - 1)^2`` on random interpolates ``x_hat``, the generator
  minimises ``-D(fake)``;
* ``"nonsaturating"``: the logistic loss of Goodfellow et al. (2014) with the
  non-saturating generator loss ``-log sigmoid(D(fake))``.

With ``pac > 1`` the critic sees packs of ``pac`` rows concatenated into one
input (PacGAN, Lin et al., 2018), which penalises a generator that drops
modes.

The data are standardised inside the model (mean and standard deviation of
the training data); the generator and critic work in standardised units.
On a table (:class:`~skgen.preprocessing.TableEncoder`), the generator's
output ends with a block of logits per categorical column; the critic sees
one-hot draws of them in training (straight-through Gumbel-softmax), and
``sample`` draws exact categories too.

skorch's ``NeuralNet`` steps every optimiser on one loss at each batch, which
is wrong for a GAN: :class:`_GANNet` carries the critic and its optimiser as
a second module and optimiser and replaces ``train_step``.
"""

import copy
import math
import time
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import _fit_context
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    check_is_fitted,
    validate_data,
)
from skorch.callbacks import Callback
from torch.optim.adam import adam as functional_adam

from skgen.metrics import mmd
from skgen.neural._base import (
    _DIVERGED,
    BaseTorchEstimator,
    _seed_from,
    _stream_generator,
    _TensorBatches,
    _TorchNet,
    check_finite_or_diverged,
    flush_denormals,
    initialise_module_,
    make_mlp,
)
from skgen.neural._categorical import gumbel_softmax_blocks, sample_blocks
from skgen.outlier._conventions import OutlierConventionsMixin
from skgen.preprocessing._table import TableEncoder, adopt_encoder
from skgen.preprocessing._table_input import (
    check_known_categories,
    check_table,
    is_table,
)
from skgen.utils._torch import make_torch_generator

__all__ = ["GAN"]

# Seed streams of a fit (stream 0 is the module, 1, 2, ... the fit calls).
_CRITIC_STREAM = 2**20
_REFERENCE_STREAM = 2**20 + 1
_TRUNCATION_STREAM = 2**20 + 2
_VALIDATION_STREAM = 2**20 + 3
_CHECK_DRAWS_STREAM = 2**20 + 4

# Generated and held-out rows compared at each check of the stopping rule.
_N_VALIDATION_ROWS = 1024
# The stopping rule waits for this many passes over the training rows: on a
# large table the held-out distance falls slowly, pass after pass, and
# stalls for a while at a time, which patience alone reads as the end; a
# small table is passed over this many times in a few hundred steps.
_WARM_UP_EPOCHS = 50


def _wait_steps(n_train, batch_rows, n_critic):
    """Generator steps of the stopping rule's wait of _WARM_UP_EPOCHS passes."""
    return _WARM_UP_EPOCHS * math.ceil(n_train / batch_rows) / n_critic

# Latent draws at fit time whose Jacobian norms set the truncation threshold.
_N_THRESHOLD = 8192

# Rounds of rejection sampling before ``sample`` gives up. Each round draws
# what is missing divided by the accepted share, plus a margin, so that at
# the share fit measured one or two rounds suffice; a rate far below it
# (a generator or threshold changed since fit) would otherwise loop forever.
_MAX_ROUNDS = 10

# Rows per critic step with batch_size="auto" (fewer when the data have
# fewer), and the learning rate at that many rows with lr="auto".
_AUTO_BATCH_SIZE = 256
_AUTO_LR = 1e-3
# On a large table, batch_size="auto" doubles the rows until the stopping
# rule's wait of _WARM_UP_EPOCHS passes takes at most half of max_steps, up
# to this many rows, and lr="auto" scales the rate by the square root of
# the rows' growth (the square-root rule for Adam, Malladi et al., 2022).
# At 256 rows the P4 grid (90 000 training rows: a wait of 17 600 of the
# 20 000 steps) still sharpened its modes at the cap, two of six seeds
# under 80% HQ; at 512 rows (and 1.41e-3) all six had 25 modes and 99%
# HQ by 16 500 steps (benchmarks/results/gan16_p4.md). The same rows at
# twice the rate (the linear rule) lost modes on seed 0, and 1 024 rows
# took more seconds than they saved steps: hence the cap.
_MAX_AUTO_BATCH_SIZE = 512

# Generated rows drawn once at fit time; score_samples measures the distance
# of a row to its nearest neighbours among them.
_N_REFERENCE = 2048
_N_NEIGHBORS = 5

# The seed of the samples that ``score`` compares with X.
_SCORE_SEED = 0

# Temperature of the Gumbel-softmax relaxation whose gradient the
# categorical outputs take in training (straight-through, see
# _Generator.rows): low enough that the relaxed draw is close to the hard
# one the critic sees, high enough that the gradients through the softmax
# do not vanish. CTGAN uses the same value.
_GUMBEL_TAU = 0.2


class _Generator(torch.nn.Module):
    """The generator, with the standardisation of the data as buffers.

    ``forward(z)`` returns rows in standardised units; ``to_data`` maps them
    back to the units of the training data.

    On a table the output ends with one block of logits per categorical
    column (``block_sizes``), after ``n_numeric`` numeric columns; ``rows``
    turns the logits into one-hot rows (relaxed in training) and leaves the
    numeric columns as they are.  The one-hot columns have a location of 0
    and a scale of 1, so that the data's one-hot rows are their own
    standardised form.
    """

    def __init__(self, latent_dim, hidden_layer_sizes, n_features, loc, scale, seed,
                 block_sizes=()):
        super().__init__()
        self.latent_dim = latent_dim
        self.block_sizes = tuple(block_sizes)
        self.n_numeric = n_features - sum(self.block_sizes)
        self.net = make_mlp(latent_dim, hidden_layer_sizes, n_features, "relu")
        initialise_module_(self, torch.Generator().manual_seed(seed))
        self.register_buffer("loc", torch.as_tensor(loc, dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))

    def forward(self, z):
        return self.net(z)

    def rows(self, out, generator, tau=None):
        """Outputs as the critic sees them: numeric columns, one-hot blocks.

        ``tau`` gives straight-through Gumbel-softmax draws at that
        temperature, for training: exact one-hot rows forward (the argmax
        of the relaxed draw, a draw of the block's categorical
        distribution) with the gradient of the relaxed draw backward, so
        that the critic cannot tell generated rows from the data's one-hot
        rows by their softness. None draws exact one-hot rows, without
        gradient.
        """
        if not self.block_sizes:
            return out
        numeric, logits = out[:, : self.n_numeric], out[:, self.n_numeric :]
        if tau is None:
            onehot = sample_blocks(logits, self.block_sizes, generator)
        else:
            soft = gumbel_softmax_blocks(logits, self.block_sizes, tau, generator)
            hard = torch.cat([
                torch.nn.functional.one_hot(block.argmax(1), block.shape[1])
                for block in soft.split(self.block_sizes, dim=1)
            ], dim=1).to(soft.dtype)
            onehot = hard - soft.detach() + soft
        return torch.cat([numeric, onehot], dim=1)

    def to_data(self, x_std):
        return x_std * self.scale + self.loc


class _NumericHead(torch.nn.Module):
    """The generator's network restricted to its numeric outputs.

    The Jacobian truncation measures the steepness of the numeric columns
    only: the logits of the categorical blocks are not data.
    """

    def __init__(self, net, n_numeric):
        super().__init__()
        self.net = net
        self.n_numeric = n_numeric

    def forward(self, z):
        return self.net(z)[..., : self.n_numeric]


class _Critic(torch.nn.Module):
    """The critic: one real number per pack of ``pac`` rows."""

    def __init__(self, n_features, pac, hidden_layer_sizes, seed):
        super().__init__()
        self.pac = pac
        self.net = make_mlp(n_features * pac, hidden_layer_sizes, 1, "relu")
        initialise_module_(self, torch.Generator().manual_seed(seed))

    def forward(self, packs):
        return self.net(packs).squeeze(-1)


def _pack(x, pac):
    """Rows of ``x`` as ``ceil(n / pac)`` packs of ``pac`` concatenated rows.

    A batch whose size is not a multiple of ``pac`` is completed cyclically
    with its own first rows, so that every row is used and no batch is too
    small (skorch's last batch of an epoch is usually short).
    """
    n_rows, n_features = x.shape
    n_packs = -(-n_rows // pac)
    if n_packs * pac != n_rows:
        index = torch.arange(n_packs * pac, device=x.device) % n_rows
        x = x[index]
    return x.reshape(n_packs, pac * n_features)


class _RunningAverage:
    """Exponential moving average of a module's weights, decay warming up to 0.999.

    The decay ``min(0.999, (1 + n) / (10 + n))`` after ``n`` updates lets a
    short run forget its initial weights; a fixed 0.999 would keep them for
    thousands of steps. The first update copies the weights.

    Written here rather than with :class:`torch.optim.swa_utils.AveragedModel`,
    which walks the modules and regroups the parameters at every update: at
    one update per generator step that walk costs more than the average.
    The parameter lists are taken once and updated by one fused ``lerp``.
    """

    def __init__(self, module):
        self.module = copy.deepcopy(module).requires_grad_(False)
        self._averaged = list(self.module.parameters())
        self._current = list(module.parameters())
        self.n_averaged = 0

    @torch.no_grad()
    def update(self):
        if self.n_averaged == 0:
            torch._foreach_copy_(self._averaged, self._current)
        else:
            n = self.n_averaged
            decay = min(0.999, (1.0 + n) / (10.0 + n))
            torch._foreach_lerp_(self._averaged, self._current, 1.0 - decay)
        self.n_averaged += 1


class _AdamSteps:
    """Adam steps of one optimiser on the gradients of a loss.

    ``loss.backward()`` then ``optimizer.step()`` and ``zero_grad()`` cost
    about 0.2 ms per call of the step's Python wrappers (a profiler record,
    grad-mode and graph-capture checks, the regrouping of the state at
    every call), four times the fused update itself at a GAN's widths of
    128, and a GAN makes two such steps per generator step.  This takes the
    gradients with :func:`torch.autograd.grad`, which also leaves the
    other network's weights without gradients, and hands them to torch's
    functional Adam (``torch.optim.adam.adam``) with the optimiser's own
    state and hyperparameters, read at every step (a callback may change
    the learning rate): the same arithmetic, bit for bit.  The first step
    goes through ``optimizer.step``, so that torch creates the state.
    """

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self._started = False

    def __call__(self, loss):
        optimizer = self.optimizer
        params = [p for group in optimizer.param_groups for p in group["params"]]
        grads = torch.autograd.grad(loss, params)
        if not self._started:
            for param, grad in zip(params, grads, strict=True):
                param.grad = grad
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            self._started = True
            return
        with torch.no_grad():  # as Adam.step: the update is not differentiated
            self._update(optimizer, iter(grads))

    @staticmethod
    def _update(optimizer, grads):
        for group in optimizer.param_groups:
            states = [optimizer.state[p] for p in group["params"]]
            beta1, beta2 = group["betas"]
            functional_adam(
                group["params"], [next(grads) for _ in states],
                [s["exp_avg"] for s in states], [s["exp_avg_sq"] for s in states],
                [s["max_exp_avg_sq"] for s in states] if group["amsgrad"] else [],
                [s["step"] for s in states],
                foreach=group["foreach"], capturable=group["capturable"],
                differentiable=group["differentiable"], fused=group["fused"],
                decoupled_weight_decay=group["decoupled_weight_decay"],
                amsgrad=group["amsgrad"], beta1=beta1, beta2=beta2, lr=group["lr"],
                weight_decay=group["weight_decay"], eps=group["eps"],
                maximize=group["maximize"],
            )


def _jacobian_norms(net, z):
    """Frobenius norm of the Jacobian ``d net(z) / dz`` at each row of ``z``.

    Forward-mode automatic differentiation (``torch.func.jacfwd``, one pass
    per latent dimension) under ``vmap``, in chunks of rows that keep each
    layer's tangents (rows x width x latent_dim) near 4 million numbers.
    """
    jacobian = torch.func.vmap(torch.func.jacfwd(net))
    widest = max(layer.out_features for layer in net.modules()
                 if isinstance(layer, torch.nn.Linear))
    rows = max(1, 2**22 // (widest * z.shape[1]))
    return torch.cat([jacobian(part).square().sum(dim=(1, 2)).sqrt()
                      for part in z.split(rows)])


class _StepBudget(_TensorBatches):
    """:class:`_TensorBatches` that stops after ``net.batches_left_`` batches."""

    def __init__(self, X, batch_size, shuffle, generator, net):
        super().__init__(X, batch_size, shuffle, generator)
        self.net = net

    def __iter__(self):
        for batch in super().__iter__():
            if self.net.batches_left_ <= 0:
                return
            yield batch


class _GANNet(_TorchNet):
    """The skorch net of a GAN.

    The generator is ``module_``; the critic and its optimiser are a second
    module and optimiser, ``critic_`` and ``critic_optimizer_``; and
    ``train_step`` steps them in turn.

    Each batch of data is one critic step; every ``n_critic``-th batch is
    followed by one generator step.  Training stops after ``max_steps``
    generator steps or ``max_epochs`` epochs, whichever comes first: the
    number of epochs run follows from the budget and the number of rows.
    A callback may end it sooner by setting ``batches_left_`` to 0 (see
    :class:`_SampleEarlyStopping`).
    """

    def __init__(self, *args, critic, loss, gp_weight, n_critic, pac, max_steps,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.critic = critic
        self.loss = loss
        self.gp_weight = gp_weight
        self.n_critic = n_critic
        self.pac = pac
        self.max_steps = max_steps

    def get_default_callbacks(self):
        # skorch's epoch table colours its cells with ANSI codes whatever the
        # output, and counts epochs, which are not a GAN's budget: the GAN
        # logs its own table in steps (_SampleEarlyStopping).
        return [(name, callback) for name, callback in super().get_default_callbacks()
                if name != "print_log"]

    # -- components

    def initialize_module(self):
        super().initialize_module()
        kwargs = self.get_params_for("critic")
        self.critic_ = self.initialized_instance(self.critic, kwargs)
        return self

    def initialize_optimizer(self, *args, **kwargs):
        # One optimiser per network: skorch's default is a single optimiser
        # over the parameters of every module.
        args, kwargs = self.get_params_for_optimizer(
            "optimizer", self.module_.named_parameters()
        )
        self.optimizer_ = self.optimizer(*args, **kwargs)
        args, kwargs = self.get_params_for_optimizer(
            "critic_optimizer", self.critic_.named_parameters()
        )
        self.critic_optimizer_ = self.optimizer(*args, **kwargs)
        return self

    # -- data and budget

    def get_split_datasets(self, X, y=None, **fit_params):
        train, _ = X
        return self.standardise(train), None

    def standardise(self, x):
        module = self.module_
        return (x - module.loc) / module.scale

    def get_iterator(self, dataset, training=False):
        return _StepBudget(dataset, self.batch_size, shuffle=training,
                           generator=self.generator, net=self)

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        n_batches = math.ceil(len(X[0]) / self.batch_size)
        total = self.max_steps * self.n_critic
        if self.max_epochs is not None:
            total = min(total, self.max_epochs * n_batches)
        self.batches_left_ = total
        self.batches_done_ = 0
        self.generator_steps_ = 0
        # A running average of the generator's weights, updated after every
        # generator step; it replaces the trained weights at the end. The
        # last iterate of a GAN jitters around the data; the average is
        # sharper. It lives for one fit only, as do the two networks' steps:
        # held in a dict so that skorch does not register them as modules of
        # the net (to pickle and move).
        self._per_fit = {"average": _RunningAverage(self.module_),
                         "critic_step": _AdamSteps(self.critic_optimizer_),
                         "generator_step": _AdamSteps(self.optimizer_)}
        try:
            with flush_denormals():
                super().fit_loop(X, y, epochs=math.ceil(total / n_batches),
                                 **fit_params)
            self.load_average()
        finally:
            del self._per_fit
        return self

    def averaged_generator(self):
        """The running average of the generator (during training only)."""
        return self._per_fit["average"].module

    def load_average(self):
        self.module_.load_state_dict(self.averaged_generator().state_dict())

    # -- one step

    def _noise(self, n_rows):
        return torch.randn(n_rows, self.module_.latent_dim, generator=self.generator,
                           device=self.device)

    def _fake(self, n_rows):
        """Generated rows for the critic; relaxed one-hot blocks on a table."""
        module = self.module_
        return module.rows(module(self._noise(n_rows)), self.generator, _GUMBEL_TAU)

    def _critic_loss(self, real_packs, fake_packs):
        critic = self.critic_
        if self.loss == "nonsaturating":
            # One pass over real and fake packs together: half the launches.
            d = critic(torch.cat([real_packs, fake_packs]))
            d_real, d_fake = d[: len(real_packs)], d[len(real_packs):]
            return (torch.nn.functional.softplus(-d_real).mean()
                    + torch.nn.functional.softplus(d_fake).mean())
        d_real, d_fake = critic(real_packs), critic(fake_packs)
        eps = torch.rand(len(real_packs), 1, generator=self.generator,
                         device=self.device)
        between = (eps * real_packs + (1 - eps) * fake_packs).requires_grad_(True)
        (grad,) = torch.autograd.grad(
            critic(between).sum(), between, create_graph=True
        )
        penalty = ((grad.norm(dim=1) - 1.0) ** 2).mean()
        return d_fake.mean() - d_real.mean() + self.gp_weight * penalty

    def _generator_loss(self, fake_packs):
        d_fake = self.critic_(fake_packs)
        if self.loss == "nonsaturating":
            return torch.nn.functional.softplus(-d_fake).mean()
        return -d_fake.mean()

    def train_step(self, batch, **fit_params):
        # skorch's train_step steps all optimisers on one loss; a GAN steps
        # the critic and the generator on their own losses, in turn.
        real, _ = batch
        pac = self.pac
        real_packs = _pack(real, pac)
        n_rows = len(real_packs) * pac
        with torch.no_grad():
            fake = self._fake(n_rows)
        loss = self._critic_loss(real_packs, fake.reshape(-1, pac * fake.shape[1]))
        steps = self._per_fit
        steps["critic_step"](loss)

        self.batches_left_ -= 1
        self.batches_done_ += 1
        if self.batches_done_ % self.n_critic:
            return {"loss": loss.detach(), "y_pred": None}
        fake = self._fake(n_rows)
        g_loss = self._generator_loss(fake.reshape(-1, pac * fake.shape[1]))
        # The gradients of the generator's weights only: the critic's stay
        # as they are (see _AdamSteps).
        steps["generator_step"](g_loss)
        self.generator_steps_ += 1
        steps["average"].update()
        value = g_loss.item()
        if not math.isfinite(value):
            raise ValueError(
                _DIVERGED.format(value=value, epoch=len(self.history), lr=self.lr)
            )
        self.history.record_batch("generator_loss", value)
        # Passed on to on_batch_end, where _SampleEarlyStopping logs it.
        return {"loss": loss.detach(), "y_pred": None, "generator_loss": value}

    def on_epoch_begin(self, net, **kwargs):
        # Training mode once per epoch rather than at every step as skorch
        # does: nothing else switches it during an epoch.
        super().on_epoch_begin(net, **kwargs)
        self._set_training(True)

    def on_epoch_end(self, net, **kwargs):
        super().on_epoch_end(net, **kwargs)
        # The epoch's mean generator loss, for the history.
        batches = self.history[-1, "batches"]
        values = [b["generator_loss"] for b in batches if "generator_loss" in b]
        # NaN in an epoch without a generator step (a short epoch of a
        # small data set), so that every epoch has the column.
        mean = float(np.mean(values)) if values else np.nan
        self.history.record("generator_loss", mean)


class _SampleEarlyStopping(Callback):
    """Checks the averaged generator on held-out rows every ``interval`` steps.

    At each check, ``n_rows`` generated rows (fixed latent draws, so that
    two checks differ only by the generator) are compared with held-out
    rows by their symmetric nearest-neighbour distance (``_distance``), in
    the standardised units the networks work in. The best-checked generator
    is kept; training stops once
    ``patience`` checks in a row have not lowered the best distance by a
    share ``tol`` of it, counting only the checks after a wait of 50 passes
    over the training rows, and
    the kept generator replaces the trained one at the end.
    Without held-out rows (``early_stopping=False``) it only logs.

    skorch's ``EarlyStopping`` acts at the end of an epoch; a GAN's budget
    is in steps and an epoch may hold one step or hundreds, so the check is
    made after a batch and the stop is asked for by emptying the budget.

    With ``verbose``, each check prints a row of a plain-text table (no
    colour codes): the generator step out of the cap, the mean critic and
    generator losses since the last check, the distance (``*`` when
    it is the best so far) and the seconds since the last check.
    """

    def __init__(self, *, interval, patience, tol, seed, n_rows=_N_VALIDATION_ROWS,
                 verbose=0, sink=print):
        self.interval = interval
        self.patience = patience
        self.tol = tol
        self.seed = seed
        self.n_rows = n_rows
        self.verbose = verbose
        self.sink = sink

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        train, valid = X
        self.warm_up_ = min(net.max_steps, math.ceil(
            _wait_steps(len(train), net.batch_size, net.n_critic)))
        self.valid_ = None
        if valid is not None:
            self.valid_ = net.standardise(valid[: self.n_rows])
            generator = _stream_generator(self.seed, _VALIDATION_STREAM, net.device)
            self.latent_ = torch.randn(self.n_rows, net.module_.latent_dim,
                                       generator=generator, device=net.device)
        self.steps_, self.scores_ = [], []
        self.best_score_, self.best_step_, self.best_state_ = -math.inf, 0, None
        self.misses_, self.stopped_, self.checked_step_ = 0, False, 0
        self._losses = [[], []]
        self._tic = time.perf_counter()
        if self.verbose:
            self._print_header(net)

    def _print_header(self, net):
        if self.valid_ is None:
            rule = "no early stopping"
        else:
            rule = (f"stops after {self.patience} checks without improvement of "
                    f"the held-out distance, not before step {self.warm_up_}")
        self.sink(f"GAN: at most {net.max_steps} generator steps, checked every "
                  f"{self.interval}; {rule}.")
        columns = ["step", "critic_loss", "generator_loss"]
        if self.valid_ is not None:
            columns.append("valid_distance")
        columns.append("dur")
        self._widths = [max(len(c), 13) for c in columns]
        self.sink("  ".join(c.rjust(w) for c, w in zip(columns, self._widths,
                                                        strict=True)))
        self.sink("  ".join("-" * w for w in self._widths))

    def on_batch_end(self, net, batch=None, training=False, loss=None,
                     generator_loss=None, **kwargs):
        if not training:
            return
        # The step's losses as train_step returned them: reading them back
        # from the history copies its list of epochs at every batch.
        self._losses[0].append(loss.item())
        if generator_loss is not None:
            self._losses[1].append(generator_loss)
        step = net.generator_steps_
        if step % self.interval or step == self.checked_step_:
            return
        self._check(net, net.averaged_generator(), step)
        # No stop in the warm-up (see _WARM_UP_EPOCHS).
        if (self.valid_ is not None and self.misses_ >= self.patience
                and step >= self.warm_up_):
            net.batches_left_ = 0
            self.stopped_ = True

    def on_epoch_end(self, net, **kwargs):
        if self.stopped_:
            # skorch's way out of the epoch loop, as its EarlyStopping does.
            raise KeyboardInterrupt

    def on_train_end(self, net, **kwargs):
        step = net.generator_steps_
        if step != self.checked_step_ and step > 0:
            # The average after the last step, loaded by fit_loop.
            self._check(net, net.module_, step)
        if self.best_state_ is not None:
            net.module_.load_state_dict(self.best_state_)
        if self.verbose and self.valid_ is not None:
            end = ("stopped early" if self.stopped_ else "reached the cap")
            self.sink(f"GAN {end} at step {step}; kept the generator of step "
                      f"{self.best_step_} (valid_distance "
                      f"{-self.best_score_:.4f}).")
        self.valid_ = self.latent_ = self._losses = None

    def _distance(self, generator):
        """Symmetric nearest-neighbour distance of generated and held-out rows.

        The mean distance from a generated row to its nearest held-out row
        falls as the samples sharpen onto the data; the mean distance from a
        held-out row to its nearest generated row (what :meth:`GAN.
        score_samples` measures) rises when a mode is dropped. Distances to
        a sample's mean (MMD, energy distance) stop moving long before the
        modes are sharp. One ``cdist`` gives both directions.
        """
        with torch.no_grad():
            rows = generator(self.latent_)
            if generator.block_sizes:
                # Exact category draws from a generator seeded alike at every
                # check, so that two checks differ only by the network.
                draws = _stream_generator(self.seed, _CHECK_DRAWS_STREAM,
                                          rows.device)
                rows = generator.rows(rows, draws)
            distances = torch.cdist(rows, self.valid_)
            total = (distances.min(dim=1).values.mean()
                     + distances.min(dim=0).values.mean())
        return total.item()

    def _check(self, net, generator, step):
        self.checked_step_ = step
        row = [step, np.mean(self._losses[0]) if self._losses[0] else np.nan,
               np.mean(self._losses[1]) if self._losses[1] else np.nan]
        self._losses = [[], []]
        mark = ""
        if self.valid_ is not None:
            score = -self._distance(generator)
            self.steps_.append(step)
            self.scores_.append(score)
            net.history.record_batch("valid_distance", -score)
            # Relative: the distance's scale grows with the number of
            # features, so that no one absolute tolerance fits every table.
            if score > self.best_score_ * (1.0 - self.tol):
                self.misses_ = 0
            elif step > self.warm_up_:
                # Only checks after the wait count: the distance of a large
                # table may climb for a while as the modes rearrange, and a
                # stall that began in the wait would otherwise end training
                # at its first check (P4 grid, seed 2: 62% HQ at step 9 000,
                # 99% at 13 000).
                self.misses_ += 1
            if score > self.best_score_:
                self.best_score_, self.best_step_ = score, step
                self.best_state_ = copy.deepcopy(generator.state_dict())
                mark = " *"
            row.append(-score)
        if self.verbose:
            now = time.perf_counter()
            row.append(now - self._tic)
            self._tic = now
            cells = [f"{row[0]}/{net.max_steps}"] + [f"{v:.4f}" for v in row[1:-1]]
            cells[-1] += mark
            cells.append(f"{row[-1]:.2f}")
            self.sink("  ".join(c.rjust(w) for c, w in zip(cells, self._widths,
                                                           strict=True)))


class GAN(OutlierConventionsMixin, BaseTorchEstimator):
    """Generative adversarial network: a sampler and an anomaly detector.

    A generator network maps standard normal latent draws to rows of data;
    a critic network is trained against it to tell data from generated
    rows. The defaults (the non-saturating logistic loss, PacGAN packing of
    4 rows, internal standardisation of the data, a running average of the
    generator's weights as the final generator, and the rejection of the
    latent draws where the generator is steepest) aim at covering every mode
    of the data with sharp samples. Training ends when the generator's
    samples stop getting closer to rows held out of training
    (``early_stopping``), or at ``max_steps`` generator steps.
    Once fitted it gives:

    * **samples**: :meth:`sample` draws new rows (generator in eval mode),
      leaving out the latent draws where the generator's Jacobian is largest
      (``jacobian_truncation``);
    * an **anomaly score**: :meth:`score_samples` is minus the mean distance
      of a row to its nearest neighbours among generated rows drawn once at
      fit time (higher is more normal). It is *not* a log-likelihood: a GAN
      has no tractable density;
    * **anomaly labels**, following scikit-learn's outlier detectors:
      :meth:`decision_function`, :meth:`predict`, :meth:`fit_predict`;
    * a **goodness of fit**: :meth:`score` is minus the squared MMD between
      generated rows and X, so that
      :class:`~sklearn.model_selection.GridSearchCV` can tune a GAN without
      a custom scorer.

    It also takes mixed-type tables: a pandas DataFrame with categorical,
    boolean and string columns next to numeric ones (see
    ``categorical_features``). The numeric columns are modelled as
    numbers, each categorical column by a block of generator logits: during
    training the critic compares the data's one-hot rows with one-hot draws
    of these logits, trained through the straight-through Gumbel-softmax
    estimator (the gradient of a draw relaxed at a temperature of 0.2);
    :meth:`sample` draws exact categories and returns a DataFrame like the
    training one.

    Training runs through `skorch <https://skorch.readthedocs.io>`_, whose
    net is kept as ``net_``. The global random states of numpy, torch and
    Python are never touched.

    Read more in the :ref:`User Guide <gan>`.

    Parameters
    ----------
    latent_dim : int, default=8
        Dimension of the latent normal noise.

    categorical_features : 'from_dtype', None or array-like, default='from_dtype'
        Which columns are categorical, as in
        :class:`~sklearn.ensemble.HistGradientBoostingClassifier`.
        ``'from_dtype'``: the columns of a DataFrame with a categorical,
        boolean, string or object dtype. Otherwise the indices, names or a
        boolean mask of the categorical columns (an integer column named
        here is treated as categories). When there is one, fit encodes X
        with a :class:`~skgen.preprocessing.TableEncoder` (``encoder_``):
        numeric columns pass as numbers (standardised inside the model like
        any numeric data), categorical columns as one-hot blocks. A numeric
        array or an all-numeric DataFrame takes the numeric path and
        ``encoder_`` is not set. Columns of other dtypes (datetimes, ...)
        raise a TypeError naming the column; missing values are not
        supported.

    generator_hidden_layer_sizes : array-like of int, default=(128, 128)
        Widths of the hidden layers of the generator (ReLU).

    discriminator_hidden_layer_sizes : array-like of int, default=(128, 128)
        Widths of the hidden layers of the critic (ReLU). Its input is a
        pack of ``pac`` rows.

    loss : {'nonsaturating', 'wgan-gp'}, default='nonsaturating'
        'nonsaturating': the logistic GAN loss with the non-saturating
        generator loss. 'wgan-gp': Wasserstein loss with a gradient penalty
        of weight ``gp_weight`` (usually with ``n_critic=5``). On the P4
        grid of 25 Gaussians WGAN-GP put under 3% of its samples within 3
        standard deviations of a mode in 30-second fits, where the default
        put 90% there in its 20 000 steps.

    gp_weight : float, default=10.0
        Weight of the gradient penalty of the 'wgan-gp' loss (not used by
        'nonsaturating').

    n_critic : int, default=1
        Critic steps per generator step. Each critic step takes one batch of
        data.

    pac : int, default=4
        Number of rows packed into one critic input (PacGAN). 1 is a plain
        GAN. It is also the least number of training rows and the least
        ``batch_size``: a pack of fewer rows would repeat some of them,
        which tells real packs from generated ones whatever the generator
        does.

    max_steps : int, default=20000
        Cap on the number of generator steps; with ``early_stopping`` the
        training usually ends sooner. Training runs at most ``max_steps *
        n_critic`` critic steps, that is ``max_steps * n_critic /
        ceil(n_train / batch_size)`` epochs, the last one possibly cut short.
        A budget in steps serves a 500-row table and 100 000 rows alike,
        where a fixed number of epochs would under- or over-train one of
        them. With ``early_stopping=False`` exactly ``max_steps`` steps run
        (unless ``max_epochs`` ends training first).

    max_epochs : int or None, default=None
        Optional cap on the number of passes over the data; training stops
        at whichever of ``max_steps`` and ``max_epochs`` comes first. None:
        no cap, the step budget decides.

    early_stopping : bool, default=True
        Whether to end training when the generator stops improving on
        held-out rows. ``validation_fraction`` of the rows are set aside
        (not trained on); every ``validation_interval`` generator steps the
        averaged generator maps 1 024 fixed latent draws to rows, and their
        distance to (at most 1 024 of) the held-out rows is measured: the
        mean distance from a generated row to its nearest held-out row plus
        the mean distance from a held-out row to its nearest generated row,
        in the standardised units of the model. The first term falls as the
        samples sharpen onto the data, the second rises when a mode is
        dropped. Training stops after ``n_iter_no_change`` checks in a row
        that do not lower the best distance so far by a share ``tol`` of
        it, counted after a wait of 50 passes over the training rows (on a
        large table the distance falls slowly, pass after pass, and stalls
        for a while at a time), or at ``max_steps``, and the
        best-checked generator is kept (``best_step_``). False: every row is
        trained on and ``max_steps`` sets the training.

    validation_fraction : float, default=0.1
        Share of the rows held out for ``early_stopping``, in (0, 1). At
        least ``max(2, pac)`` rows must remain for training.

    n_iter_no_change : int, default=5
        Number of checks in a row without improvement after which training
        stops (``early_stopping`` only).

    validation_interval : int, default=250
        Generator steps between two checks of ``early_stopping`` (and
        between two rows of the ``verbose`` table).

    tol : float, default=0.02
        Least relative fall of the held-out distance that counts as an
        improvement, in [0, 1): a check improves when its distance is below
        ``(1 - tol)`` times the best so far. Relative, because the
        distance grows with the number of features. Once the samples are
        sharp the distance wanders by a few percent from check to check, and
        a smaller ``tol`` counts those wanderings as gains. The best-checked
        generator is kept whatever ``tol``.

    batch_size : int or 'auto', default='auto'
        Number of rows of data per critic step (and of generated rows per
        generator step), at least ``pac``. 'auto' takes
        ``min(256, n_train)``, ``n_train`` the rows left for training, and
        512 on a large table: where 50 passes over the training rows (the
        least training of ``early_stopping``) would take more than half of
        ``max_steps`` at 256 rows (more than 51 200 rows at the default
        ``max_steps``). A larger number than the training rows is clipped to
        them, with a warning: every step then sees all the data.

    lr : float or 'auto', default='auto'
        Learning rate of the two Adam optimisers (``betas=(0.5, 0.9)``).
        'auto': 1e-3 with a given ``batch_size``; with
        ``batch_size='auto'``, 1e-3 times the square root of its rows over
        256 when it takes more than 256 (1.41e-3 at 512 rows), 1e-3
        otherwise: the square-root scaling rule of Adam's rate with the
        batch.

    jacobian_truncation : float, default=0.15
        Share of latent draws that :meth:`sample` rejects: those where the
        Frobenius norm of the generator's Jacobian ``dG/dz`` exceeds its
        ``1 - jacobian_truncation`` quantile, set at fit time from 8 192
        draws. A continuous generator of a connected latent space joins
        separate modes by thin bridges, and crosses them where it is steep
        (Tanielian et al., 2020); rejecting those draws removes most of the
        samples that fall between modes. 0 keeps every draw. On the P4 grid
        of 25 Gaussians 0.15 took the share of samples within 3 standard
        deviations of a mode from 84% to 97% (seed 0). On a table the
        Jacobian is that of the numeric outputs alone (the logits of the
        categorical columns are not data), and a table without numeric
        columns is sampled without rejection (``jacobian_truncation_`` is
        then 0). It changes :meth:`sample` and :meth:`score` only: the reference rows of
        :meth:`score_samples` are drawn without it. The value at fit time
        counts (``jacobian_truncation_``, ``jacobian_threshold_``): setting
        it afterwards changes nothing until the next fit. Each sample costs
        ``1 / (1 - jacobian_truncation)`` latent draws on average (1.18 at
        the default), each with a Jacobian (``latent_dim`` forward-mode
        passes through the generator).

    contamination : float, default=0.1
        Expected share of outliers in the training data, in (0, 0.5]: it
        sets ``offset_``, the threshold of :meth:`predict`.

    device : str or torch.device, default='cpu'
        Where the model is trained and evaluated: ``'cpu'`` or ``'cuda'``.
        Outputs are numpy arrays whatever the device.

    random_state : int, RandomState instance or None, default=None
        Seeds the weights, the batch order, the training noise and the
        reference rows of :meth:`score_samples` through local generators,
        and the samples drawn by :meth:`sample` when it is not given its own.

    verbose : int, default=0
        0 prints nothing; 1 or more prints a plain-text table (no colour
        codes) with one row every ``validation_interval`` generator steps:
        the step out of ``max_steps``, the mean critic and generator losses
        since the previous row, the held-out distance of ``early_stopping``
        (``*`` marks the best so far) and the seconds taken; and at the end,
        where training stopped and which step's generator was kept.

    callbacks : list of skorch callbacks or None, default=None
        Extra :mod:`skorch.callbacks` (instances or ``(name, callback)``
        pairs).

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained skorch net: ``module_`` is the generator, ``critic_``
        the critic, ``history_`` the losses of every epoch.

    encoder_ : TableEncoder
        The encoder of the training table (``numeric_transform='identity'``),
        when X had categorical columns; absent otherwise. Its
        ``categories_`` are the categories that :meth:`sample` draws.

    offset_ : float
        The ``contamination`` percentile of the training scores:
        ``decision_function = score_samples - offset_``.

    n_iter_ : int
        Number of epochs run.

    n_steps_ : int
        Number of generator steps run.

    best_step_ : int
        The generator step whose averaged generator was kept: the best
        check of ``early_stopping``, or ``n_steps_`` without it.

    validation_scores_ : ndarray of shape (n_checks,) or None
        Minus the held-out distance at each check of ``early_stopping``, in
        order (higher is better, as scikit-learn's scores); None without
        early stopping.

    best_validation_score_ : float or None
        The highest of ``validation_scores_``: the kept generator's.

    jacobian_truncation_ : float
        The ``jacobian_truncation`` that fit used: the share of latent draws
        that :meth:`sample` expects to reject.

    jacobian_threshold_ : float
        The Jacobian norm above which :meth:`sample` rejects a latent draw:
        the ``1 - jacobian_truncation_`` quantile of the norms of 8 192
        draws at fit time (``inf`` with ``jacobian_truncation=0``).

    n_features_in_ : int
        Number of features seen during :meth:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :meth:`fit`, when X has string column
        names.

    See Also
    --------
    skgen.VAE : A latent variable model with a likelihood.
    skgen.GaussianMixture : A mixture density, fitted by EM.

    Notes
    -----
    The sampling generator is an exponential moving average of the
    generator's weights over the training steps (decay warming up to
    0.999); averaging GAN
    iterates follows Yazici et al. (2019), *The Unusual Effectiveness of
    Averaging in GAN Training*. WGAN-GP follows Gulrajani et al. (2017),
    *Improved Training of Wasserstein GANs*; packing follows Lin et al.
    (2018), *PacGAN: The power of two samples in generative adversarial
    networks*. The truncation by the Jacobian norm follows Tanielian et al.
    (2020), *Learning disconnected manifolds: a no GAN's land*.

    Examples
    --------
    >>> import numpy as np
    >>> from skgen import GAN
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 2)) + [5.0, -1.0]
    >>> gan = GAN(max_steps=50, random_state=0).fit(X)
    >>> gan.sample(4, random_state=0).shape
    (4, 2)
    >>> gan.score_samples(X[:3]).shape
    (3,)
    >>> gan.predict([[5.0, -1.0], [40.0, 40.0]])
    array([ 1, -1])

    On a table, :meth:`sample` returns a DataFrame like the training one:

    >>> import pandas as pd
    >>> df = pd.DataFrame({"x": X[:, 0], "size": pd.Categorical(
    ...     rng.choice(["S", "M", "L"], size=300))})
    >>> gan = GAN(max_steps=50, random_state=0).fit(df)
    >>> gan.sample(3, random_state=0).dtypes.equals(df.dtypes)
    True
    """

    _parameter_constraints: dict = {
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "categorical_features": [StrOptions({"from_dtype"}), "array-like", None],
        "generator_hidden_layer_sizes": ["array-like"],
        "discriminator_hidden_layer_sizes": ["array-like"],
        "loss": [StrOptions({"wgan-gp", "nonsaturating"})],
        "gp_weight": [Interval(Real, 0.0, None, closed="left")],
        "n_critic": [Interval(Integral, 1, None, closed="left")],
        "pac": [Interval(Integral, 1, None, closed="left")],
        "max_steps": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left"), None],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0.0, 1.0, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "validation_interval": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0.0, 1.0, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left"),
                       StrOptions({"auto"})],
        "lr": [Interval(Real, 0.0, None, closed="neither"), StrOptions({"auto"})],
        "jacobian_truncation": [Interval(Real, 0.0, 1.0, closed="left")],
        "contamination": [Interval(Real, 0.0, 0.5, closed="right")],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callbacks": [list, None],
    }

    def __init__(
        self,
        latent_dim=8,
        *,
        categorical_features="from_dtype",
        generator_hidden_layer_sizes=(128, 128),
        discriminator_hidden_layer_sizes=(128, 128),
        loss="nonsaturating",
        gp_weight=10.0,
        n_critic=1,
        pac=4,
        max_steps=20000,
        max_epochs=None,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=5,
        validation_interval=250,
        tol=0.02,
        batch_size="auto",
        lr="auto",
        jacobian_truncation=0.15,
        contamination=0.1,
        device="cpu",
        random_state=None,
        verbose=0,
        callbacks=None,
    ):
        self.latent_dim = latent_dim
        self.categorical_features = categorical_features
        self.generator_hidden_layer_sizes = generator_hidden_layer_sizes
        self.discriminator_hidden_layer_sizes = discriminator_hidden_layer_sizes
        self.loss = loss
        self.gp_weight = gp_weight
        self.n_critic = n_critic
        self.pac = pac
        self.max_steps = max_steps
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.validation_interval = validation_interval
        self.tol = tol
        self.batch_size = batch_size
        self.lr = lr
        self.jacobian_truncation = jacobian_truncation
        self.contamination = contamination
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks

    # ------------------------------------------------------- net assembly

    @staticmethod
    def _layer_sizes(value, name):
        sizes = np.asarray(value).ravel()
        integers = np.issubdtype(sizes.dtype, np.integer)
        if sizes.size and (not integers or np.any(sizes < 1)):
            raise ValueError(
                f"{name} must be a sequence of positive integers, got {value!r}."
            )
        return tuple(int(s) for s in sizes)

    def _make_net(self, X, seed, device):
        # The base's net has one module, one optimiser and early stopping;
        # a GAN has two of each and no validation loss to stop on.
        generator_sizes = self._layer_sizes(
            self.generator_hidden_layer_sizes, "generator_hidden_layer_sizes")
        critic_sizes = self._layer_sizes(
            self.discriminator_hidden_layer_sizes, "discriminator_hidden_layer_sizes")
        n_features = X.shape[1]
        blocks = self._block_sizes
        n_numeric = n_features - sum(blocks)
        # One-hot columns keep location 0 and scale 1 (see _Generator).
        loc, scale = np.zeros(n_features), np.ones(n_features)
        if n_numeric:
            scaler = StandardScaler().fit(X[:, :n_numeric])
            loc[:n_numeric], scale[:n_numeric] = scaler.mean_, scaler.scale_
        batch_rows = self._batch_rows(self._n_train(len(X)))
        callbacks = [("early_stopping", _SampleEarlyStopping(
            interval=self.validation_interval, patience=self.n_iter_no_change,
            tol=self.tol, seed=seed, verbose=self.verbose))]
        callbacks += list(self.callbacks or [])
        net = _GANNet(
            module=_Generator,
            module__latent_dim=self.latent_dim,
            module__hidden_layer_sizes=generator_sizes,
            module__n_features=n_features,
            module__loc=loc,
            module__scale=scale,
            module__seed=_seed_from(seed, 0),
            module__block_sizes=blocks,
            critic=_Critic,
            critic__n_features=n_features,
            critic__pac=self.pac,
            critic__hidden_layer_sizes=critic_sizes,
            critic__seed=_seed_from(seed, _CRITIC_STREAM),
            criterion=torch.nn.Identity,  # unused: the losses are in train_step
            optimizer=torch.optim.Adam,
            optimizer__betas=(0.5, 0.9),
            critic_optimizer__betas=(0.5, 0.9),
            # One fused kernel per step instead of a loop over the tensors.
            optimizer__fused=True,
            critic_optimizer__fused=True,
            lr=self._learning_rate(batch_rows),
            loss=self.loss,
            gp_weight=self.gp_weight,
            n_critic=self.n_critic,
            pac=self.pac,
            max_steps=self.max_steps,
            max_epochs=self.max_epochs,
            batch_size=batch_rows,
            train_split=None,
            callbacks=callbacks,
            # The early-stopping callback prints the GAN's own table; skorch's
            # messages are not for this estimator's users.
            verbose=0,
            device=str(device),
        )
        return net.initialize()

    def _batch_rows(self, n_samples):
        """Rows per critic step, for ``n_samples`` training rows."""
        if not isinstance(self.batch_size, str):
            return min(self.batch_size, n_samples)
        rows = _AUTO_BATCH_SIZE
        while (rows < _MAX_AUTO_BATCH_SIZE
               and _wait_steps(n_samples, rows, self.n_critic) > self.max_steps / 2):
            rows *= 2
        return min(rows, n_samples)

    def _learning_rate(self, batch_rows):
        """The Adam learning rate at ``batch_rows`` rows per step."""
        if not isinstance(self.lr, str):
            return self.lr
        if not isinstance(self.batch_size, str):
            return _AUTO_LR
        return _AUTO_LR * math.sqrt(max(1.0, batch_rows / _AUTO_BATCH_SIZE))

    def _n_train(self, n_samples):
        """Rows left for training once the validation rows are held out."""
        if not self.early_stopping:
            return n_samples
        return n_samples - math.ceil(self.validation_fraction * n_samples)

    def _check_training_input(self, X):
        n_samples, pac = len(X), self.pac
        n_train = self._n_train(n_samples)
        if n_samples >= pac and n_train < max(pac, 2):
            raise ValueError(
                f"early_stopping holds out {n_samples - n_train} of the "
                f"{n_samples} rows (validation_fraction="
                f"{self.validation_fraction}), which leaves {n_train} for "
                f"training, fewer than the max(2, pac={pac}) a GAN needs. Set "
                "early_stopping=False (max_steps then sets the training), lower "
                "validation_fraction, or pass more rows."
            )
        if n_samples < pac:
            raise ValueError(
                f"GAN needs at least pac={pac} training rows, got {n_samples}. "
                "The critic compares packs of pac distinct rows; a pack of fewer "
                "rows repeats some, which tells real packs from generated ones "
                "whatever the generator does. Pass a smaller pac (pac=1 is a plain "
                "GAN, which needs 2 rows) or more data; with so few rows a density "
                "model such as skgen.GaussianMixture is the better choice."
            )
        if isinstance(self.batch_size, str):
            return
        if self.batch_size < pac:
            raise ValueError(
                f"batch_size={self.batch_size} is smaller than pac={pac}: every "
                "critic step would pack repeated rows. Set batch_size to at least "
                "pac, or leave it at 'auto'."
            )
        if self.batch_size > n_train:
            warnings.warn(
                f"batch_size={self.batch_size} is larger than the {n_train} "
                f"training rows; it is clipped to {n_train}, so that every step "
                "sees all the data. Set batch_size to at most the number of rows, "
                "or to 'auto', to silence this warning.",
                UserWarning,
                stacklevel=5,
            )

    # ---------------------------------------------------------------- fit

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the GAN to X, from a fresh initialisation.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training data, at least ``max(2, pac)`` rows (4 by default). A
            DataFrame may have categorical, boolean and string columns (see
            ``categorical_features``); missing values are not supported.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        if is_table(X, self.categorical_features):
            encoder = TableEncoder(self.categorical_features,
                                   numeric_transform="identity",
                                   handle_unknown="ignore")
            X = encoder.fit(X).transform(X)
            adopt_encoder(self, encoder)
            self._block_sizes = tuple(c.size for c in encoder.categories_)
        else:
            X = validate_data(self, X, dtype=[np.float64, np.float32],
                              ensure_min_samples=2)
            if hasattr(self, "encoder_"):
                del self.encoder_
            self._block_sizes = ()
        self._fit_net(X, partial=False)
        self.n_steps_ = self.net_.generator_steps_
        stopping = dict(self.net_.callbacks_)["early_stopping"]
        if self.early_stopping:
            self.validation_scores_ = np.asarray(stopping.scores_)
            self.best_validation_score_ = float(stopping.best_score_)
            self.best_step_ = stopping.best_step_
        else:
            self.validation_scores_ = self.best_validation_score_ = None
            self.best_step_ = self.n_steps_
        self.jacobian_truncation_ = float(self.jacobian_truncation)
        self.jacobian_threshold_ = math.inf
        if X.shape[1] == sum(self._block_sizes):
            # Only categorical columns: no numeric output to be steep in.
            self.jacobian_truncation_ = 0.0
        if self.jacobian_truncation_ > 0:
            generator = _stream_generator(self._seed, _TRUNCATION_STREAM,
                                          self.net_.device)
            module = self._inference_module()
            with self._threads(), torch.no_grad():
                norms = _jacobian_norms(self._steepness_net(module), self._latent(
                    module, _N_THRESHOLD, generator))
            check_finite_or_diverged(norms.cpu().numpy(), self.net_)
            self.jacobian_threshold_ = float(
                torch.quantile(norms, 1.0 - self.jacobian_truncation_))
        generator = _stream_generator(self._seed, _REFERENCE_STREAM, self.net_.device)
        reference = self._generate(_N_REFERENCE, generator, truncate=False)
        check_finite_or_diverged(reference, self.net_)
        if self._block_sizes:
            # As a data row would be encoded: integers whole, within range.
            reference = self.encoder_.transform(self._decode(reference))
        self._neighbors = NearestNeighbors(
            n_neighbors=min(_N_NEIGHBORS, _N_REFERENCE), algorithm="ball_tree"
        ).fit(self._standardise(reference))
        self._set_offset(self._score_samples(X))
        return self

    # --------------------------------------------------------- inference

    @staticmethod
    def _steepness_net(module):
        """The network whose Jacobian the truncation measures: numeric outputs."""
        if not module.block_sizes:
            return module.net
        return _NumericHead(module.net, module.n_numeric)

    def _standardise(self, X):
        module = self.net_.module_
        loc = module.loc.double().cpu().numpy()
        scale = module.scale.double().cpu().numpy()
        return (np.asarray(X, dtype=np.float64) - loc) / scale

    def _encoded(self, X):
        """Validated rows of X in the model's columns: a float64 matrix.

        A table is checked against the training frame (names, number of
        columns, no category unseen in fit) and encoded by ``encoder_``.
        """
        if not hasattr(self, "encoder_"):
            return validate_data(self, X, dtype=[np.float64, np.float32],
                                 reset=False)
        X = check_table(self, X, ensure_all_finite=True)
        check_known_categories(
            self, X, "A GAN has no score for them: fit on data that has them, or "
            "map them to a category seen in fit.")
        return self.encoder_.transform(X)

    def _decode(self, Z):
        """Encoded rows (numbers in the data's units, one-hot blocks) as a table."""
        encoder = self.encoder_
        Z = Z.copy()
        kinds = encoder.kinds_[encoder._numeric]
        # The encoder reads an integer column's value v from [v, v + 1):
        # round the generator's outputs to the nearest integer first.
        integers = np.flatnonzero(kinds == "integer")
        Z[:, integers] = np.round(Z[:, integers])
        return encoder.inverse_transform(Z)

    def _generate(self, n_samples, generator, truncate=True):
        """``n_samples`` rows from the generator in eval mode, float64.

        With ``truncate``, latent draws whose Jacobian norm exceeds
        ``jacobian_threshold_`` are rejected and drawn again, in rounds, in
        the order of the generator's stream. Only what fit stored is used
        (``jacobian_threshold_`` and the share ``jacobian_truncation_``),
        never the current parameter. On a table the categorical blocks are
        exact one-hot draws of the generator's logits, taken from
        ``generator`` after the latent draws.
        """
        module = self._inference_module()
        threshold = self.jacobian_threshold_
        with torch.no_grad():
            if not truncate or math.isinf(threshold):
                z = self._latent(module, n_samples, generator)
            else:
                z = self._accepted_latent(module, n_samples, generator, threshold)
            return module.to_data(module.rows(module(z), generator)).cpu().numpy()

    def _accepted_latent(self, module, n_samples, generator, threshold):
        """``n_samples`` latent draws whose Jacobian norm is at most ``threshold``."""
        share = 1.0 - self.jacobian_truncation_
        net = self._steepness_net(module)
        kept, n_kept, n_drawn = [], 0, 0
        for _ in range(_MAX_ROUNDS):
            n_draws = math.ceil((n_samples - n_kept) / share) + 16
            z = self._latent(module, n_draws, generator)
            z = z[_jacobian_norms(net, z) <= threshold]
            kept.append(z)
            n_kept += len(z)
            n_drawn += n_draws
            if n_kept >= n_samples:
                return torch.cat(kept)[:n_samples]
        raise ValueError(
            f"GAN.sample accepted {n_kept} of {n_drawn} latent draws "
            f"({n_kept / n_drawn:.2%}) in {_MAX_ROUNDS} rounds, where fit set "
            f"jacobian_threshold_ to accept {share:.0%} of them: the generator "
            "or its threshold changed after fit. Fit the model again, or fit it "
            "with jacobian_truncation=0 to sample without rejection."
        )

    def _score_samples(self, X):
        distances, _ = self._neighbors.kneighbors(self._standardise(X))
        return -distances.mean(axis=1)

    def score_samples(self, X):
        """Anomaly score of each sample: higher is more normal.

        Minus the mean Euclidean distance, in standardised units, from a row
        to its 5 nearest neighbours among 2 048 generated rows drawn once at
        fit time. The score is deterministic and depends on nothing but the
        row. It is not a log-likelihood.

        On a table the rows are encoded first: numeric columns standardised,
        each categorical column one-hot (a different category adds a
        distance of sqrt(2), as a numeric column 1.4 standard deviations
        off does). A category not seen in fit raises a ValueError: the
        model has no distance for it.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The samples to score, with the training columns.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            The score of each row (at most 0).
        """
        check_is_fitted(self)
        return self._score_samples(self._encoded(X))

    def score(self, X, y=None):
        """Goodness of fit: minus the squared MMD between samples and X.

        ``len(X)`` rows are drawn with :meth:`sample` under a fixed seed and
        compared with X by :func:`skgen.metrics.mmd` (RBF kernel, its width
        from the median heuristic on X alone, so that every model scored on
        the same X is measured with the same kernel). Higher is better; the
        value is close to 0 when the samples and X come from the same
        distribution. On a table both are compared encoded as in
        :meth:`score_samples` (standardised numbers, one-hot categories).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The samples to compare with (at least 2 rows).

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        score : float
            ``-mmd(X, sample(len(X), random_state=0))``.
        """
        check_is_fitted(self)
        if not hasattr(self, "encoder_"):
            X = validate_data(self, X, dtype=np.float64, reset=False,
                              ensure_min_samples=2)
            return -mmd(X, self.sample(len(X), random_state=_SCORE_SEED))
        Z = self._encoded(X)
        if len(Z) < 2:
            raise ValueError(
                f"Found array with {len(Z)} sample(s) while a minimum of 2 is "
                "required by GAN.score."
            )
        samples = self.sample(len(Z), random_state=_SCORE_SEED)
        return -mmd(self._standardise(Z),
                    self._standardise(self.encoder_.transform(samples)))

    def sample(self, n_samples=1, *, random_state=None):
        """Draw new samples from the generator.

        With ``jacobian_truncation_ > 0`` the latent draws whose Jacobian
        norm exceeds ``jacobian_threshold_`` are rejected and drawn again:
        each sample costs ``1 / (1 - jacobian_truncation_)`` draws on
        average, each with a Jacobian (``latent_dim`` forward-mode passes
        through the generator). Should fewer draws pass than fit measured,
        the rounds of drawing are capped and a ValueError says so.

        On a table each categorical column is an exact draw from the
        generator's probabilities of its categories, integer columns are
        rounded to the nearest integer, and every numeric column is kept
        within its training range (see
        :meth:`skgen.preprocessing.TableEncoder.inverse_transform`).

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
        X : ndarray or DataFrame of shape (n_samples, `n_features_in_`)
            Generated rows, in the units of the training data. When fitted
            on a table (``encoder_``), a DataFrame with the training
            columns, dtypes and category sets (an object array when the
            table was an array with ``categorical_features``).
        """
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(
                f"Invalid value for 'n_samples': {n_samples!r}. The sampling "
                "requires at least one sample (an integer >= 1)."
            )
        generator = make_torch_generator(
            self.random_state if random_state is None else random_state,
            self.net_.device,
        )
        with self._threads():
            Z = self._generate(int(n_samples), generator)
        return self._decode(Z) if hasattr(self, "encoder_") else Z
