"""Protocol P7: imputation of numeric tables with entries removed at random.

Follows P7 of ``PROTOCOLS.md`` (in the shared folder beside the checkout).

Data: ``load_breast_cancer``, ``load_wine`` and ``load_diabetes`` from
scikit-learn and the X of the ODDS sets cardio, satellite, letter and
pendigits (read from ``../shared/data/odds`` or ``--data-dir``); constant
columns dropped, standardised with the complete data. Entries are removed
with ``np.random.default_rng(seed)``:

* ``MCAR10``, ``MCAR30``, ``MCAR50``: each entry with probability 0.1, 0.3,
  0.5;
* ``MAR``: column 0 always observed; every other entry with probability 0.6
  where column 0 is above its median, 0.1 elsewhere.

A row that would lose every entry keeps one, drawn with the same generator.

Methods (imputed values, scored by RMSE on the removed entries):

* ``skgen-GMM``: ``GenerativeImputer(random_state=seed)``, the defaults (a
  GaussianMixture fitted by EM over the observed entries, its covariance
  type and number of components chosen on held-out entries);
* ``skgen-VAE``: ``GenerativeImputer(VAE(**VAE_PARAMS, random_state=seed),
  random_state=seed)``: trained on the rows with gaps (MIWAE), it imputes
  the importance-weighted conditional mean. ``VAE_PARAMS`` (one normal per
  feature given z, no trimming, 300 epochs without early stopping) were
  chosen on the tuning seeds 0-2 at MCAR30 on wine, diabetes and
  breast_cancer, against the defaults and five other settings;
* ``Simple-mean``: ``SimpleImputer(strategy="mean")``; ``KNN``:
  ``KNNImputer()``; ``Iterative-BR``: ``IterativeImputer()``;
  ``missForest``: ``IterativeImputer(ExtraTreesRegressor(n_estimators=100),
  max_iter=10)``; ``random_state=seed`` where the estimator has one.

Draws (20 per removed entry; coverage of the true value by the 5-95%
interval of the draws, ``np.quantile``, and the interval's mean width, in
standard deviations of the column; then the same for the range of the
draws, min to max). With 20 draws from the true conditional law, a new
value falls between the 5% and 95% quantiles (order statistics 1.95 and
19.05 of 20, linearly interpolated) with probability 17.1/21 = 81%, and
within the range with probability 19/21 = 90.5%; the range is the 90%
interval that 20 draws give:

* ``skgen-GMM`` and ``skgen-VAE`` with ``strategy="sample"``: one fit, 20
  transforms with ``set_params(random_state=...)`` (the VAE's draws by
  sampling-importance-resampling over its posterior);
* ``Iterative-posterior``: ``IterativeImputer(sample_posterior=True)``
  fitted 20 times with ``random_state`` 0..19 (scikit-learn's recipe for
  multiple imputation).

Seconds are wall seconds of fit and transform (of the 20 draws for the
draw methods), each method run in turn on the same split. Threads: 1
(``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS`` and
``torch.set_num_threads``), set before numpy loads.

Usage::

    python benchmarks/bench_impute.py                      # everything
    python benchmarks/bench_impute.py --quick              # wine, seed 0
    python benchmarks/bench_impute.py --datasets wine diabetes --seeds 0 3
    python benchmarks/bench_impute.py --methods skgen-GMM KNN
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from _machine import load_average, machine_line  # noqa: E402
from sklearn.datasets import (  # noqa: E402
    load_breast_cancer,
    load_diabetes,
    load_wine,
)
from sklearn.ensemble import ExtraTreesRegressor  # noqa: E402
from sklearn.experimental import enable_iterative_imputer  # noqa: E402, F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer  # noqa: E402

from skgen import VAE, GenerativeImputer  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results"
DATASETS = ["breast_cancer", "wine", "diabetes", "cardio", "satellite", "letter",
            "pendigits"]
SETTINGS = ["MCAR10", "MCAR30", "MCAR50", "MAR"]
TUNING_SEEDS, HELD_OUT_SEEDS = (0, 1, 2), (3, 4, 5)
N_DRAWS = 20
# The VAE's settings for imputation, chosen on the tuning seeds (see above):
# with early stopping the small tables stop training before the dependence
# between columns is learned.
VAE_PARAMS = dict(n_decoder_components=1, support_fraction=1.0,
                  early_stopping=False, max_epochs=300)
POINT_METHODS = ["skgen-GMM", "skgen-VAE", "Simple-mean", "KNN", "Iterative-BR",
                 "missForest"]
DRAW_METHODS = ["skgen-GMM", "skgen-VAE", "Iterative-posterior"]


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------


def load(name, data_dir):
    """The standardised table, constant columns dropped."""
    loaders = {"breast_cancer": load_breast_cancer, "wine": load_wine,
               "diabetes": load_diabetes}
    if name in loaders:
        X = loaders[name]().data
    else:
        X = np.load(Path(data_dir) / f"{name}.npz")["X"]
    X = np.asarray(X, dtype=np.float64)
    X = X[:, X.std(axis=0) > 0]
    return (X - X.mean(axis=0)) / X.std(axis=0)


def removal_mask(X, setting, seed):
    """The entries P7 removes: True where an entry is removed."""
    rng = np.random.default_rng(seed)
    n, d = X.shape
    if setting.startswith("MCAR"):
        mask = rng.random((n, d)) < int(setting[4:]) / 100
    elif setting == "MAR":
        above = X[:, 0] > np.median(X[:, 0])
        mask = rng.random((n, d)) < np.where(above, 0.6, 0.1)[:, None]
        mask[:, 0] = False
    else:
        raise ValueError(f"unknown setting {setting!r}")
    empty = np.flatnonzero(mask.all(axis=1))
    mask[empty, rng.integers(d, size=empty.size)] = False
    return mask


# ---------------------------------------------------------------------------
# Methods
# ---------------------------------------------------------------------------


def point_imputer(name, seed):
    return {
        "skgen-GMM": lambda: GenerativeImputer(random_state=seed),
        "skgen-VAE": lambda: GenerativeImputer(
            VAE(**VAE_PARAMS, random_state=seed), random_state=seed),
        "Simple-mean": lambda: SimpleImputer(strategy="mean"),
        "KNN": lambda: KNNImputer(),
        "Iterative-BR": lambda: IterativeImputer(random_state=seed),
        "missForest": lambda: IterativeImputer(
            ExtraTreesRegressor(n_estimators=100, random_state=seed),
            max_iter=10, random_state=seed),
    }[name]()


def impute_points(name, X_gaps, seed):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return point_imputer(name, seed).fit_transform(X_gaps)


def impute_draws(name, X_gaps, seed):
    """(N_DRAWS, n, d) completed tables."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == "Iterative-posterior":
            return np.stack([
                IterativeImputer(sample_posterior=True,
                                 random_state=N_DRAWS * seed + i).fit_transform(X_gaps)
                for i in range(N_DRAWS)
            ])
        model = None
        if name == "skgen-VAE":
            model = VAE(**VAE_PARAMS, random_state=seed)
        imputer = GenerativeImputer(model, strategy="sample", random_state=seed)
        imputer.fit(X_gaps)
        return np.stack([
            imputer.set_params(random_state=N_DRAWS * seed + i).transform(X_gaps)
            for i in range(N_DRAWS)
        ])


