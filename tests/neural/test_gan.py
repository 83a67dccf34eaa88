"""Tests of skgen.GAN: what it learns, its determinism and its sklearn contract."""

import functools
import pickle
import random
import re
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV
from sklearn.utils._param_validation import InvalidParameterError
from skorch.callbacks import Callback

from skgen import GAN
from skgen.neural._gan import sampling, stopping
from skgen.neural._gan.training import _AdamSteps
from skgen.neural._gan.truncation import _jacobian_norms

# Small, fast settings shared by most tests.
FAST = dict(generator_hidden_layer_sizes=(32, 32),
            discriminator_hidden_layer_sizes=(32, 32), max_steps=60, n_critic=2,
            batch_size=64)


def _two_clusters(rng, n_samples):
    """Two tight clusters far from the origin and at different scales."""
    centers = np.array([[10.0, -5.0], [14.0, 1.0]])
    labels = rng.integers(2, size=n_samples)
    return centers[labels] + 0.3 * rng.normal(size=(n_samples, 2)), centers


@functools.cache
def _fitted():
    """One small model and its training data, shared by the read-only tests."""
    X, _ = _two_clusters(np.random.default_rng(1), 200)
    return GAN(2, random_state=0, **FAST).fit(X), X


@functools.cache
def _trained():
    """A model trained long enough to learn the two clusters."""
    X, centers = _two_clusters(np.random.default_rng(0), 1000)
    gan = GAN(2, generator_hidden_layer_sizes=(64, 64),
              discriminator_hidden_layer_sizes=(64, 64), max_steps=400, lr=1e-3,
              random_state=0).fit(X)
    return gan, X, centers


# ------------------------------------------------------------ what it learns


def test_samples_cover_both_clusters():
    gan, _, centers = _trained()
    samples = gan.sample(1000, random_state=0)
    distances = np.linalg.norm(samples[:, None, :] - centers[None], axis=2)
    nearest = distances.argmin(axis=1)
    near = distances.min(axis=1) < 1.5  # 5 standard deviations of a cluster
    assert near.mean() > 0.8
    # Both clusters get a fair share (they have equal weight).
    assert 0.3 < np.mean(nearest[near] == 0) < 0.7


def test_score_samples_ranks_outliers_below_inliers():
    gan, X, centers = _trained()
    rng = np.random.default_rng(5)
    inliers, _ = _two_clusters(rng, 200)
    outliers = centers.mean(0) + rng.uniform(-8, 8, size=(200, 2))
    outliers = outliers[np.linalg.norm(outliers[:, None] - centers, axis=2).min(1) > 2]
    scores = gan.score_samples(np.vstack([inliers, outliers]))
    truth = np.r_[np.zeros(len(inliers)), np.ones(len(outliers))]
    assert roc_auc_score(truth, -scores) > 0.95
    assert_array_equal(gan.predict([centers[0], centers[0] + [30.0, 30.0]]), [1, -1])


def test_score_ranks_data_like_the_training_data_above_shifted_data():
    gan, _, _ = _trained()
    X_test, _ = _two_clusters(np.random.default_rng(7), 300)
    same = gan.score(X_test)
    assert same > gan.score(X_test + [1.0, 0.0])
    assert same > gan.score(X_test * 1.5)
    assert same <= 0.05  # minus an MMD^2: near 0 at best


def test_nonsaturating_loss_learns_the_clusters():
    X, centers = _two_clusters(np.random.default_rng(0), 1000)
    gan = GAN(2, loss="nonsaturating", n_critic=1, max_steps=800, lr=1e-3,
              generator_hidden_layer_sizes=(64, 64),
              discriminator_hidden_layer_sizes=(64, 64), random_state=0).fit(X)
    samples = gan.sample(500, random_state=0)
    distances = np.linalg.norm(samples[:, None, :] - centers[None], axis=2).min(1)
    assert np.mean(distances < 1.5) > 0.7


def test_jacobian_truncation_removes_the_samples_between_the_clusters():
    # The truncation acts on sampling only: a model fitted with it off has
    # the same training (identical anomaly scores) and puts samples on the
    # bridge between the two clusters that the default model leaves out.
    gan, X, centers = _trained()
    plain = GAN(**{**gan.get_params(), "jacobian_truncation": 0.0}).fit(X)
    assert_array_equal(plain.score_samples(X), gan.score_samples(X))
    assert plain.jacobian_threshold_ == np.inf

    def far_share_and_balance(model):
        samples = model.sample(2000, random_state=0)
        distances = np.linalg.norm(samples[:, None, :] - centers[None], axis=2)
        return np.mean(distances.min(1) > 1.5), np.mean(distances.argmin(1) == 0)

    far_plain, _ = far_share_and_balance(plain)
    far, balance = far_share_and_balance(gan)
    assert far_plain > 0.03
    assert far < far_plain / 4
    assert 0.35 < balance < 0.65  # both clusters keep their share


