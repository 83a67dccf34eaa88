"""Protocol P3: unsupervised anomaly detection on the 24 ODDS / ADBench sets.

Follows P3 of ``PROTOCOLS.md`` (in the shared folder beside the checkout):
for each seed in (0, 1, 2), ``train_test_split(X, y, test_size=0.3,
stratify=y, random_state=seed)``; every detector is fitted without labels on
the training split (outliers included) behind a ``StandardScaler`` fitted on
that split only, and scored by ``roc_auc_score(y_te, -score_samples(X_te))``.

Detectors, all with default parameters (plus ``random_state=seed`` where the
estimator has one):

* ``skgen-GMM``: ``DensityOutlierDetector()`` (a ``skgen.GaussianMixture()``);
* ``skgen-VAE`` and ``skgen-GAN``: ``skgen.VAE`` and ``skgen.GAN``, when the
  installed skgen has them;
* ``skgen-VAE-1normal``, only when named: ``skgen.VAE(n_decoder_components=1,
  support_fraction=1.0)``, the VAE's former default (one normal per feature,
  no trimming), whose cells are the skgen-VAE column of
  ``results/bench_anomaly_run_a.md``;
* ``skgen-VAE-patience20``, only when named: ``skgen.VAE(n_iter_no_change=20)``,
  the VAE's early-stopping patience before issue #16;
* ``IForest``: ``sklearn.ensemble.IsolationForest``;
* ``LOF``: ``sklearn.neighbors.LocalOutlierFactor(novelty=True)``.

The data are read from ``../shared/data/odds`` beside the repository (or
``--data-dir``). Threads: 1 (``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``,
``MKL_NUM_THREADS`` and ``torch.set_num_threads``), set before numpy loads.

Usage::

    python benchmarks/bench_anomaly.py                 # 24 sets x 3 seeds
    python benchmarks/bench_anomaly.py --quick         # 4 sets x 1 seed
    python benchmarks/bench_anomaly.py --detectors skgen-GMM IForest
    python benchmarks/bench_anomaly.py --detectors skgen-GAN IForest --seeds 0
    python benchmarks/bench_anomaly.py --merge a.md b.md   # join run tables

``--merge`` joins the tables of runs over the same seeds that split the work
(by detector, or by data sets through ``--data-dir``) into one: per-dataset
cells are copied, a detector's column taken from the first table that has
it for that data set; the mean row is recomputed from the cells, and a
detector's seconds and failed fits come from the tables that supplied its
cells (seconds: the mean of their per-table means).
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from _machine import load_average, machine_line  # noqa: E402
from sklearn.ensemble import IsolationForest  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neighbors import LocalOutlierFactor  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import skgen  # noqa: E402
from skgen import DensityOutlierDetector  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results"
SEEDS = (0, 1, 2)
QUICK_SETS = ["cardio", "thyroid", "wbc", "vowels"]
MEDIAN_ROW = "median s per fit (fit+score)"


# Variants run only when named with --detectors: not the protocol's
# defaults, but measured beside them.
VARIANTS = ["skgen-VAE-1normal", "skgen-VAE-patience20"]


def p3_split(path, seed):
    """P3's split of one ODDS file: ``X_tr, X_te, y_tr, y_te``."""
    data = np.load(path, allow_pickle=False)
    X, y = data["X"].astype(np.float64), data["y"].astype(int)
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)


def detectors(seed):
    """name -> unfitted detector, each behind a StandardScaler."""
    found = {
        "skgen-GMM": DensityOutlierDetector(),
        "IForest": IsolationForest(random_state=seed),
        "LOF": LocalOutlierFactor(novelty=True),
    }
    if hasattr(skgen, "VAE"):
        found["skgen-VAE"] = skgen.VAE(random_state=seed)
        found["skgen-VAE-1normal"] = skgen.VAE(
            n_decoder_components=1, support_fraction=1.0, random_state=seed)
        found["skgen-VAE-patience20"] = skgen.VAE(n_iter_no_change=20,
                                                  random_state=seed)
    if hasattr(skgen, "GAN"):
        found["skgen-GAN"] = skgen.GAN(random_state=seed)
    return {name: make_pipeline(StandardScaler(), det) for name, det in found.items()}


