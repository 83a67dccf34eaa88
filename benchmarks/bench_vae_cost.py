"""What a default skgen.VAE costs: scoring, stopping, threads, epochs (issue #16).

Every timing runs at 1 torch thread and 1 BLAS thread unless a section says
otherwise; comparisons are interleaved (A, B, A, B, ...) in one process and
medians are quoted. Sections (``--only``):

* ``score``: ``score_samples`` of the default VAE on 10 000 rows x 32
  features (three data sets: the fitted model's own kind of data decides how
  many importance draws a row needs), and on 5 000 rows x 2, at the default
  ``importance_tol`` and at 0 (every draw, the former behaviour); the mean
  draws per row; and the share of ``VAE(max_epochs=3).fit`` that scores the
  training rows for ``offset_``.
* ``short``: ``VAE(max_epochs=3).fit`` and, timed again on its own, the
  scoring of the training rows (a sample of them) that sets ``offset_``.
* ``p3``: a handful of P3's ODDS sets (protocol P3 split, one seed), the
  former scoring default (``importance_tol=0``: every row gets every
  draw) against today's, side by side: test ROC-AUC,
  fit+score seconds and epochs.
* ``p2``: protocol P2 (digits), the default fit, its held-out nats/image
  with every draw and with today's ``importance_tol``, fit seconds, epochs.
* ``threads``: a small VAE fit at torch's default thread count and at one
  thread, as the machine is (its load is in the table's header) and with
  one more CPU-bound process (``while True: pass``, started and killed by
  this script). Uses
  ``VAE._one_thread_when_small = False`` for the default-threads rows, which
  is what fit did before it held small networks to one thread.
* ``epoch``: seconds per epoch of the default ``VAE.fit`` (P5's data and
  slope, 2 to 6 epochs) against a bare loop over a plain VAE of the same
  widths (one normal per feature, no trimming): the cost of the mixture
  decoder and the trimmed loss.

Usage::

    python benchmarks/bench_vae_cost.py --only score
    python benchmarks/bench_vae_cost.py --only p3 --seed 0
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from _machine import load_average, machine_line  # noqa: E402
from bench_anomaly import p3_split  # noqa: E402
from bench_vae import _bare_loop_seconds, p2_data  # noqa: E402

from skgen import VAE  # noqa: E402

RESULTS = Path(__file__).parent / "results"
ODDS = Path(__file__).resolve().parents[2] / "shared" / "data" / "odds"
P3_SETS = ["cardio", "thyroid", "vowels", "pima", "wbc", "satellite", "letter",
           "mammography"]
# The scoring defaults before issue #16, on today's code.
FORMER = {"importance_tol": 0.0}
CONFIGS = {"former": FORMER, "today": {}, "patience20": {"n_iter_no_change": 20},
           "patience10": {"n_iter_no_change": 10}}


def _timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


# ----------------------------------------------------------------- score


def _score_data(rng):
    n = 10_000
    mixing = rng.normal(size=(32, 32)) / np.sqrt(32)
    return {
        "standard normal": rng.normal(size=(n, 32)),
        "correlated normal": rng.normal(size=(n, 32)) @ mixing,
        "4-factor + noise": rng.normal(size=(n, 4)) @ rng.normal(size=(4, 32))
        + 0.1 * rng.normal(size=(n, 32)),
    }


def run_score(repeats):
    rng = np.random.default_rng(0)
    lines = ["| data | fit s (epochs) | tol | score_samples s (median) | "
             "draws per row | mean score |", "|---|---|---|---|---|---|"]
    sets = _score_data(rng)
    sets["5 000 x 2 normal"] = rng.normal(size=(5000, 2))
    for name, X in sets.items():
        vae, fit_s = _timed(VAE(random_state=0).fit, X)
        for tol in (vae.importance_tol, 0.0):
            vae.importance_tol = tol
            times = []
            for _ in range(repeats):
                (scores, draws), seconds = _timed(vae._importance_scores, X)
                times.append(seconds)
            lines.append(f"| {name} ({len(X)} x {X.shape[1]}) | {fit_s:.1f} "
                         f"({vae.n_iter_}) | {tol:g} | {statistics.median(times):.2f}"
                         f" | {draws.mean():.1f} | {scores.mean():.3f} |")
            print(lines[-1], file=sys.stderr)
    lines += ["", "`VAE(max_epochs=3).fit`, and the part of it that scores the "
              "training rows for `offset_`:", "",
              "| data | tol | fit s | scoring the training rows again, s | "
              "draws per row |",
              "|---|---|---|---|---|"]
    for name, X in [("standard normal 10 000 x 32", sets["standard normal"]),
                    ("5 000 x 2 normal", sets["5 000 x 2 normal"])]:
        for tol in (VAE().importance_tol, 0.0):
            vae, fit_s = _timed(VAE(max_epochs=3, importance_tol=tol,
                                    random_state=0).fit, X)
            (_, draws), score_s = _timed(vae._importance_scores, X)
            lines.append(f"| {name} | {tol:g} | {fit_s:.2f} | {score_s:.2f} | "
                         f"{draws.mean():.1f} |")
            print(lines[-1], file=sys.stderr)
    return "\n".join(lines)


def run_short(repeats):
    """``VAE(max_epochs=3).fit`` and the scoring for ``offset_`` inside it."""
    rng = np.random.default_rng(0)
    sets = {"standard normal 10 000 x 32": rng.normal(size=(10_000, 32)),
            "standard normal 5 000 x 2": rng.normal(size=(5000, 2))}
    lines = ["| data | fit s (median) | scoring for offset_ s (median) | "
             "rows scored |", "|---|---|---|---|"]
    for name, X in sets.items():
        fits, scorings = [], []
        for _ in range(repeats):
            vae, seconds = _timed(VAE(max_epochs=3, random_state=0).fit, X)
            fits.append(seconds)
            scorings.append(_timed(vae._checked_training_scores, X)[1])
        lines.append(f"| {name} | {statistics.median(fits):.2f} | "
                     f"{statistics.median(scorings):.2f} | "
                     f"{min(len(X), vae._offset_rows())} |")
        print(lines[-1], file=sys.stderr)
    return "\n".join(lines)


# -------------------------------------------------------------------- P3


def run_p3(seed, sets, names):
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    configs = {name: CONFIGS[name] for name in names}
    rows = []
    lines = ["| dataset | n x d | " + " | ".join(
        f"{what} {name}" for what in ("AUC", "s", "epochs") for name in configs)
        + " |", "|---|---|" + "---|" * (3 * len(configs))]
    for set_name in sets:
        X_tr, X_te, _, y_te = p3_split(ODDS / f"{set_name}.npz", seed)
        result = {}
        for config, kwargs in configs.items():  # interleaved per data set
            start = time.perf_counter()
            model = make_pipeline(StandardScaler(),
                                  VAE(random_state=seed, **kwargs)).fit(X_tr)
            auc = roc_auc_score(y_te, -model.score_samples(X_te))
            result[config] = (auc, time.perf_counter() - start, model[-1].n_iter_)
        rows.append(result)
        n_rows, n_features = len(X_tr) + len(X_te), X_tr.shape[1]
        lines.append(f"| {set_name} | {n_rows} x {n_features} | " + " | ".join(
            [f"{result[c][0]:.3f}" for c in configs]
            + [f"{result[c][1]:.1f}" for c in configs]
            + [f"{result[c][2]}" for c in configs]) + " |")
        print(lines[-1], file=sys.stderr)
    lines.append("| **mean AUC / median s** |  | " + " | ".join(
        [f"**{np.mean([r[c][0] for r in rows]):.3f}**" for c in configs]
        + [f"**{statistics.median([r[c][1] for r in rows]):.1f}**" for c in configs]
        + [""] * len(configs)) + " |")
    return "\n".join(lines)


# -------------------------------------------------------------------- P2


def run_p2(seeds):
    """One default fit per seed, scored with every draw and with today's rule."""
    lines = ["| seed | nats/image, every draw | nats/image, today | score s, every "
             "draw | score s, today | fit s | epochs |",
             "|---|---|---|---|---|---|---|"]
    for seed in seeds:
        X_tr, X_te = p2_data(seed)
        vae, fit_s = _timed(VAE(random_state=seed).fit, X_tr)
        today, today_s = _timed(vae.score, X_te)
        vae.importance_tol = 0.0
        every, every_s = _timed(vae.score, X_te)
        lines.append(f"| {seed} | {every:.1f} | {today:.1f} | {every_s:.2f} | "
                     f"{today_s:.2f} | {fit_s:.1f} | {vae.n_iter_} |")
        print(lines[-1], file=sys.stderr)
    return "\n".join(lines)


