"""Protocol P8: GaussianMixture at scale on Dask, against memory and Spark MLlib.

Follows P8 of ``PROTOCOLS.md`` (in the shared folder beside the checkout):

* data: P1's mixture (``np.random.default_rng(0)``, d=16, k=16), float32,
  drawn lazily by Dask in blocks of 250 000 rows, block ``i`` from
  ``np.random.default_rng([8, i])``; N = 2, 10 and 50 million rows. The
  in-memory fit and Spark get the first 2 million rows, the same bits;
* cluster: ``distributed.LocalCluster(n_workers=2, threads_per_worker=1,
  memory_limit="4GB")``, a fresh one for each N;
* full covariance, 5 EM iterations (``tol=0``) from one explicit
  initialisation: k-means++ centres of the 2 million rows
  (``random_state=0``), equal weights, the global covariance;
* seconds per iteration: the median of the 5 iterations' times (``verbose=2``
  prints each); rows per second; the peak RSS of both workers and of the
  client, sampled with psutil every 50 ms in a thread;
* the same fit on the 2 million rows in memory (no Dask), in this process at
  1 and at 2 torch threads, interleaved with the Dask fits;
* Spark MLlib's GaussianMixture (``pyspark``, ``local[2]``, a benchmark-only
  package: ``pip install pyspark``) on the same 2 million rows, k=16, 5
  iterations: the RDD API from the same explicit initialisation, and the
  DataFrame API (``pyspark.ml``, which takes no initial model) from its own;
  seconds per iteration as the slope between fits of 1 and 5 iterations on
  cached data;
* every fitted model's mean log-likelihood of the 2 million rows, computed
  by scikit-learn from the model's weights, means and covariances;
* ``partial_fit`` over one pass of the 2 million rows in 10 000-row batches,
  against the full-batch fit to convergence from the same initialisation,
  on 250 000 held-out rows (block 1 000 000 of the generator).

Dask fits run twice at 2 and 10 million rows: on the lazily drawn blocks
(drawn again at every pass, as data read from storage would be), and on the
blocks persisted in the workers' memory, which isolates the engine from the
cost of drawing.

Usage::

    python -m benchmarks P8            # full protocol
    python -m benchmarks P8 --quick    # smoke run, N = 0.05M, no Spark
    python -m benchmarks P8 --sizes 2 10 --no-spark

The table's header states the CPU count, the thread settings and the load
average at the start and the end of the run.
"""

import contextlib
import io
import os
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np

from benchmarks._harness import (
    argument_parser,
    command_line,
    load_average,
    machine_line,
    write_results,
)

TITLE = "GaussianMixture at scale on Dask, against memory and Spark MLlib"
D, K = 16, 16
BLOCK_ROWS = 250_000
DATA_SEED = 8
HELD_OUT_BLOCK = 1_000_000
N_ITER = 5
BATCH_ROWS = 10_000
MEMORY_LIMIT = "4GB"
MB = 2**20


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ data


def p1_mixture(d=D, k=K):
    """P1's mixture: weights, means and Cholesky factors of the covariances."""
    rng = np.random.default_rng(0)
    means = rng.normal(0.0, 3.0, size=(k, d))
    A = rng.normal(size=(k, d, d))
    covariances = A @ np.swapaxes(A, 1, 2) / d + 0.5 * np.eye(d)
    weights = rng.dirichlet(5.0 * np.ones(k))
    return weights, means, np.linalg.cholesky(covariances)


def draw_block(index, n_rows, mixture):
    """Block ``index`` of the data: ``n_rows`` float32 rows, its own seed.

    The rows of each component are drawn together (a multinomial count per
    component, then one float32 matrix product each, written in place), then
    put in a random order, so that any run of rows, such as a batch of
    partial_fit, mixes the components. Normals are drawn in float32 and the
    reordering gathers into the normals' own buffer: drawing is most of the
    cost of a pass over lazily drawn blocks.
    """
    weights, means, chol = mixture
    rng = np.random.default_rng([DATA_SEED, index])
    counts = rng.multinomial(n_rows, weights)
    order = rng.permutation(n_rows)
    z = rng.standard_normal(size=(n_rows, means.shape[1]), dtype=np.float32)
    drawn = np.empty_like(z)
    factors = np.swapaxes(chol, 1, 2).astype(np.float32)
    offsets = means.astype(np.float32)
    start = 0
    for j, count in enumerate(counts):
        rows = slice(start, start + count)
        np.matmul(z[rows], factors[j], out=drawn[rows])
        drawn[rows] += offsets[j]
        start += count
    return np.take(drawn, order, axis=0, out=z)