def _read_table(path):
    """``(names, {dataset: {name: cell}}, {name: seconds}, {name: failures})``."""
    rows = []
    for line in path.read_text().splitlines():
        if line.startswith("| "):
            rows.append(line.strip().strip("|").split("|"))
        elif rows and not line.startswith("|"):
            break  # the main table ends; the paired table follows

    names = [c.strip() for c in rows[0][1:]]
    cells, seconds, failures = {}, {}, {}
    for row in rows[1:]:
        label, values = row[0].strip(), [c.strip() for c in row[1:]]
        if label.startswith("fit+score s"):
            seconds = dict(zip(names, map(float, values), strict=True))
        elif label == MEDIAN_ROW:
            continue  # not merged: a median of medians is not the median
        elif label == "failed fits":
            failures = dict(zip(names, map(int, values), strict=True))
        elif not label.startswith("**"):
            cells[label] = dict(zip(names, values, strict=True))
    return names, cells, seconds, failures


def paired_difference(names, rows, reference="IForest", n_resamples=10_000):
    """Mean paired AUC difference of each detector to ``reference``.

    Over data sets, with a 95% percentile bootstrap interval (resampling the
    data sets).
    """
    if reference not in names:
        return {}
    ref = names.index(reference)
    rng = np.random.default_rng(0)
    out = {}
    for j, name in enumerate(names):
        pairs = [(float(c[j].rstrip("*")), float(c[ref].rstrip("*")))
                 for c in rows.values() if "failed" not in (c[j], c[ref])
                 and "-" not in (c[j], c[ref])]
        if j == ref or len(pairs) < len(rows):
            continue
        diff = np.array([a - b for a, b in pairs])
        boot = diff[rng.integers(len(diff), size=(n_resamples, len(diff)))]
        low, high = np.percentile(boot.mean(1), [2.5, 97.5])
        out[name] = f"{diff.mean():+.3f} [{low:+.3f}, {high:+.3f}]"
    return out


def format_table(intro, names, rows, means, failures, seconds, medians=None):
    """The P3 table in markdown; ``rows`` maps a data set to its cells.

    ``medians``, when given, maps a detector to its median seconds per fit
    (issue #16 states its cost goals as medians).
    """
    def row(label, cells):
        return f"| {label} | " + " | ".join(cells) + " |"

    paired = paired_difference(names, rows)
    lines = [
        "# P3: anomaly detection on ODDS / ADBench (ROC-AUC, test split)",
        "",
        intro,
        "",
        row("dataset", names),
        "|---|" + "---|" * len(names),
        *(row(label, cells) for label, cells in rows.items()),
        row("**mean**", [f"**{means[n]:.3f}**" for n in names]),
        row("failed fits", [str(failures[n]) for n in names]),
        row("fit+score s (mean per fit)", [f"{seconds[n]:.2f}" for n in names]),
    ]
    if medians:
        lines.append(row(MEDIAN_ROW, [f"{medians[n]:.2f}" for n in names]))
    if paired:
        lines += [
            "",
            "Paired difference to IForest, mean over data sets of (detector AUC"
            " - IForest AUC), with a 95% bootstrap interval (10 000 resamples of"
            " the data sets):",
            "",
            "| detector | AUC - IForest AUC [95% interval] |",
            "|---|---|",
            *(f"| {name} | {value} |" for name, value in paired.items()),
        ]
    return "\n".join(lines) + "\n"