def test_jacobian_norms_match_autograd_and_set_the_rejected_share():
    gan, _, _ = _trained()
    module = gan._inference_module()
    z = torch.randn(5, 2, generator=torch.Generator().manual_seed(0),
                    dtype=torch.float64)
    expected = [torch.autograd.functional.jacobian(module.net, row).norm()
                for row in z]
    assert_allclose(_jacobian_norms(module.net, z).detach().numpy(),
                    torch.stack(expected).numpy(),
                    rtol=1e-12)
    # Fresh latent draws beyond the threshold: the 15% of the default.
    fresh = torch.randn(20000, 2, generator=torch.Generator().manual_seed(1),
                        dtype=torch.float64)
    with torch.no_grad():
        rejected = (_jacobian_norms(module.net, fresh) > gan.jacobian_threshold_)
    assert abs(rejected.double().mean().item() - 0.15) < 0.02


def _copy(gan):
    """An independent copy of a cached model, free to be changed."""
    return pickle.loads(pickle.dumps(gan))


def _count_latent_rows(monkeypatch, limit=1000):
    """Count the latent rows whose Jacobian norms are computed.

    Stops a sampling loop that would never end after ``limit`` calls, with
    an error that no test expects.
    """
    counts = {"calls": 0, "rows": 0}

    def counted(net, z):
        counts["calls"] += 1
        counts["rows"] += len(z)
        if counts["calls"] > limit:
            raise RuntimeError("unbounded rejection loop")
        return _jacobian_norms(net, z)

    monkeypatch.setattr(sampling, "_jacobian_norms", counted)
    return counts


def test_sample_uses_the_truncation_that_fit_used():
    gan = _copy(_fitted()[0])
    assert gan.jacobian_truncation_ == 0.15
    X_test, _ = _two_clusters(np.random.default_rng(3), 300)
    samples, score = gan.sample(500, random_state=0), gan.score(X_test)
    threshold = gan.jacobian_threshold_
    for later in (0.0, 0.5):
        gan.set_params(jacobian_truncation=later)
        assert_array_equal(gan.sample(500, random_state=0), samples)
        assert gan.score(X_test) == score
        assert gan.jacobian_threshold_ == threshold
    # until the next fit
    gan.fit(_fitted()[1])
    assert gan.jacobian_truncation_ == 0.5
    assert gan.jacobian_threshold_ < threshold


def test_sampling_cost_is_one_over_the_accepted_share(monkeypatch):
    gan, _ = _fitted()
    counts = _count_latent_rows(monkeypatch)
    gan.sample(4000, random_state=0)
    # 1 / (1 - 0.15) draws per sample, as documented, plus the margin of 16
    # draws per round; the threshold is a quantile of 8 192 draws, so the
    # accepted share is 0.85 within about 0.01.
    assert 1 / 0.86 < counts["rows"] / 4000 < 1 / 0.84 + 0.01
    assert counts["calls"] <= 3


def test_collapsed_acceptance_raises_instead_of_looping(monkeypatch):
    gan = _copy(_fitted()[0])
    counts = _count_latent_rows(monkeypatch)
    gan.jacobian_threshold_ = 0.0  # no draw can pass
    with pytest.raises(ValueError, match=r"accepted 0 of \d+ latent draws.*Fit"):
        gan.sample(50, random_state=0)
    assert counts["calls"] == 10
    # A rate far below the one fit measured, not quite zero, raises too.
    module = gan._inference_module()
    z = torch.randn(20000, 2, generator=torch.Generator().manual_seed(0),
                    dtype=torch.float64)
    with torch.no_grad():
        norms = _jacobian_norms(module.net, z)
    gan.jacobian_threshold_ = float(torch.quantile(norms, 0.01))
    with pytest.raises(ValueError, match="changed after fit"):
        gan.sample(2000, random_state=0)


def test_fewer_rows_than_a_pack_raise_and_say_what_to_do():
    X = np.random.default_rng(0).normal(size=(10, 2))
    params = {**FAST, "batch_size": "auto", "max_steps": 5}
    with pytest.raises(ValueError, match=r"at least pac=4 training rows, got 3.*"
                                         r"smaller pac"):
        GAN(**params).fit(X[:3])
    # A pack's worth of rows is enough, for any pac, without held-out rows.
    for pac in (1, 3, 4):
        gan = GAN(**{**params, "pac": pac}, early_stopping=False,
                  random_state=0).fit(X[:max(pac, 2)])
        assert np.all(np.isfinite(gan.sample(5, random_state=0)))
    # With them, the rows left for training must make a pack.
    with pytest.raises(ValueError, match=r"holds out 1 of the 4 rows.*leaves 3 for "
                                         r"training.*early_stopping=False"):
        GAN(**params).fit(X[:4])
    GAN(**params, random_state=0).fit(X[:5])
    with pytest.raises(ValueError, match="batch_size=2 is smaller than pac=4"):
        GAN(**{**params, "batch_size": 2}).fit(X)


