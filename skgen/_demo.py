"""``python -m skgen demo``: fit the three models on bundled data and report.

Everything here runs on data that ships with scikit-learn or that skgen
generates, so nothing is downloaded. Progress goes to stderr; the pictures and
``report.md`` go to the output folder, a new temporary folder unless ``--out``
names one, so that a run from a checkout leaves nothing in it.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

__all__ = ["main"]


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


def _timed(fit):
    start = time.perf_counter()
    model = fit()
    return model, time.perf_counter() - start


def _digits(random_state):
    """P2's data: dequantised 8x8 digits, split 80/20."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    rng = np.random.default_rng(random_state)
    X = digits.data + rng.uniform(size=digits.data.shape)
    return train_test_split(X, digits.target, test_size=0.2, random_state=random_state)


def run_demo(out=None, *, quick=False, random_state=0):
    """Run the demo and return the path of its report."""
    plt = _pyplot()
    from sklearn.metrics import roc_auc_score, roc_curve
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import skgen
    from skgen import DensityOutlierDetector, GaussianMixture
    from skgen.datasets import make_grid, make_ring
    from skgen.metrics import mode_coverage

    out = _output_folder(out)
    _progress(f"writing to {out}")
    rows = []  # (model, task, fit seconds, held-out log-likelihood, AUC)
    figures = []

    # 1. A mixture on a 2-D ring: clusters and density.
    X_ring, _, ring_centres = make_ring(
        4000 if quick else 20000, std=0.05, random_state=random_state,
        return_centers=True)
    _progress("GaussianMixture on a ring of 8 Gaussians")
    gmm_ring, seconds = _timed(
        lambda: GaussianMixture(8, random_state=random_state).fit(X_ring))
    X_ring_test, _ = make_ring(2000, std=0.05, random_state=random_state + 1)
    rows.append(("GaussianMixture(8)", "ring: density", seconds,
                 gmm_ring.score(X_ring_test), None))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
    grid = np.linspace(-1.4, 1.4, 200)
    gx, gy = np.meshgrid(grid, grid)
    density = gmm_ring.score_samples(np.c_[gx.ravel(), gy.ravel()]).reshape(gx.shape)
    axes[0].contourf(gx, gy, np.exp(density), levels=30, cmap="viridis")
    axes[0].set_title("GaussianMixture density")
    labels = gmm_ring.predict(X_ring[:3000])
    axes[1].scatter(*X_ring[:3000].T, c=labels, s=3, cmap="tab10")
    axes[1].scatter(*gmm_ring.means_.T, c="k", marker="x", s=60, label="means")
    axes[1].set_title("GaussianMixture clusters")
    axes[1].legend(loc="upper right")
    for ax in axes:
        ax.set_aspect("equal")
    figures.append(("Mixture clusters and density on the ring", "gmm_ring.png"))
    fig.savefig(out / "gmm_ring.png", dpi=100, bbox_inches="tight")
    plt.close(fig)

    # 2. Digits: the mixture and the VAE as densities, and VAE samples.
    X_train, X_test, y_train, y_test = _digits(random_state)
    _progress("GaussianMixture on the 8x8 digits")
    gmm_digits, seconds = _timed(lambda: GaussianMixture(
        40, covariance_type="diag", random_state=random_state).fit(X_train))
    rows.append(("GaussianMixture(40, diag)", "digits: density", seconds,
                 gmm_digits.score(X_test), None))
    _progress("VAE on the 8x8 digits")
    vae_params = dict(random_state=random_state)
    if quick:
        vae_params["max_epochs"] = 5
    vae, seconds = _timed(lambda: skgen.VAE(**vae_params).fit(X_train))
    rows.append(("VAE", "digits: density", seconds, vae.score(X_test), None))
    fig, axes = plt.subplots(4, 8, figsize=(8, 4.4))
    samples = np.clip(vae.sample(16, random_state=random_state), 0, 17)
    for i, ax in enumerate(axes.ravel()):
        image = X_test[i] if i < 16 else samples[i - 16]
        ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=17)
        ax.set_axis_off()
    fig.suptitle("Top two rows: real held-out digits. Bottom two: VAE samples")
    figures.append(("Real digits beside VAE samples", "vae_digits.png"))
    fig.savefig(out / "vae_digits.png", dpi=100, bbox_inches="tight")
    plt.close(fig)

    # 3. The GAN on the P4 grid: samples over the true modes.
    X_grid, _, grid_centres = make_grid(
        20000 if quick else 100000, random_state=random_state, return_centers=True)
    _progress("GAN on the grid of 25 Gaussians")
    gan_params = dict(random_state=random_state)
    if quick:
        gan_params["max_epochs"] = 2
    gan, seconds = _timed(lambda: skgen.GAN(**gan_params).fit(X_grid))
    gan_samples = gan.sample(2500, random_state=random_state)
    coverage = mode_coverage(gan_samples, grid_centres, std=0.05)
    rows.append(("GAN", f"grid: {coverage['modes']}/25 modes, "
                 f"{100 * coverage['high_quality']:.1f}% high quality",
                 seconds, None, None))
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(*gan_samples.T, s=2, alpha=0.5, label="GAN samples")
    ax.scatter(*grid_centres.T, c="r", marker="x", s=40, label="true modes")
    ax.set_aspect("equal")
    ax.legend(loc="upper right")
    ax.set_title(f"GAN: {coverage['modes']}/25 modes captured")
    figures.append(("GAN samples over the 25 true modes", "gan_grid.png"))
    fig.savefig(out / "gan_grid.png", dpi=100, bbox_inches="tight")
    plt.close(fig)

    # 4. Anomalies: digits with a third of their pixels shuffled, hidden among
    # real ones. They keep the intensities of a digit and lose part of its
    # strokes.
    rng = np.random.default_rng(random_state)

    def shuffled(images):
        images = images.copy()
        for image in images:
            where = rng.choice(64, size=21, replace=False)
            image[where] = image[rng.permutation(where)]
        return images

    A_train = np.r_[X_train, shuffled(X_train[: len(X_train) // 20])]
    A_test = np.r_[X_test, shuffled(X_test[: len(X_test) // 10])]
    is_anomaly = np.r_[np.zeros(len(X_test)), np.ones(len(X_test) // 10)]
    detectors = {"GaussianMixture": DensityOutlierDetector(), "VAE": skgen.VAE(**vae_params)}
    # The GAN detector trains for 3 000 of its default 20 000 steps, to keep
    # the demo near two minutes: these anomalies need no sharp samples.
    detectors["GAN"] = skgen.GAN(**{"max_steps": 3000, **gan_params})
    fig, ax = plt.subplots(figsize=(5, 5))
    for name, detector in detectors.items():
        _progress(f"{name} as an anomaly detector (shuffled digits)")
        model, seconds = _timed(
            lambda: make_pipeline(StandardScaler(), detector).fit(A_train))
        scores = -model.score_samples(A_test)
        auc = roc_auc_score(is_anomaly, scores)
        rows.append((name, "digits: partly shuffled digits as anomalies", seconds, None, auc))
        fpr, tpr, _ = roc_curve(is_anomaly, scores)
        ax.plot(fpr, tpr, label=f"{name} (AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], "k:", lw=1)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("Digits with a third of their pixels shuffled")
    ax.legend(loc="lower right")
    figures.append(("ROC curves of the detectors", "roc_digits.png"))
    fig.savefig(out / "roc_digits.png", dpi=100, bbox_inches="tight")
    plt.close(fig)

    report = out / "report.md"
    report.write_text(_report(rows, figures, quick))
    _progress(f"done; report and pictures in {out}")
    return report


def _report(rows, figures, quick):
    fmt = lambda v, spec: "" if v is None else format(v, spec)
    lines = [
        "# skgen demo",
        "",
        "Models fitted on data bundled with scikit-learn (the 8x8 digits, "
        "dequantised and split 80/20) and on skgen's ring and grid generators."
        + " The GAN on the grid has its default budget of 20 000 steps; the GAN "
        "detector of the digits, 3 000."
        + (" Quick mode: fewer epochs, smaller data." if quick else ""),
        "",
        "| model | task | fit s | held-out log-likelihood (nats) | ROC-AUC |",
        "|---|---|---|---|---|",
    ]
    for model, task, seconds, loglik, auc in rows:
        lines.append(f"| {model} | {task} | {seconds:.1f} | {fmt(loglik, '.2f')} | "
                     f"{fmt(auc, '.3f')} |")
    for title, path in figures:
        lines += ["", f"## {title}", "", f"![{title}]({path})"]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m skgen",
        description="skgen: generative models that are scikit-learn estimators.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="fit the GaussianMixture, the VAE and the GAN on bundled data "
        "and write pictures and report.md")
    demo.add_argument("--out", help="output folder (default: a new temporary "
                      "folder, whose path is printed at the end)")
    demo.add_argument("--quick", action="store_true",
                      help="a smoke run: fewer epochs and smaller data")
    demo.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        run_demo(args.out, quick=args.quick, random_state=args.random_state)
    except DemoError as exc:
        print(f"skgen demo: error: {exc}", file=sys.stderr)
        return 2
    return 0