def _dask_block(block_info=None, mixture=None):
    info = block_info[None]
    return draw_block(info["chunk-location"][0], info["chunk-shape"][0], mixture)


def row_blocks(n_rows):
    sizes = [BLOCK_ROWS] * (n_rows // BLOCK_ROWS)
    if n_rows % BLOCK_ROWS:
        sizes.append(n_rows % BLOCK_ROWS)
    return tuple(sizes)


def lazy_data(n_rows, mixture):
    """The first n_rows rows as a lazy Dask array, one task per block."""
    import dask.array as da

    return da.map_blocks(
        _dask_block, dtype=np.float32, chunks=(row_blocks(n_rows), (D,)),
        meta=np.empty((0, 0), dtype=np.float32), mixture=mixture,
    )


def in_memory_data(n_rows, mixture):
    """The same first n_rows rows, drawn here block by block."""
    X = np.empty((n_rows, D), dtype=np.float32)
    start = 0
    for index, size in enumerate(row_blocks(n_rows)):
        X[start : start + size] = draw_block(index, size, mixture)
        start += size
    return X


def explicit_init(X):
    """P1's initialisation: k-means++ centres, equal weights, global covariance."""
    from sklearn.cluster import kmeans_plusplus

    X64 = X.astype(np.float64)
    centres, _ = kmeans_plusplus(X64, K, random_state=0)
    precision = np.linalg.inv(np.cov(X64.T))
    return dict(
        weights_init=np.full(K, 1.0 / K), means_init=centres,
        precisions_init=np.repeat(precision[None], K, axis=0),
    )


# --------------------------------------------------------------- scoring


def mean_log_likelihood(X, weights, means, covariances):
    """scikit-learn's mean log-likelihood of X under the given mixture."""
    from scipy.linalg import solve_triangular
    from sklearn.mixture import GaussianMixture

    model = GaussianMixture(len(weights), covariance_type="full")
    model.weights_ = np.asarray(weights, dtype=np.float64)
    model.means_ = np.asarray(means, dtype=np.float64)
    model.covariances_ = np.asarray(covariances, dtype=np.float64)
    # What scikit-learn's M-step stores: the transposed inverse Cholesky factor.
    model.precisions_cholesky_ = np.stack([
        solve_triangular(np.linalg.cholesky(c), np.eye(len(c)), lower=True).T
        for c in model.covariances_
    ])
    total = 0.0
    for start in range(0, len(X), BLOCK_ROWS):
        block = X[start : start + BLOCK_ROWS].astype(np.float64)
        total += model.score_samples(block).sum()
    return total / len(X)


def below_epsilon_share(X, init):
    """Share of rows whose every weighted density is below machine epsilon.

    Under the initial parameters. Spark's EM adds machine epsilon to each
    weighted density, in linear space: such a row counts the same for
    every component.
    """
    from scipy.stats import multivariate_normal

    covariance = np.linalg.inv(init["precisions_init"][0])
    floor = np.log(np.finfo(np.float64).eps)
    below = 0
    for start in range(0, len(X), BLOCK_ROWS):
        block = X[start : start + BLOCK_ROWS].astype(np.float64)
        best = np.full(len(block), -np.inf)
        for weight, mean in zip(init["weights_init"], init["means_init"], strict=True):
            log_density = multivariate_normal(mean, covariance).logpdf(block)
            best = np.maximum(best, np.log(weight) + log_density)
        below += int(np.sum(best < floor))
    return below / len(X)


def model_log_likelihood(model, X):
    return mean_log_likelihood(X, model.weights_, model.means_, model.covariances_)


# ---------------------------------------------------------------- memory


class PeakRSS:
    """Peak resident memory of some processes, sampled every 50 ms in a thread."""

    def __init__(self, pids):
        import psutil

        self.processes = {label: psutil.Process(pid) for label, pid in pids.items()}
        self.peaks = dict.fromkeys(pids, 0)
        self.start = {label: p.memory_info().rss for label, p in self.processes.items()}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            for label, process in self.processes.items():
                try:
                    rss = process.memory_info().rss
                except Exception:  # a worker restarted: keep what was seen
                    continue
                self.peaks[label] = max(self.peaks[label], rss)
            self._stop.wait(0.05)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


# ------------------------------------------------------------------- fits

_ITERATION = re.compile(r"Iteration\s+(\d+)\s+time lapse ([0-9.]+)s")


def timed_fit(X, init, threads=None):
    """skgen's full-covariance EM, 5 iterations; times of each iteration."""
    import torch

    from skgen import GaussianMixture

    if threads is not None:
        torch.set_num_threads(threads)
    model = GaussianMixture(
        K, covariance_type="full", max_iter=N_ITER, tol=0, verbose=2,
        verbose_interval=1, **init,
    )
    out = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tol=0 never converges, by design
        model.fit(X)
    total = time.perf_counter() - start
    iterations = [float(t) for _, t in _ITERATION.findall(out.getvalue())]
    assert len(iterations) == N_ITER, out.getvalue()
    return dict(model=model, iterations=iterations, total=total,
                per_iter=statistics.median(iterations))


# Dask's nannies give every worker MALLOC_TRIM_THRESHOLD_=65536 (to hand
# freed memory back to the OS). Setting it turns off glibc's adaptive mmap
# threshold, so that every large temporary is a fresh mmap, zeroed by the
# kernel page by page. The protocol's cluster keeps Dask's default; the
# second cluster leaves the variable unset, as a process outside Dask has it.
CONFIGS = {
    "dask default": 65536,
    "trim unset": None,
}


def start_cluster(trim):
    import dask
    import distributed

    key = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
    # The nanny writes the variable into this process's environment before
    # spawning, so that later clusters would inherit it: remove it here.
    os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    with dask.config.set({key: trim}):
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, memory_limit=MEMORY_LIMIT,
            processes=True, dashboard_address=":0",
        )
    os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    client = distributed.Client(cluster, set_as_default=False)
    # The workers import skgen and torch once, outside every timing.
    settings = client.run(_warm_worker)
    expected = None if trim is None else str(trim)
    assert all(v[2] == expected for v in settings.values()), settings
    return cluster, client, settings


