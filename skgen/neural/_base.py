"""Private base of skgen's torch estimators, trained through skorch.

The base owns what every neural estimator shares, so that a subclass only
states its modules, its loss and what its fitted model answers:

* the flat training parameters (``max_epochs``, ``batch_size``, ``lr``, ...)
  and their validation;
* seeding: one ``random_state`` gives a seed for the module (weights and any
  fixed draws, initialised from a local :class:`torch.Generator`) and a seed
  for training (batch order, validation split, noise), without ever touching
  the global random states;
* the device;
* the skorch net, kept as the fitted attribute ``net_``: skorch runs the
  loop, the callbacks, the history, the epoch table and the CUDA-safe
  pickling;
* divergence: a non-finite batch loss, or an epoch's mean loss far above the
  loss before the first step, raises a ValueError that names ``lr``, and
  :func:`check_log_likelihoods` does the same for absurd scores at the end
  of a fit;
* float64 inference in eval mode;
* Dask: the row-wise inference methods (``score_samples``,
  ``decision_function``, ``predict`` and ``transform``) of every subclass
  answer a Dask array or DataFrame with a lazy Dask array, computed block by
  block on the workers by the in-memory method (see :func:`_blockwise`).

skorch's default data path wraps every row in a ``Dataset`` and collates the
rows of each batch one by one, which costs 2.4x a bare training loop on
small models.  :class:`_TensorBatches` feeds the net slices of a permuted
tensor instead.
"""

import contextlib
import copy
import functools
import math
import re
import sys
from numbers import Integral, Real

import numpy as np
import torch
from sklearn import get_config
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted
from skorch import NeuralNet
from skorch.callbacks import EarlyStopping, PrintLog, ProgressBar

from skgen.preprocessing._table_input import check_table
from skgen.utils._dask import as_dask_array, is_dask_collection, is_dask_dataframe
from skgen.utils._threads import torch_threads
from skgen.utils._torch import as_tensor, resolve_device

__all__ = ["BaseTorchEstimator", "initialise_module_", "make_mlp"]

_REMEDY = (
    "The learning rate is probably too large for this data; try a smaller lr "
    "(it is {lr})."
)
_DIVERGED = "Training diverged: the loss became {value} at epoch {epoch}. " + _REMEDY
_EXPLODED = (
    "Training diverged: the mean training loss of epoch {epoch} is {value:.4g}, "
    "against {first:.4g} before the first step. " + _REMEDY
)
_ABSURD_SCORES = (
    "Training diverged: the fitted model gives the training data a median "
    "log-likelihood of {value:.4g} (in the units of the training loss), against "
    "about {first:.4g} before the first step. " + _REMEDY
)

# How far a loss may rise above its value before the first step, in units of
# max(|that value|, 1), before training counts as diverged. Training lowers
# the loss; a diverging optimiser raises it by orders of magnitude, often
# while it stays finite, so that checking for NaN alone lets a short run
# return a model whose scores are absurd.
_EXPLOSION_FACTOR = 1e3


def _far_above(value, reference):
    """Whether a loss ``value`` is far above the loss ``reference`` at the start."""
    return value > reference + _EXPLOSION_FACTOR * max(abs(reference), 1.0)


# Below this many multiply-adds per batch (rows x parameters) a network is
# small: its matrix products take microseconds, so torch's intra-op threads
# gain little on an idle machine, and on a busy one they wait on each other
# at every operation (benchmarks/results/vae_cost.md).
_SMALL_NETWORK_WORK = 2**27

@contextlib.contextmanager
def flush_denormals():
    """Run the block with denormal floats flushed to zero, then restore.

    A long fit leaves some of Adam's second moments decaying towards zero
    through the denormal range (weights whose gradients are tiny or nil),
    where a CPU computes a hundred times slower: over 20 000 GAN steps the
    fused Adam update went from 44 to 133 us per call.  Flushing them
    changes updates that are already below any float's resolution of the
    weights.  ``torch.set_flush_denormal`` sets the calling thread's mode
    only (so concurrent fits in other threads keep theirs) and has no
    getter: the mode in force is read from a product of a denormal, and
    left as it is when it already flushes or the CPU cannot.
    """
    tiny = torch.tensor([1e-40], dtype=torch.float32)
    if (tiny * 1.0).item() == 0.0 or not torch.set_flush_denormal(True):
        yield
        return
    try:
        yield
    finally:
        torch.set_flush_denormal(False)


