"""Protocol P9: speed on a shared machine (#28).

Follows ``PROTOCOLS.md`` (in the shared folder beside the checkout), P9.

**Load.** 0, 1 and 2 Python processes spinning on one core each
(``while True: pass``), started before each timed call and killed after it.

**Work**, each at the estimator's defaults and the process's default thread
settings (nothing is set by this script, except in the fixed-thread rows):

* GaussianMixture on P1's data (200 000 x 16, k = 16): EM only (P1's
  explicit init, 10 iterations, ``tol=0``), the default fit,
  ``score_samples`` of the training rows and ``sample(100_000)``;
  scikit-learn's GaussianMixture, the same EM-only fit, as the anchor;
* TabularMixture, VAE and GAN on the first 250 rows of
  ``load_breast_cancer`` (standardised) and on P6's CPS1988 training rows
  (seed 0, 10 000 rows), fit and ``score_samples``;
* DensityOutlierDetector and GenerativeImputer (30% MCAR with
  ``default_rng(0)``, never a whole row) on P7's breast-cancer data
  (standardised), fit (the imputer: ``fit_transform``).

**Report.** Median seconds of ``--repeats`` runs alone and under each load
(a run of a call shorter than half a second is the median of as many calls
as fit in half a second),
interleaved (alone, 1 busy, 2 busy, then again); the slowdown ratios; for
the EM-only fit, skgen over scikit-learn under each load; and, idle, the
default against fixed 1 and 2 threads (``torch.set_num_threads`` and
``threadpoolctl.threadpool_limits``, restored after each call). Every call
checks that torch's and the BLAS pools' thread counts are the same after it
as before; the table says so.

``--against DIR`` times instead, idle, every work at this checkout's code
and at the code of another checkout ``DIR`` (on ``PYTHONPATH``), each run
in a fresh process, the two alternating: P9's "no estimator more than 10%
slower than before" at the defaults.

Usage::

    python -m benchmarks P9                  # about 20 minutes
    python -m benchmarks P9 --repeats 1 --only gmm
    python -m benchmarks P9 --against ../old-checkout   # writes results/P9-idle.md
    python -m benchmarks P9 --quick          # TabularMixture on 250 rows
"""

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.linalg  # noqa: F401  (its BLAS loads now, at the default threads)
import sklearn.ensemble  # noqa: F401
import sklearn.impute  # noqa: F401
import torch
from threadpoolctl import threadpool_info, threadpool_limits

from benchmarks._harness import (
    ROOT,
    argument_parser,
    command_line,
    load_average,
    machine_line,
    results_dir,
    write_results,
)
from benchmarks.protocols.p1 import explicit_init, make_p1_data

TITLE = "Speed on a shared machine: each estimator alone and beside busy processes"
LOADS = (0, 1, 2)


def thread_state():
    """torch's intra- and inter-op counts and each BLAS/OpenMP pool's size."""
    pools = tuple(sorted((p["internal_api"], p["num_threads"])
                         for p in threadpool_info()))
    return torch.get_num_threads(), torch.get_num_interop_threads(), pools


def sibling(name):
    """A benchmark module of this folder, without the thread settings it makes.

    P6 pins the BLAS variables and torch's threads for its own runs; P9
    measures the defaults, so both are put back after the import.
    """
    saved, threads = dict(os.environ), torch.get_num_threads()
    try:
        return importlib.import_module(name)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        torch.set_num_threads(threads)


def p6_table():
    tables = sibling("benchmarks.protocols.p6")
    return tables.split(tables.load_table("CPS1988"), 0)[0]


def breast_cancer_250():
    from sklearn.datasets import load_breast_cancer

    X = load_breast_cancer().data[:250]
    return (X - X.mean(0)) / X.std(0)


def breast_cancer_gaps(seed=0, share=0.3):
    """P7's breast-cancer data, standardised, with ``share`` of it MCAR."""
    from sklearn.datasets import load_breast_cancer

    X = load_breast_cancer().data
    X = (X - X.mean(0)) / X.std(0)
    mask = np.random.default_rng(seed).random(X.shape) < share
    mask[mask.all(axis=1), 0] = False  # never a whole row
    return X, np.where(mask, np.nan, X)


