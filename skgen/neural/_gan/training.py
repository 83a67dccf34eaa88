"""How the GAN trains: its losses, its skorch net and its optimiser steps.

The generator and the critic (see ``networks.py``) are trained in turn:
``n_critic`` critic steps, each on one batch of data, then one generator
step.  Two losses:

* ``"wgan-gp"``: the Wasserstein loss with a gradient penalty (Gulrajani et
  al., 2017): the critic minimises ``D(fake) - D(real) + gp_weight * (||grad
  D(x_hat)|| - 1)^2`` on random interpolates ``x_hat``, the generator
  minimises ``-D(fake)``;
* ``"nonsaturating"``: the logistic loss of Goodfellow et al. (2014) with the
  non-saturating generator loss ``-log sigmoid(D(fake))``.

skorch's ``NeuralNet`` steps every optimiser on one loss at each batch, which
is wrong for a GAN: :class:`_GANNet` carries the critic and its optimiser as
a second module and optimiser and replaces ``train_step``.  The generator
that samples is a running average of the trained one (:class:`_RunningAverage`).
"""

import copy
import math

import numpy as np
import torch
from torch.optim.adam import adam as functional_adam

from skgen.neural._base import (
    _DIVERGED,
    _TensorBatches,
    _TorchNet,
    flush_denormals,
)

# Temperature of the Gumbel-softmax relaxation whose gradient the
# categorical outputs take in training (straight-through, see
# _Generator.rows): low enough that the relaxed draw is close to the hard
# one the critic sees, high enough that the gradients through the softmax
# do not vanish. CTGAN uses the same value.
_GUMBEL_TAU = 0.2


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

    ``loss.backward()`` then ``optimizer.step()`` and ``zero_grad()`` spend
    more in the step's Python wrappers (a profiler record, grad-mode and
    graph-capture checks, the regrouping of the state at every call) than
    in the fused update itself at a GAN's small widths, and a GAN makes two
    such steps per generator step.  This takes the
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
        x = (x - module.loc) / module.scale
        # A numeric gap sits at the column's mean, as the generator masks it.
        return torch.nan_to_num(x, nan=0.0) if module.gap_columns else x

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
