"""The GAN's stopping rule: held-out checks of the averaged generator.

A GAN has no validation loss to stop on.  :class:`_SampleEarlyStopping`
checks, every ``validation_interval`` generator steps, the rows that the
averaged generator makes from fixed latent draws, as ``sample`` would keep
them (without the draws that the Jacobian truncation rejects), against
held-out rows: the share of generated rows that fall inside a held-out row's
k-nearest-neighbour ball (precision) plus the share of held-out rows inside
a generated row's ball (recall).  It keeps the best-checked generator by
that sum, and ends training once neither the sum rises nor the symmetric
nearest-neighbour distance falls, after a wait of ``_WARM_UP_EPOCHS``
passes over the training rows.

Shares as well as distances: a generator that spreads a third of its rows
between the modes lowers a mean distance by a few percent a check for a
long while, and a relative tolerance reads that crawl as the end, while the
share of rows outside the data's balls stays a third until the rows move
onto the modes; the shares in turn stall while the rows move within the
balls onto the modes, and the distance still falls then.  The kept
generator is the one whose rows are most on the data by the shares.
Precision alone would keep a collapsed generator (all its rows on one
mode are all on the data): the recall falls then.
"""

import copy
import math
import time

import numpy as np
import torch
from skorch.callbacks import Callback

from skgen.neural._base import _stream_generator
from skgen.neural._gan.truncation import _jacobian_norms, _steepness_net

# Seed streams of the stopping rule (the estimator's, from 2**20, are listed
# in estimator.py; stream 0 is the module, 1, 2, ... the fit calls).
_VALIDATION_STREAM = 2**20 + 3
_CHECK_DRAWS_STREAM = 2**20 + 4

# Generated and held-out rows compared at each check of the stopping rule.
_N_VALIDATION_ROWS = 1024
# The radius of a row's ball: the distance to its k-th nearest neighbour
# among the rows of its own kind (Kynkaanniemi et al., 2019, who take k=3;
# a few more neighbours smooth the ball of a small held-out set).
_N_BALL_NEIGHBOURS = 5
# The stopping rule waits for this many passes over the training rows: on a
# large table the generator gathers its rows onto the data slowly, pass
# after pass, and stalls for a while at a time, which patience alone reads
# as the end; a small table is passed over this many times in a few hundred
# steps.
_WARM_UP_EPOCHS = 75
# A check also gains when the symmetric nearest-neighbour distance falls by
# this share below that of its last gain: on a plateau of the shares (rows
# moving within the balls, onto the modes) the distance still falls.
_DISTANCE_TOL = 0.03


def _wait_steps(n_train, batch_rows, n_critic):
    """Generator steps of the stopping rule's wait of _WARM_UP_EPOCHS passes."""
    return _WARM_UP_EPOCHS * math.ceil(n_train / batch_rows) / n_critic


def _ball_radii(rows, k):
    """Distance from each row to its k-th nearest other row (k at most n - 1)."""
    k = min(k, len(rows) - 1)
    if k < 1:
        return torch.full((len(rows),), math.inf, dtype=rows.dtype,
                          device=rows.device)
    # The row itself is its own nearest neighbour, at distance 0.
    return torch.cdist(rows, rows).kthvalue(k + 1, dim=1).values


def _shares(generated, kept, valid, valid_radii):
    """``(precision, recall, distance)`` of generated rows against held-out rows.

    Precision: the share of the ``kept`` generated rows (those ``sample``
    keeps) inside the ball of at least one held-out row, which reaches its
    ``_N_BALL_NEIGHBOURS``-th nearest held-out neighbour; recall: the share
    of held-out rows inside the ball of at least one generated row, which
    holds as large a share of the generated rows (more neighbours where
    there are more generated rows than held-out ones, so that the two kinds
    of ball cover alike); distance: the mean distance from a generated row
    to its nearest held-out row plus the mean distance from a held-out row
    to its nearest generated row.
    """
    distances = torch.cdist(generated, valid)
    precision = (distances[kept] <= valid_radii[None, :]).any(dim=1)
    k = max(1, round(_N_BALL_NEIGHBOURS * len(generated) / len(valid)))
    recall = (distances <= _ball_radii(generated, k)[:, None]).any(dim=0)
    distance = distances.min(dim=1).values.mean() + distances.min(dim=0).values.mean()
    return (precision.double().mean().item(), recall.double().mean().item(),
            distance.item())