def works(only, quick=False):
    """``{name: (group, callable)}``: each callable runs one timed call."""
    from sklearn.mixture import GaussianMixture as SklearnGM

    import skgen

    out = {}
    if only in (None, "gmm"):
        X_p1, _ = make_p1_data()
        init = explicit_init(X_p1, 16, "full")
        fitted = skgen.GaussianMixture(16, random_state=0).fit(X_p1)
        out["GaussianMixture EM only"] = (
            "gmm",
            lambda: skgen.GaussianMixture(16, max_iter=10, tol=0, **init).fit(X_p1))
        out["sklearn GaussianMixture EM only"] = (
            "gmm", lambda: SklearnGM(16, max_iter=10, tol=0, **init).fit(X_p1))
        out["GaussianMixture default fit"] = (
            "gmm", lambda: skgen.GaussianMixture(16, random_state=0).fit(X_p1))
        out["GaussianMixture score_samples"] = (
            "gmm", lambda: fitted.score_samples(X_p1))
        out["GaussianMixture sample(100 000)"] = (
            "gmm", lambda: fitted.sample(100_000, random_state=0))
    if only in (None, "small"):
        small = breast_cancer_250()
        for name in ("TabularMixture",) if quick else (
                "TabularMixture", "VAE", "GAN"):
            model = getattr(skgen, name)(random_state=0).fit(small)
            out[f"{name} fit, 250 x 30"] = (
                "small", lambda n=name: getattr(skgen, n)(random_state=0).fit(small))
            out[f"{name} score_samples, 250 x 30"] = (
                "small", lambda m=model: m.score_samples(small))
    if only in (None, "table"):
        table = p6_table()
        for name in ("TabularMixture", "VAE", "GAN"):
            model = getattr(skgen, name)(random_state=0).fit(table)
            out[f"{name} fit, CPS1988 10 000 rows"] = (
                "table", lambda n=name: getattr(skgen, n)(random_state=0).fit(table))
            out[f"{name} score_samples, CPS1988"] = (
                "table", lambda m=model: m.score_samples(table))
    if only in (None, "wrappers"):
        X_p7, X_gaps = breast_cancer_gaps()
        out["DensityOutlierDetector fit, P7 breast cancer"] = (
            "wrappers", lambda: skgen.DensityOutlierDetector().fit(X_p7))
        out["GenerativeImputer fit_transform, 30% MCAR"] = (
            "wrappers",
            lambda: skgen.GenerativeImputer(random_state=0).fit_transform(X_gaps))
    return out


def _per_call(call, budget=0.5):
    """Seconds of one call: the median of as many calls as fit in ``budget``.

    A call of a few milliseconds timed once right after the load starts
    measures the scheduler more than the call.
    """
    seconds = []
    while not seconds or (sum(seconds) < budget and len(seconds) < 50):
        begin = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - begin)
    return statistics.median(seconds)


