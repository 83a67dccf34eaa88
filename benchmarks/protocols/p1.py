"""Protocol P1: skgen.GaussianMixture against scikit-learn's, speed and memory.

Follows P1 of ``PROTOCOLS.md`` (in the shared folder beside the checkout):

* data: ``rng = np.random.default_rng(0)``, d=16, k=16, means ~ N(0, 3^2 I),
  covariance j = A_j A_j^T / d + 0.5 I with A_j ~ N(0, 1), weights ~
  Dirichlet(5 * 1); 200 000 training and 50 000 held-out rows;
* (a) seconds per EM iteration from the same explicit initialisation
  (k-means++ centres with ``random_state=0``, the global covariance),
  ``tol=0``, for every covariance type, float64 and float32; the held-out
  mean log-likelihoods of both libraries are compared;
* (b) the whole default fit ``GaussianMixture(16, random_state=0)``;
* memory: N = 2 000 000, d = 32, k = 32, full, ``max_iter=2``, peak RSS of a
  process that fits one library.

Each library runs in fresh processes at 1 and at 2 threads
(``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS`` and
``torch.set_num_threads``); ratios compare each library at its best setting.
Timings are medians over repeats, run as A, B, A, B, ...  The seconds per
iteration are the slope between fits of ``max_iter=5`` and ``max_iter=30``, so
that set-up and the final E-step drop out.

Usage::

    python -m benchmarks P1                 # full protocol
    python -m benchmarks P1 --part speed    # (a) and (b) only
    python -m benchmarks P1 --quick         # smoke run, 1 repeat, N=20 000
    python -m benchmarks P1 --against REV   # skgen at REV against this checkout

``--against`` times skgen alone, as it is at the git revision REV (checked
out into a temporary worktree) and as it is here, A, B, A, B in fresh
processes, and writes ``results/P1_before_after.md`` and ``.json``: what a
change of code did to every P1 speed figure, measured in one run.

Writes ``results/P1.md`` and ``results/P1.json``; the table's header states the
CPU count, the thread settings and the load average at both ends of the run.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np

from benchmarks._harness import (
    ROOT,
    argument_parser,
    command_line,
    load_average,
    machine_line,
    write_results,
)

TITLE = "GaussianMixture speed and memory against scikit-learn"
COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]
DTYPES = ["float64", "float32"]


# ------------------------------------------------------------------ data


def make_p1_data(n_train=200_000, n_test=50_000, d=16, k=16, seed=0, out=None):
    """P1's mixture: returns X_train, X_test (float64).

    With ``out`` given (an array of n_train + n_test rows), rows are drawn
    chunk by chunk into it, so that no copy of the data is ever held.
    """
    rng = np.random.default_rng(seed)
    means = rng.normal(0.0, 3.0, size=(k, d))
    A = rng.normal(size=(k, d, d))
    covariances = A @ np.swapaxes(A, 1, 2) / d + 0.5 * np.eye(d)
    weights = rng.dirichlet(5.0 * np.ones(k))
    chol = np.linalg.cholesky(covariances)
    n = n_train + n_test
    X = np.empty((n, d)) if out is None else out
    for start in range(0, n, 100_000):
        stop = min(start + 100_000, n)
        labels = rng.choice(k, size=stop - start, p=weights)
        z = rng.standard_normal(size=(stop - start, d))
        for j in range(k):
            rows = np.flatnonzero(labels == j)
            z[rows] = z[rows] @ chol[j].T + means[j]
        X[start:stop] = z
    return X[:n_train], X[n_train:]


def explicit_init(X, k, covariance_type):
    from sklearn.cluster import kmeans_plusplus

    centres, _ = kmeans_plusplus(X, k, random_state=0)
    cov = np.cov(X.T)
    precision = {
        "full": np.repeat(np.linalg.inv(cov)[None], k, axis=0),
        "tied": np.linalg.inv(cov),
        "diag": np.repeat((1.0 / np.diag(cov))[None], k, axis=0),
        "spherical": np.full(k, 1.0 / np.mean(np.diag(cov))),
    }[covariance_type]
    return dict(
        weights_init=np.full(k, 1.0 / k), means_init=centres, precisions_init=precision
    )


def estimator_class(library, skgen_path=None):
    if skgen_path is not None:  # another revision of skgen, imported first
        sys.path.insert(0, skgen_path)
    if library == "skgen":
        from skgen import GaussianMixture
    else:
        from sklearn.mixture import GaussianMixture
    return GaussianMixture


# --------------------------------------------------------------- workers


def worker(task):
    """Run one task in this (fresh) process and return a JSON-able result."""
    import torch

    torch.set_num_threads(task["threads"])
    from sklearn.exceptions import ConvergenceWarning

    warnings.simplefilter("ignore", ConvergenceWarning)
    GaussianMixture = estimator_class(task["library"], task.get("skgen_path"))
    if task["kind"] == "memory":
        n, d, k = task["n"], 32, 32
        buffer = np.empty((n + 1, d))
        X, _ = make_p1_data(n_train=n, n_test=1, d=d, k=k, out=buffer)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        start = time.perf_counter()
        GaussianMixture(k, max_iter=2, init_params=task["init"], random_state=0).fit(X)
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return dict(peak_mb=peak, before_fit_mb=before, input_mb=X.nbytes / 2**20,
                    seconds=seconds)
    X, X_test = make_p1_data(n_train=task["n"], n_test=task["n"] // 4)
    results = {}
    if task["kind"] == "iteration":
        for dtype in DTYPES:
            Xd, Xd_test = X.astype(dtype), X_test.astype(dtype)
            for cov in COVARIANCE_TYPES:
                init = explicit_init(X, 16, cov)
                times = {}
                for max_iter in (5, 30):
                    gm = GaussianMixture(16, covariance_type=cov, tol=0,
                                         max_iter=max_iter, **init)
                    start = time.perf_counter()
                    gm.fit(Xd)
                    times[max_iter] = time.perf_counter() - start
                results[f"{dtype}/{cov}"] = dict(
                    per_iter=(times[30] - times[5]) / 25,
                    held_out=float(gm.score(Xd_test)),
                )
    else:  # the whole default fit
        gm = GaussianMixture(16, random_state=0)
        start = time.perf_counter()
        gm.fit(X)
        results["default"] = dict(seconds=time.perf_counter() - start,
                                  held_out=float(gm.score(X_test)),
                                  n_iter=int(gm.n_iter_))
    return results


def run_in_fresh_process(task):
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(task["threads"])
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.protocols.p1", "--worker",
         json.dumps(task)],
        env=env, cwd=ROOT, capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- report


def median(values):
    return statistics.median(values)


def main(argv=None):
    parser = argument_parser(__doc__)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sklearn-threads", type=int, nargs="+", default=[1, 2],
                        choices=[1, 2],
                        help="thread settings at which scikit-learn is timed "
                        "(the protocol's: 1 2; 1 alone fits a short slot on a "
                        "busy machine, and the table says which were timed)")
    parser.add_argument("--part", choices=["speed", "memory", "all"], default="all")
    parser.add_argument("--against", metavar="REV",
                        help="time skgen at this git revision against this "
                        "checkout instead (results/P1_before_after.md)")
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0
    n = 5_000 if args.quick else 200_000
    n_memory = 20_000 if args.quick else 2_000_000
    repeats = 1 if args.quick else args.repeats
    if args.against:
        load_at_start = load_average()
        text, found = run_against(args.against, n, repeats)
        path = write_results(
            "P1_before_after", f"P1 speed, skgen at {args.against} against this "
            "checkout", text, found, quick=args.quick,
            machine=machine_line(load_at_start, threads=WORKER_THREADS.format(
                "1 and at 2")), command=command_line("P1", argv).strip())
        log(f"wrote {path}")
        return 0
    libraries = ["sklearn", "skgen"]
    load_at_start = load_average()
    body, figures = [], {}
    if args.part in ("speed", "all"):
        # A quick run checks the code paths, at one thread setting only.
        threads = (1,) if args.quick else (1, 2)
        text, found = run_speed(n, repeats, libraries,
                                (1,) if args.quick else args.sklearn_threads, threads)
        body.append(text)
        figures.update(found)
    if args.part in ("memory", "all"):
        text, found = run_memory(n_memory, libraries,
                                 ("kmeans",) if args.quick else ("kmeans", "k-means++"))
        body.append(text)
        figures.update(found)
    threads = WORKER_THREADS.format("1" if args.quick else "1 and at 2")
    command = command_line("P1", argv)
    path = write_results("P1", TITLE, "\n".join(body), figures, quick=args.quick,
                         machine=machine_line(load_at_start, threads=threads),
                         command=command.strip())
    log(f"wrote {path}")
    return 0


# Every timing runs in a fresh worker process with its own thread settings.
WORKER_THREADS = ("fresh processes with OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, "
                  "MKL_NUM_THREADS and torch.set_num_threads all at {}")


def log(message):
    print(message, file=sys.stderr, flush=True)


def run_speed(n, repeats, libraries, sklearn_threads=(1, 2), skgen_threads=(1, 2)):
    """Parts (a) and (b): the markdown and the figures."""
    figures = {}
    settings = {lib: tuple(skgen_threads) for lib in libraries}
    settings["sklearn"] = tuple(sklearn_threads)

    def interleaved(kind, label):
        # The same repeats at 1 and at 2 threads, interleaved A, B, A, B, so
        # that both libraries see the same load.
        runs = {(lib, t): [] for lib in libraries for t in settings[lib]}
        for r in range(repeats):
            for threads in (1, 2):
                for lib in libraries:
                    if threads not in settings[lib]:
                        continue
                    log(f"({label}) {lib} threads={threads} repeat={r}")
                    runs[lib, threads].append(run_in_fresh_process(
                        dict(kind=kind, library=lib, threads=threads, n=n)))
        return runs

    iteration = interleaved("iteration", "a")  # (a) per EM iteration
    whole = interleaved("whole", "b")  # (b) the whole default fit

    lines = [
        f"N={n} train, {n // 4} held-out, d=16, k=16. Every time is the median "
        f"of {repeats} repeat(s) at each thread setting; the speed-up compares "
        "each library at its best thread setting.",
        "",
        "## (a) Seconds per EM iteration, explicit initialisation, tol=0",
        "",
        "| dtype | covariance | sklearn s/iter 1 thr | sklearn s/iter 2 thr | "
        "skgen s/iter 1 thr | skgen s/iter 2 thr | speed-up | "
        "held-out LL sklearn | held-out LL skgen | rel. diff |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key in [f"{d}/{c}" for d in DTYPES for c in COVARIANCE_TYPES]:
        per_iter, held_out = {}, {}
        for lib in libraries:
            for t in settings[lib]:
                per_iter[lib, t] = median(
                    [run[key]["per_iter"] for run in iteration[lib, t]])
            held_out[lib] = iteration[lib, settings[lib][0]][0][key]["held_out"]
        best = {lib: min(per_iter[lib, t] for t in settings[lib])
                for lib in libraries}
        s_ll, g_ll = held_out["sklearn"], held_out["skgen"]
        figures[f"speedup_{key.replace('/', '_')}"] = round(
            best["sklearn"] / best["skgen"], 1)
        figures[f"rel_diff_{key.replace('/', '_')}"] = float(
            f"{abs(s_ll - g_ll) / abs(s_ll):.1e}")
        times = " | ".join(
            f"{per_iter[lib, t]:.4f}" if (lib, t) in per_iter else "not timed"
            for lib in libraries for t in (1, 2))
        lines.append(
            f"| {key.split('/')[0]} | {key.split('/')[1]} | {times} | "
            f"{best['sklearn'] / best['skgen']:.1f}x | {s_ll:.6f} | {g_ll:.6f} | "
            f"{abs(s_ll - g_ll) / abs(s_ll):.1e} |"
        )
    lines += [
        "",
        "## (b) Whole default fit, GaussianMixture(16, random_state=0)",
        "",
        "| library | threads | wall s (median) | n_iter | held-out LL |",
        "|---|---|---|---|---|",
    ]
    best_whole = {}
    for lib in libraries:
        for t in settings[lib]:
            runs = whole[lib, t]
            secs = median([r["default"]["seconds"] for r in runs])
            best_whole[lib] = min(best_whole.get(lib, np.inf), secs)
            default = runs[0]["default"]
            figures[f"default_fit_s_{lib}_{t}"] = round(secs, 2)
            figures[f"default_fit_ll_{lib}"] = round(default["held_out"], 3)
            lines.append(f"| {lib} | {t} | {secs:.2f} | {default['n_iter']} | "
                         f"{default['held_out']:.6f} |")
    lines += ["", f"Whole-fit speed-up at each library's best thread setting: "
              f"{best_whole['sklearn'] / best_whole['skgen']:.1f}x", ""]
    figures["default_fit_speedup"] = round(
        best_whole["sklearn"] / best_whole["skgen"], 1)
    for name in ("sklearn", "skgen"):
        figures[f"default_fit_s_{name}"] = round(best_whole[name], 2)
    speedups = [v for k, v in figures.items() if k.startswith("speedup_")]
    figures["speedup_min"], figures["speedup_max"] = min(speedups), max(speedups)
    return "\n".join(lines) + "\n", figures

def run_against(revision, n, repeats):
    """P1's speed figures of skgen at ``revision`` and here: markdown, figures."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        before_path = os.path.join(folder, "before")
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach",
                        before_path, revision], check=True, capture_output=True)
        try:
            runs = {}
            for r in range(repeats):
                for threads in (1, 2):
                    for side, path in (("before", before_path), ("after", None)):
                        for kind in ("iteration", "whole"):
                            log(f"{side} {kind} threads={threads} repeat={r}")
                            task = dict(kind=kind, library="skgen", threads=threads,
                                        n=n, skgen_path=path)
                            result = run_in_fresh_process(task)
                            for key, value in result.items():
                                seconds = value.get("per_iter", value.get("seconds"))
                                runs.setdefault((key, threads, side), []).append(
                                    seconds)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                            before_path], check=False, capture_output=True)
    lines = [
        f"skgen at {revision} (before) and this checkout (after) on P1's data "
        f"(N={n}, d=16, k=16), in fresh processes, before and after in turn; "
        f"medians of {repeats} repeat(s). Rows `dtype/covariance`: seconds per EM "
        "iteration from P1's explicit initialisation (the slope between "
        "max_iter=5 and 30); `default`: seconds of the whole default fit.",
        "",
        "| config | threads | before s | after s | after / before |",
        "|---|---|---|---|---|",
    ]
    ratios = []
    for key, threads in sorted({(k, t) for k, t, _ in runs}):
        before = median(runs[key, threads, "before"])
        after = median(runs[key, threads, "after"])
        if min(before, after) <= 0:  # a slope lost in the machine's noise
            lines.append(f"| {key} | {threads} | {before:.4f} | {after:.4f} | "
                         "– (a slope below zero: noise) |")
            continue
        ratios.append(after / before)
        lines.append(f"| {key} | {threads} | {before:.4f} | {after:.4f} | "
                     f"{after / before:.2f} |")
    figures = {"revision": revision, "ratio_median": round(median(ratios), 2),
               "ratio_min": round(min(ratios), 2), "ratio_max": round(max(ratios), 2)}
    lines += ["", f"after / before over the {len(ratios)} rows: median "
              f"{figures['ratio_median']}, from {figures['ratio_min']} to "
              f"{figures['ratio_max']} (below 1: faster now).", ""]
    return "\n".join(lines), figures


