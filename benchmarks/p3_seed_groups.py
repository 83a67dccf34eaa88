"""P3 means per seed group from the per-seed lines of a ``bench_anomaly.py`` log.

``bench_anomaly.py`` averages its cells over every seed it ran. A run over
seeds 0-5 at once prints one line per (data set, seed), ``name seed s: DET
auc, DET auc``; this script reads those lines and writes, for the tuning
seeds (0-2) and the held-out seeds (3-5) apart, each detector's mean AUC and
its mean paired difference to IsolationForest with a 95% percentile
bootstrap interval over data sets (10 000 resamples, as ``bench_anomaly.py``
computes it), followed by every per-seed cell.

Usage::

    python benchmarks/bench_anomaly.py --seeds 0 1 2 3 4 5 ... > run.log
    python benchmarks/p3_seed_groups.py run.log --out results/TABLE.md
"""

import argparse
import re
from collections import defaultdict
from pathlib import Path

import numpy as np

LINE = re.compile(r"^(?P<name>[\w-]+) seed (?P<seed>\d+): (?P<cells>.+)$")
GROUPS = {"tuning seeds 0-2": (0, 1, 2), "held-out seeds 3-5": (3, 4, 5)}


def read(log):
    cells = defaultdict(dict)  # (name, seed) -> {detector: auc}
    for line in Path(log).read_text().splitlines():
        match = LINE.match(line.strip())
        if not match:
            continue
        for part in match["cells"].split(", "):
            detector, auc = part.rsplit(" ", 1)
            cells[(match["name"], int(match["seed"]))][detector] = float(auc)
    return cells


def bootstrap(differences, rng):
    draws = rng.integers(0, len(differences), size=(10_000, len(differences)))
    means = differences[draws].mean(axis=1)
    return np.percentile(means, [2.5, 97.5])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    cells = read(args.log)
    names = sorted({name for name, _ in cells})
    detectors = sorted({d for row in cells.values() for d in row})
    lines = ["# P3 by seed group", "", __doc__.split("\n\n")[1].replace("\n", " "),
             "", f"Log: `{args.log.name}`.", ""]
    rng = np.random.default_rng(0)
    lines += ["| detector | seeds | mean AUC | minus IForest [95% interval] |",
              "|---|---|---|---|"]
    for group, seeds in GROUPS.items():
        per_set = {d: np.array([np.mean([cells[(n, s)][d] for s in seeds])
                                for n in names]) for d in detectors}
        for d in detectors:
            row = f"| {d} | {group} | {per_set[d].mean():.3f} |"
            if d != "IForest":
                diff = per_set[d] - per_set["IForest"]
                low, high = bootstrap(diff, rng)
                row += f" {diff.mean():+.3f} [{low:+.3f}, {high:+.3f}] |"
            else:
                row += " |"
            lines.append(row)
    lines += ["", "| data set | seed | " + " | ".join(detectors) + " |",
              "|---|---|" + "---|" * len(detectors)]
    for name in names:
        for seed in sorted(s for n, s in cells if n == name):
            row = cells[(name, seed)]
            lines.append(f"| {name} | {seed} | "
                         + " | ".join(f"{row[d]:.3f}" for d in detectors) + " |")
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines[:14]))


if __name__ == "__main__":
    main()