_ANSI_CODE = re.compile(r"\x1b\[[0-9;]*m")


class _PrintLog(PrintLog):
    """skorch's epoch table, without colour codes unless stdout is a terminal.

    skorch colours the best value of each column with ANSI codes, which a
    log file or a notebook shows as raw escapes.
    """

    def table(self, row):
        text = super().table(row)
        if self.sink is print and not _isatty(sys.stdout):
            text = _ANSI_CODE.sub("", text)
        return text


def _isatty(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class _TensorBatches:
    """Iterable over row batches of a tensor, in a fresh order at each pass.

    One ``randperm`` from the training generator and one gather per pass,
    then every batch is a view: no per-row ``Dataset.__getitem__`` and no
    collation, which is what makes skorch's default path slow.
    """

    def __init__(self, X, batch_size, shuffle, generator):
        self.X = X
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator

    def __len__(self):
        return math.ceil(len(self.X) / self.batch_size)

    def __iter__(self):
        X = self.X
        if self.shuffle:
            order = torch.randperm(len(X), generator=self.generator, device=X.device)
            X = X[order]
        for start in range(0, len(X), self.batch_size):
            yield X[start : start + self.batch_size], None


class _EarlyStopping(EarlyStopping):
    """skorch's early stopping, idle in epochs without a validation loss.

    ``partial_fit`` trains without a validation split; skorch's callback
    would fail there on the missing ``valid_loss``.  Each epoch's row of the
    history (and of the ``verbose`` table) records ``event_best``, whether
    the monitored loss improved on the best by the threshold, and
    ``stop_by``, the last epoch training will run unless it improves again.
    """

    def on_epoch_end(self, net, **kwargs):
        if self.monitor not in net.history[-1]:
            return
        best = self.best_epoch_
        try:
            super().on_epoch_end(net, **kwargs)
        finally:
            net.history.record("event_best", self.best_epoch_ != best)
            net.history.record(
                "stop_by", min(net.max_epochs, self.best_epoch_ + self.patience)
            )


class _TorchNet(NeuralNet):
    """The skorch net behind every skgen torch estimator.

    The estimator hands ``fit_loop`` a ``(train, valid)`` pair of tensors that
    it has already validated and split; the net batches them with
    :class:`_TensorBatches`.  The module's ``forward(x, generator)`` draws
    its noise from ``self.generator``, the private training generator, which
    the estimator sets for the duration of a fit only (it is not pickled).
    The criterion receives the module's output and the batch.
    """

    generator = None
    # The loss of the first training batch, before any step: the reference
    # that tells a diverging loss from a merely large one. Set once per net,
    # so that partial_fit keeps the reference of its first call.
    initial_loss_ = None

    def get_default_callbacks(self):
        return [(name, _PrintLog() if name == "print_log" else callback)
                for name, callback in super().get_default_callbacks()]

    def notify(self, method_name, **cb_kwargs):
        if method_name != "on_epoch_end":
            return super().notify(method_name, **cb_kwargs)
        # Every callback sees the end of the epoch even when one stops the
        # training (by KeyboardInterrupt, as skorch's early stopping does),
        # so that the epoch table, printed last, shows the last epoch too.
        getattr(self, method_name)(self, **cb_kwargs)
        stop = None
        for _, callback in self.callbacks_:
            try:
                getattr(callback, method_name)(self, **cb_kwargs)
            except KeyboardInterrupt as exc:
                stop = exc
        if stop is not None:
            raise stop

    def get_split_datasets(self, X, y=None, **fit_params):
        return X

    def get_iterator(self, dataset, training=False):
        return _TensorBatches(
            dataset, self.batch_size, shuffle=training, generator=self.generator
        )

    def infer(self, x, **fit_params):
        return self.module_(x, generator=self.generator)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        return self.criterion_(y_pred, X)

    def on_batch_end(self, net, batch=None, training=False, loss=None, **kwargs):
        # A NaN or infinite loss never recovers: stop at once, naming the
        # remedy, rather than leave a model whose every score is NaN.
        if training and loss is not None:
            value = loss.item()
            if not math.isfinite(value):
                raise ValueError(
                    _DIVERGED.format(value=value, epoch=len(self.history), lr=self.lr)
                )
            if self.initial_loss_ is None:
                self.initial_loss_ = value

    def on_epoch_end(self, net, **kwargs):
        # A loss that explodes but stays finite: judged on the epoch's mean,
        # which one noisy batch moves little and a divergence moves a lot.
        super().on_epoch_end(net, **kwargs)
        batches = self.history[-1, "batches"]
        losses = [batch["train_loss"] for batch in batches if "train_loss" in batch]
        if losses and self.initial_loss_ is not None:
            value = float(np.mean(losses))
            if _far_above(value, self.initial_loss_):
                raise ValueError(_EXPLODED.format(
                    value=value, epoch=len(self.history), first=self.initial_loss_,
                    lr=self.lr))


def _default_linear_init(linear, generator):
    """PyTorch's default ``nn.Linear`` initialisation, from ``generator``.

    ``nn.Linear`` initialises itself from the global generator; the modules
    here are built on the meta device (no draw) and initialised by this.
    """
    torch.nn.init.kaiming_uniform_(linear.weight, a=math.sqrt(5), generator=generator)
    bound = 1.0 / math.sqrt(linear.in_features)
    torch.nn.init.uniform_(linear.bias, -bound, bound, generator=generator)


def initialise_module_(module, generator):
    """Move a module built on the meta device to the CPU and initialise it.

    Every ``nn.Linear`` gets PyTorch's default initialisation, drawn from
    ``generator``, in the order of ``module.modules()``.
    """
    module.to_empty(device="cpu")
    for layer in module.modules():
        if isinstance(layer, torch.nn.Linear):
            _default_linear_init(layer, generator)
    return module


_ACTIVATIONS = {
    "relu": torch.nn.ReLU,
    "tanh": torch.nn.Tanh,
    "elu": torch.nn.ELU,
    "gelu": torch.nn.GELU,
    "silu": torch.nn.SiLU,
}


def make_mlp(n_in, hidden_layer_sizes, n_out, activation):
    """A multi-layer perceptron on the meta device (see ``initialise_module_``)."""
    layers = []
    width = n_in
    for size in hidden_layer_sizes:
        layers.append(torch.nn.Linear(width, size, device="meta"))
        layers.append(_ACTIVATIONS[activation]())
        width = size
    layers.append(torch.nn.Linear(width, n_out, device="meta"))
    return torch.nn.Sequential(*layers)


# The inference methods that answer each row on its own, so that a Dask
# collection can be answered block by block; the dtype and the number of
# columns (None: one value per row) of their answers.
_BLOCKWISE_OUTPUTS = {
    "score_samples": (np.float64, None),
    "decision_function": (np.float64, None),
    "predict": (np.int64, None),
    "transform": (np.float64, "_n_features_out"),
}


def _blockwise(name, method):
    """``method`` that answers a Dask collection lazily, block by block.

    Other input goes to ``method`` unchanged.  Dask is only imported once a
    Dask collection arrives (one cannot exist before Dask is imported).
    """

    @functools.wraps(method)
    def answer(self, X, *args, **kwargs):
        if is_dask_collection(X):
            return self._map_dask(name, X)
        return method(self, X, *args, **kwargs)

    answer.answers_dask = True
    return answer


def _answer_block(x, estimator, method):
    """The in-memory ``method`` (a name) on one row block, on its worker."""
    if hasattr(estimator, "feature_names_in_"):
        # As the in-memory method expects it: the client already checked the
        # collection's columns, and a bare block would warn that they are gone.
        import pandas as pd

        x = pd.DataFrame(x, columns=estimator.feature_names_in_, copy=False)
    return type(estimator)._in_memory_methods[method](estimator, x)


def _answer_partition(frame, estimator, method):
    """The in-memory ``method`` (a name) on one partition of a table."""
    import pandas as pd

    answer = type(estimator)._in_memory_methods[method](estimator, frame)
    if answer.ndim == 1:
        return pd.Series(answer, index=frame.index)
    return pd.DataFrame(answer, index=frame.index)


def _seed_from(seed, stream):
    """An int seed for stream ``stream`` of a fit seeded by ``seed``."""
    return int(np.random.SeedSequence([seed, stream]).generate_state(1)[0])


def _stream_generator(seed, stream, device):
    """A :class:`torch.Generator` on ``device`` seeded for stream ``stream``."""
    generator = torch.Generator(device=device)
    generator.manual_seed(_seed_from(seed, stream))
    return generator


class BaseTorchEstimator(BaseEstimator):
    """Shared fit machinery of the skgen estimators trained by skorch.

    Subclasses define:

    * ``_module_kwargs(X, seed)``: the module class and its arguments,
      ``{"module": cls, "module__...": value}``, which may hold statistics of
      the first training data ``X``; the module initialises itself from a
      local generator seeded by ``seed``, and its ``forward(x, generator)``
      draws any training noise from ``generator``;
    * ``_criterion_kwargs()``: the criterion and its arguments;
    * ``_check_training_input(X)``: extra input checks (optional).
    """

    _parameter_constraints: dict = {
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0.0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0.0, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0.0, 1.0, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callbacks": [list, None],
    }

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # As scikit-learn's set_output wraps ``transform`` in every subclass:
        # each row-wise inference method a subclass has also answers Dask
        # collections, and the in-memory method stays at hand for the blocks.
        in_memory = dict(getattr(cls, "_in_memory_methods", {}))
        for name in _BLOCKWISE_OUTPUTS:
            method = getattr(cls, name, None)
            if method is None or getattr(method, "answers_dask", False):
                continue
            in_memory[name] = method
            setattr(cls, name, _blockwise(name, method))
        cls._in_memory_methods = in_memory

    # ------------------------------------------------------------ training

    def _threads(self):
        """The ``torch_threads`` context of this estimator's fit and inference.

        One thread when the network is small (``batch_size`` times the
        number of parameters below ``_SMALL_NETWORK_WORK`` multiply-adds);
        otherwise torch's setting, whatever the user made it.  The user's
        setting is restored at the end of the block.
        """
        if not hasattr(self, "net_"):
            return torch_threads(None)
        n_params = sum(p.numel() for p in self.net_.module_.parameters())
        batch_size = self.batch_size if isinstance(self.batch_size, Integral) else 256
        small = n_params * batch_size < _SMALL_NETWORK_WORK
        return torch_threads(1 if small else None)

    def _check_training_input(self, X):
        """Raise on training data the model cannot take; no-op by default."""

    def _fit_net(self, X, *, partial):
        """Train on validated ``X`` (ndarray); build the net unless continuing."""
        self._check_training_input(X)
        device = resolve_device(self.device)
        if not partial or not hasattr(self, "net_"):
            random_state = check_random_state(self.random_state)
            seed = int(random_state.randint(np.iinfo(np.int32).max))
            self._seed = seed
            self._n_fit_calls = 0
            self.net_ = self._make_net(X, seed, device)
        self._n_fit_calls += 1
        net = self.net_
        generator = _stream_generator(self._seed, self._n_fit_calls, net.device)

        X_tensor = as_tensor(X.astype(np.float32, copy=False), net.device)
        if partial:
            data, epochs = (X_tensor, None), 1
        else:
            data, epochs = self._split(X_tensor, generator), self.max_epochs
        net.generator = generator
        try:
            with self._threads():
                net.partial_fit(data, epochs=epochs)
        finally:
            net.generator = None
        self.n_iter_ = len(net.history)
        return self

    def _split(self, X, generator):
        """``(train, valid)`` tensors; ``valid`` is None without early stopping."""
        if not self.early_stopping:
            return X, None
        n_samples = len(X)
        n_valid = math.ceil(self.validation_fraction * n_samples)
        if n_valid >= n_samples:
            raise ValueError(
                f"validation_fraction={self.validation_fraction} leaves no training "
                f"sample out of n_samples={n_samples}. Decrease validation_fraction "
                "or set early_stopping=False."
            )
        order = torch.randperm(n_samples, generator=generator, device=X.device)
        return X[order[n_valid:]], X[order[:n_valid]]

    def _make_net(self, X, seed, device):
        callbacks = []
        if self.early_stopping:
            callbacks.append(
                (
                    "early_stopping",
                    _EarlyStopping(
                        monitor="valid_loss",
                        patience=self.n_iter_no_change,
                        threshold=1e-3,
                        threshold_mode="abs",
                        load_best=True,
                    ),
                )
            )
        if self.verbose >= 2:
            callbacks.append(("progress_bar", ProgressBar()))
        callbacks += list(self.callbacks or [])
        net = _TorchNet(
            **self._module_kwargs(X, _seed_from(seed, 0)),
            **self._criterion_kwargs(),
            optimizer=torch.optim.Adam,
            optimizer__weight_decay=self.weight_decay,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            train_split=None,
            callbacks=callbacks,
            verbose=int(self.verbose),
            device=str(device),
        )
        return net.initialize()

    # ----------------------------------------------------------- inference

    def _inference_module(self):
        """A float64 copy of the fitted module, in eval mode."""
        return copy.deepcopy(self.net_.module_).to(torch.float64).eval()

    def _as_inference_tensor(self, X):
        return as_tensor(np.asarray(X, dtype=np.float64), self.net_.device)

    def _latent(self, module, n_rows, generator):
        """``n_rows`` standard normal latent points for ``module``, float64."""
        return torch.randn((int(n_rows), module.latent_dim), generator=generator,
                           dtype=torch.float64, device=self.net_.device)

    def _map_dask(self, name, X):
        """The method ``name`` on the Dask collection X: a lazy Dask array.

        The estimator is checked and X validated on the client (feature
        count and names, chunk sizes known, numbers), without computing X;
        blocks that split the columns are joined.  Each row block is then
        answered on its worker by the in-memory method, which also checks
        the block's values when the result is computed.
        """
        import dask.array as da

        check_is_fitted(self)
        if hasattr(self, "encoder_") and is_dask_dataframe(X):
            return self._map_partitions(name, X)
        X = as_dask_array(self, X, reset=False)
        dtype, columns = _BLOCKWISE_OUTPUTS[name]
        if columns is None:
            chunks, drop_axis, ndim = (X.chunks[0],), 1, 1
        else:
            chunks, drop_axis, ndim = (X.chunks[0], (getattr(self, columns),)), [], 2
        return da.map_blocks(
            _answer_block,
            X,
            estimator=self,
            method=name,
            dtype=dtype,
            chunks=chunks,
            drop_axis=drop_axis,
            meta=np.empty((0,) * ndim, dtype=dtype),
        )

    def _map_partitions(self, name, X):
        """The method ``name`` on a Dask DataFrame of a table: a lazy Dask array.

        A table's columns (categories, strings) do not make a numeric Dask
        array: each partition is answered as a pandas DataFrame by the
        in-memory method, which encodes it.  The names and number of columns
        are checked on the client, and the partitions' lengths are computed
        to give the array known chunks, as for a numeric DataFrame.
        """
        import pandas as pd

        check_table(self, X._meta)
        dtype, columns = _BLOCKWISE_OUTPUTS[name]
        if columns is None:
            meta = pd.Series(np.empty(0, dtype=dtype))
        else:
            meta = pd.DataFrame(np.empty((0, getattr(self, columns)), dtype=dtype))
        answers = X.map_partitions(_answer_partition, self, name, meta=meta)
        return answers.to_dask_array(lengths=True)

    @staticmethod
    def _chunk_rows(row_bytes):
        """Rows per inference chunk, from ``working_memory``."""
        budget = get_config()["working_memory"] * 2**20
        return int(max(budget // max(row_bytes, 1), 1))


def check_finite_or_diverged(values, net):
    """Raise the divergence error when fitted outputs are not all finite."""
    if not np.all(np.isfinite(values)):
        raise ValueError(
            _DIVERGED.format(value="non-finite", epoch=len(net.history), lr=net.lr)
        )


def check_log_likelihoods(log_likelihoods, net):
    """Raise the divergence error when a fitted model's training scores are absurd.

    ``log_likelihoods`` are per-row log-likelihoods of the training data in
    the units of the training loss (a negative log-likelihood per row). They
    are absurd when one is not finite, or when their median lies far below
    minus the loss before the first step: the last steps of a diverging run
    can wreck the weights after the last loss was computed.
    """
    check_finite_or_diverged(log_likelihoods, net)
    first = getattr(net, "initial_loss_", None)
    if first is None or not len(log_likelihoods):
        return
    median = float(np.median(log_likelihoods))
    if _far_above(-median, first):
        raise ValueError(_ABSURD_SCORES.format(value=median, first=-first, lr=net.lr))