def test_batch_size_larger_than_the_data_is_clipped_with_a_warning():
    X = np.random.default_rng(0).normal(size=(100, 2))
    params = {**FAST, "max_steps": 20, "random_state": 0, "early_stopping": False}
    with pytest.warns(UserWarning, match="batch_size=500 is larger than the 100 "
                                         "training rows; it is clipped to 100"):
        clipped = GAN(**{**params, "batch_size": 500}).fit(X)
    exact = GAN(**{**params, "batch_size": 100}).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        auto = GAN(**{**params, "batch_size": "auto"}).fit(X)
    # One batch of all 100 rows per epoch: 20 generator steps of 2 critic
    # steps each are 40 epochs.
    for gan in (clipped, auto):
        assert gan.n_iter_ == exact.n_iter_ == 40
        assert_array_equal(gan.score_samples(X), exact.score_samples(X))
        assert_array_equal(gan.sample(5, random_state=0),
                           exact.sample(5, random_state=0))


@pytest.mark.parametrize(("n_rows", "max_steps", "params", "rows", "lr"), [
    # 900 training rows: 75 passes of 4 batches of 256 rows are 300 steps,
    # within half of 20 000, so 256 rows; over half of 100, so 512 rows,
    # and the learning rate times the square root of 2.
    (1000, 20000, {}, 256, 1e-3),
    (1000, 100, {}, 512, 2**0.5 * 1e-3),
    # 75 passes of 2 batches of 512 rows still exceed half of 60: 512 is
    # the most that 'auto' takes.
    (1000, 60, {}, 512, 2**0.5 * 1e-3),
    # Fewer rows than that: all of them, at the rate scaled to their number.
    (400, 10, {}, 360, 1e-3 * (360 / 256) ** 0.5),
    # The small table's 90 rows, whatever the budget, at the base rate.
    (100, 10, {}, 90, 1e-3),
    # A given batch size or rate is used as it is.
    (1000, 100, {"batch_size": 512}, 512, 1e-3),
    (1000, 100, {"lr": 5e-4}, 512, 5e-4),
])
def test_auto_batch_size_and_lr_grow_on_large_tables(n_rows, max_steps, params,
                                                     rows, lr):
    X = np.random.default_rng(0).normal(size=(n_rows, 2))
    # One pass over the data (max_epochs) shows the settings.
    gan = GAN(generator_hidden_layer_sizes=(8,), discriminator_hidden_layer_sizes=(8,),
              max_steps=max_steps, max_epochs=1, random_state=0, **params).fit(X)
    net = gan.net_
    assert net.batch_size == rows
    for optimizer in (net.optimizer_, net.critic_optimizer_):
        assert optimizer.param_groups[0]["lr"] == pytest.approx(lr)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_model_samples_scores_and_unpickles_on_a_cpu_only_machine(
        unpickle_on_cpu_only):
    X, _ = _two_clusters(np.random.default_rng(0), 300)
    gan = GAN(2, device="cuda", random_state=0, **FAST).fit(X)
    assert np.isfinite(gan.jacobian_threshold_)
    samples = gan.sample(500, random_state=0)
    scores = gan.score_samples(X)
    assert samples.shape == (500, 2) and np.all(np.isfinite(samples))
    assert_array_equal(gan.sample(500, random_state=0), samples)
    restored = unpickle_on_cpu_only(pickle.dumps(gan))
    # CPU scoring against the same reference rows: equal up to float64 noise.
    assert_allclose(restored.score_samples(X), scores, rtol=1e-9)


# ------------------------------------------------------------- the budget


def test_step_budget_sets_the_number_of_steps_and_epochs():
    X = np.random.default_rng(0).normal(size=(300, 2))
    # 300 rows in batches of 64: 5 critic steps per epoch.
    gan = GAN(**{**FAST, "max_steps": 7, "n_critic": 3, "early_stopping": False}).fit(X)
    assert gan.n_steps_ == 7
    assert gan.n_iter_ == 5  # ceil(7 * 3 / 5) epochs, the last one cut short
    assert sum(gan.net_.history[:, "train_batch_count"]) == 21
    capped = GAN(**{**FAST, "max_steps": 1000, "n_critic": 1, "max_epochs": 2,
                    "early_stopping": False}).fit(X)
    assert capped.n_iter_ == 2 and capped.n_steps_ == 10
    # Each says which limit ended it.
    assert gan.stop_reason_ == "max_steps"
    assert capped.stop_reason_ == "max_epochs"