# ---------------------------------------------------------------------------
# Run and tables
# ---------------------------------------------------------------------------


def run(datasets, seeds, settings, point_methods, draw_methods, data_dir):
    """{(dataset, setting, seed): {"point": {name: (rmse, s)},
    "draws": {name: (coverage, width, s)}}}; a failure is (None, message)."""
    results = {}
    for dataset in datasets:
        X = load(dataset, data_dir)
        for setting in settings:
            for seed in seeds:
                removed = removal_mask(X, setting, seed)
                X_gaps = np.where(removed, np.nan, X)
                cell = results[dataset, setting, seed] = {"point": {}, "draws": {}}
                for name in point_methods:
                    start = time.perf_counter()
                    try:
                        filled = impute_points(name, X_gaps, seed)
                    except ValueError as error:
                        cell["point"][name] = (None, str(error).split(";")[0])
                        continue
                    seconds = time.perf_counter() - start
                    rmse = float(np.sqrt(np.mean((filled - X)[removed] ** 2)))
                    cell["point"][name] = (rmse, seconds)
                for name in draw_methods:
                    start = time.perf_counter()
                    try:
                        draws = impute_draws(name, X_gaps, seed)
                    except ValueError as error:
                        cell["draws"][name] = (None, str(error).split(";")[0])
                        continue
                    seconds = time.perf_counter() - start
                    values, truth = draws[:, removed], X[removed]
                    low, high = np.quantile(values, [0.05, 0.95], axis=0)
                    lowest, highest = values.min(axis=0), values.max(axis=0)
                    cell["draws"][name] = (
                        float(np.mean((truth >= low) & (truth <= high))),
                        float(np.mean(high - low)),
                        float(np.mean((truth >= lowest) & (truth <= highest))),
                        float(np.mean(highest - lowest)),
                        seconds,
                    )
                print(f"{dataset} {setting} seed {seed}: " + ", ".join(
                    f"{n} {v[0]:.3f}" if v[0] is not None else f"{n} failed"
                    for n, v in cell["point"].items()), flush=True)
    return results


