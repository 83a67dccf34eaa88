"""``python -m skgen demo``: fit the three models on bundled data and report.

Everything here runs on data that ships with scikit-learn or that skgen
generates, so nothing is downloaded. Progress goes to stderr; the pictures and
``report.md`` go to the output folder, a new temporary folder unless ``--out``
names one, so that a run from a checkout leaves nothing in it.
"""

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

__all__ = ["main"]

# The digit left out of training: the anomalies of the demo. Parts of a nine
# look like a 3, 4, 5 or 8, so no detector separates the nines perfectly and
# the detectors can be told apart.
_OUTLIER_DIGIT = 9
_NORMAL_DIGITS = "digits 0-8"


class DemoError(Exception):
    """A problem the user can fix, reported without a traceback."""


def _progress(message):
    print(f"[skgen demo] {message}", file=sys.stderr, flush=True)


def _output_folder(out):
    """The folder to write to: ``out``, or a new temporary one."""
    try:
        if out is None:
            out = Path(tempfile.mkdtemp(prefix="skgen-demo-"))
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise DemoError(
            f"cannot write to the output folder {str(out)!r} ({exc.strerror or exc}). "
            "Pass --out with a folder you can write to."
        ) from exc
    return out


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise DemoError(
            "the demo draws its pictures with matplotlib, which is not installed. "
            "Install it with: pip install matplotlib"
        ) from exc
    return plt


class _Run:
    """What the sections of the demo share: output, options and results."""

    def __init__(self, out, plt, *, quick, random_state):
        self.out = out
        self.plt = plt
        self.quick = quick
        self.random_state = random_state
        self.fits = []  # (model, data, wall seconds, CPU seconds, result)
        self.figures = []  # (title, file name, what it shows)
        self.anomaly_task = None  # the anomaly task in words
        self.aucs = {}  # ROC-AUC of each detector on it

    def fit(self, label, fit):
        """Call ``fit()`` and time it on the wall clock and in CPU time."""
        _progress(f"{label} ...")
        wall, cpu = time.perf_counter(), time.process_time()
        model = fit()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        _progress(f"{label}: {wall:.1f} s")
        return model, wall, cpu

    def save(self, fig, name, title, caption):
        fig.savefig(self.out / name, dpi=110, bbox_inches="tight")
        self.plt.close(fig)
        self.figures.append((title, name, caption))


