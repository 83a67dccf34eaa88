"""The GAN's stopping rule: held-out checks of the averaged generator.

A GAN has no validation loss to stop on.  :class:`_SampleEarlyStopping`
compares, every ``validation_interval`` generator steps, rows of the
averaged generator with held-out rows by their symmetric nearest-neighbour
distance, keeps the best-checked generator, and ends training once the
distance stops falling, after a wait of ``_WARM_UP_EPOCHS`` passes over the
training rows.
"""

import copy
import math
import time

import numpy as np
import torch
from skorch.callbacks import Callback

from skgen.neural._base import _stream_generator

# Seed streams of the stopping rule (the estimator's, from 2**20, are listed
# in estimator.py; stream 0 is the module, 1, 2, ... the fit calls).
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
        if self.stopped_:
            self.stop_reason_ = "early_stopping"
        elif step >= net.max_steps:
            self.stop_reason_ = "max_steps"
        else:
            self.stop_reason_ = "max_epochs"
        if self.verbose:
            self.sink(self._stop_line(net, step))
        self.valid_ = self.latent_ = self._losses = None

    def _stop_line(self, net, step):
        """Why training ended, and which generator was kept and by what value."""
        why = {
            "early_stopping": (
                f"early stopping, {self.patience} checks in a row after step "
                f"{self.warm_up_} without lowering the best valid_distance by "
                f"tol={self.tol:g} of it"),
            "max_steps": f"the step budget, max_steps={net.max_steps}",
            "max_epochs": f"the epoch cap, max_epochs={net.max_epochs}",
        }[self.stop_reason_]
        line = f"GAN stopped at step {step} by {why}."
        if self.valid_ is None:
            return line + " Kept the last generator (no early stopping)."
        return (line + f" Kept the generator of step {self.best_step_}, the best "
                f"of {len(self.scores_)} checks: valid_distance "
                f"{-self.best_score_:.4f}.")

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
                # at its first check.
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
