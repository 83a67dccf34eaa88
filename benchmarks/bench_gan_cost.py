"""What a default ``skgen.GAN`` fit costs: per step, and as the data grow.

Two tables, 1 torch thread and 1 BLAS thread (``torch.set_num_threads`` and
``threadpoolctl``):

* **Step cost against a baseline revision.** ``skgen/neural/_gan.py`` at
  ``--baseline`` (a git revision of this repository, read with ``git show``
  and imported as a separate module beside the working tree's) and the
  working tree's GAN train the same data with the stopping rule out of the
  way (``max_steps`` fixed; ``early_stopping=False`` where the class has
  it), default networks otherwise. Seconds per generator step are the slope
  between fits of 500 and 1 500 steps, so that set-up and the end-of-fit
  work drop out. Fits run as A, B, A, B, ...; the ratio is the median of
  the per-repeat ratios. Data: 10 000 rows of the P4 grid (2 features) and
  10 000 standard normal rows of 32 features.
* **Fit seconds against N.** The default GAN (early stopping on) on
  N = 300, 3 000, 30 000 and 300 000 rows of 8-feature data (5 Gaussian
  blobs, ``sklearn.datasets.make_blobs``, seed 0): fit seconds, generator
  steps run, the step whose generator was kept, and seconds per step.
* **P3 subset** (``--p3 NAME ...``): P3's split of
  ``PROTOCOLS.md`` for seed 0 (or ``--p3-seeds``) on the named ODDS sets (read from
  ``../shared/data/odds`` beside the repository, or ``--odds``), the
  baseline's (with ``--baseline``) and the working tree's default GAN behind a
  ``StandardScaler``, fitted in turn on each set: fit+score seconds and
  test ROC AUC side by side. A check between full P3 runs, not P3 itself.

Usage::

    python benchmarks/bench_gan_cost.py --baseline HEAD~3
    python benchmarks/bench_gan_cost.py --quick   # 1 repeat, N up to 30 000
    python benchmarks/bench_gan_cost.py --baseline HEAD~3 --skip-step \
        --skip-scaling --p3 cardio pima --out results/gan_p3_subset.md
"""

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _machine import load_average, machine_line
from bench_anomaly import p3_split
from sklearn.datasets import make_blobs
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skgen import GAN
from skgen.datasets import make_grid

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).parent.parent


def baseline_class(revision):
    """The GAN class of ``skgen/neural/_gan.py`` at a git revision."""
    source = subprocess.run(
        ["git", "show", f"{revision}:skgen/neural/_gan.py"], cwd=ROOT,
        capture_output=True, text=True, check=True).stdout
    path = Path(tempfile.mkdtemp()) / "_gan_baseline.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("_gan_baseline", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.GAN


def fixed_budget(cls, steps):
    params = {"max_steps": steps, "random_state": 0, "jacobian_truncation": 0.0}
    if "early_stopping" in cls().get_params():
        params["early_stopping"] = False
    return cls(**params)


def fit_seconds(cls, X, steps):
    model = fixed_budget(cls, steps)
    start = time.perf_counter()
    model.fit(X)
    return time.perf_counter() - start


def step_cost(classes, datasets, repeats):
    """``{data: {name: [seconds per step per repeat]}}``."""
    found = {}
    for data_name, X in datasets.items():
        for cls in classes.values():  # warm-up (first Adam imports dynamo)
            fit_seconds(cls, X[:500], 20)
        per_step = {name: [] for name in classes}
        for _ in range(repeats):
            for name, cls in classes.items():
                short = fit_seconds(cls, X, 500)
                long = fit_seconds(cls, X, 1500)
                per_step[name].append((long - short) / 1000)
                print(data_name, name, per_step[name][-1], file=sys.stderr, flush=True)
        found[data_name] = per_step
    return found


def scaling(sizes):
    rows = []
    for n in sizes:
        X, _ = make_blobs(n_samples=n, n_features=8, centers=5, random_state=0)
        gan = GAN(random_state=0)
        start = time.perf_counter()
        gan.fit(X)
        seconds = time.perf_counter() - start
        rows.append((n, seconds, gan.n_steps_, gan.best_step_))
        print(rows[-1], file=sys.stderr, flush=True)
    return rows