def _warm_worker():
    import torch

    import skgen  # noqa: F401

    return (torch.get_num_threads(), os.environ.get("OMP_NUM_THREADS"),
            os.environ.get("MALLOC_TRIM_THRESHOLD_"))


def worker_pids(client):
    pids = client.run(os.getpid)
    return {f"worker {i + 1}": pid for i, pid in enumerate(pids.values())}


class DaskContestant:
    """One cluster of the protocol's shape, fitting the lazily drawn N rows."""

    def __init__(self, config, n_rows, mixture):
        self.config = config
        self.n_rows = n_rows
        log(f"N={n_rows:,}: starting a cluster ({config})")
        self.cluster, self.client, self.settings = start_cluster(CONFIGS[config])
        self.workers = worker_pids(self.client)
        self.X = lazy_data(n_rows, mixture)
        self.X_persisted = None
        self.peaks = dict.fromkeys(["client", *self.workers], 0)
        self.start_rss = None

    def fit_generated(self, init):
        with self.client.as_current(), PeakRSS(
                {"client": os.getpid(), **self.workers}) as sampler:
            run = timed_fit(self.X, init)
        self.peaks = {k: max(v, sampler.peaks[k]) for k, v in self.peaks.items()}
        if self.start_rss is None:
            self.start_rss = sampler.start
        return run

    def fit_persisted(self, init):
        import distributed

        with self.client.as_current():
            if self.X_persisted is None:
                self.X_persisted = self.X.persist()
                distributed.wait(self.X_persisted)
            return timed_fit(self.X_persisted, init)

    def draw_only(self):
        """Seconds of one pass that draws every block and sums it."""
        with self.client.as_current():
            start = time.perf_counter()
            self.X.sum(axis=0).compute()
            return time.perf_counter() - start

    def close(self):
        self.X_persisted = None
        self.client.close()
        self.cluster.close()


