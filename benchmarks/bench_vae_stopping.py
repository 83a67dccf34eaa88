"""How the VAE's early-stopping rule trades epochs for scores (issue #16).

Two steps:

* ``record``: fits the default ``skgen.VAE`` (``random_state=seed``) on P3's
  split of some ODDS sets (``StandardScaler`` in front) or on P2's digits,
  keeps the module's weights after every epoch, and afterwards scores the
  test split with the weights of every ``--every``-th epoch: the test ROC-AUC
  (P3) or held-out nats per image (P2) that training would have kept had it
  stopped there. Writes the validation-loss curve and these scores as JSON.
* ``table``: replays skorch's ``EarlyStopping`` (patience, absolute
  threshold; the best epoch's weights kept) on the recorded validation
  curves for several rules and writes, per rule, the epochs it runs and the
  score of the epoch it keeps, beside the rule the fit actually ran.

A replay is exact for the epochs (the rule sees the same curve) and reads the
score at the nearest recorded epoch. 1 torch thread, 1 BLAS thread.

Usage::

    python benchmarks/bench_vae_stopping.py record --seed 0 --sets wbc --out c0.json
    python benchmarks/bench_vae_stopping.py record --seed 0 --p2 --out p2_0.json
    python benchmarks/bench_vae_stopping.py table c0.json c1.json --out results/x.md
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from skorch.callbacks import Callback  # noqa: E402

ODDS = Path(__file__).resolve().parents[2] / "shared" / "data" / "odds"
# (label, patience, threshold as a function of the number of features d)
RULES = [
    ("patience 20, 1e-3 (the rule the fits ran)", 20, lambda d: 1e-3),
    ("patience 15, 1e-3", 15, lambda d: 1e-3),
    ("patience 10, 1e-3", 10, lambda d: 1e-3),
    ("patience 20, 0.01 d", 20, lambda d: 0.01 * d),
    ("patience 20, 0.02 d", 20, lambda d: 0.02 * d),
    ("patience 20, 0.05 d", 20, lambda d: 0.05 * d),
    ("patience 15, 0.02 d", 15, lambda d: 0.02 * d),
    ("patience 20, 0.1 sqrt(d)", 20, lambda d: 0.1 * np.sqrt(d)),
    ("patience 20, 0.2 sqrt(d)", 20, lambda d: 0.2 * np.sqrt(d)),
]


class _KeepWeights(Callback):
    """The module's weights after every epoch."""

    def initialize(self):
        self.states = []
        return self

    def on_epoch_end(self, net, **kwargs):
        self.states.append({key: value.detach().clone()
                            for key, value in net.module_.state_dict().items()})


def _p3_split(name, seed):
    from bench_anomaly import p3_split
    from sklearn.preprocessing import StandardScaler

    X_tr, X_te, _, y_te = p3_split(ODDS / f"{name}.npz", seed)
    scaler = StandardScaler().fit(X_tr)
    return scaler.transform(X_tr), scaler.transform(X_te), y_te


def record(name, seed, every):
    """The curves of one default fit: validation loss and test score per epoch."""
    from sklearn.metrics import roc_auc_score

    from skgen import VAE

    if name == "p2":
        from bench_vae import p2_data

        X_tr, X_te = p2_data(seed)

        def score(vae):
            return float(np.mean(vae.score_samples(X_te)))
    else:
        X_tr, X_te, y_te = _p3_split(name, seed)

        def score(vae):
            return roc_auc_score(y_te, -vae.score_samples(X_te))

    keep = _KeepWeights()
    start = time.perf_counter()
    vae = VAE(random_state=seed, callbacks=[("keep", keep)]).fit(X_tr)
    fit_s = time.perf_counter() - start
    final = score(vae)
    valid = [row["valid_loss"] for row in vae.net_.history]
    scores = []
    for epoch, state in enumerate(keep.states):
        if epoch % every and epoch != len(keep.states) - 1:
            scores.append(None)
            continue
        vae.net_.module_.load_state_dict(state)
        scores.append(score(vae))
    return dict(name=name, seed=seed, n=len(X_tr), d=X_tr.shape[1], fit_s=fit_s,
                final_auc=final, valid=valid, auc=scores)


def replay(valid, patience, threshold):
    """``(epochs run, best epoch)`` of skorch's EarlyStopping on a curve."""
    best, best_epoch = np.inf, 0
    for epoch, value in enumerate(valid):
        if value < best - threshold:
            best, best_epoch = value, epoch
        if epoch - best_epoch >= patience:
            return epoch + 1, best_epoch
    return len(valid), best_epoch


def _score_at(run, epoch):
    scores = run["auc"]
    for gap in range(len(scores)):
        for j in (epoch - gap, epoch + gap):
            if 0 <= j < len(scores) and scores[j] is not None:
                return scores[j]
    raise ValueError("no recorded score")


def table(runs):
    groups = {}
    for run in runs:
        groups.setdefault("P2 (nats/image)" if run["name"] == "p2"
                          else "P3 (test ROC-AUC)", []).append(run)
    lines = []
    for label, group in groups.items():
        names = ", ".join(f"{r['name']} s{r['seed']}" for r in group)
        lines += [f"### {label}: {names}", "",
                  "| rule | mean score | minus the fits' rule | epochs (sum) | "
                  "epochs per fit |", "|---|---|---|---|---|"]
        base = None
        for rule, patience, threshold in RULES:
            kept = [replay(r["valid"], patience, threshold(r["d"])) for r in group]
            mean = float(np.mean([_score_at(r, best) for r, (_, best)
                                  in zip(group, kept, strict=True)]))
            base = mean if base is None else base
            lines.append(f"| {rule} | {mean:.4f} | {mean - base:+.4f} | "
                         f"{sum(e for e, _ in kept)} | "
                         + " ".join(str(e) for e, _ in kept) + " |")
        lines.append("")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="step", required=True)
    rec = sub.add_parser("record")
    rec.add_argument("--seed", type=int, required=True)
    rec.add_argument("--sets", nargs="*", default=[])
    rec.add_argument("--p2", action="store_true")
    rec.add_argument("--every", type=int, default=2)
    rec.add_argument("--out", type=Path, required=True)
    tab = sub.add_parser("table")
    tab.add_argument("runs", nargs="+", type=Path)
    tab.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.step == "table":
        text = table([run for path in args.runs
                      for run in json.loads(path.read_text())])
        print(text)
        if args.out:
            args.out.write_text(text)
        return
    torch.set_num_threads(1)
    runs = []
    for name in (["p2"] if args.p2 else []) + list(args.sets):
        runs.append(record(name, args.seed, args.every))
        run = runs[-1]
        print(f"{name} seed {args.seed}: n={run['n']} d={run['d']} fit "
              f"{run['fit_s']:.1f} s, {len(run['valid'])} epochs, score "
              f"{run['final_auc']:.3f}", flush=True)
        args.out.write_text(json.dumps(runs))


if __name__ == "__main__":
    main()