def _ranks(values):
    """Ranks of the finite values (1 = lowest, ties averaged); failures last."""
    names = list(values)
    finite = [values[n] for n in names if values[n] is not None]
    ranks = {}
    worst = len(names)
    for n in names:
        v = values[n]
        if v is None:
            ranks[n] = float(worst)
            continue
        below = sum(u < v for u in finite)
        equal = sum(u == v for u in finite)
        ranks[n] = below + (equal + 1) / 2
    return ranks


def format_tables(results, datasets, seeds, settings, point_methods, draw_methods,
                  label):
    def row(first, cells):
        return f"| {first} | " + " | ".join(cells) + " |"

    lines = []
    for setting in settings:
        lines += [f"### {setting}, {label} (seeds {', '.join(map(str, seeds))})", "",
                  "RMSE on the removed entries (standardised units; mean over the "
                  "seeds; `failed` where the method raised for a seed):", "",
                  row("dataset", point_methods),
                  "|---|" + "---|" * len(point_methods)]
        rank_sum = dict.fromkeys(point_methods, 0.0)
        seconds = {n: [] for n in point_methods}
        for dataset in datasets:
            cells, means = [], {}
            for name in point_methods:
                values = [results[dataset, setting, s]["point"][name] for s in seeds]
                if any(v[0] is None for v in values):
                    means[name] = None
                    cells.append("failed")
                else:
                    means[name] = float(np.mean([v[0] for v in values]))
                    cells.append(f"{means[name]:.3f}")
                    seconds[name] += [v[1] for v in values]
            for name, rank in _ranks(means).items():
                rank_sum[name] += rank
            lines.append(row(dataset, cells))
        lines.append(row("**mean rank**", [
            f"**{rank_sum[n] / len(datasets):.2f}**" for n in point_methods]))
        lines.append(row("seconds (median)", [
            f"{np.median(seconds[n]):.2f}" if seconds[n] else "-"
            for n in point_methods]))
        lines += ["", f"Draws, {N_DRAWS} per removed entry: coverage / mean width "
                  "(standardised units) of the 5-95% interval of the draws "
                  "(`np.quantile`), then of their range (min to max); seconds "
                  "for the fit and the 20 draws. A sampler of the true "
                  "conditional law covers 17.1/21 = 81% with the first and "
                  "19/21 = 90.5% with the second:",
                  "", row("dataset", draw_methods),
                  "|---|" + "---|" * len(draw_methods)]
        draw_seconds = {n: [] for n in draw_methods}
        coverage_all = {n: [] for n in draw_methods}
        for dataset in datasets:
            cells = []
            for name in draw_methods:
                values = [results[dataset, setting, s]["draws"][name] for s in seeds]
                if any(v[0] is None for v in values):
                    cells.append("failed")
                    continue
                stats = np.mean([v[:4] for v in values], axis=0)
                coverage_all[name].append(stats)
                draw_seconds[name] += [v[4] for v in values]
                cells.append(_draw_cell(stats))
            lines.append(row(dataset, cells))
        lines.append(row("**mean**", [
            f"**{_draw_cell(np.mean(coverage_all[n], axis=0))}**"
            if len(coverage_all[n]) == len(datasets) else "-"
            for n in draw_methods]))
        lines.append(row("seconds (median)", [
            f"{np.median(draw_seconds[n]):.2f}" if draw_seconds[n] else "-"
            for n in draw_methods]))
        lines.append("")
    return lines