def _digits(random_state):
    """Dequantised 8x8 digits (uniform noise on the integer pixels), 80/20."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    rng = np.random.default_rng(random_state)
    X = digits.data + rng.uniform(size=digits.data.shape)
    return train_test_split(X, digits.target, test_size=0.2, random_state=random_state)


def _ring_mixture(run):
    """A mixture on a ring of 8 Gaussians: its density and its clusters."""
    from skgen import GaussianMixture
    from skgen.datasets import make_ring

    X, _ = make_ring(4000 if run.quick else 20000, std=0.05,
                     random_state=run.random_state)
    X_test, _ = make_ring(2000, std=0.05, random_state=run.random_state + 1)
    gmm, wall, cpu = run.fit(
        "GaussianMixture(8) on a ring of 8 Gaussians",
        lambda: GaussianMixture(8, random_state=run.random_state).fit(X))
    run.fits.append((
        "GaussianMixture(8)", "ring of 8 Gaussians (std 0.05)", wall, cpu,
        f"held-out log-likelihood {gmm.score(X_test):.2f} nats/point"))

    plt = run.plt
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), layout="constrained")
    grid = np.linspace(-1.4, 1.4, 300)
    gx, gy = np.meshgrid(grid, grid)
    log_density = gmm.score_samples(np.c_[gx.ravel(), gy.ravel()]).reshape(gx.shape)
    # On a log scale the tails between the modes show; below the floor all is
    # one colour, so the floor is a few nats under the peak.
    top = log_density.max()
    image = axes[0].pcolormesh(gx, gy, np.maximum(log_density, top - 12),
                               cmap="viridis", shading="auto")
    fig.colorbar(image, ax=axes[0], label="log-density (nats)")
    axes[0].set_title("GaussianMixture: fitted log-density")
    shown = X[:3000]
    axes[1].scatter(*shown.T, c=gmm.predict(shown), s=3, cmap="tab10")
    axes[1].scatter(*gmm.means_.T, facecolors="none", edgecolors="k", marker="o",
                    s=120, linewidths=1.2, label="component means")
    axes[1].set_title("GaussianMixture: points coloured by cluster")
    axes[1].legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    for ax in axes:
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
        ax.set_aspect("equal")
    run.save(fig, "gmm_ring.png", "Mixture density and clusters on the ring",
             "Left: the fitted log-density; the eight modes and the empty "
             "centre. Right: the cluster of each point, and the component means.")


def _digits_models(run):
    """The mixture and the VAE on digits 0-8: densities, samples, anomalies."""
    import skgen
    from skgen import DensityOutlierDetector, GaussianMixture

    X_train, X_test, y_train, y_test = _digits(run.random_state)
    normal_train = X_train[y_train != _OUTLIER_DIGIT]
    normal_test = X_test[y_test != _OUTLIER_DIGIT]
    # None of the nines was used in training, so all of them are test rows.
    outliers = np.r_[X_train[y_train == _OUTLIER_DIGIT],
                     X_test[y_test == _OUTLIER_DIGIT]]
    data = _NORMAL_DIGITS

    # The detector wraps the density, so one fit gives both.
    detector, wall, cpu = run.fit(
        f"GaussianMixture(40, diag) on {data}",
        lambda: DensityOutlierDetector(GaussianMixture(
            40, covariance_type="diag", random_state=run.random_state),
        ).fit(normal_train))
    gmm = detector.estimator_
    models = {"GaussianMixture(40, diag)": (detector, wall, cpu,
                                            gmm.score(normal_test))}
    vae_params = {"random_state": run.random_state}
    if run.quick:
        vae_params["max_epochs"] = 5
    vae, wall, cpu = run.fit(f"VAE on {data}",
                             lambda: skgen.VAE(**vae_params).fit(normal_train))
    models["VAE"] = (vae, wall, cpu, vae.score(normal_test))

    plt = run.plt
    fig, axes = plt.subplots(4, 8, figsize=(8, 4.6))
    samples = vae.sample(16, random_state=run.random_state)
    for i, ax in enumerate(axes.ravel()):
        image = normal_test[i] if i < 16 else samples[i - 16]
        ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=17)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0, 0].set_ylabel("real", rotation=0, ha="right", va="center")
    axes[2, 0].set_ylabel("VAE", rotation=0, ha="right", va="center")
    fig.suptitle(f"Top two rows: real held-out {data}. Bottom two: VAE samples")
    run.save(fig, "vae_digits.png", "Real digits beside VAE samples",
             f"Sixteen held-out images and sixteen samples of the VAE trained "
             f"on {data} (pixel intensities 0 to 17 after dequantisation).")

    _anomalies(run, models, normal_train, normal_test, outliers, data)


def _anomalies(run, models, normal_train, normal_test, outliers, data):
    """ROC curves of the density detectors and of IsolationForest."""
    from sklearn.ensemble import IsolationForest
    from sklearn.metrics import roc_auc_score, roc_curve

    forest, wall, cpu = run.fit(
        f"IsolationForest (baseline) on {data}",
        lambda: IsolationForest(random_state=run.random_state).fit(normal_train))
    X = np.r_[normal_test, outliers]
    is_outlier = np.r_[np.zeros(len(normal_test)), np.ones(len(outliers))]
    task = (f"{len(outliers)} unseen {_OUTLIER_DIGIT}s among "
            f"{len(normal_test)} held-out {data}")
    curves = {}
    for name, (model, wall_s, cpu_s, loglik) in models.items():
        curves[name] = (-model.score_samples(X), wall_s, "-")
        run.fits.append((name, data, wall_s, cpu_s,
                         f"held-out log-likelihood {loglik:.1f} nats/image"))
    curves["IsolationForest (baseline)"] = (-forest.score_samples(X), wall, "--")
    run.fits.append(("IsolationForest (baseline)", data, wall, cpu, "—"))

    fig, ax = run.plt.subplots(figsize=(7.5, 5), layout="constrained")
    aucs = {}
    for name, (scores, wall_s, style) in curves.items():
        aucs[name] = roc_auc_score(is_outlier, scores)
        fpr, tpr, _ = roc_curve(is_outlier, scores)
        ax.plot(fpr, tpr, style, lw=1.8,
                label=f"{name}: AUC {aucs[name]:.3f}, fit {wall_s:.1f} s")
    ax.plot([0, 1], [0, 1], ":", color="0.5", lw=1, label="chance: AUC 0.5")
    ax.set_xlabel(f"false positive rate (held-out {data} flagged)")
    ax.set_ylabel(f"true positive rate (unseen {_OUTLIER_DIGIT}s flagged)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_aspect("equal")
    ax.set_title(f"Detectors trained on {data}; the {_OUTLIER_DIGIT}s are anomalies")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    run.save(fig, "roc_digits.png", "ROC curves of the detectors",
             f"Each detector was fitted on {data} only and scores "
             f"{len(normal_test)} held-out images of those digits and all "
             f"{len(outliers)} images of {_OUTLIER_DIGIT}; the dashed curve is "
             "the baseline.")
    run.anomaly_task = task
    run.aucs = aucs


def _gan_ring(run):
    """The GAN on P4's ring: every mode covered, samples within 3 std."""
    import skgen
    from skgen.datasets import make_ring
    from skgen.metrics import mode_coverage

    std = 0.01
    X, _, centres = make_ring(20000 if run.quick else 100000, std=std,
                              random_state=run.random_state, return_centers=True)
    max_steps = 300 if run.quick else 6000
    gan, wall, cpu = run.fit(
        f"GAN ({max_steps} steps) on a ring of 8 Gaussians (std {std})",
        lambda: skgen.GAN(max_steps=max_steps, random_state=run.random_state).fit(X))
    samples = gan.sample(2500, random_state=run.random_state)
    coverage = mode_coverage(samples, centres, std=std)
    run.fits.append((f"GAN (max_steps={max_steps})", f"ring of 8 Gaussians (std {std})",
                     wall, cpu, f"{coverage['modes']}/8 modes, "
                     f"{100 * coverage['high_quality']:.1f}% of samples within 3 std"))

    plt = run.plt
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.6), layout="constrained")
    # Modes hollow and underneath, samples on top: both stay visible.
    axes[0].scatter(*centres.T, s=300, facecolors="none", edgecolors="tab:red",
                    linewidths=1.2, label="true modes")
    axes[0].scatter(*samples.T, s=3, color="tab:blue", alpha=0.6, zorder=3,
                    label="GAN samples (2 500)")
    axes[0].set_xlim(-1.25, 1.25)
    axes[0].set_ylim(-1.25, 1.25)
    axes[0].set_title(f"GAN samples: {coverage['modes']}/8 modes covered")
    zoom = centres[0]
    axes[1].add_patch(plt.Circle(zoom, 3 * std, fill=False, color="tab:red", lw=1.2,
                                 label="3 std around the mode (high quality)"))
    axes[1].scatter(*samples.T, s=4, color="tab:blue", alpha=0.6, zorder=3,
                    label="GAN samples")
    axes[1].set_xlim(zoom[0] - 6 * std, zoom[0] + 6 * std)
    axes[1].set_ylim(zoom[1] - 6 * std, zoom[1] + 6 * std)
    axes[1].set_title(f"Zoom on the mode at ({zoom[0]:.0f}, {zoom[1]:.0f}); of all "
                      f"samples,\n{100 * coverage['high_quality']:.1f}% lie within "
                      "3 std of a mode")
    for ax in axes:
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
        ax.set_aspect("equal")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncols=2,
                  frameon=False)
    run.save(fig, "gan_ring.png", "GAN samples over the 8 true modes",
             "Left: samples of the GAN (blue) over the true modes (red). "
             "Right: one mode up close; the red circle, 3 standard deviations "
             "around it, is the high-quality region of protocol P4.")


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _load():
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def _machine(threads, loads, total):
    import sklearn
    import torch

    n_cpus = os.cpu_count()
    usable = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
              else n_cpus)
    start, end = (f"{v:.2f}" if v is not None else "unknown" for v in loads)
    busy = [v for v in loads if v is not None and v > usable]
    return [
        f"- CPU: {_cpu_name()}, {n_cpus} logical CPUs ({usable} usable by this "
        f"process); {platform.system()} {platform.release()}, Python "
        f"{platform.python_version()}",
        f"- torch {torch.__version__} on {threads} thread(s) (set with --threads); "
        f"scikit-learn {sklearn.__version__}, numpy {np.__version__}",
        f"- load average (1 min): {start} at the start, {end} at the end"
        + (" — more runnable processes than CPUs, so wall times are longer "
           "than on an idle machine; CPU times are less affected" if busy else ""),
        f"- whole demo: {total:.0f} s on the wall clock",
    ]