def merge_tables(paths):
    """One P3 table from the tables of runs that split the work."""
    names, cells, seconds, failures = [], {}, {}, {}
    for path in paths:
        t_names, t_cells, t_seconds, t_failures = _read_table(path)
        names += [n for n in t_names if n not in names]
        used = set()  # the detectors whose cells this table supplies
        for dataset, row in t_cells.items():
            for name, value in row.items():
                if name not in cells.setdefault(dataset, {}):
                    cells[dataset][name] = value
                    used.add(name)
        for name in used:
            seconds.setdefault(name, []).append(t_seconds[name])
            failures[name] = failures.get(name, 0) + t_failures.get(name, 0)
    datasets = sorted(cells)
    rows = {d: [cells[d].get(n, "-") for n in names] for d in datasets}
    means = {}
    for n in names:
        values = [float(cells[d][n].rstrip("*")) for d in datasets
                  if cells[d].get(n, "failed") not in ("failed", "-")]
        means[n] = np.mean(values) if len(values) == len(datasets) else np.nan
    intro = ("Joined from the tables of " + ", ".join(p.name for p in paths)
             + " (runs over the same splits that shared the work; see their "
             "headers). Cells: mean AUC over seeds; each * marks a seed whose "
             "fit raised.")
    mean_seconds = {n: np.mean(seconds[n]) for n in names}
    return format_table(intro, names, rows, means, failures, mean_seconds)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 sets, seed 0")
    parser.add_argument("--data-dir", type=Path,
                        default=REPO.parent / "shared" / "data" / "odds")
    parser.add_argument("--detectors", nargs="*", help="subset of detector names")
    parser.add_argument("--seeds", nargs="*", type=int, default=list(SEEDS),
                        help="split seeds (the protocol's are 0 1 2)")
    parser.add_argument("--out", type=Path, default=RESULTS / "bench_anomaly.md")
    parser.add_argument("--merge", nargs="+", type=Path, metavar="TABLE",
                        help="join the tables of earlier runs instead of running")
    args = parser.parse_args()
    if args.merge:
        table = merge_tables(args.merge)
        print(table)
        args.out.write_text(table)
        return
    torch.set_num_threads(1)
    load_at_start = load_average()

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    files = sorted(args.data_dir.glob("*.npz"))
    if not files:
        sys.exit(f"no .npz files in {args.data_dir}; pass --data-dir")
    if args.quick:
        files = [f for f in files if f.stem in QUICK_SETS]
    seeds = args.seeds[:1] if args.quick else args.seeds
    names = [n for n in detectors(0) if n in args.detectors] if args.detectors else [
        n for n in detectors(0) if n not in VARIANTS]

    auc = {n: {} for n in names}
    seconds = {n: {} for n in names}
    for path in files:
        for seed in seeds:
            X_tr, X_te, _, y_te = p3_split(path, seed)
            candidates = detectors(seed)
            for name in names:
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        model = candidates[name].fit(X_tr)
                        value = roc_auc_score(y_te, -model.score_samples(X_te))
                    except ValueError as exc:  # reported, not hidden
                        log(f"  {name} failed on {path.stem} seed {seed}: {exc}")
                        value = np.nan
                elapsed = time.perf_counter() - start
                auc[name].setdefault(path.stem, []).append(value)
                seconds[name].setdefault(path.stem, []).append(elapsed)
            log(f"{path.stem} seed {seed}: " + ", ".join(
                f"{n} {auc[n][path.stem][-1]:.3f}" for n in names))

    def cell(values):  # a fit that raised counts as failed, marked with *
        failed = int(np.sum(np.isnan(values)))
        if failed == len(values):
            return "failed"
        return f"{np.nanmean(values):.3f}" + ("*" * failed)

    rows = {path.stem: [cell(auc[n][path.stem]) for n in names] for path in files}
    means = {n: np.nanmean([np.nanmean(v) if not np.all(np.isnan(v)) else np.nan
                            for v in auc[n].values()]) for n in names}
    failures = {n: int(sum(np.sum(np.isnan(v)) for v in auc[n].values()))
                for n in names}
    fit_s = {n: np.mean([np.mean(v) for v in seconds[n].values()]) for n in names}
    median_s = {n: float(np.median(np.concatenate(list(seconds[n].values()))))
                for n in names}
    intro = (f"{len(files)} data sets x seeds {list(seeds)}; every detector behind "
             "a StandardScaler, default parameters; 1 thread. Cells: mean AUC over "
             "seeds; each * marks a seed whose fit raised (left out of that mean, "
             "counted in 'failed fits').\n\n" + machine_line(load_at_start))
    table = format_table(intro, names, rows, means, failures, fit_s, median_s)
    print(table)
    if not args.quick:
        args.out.parent.mkdir(exist_ok=True)
        args.out.write_text(table)
        log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