def _blobs(n_samples=600, seed=0):
    """Three well separated blobs: data a GAN learns in a few hundred steps."""
    rng = np.random.default_rng(seed)
    centers = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]])
    return centers[rng.integers(3, size=n_samples)] + rng.normal(size=(n_samples, 2))


# Small networks checked often, so that a test sees the rule act in seconds.
EARLY = dict(generator_hidden_layer_sizes=(32, 32),
             discriminator_hidden_layer_sizes=(32, 32), batch_size=64,
             validation_interval=25, n_iter_no_change=3, jacobian_truncation=0.0)


def _checked(gan, key):
    """The values a fit's rule recorded at its checks, from the history."""
    return np.array([batch[key] for epoch in gan.net_.history
                     for batch in epoch["batches"] if key in batch])


def _stop_of_the_rule(scores, distances, tol, patience=3, interval=25,
                      warm_up=375):
    """Number of checks the rule runs, replayed from its records as documented.

    A check gains when its score beats that of the last gain by ``tol`` or
    the best by ``tol / 4``, or its distance falls 3% below that of the last
    gain; training stops at the
    first check, not before the wait, that ends ``patience`` checks in a row
    after the wait without a gain.
    """
    gain, gain_distance, best, misses = -np.inf, np.inf, -np.inf, 0
    for i, (score, distance) in enumerate(zip(scores, distances, strict=True)):
        step = (i + 1) * interval
        gained = score > best + tol / 4
        best = max(best, score)
        if score > gain + tol:
            gain, gained = score, True
        if distance < 0.97 * gain_distance:
            gain_distance, gained = distance, True
        if gained:
            misses = 0
        elif step > warm_up:
            misses += 1
        if misses >= patience and step >= warm_up:
            return i + 1
    return None


def test_early_stopping_ends_before_the_cap_and_can_be_turned_off():
    X = _blobs(300)
    gan = GAN(max_steps=2000, tol=0.0, random_state=0, **EARLY).fit(X)
    assert gan.n_steps_ < 2000 and gan.stop_reason_ == "early_stopping"
    # It stopped where the rule, replayed on its records, stops: the wait is
    # 75 passes over the 270 training rows (5 batches of 64 each) ...
    scores = gan.validation_scores_
    assert len(scores) == gan.n_steps_ // 25
    distances = _checked(gan, "valid_distance")
    assert _stop_of_the_rule(scores, distances, tol=0.0) == len(scores)
    assert gan.best_validation_score_ == scores.max()
    assert gan.best_step_ == 25 * (int(np.argmax(scores)) + 1)
    # ... the score is precision + recall, both shares ...
    assert_allclose(gan.validation_shares_.sum(axis=1), scores)
    assert np.all((gan.validation_shares_ >= 0) & (gan.validation_shares_ <= 1))
    # ... and the same random_state stops at the same step with the same model.
    again = GAN(max_steps=2000, tol=0.0, random_state=0, **EARLY).fit(X)
    assert again.n_steps_ == gan.n_steps_
    assert_array_equal(again.sample(20, random_state=1), gan.sample(20, random_state=1))
    # A tolerance counts the small gains as misses: the rule stops sooner,
    # and still keeps the best-checked generator.
    tolerant = GAN(max_steps=2000, random_state=0, tol=0.2, **EARLY).fit(X)
    assert _stop_of_the_rule(tolerant.validation_scores_,
                             _checked(tolerant, "valid_distance"),
                             tol=0.2) == len(tolerant.validation_scores_)
    assert tolerant.best_validation_score_ == tolerant.validation_scores_.max()
    assert tolerant.n_steps_ <= gan.n_steps_
    fixed = GAN(max_steps=100, early_stopping=False, random_state=0, **EARLY).fit(X)
    assert fixed.n_steps_ == fixed.best_step_ == 100
    assert fixed.validation_scores_ is None and fixed.validation_shares_ is None


def _precision_recall(fake, kept, valid, k=5):
    """Precision of the kept rows, recall and distance, by brute force."""
    def radii(rows, k):
        d = np.linalg.norm(rows[:, None] - rows[None], axis=2)
        return np.sort(d, axis=1)[:, min(k, len(rows) - 1)]

    d = np.linalg.norm(fake[:, None] - valid[None], axis=2)
    precision = np.mean([np.any(row <= radii(valid, k)) for row in d[kept]])
    k_fake = max(1, round(k * len(fake) / len(valid)))
    covered = d <= radii(fake, k_fake)[:, None]
    return precision, covered.any(axis=0).mean(), d.min(1).mean() + d.min(0).mean()