def timed(call, load, threads=None):
    """Seconds of one call beside ``load`` spinners; whether settings were kept."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                for _ in range(load)]
    try:
        if spinners:
            time.sleep(0.3)  # let the spinners start spinning
        before = thread_state()
        if threads is None:
            seconds = _per_call(call)
        else:
            saved = torch.get_num_threads()
            torch.set_num_threads(threads)
            try:
                with threadpool_limits(threads):
                    seconds = _per_call(call)
            finally:
                torch.set_num_threads(saved)
        kept = thread_state() == before
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
    return seconds, kept


def idle_seconds(only, path):
    """Write ``{work: seconds}`` of one idle call of each work to ``path``."""
    jobs = works(only)
    seconds = {name: timed(call, 0)[0] for name, (_, call) in jobs.items()}
    Path(path).write_text(json.dumps(seconds))


def against(base, only, repeats, out):
    """Idle seconds of every work here and at checkout ``base``, alternating."""
    start = load_average()
    runs = {"before": [], "after": []}
    for repeat in range(repeats):
        for label in ("before", "after"):
            env = dict(os.environ)
            # skgen from the other checkout, these benchmarks from this one
            # (run outside both, so that neither comes first by the cwd)
            first = [str(Path(base).resolve())] if label == "before" else []
            env["PYTHONPATH"] = os.pathsep.join(first + [str(ROOT)])
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "seconds.json"
                command = [sys.executable, "-m", "benchmarks.protocols.p9",
                           "--idle-json", str(path)]
                subprocess.run(command + (["--only", only] if only else []),
                               env=env, check=True, cwd=folder)
                runs[label].append(json.loads(path.read_text()))
            print(f"[{repeat}] {label}: {runs[label][-1]}", flush=True)
    commit = subprocess.run(["git", "-C", str(base), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    lines = [
        "# P9: idle speed at the defaults, before and after",
        "",
        f"`python -m benchmarks P9 --against DIR`, DIR a checkout of "
        f"{commit or 'another commit'}: each work "
        f"alone in a fresh process (a call under 0.5 s: the median of the calls "
        f"that fit in 0.5 s), {repeats} processes per code version, "
        "alternating (before, after, then again); medians. Before is the "
        "checkout given, after this one; both at the default thread settings.",
        "",
        "| work | before s | after s | after / before |",
        "|---|---|---|---|",
    ]
    for name in runs["after"][0]:
        a = statistics.median(run[name] for run in runs["before"])
        b = statistics.median(run[name] for run in runs["after"])
        lines.append(f"| {name} | {a:.3f} | {b:.3f} | {b / a:.2f} |")
    lines += ["", machine_line(start), ""]
    text = "\n".join(lines)
    print(text)
    out.write_text(text)


def main(argv=None):
    parser = argument_parser(__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", choices=["gmm", "small", "table", "wrappers"])
    parser.add_argument("--against", type=Path, default=None)
    parser.add_argument("--idle-json", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    if args.idle_json:
        idle_seconds(args.only, args.idle_json)
        return 0
    if args.against:
        against(args.against, args.only, args.repeats,
                results_dir(args.quick) / "P9-idle.md")
        return 0
    if args.quick:
        args.only, args.repeats = "small", 1
    start = load_average()
    settings_seen = thread_state()
    jobs = works(args.only, args.quick)
    conditions = [("load", load) for load in LOADS] + [("threads", 1), ("threads", 2)]
    times = {(name, c): [] for name in jobs for c in conditions}
    kept = True
    for repeat in range(args.repeats):
        for name, (_, call) in jobs.items():
            for kind, value in conditions:
                if kind == "load":
                    seconds, ok = timed(call, value)
                else:
                    seconds, ok = timed(call, 0, threads=value)
                kept &= ok
                times[name, (kind, value)].append(seconds)
            row = ", ".join(f"{k}={v}: {times[name, (k, v)][-1]:.2f}"
                            for k, v in conditions)
            print(f"[{repeat}] {name}: {row}", flush=True)

    med = {key: statistics.median(value) for key, value in times.items()}
    figures = {}
    lines = [
        f"Median of {args.repeats} interleaved runs "
        "(alone, 1 busy, 2 busy, 1 thread, 2 threads, then again; a run of a "
        "call under 0.5 s is the median of the calls that fit in 0.5 s). A busy "
        "process spins on one core; the defaults run at the thread settings "
        f"the process starts with: torch {settings_seen[0]} intra-op and "
        f"{settings_seen[1]} inter-op threads, pools "
        f"{', '.join(f'{a} {n}' for a, n in settings_seen[2])}. "
        f"Thread settings the same after every call: {'yes' if kept else 'NO'}.",
        "",
        "| work | alone s | 1 busy s | 2 busy s | 1 busy / alone | 2 busy / alone "
        "| 1 thread s | 2 threads s | default / best fixed |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in jobs:
        alone, one, two = (med[name, ("load", load)] for load in LOADS)
        t1, t2 = med[name, ("threads", 1)], med[name, ("threads", 2)]
        key = name.split(",")[0].replace(" ", "_") + (
            "" if "," not in name else "_" + name.split(",")[1].split()[0])
        figures[f"{key}_alone_s"] = round(alone, 2)
        figures[f"{key}_busy1_ratio"] = round(one / alone, 2)
        figures[f"{key}_busy2_ratio"] = round(two / alone, 2)
        figures[f"{key}_default_vs_best"] = round(alone / min(t1, t2), 2)
        lines.append(
            f"| {name} | {alone:.2f} | {one:.2f} | {two:.2f} | {one / alone:.2f}x "
            f"| {two / alone:.2f}x | {t1:.2f} | {t2:.2f} | {alone / min(t1, t2):.2f} |")
    anchor = "sklearn GaussianMixture EM only"
    if anchor in jobs:
        lines += ["", "sklearn over skgen, EM only (how many times faster skgen is): "
                  + ", ".join(
                      f"{label} {med[anchor, ('load', load)] / med['GaussianMixture EM only', ('load', load)]:.1f}x"  # noqa: E501
                      for label, load in (("alone", 0), ("1 busy", 1), ("2 busy", 2)))
                  + "."]
        for label, load in (("alone", 0), ("busy1", 1), ("busy2", 2)):
            figures[f"gmm_vs_sklearn_{label}"] = round(
                med[anchor, ("load", load)]
                / med["GaussianMixture EM only", ("load", load)], 1)
    fits = [v for k, v in figures.items() if k.endswith("busy1_ratio")
            and ("fit" in k or "EM_only" in k) and not k.startswith("sklearn")]
    if fits:
        figures["fit_busy1_ratio_min"], figures["fit_busy1_ratio_max"] = (
            min(fits), max(fits))
    figures["settings_kept"] = "yes" if kept else "no"
    text = "\n".join(lines)
    print(text)
    command = command_line("P9", argv)
    write_results("P9", TITLE, text, figures, quick=args.quick,
                  machine=machine_line(start), command=command.strip())
    if thread_state() != settings_seen:
        print(f"The thread settings changed during the run: {thread_state()}, "
              f"not {settings_seen}; the defaults were not measured.",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