# --------------------------------------------------------------- threads


def _small_fit(X, n_threads, limit):
    torch.set_num_threads(n_threads)
    VAE._one_thread_when_small = limit
    try:
        return _timed(VAE(max_epochs=5, early_stopping=False, random_state=0).fit,
                      X)[1]
    finally:
        VAE._one_thread_when_small = True


def run_threads(repeats):
    X = np.random.default_rng(0).normal(size=(2000, 8))
    # torch's own default is one thread per core; OMP_NUM_THREADS=1, set
    # above for the other sections, would hide it.
    default_threads = os.cpu_count() or 1
    settings = {
        f"torch default ({default_threads} threads)": (default_threads, False),
        "1 thread": (1, False),
        f"today's fit (user setting {default_threads}, held to 1 inside fit)":
            (default_threads, True),
    }
    lines = ["| load | setting | fit s (median) | all |", "|---|---|---|---|"]
    for load in ("no added load", "one busy process added"):
        busy = None
        if load != "no added load":
            busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
            time.sleep(0.5)
        try:
            times = {name: [] for name in settings}
            for _ in range(repeats):
                for name, (n_threads, limit) in settings.items():
                    times[name].append(_small_fit(X, n_threads, limit))
        finally:
            if busy is not None:
                busy.kill()
                busy.wait()
        for name, values in times.items():
            lines.append(f"| {load} | {name} | {statistics.median(values):.2f} | "
                         + ", ".join(f"{v:.2f}" for v in values) + " |")
            print(lines[-1], file=sys.stderr)
    torch.set_num_threads(1)
    return "\n".join(lines)