def _report(run, machine):
    baseline = "IsolationForest (baseline)"
    base_wall = next(w for m, _, w, _, _ in run.fits if m == baseline)
    lines = [
        "# skgen demo",
        "",
        "Data: the 8x8 digits bundled with scikit-learn (integer pixels "
        "dequantised with uniform noise, split 80/20) and skgen's ring "
        "generator; nothing is downloaded."
        + (" Quick mode: fewer epochs and steps, smaller data; the figures "
           "are not meaningful." if run.quick else ""),
        "",
        "## Machine",
        "",
        *machine,
        "",
        "## Fits",
        "",
        "Fit times on the wall clock and in CPU time of this process.",
        "",
        "| model | training data | fit s | CPU s | result |",
        "|---|---|---|---|---|",
    ]
    for model, data, wall, cpu, result in run.fits:
        lines.append(f"| {model} | {data} | {wall:.1f} | {cpu:.1f} | {result} |")
    lines += [
        "",
        f"## Anomaly detection: {run.anomaly_task}",
        "",
        f"The baseline is scikit-learn's IsolationForest with default parameters "
        f"on the same rows: AUC {run.aucs[baseline]:.3f}, fit in {base_wall:.1f} s.",
        "",
        "| detector | ROC-AUC | fit s | fit time / baseline's |",
        "|---|---|---|---|",
    ]
    walls = {m: w for m, _, w, _, _ in run.fits}
    for name, auc in run.aucs.items():
        lines.append(f"| {name} | {auc:.3f} | {walls[name]:.1f} | "
                     f"{walls[name] / base_wall:.1f}x |")
    lines += [
        "",
        "The GAN is not among the detectors: its anomaly score is a distance "
        "to generated rows, which needs a generator that covers the 64-pixel "
        "digits, a longer fit than this demo allows. The GAN here trains "
        "for fewer steps than its default (20 000), enough for the ring; the "
        "harder 25-mode grid of protocol P4 needs the default budget (see "
        "benchmarks/README.md).",
    ]
    for title, name, caption in run.figures:
        lines += ["", f"## {title}", "", caption, "", f"![{title}]({name})"]
    return "\n".join(lines) + "\n"


