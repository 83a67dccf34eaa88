"""P7: imputation of numeric tables with entries removed at random.

Follows P7 of ``PROTOCOLS.md`` (in the shared folder beside the checkout).
The seven tables (``load_breast_cancer``, ``load_wine``, ``load_diabetes``
and the X of the ODDS sets cardio, satellite, letter and pendigits, read from
``../shared/data/odds`` or ``--data-dir``), constant columns dropped,
standardised with the complete data; entries removed with
``np.random.default_rng(seed)`` at MCAR 10%, 30%, 50% and MAR (column 0
always observed, every other entry missing with probability 0.6 where column
0 is above its median and 0.1 elsewhere); a row that would lose every entry
keeps one, drawn with the same generator.

Every (method, table, setting, seed) is one *row*, saved as JSON under
``benchmarks/results/P7_runs/<method>/`` with its commit, load and seconds;
the tables of ``P7.md`` and the figures of ``P7.json`` are made from all the
rows there, so that partial runs (``--settings``, ``--seeds``,
``--methods``, ``--datasets``) add up. A row of a scikit-learn method is
reused when it exists (``--rerun`` runs it again): its result does not depend
on skgen's commit. ``--render`` only rewrites the tables from the rows.

Point methods (RMSE on the removed entries, standardised units):
``skgen`` (``GenerativeImputer(random_state=seed)``, the defaults),
``skgen-VAE`` (a GenerativeImputer of ``VAE(**VAE_PARAMS)``), ``mean``
(``SimpleImputer``), ``KNN`` (``KNNImputer()``), ``Iterative-BR``
(``IterativeImputer()``), ``missForest``
(``IterativeImputer(ExtraTreesRegressor(n_estimators=100), max_iter=10)``),
``random_state=seed`` where there is one.

Draw methods (20 draws per removed entry; coverage of the true value and mean
width, in standardised units, of the 5-95% interval of the draws
(``np.quantile``) and of their range, min to max): ``skgen-draws`` and
``skgen-VAE-draws`` (one fit, 20 transforms with ``strategy="sample"`` and
``random_state`` 20 * seed + i; the fit of the point method on the same
split when it ran in the same call, its seconds counted), ``Iterative-posterior``
(``IterativeImputer(sample_posterior=True)`` fitted 20 times). With 20 draws
from the true conditional law a new value falls between the 5% and 95%
quantiles with probability 17.1/21 = 81% and within the range with
probability 19/21 = 90.5%: the range is the 90% interval of 20 draws.

Seconds: wall seconds of fit and transform (of the 20 draws for a draw
method), 1 thread (the BLAS variables, set before numpy loads, and
``torch.set_num_threads(1)``).

Usage (from the repository root)::

    python -m benchmarks.protocols.p7 --quick
    python -m benchmarks.protocols.p7 --settings MCAR30 --seeds 0 1 2
    python -m benchmarks.protocols.p7 --methods skgen skgen-draws --seeds 3 4 5
    python -m benchmarks.protocols.p7 --render
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

TITLE = "P7: imputation (RMSE, rank, 90% interval coverage and width, seconds)"

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "benchmarks" / "results"
DATASETS = ["breast_cancer", "wine", "diabetes", "cardio", "satellite", "letter",
            "pendigits"]
SETTINGS = ["MCAR10", "MCAR30", "MCAR50", "MAR"]
TUNING_SEEDS, HELD_OUT_SEEDS = (0, 1, 2), (3, 4, 5)
N_DRAWS = 20
# With early stopping the small tables stop training before the dependence
# between columns is learned.
VAE_PARAMS = dict(n_decoder_components=1, support_fraction=1.0,
                  early_stopping=False, max_epochs=300)
POINT_METHODS = ["skgen", "skgen-VAE", "mean", "KNN", "Iterative-BR", "missForest"]
DRAW_METHODS = ["skgen-draws", "skgen-VAE-draws", "Iterative-posterior"]
SKLEARN_METHODS = {"mean", "KNN", "Iterative-BR", "missForest",
                   "Iterative-posterior"}


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------


def load(name, data_dir):
    """The standardised table, constant columns dropped."""
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine

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
        raise ValueError(f"unknown setting {setting!r}; use one of {SETTINGS}")
    empty = np.flatnonzero(mask.all(axis=1))
    mask[empty, rng.integers(d, size=empty.size)] = False
    return mask


# ---------------------------------------------------------------------------
# Methods
# ---------------------------------------------------------------------------


def _point_imputer(name, seed):
    from sklearn.ensemble import ExtraTreesRegressor
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer

    from skgen import VAE, GenerativeImputer

    if name == "skgen":
        return GenerativeImputer(random_state=seed)
    if name == "skgen-VAE":
        return GenerativeImputer(VAE(**VAE_PARAMS, random_state=seed),
                                 random_state=seed)
    if name == "mean":
        return SimpleImputer(strategy="mean")
    if name == "KNN":
        return KNNImputer()
    if name == "Iterative-BR":
        return IterativeImputer(random_state=seed)
    if name == "missForest":
        return IterativeImputer(
            ExtraTreesRegressor(n_estimators=100, random_state=seed),
            max_iter=10, random_state=seed)
    raise ValueError(f"unknown method {name!r}")


def _draws(name, X_gaps, seed, fitted):
    """(N_DRAWS, n, d) completed tables and the seconds of a reused fit.

    ``fitted`` maps a point method to its fitted imputer and fit seconds on
    this split: the draws of ``skgen`` reuse its fit (the fit does not
    depend on ``strategy``), and count its seconds.
    """
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer

    from skgen import VAE, GenerativeImputer

    if name == "Iterative-posterior":
        return np.stack([
            IterativeImputer(sample_posterior=True, random_state=N_DRAWS * seed + i)
            .fit_transform(X_gaps) for i in range(N_DRAWS)]), 0.0
    reused = fitted.get(name.removesuffix("-draws"))
    if reused is not None:
        imputer, fit_seconds = reused
        imputer.set_params(strategy="sample")
    else:
        model = VAE(**VAE_PARAMS, random_state=seed) if "VAE" in name else None
        imputer = GenerativeImputer(model, strategy="sample", random_state=seed)
        imputer.fit(X_gaps)
        fit_seconds = 0.0
    return np.stack([
        imputer.set_params(random_state=N_DRAWS * seed + i).transform(X_gaps)
        for i in range(N_DRAWS)]), fit_seconds


def run_one(method, X, removed, seed, fitted):
    """The figures of one method on one split (a dict).

    A point method's fitted imputer and fit seconds go into ``fitted``.
    """
    X_gaps = np.where(removed, np.nan, X)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method in POINT_METHODS:
            imputer = _point_imputer(method, seed).fit(X_gaps)
            fitted[method] = imputer, time.perf_counter() - start
            filled = imputer.transform(X_gaps)
            seconds = time.perf_counter() - start
            return {"rmse": float(np.sqrt(np.mean((filled - X)[removed] ** 2))),
                    "seconds": seconds}
        draws, fit_seconds = _draws(method, X_gaps, seed, fitted)
    seconds = time.perf_counter() - start + fit_seconds
    values, truth = draws[:, removed], X[removed]
    low, high = np.quantile(values, [0.05, 0.95], axis=0)
    lowest, highest = values.min(axis=0), values.max(axis=0)
    return {"coverage": float(np.mean((truth >= low) & (truth <= high))),
            "width": float(np.mean(high - low)),
            "range_coverage": float(np.mean((truth >= lowest) & (truth <= highest))),
            "range_width": float(np.mean(highest - lowest)),
            "seconds": seconds}


# ---------------------------------------------------------------------------
# Rows
# ---------------------------------------------------------------------------


def _commit():
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                             capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "skgen"],
                               cwd=REPO, capture_output=True, text=True).stdout
        return out.stdout.strip() + ("+dirty" if dirty.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _row_path(runs, method, dataset, setting, seed):
    return runs / method / f"{dataset}_{setting}_s{seed}.json"


def read_rows(runs):
    return [json.loads(path.read_text()) for path in sorted(runs.glob("*/*.json"))]


def run(args, runs, commit):
    import torch

    torch.set_num_threads(1)
    for dataset in args.datasets:
        X = None
        for setting in args.settings:
            for seed in args.seeds:
                fitted = {}
                for method in args.methods:
                    path = _row_path(runs, method, dataset, setting, seed)
                    if path.exists() and method in SKLEARN_METHODS and not args.rerun:
                        continue
                    if X is None:
                        X = load(dataset, args.data_dir)
                    removed = removal_mask(X, setting, seed)
                    load_start = os.getloadavg()
                    try:
                        figures = run_one(method, X, removed, seed, fitted)
                    except (ValueError, MemoryError) as error:
                        figures = {"failed": f"{type(error).__name__}: "
                                   f"{str(error).splitlines()[0][:200]}"}
                    row = {"method": method, "dataset": dataset, "setting": setting,
                           "seed": seed, **figures, "commit": commit,
                           "load": [round(x, 2) for x in load_start],
                           "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(json.dumps(row, indent=1) + "\n")
                    shown = {k: (round(v, 4) if isinstance(v, float) else v)
                             for k, v in figures.items()}
                    print(f"{dataset} {setting} s{seed} {method}: {shown}", flush=True)


# ---------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------


def _ranks(values):
    """Ranks of the values (1 = lowest, ties averaged)."""
    return {name: sum(u < v for u in values.values())
            + (sum(u == v for u in values.values()) + 1) / 2
            for name, v in values.items()}


def _row(first, cells):
    return f"| {first} | " + " | ".join(cells) + " |"


def group_tables(rows, setting, seeds, label, figures):
    """The markdown of one setting and seed group; adds to ``figures``.

    On each table, the methods are compared on the seeds that all of them
    ran (the ``seeds`` column); a method without a row there is left out of
    that table's ranks.
    """
    index = {(r["method"], r["dataset"], r["seed"]): r for r in rows
             if r["setting"] == setting and r["seed"] in seeds}
    points = [m for m in POINT_METHODS if any(k[0] == m for k in index)]
    draws = [m for m in DRAW_METHODS if any(k[0] == m for k in index)]
    datasets = [d for d in DATASETS if any(k[1] == d for k in index)]
    if not points and not draws:
        return []

    def common_seeds(methods, dataset):
        """The seeds compared on a table, and the methods left out of it.

        The seeds that skgen's method (the one this benchmark is about) and
        every method with at least the median number of seeds ran; a method
        without all of them is shown with its own seeds and left out of the
        ranks, so that it does not cut the others' seeds.
        """
        ran = {m: {s for s in seeds if (m, dataset, s) in index} for m in methods}
        ran = {m: r for m, r in ran.items() if r}
        if not ran:
            return [], set()
        enough = np.median([len(r) for r in ran.values()])
        kept = [r for r in ran.values() if len(r) >= enough]
        if methods[0] in ran:
            kept.append(ran[methods[0]])
        common = set.intersection(*kept)
        return sorted(common), {m for m, r in ran.items() if not common <= r}

    def own(method, dataset, key):
        found = [r for k, r in index.items() if k[:2] == (method, dataset)
                 and key in r]
        ran = "".join(str(r["seed"]) for r in sorted(found, key=lambda r: r["seed"]))
        return f"{np.mean([r[key] for r in found]):.3f} (s{ran})" if found else "-"

    def value(method, dataset, common, key):
        found = [index.get((method, dataset, s)) for s in common]
        if not common or any(r is None for r in found):
            return "-"
        if any(key not in r for r in found):
            return "failed"
        return float(np.mean([r[key] for r in found]))

    tag = f"{setting}/{label}"
    lines = [f"### {setting}, {label} seeds ({', '.join(map(str, seeds))})", ""]
    lines += ["RMSE on the removed entries (standardised units), mean over the "
              "seeds compared on the table (`seeds`: those of skgen and of the "
              "methods with the most seeds); a method "
              "without all of them, shown with its own seeds as "
              "`0.123 (s03)`, is left out of that table's ranks; `-` not run, "
              "`failed` raised; rank (among the methods compared) and mean over "
              "the tables where every compared method has a figure:", "",
              _row("dataset", ["seeds", *points]), "|---|" + "---|" * (len(points) + 1)]
    complete, ranks, means = [], {m: [] for m in points}, {m: [] for m in points}
    for dataset in datasets:
        common, apart = common_seeds(points, dataset)
        values = {m: value(m, dataset, common, "rmse") for m in points
                  if m not in apart}
        lines.append(_row(dataset, [" ".join(map(str, common)) or "-"] + [
            own(m, dataset, "rmse") if m in apart else
            f"{values[m]:.3f}" if isinstance(values[m], float) else values[m]
            for m in points]))
        if all(isinstance(v, float) for v in values.values()):
            complete.append(dataset)
            for method, rank in _ranks(values).items():
                ranks[method].append(rank)
                means[method].append(values[method])
    if complete:
        def mean_cell(values, digits):
            if not values:
                return "-"
            fewer = f" ({len(values)} tables)" if len(values) < len(complete) else ""
            return f"**{np.mean(values):.{digits}f}**{fewer}"

        lines.append(_row(f"**mean rank** ({len(complete)} tables)", [""] + [
            mean_cell(ranks[m], 2) for m in points]))
        lines.append(_row(f"**mean RMSE** ({len(complete)} tables)", [""] + [
            mean_cell(means[m], 3) for m in points]))
        for m in points:
            if ranks[m]:
                figures[f"{tag}/{m}/mean_rank"] = round(float(np.mean(ranks[m])), 3)
                figures[f"{tag}/{m}/mean_rmse"] = round(float(np.mean(means[m])), 4)
                figures[f"{tag}/{m}/tables"] = len(ranks[m])
        figures[f"{tag}/tables"] = ", ".join(complete)
    seconds = {m: [r["seconds"] for k, r in index.items()
                   if k[0] == m and "seconds" in r] for m in points + draws}
    lines.append(_row("seconds (median of runs)", [""] + [
        f"{np.median(seconds[m]):.2f}" if seconds[m] else "-" for m in points]))
    for m in points + draws:
        if seconds[m]:
            figures[f"{tag}/{m}/median_seconds"] = round(
                float(np.median(seconds[m])), 3)
    ratios = [index[("missForest", *k[1:])]["seconds"] / r["seconds"]
              for k, r in index.items()
              if k[0] == "skgen" and "seconds" in r
              and "seconds" in index.get(("missForest", *k[1:]), {})]
    if ratios:
        lines += ["", f"missForest's seconds over skgen's, same split: median "
                  f"{np.median(ratios):.1f}x, lowest {np.min(ratios):.1f}x "
                  f"({len(ratios)} splits)."]
        figures[f"{tag}/missForest_over_skgen_seconds"] = round(
            float(np.median(ratios)), 2)
    if draws:
        keys = ("coverage", "width", "range_coverage", "range_width")
        lines += ["", "Draws: coverage / mean width of the 5-95% interval of the 20 "
                  "draws (81% for a sampler of the true law), then of their range "
                  "(the 90% interval: 90.5% for it); seconds for the fit and the 20 "
                  "draws:", "", _row("dataset", ["seeds", *draws]),
                  "|---|" + "---|" * (len(draws) + 1)]
        stats = {m: [] for m in draws}
        for dataset in datasets:
            common, apart = common_seeds(draws, dataset)
            cells = []
            for method in draws:
                if method in apart:
                    cells.append("see seeds " + own(method, dataset, "coverage")
                                 .split("(")[-1].rstrip(")"))
                    continue
                values = [value(method, dataset, common, k) for k in keys]
                if not all(isinstance(v, float) for v in values):
                    cells.append(values[0])
                    continue
                stats[method].append(values)
                cells.append("{:.3f} / {:.2f}; range {:.3f} / {:.2f}".format(*values))
            lines.append(_row(dataset, [" ".join(map(str, common)) or "-", *cells]))
        mean_cells = []
        for m in draws:
            if not stats[m]:
                mean_cells.append("-")
                continue
            mean = np.mean(stats[m], axis=0)
            mean_cells.append("**{:.3f} / {:.2f}; range {:.3f} / {:.2f}** ({} tables)"
                              .format(*mean, len(stats[m])))
            for key, v in zip(keys, mean, strict=True):
                figures[f"{tag}/{m}/{key}"] = round(float(v), 4)
        lines.append(_row("**mean**", ["", *mean_cells]))
        lines.append(_row("seconds (median of runs)", [""] + [
            f"{np.median(seconds[m]):.2f}" if seconds[m] else "-" for m in draws]))
    return lines + [""]


def render(rows, out_dir, quick, commit, notes):
    from benchmarks._harness import machine_line, thread_settings

    figures = {}
    body = []
    for setting in SETTINGS:
        for label, seeds in (("tuning", TUNING_SEEDS), ("held-out", HELD_OUT_SEEDS)):
            body += group_tables(rows, setting, seeds, label, figures)
    # The README's headline row (benchmarks/_render.py) reads these two.
    held = "MCAR30/held-out"
    if all(f"{held}/{m}/mean_rank" in figures for m in ("skgen", "missForest")):
        figures["gmm_rank"] = (f"{figures[f'{held}/skgen/mean_rank']:.2f} (held-out "
                               f"seeds; {figures[f'{held}/tables']})")
        figures["missforest_rank"] = f"{figures[f'{held}/missForest/mean_rank']:.2f}"
    runs = sorted({(r["commit"], r.get("source", "this runner")) for r in rows})
    loads = [r["load"][0] for r in rows if "load" in r]
    missing = [f"{m}" for m in POINT_METHODS + DRAW_METHODS
               if not any(r["method"] == m for r in rows)]
    failed = sorted({f"{r['method']} {r['dataset']} {r['setting']} s{r['seed']}: "
                     f"{r['failed']}" for r in rows if "failed" in r})
    cells = {(r["dataset"], r["setting"], r["seed"]) for r in rows}
    header = [
        f"# {TITLE}", "",
        "Made by `python -m benchmarks.protocols.p7` from the rows under "
        f"`benchmarks/results/{'quick/' if quick else ''}P7_runs/` "
        f"({len(rows)} rows over {len(cells)} splits); protocol P7 of "
        "PROTOCOLS.md. Written at commit "
        f"{commit}; each row records the commit it ran at: "
        + "; ".join(f"{c} ({s})" for c, s in runs) + ".", "",
        "Machine and threads of this rendering: " + machine_line(os.getloadavg()),
        f"The rows ran at 1 thread ({thread_settings()}); 1-minute load average "
        "at the start of each row: "
        + (f"median {np.median(loads):.2f}, {min(loads):.2f} to {max(loads):.2f}."
           if loads else "not recorded."), "",
        "Seeds 0-2 are tuning seeds (the default imputer was chosen on them), "
        "3-5 held out. `skgen` is `GenerativeImputer()` with its defaults.", "",
        *notes,
    ]
    if missing:
        header += [f"Methods with no row at all: {', '.join(missing)}.", ""]
    if failed:
        header += ["Failed rows:", "", *[f"- {f}" for f in failed], ""]
    text = "\n".join(header + body)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "P7.md").write_text(text)
    (out_dir / "P7.json").write_text(json.dumps({
        "protocol": "P7", "commit": commit,
        "machine": machine_line(os.getloadavg()), "quick": quick,
        "figures": figures}, indent=1) + "\n")
    return text


def interleaved_timing(datasets, data_dir, seed, repeats):
    """Fit and transform seconds of skgen and missForest, timed as A, B, A, B.

    At MCAR30 on ``seed``; written to ``results/P7_timing.md``.
    """
    import torch

    from benchmarks._harness import (
        interleaved,
        load_average,
        machine_line,
        markdown_table,
        median_ratio,
    )

    torch.set_num_threads(1)
    start_load = load_average()
    rows = []
    for dataset in datasets:
        X = load(dataset, data_dir)
        X_gaps = np.where(removal_mask(X, "MCAR30", seed), np.nan, X)

        def call(name, X_gaps=X_gaps):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _point_imputer(name, seed).fit(X_gaps).transform(X_gaps)

        seconds = interleaved({name: (lambda name=name: call(name))
                               for name in ("skgen", "missForest")}, repeats)
        rows.append([dataset, " ".join(f"{v:.1f}" for v in seconds["skgen"]),
                     " ".join(f"{v:.1f}" for v in seconds["missForest"]),
                     f"{median_ratio(seconds['missForest'], seconds['skgen']):.1f}x"])
        print(rows[-1], flush=True)
    text = "\n".join([
        "# P7: skgen and missForest timed interleaved", "",
        f"MCAR30, seed {seed}; fit and transform, wall seconds of each repeat, "
        "timed skgen, missForest, skgen, missForest, ... in one process "
        "(`python -m benchmarks.protocols.p7 --interleave ...`), at commit "
        f"{_commit()}.", "", machine_line(start_load), "",
        markdown_table(["table", "skgen s", "missForest s",
                        "missForest over skgen (median of per-repeat ratios)"],
                       rows), ""])
    (RESULTS / "P7_timing.md").write_text(text)
    print(text)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.protocols.p7",
                                     description=TITLE)
    parser.add_argument("--datasets", nargs="+", default=DATASETS, choices=DATASETS)
    parser.add_argument("--settings", nargs="+", default=SETTINGS, choices=SETTINGS)
    parser.add_argument("--seeds", nargs="+", type=int,
                        default=list(TUNING_SEEDS + HELD_OUT_SEEDS))
    parser.add_argument("--methods", nargs="+", default=POINT_METHODS + DRAW_METHODS,
                        choices=POINT_METHODS + DRAW_METHODS)
    parser.add_argument("--data-dir", default=os.environ.get(
        "SKGEN_ODDS_DIR", str(REPO.parent / "shared" / "data" / "odds")),
        help="folder of the ODDS .npz files (default ../shared/data/odds, or "
             "$SKGEN_ODDS_DIR)")
    parser.add_argument("--rerun", action="store_true",
                        help="run scikit-learn methods again even where a row exists")
    parser.add_argument("--render", action="store_true",
                        help="only rewrite P7.md and P7.json from the saved rows")
    parser.add_argument("--quick", action="store_true",
                        help="wine, MCAR30, seed 0, without the VAE; written under "
                             "results/quick/")
    parser.add_argument("--interleave", nargs="+", choices=DATASETS, default=None,
                        help="only time skgen and missForest interleaved on these "
                             "tables (MCAR30, the first of --seeds); writes "
                             "results/P7_timing.md")
    parser.add_argument("--repeats", type=int, default=3,
                        help="repeats of the interleaved timing")
    parser.add_argument("--note", action="append", default=[],
                        help="a paragraph for the header of P7.md (what was not run)")
    args = parser.parse_args(argv)
    if args.interleave:
        interleaved_timing(args.interleave, args.data_dir, args.seeds[0],
                           args.repeats)
        return 0
    out_dir = RESULTS / "quick" if args.quick else RESULTS
    if args.quick:
        args.datasets, args.settings, args.seeds = ["wine"], ["MCAR30"], [0]
        args.methods = [m for m in args.methods if "VAE" not in m]
    runs = out_dir / "P7_runs"
    commit = _commit()
    if not args.render:
        run(args, runs, commit)
    notes_path = runs / "NOTES.md"
    if args.note:
        runs.mkdir(parents=True, exist_ok=True)
        notes_path.write_text("\n\n".join(args.note) + "\n")
    notes = [notes_path.read_text(), ""] if notes_path.exists() else []
    print(render(read_rows(runs), out_dir, args.quick, commit, notes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
