"""P3: unsupervised anomaly detection on the 24 ODDS / ADBench sets (#25).

Follows P3 of ``PROTOCOLS.md`` (in the shared folder beside the checkout):
for each seed, ``train_test_split(X, y, test_size=0.3, stratify=y,
random_state=seed)``; every detector is fitted without labels on the training
split (outliers included) behind a ``StandardScaler`` fitted on that split
only, and scored by ``roc_auc_score(y_te, -score_samples(X_te))``.

Seeds 0-2 are tuning seeds, 3-5 held out; the table reports each group
apart: per data set the mean AUC over the group's seeds, the mean over data
sets, each detector's paired difference to IsolationForest with a 95%
bootstrap interval over data sets (10 000 resamples), and the median
fit+score seconds per fit.

Detectors (``--models``), defaults plus ``random_state=seed``:

* ``GAN``: ``skgen.GAN``; ``VAE``: ``skgen.VAE``;
* the anchors ``IForest`` (``IsolationForest``), ``LOF``
  (``LocalOutlierFactor(novelty=True)``) and ``MCD``
  (``EllipticEnvelope``, a minimum covariance determinant fit).

Every fit runs at one thread (torch and BLAS), in a worker process, one at a
time unless ``--jobs``. Each finished fit is appended to a log in the
git-ignored ``benchmarks/results/quick/`` so that an interrupted run resumes
where it stopped (``--fresh`` starts over); the tables are written from the
log, and ``P3.json`` keeps every fit.

The data are read from ``../shared/data/odds`` beside the repository, or
``--data-dir``, or the ``SKGEN_ODDS`` environment variable.

Usage::

    python -m benchmarks.protocols.p3                     # 24 sets x 6 seeds
    python -m benchmarks.protocols.p3 --quick             # 1 set, seed 0
    python -m benchmarks.protocols.p3 --models GAN IForest --seeds 3 4 5
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks._harness import _format_load, load_average

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"
TITLE = "P3: anomaly detection on the 24 ODDS sets, tuning and held-out seeds"
TUNING, HELD_OUT = (0, 1, 2), (3, 4, 5)
MODELS = ("GAN", "VAE", "IForest", "LOF", "MCD")
QUICK_SETS = ("wbc",)
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def data_dir(given):
    if given:
        return Path(given)
    if os.environ.get("SKGEN_ODDS"):
        return Path(os.environ["SKGEN_ODDS"])
    return ROOT.parent / "shared" / "data" / "odds"


def detector(name, seed):
    from sklearn.covariance import EllipticEnvelope
    from sklearn.ensemble import IsolationForest
    from sklearn.neighbors import LocalOutlierFactor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import skgen

    made = {
        "GAN": lambda: skgen.GAN(random_state=seed),
        "VAE": lambda: skgen.VAE(random_state=seed),
        "IForest": lambda: IsolationForest(random_state=seed),
        "LOF": lambda: LocalOutlierFactor(novelty=True),
        "MCD": lambda: EllipticEnvelope(random_state=seed),
    }[name]()
    return make_pipeline(StandardScaler(), made)


def one_fit(path, seed, name):
    """Fit and score one detector on one split, in this process."""
    import warnings

    import numpy as np
    import torch
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    torch.set_num_threads(1)
    data = np.load(path, allow_pickle=False)
    X, y = data["X"].astype(np.float64), data["y"].astype(int)
    X_tr, X_te, _, y_te = train_test_split(X, y, test_size=0.3, stratify=y,
                                           random_state=seed)
    model = detector(name, seed)
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X_tr)
            scores = model.score_samples(X_te)
        auc = float(roc_auc_score(y_te, -scores))
        error = None
    except Exception as exc:  # a failed fit is reported as such, not dropped
        auc, error = None, f"{type(exc).__name__}: {exc}"[:200]
    seconds = time.perf_counter() - start
    last = model[-1]
    return {"data": Path(path).stem, "seed": seed, "model": name, "auc": auc,
            "seconds": seconds, "error": error,
            "steps": getattr(last, "n_steps_", getattr(last, "n_iter_", None))}


def run_in_process(path, seed, name):
    env = dict(os.environ, PYTHONPATH=str(ROOT),
               **{variable: "1" for variable in THREAD_VARIABLES})
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.protocols.p3", "--worker",
         json.dumps([str(path), seed, name])],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def commit():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def paired_difference(cells, name, reference="IForest", n_resamples=10_000):
    """Mean paired AUC difference to ``reference`` over data sets, 95% bootstrap."""
    import numpy as np

    pairs = [(c[name], c[reference]) for c in cells.values()
             if c.get(name) is not None and c.get(reference) is not None]
    if not pairs or len(pairs) < len(cells):
        return None
    diff = np.array([a - b for a, b in pairs])
    rng = np.random.default_rng(0)
    boot = diff[rng.integers(len(diff), size=(n_resamples, len(diff)))].mean(1)
    low, high = np.percentile(boot, [2.5, 97.5])
    return f"{diff.mean():+.3f} [{low:+.3f}, {high:+.3f}]"


def group_table(runs, seeds, models, label):
    """The markdown lines and figures of one seed group."""
    import numpy as np

    sets = sorted({r["data"] for r in runs})
    cells, lines, figures = {}, [], {}
    for data in sets:
        cells[data] = {}
        for name in models:
            aucs = [r["auc"] for r in runs if r["data"] == data and r["model"] == name
                    and r["seed"] in seeds]
            done = [a for a in aucs if a is not None]
            cells[data][name] = (float(np.mean(done)) if done
                                 and len(done) == len(aucs) == len(seeds) else None)
    header = "| data set | " + " | ".join(models) + " |"
    lines += [f"### {label}", "", header, "|---" * (len(models) + 1) + "|"]
    for data in sets:
        lines.append(f"| {data} | " + " | ".join(
            "-" if cells[data][m] is None else f"{cells[data][m]:.3f}"
            for m in models) + " |")
    means, medians = [], []
    for name in models:
        values = [cells[d][name] for d in sets]
        complete = all(v is not None for v in values)
        mean = float(np.mean(values)) if complete else None
        seconds = [r["seconds"] for r in runs if r["model"] == name
                   and r["seed"] in seeds]
        median = statistics.median(seconds) if seconds else None
        means.append("-" if mean is None else f"**{mean:.3f}**")
        medians.append("-" if median is None else f"{median:.1f}")
        key = f"{label.split(' (')[0]} {name}"
        if mean is not None:
            figures[f"{key} mean AUC"] = round(mean, 4)
        if median is not None:
            figures[f"{key} median fit+score s"] = round(median, 2)
    lines.append("| **mean over data sets** | " + " | ".join(means) + " |")
    lines.append("| median fit+score s per fit | " + " | ".join(medians) + " |")
    failed = [f"{r['model']} {r['data']} seed {r['seed']}: {r['error']}"
              for r in runs if r["error"] and r["seed"] in seeds]
    lines.append("")
    diffs = {name: paired_difference(cells, name) for name in models
             if name != "IForest" and "IForest" in models}
    shown = [f"- {name} minus IForest: {text}" for name, text in diffs.items()
             if text]
    if shown:
        lines += ["Paired difference to IsolationForest over data sets, mean "
                  "[95% bootstrap interval]:", "", *shown, ""]
    if failed:
        lines += ["Failed fits (no AUC):", "", *(f"- {f}" for f in failed), ""]
    return lines, figures


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.protocols.p3",
                                     description=TITLE)
    parser.add_argument("--quick", action="store_true",
                        help=f"{', '.join(QUICK_SETS)} at seed 0: a smoke run")
    parser.add_argument("--seeds", nargs="*", type=int,
                        default=[*TUNING, *HELD_OUT])
    parser.add_argument("--models", nargs="*", default=list(MODELS),
                        choices=MODELS)
    parser.add_argument("--sets", nargs="*", default=None,
                        help="data set names (default: every .npz)")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--fresh", action="store_true",
                        help="ignore the runs already logged")
    parser.add_argument("--no-run", action="store_true",
                        help="write the tables of the runs logged so far")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(one_fit(*json.loads(args.worker))))
        return 0
    folder = data_dir(args.data_dir)
    paths = sorted(folder.glob("*.npz"))
    if not paths:
        raise SystemExit(f"No .npz files in {folder}: pass --data-dir or set "
                         "SKGEN_ODDS to the folder of the ODDS sets.")
    seeds, sets = args.seeds, args.sets
    if args.quick:
        seeds, sets = [0], list(QUICK_SETS)
    if sets:
        paths = [p for p in paths if p.stem in sets]
    out_dir = RESULTS / "quick" if args.quick else RESULTS
    out_dir.mkdir(parents=True, exist_ok=True)
    log = RESULTS / "quick" / ("P3_quick_runs.jsonl" if args.quick
                               else "P3_runs.jsonl")
    log.parent.mkdir(parents=True, exist_ok=True)
    done = []
    if log.exists() and not args.fresh:
        done = [json.loads(line) for line in log.read_text().splitlines() if line]
    elif log.exists():
        log.unlink()
    have = {(r["data"], r["seed"], r["model"]) for r in done}
    # Held-out seeds first: the figures a reader quotes, should time run short.
    order = sorted(seeds, key=lambda s: (s not in HELD_OUT, s))
    jobs = [(p, s, m) for s in order for m in args.models for p in paths
            if (p.stem, s, m) not in have and not args.no_run]
    load_start = load_average()

    def run(job):
        result = run_in_process(*job)
        with open(log, "a") as handle:
            handle.write(json.dumps(result) + "\n")
        print(f"{result['data']} seed {result['seed']} {result['model']}: "
              f"{result['auc']} {result['seconds']:.1f} s", file=sys.stderr,
              flush=True)
        return result

    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        done += list(pool.map(run, jobs))
    load_end = load_average()
    wanted = {p.stem for p in paths}
    runs = [r for r in done if r["data"] in wanted and r["model"] in args.models
            and r["seed"] in seeds]
    models = [m for m in MODELS if m in args.models]
    machine = (f"{os.cpu_count()} CPUs; load average (1 / 5 / 15 min) "
               f"{_format_load(load_start)} at the start, "
               f"{_format_load(load_end)} at the end of the last session of the run")
    lines = [
        f"# {TITLE}", "",
        f"`python -m benchmarks.protocols.p3"
        f"{' ' + ' '.join(argv) if argv else ''}` at commit {commit()}"
        f"{' (quick: not a result)' if args.quick else ''}. Each fit at one "
        f"thread (torch and BLAS) in its own process, {args.jobs} at a time; "
        f"{len(paths)} data sets. Goal (#25): the GAN's mean AUC on the "
        "held-out seeds >= 0.850 with a median fit+score <= 15 s; the VAE's "
        "median fit+score <= 5 s.", "",
        f"Machine: {machine}. Shared with other engineers' work: the seconds "
        "include their load.", "",
    ]
    figures = {}
    for label, group in (("held-out seeds 3-5", HELD_OUT),
                         ("tuning seeds 0-2", TUNING)):
        present = [s for s in group if s in seeds]
        if not present:
            continue
        group_lines, group_figures = group_table(
            runs, present, models,
            f"{label.split(' ')[0]} ({', '.join(map(str, present))})")
        lines += group_lines
        figures.update(group_figures)
    name = "P3"
    (out_dir / f"{name}.md").write_text("\n".join(lines) + "\n")
    record = {"protocol": "P3", "commit": commit(), "machine": machine,
              "quick": bool(args.quick), "figures": figures,
              "runs": sorted(runs, key=lambda r: (r["model"], r["data"], r["seed"]))}
    (out_dir / f"{name}.json").write_text(json.dumps(record, indent=1) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