def dask_phase(n_rows, mixture, init, X_memory, repeats, persisted, spark=None):
    """Fits on N rows, interleaved: in memory, both clusters, (Spark).

    Each repeat runs every contestant once, in the same order, so that all
    see the same load.
    """
    clusters = {c: DaskContestant(c, n_rows, mixture) for c in CONFIGS}
    runs = {}

    def record(key, run):
        runs.setdefault(key, []).append(run)

    try:
        for repeat in range(repeats):
            for threads in (1, 2):
                log(f"N={n_rows:,} repeat {repeat}: in memory, {threads} thread(s)")
                record(f"memory {threads}", timed_fit(X_memory, init, threads))
            for config, contestant in clusters.items():
                log(f"N={n_rows:,} repeat {repeat}: Dask ({config}), drawn blocks")
                record(f"generated/{config}", contestant.fit_generated(init))
            if persisted:
                for config, contestant in clusters.items():
                    log(f"N={n_rows:,} repeat {repeat}: Dask ({config}), persisted")
                    record(f"persisted/{config}", contestant.fit_persisted(init))
            if spark is not None:
                for api in ("rdd", "ml"):
                    for n_iter in (1, N_ITER):
                        log(f"N={n_rows:,} repeat {repeat}: Spark {api} API, "
                            f"{n_iter} iteration(s)")
                        record(f"spark {api} {n_iter}", spark.fit(api, n_iter))
            for threads in (1, 2):
                log(f"N={n_rows:,} repeat {repeat}: in memory, {threads} thread(s)")
                record(f"memory {threads}", timed_fit(X_memory, init, threads))
        draw = {}
        for config, contestant in clusters.items():
            log(f"N={n_rows:,}: one pass that only draws the blocks ({config})")
            draw[config] = contestant.draw_only()
    finally:
        for contestant in clusters.values():
            contestant.close()
    result = dict(
        n_rows=n_rows, draw_seconds=draw,
        peaks={c: clusters[c].peaks for c in CONFIGS},
        start={c: clusters[c].start_rss for c in CONFIGS},
        worker_settings={c: sorted(set(clusters[c].settings.values()))
                         for c in CONFIGS},
        lower_bound={c: runs[f"generated/{c}"][0]["model"].lower_bound_
                     for c in CONFIGS},
        scored={c: model_log_likelihood(runs[f"generated/{c}"][0]["model"], X_memory)
                for c in CONFIGS},
        memory_ll=model_log_likelihood(runs["memory 1"][0]["model"], X_memory),
    )
    if spark is not None:
        result["spark"] = spark.summary(runs)
    # The timings only: the fitted models are not kept from phase to phase.
    result["runs"] = {key: [{k: v for k, v in run.items() if k != "model"}
                            for run in value] for key, value in runs.items()}
    return result


# ------------------------------------------------------------------ Spark


