"""The public GAN estimator: parameters, fit, samples and scores.

``GAN`` reads and checks the data (numeric arrays and tables), builds the
skorch net of ``training.py`` around the networks of ``networks.py`` with
the stopping rule of ``stopping.py``, and answers from the fitted
generator: ``sample`` with the Jacobian truncation of ``truncation.py``,
``score_samples`` by the distance of a row to its nearest neighbours among
generated rows drawn at fit time, and ``score`` by the MMD between samples
and data.
"""

import math
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

from skgen.metrics import mmd
from skgen.neural._base import (
    BaseTorchEstimator,
    _seed_from,
    _stream_generator,
    check_finite_or_diverged,
)
from skgen.neural._gan.gaps import _GapLayout
from skgen.neural._gan.networks import _Critic, _Generator
from skgen.neural._gan.raking import (
    block_shares,
    raking_factors,
    raking_weights,
)
from skgen.neural._gan.sampling import GANSampling
from skgen.neural._gan.stopping import _SampleEarlyStopping, _wait_steps
from skgen.neural._gan.training import _GANNet
from skgen.neural._gan.truncation import _jacobian_norms, _steepness_net
from skgen.outlier._conventions import OutlierConventionsMixin
from skgen.preprocessing._table import TableEncoder, adopt_encoder
from skgen.preprocessing._table_input import (
    check_known_categories,
    check_table,
    is_table,
)
from skgen.utils._missing import MissingnessModel, check_gaps
from skgen.utils._torch import make_torch_generator

__all__ = ["GAN"]

# Seed streams of a fit (stream 0 is the module, 1, 2, ... the fit calls;
# those of the stopping rule, 2**20 + 3 and + 4, are in stopping.py).
_CRITIC_STREAM = 2**20
_REFERENCE_STREAM = 2**20 + 1
_TRUNCATION_STREAM = 2**20 + 2
_RAKING_STREAM = 2**20 + 5

# Latent draws at fit time whose Jacobian norms set the truncation threshold.
_N_THRESHOLD = 8192

# Rows per critic step with batch_size="auto" (fewer when the data have
# fewer), and the learning rate at that many rows with lr="auto".
_AUTO_BATCH_SIZE = 256
_AUTO_LR = 1e-3
# On a large table, batch_size="auto" doubles the rows until the stopping
# rule's wait of _WARM_UP_EPOCHS passes takes at most half of max_steps, up
# to this many rows, and lr="auto" scales the rate by the square root of
# the rows' growth (the square-root rule for Adam, Malladi et al., 2022);
# beyond this cap more rows cost more time per step than they save steps.
_MAX_AUTO_BATCH_SIZE = 512

# jacobian_truncation="auto" on numeric data (a table takes none).
_AUTO_TRUNCATION = 0.15

# Generated rows whose categories set the raking factors of match_categories.
_N_RAKING = 32768

# Generated rows drawn once at fit time; score_samples measures the distance
# of a row to its nearest neighbours among them.
_N_REFERENCE = 2048
_N_NEIGHBORS = 5

# The seed of the samples that ``score`` compares with X.
_SCORE_SEED = 0