# ----------------------------------------------------------------- epoch


def _bare_plain_seconds(X, epochs, batch_size, seed):
    """A bare loop over a plain VAE's modules: one normal, no trimming."""
    return _bare_loop_seconds(X, epochs, batch_size, seed,
                              n_decoder_components=1, support_fraction=1.0)


def _default_fit_seconds(X, epochs, batch_size, seed):
    vae = VAE(batch_size=batch_size, max_epochs=epochs, early_stopping=False,
              n_importance_samples=1, random_state=seed)
    return _timed(vae.fit, X)[1]


def run_epoch(repeats):
    X = np.random.default_rng(0).standard_normal((50_000, 32))
    timers = {"default VAE.fit": _default_fit_seconds,
              "bare loop, plain one-normal VAE": _bare_plain_seconds}
    slopes = {name: [] for name in timers}
    for repeat in range(repeats):
        for name, timer in timers.items():
            short = timer(X, 2, 256, repeat)
            long = timer(X, 6, 256, repeat)
            slopes[name].append((long - short) / 4)
            print(f"  {name}: {slopes[name][-1]:.3f} s/epoch", file=sys.stderr)
    bare = statistics.median(slopes["bare loop, plain one-normal VAE"])
    lines = ["| loop | s/epoch (median) | all slopes | ratio |", "|---|---|---|---|"]
    for name, values in slopes.items():
        value = statistics.median(values)
        lines.append(f"| {name} | {value:.3f} | "
                     + ", ".join(f"{v:.3f}" for v in values)
                     + f" | {value / bare:.2f}x |")
    ratios = [a / b for a, b in zip(*slopes.values(), strict=True)]
    lines += ["", "Per-repeat ratios: " + ", ".join(f"{r:.2f}" for r in ratios)
              + f"; median {statistics.median(ratios):.2f}."]
    return "\n".join(lines)


# ------------------------------------------------------------------ main


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", required=True,
                        choices=["score", "short", "p3", "p2", "threads", "epoch"])
    parser.add_argument("--seed", type=int, nargs="+", default=[0])
    parser.add_argument("--sets", nargs="+", default=P3_SETS)
    parser.add_argument("--configs", nargs="+", default=["former", "today"],
                        choices=list(CONFIGS), help="P3 columns")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tag", default="", help="suffix of the results file")
    args = parser.parse_args()
    if args.only != "threads":
        torch.set_num_threads(1)
    start = load_average()
    if args.only == "score":
        body = run_score(args.repeats)
    elif args.only == "short":
        body = run_short(args.repeats)
    elif args.only == "p3":
        body = "\n\n".join(f"Seed {seed}.\n\n" + run_p3(seed, args.sets,
                                                             args.configs)
                           for seed in args.seed)
    elif args.only == "p2":
        body = run_p2(args.seed)
    elif args.only == "threads":
        body = run_threads(args.repeats)
    else:
        body = run_epoch(args.repeats)
    import skorch

    table = (f"## VAE cost: {args.only}\n\n" + machine_line(start)
             + f" torch {torch.__version__}, skorch {skorch.__version__}.\n\n"
             + body)
    print(table)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"vae_cost_{args.only}{args.tag}.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