class SparkAnchor:
    """Spark MLlib's GaussianMixture on X: RDD API (explicit init) and ML API."""

    def __init__(self, X, init):
        import pandas as pd
        from pyspark.ml.feature import VectorAssembler
        from pyspark.mllib.linalg import DenseMatrix
        from pyspark.mllib.linalg import Vectors as RDDVectors
        from pyspark.mllib.stat.distribution import MultivariateGaussian
        from pyspark.sql import SparkSession

        self.n_rows = len(X)
        self.folder = tempfile.mkdtemp(prefix="p8-spark-")
        columns = [f"x{j}" for j in range(D)]
        for start in range(0, len(X), BLOCK_ROWS):
            part = pd.DataFrame(X[start : start + BLOCK_ROWS].astype(np.float64),
                                columns=columns)
            part.to_parquet(Path(self.folder) / f"part-{start // BLOCK_ROWS:05d}.pq")
        log("Spark: starting local[2]")
        self.spark = (
            SparkSession.builder.master("local[2]").appName("P8")
            .config("spark.driver.memory", "4g")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .getOrCreate()
        )
        self.spark.sparkContext.setLogLevel("ERROR")
        self.version = self.spark.version
        self.frame = VectorAssembler(inputCols=columns, outputCol="features").transform(
            self.spark.read.parquet(self.folder)).select("features").repartition(2)
        self.frame = self.frame.cache()
        self.frame.count()
        self.rdd = self.frame.rdd.map(
            lambda row: RDDVectors.fromML(row.features)).cache()
        self.rdd.count()
        covariance = np.linalg.inv(init["precisions_init"][0])
        self.initial = _RDDInitialModel(
            k=K, weights=list(init["weights_init"]),
            gaussians=[MultivariateGaussian(
                RDDVectors.dense(mean),
                DenseMatrix(D, D, covariance.ravel(order="F").tolist()))
                for mean in init["means_init"]],
        )

    def fit(self, api, n_iter):
        from pyspark.ml.clustering import GaussianMixture as MLGaussianMixture
        from pyspark.mllib.clustering import GaussianMixture as RDDGaussianMixture

        start = time.perf_counter()
        if api == "rdd":
            model = RDDGaussianMixture.train(
                self.rdd, K, convergenceTol=0.0, maxIterations=n_iter, seed=0,
                initialModel=self.initial)
        else:
            model = MLGaussianMixture(k=K, maxIter=n_iter, tol=0.0, seed=0).fit(
                self.frame)
        seconds = time.perf_counter() - start
        if api == "rdd":
            params = (
                np.asarray(model.weights),
                np.array([g.mu.toArray() for g in model.gaussians]),
                np.array([g.sigma.toArray() for g in model.gaussians]),
            )
            summary = None
        else:
            gaussians = model.gaussiansDF.collect()
            params = (
                np.asarray(model.weights),
                np.array([row["mean"].toArray() for row in gaussians]),
                np.array([row["cov"].toArray() for row in gaussians]),
            )
            summary = model.summary.logLikelihood / self.n_rows
        return dict(seconds=seconds, params=params, summary=summary)

    def summary(self, runs):
        """Seconds per iteration (slope between 1 and 5 iterations), final LL."""
        result = {"version": self.version}
        for api in ("rdd", "ml"):
            t1 = statistics.median([r["seconds"] for r in runs[f"spark {api} 1"]])
            t5 = statistics.median(
                [r["seconds"] for r in runs[f"spark {api} {N_ITER}"]])
            last = runs[f"spark {api} {N_ITER}"][-1]
            result[api] = dict(per_iter=(t5 - t1) / (N_ITER - 1), fit1=t1, fit5=t5,
                               params=last["params"], summary=last["summary"])
        return result

    def close(self):
        self.spark.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


class _RDDInitialModel:
    """What ``pyspark.mllib``'s ``train(initialModel=...)`` reads of a model."""

    def __init__(self, k, weights, gaussians):
        self.k, self.weights, self.gaussians = k, weights, gaussians


# ------------------------------------------------------------ partial_fit


def partial_fit_phase(X, X_held_out, init):
    import torch

    from skgen import GaussianMixture

    torch.set_num_threads(1)
    log("partial_fit: one pass in 10 000-row batches")
    stream = GaussianMixture(K, covariance_type="full", **init)
    start = time.perf_counter()
    for begin in range(0, len(X), BATCH_ROWS):
        stream.partial_fit(X[begin : begin + BATCH_ROWS])
    stream_seconds = time.perf_counter() - start
    log("partial_fit: the full-batch fit to convergence")
    full = GaussianMixture(K, covariance_type="full", max_iter=500, **init)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full.fit(X)
    full_seconds = time.perf_counter() - start
    return dict(
        n_batches=stream.n_iter_, stream_seconds=stream_seconds,
        full_seconds=full_seconds, full_n_iter=full.n_iter_,
        full_converged=full.converged_,
        stream_ll=model_log_likelihood(stream, X_held_out),
        full_ll=model_log_likelihood(full, X_held_out),
    )


# ----------------------------------------------------------------- report


def _mb(value):
    return f"{value / MB:,.0f}"


def _rate(n_rows, seconds):
    return f"{n_rows / seconds / 1e6:.2f}M"


def _median(runs, key):
    return statistics.median([r["per_iter"] for r in runs[key]])


def _memory_best(phase):
    return min(_median(phase["runs"], f"memory {t}") for t in (1, 2))