@pytest.mark.parametrize("truncation", [0.0, 0.15])
def test_kept_generator_is_the_best_checked_one(truncation):
    # The criterion is recomputed here from the held-out rows and the fixed
    # latent draws the rule uses, on a copy of the averaged generator taken
    # at each check; the returned generator must be the copy that scored best.
    snapshots = {}

    class Snapshot(Callback):
        def on_batch_end(self, net, **kwargs):
            rule = dict(net.callbacks_)["early_stopping"]
            step = net.generator_steps_
            if step % 25 == 0 and step not in snapshots:
                average = net.averaged_generator()
                with torch.no_grad():
                    fake = average(rule.latent_).double().numpy()
                kept = np.ones(len(fake), dtype=bool)
                if truncation:
                    # The rows whose Jacobian norm is at most the 85% quantile;
                    # row i's output depends on z_i alone, so the gradient of
                    # an output column's sum gives every row's Jacobian row.
                    z = rule.latent_.clone().requires_grad_(True)
                    out = average.net(z)
                    jacobian = torch.stack([
                        torch.autograd.grad(out[:, j].sum(), z, retain_graph=True)[0]
                        for j in range(out.shape[1])], dim=1)
                    norms = jacobian.detach().square().sum(dim=(1, 2)).sqrt()
                    kept = (norms <= torch.quantile(norms, 1 - truncation)).numpy()
                valid = rule.valid_.double().numpy()
                shares = _precision_recall(fake, kept, valid)
                state = {k: v.clone() for k, v in average.state_dict().items()}
                snapshots[step] = (shares, state)

    X = _blobs()
    params = {**EARLY, "jacobian_truncation": truncation}
    gan = GAN(max_steps=800, random_state=0, callbacks=[Snapshot()],
              **params).fit(X)
    steps = sorted(snapshots)
    values = np.array([snapshots[s][0] for s in steps])
    shares = values[:, :2]
    assert_allclose(gan.validation_shares_, shares, atol=1e-6)
    assert_allclose(_checked(gan, "valid_distance"), values[:, 2], rtol=1e-4)
    best = steps[int(np.argmax(shares.sum(axis=1)))]
    assert best == gan.best_step_
    for name, value in gan.net_.module_.state_dict().items():
        assert torch.equal(value, snapshots[best][1][name])
    if best != steps[-1]:
        assert not torch.equal(gan.net_.module_.net[0].weight,
                               snapshots[steps[-1]][1]["net.0.weight"])


def test_precision_tells_rows_between_the_modes_from_rows_on_them():
    # Two modes; a generator that puts a third of its rows half-way between
    # them has a precision of about 2/3, whatever their distances.
    rng = np.random.default_rng(0)
    valid = np.concatenate([rng.normal(size=(200, 2)) * 0.05,
                            rng.normal(size=(200, 2)) * 0.05 + [4.0, 0.0]])
    on = valid[rng.permutation(400)] + rng.normal(size=(400, 2)) * 0.01
    between = on.copy()
    between[:133] = [2.0, 0.0] + rng.normal(size=(133, 2)) * 0.05
    as_torch = functools.partial(torch.as_tensor, dtype=torch.float64)
    radii = stopping._ball_radii(as_torch(valid), stopping._N_BALL_NEIGHBOURS)
    kept = torch.ones(400, dtype=torch.bool)
    on_shares = stopping._shares(as_torch(on), kept, as_torch(valid), radii)
    between_shares = stopping._shares(as_torch(between), kept, as_torch(valid),
                                      radii)
    assert on_shares[0] > 0.95 and abs(between_shares[0] - 267 / 400) < 0.03
    assert_allclose(on_shares, _precision_recall(on, kept.numpy(), valid))
    assert_allclose(between_shares, _precision_recall(between, kept.numpy(), valid))
    # A generator that drops a mode keeps its precision and loses recall.
    dropped = np.concatenate([on[on[:, 0] < 2]] * 2)[:400]
    dropped_shares = stopping._shares(as_torch(dropped), kept, as_torch(valid),
                                      radii)
    assert dropped_shares[0] > 0.95 and dropped_shares[1] < 0.55


@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("fused", [True, None])
def test_adam_steps_equal_torch_adam_bit_for_bit(fused, amsgrad):
    # _AdamSteps skips torch.optim's per-call wrappers; the weights it makes
    # must be those of loss.backward() and Adam.step(), also after the
    # learning rate is changed between steps (as a scheduler callback does)
    # and with a second parameter group.
    def make():
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.ReLU(),
                                  torch.nn.Linear(5, 1))
        groups = [{"params": net[0].parameters()},
                  {"params": net[2].parameters(), "lr": 3e-3}]
        return net, torch.optim.Adam(groups, lr=1e-2, betas=(0.5, 0.9),
                                     weight_decay=1e-3, fused=fused, amsgrad=amsgrad)

    x = torch.randn(32, 3, generator=torch.Generator().manual_seed(1))
    expected, optimizer = make()
    for step in range(6):
        if step == 3:
            optimizer.param_groups[0]["lr"] = 5e-2
        optimizer.zero_grad(set_to_none=True)
        expected(x).square().mean().backward()
        optimizer.step()
    got, optimizer = make()
    steps = _AdamSteps(optimizer)
    for step in range(6):
        if step == 3:
            optimizer.param_groups[0]["lr"] = 5e-2
        steps(got(x).square().mean())
    moved = [not torch.equal(a, b) for a, b in zip(
        make()[0].parameters(), got.parameters(), strict=True)]
    assert all(moved)
    for a, b in zip(expected.parameters(), got.parameters(), strict=True):
        assert torch.equal(a, b)
        assert b.grad is None  # gradients are not left on the weights