def run_memory(n_memory, libraries, inits=("kmeans", "k-means++")):
    """The memory part: the markdown and the figures."""
    memory = {}
    for init in inits:
        for lib in libraries:
            log(f"memory {lib} init={init}")
            memory[lib, init] = run_in_fresh_process(dict(
                kind="memory", library=lib, threads=1, n=n_memory, init=init))
    lines = [
        f"## Memory: N={n_memory}, d=32, k=32, full, max_iter=2, 1 thread",
        "",
        "Peak RSS (ru_maxrss) of a fresh process that draws the data chunk by chunk "
        "into one array, then fits one library. 'peak before fit' covers the "
        "interpreter, the imports and the data.",
        "",
        "| library | init_params | input MB | peak before fit MB | peak RSS MB | "
        "budget (2x input + 512) MB | fit s |",
        "|---|---|---|---|---|---|---|",
    ]
    for (lib, init), m in memory.items():
        lines.append(
            f"| {lib} | {init} | {m['input_mb']:.0f} | {m['before_fit_mb']:.0f} | "
            f"{m['peak_mb']:.0f} | {2 * m['input_mb'] + 512:.0f} | "
            f"{m['seconds']:.1f} |")
    figures = {f"peak_mb_{lib}_{init}": round(m["peak_mb"])
               for (lib, init), m in memory.items()}
    return "\n".join(lines) + "\n", figures


if __name__ == "__main__":
    sys.exit(main())