def p3_subset(classes, names, folder, seeds=(0,)):
    """``[(name, {class name: (seconds, auc, steps)})]`` on P3's splits.

    One row per data set and seed (named ``"set, seed s"`` when there are
    several seeds).
    """
    rows = []
    for name, seed in [(n, s) for n in names for s in seeds]:
        X_tr, X_te, _, y_te = p3_split(folder / f"{name}.npz", seed)
        found = {}
        if len(seeds) > 1:
            name = f"{name}, seed {seed}"
        for label, cls in classes.items():
            detector = make_pipeline(StandardScaler(), cls(random_state=seed))
            start = time.perf_counter()
            detector.fit(X_tr)
            auc = roc_auc_score(y_te, -detector.score_samples(X_te))
            seconds = time.perf_counter() - start
            found[label] = (seconds, auc, detector[-1].n_steps_)
            print(name, label, found[label], file=sys.stderr, flush=True)
        rows.append((name, found))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=None,
                        help="git revision whose GAN the step cost is compared with")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--skip-scaling", action="store_true")
    parser.add_argument("--skip-step", action="store_true")
    parser.add_argument("--p3", nargs="*", default=[])
    parser.add_argument("--p3-seeds", nargs="*", type=int, default=[0],
                        help="P3 split seeds of the subset (default: 0)")
    parser.add_argument("--odds", type=Path,
                        default=ROOT.parent / "shared" / "data" / "odds")
    parser.add_argument("--out", type=Path, default=RESULTS / "gan_cost.md")
    args = parser.parse_args()
    torch.set_num_threads(1)
    threadpool_limits(limits=1)
    repeats = 1 if args.quick else 3
    load_at_start = load_average()
    lines = ["# GAN cost: per step and against the number of rows", ""]
    if args.baseline:
        classes = {f"baseline ({args.baseline})": baseline_class(args.baseline),
                   "working tree": GAN}
    if args.baseline and not args.skip_step:
        grid, _ = make_grid(10_000, random_state=0)
        normal = np.random.default_rng(0).standard_normal((10_000, 32))
        found = step_cost(classes, {"P4 grid, d=2": grid, "normal, d=32": normal},
                          repeats)
        lines += [
            "## Seconds per generator step (slope between 500 and 1 500 steps)",
            "",
            f"Default networks, early stopping off, {repeats} repeats as A, B, "
            "A, B; medians.",
            "",
            "| data | " + " | ".join(f"{name} ms / step" for name in classes)
            + " | ratio working tree / baseline |",
            "|---|" + "---|" * (len(classes) + 1),
        ]
        for data_name, per_step in found.items():
            base, new = per_step.values()
            ratio = statistics.median(b / a for a, b in zip(base, new, strict=True))
            cells = [f"{1000 * statistics.median(v):.2f}" for v in per_step.values()]
            lines.append(f"| {data_name} | " + " | ".join(cells) + f" | {ratio:.2f} |")
        lines.append("")
    if not args.skip_scaling:
        sizes = [300, 3_000, 30_000] + ([] if args.quick else [300_000])
        rows = scaling(sizes)
        lines += [
            "## Default GAN fit against N (8 features, 5 blobs)",
            "",
            "| N | fit s | generator steps run | step kept | ms / step (fit s / "
            "steps) |",
            "|---|---|---|---|---|",
        ]
        lines += [f"| {n} | {s:.1f} | {steps} | {best} | {1000 * s / steps:.2f} |"
                  for n, s, steps, best in rows]
        lines.append("")
    if args.p3:
        if not args.baseline:
            classes = {"working tree": GAN}
        rows = p3_subset(classes, args.p3, args.odds, args.p3_seeds)
        lines += [
            f"## P3 subset: default GAN, seed(s) {args.p3_seeds} split, "
            "StandardScaler in front",
            "",
            "| data set | " + " | ".join(f"{c} AUC" for c in classes) + " | "
            + " | ".join(f"{c} fit+score s" for c in classes) + " | steps run ("
            + " / ".join(classes) + ") |",
            "|---|" + "---|" * (2 * len(classes) + 1),
        ]
        for name, found in rows:
            lines.append(
                f"| {name} | " + " | ".join(f"{found[c][1]:.3f}" for c in classes)
                + " | " + " | ".join(f"{found[c][0]:.1f}" for c in classes)
                + " | " + " / ".join(str(found[c][2]) for c in classes) + " |")
        mean_auc = [np.mean([found[c][1] for _, found in rows]) for c in classes]
        mean_s = [np.mean([found[c][0] for _, found in rows]) for c in classes]
        median_s = [np.median([found[c][0] for _, found in rows]) for c in classes]
        lines += [
            "| **mean** | " + " | ".join(f"**{v:.3f}**" for v in mean_auc) + " | "
            + " | ".join(f"{v:.1f}" for v in mean_s) + " | |",
            "| median s | " + " | " * (len(classes) - 1) + " | "
            + " | ".join(f"{v:.1f}" for v in median_s) + " | |",
            "",
        ]
    lines[1:1] = ["", machine_line(load_at_start)]
    table = "\n".join(lines) + "\n"
    print(table)
    if not args.quick:
        args.out.parent.mkdir(exist_ok=True)
        args.out.write_text(table)


if __name__ == "__main__":
    main()