# ------------------------------------------------------------ determinism


def test_same_random_state_gives_identical_models():
    gan, X = _fitted()
    other = GAN(2, random_state=0, **FAST).fit(X)
    assert_array_equal(gan.score_samples(X), other.score_samples(X))
    assert_array_equal(gan.sample(7, random_state=3), other.sample(7, random_state=3))
    different = GAN(2, random_state=1, **FAST).fit(X)
    assert not np.array_equal(gan.score_samples(X), different.score_samples(X))


def test_sample_randomness_is_taken_at_call_time():
    gan, _ = _fitted()
    first = gan.sample(10, random_state=0)
    assert first.shape == (10, 2)
    assert_array_equal(first, gan.sample(10, random_state=0))
    assert not np.allclose(first, gan.sample(10, random_state=1))
    assert_array_equal(gan.sample(4), gan.sample(4))
    # Sampling leaves the trained generator in the mode it found it.
    assert gan.net_.module_.training


def test_global_random_states_are_untouched():
    X = np.random.default_rng(0).normal(size=(60, 3))
    torch_state, np_state, py_state = (
        torch.get_rng_state(), np.random.get_state(), random.getstate()
    )
    gan = GAN(2, random_state=0, **FAST).fit(X)
    gan.score_samples(X)
    gan.score(X)
    gan.sample(5, random_state=1)
    pickle.loads(pickle.dumps(gan)).sample(3)
    assert torch.equal(torch_state, torch.get_rng_state())
    assert random.getstate() == py_state
    after = np.random.get_state()
    assert np_state[0] == after[0] and np.array_equal(np_state[1], after[1])
    assert np_state[2:] == after[2:]


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16), size=st.integers(1, 200))
def test_scores_do_not_depend_on_the_other_rows_or_their_order(seed, size):
    gan, X = _fitted()
    rows = np.random.default_rng(seed).choice(len(X), size=size, replace=False)
    full = gan.score_samples(X)
    assert_array_equal(gan.score_samples(X[rows]), full[rows])