def _draw_cell(stats):
    return "{:.3f} / {:.2f}; range {:.3f} / {:.2f}".format(*stats)


def failure_notes(results):
    notes = {}
    for (dataset, setting, seed), cell in results.items():
        for kind in ("point", "draws"):
            for name, value in cell[kind].items():
                if value[0] is None:
                    notes.setdefault(value[1], []).append(
                        f"{name} {dataset} {setting} {seed}")
    return [f"- {message}: {len(where)} runs ({', '.join(sorted(set(where))[:6])}"
            f"{', ...' if len(where) > 6 else ''})" for message, where in notes.items()]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=DATASETS)
    parser.add_argument("--seeds", nargs="+", type=int,
                        default=list(TUNING_SEEDS + HELD_OUT_SEEDS))
    parser.add_argument("--settings", nargs="+", default=SETTINGS)
    parser.add_argument("--methods", nargs="+",
                        default=sorted(set(POINT_METHODS + DRAW_METHODS)))
    parser.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data"
                                                  / "odds"))
    parser.add_argument("--quick", action="store_true",
                        help="wine, seed 0, not written to results/")
    parser.add_argument("--out", default=str(RESULTS / "bench_impute.md"))
    args = parser.parse_args()
    if args.quick:
        args.datasets, args.seeds = ["wine"], [0]
    torch.set_num_threads(1)
    point_methods = [m for m in POINT_METHODS if m in args.methods]
    draw_methods = [m for m in DRAW_METHODS if m in args.methods]
    start_load = load_average()
    start = time.perf_counter()
    results = run(args.datasets, args.seeds, args.settings, point_methods,
                  draw_methods, args.data_dir)
    elapsed = time.perf_counter() - start
    groups = [("tuning", [s for s in args.seeds if s in TUNING_SEEDS]),
              ("held out", [s for s in args.seeds if s not in TUNING_SEEDS])]
    lines = [
        "# P7: imputation (RMSE on removed entries, coverage of 90% intervals)",
        "",
        f"Command: `python benchmarks/bench_impute.py {' '.join(_argv())}`. "
        f"Data sets: {', '.join(args.datasets)}. Total {elapsed / 60:.1f} min.",
        "",
        machine_line(start_load),
        "",
        "`skgen-GMM` is the library's default GenerativeImputer, `skgen-VAE` "
        f"a GenerativeImputer of a VAE({_params(VAE_PARAMS)}). Failed runs are "
        "ranked last.",
        "",
    ]
    for label, seeds in groups:
        if seeds:
            lines += format_tables(results, args.datasets, seeds, args.settings,
                                   point_methods, draw_methods, label)
    notes = failure_notes(results)
    if notes:
        lines += ["Failures:", "", *notes, ""]
    text = "\n".join(lines)
    print(text)
    if not args.quick:
        Path(args.out).write_text(text)


def _params(params):
    return ", ".join(f"{key}={value!r}" for key, value in params.items())


def _argv():
    import sys

    return sys.argv[1:]


if __name__ == "__main__":
    main()