def _table(run):
    """TabularMixture on a table of numbers, integers and a category."""
    import pandas as pd
    from sklearn.datasets import load_diabetes
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    from skgen import TabularMixture
    from skgen.utils._threads import few_threads_for

    table = load_diabetes(scaled=False, as_frame=True).frame
    table = table.astype({"age": "int64", "target": "int64"})
    table["sex"] = pd.Categorical(table["sex"].map({1.0: "one", 2.0: "two"}))
    model, wall, cpu = run.fit(
        "TabularMixture on the diabetes table (442 rows, 11 columns)",
        lambda: TabularMixture(random_state=run.random_state).fit(table))
    synthetic = model.sample(len(table), random_state=run.random_state)
    # The baseline every synthetic-data paper reports: each column drawn
    # from its own marginal, the dependence between columns lost.
    rng = np.random.default_rng(run.random_state)
    shuffled = table.apply(lambda column: column.sample(
        frac=1.0, random_state=rng.integers(2**31)).to_numpy())
    shuffled = shuffled.astype(table.dtypes.to_dict())

    def detection_auc(fake):
        both = pd.concat([table, fake], ignore_index=True)
        label = np.r_[np.zeros(len(table)), np.ones(len(fake))]
        detector = HistGradientBoostingClassifier(
            categorical_features="from_dtype", random_state=run.random_state)
        folds = StratifiedKFold(5, shuffle=True, random_state=run.random_state)
        # On a small table the classifier's OpenMP threads only wait for each
        # other, and for a core, when another process is busy.
        with few_threads_for(both.size):
            return cross_val_score(detector, both, label, cv=folds,
                                   scoring="roc_auc").mean()

    _progress("real against synthetic rows: a classifier, 5 folds, twice ...")
    start = time.perf_counter()
    auc, auc_marginals = detection_auc(synthetic), detection_auc(shuffled)
    _progress(f"real against synthetic rows: {time.perf_counter() - start:.1f} s")
    run.fits.append((
        "TabularMixture (defaults)", "diabetes table, in its units", wall, cpu,
        f"{model.n_components_} components; a classifier tells real from "
        f"synthetic rows at ROC AUC {auc:.2f} (independent marginals: "
        f"{auc_marginals:.2f}; 0.5 is indistinguishable)"))

    plt = run.plt
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), layout="constrained")
    edges = np.histogram_bin_edges(table["bmi"], bins=20)
    axes[0].hist(table["bmi"], bins=edges, density=True, alpha=0.5, label="real")
    axes[0].hist(synthetic["bmi"], bins=edges, density=True, histtype="step",
                 linewidth=2, label="TabularMixture")
    axes[0].set(xlabel="body mass index", ylabel="density",
                title="a number: body mass index")
    axes[0].legend()
    shares = pd.DataFrame({
        "real": table["sex"].value_counts(normalize=True),
        "TabularMixture": synthetic["sex"].value_counts(normalize=True),
    })
    shares.plot.bar(ax=axes[1], rot=0, title="a category: sex",
                    ylabel="share of rows")
    for frame, label, colour in [(table, "real", "tab:blue"),
                                 (synthetic, "TabularMixture", "tab:orange"),
                                 (shuffled, "independent marginals", "tab:grey")]:
        axes[2].scatter(frame["bmi"], frame["target"], s=6, alpha=0.5,
                        color=colour, label=label)
    axes[2].set(xlabel="body mass index", ylabel="disease progression (integer)",
                title=f"a pair: detection AUC {auc:.2f} against {auc_marginals:.2f}")
    axes[2].legend(markerscale=3, loc="upper left", framealpha=0.9)
    run.save(fig, "tabular_diabetes.png", "Synthetic rows of a mixed-type table",
             "TabularMixture fitted on scikit-learn's diabetes table as a DataFrame "
             "(integers, a category, rounded measurements) and sampled back in its "
             "columns and dtypes. Left and middle: a column and the category; "
             "right: a pair of columns, with rows whose columns were drawn "
             "independently for comparison.")