class _SampleEarlyStopping(Callback):
    """Checks the averaged generator on held-out rows every ``interval`` steps.

    At each check, the generator maps ``n_rows`` fixed latent draws (so that
    two checks differ only by the generator) to rows; the draws whose
    Jacobian norm is above the ``1 - truncation`` quantile of theirs are left
    out, as :meth:`GAN.sample` leaves them out, and the rest are compared
    with the held-out rows in the standardised units the networks work in:
    the check's score is precision plus recall (``_shares``), in [0, 2].
    The best-checked generator is kept; training stops once ``patience``
    checks in a row have passed without a gain (a score ``tol`` above that
    of the last gain or ``tol / 4`` above the best, or a distance
    ``_DISTANCE_TOL`` of it below that of the last gain), counting only
    the checks after a wait of 75 passes over the training rows, and the
    kept generator replaces the trained one at the end.  Without held-out
    rows (``early_stopping=False``) it only logs.

    skorch's ``EarlyStopping`` acts at the end of an epoch; a GAN's budget
    is in steps and an epoch may hold one step or hundreds, so the check is
    made after a batch and the stop is asked for by emptying the budget.

    With ``verbose``, each check prints a row of a plain-text table (no
    colour codes): the generator step out of the cap, the mean critic and
    generator losses since the last check, the precision and recall (``*``
    when their sum is the best so far), and the seconds since the last
    check.
    """

    def __init__(self, *, interval, patience, tol, seed, truncation=0.0,
                 n_rows=_N_VALIDATION_ROWS, verbose=0, sink=print):
        self.interval = interval
        self.patience = patience
        self.tol = tol
        self.seed = seed
        self.truncation = truncation
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
            self.valid_radii_ = _ball_radii(self.valid_, _N_BALL_NEIGHBOURS)
            generator = _stream_generator(self.seed, _VALIDATION_STREAM, net.device)
            self.latent_ = torch.randn(self.n_rows, net.module_.latent_dim,
                                       generator=generator, device=net.device)
        self.steps_, self.scores_, self.shares_ = [], [], []
        self.best_score_, self.best_step_, self.best_state_ = -math.inf, 0, None
        self.misses_, self.stopped_, self.checked_step_ = 0, False, 0
        self.gain_score_, self.gain_distance_ = -math.inf, math.inf
        self._losses = [[], []]
        self._tic = time.perf_counter()
        if self.verbose:
            self._print_header(net)

    def _print_header(self, net):
        if self.valid_ is None:
            rule = "no early stopping"
        else:
            rule = (f"stops after {self.patience} checks without a gain "
                    f"(held-out precision + recall up {self.tol:g} from the last "
                    f"gain or {self.tol / 4:g} above the best, or distance down "
                    f"{_DISTANCE_TOL:.0%} from the last gain), not before "
                    f"step {self.warm_up_}")
        self.sink(f"GAN: at most {net.max_steps} generator steps, checked every "
                  f"{self.interval}; {rule}.")
        columns = ["step", "critic_loss", "generator_loss"]
        if self.valid_ is not None:
            columns += ["valid_precision", "valid_recall"]
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
                f"{self.warm_up_} without a gain (held-out precision + recall up "
                f"tol={self.tol:g} from the last gain or {self.tol / 4:g} above "
                f"the best, or distance down {_DISTANCE_TOL:.0%} from the last "
                f"gain)"),
            "max_steps": f"the step budget, max_steps={net.max_steps}",
            "max_epochs": f"the epoch cap, max_epochs={net.max_epochs}",
        }[self.stop_reason_]
        line = f"GAN stopped at step {step} by {why}."
        if self.valid_ is None:
            return line + " Kept the last generator (no early stopping)."
        precision, recall = self.shares_[self.steps_.index(self.best_step_)]
        return (line + f" Kept the generator of step {self.best_step_}, the best "
                f"of {len(self.scores_)} checks: held-out precision "
                f"{precision:.4f} + recall {recall:.4f} = "
                f"{self.best_score_:.4f}.")

    def _check_rows(self, generator):
        """The check's generated rows, and which of them ``sample`` keeps."""
        with torch.no_grad():
            rows = generator(self.latent_)
            if generator.block_sizes:
                # Exact category draws from a generator seeded alike at every
                # check, so that two checks differ only by the network.
                draws = _stream_generator(self.seed, _CHECK_DRAWS_STREAM,
                                          rows.device)
                rows = generator.rows(rows, draws)
            kept = torch.ones(len(rows), dtype=torch.bool, device=rows.device)
            if self.truncation > 0 and generator.n_numeric:
                norms = _jacobian_norms(_steepness_net(generator), self.latent_)
                kept = norms <= torch.quantile(norms, 1.0 - self.truncation)
        return rows, kept

    def _check(self, net, generator, step):
        self.checked_step_ = step
        row = [step, np.mean(self._losses[0]) if self._losses[0] else np.nan,
               np.mean(self._losses[1]) if self._losses[1] else np.nan]
        self._losses = [[], []]
        mark = ""
        if self.valid_ is not None:
            *shares, distance = _shares(*self._check_rows(generator),
                                        self.valid_, self.valid_radii_)
            score = shares[0] + shares[1]
            self.steps_.append(step)
            self.scores_.append(score)
            self.shares_.append(tuple(shares))
            net.history.record_batch("valid_precision", shares[0])
            net.history.record_batch("valid_recall", shares[1])
            net.history.record_batch("valid_distance", distance)
            # Gains are measured from the values of the last gain, not from
            # the best: a score that creeps up by less than tol a check gains
            # tol in a few checks, where each check would miss the best.
            gained = False
            if score > self.gain_score_ + self.tol:
                self.gain_score_, gained = score, True
            if distance < self.gain_distance_ * (1.0 - _DISTANCE_TOL):
                self.gain_distance_, gained = distance, True
            # A new best by a quarter of tol gains too: a score still
            # creeping up to new bests has not stalled, even where its rise
            # since the last gain is short of tol.
            if score > self.best_score_ + self.tol / 4:
                gained = True
            if gained:
                self.misses_ = 0
            elif step > self.warm_up_:
                # Only checks after the wait count: the score of a large
                # table may fall for a while as the modes rearrange, and a
                # stall that began in the wait would otherwise end training
                # at its first check.
                self.misses_ += 1
            if score > self.best_score_:
                self.best_score_, self.best_step_ = score, step
                self.best_state_ = copy.deepcopy(generator.state_dict())
                mark = " *"
            row += list(shares)
        if self.verbose:
            now = time.perf_counter()
            row.append(now - self._tic)
            self._tic = now
            cells = [f"{row[0]}/{net.max_steps}"] + [f"{v:.4f}" for v in row[1:-1]]
            if mark:
                cells[4] += mark
            cells.append(f"{row[-1]:.2f}")
            self.sink("  ".join(c.rjust(w) for c, w in zip(cells, self._widths,
                                                           strict=True)))