@settings(max_examples=6, deadline=None)
@given(
    n_samples=st.integers(7, 40),
    n_features=st.integers(1, 5),
    pac=st.integers(1, 5),
    loss=st.sampled_from(["wgan-gp", "nonsaturating"]),
    early_stopping=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_shapes_and_finite_outputs(n_samples, n_features, pac, loss, early_stopping,
                                   seed):
    X = np.random.default_rng(seed).uniform(size=(n_samples, n_features))
    gan = GAN(2, loss=loss, pac=pac, generator_hidden_layer_sizes=(8,),
              discriminator_hidden_layer_sizes=(8,), max_steps=5, n_critic=2,
              batch_size=max(pac, min(16, n_samples - 4)),
              early_stopping=early_stopping,
              validation_interval=2, random_state=seed).fit(X)
    scores = gan.score_samples(X)
    assert scores.shape == (n_samples,) and np.all(np.isfinite(scores))
    samples = gan.sample(3, random_state=0)
    assert samples.shape == (3, n_features) and np.all(np.isfinite(samples))
    assert set(np.unique(gan.predict(X))) <= {-1, 1}


# --------------------------------------------------------- persistence


def test_pickle_round_trip_gives_identical_results():
    gan, X = _fitted()
    restored = pickle.loads(pickle.dumps(gan))
    assert_array_equal(restored.score_samples(X), gan.score_samples(X))
    assert_array_equal(restored.sample(5, random_state=0),
                       gan.sample(5, random_state=0))
    assert restored.score(X) == gan.score(X)


# ------------------------------------------------------- sklearn contract


def test_outlier_conventions():
    gan, X = _fitted()
    scores = gan.score_samples(X)
    assert gan.offset_ == pytest.approx(np.percentile(scores, 10))
    assert_allclose(gan.decision_function(X), scores - gan.offset_)
    labels = gan.predict(X)
    assert labels.dtype.kind == "i"
    assert np.mean(labels == -1) == pytest.approx(0.1, abs=1 / len(X))
    assert_array_equal(gan.fit_predict(X), labels)
    assert np.all(scores <= 0)


def test_grid_search_needs_no_scorer():
    X, _ = _two_clusters(np.random.default_rng(2), 400)
    gan = GAN(2, generator_hidden_layer_sizes=(64, 64), lr=1e-3,
              discriminator_hidden_layer_sizes=(64, 64), n_critic=2, random_state=0)
    search = GridSearchCV(gan, {"max_steps": [1, 300]}, cv=2).fit(X)
    # One generator step leaves the generator near its random start.
    assert search.best_params_ == {"max_steps": 300}


def test_user_callbacks_run_each_epoch():
    class CountEpochs(Callback):
        def initialize(self):
            self.n_epochs = 0
            return self

        def on_epoch_end(self, net, **kwargs):
            self.n_epochs += 1

    counter = CountEpochs()
    _, X = _fitted()
    gan = GAN(2, callbacks=[counter], random_state=0, **FAST).fit(X)
    (used,) = [cb for _, cb in gan.net_.callbacks_ if isinstance(cb, CountEpochs)]
    assert used.n_epochs == gan.n_iter_ > 1


class _RecordThreads(Callback):
    def initialize(self):
        self.threads = set()
        return self

    def on_batch_end(self, net, **kwargs):
        self.threads.add(torch.get_num_threads())


@pytest.fixture
def three_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(3)
    yield
    torch.set_num_threads(before)


def test_small_network_runs_at_one_thread_and_restores_the_setting(three_threads,
                                                                   monkeypatch):
    _, X = _fitted()
    seen = []
    generate = GAN._generate
    standardise = GAN._standardise

    def spy_generate(self, *args, **kwargs):
        seen.append(("generate", torch.get_num_threads()))
        return generate(self, *args, **kwargs)

    def spy_standardise(self, *args, **kwargs):
        seen.append(("standardise", torch.get_num_threads()))
        return standardise(self, *args, **kwargs)

    monkeypatch.setattr(GAN, "_generate", spy_generate)
    monkeypatch.setattr(GAN, "_standardise", spy_standardise)
    recorder = _RecordThreads()
    gan = GAN(2, callbacks=[recorder], random_state=0, **FAST).fit(X)
    assert recorder.threads == {1}
    # The reference rows of the scores and the training scores of offset_.
    assert {kind for kind, _ in seen} == {"generate", "standardise"}
    assert {threads for _, threads in seen} == {1}
    assert torch.get_num_threads() == 3
    seen.clear()
    gan.sample(5)
    gan.score_samples(X[:5])
    assert [kind for kind, _ in seen] == ["generate", "standardise"]
    assert {threads for _, threads in seen} == {1}
    assert torch.get_num_threads() == 3
    # Also when the fit raises.
    with pytest.raises(ValueError, match="diverged"):
        GAN(2, lr=1e6, random_state=0, **{**FAST, "max_steps": 200}).fit(X)
    assert torch.get_num_threads() == 3
    # A large network keeps the user's setting.
    recorder = _RecordThreads()
    GAN(2, generator_hidden_layer_sizes=(1024, 1024), batch_size=256, max_steps=2,
        early_stopping=False, jacobian_truncation=0.0, callbacks=[recorder],
        random_state=0).fit(_blobs(300))
    assert recorder.threads == {3}


def test_verbose_prints_a_plain_table_in_steps_and_quiet_prints_nothing(capsys):
    X = _blobs(300)
    params = {**EARLY, "max_steps": 1000, "validation_interval": 20,
              "n_iter_no_change": 2, "jacobian_truncation": 0.0, "random_state": 0}
    quiet = GAN(2, **params).fit(X)
    assert capsys.readouterr().out == ""
    gan = GAN(2, verbose=1, **params).fit(X)
    out = capsys.readouterr().out
    assert "\x1b" not in out  # no colour codes in a captured log
    lines = out.splitlines()
    header = lines[1].split()
    assert header == ["step", "critic_loss", "generator_loss", "valid_precision",
                      "valid_recall", "dur"]
    rows = [line.split() for line in lines[3:-1]]
    # One row per check, counted in generator steps out of the cap, with the
    # shares the model recorded; the best sum so far is starred.
    assert [row[0] for row in rows] == [
        f"{step}/1000" for step in range(20, gan.n_steps_ + 1, 20)]
    assert_allclose([[float(row[3]), float(row[4])] for row in rows],
                    gan.validation_shares_, atol=1e-4)
    starred = [row[0] for row in rows if "*" in row]
    assert starred[-1] == f"{gan.best_step_}/1000"
    assert "not before step 375" in lines[0]  # 75 passes of 5 batches
    # The stop line names the rule, the kept check and its values.
    precision, recall = gan.validation_shares_[gan.best_step_ // 20 - 1]
    assert lines[-1] == (
        f"GAN stopped at step {gan.n_steps_} by early stopping, 2 checks in a row "
        "after step 375 without a gain (held-out precision + recall up tol=0.04 "
        "from the last gain or 0.01 above the best, or distance down 3% from the "
        "last gain). Kept the "
        f"generator of step {gan.best_step_}, the best of {len(rows)} checks: "
        f"held-out precision {precision:.4f} + recall {recall:.4f} = "
        f"{gan.best_validation_score_:.4f}.")
    assert gan.stop_reason_ == "early_stopping"
    assert 375 <= gan.n_steps_ < 1000
    # Printing changes nothing.
    assert_array_equal(gan.sample(5, random_state=0), quiet.sample(5, random_state=0))


# ------------------------------------------------------------ bad input


def test_diverging_training_raises_and_names_lr():
    X = np.random.default_rng(0).normal(size=(200, 3))
    with pytest.raises(ValueError, match=r"diverged.*smaller lr"):
        GAN(2, lr=1e6, random_state=0, **{**FAST, "max_steps": 200}).fit(X)


@pytest.mark.parametrize(
    "X, message",
    [
        (np.array([[np.nan, 1.0], [np.nan, 1.0], [np.nan, 2.0]]),
         r"Column\(s\) \[0\] of X have no observed entry"),
        (np.array([[0.0, 1.0], [np.inf, 1.0], [1.0, 2.0]]), "infinity"),
        (np.array([[0.0, 1.0]]), "minimum of 2 is required"),
        (np.array([0.0, 1.0, 2.0]), "Expected 2D array"),
    ],
)
def test_bad_training_input_raises(X, message):
    with pytest.raises(ValueError, match=message):
        GAN(**FAST).fit(X)


def test_bad_inference_input_raises():
    gan, X = _fitted()
    message = re.escape("X has 3 features, but GAN is expecting 2")
    with pytest.raises(ValueError, match=message):
        gan.score_samples(np.zeros((4, 3)))
    bad = X[:3].copy()
    bad[0, 0] = np.nan
    for method in (gan.score_samples, gan.predict, gan.decision_function, gan.score):
        with pytest.raises(ValueError, match="NaN"):
            method(bad)
    with pytest.raises(ValueError, match="n_samples"):
        gan.sample(0)


def test_bad_parameters_raise():
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(InvalidParameterError, match="loss"):
        GAN(loss="hinge").fit(X)
    with pytest.raises(InvalidParameterError, match="pac"):
        GAN(pac=0).fit(X)
    with pytest.raises(InvalidParameterError, match="max_epochs"):
        GAN(max_epochs=0).fit(X)
    with pytest.raises(InvalidParameterError, match="jacobian_truncation"):
        GAN(jacobian_truncation=1.0).fit(X)
    with pytest.raises(ValueError, match="generator_hidden_layer_sizes"):
        GAN(generator_hidden_layer_sizes=(8, 0)).fit(X)
    for name, value in [("early_stopping", "yes"), ("validation_fraction", 1.0),
                        ("validation_fraction", 0.0), ("n_iter_no_change", 0),
                        ("validation_interval", 0), ("tol", -1.0), ("tol", 1.0)]:
        with pytest.raises(InvalidParameterError, match=name):
            GAN(**{name: value}).fit(X)


def test_unfitted_model_raises():
    gan = GAN()
    for method in (gan.score_samples, gan.predict, gan.score):
        with pytest.raises(NotFittedError):
            method(np.zeros((2, 2)))
    with pytest.raises(NotFittedError):
        gan.sample(2)


def test_sampling_generator_is_the_running_average_of_the_iterates():
    # The fitted generator is the exponential moving average, with a decay
    # warming up as min(0.999, (1 + n) / (10 + n)), of the generator's weights
    # after each of its steps; recomputed here from snapshots of the iterates.
    snapshots = []

    class Snapshot(Callback):
        def on_batch_end(self, net, **kwargs):
            snapshots.append([p.detach().clone() for p in net.module_.parameters()])

    X = np.random.default_rng(0).normal(size=(64, 2))
    gan = GAN(**{**FAST, "max_steps": 30, "n_critic": 1, "batch_size": 32,
                 "early_stopping": False, "callbacks": [Snapshot()]}).fit(X)
    assert len(snapshots) == 30
    average = [p.double() for p in snapshots[0]]
    for n, iterate in enumerate(snapshots[1:], start=1):
        decay = min(0.999, (1 + n) / (10 + n))
        average = [decay * a + (1 - decay) * p.double()
                   for a, p in zip(average, iterate, strict=True)]
    fitted = [p.detach().double() for p in gan.net_.module_.parameters()]
    for a, f in zip(average, fitted, strict=True):
        assert_allclose(f.numpy(), a.numpy(), rtol=1e-5, atol=1e-6)
    # and it is not the last iterate
    assert not all(torch.equal(f.float(), p)
                   for f, p in zip(fitted, snapshots[-1], strict=True))