def run_demo(out=None, *, quick=False, random_state=0, threads=1):
    """Run the demo and return the path of its report."""
    plt = _pyplot()
    import torch

    out = _output_folder(out)
    _progress(f"writing to {out}")
    run = _Run(out, plt, quick=quick, random_state=random_state)
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    start, load_start = time.perf_counter(), _load()
    try:
        _ring_mixture(run)
        _digits_models(run)
        _gan_ring(run)
        _table(run)
    finally:
        torch.set_num_threads(previous_threads)
    total = time.perf_counter() - start
    _progress("writing the report ...")
    machine = _machine(threads, (load_start, _load()), total)
    report = out / "report.md"
    report.write_text(_report(run, machine))
    _progress(f"done in {total:.0f} s; report and pictures in {out}")
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m skgen",
        description="skgen: generative models that are scikit-learn estimators.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="fit the GaussianMixture, the VAE, the GAN and the "
        "TabularMixture on bundled data and write pictures and report.md")
    demo.add_argument("--out", help="output folder (default: a new temporary "
                      "folder, whose path is printed at the end)")
    demo.add_argument("--quick", action="store_true",
                      help="a smoke run: fewer epochs and smaller data")
    demo.add_argument("--random-state", type=int, default=0)
    demo.add_argument("--threads", type=int, default=1,
                      help="torch threads for the fits (default: 1; the small "
                      "networks of the demo train fastest on one)")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error(f"--threads must be at least 1, got {args.threads}")
    try:
        run_demo(args.out, quick=args.quick, random_state=args.random_state,
                 threads=args.threads)
    except DemoError as exc:
        print(f"skgen demo: error: {exc}", file=sys.stderr)
        return 2
    return 0