class GAN(GANSampling, OutlierConventionsMixin, BaseTorchEstimator):
    """Generative adversarial network: a sampler and an anomaly detector.

    A generator network maps standard normal latent draws to rows of data;
    a critic network is trained against it to tell data from generated
    rows. The defaults (the non-saturating logistic loss, PacGAN packing of
    4 rows, internal standardisation of the data, a running average of the
    generator's weights as the final generator, and the rejection of the
    latent draws where the generator is steepest, on numeric data) aim at
    covering every mode of the data with sharp samples. Training ends when
    the generator's samples stop gaining on rows held out of training, by
    the share of
    samples among the held-out rows and of held-out rows among the samples
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

    Rows with missing entries are trained on as they are: each column with
    gaps gets a "missing" output, one more level of a categorical column
    and a pair of levels (observed, missing) beside a numeric one, whose
    value the critic sees masked to the column's mean where it is missing,
    in the data's rows and the generator's alike. :meth:`sample` draws
    complete rows from the generator and their gaps from a logistic model
    of each column's gaps (see ``sample_gaps``).

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
        numeric columns are mapped to normal scores by their quantiles
        (``numeric_transform='quantile-normal'``; an integer at the middle of
        its unit interval), categorical columns as one-hot blocks. A numeric
        array or an all-numeric DataFrame takes the numeric path and
        ``encoder_`` is not set. Columns of other dtypes (datetimes, ...)
        raise a TypeError naming the column. Missing entries (NaN; in a
        table also None or ``pd.NA``) are taken: see ``sample_gaps``.

    generator_hidden_layer_sizes : array-like of int, default=(128, 128)
        Widths of the hidden layers of the generator (ReLU).

    discriminator_hidden_layer_sizes : array-like of int, default=(128, 128)
        Widths of the hidden layers of the critic (ReLU). Its input is a
        pack of ``pac`` rows.

    loss : {'nonsaturating', 'wgan-gp'}, default='nonsaturating'
        'nonsaturating': the logistic GAN loss with the non-saturating
        generator loss. 'wgan-gp': Wasserstein loss with a gradient penalty
        of weight ``gp_weight`` (usually with ``n_critic=5``). The User
        Guide compares the two.

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
        averaged generator maps 1 024 fixed latent draws to rows and compares
        them with (at most 1 024 of) the held-out rows, in the standardised
        units of the model. The precision is the share of the rows that
        :meth:`sample` would keep (``jacobian_truncation``) within the ball
        of some held-out row, a ball that reaches the row's 5th nearest
        held-out neighbour: it falls when rows lie between the modes of the
        data, where a mean distance barely moves. The recall is the share of
        held-out rows within a like ball of some generated row: it falls
        when a mode is dropped. Training stops once ``n_iter_no_change``
        checks in a row have passed without a gain: a precision + recall
        ``tol`` above that of the last gain or ``tol / 4`` above the best
        so far, or a symmetric nearest-neighbour distance (from each
        generated row to its nearest held-out row and back) 3% below that of
        the last gain, which still falls while the rows move within the
        balls onto the modes. Only the checks after a wait of 75 passes over the
        training rows count (on a large table the generator gathers its
        rows onto the data slowly, pass after pass, and moves them between
        modes for a while at a time); ``max_steps`` caps it all. The
        best-checked generator by precision + recall is kept
        (``best_step_``). False: every row is trained on and ``max_steps``
        sets the training.

    validation_fraction : float, default=0.1
        Share of the rows held out for ``early_stopping``, in (0, 1). At
        least ``max(2, pac)`` rows must remain for training.

    n_iter_no_change : int, default=5
        Number of checks in a row without improvement after which training
        stops (``early_stopping`` only).

    validation_interval : int, default=250
        Generator steps between two checks of ``early_stopping`` (and
        between two rows of the ``verbose`` table).

    tol : float, default=0.04
        Least rise of the held-out precision + recall (a sum of two shares,
        in [0, 2]) that counts as a gain, in [0, 1): a check gains when its
        sum exceeds that of the last check that gained by ``tol``, so that
        a slow creep adds up. Once the samples are on the data the shares
        wander by a few hundredths from check to check, and a smaller
        ``tol`` counts those wanderings as gains. The best-checked
        generator is kept whatever ``tol``.

    batch_size : int or 'auto', default='auto'
        Number of rows of data per critic step (and of generated rows per
        generator step), at least ``pac``. 'auto' takes
        ``min(256, n_train)``, ``n_train`` the rows left for training, and
        512 on a large table: where 75 passes over the training rows (the
        least training of ``early_stopping``) would take more than half of
        ``max_steps`` at 256 rows (more than 34 048 rows at the default
        ``max_steps``). A larger number than the training rows is clipped to
        them, with a warning: every step then sees all the data.

    lr : float or 'auto', default='auto'
        Learning rate of the two Adam optimisers (``betas=(0.5, 0.9)``).
        'auto': 1e-3 with a given ``batch_size``; with
        ``batch_size='auto'``, 1e-3 times the square root of its rows over
        256 when it takes more than 256 (1.41e-3 at 512 rows), 1e-3
        otherwise: the square-root scaling rule of Adam's rate with the
        batch.

    jacobian_truncation : float or 'auto', default='auto'
        Share of latent draws that :meth:`sample` rejects: those where the
        Frobenius norm of the generator's Jacobian ``dG/dz`` exceeds its
        ``1 - jacobian_truncation`` quantile, set at fit time from 8 192
        draws. A continuous generator of a connected latent space joins
        separate modes by thin bridges, and crosses them where it is steep
        (Tanielian et al., 2020); rejecting those draws removes most of the
        samples that fall between modes. 0 keeps every draw. 'auto': 0.15 on
        numeric data, 0 on a table with categorical columns (``encoder_``),
        where the steepest draws are those of rare categories and of the
        tails of the numeric columns, whose rejection starved the rare
        levels and drew rows closer to the training rows than new real rows
        are (see the User Guide). On a table the Jacobian is that of the
        numeric outputs alone (the logits of the categorical columns are
        not data), and a table without numeric columns is sampled without
        rejection (``jacobian_truncation_`` is then 0). It changes
        :meth:`sample` and :meth:`score` only: the reference rows of
        :meth:`score_samples` are drawn without it. The value at fit time
        counts (``jacobian_truncation_``, ``jacobian_threshold_``): setting
        it afterwards changes nothing until the next fit. Each sample costs
        ``1 / (1 - jacobian_truncation)`` latent draws on average (1.18 at
        0.15), each with a Jacobian (``latent_dim`` forward-mode passes
        through the generator).

    sample_gaps : bool, default=True
        Whether :meth:`sample` draws missing entries when the rows seen in
        :meth:`fit` had some. Each column with gaps gets a logistic
        regression of its missing indicator on the row's other encoded
        columns (``missingness_``), and a sampled row misses each entry with
        the chance its other drawn entries give, so the synthetic table
        keeps each column's missing share and its dependence on the other
        columns, and the observed values keep their law given that they are
        observed. False draws complete rows: every entry from the generator,
        which is what the missing entries would have been if they were
        missing at random given the observed ones, as far as the generator
        carries what it learnt from the observed values over to the gaps
        (the critic never sees a value under a gap). The missing entries
        hold NaN. A column without gaps in fit takes none in
        :meth:`score_samples` either.

    match_categories : bool, default=True
        Whether :meth:`sample` draws each level of a categorical column at
        its share in the training rows (among the rows where the column is
        observed). A GAN draws rare levels less often than the data hold
        them. At the end of :meth:`fit`, 32 768 drawn rows give each level a
        factor by iterative proportional fitting (raking), between 1/4 and
        4, such that the rows weighted by the product of their levels'
        factors have the training shares in every column
        (``category_factors_``); :meth:`sample` keeps a drawn row with a
        chance proportional to its weight, so that within a combination of
        levels the rows keep the generator's law. Each sample then costs
        the largest weight over the pool's mean weight in drawn rows. Like
        ``jacobian_truncation``, the value at fit time counts. No effect
        without categorical columns.

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
        since the previous row, the held-out precision and recall of
        ``early_stopping`` (``*`` marks the best sum so far) and the seconds
        taken; and at the end
        a line saying at which step training stopped and by which rule
        (``stop_reason_``), and which check's generator was kept with its
        held-out value.

    callbacks : list of skorch callbacks or None, default=None
        Extra :mod:`skorch.callbacks` (instances or ``(name, callback)``
        pairs).

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained skorch net: ``module_`` is the generator, ``critic_``
        the critic, ``history_`` the losses of every epoch.

    encoder_ : TableEncoder
        The encoder of the training table
        (``numeric_transform='quantile-normal'``),
        when X had categorical columns; absent otherwise. Its
        ``categories_`` are the categories that :meth:`sample` draws.

    category_factors_ : list of ndarray or None
        The raking factor of each level of each categorical column (see
        ``match_categories``), in the order of ``encoder_.categories_``;
        None without categorical columns or with ``match_categories=False``.

    missingness_ : MissingnessModel or None
        The model of the gaps (see ``sample_gaps``), fitted on the encoded
        training rows; None when they had none.

    offset_ : float
        The ``contamination`` percentile of the training scores:
        ``decision_function = score_samples - offset_``.

    n_iter_ : int
        Number of epochs run.

    n_steps_ : int
        Number of generator steps run.

    stop_reason_ : {'early_stopping', 'max_steps', 'max_epochs'}
        Why training ended: the stopping rule of ``early_stopping``, the
        step budget ``max_steps`` or the cap ``max_epochs``.

    best_step_ : int
        The generator step whose averaged generator was kept: the best
        check of ``early_stopping``, or ``n_steps_`` without it.

    validation_scores_ : ndarray of shape (n_checks,) or None
        The held-out precision + recall at each check of
        ``early_stopping``, in order (higher is better); None without early
        stopping.

    validation_shares_ : ndarray of shape (n_checks, 2) or None
        The held-out precision and recall at each check; None without early
        stopping.

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
        "jacobian_truncation": [Interval(Real, 0.0, 1.0, closed="left"),
                                StrOptions({"auto"})],
        "sample_gaps": ["boolean"],
        "match_categories": ["boolean"],
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
        tol=0.04,
        batch_size="auto",
        lr="auto",
        jacobian_truncation="auto",
        sample_gaps=True,
        match_categories=True,
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
        self.sample_gaps = sample_gaps
        self.match_categories = match_categories
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
            tol=self.tol, seed=seed, truncation=self._truncation(),
            verbose=self.verbose))]
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
            **self._gap_parameters(),
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

    def _truncation(self):
        """``jacobian_truncation``, with 'auto' resolved for the data fitted."""
        if self.jacobian_truncation != "auto":
            return float(self.jacobian_truncation)
        return 0.0 if hasattr(self, "encoder_") else _AUTO_TRUNCATION

    def _gap_parameters(self):
        """The generator's gap outputs (see ``gaps.py``), none without gaps."""
        layout = getattr(self, "_gap_layout", None)
        if layout is None:
            return {}
        return {"module__missing_levels": layout.missing_levels,
                "module__gap_columns": layout.gap_columns,
                "module__observed_levels": layout.observed_levels}

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
        tags.input_tags.allow_nan = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the GAN to X, from a fresh initialisation.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training data, at least ``max(2, pac)`` rows (4 by default). A
            DataFrame may have categorical, boolean and string columns (see
            ``categorical_features``). Missing entries (NaN, or None and
            ``pd.NA`` in a table) are modelled (see ``sample_gaps``); a row
            or column with nothing observed raises a ValueError.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        if is_table(X, self.categorical_features):
            # Normal scores: a skewed or heavy-tailed column as the
            # generator's outputs suit (see the User Guide's P6 figures).
            encoder = TableEncoder(self.categorical_features,
                                   numeric_transform="quantile-normal",
                                   handle_unknown="ignore", allow_missing=True)
            Z = encoder.fit(X).transform(X)
            adopt_encoder(self, encoder)
            check_gaps(encoder.missing_mask(X), "the GAN")  # the table's columns
            X, block_sizes = Z, tuple(c.size for c in encoder.categories_)
        else:
            X = validate_data(self, X, dtype=[np.float64, np.float32],
                              ensure_min_samples=2, ensure_all_finite="allow-nan")
            if hasattr(self, "encoder_"):
                del self.encoder_
            block_sizes = ()
        n_numeric = X.shape[1] - sum(block_sizes)
        layout = _GapLayout(n_numeric, block_sizes,
                            np.zeros((0, n_numeric + len(block_sizes)), dtype=bool))
        missing = layout.missing_mask(X)
        check_gaps(missing, "the GAN")
        # The training rows' category shares, which sample matches.
        shares = (block_shares(X, n_numeric, block_sizes)
                  if self.match_categories and block_sizes else None)
        # Without gaps the generator's columns are the encoded ones.
        self._gap_layout = self.missingness_ = None
        if missing.any():
            self.missingness_ = MissingnessModel().fit(X, missing, [
                np.array([j]) for j in range(n_numeric)] + [
                np.arange(end - size, end) for size, end in zip(
                    block_sizes, n_numeric + np.cumsum(block_sizes), strict=True)])
            self._gap_layout = _GapLayout(layout.n_numeric, block_sizes, missing)
            X = self._gap_layout.model_rows(X)
            block_sizes = self._gap_layout.block_sizes
        self._block_sizes = block_sizes
        self._fit_net(X, partial=False)
        self.n_steps_ = self.net_.generator_steps_
        stopping = dict(self.net_.callbacks_)["early_stopping"]
        self.stop_reason_ = stopping.stop_reason_
        if self.early_stopping:
            self.validation_scores_ = np.asarray(stopping.scores_)
            self.validation_shares_ = np.asarray(stopping.shares_).reshape(-1, 2)
            self.best_validation_score_ = float(stopping.best_score_)
            self.best_step_ = stopping.best_step_
        else:
            self.validation_scores_ = self.best_validation_score_ = None
            self.validation_shares_ = None
            self.best_step_ = self.n_steps_
        self.jacobian_truncation_ = self._truncation()
        self.jacobian_threshold_ = math.inf
        if X.shape[1] == sum(self._block_sizes):
            # Only categorical columns: no numeric output to be steep in.
            self.jacobian_truncation_ = 0.0
        # The rest of fit runs the small network too: at the training's threads.
        with self._threads():
            self._set_truncation_and_reference(shares)
            self._set_offset(self._score_samples(X))
        return self

    def _set_truncation_and_reference(self, shares=None):
        """Set ``jacobian_threshold_``, ``category_factors_`` and the scores' rows.

        ``shares``: the categories' shares in the training rows, which the
        samples match; None leaves the generator's.
        """
        if self.jacobian_truncation_ > 0:
            generator = _stream_generator(self._seed, _TRUNCATION_STREAM,
                                          self.net_.device)
            module = self._inference_module()
            with torch.no_grad():
                norms = _jacobian_norms(_steepness_net(module), self._latent(
                    module, _N_THRESHOLD, generator))
            check_finite_or_diverged(norms.cpu().numpy(), self.net_)
            self.jacobian_threshold_ = float(
                torch.quantile(norms, 1.0 - self.jacobian_truncation_))
        self.category_factors_ = None
        if shares is not None:
            generator = _stream_generator(self._seed, _RAKING_STREAM, self.net_.device)
            pool = self._complete_rows(_N_RAKING, generator, truncate=True)
            levels = self._levels(pool)
            self.category_factors_ = raking_factors(levels, shares)
            weights = raking_weights(levels, self.category_factors_)
            # The largest weight of any row: every level at its largest factor.
            self._raking_max = math.prod(f.max() for f in self.category_factors_)
            self._raking_share = float(weights.mean()) / self._raking_max
        generator = _stream_generator(self._seed, _REFERENCE_STREAM, self.net_.device)
        reference = self._as_data_rows(
            *self._draw(_N_REFERENCE, generator, truncate=False))
        self._neighbors = NearestNeighbors(
            n_neighbors=min(_N_NEIGHBORS, _N_REFERENCE), algorithm="ball_tree"
        ).fit(self._standardise(reference))

    # --------------------------------------------------------- inference

    def _standardise(self, X):
        module = self.net_.module_
        loc = module.loc.double().cpu().numpy()
        scale = module.scale.double().cpu().numpy()
        X = (np.asarray(X, dtype=np.float64) - loc) / scale
        # A numeric gap sits at the column's mean, as the generator masks it.
        return X if self._gap_layout is None else np.nan_to_num(X, nan=0.0)

    def _model_rows(self, Z):
        """Encoded rows in the generator's columns (see ``gaps.py``)."""
        return Z if self._gap_layout is None else self._gap_layout.model_rows(Z)

    def _encoded(self, X):
        """Validated rows of X in the generator's columns: a float64 matrix.

        A table is checked against the training frame (names, number of
        columns, no category unseen in fit) and encoded by ``encoder_``.
        Gaps are taken in the columns that had gaps in fit.
        """
        if not hasattr(self, "encoder_"):
            Z = validate_data(self, X, dtype=[np.float64, np.float32],
                              reset=False, ensure_all_finite="allow-nan")
            missing = np.isnan(Z)
        else:
            X = check_table(self, X, ensure_all_finite="allow-nan")
            check_known_categories(
                self, X, "A GAN has no score for them: fit on data that has them, "
                "or map them to a category seen in fit.")
            Z = self.encoder_.transform(X)
            missing = self.encoder_.missing_mask(X)
        layout = self._gap_layout
        gappy = np.zeros(missing.shape[1], dtype=bool)
        if layout is not None:
            # The mask of the encoder is in the table's column order.
            order = (np.r_[self.encoder_._numeric, self.encoder_._categorical]
                     if hasattr(self, "encoder_") else np.arange(len(gappy)))
            gappy[order[list(layout.gap_columns)]] = True
            gappy[order[layout.n_numeric:][list(np.flatnonzero(layout.gap_blocks))]] = (
                True)
        new = np.flatnonzero(missing.any(axis=0) & ~gappy)
        if new.size:
            raise ValueError(
                f"X contains NaN or missing entries in column(s) {new.tolist()}, "
                "which had none in fit: this GAN has no model of gaps there. Fill "
                "them (for example with skgen.GenerativeImputer), drop the rows, "
                "or fit the GAN on rows with gaps in those columns."
            )
        return self._model_rows(Z)

    def _score_samples(self, X):
        distances, _ = self._neighbors.kneighbors(self._standardise(X))
        return -distances.mean(axis=1)

    def score_samples(self, X):
        """Anomaly score of each sample: higher is more normal.

        Minus the mean Euclidean distance, in standardised units, from a row
        to its 5 nearest neighbours among 2 048 generated rows drawn once at
        fit time. The score is deterministic and depends on nothing but the
        row. It is not a log-likelihood.

        On a table the rows are encoded first: numeric columns as normal
        scores by their training quantiles, then standardised, each
        categorical column one-hot (a different category adds a distance of
        sqrt(2), as a numeric column 1.4 standard deviations off does). A
        category not seen in fit raises a ValueError: the model has no
        distance for it. A gap, in a column that had gaps in
        fit, is measured as the model sees it: the "missing" level of its
        column, and a numeric value at the column's mean.

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
        Z = self._encoded(X)
        with self._threads():
            return self._score_samples(Z)

    def score(self, X, y=None):
        """Goodness of fit: minus the squared MMD between samples and X.

        ``len(X)`` rows are drawn with :meth:`sample` under a fixed seed and
        compared with X by :func:`skgen.metrics.mmd` (RBF kernel, its width
        from the median heuristic on X alone, so that every model scored on
        the same X is measured with the same kernel). Higher is better; the
        value is close to 0 when the samples and X come from the same
        distribution. On a table both are compared encoded as in
        :meth:`score_samples` (standardised normal scores, one-hot
        categories).

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
        if not hasattr(self, "encoder_") and self._gap_layout is None:
            X = validate_data(self, X, dtype=np.float64, reset=False,
                              ensure_min_samples=2)
            return -mmd(X, self.sample(len(X), random_state=_SCORE_SEED))
        Z = self._encoded(X)
        if len(Z) < 2:
            raise ValueError(
                f"Found array with {len(Z)} sample(s) while a minimum of 2 is "
                "required by GAN.score."
            )
        generator = make_torch_generator(_SCORE_SEED, self.net_.device)
        with self._threads():
            # With their gaps whatever sample_gaps: X is compared as it is.
            samples = self._as_data_rows(*self._draw(len(Z), generator))
        return -mmd(self._standardise(Z), self._standardise(samples))

    def sample(self, n_samples=1, *, random_state=None):
        """Draw new samples from the generator.

        With ``jacobian_truncation_ > 0`` the latent draws whose Jacobian
        norm exceeds ``jacobian_threshold_`` are rejected and drawn again:
        each sample costs ``1 / (1 - jacobian_truncation_)`` draws on
        average, each with a Jacobian (``latent_dim`` forward-mode passes
        through the generator). Should fewer draws pass than fit measured,
        the rounds of drawing are capped and a ValueError says so.

        On a table each categorical column is an exact draw from the
        generator's probabilities of its categories, each numeric column is
        mapped back from its normal scores (an integer column to the integer
        whose unit interval holds the value), and every numeric column is kept
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
            Z, missing = self._draw(int(n_samples), generator,
                                    gaps=self.sample_gaps)
        if hasattr(self, "encoder_"):
            return self._decode(Z, missing)
        if missing is not None:
            Z[missing] = np.nan
        return Z