def report(results, load_at_start, n_memory):
    """The markdown body, the machine line and the figures."""
    figures = {}
    scale = results["scale"]
    first = scale[0]
    settings = "; ".join(
        f"{c}: (torch threads, OMP_NUM_THREADS, MALLOC_TRIM_THRESHOLD_) = "
        f"{first['worker_settings'][c]}" for c in CONFIGS)
    client_env = ", ".join(f"{v}={os.environ.get(v, 'unset')}" for v in
                           ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                            "MKL_NUM_THREADS"))
    machine = machine_line(
        load_at_start,
        threads=(f"Dask workers: 2 processes x 1 thread per cluster ({settings}); "
                 "in-memory fits in the client process at "
                 "torch.set_num_threads(1) and (2); Spark local[2]; client "
                 f"{client_env}"),
    )
    lines = [
        f"P1 mixture (d={D}, k={K}), float32, blocks of {BLOCK_ROWS:,} rows drawn "
        f"lazily by Dask (block i from default_rng([{DATA_SEED}, i])). Two "
        f"LocalCluster(n_workers=2, threads_per_worker=1, memory_limit="
        f"\"{MEMORY_LIMIT}\") side by side, fresh for each N: 'dask default' "
        "exactly as the protocol states (its workers get Dask's "
        "MALLOC_TRIM_THRESHOLD_=65536), 'trim unset' the same without that "
        f"variable. Full covariance, {N_ITER} EM iterations (tol=0) from one "
        "explicit initialisation (k-means++ centres of the first "
        f"{n_memory:,} rows with random_state=0, equal weights, global "
        "covariance). Each repeat runs every contestant once in the same order "
        "(in memory, both clusters, Spark at 2M, in memory again). s/iter is the "
        "median over the iterations of a fit and over repeats; rows/s = N / "
        "(s/iter). 'vs memory' divides Dask's rows/s by the in-memory fit's "
        f"(the first {n_memory:,} rows, best of 1 and 2 threads, same phase). "
        f"LL: scikit-learn's mean log-likelihood of the first {n_memory:,} rows "
        "under the fitted parameters; 'last bound': the fit's lower_bound_ "
        "(mean over all N rows at the last E-step).",
    ]
    ratios = {}
    for config in CONFIGS:
        lines += [
            "",
            f"## Dask ({config}), blocks drawn at every pass",
            "",
            "| N | blocks | s/iter | rows/s | in memory s/iter (1 / 2 thr) | vs "
            "memory | draw-only s/pass | prepare s | peak RSS worker 1 MB | "
            "worker 2 MB | client MB (at start) | last bound | LL |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for phase in scale:
            n, runs = phase["n_rows"], phase["runs"]
            key = f"generated/{config}"
            dask_s = _median(runs, key)
            mem = {t: _median(runs, f"memory {t}") for t in (1, 2)}
            ratio = (n / dask_s) / (n_memory / min(mem.values()))
            ratios[f"{config}, drawn blocks, {n / 1e6:g}M"] = ratio
            if config == next(iter(CONFIGS)):
                figures[f"drawn_vs_memory_{n / 1e6:g}M"] = round(ratio, 2)
                figures[f"drawn_s_per_iter_{n / 1e6:g}M"] = round(dask_s, 3)
                worker_peaks = phase["peaks"][config]
                figures[f"worker_peak_mb_{n / 1e6:g}M"] = round(max(
                    worker_peaks["worker 1"], worker_peaks["worker 2"]) / MB)
            prepare = statistics.median(
                [r["total"] - sum(r["iterations"]) for r in runs[key]])
            peaks, start = phase["peaks"][config], phase["start"][config]
            lines.append(
                f"| {n / 1e6:g}M | {len(row_blocks(n))} | {dask_s:.3f} | "
                f"{_rate(n, dask_s)} | {mem[1]:.3f} / {mem[2]:.3f} | {ratio:.2f}x | "
                f"{phase['draw_seconds'][config]:.2f} | {prepare:.1f} | "
                f"{_mb(peaks['worker 1'])} | {_mb(peaks['worker 2'])} | "
                f"{_mb(peaks['client'])} ({_mb(start['client'])}) | "
                f"{phase['lower_bound'][config]:.6f} | "
                f"{phase['scored'][config]:.6f} |"
            )
    lines += [
        "",
        "## Dask, blocks persisted in the workers' memory (the engine alone)",
        "",
        "| N | cluster | s/iter | rows/s | in memory s/iter (best) | vs memory |",
        "|---|---|---|---|---|---|",
    ]
    for phase in scale:
        n, runs = phase["n_rows"], phase["runs"]
        for config in CONFIGS:
            key = f"persisted/{config}"
            if key not in runs:
                continue
            dask_s = _median(runs, key)
            ratio = (n / dask_s) / (n_memory / _memory_best(phase))
            ratios[f"{config}, persisted, {n / 1e6:g}M"] = ratio
            if config == next(iter(CONFIGS)):
                figures[f"persisted_vs_memory_{n / 1e6:g}M"] = round(ratio, 2)
            lines.append(f"| {n / 1e6:g}M | {config} | {dask_s:.3f} | "
                         f"{_rate(n, dask_s)} | {_memory_best(phase):.3f} | "
                         f"{ratio:.2f}x |")

    spark = first.get("spark")
    runs = first["runs"]
    mem_s = {t: _median(runs, f"memory {t}") for t in (1, 2)}
    skgen_rows = [
        ("skgen in memory, 1 thread", mem_s[1], first["memory_ll"]),
        ("skgen in memory, 2 threads", mem_s[2], first["memory_ll"]),
    ]
    for config in CONFIGS:
        for kind in ("generated", "persisted"):
            key = f"{kind}/{config}"
            if key in runs:
                label = "drawn blocks" if kind == "generated" else "persisted"
                skgen_rows.append((f"skgen on Dask ({config}), {label}",
                                   _median(runs, key), first["scored"][config]))
    if spark:
        lines += [
            "",
            f"## Spark MLlib on the same {n_memory:,} rows, interleaved with the "
            f"{first['n_rows'] / 1e6:g}M phase",
            "",
            "| fit | init | s/iter | LL | Spark RDD API's s/iter / this | "
            "Spark ML API's s/iter / this |",
            "|---|---|---|---|---|---|",
        ]
        for label, seconds, ll in skgen_rows:
            lines.append(
                f"| {label} | explicit | {seconds:.3f} | {ll:.6f} | "
                f"{spark['rdd']['per_iter'] / seconds:.1f}x | "
                f"{spark['ml']['per_iter'] / seconds:.1f}x |")
        for api, init_name, name in (
                ("rdd", "explicit", "pyspark.mllib GaussianMixture.train (RDD)"),
                ("ml", "Spark's own", "pyspark.ml GaussianMixture (DataFrame)")):
            lines.append(
                f"| Spark {spark['version']} {name} | {init_name} | "
                f"{spark[api]['per_iter']:.3f} | {spark[api]['scored']:.6f} | | |")
        lines += [
            "",
            "Spark's s/iter is the slope (t(5 iterations) - t(1)) / 4 of the "
            "median fit times on cached data: "
            + "; ".join(f"{api}: t1 = {spark[api]['fit1']:.1f} s, t5 = "
                        f"{spark[api]['fit5']:.1f} s" for api in ("rdd", "ml"))
            + ". The ML API's own summary log-likelihood per row: "
            f"{spark['ml']['summary']:.6f}. Spark ran with its Java BLAS (no "
            "native libblas.so.3 on this machine).",
            "",
            f"One Gaussian (the rows' mean and covariance) has LL "
            f"{spark['one_gaussian']:.6f}. Spark's EM computes each weighted "
            "density in linear space and adds machine epsilon (2.2e-16) to it; "
            f"under the initial parameters {spark['below_epsilon']:.1%} of the "
            "rows have every weighted density below that, so each of them counts "
            "the same for every component, and the components merge.",
        ]
    pf = results.get("partial_fit")
    if pf:
        lines += [
            "",
            f"## partial_fit: one pass over {n_memory:,} rows in {BATCH_ROWS:,}-row "
            "batches (1 thread)",
            "",
            "| fit | held-out LL | seconds | passes / batches |",
            "|---|---|---|---|",
            f"| full batch, to convergence (tol=1e-3) | {pf['full_ll']:.6f} | "
            f"{pf['full_seconds']:.1f} | {pf['full_n_iter']} iterations"
            f"{'' if pf['full_converged'] else ' (not converged)'} |",
            f"| partial_fit, one pass | {pf['stream_ll']:.6f} | "
            f"{pf['stream_seconds']:.1f} | {pf['n_batches']} batches |",
            "",
            f"Gap: {pf['full_ll'] - pf['stream_ll']:.4f} nats/row (goal <= 0.02), "
            f"on {BLOCK_ROWS:,} held-out rows (generator block {HELD_OUT_BLOCK}).",
        ]
    lines += ["", "## Goals", ""]
    for label, ratio in ratios.items():
        lines.append(f"- Dask rows/s >= 0.7x in memory ({label}): {ratio:.2f}x, "
                     f"{'met' if ratio >= 0.7 else 'not met'}.")
    for config in CONFIGS:
        peaks = ", ".join(
            f"{p['n_rows'] / 1e6:g}M: "
            f"{_mb(max(v for k, v in p['peaks'][config].items() if k != 'client'))}"
            " MB" for p in scale)
        lines.append(f"- Peak RSS per worker independent of N ({config}): {peaks}.")
    if spark:
        figures["spark_rdd_s_per_iter"] = round(spark["rdd"]["per_iter"], 3)
        figures["spark_ml_s_per_iter"] = round(spark["ml"]["per_iter"], 3)
        for label, seconds, ll in skgen_rows[2:]:
            for api in ("rdd", "ml"):
                speedup = spark[api]["per_iter"] / seconds
                lines.append(
                    f"- >= 20x faster per iteration than Spark MLlib ({api} API), "
                    f"{label}: {speedup:.1f}x, "
                    f"{'met' if speedup >= 20 else 'not met'}; LL {ll:.6f} "
                    f"against Spark's {spark[api]['scored']:.6f}.")
    if pf:
        gap = pf["full_ll"] - pf["stream_ll"]
        figures["partial_fit_gap"] = round(gap, 4)
        lines.append(f"- partial_fit within 0.02 nats/row: {gap:.4f}, "
                     f"{'met' if gap <= 0.02 else 'not met'}.")
    return "\n".join(lines) + "\n", machine, figures


# ------------------------------------------------------------------- main


def main(argv=None):
    parser = argument_parser(__doc__)
    parser.add_argument("--sizes", type=float, nargs="+", default=[2, 10, 50],
                        help="N in millions of rows")
    parser.add_argument("--repeats", type=int, default=2,
                        help="repeats of the first (smallest) N")
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument("--no-partial-fit", action="store_true")
    args = parser.parse_args(argv)
    sizes = [0.05] if args.quick else args.sizes
    sizes = [int(round(s * 1e6)) for s in sizes]
    n_memory = 50_000 if args.quick else 2_000_000
    repeats = 1 if args.quick else args.repeats
    if args.quick:  # Spark starts a JVM, each cluster takes seconds: one only
        args.no_spark = True
        for config in list(CONFIGS)[1:]:
            del CONFIGS[config]

    load_at_start = load_average()
    mixture = p1_mixture()
    log(f"drawing the first {n_memory:,} rows in memory")
    X_memory = in_memory_data(n_memory, mixture)
    X_held_out = draw_block(HELD_OUT_BLOCK, BLOCK_ROWS, mixture)
    init = explicit_init(X_memory)

    # Spark runs beside the first (smallest) N only: the same rows.
    spark = None if args.no_spark else SparkAnchor(X_memory, init)
    scale = []
    try:
        scale.append(dask_phase(sizes[0], mixture, init, X_memory, repeats,
                                persisted=True, spark=spark))
    finally:
        if spark is not None:
            spark.close()
    for n_rows in sizes[1:]:
        scale.append(dask_phase(n_rows, mixture, init, X_memory, 1,
                                persisted=n_rows <= 10_000_000))
        log(f"N={n_rows:,} done")
    if spark is not None:
        summary = scale[0]["spark"]
        for api in ("rdd", "ml"):
            summary[api]["scored"] = mean_log_likelihood(
                X_memory, *summary[api].pop("params"))
        X64 = X_memory.astype(np.float64)
        summary["one_gaussian"] = mean_log_likelihood(
            X_memory, [1.0], X64.mean(axis=0)[None], np.cov(X64.T)[None])
        del X64
        summary["below_epsilon"] = below_epsilon_share(X_memory, init)
    results = {"scale": scale}
    if not args.no_partial_fit:
        results["partial_fit"] = partial_fit_phase(X_memory, X_held_out, init)
    body, machine, figures = report(results, load_at_start, n_memory)
    command = command_line("P8", argv)
    path = write_results("P8", TITLE, body, figures, quick=args.quick,
                         machine=machine, command=command.strip())
    log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
