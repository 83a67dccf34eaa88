"""P4: mode coverage of the GAN on the ring and the grid, seed by seed (#25).

Follows P4 of ``PROTOCOLS.md`` (in the shared folder beside the checkout):

* ring: 8 Gaussians at (cos 2 pi i / 8, sin 2 pi i / 8), std 0.01; grid: 25
  Gaussians at {-4, -2, 0, 2, 4}^2, std 0.05 (``skgen.datasets``); 100 000
  training points, equal weights, drawn with ``random_state=seed``;
* ``skgen.GAN(random_state=seed)``, defaults otherwise, draws 2 500 samples
  (``random_state=seed``); the same fitted GAN is also sampled without its
  Jacobian truncation ("untruncated", as P4 asks);
* a sample is high quality (HQ) within 3 std of its nearest centre; a mode is
  captured when an HQ sample has it as nearest centre; reverse KL is
  KL(p || uniform) over the nearest-centre shares of all samples
  (``skgen.metrics.mode_coverage``);
* every seed's modes, HQ, reverse KL, fit seconds, steps and stopping reason,
  seeds 0-10 and 12 (tuning) and 13-19 (held out) in separate groups, the worst
  seed of each group;
* one torch thread and one BLAS thread (the fit's own policy would pick one
  for this network anyway); each fit runs in a fresh process, ``--jobs`` at a
  time (more than one inflates the seconds on a small machine: the table
  says how many ran at once, with the load average).

How the stopping rule was chosen: ``--record DIR`` trains one long fit per
tuning seed (``GAN(random_state=seed, max_steps=18000,
n_iter_no_change=10**6)``: the rule never stops it) and saves, at every
check, the candidate criteria (held-out precision and recall at k = 3, 5, 10,
with and without the truncation; the symmetric nearest-neighbour distance;
the critic's accuracy on held-out packs) beside the true P4 figures of the
sampler ``sample`` uses (HQ and modes of 2 500 truncated draws, the
threshold from 8 192 draws); ``--replay DIR`` replays candidate rules on
those trajectories offline and writes ``benchmarks/results/P4_rules.md``.

Usage::

    python -m benchmarks.protocols.p4                 # 40 fits
    python -m benchmarks.protocols.p4 --quick         # a minute
    python -m benchmarks.protocols.p4 --datasets grid --seeds 10 11
    python -m benchmarks.protocols.p4 --record trajectories --seeds 0 1
    python -m benchmarks.protocols.p4 --replay trajectories
"""

import argparse
import json
import math
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
TITLE = "P4: mode coverage of the GAN on the ring and the grid, 20 seeds"
# Held-out seeds whose fits chose a change of the rule (10: the 75-pass
# wait; 12: new bests gain) are tuning seeds from then on, as PROTOCOLS.md
# says; 11 ran under the rule before the second change.
TUNING = (*range(10), 10, 12)
HELD_OUT = tuple(range(13, 20))
N_TRAIN = 100_000
N_SAMPLES = 2500
# Share of a 2-D Gaussian's draws within 3 std of its centre.
TRUE_HQ = 1.0 - math.exp(-4.5)
GOALS = {"grid": (25, 0.95), "ring": (8, 0.98)}
ANCHORS = {
    "grid": "PacGAN4 24.8 modes, 93.6% HQ; VEEGAN 24.6, 40%; plain GAN 17.3, 94.8%",
    "ring": "PacGAN2 7.9 modes, 95.6% HQ; VEEGAN 8, 52.9%; plain GAN 6.3, 98.2%",
}
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def one_fit(data, seed, n_train, params):
    """Fit and sample one GAN in this process; the P4 figures as a dict."""
    import copy

    import torch
    from threadpoolctl import threadpool_limits

    from skgen import GAN
    from skgen.datasets import make_grid, make_ring
    from skgen.metrics import mode_coverage

    torch.set_num_threads(1)
    make, std = {"grid": (make_grid, 0.05), "ring": (make_ring, 0.01)}[data]
    X, _, centers = make(n_train, random_state=seed, return_centers=True)
    with threadpool_limits(1):
        gan = GAN(random_state=seed, **params)
        start = time.perf_counter()
        gan.fit(X)
        seconds = time.perf_counter() - start
        out = mode_coverage(gan.sample(N_SAMPLES, random_state=seed), centers, std)
        flat = copy.deepcopy(gan)
        flat.jacobian_truncation_, flat.jacobian_threshold_ = 0.0, math.inf
        plain = mode_coverage(flat.sample(N_SAMPLES, random_state=seed), centers,
                              std)
    return {"data": data, "seed": seed, "modes": int(out["modes"]),
            "hq": float(out["high_quality"]), "reverse_kl": float(out["reverse_kl"]),
            "modes_untruncated": int(plain["modes"]),
            "hq_untruncated": float(plain["high_quality"]), "seconds": seconds,
            "steps": int(gan.n_steps_), "best_step": int(gan.best_step_),
            "stop_reason": gan.stop_reason_}


def run_in_process(data, seed, n_train, params):
    """One fit in a fresh process (its own threads and memory)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT),
               **{name: "1" for name in THREAD_VARIABLES})
    job = json.dumps([data, seed, n_train, params])
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.protocols.p4", "--worker", job],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"{data} seed {seed}: {result}", file=sys.stderr, flush=True)
    return result


def commit():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def group_of(seed):
    if seed in TUNING:
        return "tuning"
    return "held out" if seed in HELD_OUT else "other"


def meets(row):
    modes, hq = GOALS[row["data"]]
    return row["modes"] >= modes and row["hq"] >= hq


def worst(rows):
    """The seed with the fewest modes, then the lowest HQ."""
    return min(rows, key=lambda r: (r["modes"], r["hq"]))


def tables(results, n_modes):
    lines = ["| data | seed | group | modes | HQ % | untruncated modes | "
             "untruncated HQ % | reverse KL | fit s | steps | kept step | stop |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(results, key=lambda r: (r["data"], r["seed"])):
        mark = "" if meets(r) else " **(goal missed)**"
        lines.append(
            f"| {r['data']} | {r['seed']} | {group_of(r['seed'])} | "
            f"{r['modes']}/{n_modes[r['data']]} | {100 * r['hq']:.1f}{mark} | "
            f"{r['modes_untruncated']} | {100 * r['hq_untruncated']:.1f} | "
            f"{r['reverse_kl']:.3f} | {r['seconds']:.1f} | {r['steps']} | "
            f"{r['best_step']} | {r['stop_reason']} |")
    return lines


def summary(results, n_modes):
    lines = ["| data | seeds | fits meeting the goal | worst seed (modes, HQ %) | "
             "min HQ % | median HQ % | median fit s | slowest fit s | "
             "median untruncated HQ % |",
             "|---|---|---|---|---|---|---|---|---|"]
    figures = {}
    for data in sorted({r["data"] for r in results}):
        for group in ("tuning", "held out", "all"):
            rows = [r for r in results if r["data"] == data
                    and (group == "all" or group_of(r["seed"]) == group)]
            if not rows:
                continue
            bad = worst(rows)
            hqs = [100 * r["hq"] for r in rows]
            seconds = [r["seconds"] for r in rows]
            seeds = f"{min(r['seed'] for r in rows)}-{max(r['seed'] for r in rows)}"
            lines.append(
                f"| {data} | {seeds} {group} | {sum(map(meets, rows))}/{len(rows)} | "
                f"seed {bad['seed']} ({bad['modes']}/{n_modes[data]}, "
                f"{100 * bad['hq']:.1f}) | {min(hqs):.1f} | "
                f"{statistics.median(hqs):.1f} | {statistics.median(seconds):.1f} | "
                f"{max(seconds):.1f} | "
                f"{statistics.median(100 * r['hq_untruncated'] for r in rows):.1f} |")
            key = f"{data} {group}".replace(" ", "_")
            figures.update({
                f"{key} meeting goal": f"{sum(map(meets, rows))}/{len(rows)}",
                f"{key} min modes": min(r["modes"] for r in rows),
                f"{key} min HQ %": round(min(hqs), 1),
                f"{key} median HQ %": round(statistics.median(hqs), 1),
                f"{key} median fit s": round(statistics.median(seconds), 1),
                f"{key} slowest fit s": round(max(seconds), 1),
            })
    return lines, figures


# ------------------------------------------------- choosing the rule offline

RECORD_STEPS = 18_000


def _radii(points, k):
    import torch

    return torch.cdist(points, points).kthvalue(k + 1, dim=1).values


def record_one(data, seed, folder):
    """One long fit of ``data`` at ``seed``; its checks saved as JSON."""
    import torch
    from skorch.callbacks import Callback
    from threadpoolctl import threadpool_limits

    from skgen import GAN
    from skgen.datasets import make_grid, make_ring
    from skgen.metrics import mode_coverage
    from skgen.neural._gan.truncation import _jacobian_norms, _steepness_net

    class Recorder(Callback):
        def on_train_begin(self, net, **kwargs):
            self.rows, self.last, self.evaluating = [], -1, 0.0
            self.start = time.perf_counter()
            self.rule = dict(net.callbacks_)["early_stopping"]

        def on_batch_end(self, net, training=False, **kwargs):
            step = net.generator_steps_
            if step % 250 or step == self.last:
                return
            self.last, tic = step, time.perf_counter()
            module, row = net.averaged_generator(), {"step": step}
            valid, latent = self.rule.valid_, self.rule.latent_
            with torch.no_grad():
                gen = module(latent)
                d = torch.cdist(gen, valid)
                row["d_gv"] = d.min(1).values.mean().item()
                row["d_vg"] = d.min(0).values.mean().item()
                norms = _jacobian_norms(_steepness_net(module), latent)
                keep = norms <= torch.quantile(norms, 0.85)
                for k in (3, 5, 10):
                    inside = d <= _radii(valid, k)[None, :]
                    row[f"prec{k}"] = inside.any(1).float().mean().item()
                    row[f"prec{k}_t"] = inside[keep].any(1).float().mean().item()
                    covered = d <= _radii(gen, k)[:, None]
                    row[f"rec{k}"] = covered.any(0).float().mean().item()
                    covered = d[keep] <= _radii(gen[keep], k)[:, None]
                    row[f"rec{k}_t"] = covered.any(0).float().mean().item()
                pac, width = net.pac, valid.shape[1]
                n = (len(valid) // pac) * pac
                real = net.critic_(valid[:n].reshape(-1, pac * width))
                fake = net.critic_(gen[:n].reshape(-1, pac * width))
                row["critic_acc"] = 0.5 * ((real > 0).float().mean()
                                           + (fake < 0).float().mean()).item()
                # The truth: the sampler that sample() uses.
                draws = torch.Generator().manual_seed(10_000 + seed)
                z = torch.randn(8192, module.latent_dim, generator=draws)
                net_ = _steepness_net(module)
                threshold = torch.quantile(_jacobian_norms(net_, z), 0.85)
                z = torch.randn(3200, module.latent_dim, generator=draws)
                z = z[_jacobian_norms(net_, z) <= threshold][:N_SAMPLES]
                kept = module.to_data(module(z)).numpy()
                z = torch.randn(N_SAMPLES, module.latent_dim, generator=draws)
                every = module.to_data(module(z)).numpy()
            truth = mode_coverage(kept, centers, std)
            plain = mode_coverage(every, centers, std)
            row.update(hq=float(truth["high_quality"]), modes=int(truth["modes"]),
                       hq_u=float(plain["high_quality"]),
                       modes_u=int(plain["modes"]))
            self.evaluating += time.perf_counter() - tic
            row["train_s"] = time.perf_counter() - self.start - self.evaluating
            self.rows.append(row)

    torch.set_num_threads(1)
    make, std = {"grid": (make_grid, 0.05), "ring": (make_ring, 0.01)}[data]
    X, _, centers = make(N_TRAIN, random_state=seed, return_centers=True)
    recorder = Recorder()
    with threadpool_limits(1):
        GAN(random_state=seed, max_steps=RECORD_STEPS, n_iter_no_change=10**6,
            callbacks=[recorder]).fit(X)
    path = Path(folder) / f"{data}{seed}.json"
    path.write_text(json.dumps({"data": data, "seed": seed, "rows": recorder.rows}))
    return str(path)


def replay_rule(rows, score, tol, patience=5, warm_up=8800, distance_tol=None,
                best_tol=None):
    """``(stop, kept)`` check indices of a rule replayed on one trajectory.

    A check gains when ``score`` rises ``tol`` above the last gain's (or,
    with ``distance_tol``, the symmetric distance falls that share below the
    last gain's, or with ``best_tol`` the score beats the best by that much);
    misses count after the wait; training stops after
    ``patience`` misses in a row; the kept check is the best by ``score``.
    """
    gain, gain_distance = -math.inf, math.inf
    best, kept, misses = -math.inf, 0, 0
    for i, row in enumerate(rows):
        value, distance = score(row), row["d_gv"] + row["d_vg"]
        gained = value > gain + tol
        gain = value if gained else gain
        if distance_tol is not None and distance < gain_distance * (1 - distance_tol):
            gain_distance, gained = distance, True
        if best_tol is not None and value > best + best_tol:
            gained = True
        if gained:
            misses = 0
        elif row["step"] > warm_up:
            misses += 1
        if value > best:
            best, kept = value, i
        if misses >= patience and row["step"] >= warm_up:
            return i, kept
    return len(rows) - 1, kept


def _former_rule(rows, warm_up=8800):
    """Today's former rule: the distance, 2% relative, best-so-far gains."""
    best, kept, misses = math.inf, 0, 0
    for i, row in enumerate(rows):
        distance = row["d_gv"] + row["d_vg"]
        if distance < best * 0.98:
            misses = 0
        elif row["step"] > warm_up:
            misses += 1
        if distance < best:
            best, kept = distance, i
        if misses >= 5 and row["step"] >= warm_up:
            return i, kept
    return len(rows) - 1, kept


def _passes(n):
    """The wait, in generator steps, of ``n`` passes over P4's training rows."""
    return n * math.ceil(0.9 * N_TRAIN / 512)


CANDIDATES = {
    "former default: distance, 2% relative, 50-pass wait": _former_rule,
    "precision (truncated, k=5), 0.01, 50-pass wait": lambda rows: replay_rule(
        rows, lambda r: r["prec5_t"], 0.01),
    "precision (truncated, k=5), 0.02, 50-pass wait": lambda rows: replay_rule(
        rows, lambda r: r["prec5_t"], 0.02),
    "precision + recall (k=5), 0.04, 50-pass wait": lambda rows: replay_rule(
        rows, lambda r: r["prec5_t"] + r["rec5"], 0.04),
    "precision + recall, 0.04, truncated recall": lambda rows: replay_rule(
        rows, lambda r: r["prec5_t"] + r["rec5_t"], 0.04),
    "precision + recall (k=10), 0.04": lambda rows: replay_rule(
        rows, lambda r: r["prec5_t"] + r["rec10"], 0.04),
    "critic accuracy on held-out packs (lower), 0.01": lambda rows: replay_rule(
        rows, lambda r: -r["critic_acc"], 0.01),
    "precision + recall 0.04 or distance 3%, 50-pass wait": lambda rows: replay_rule(
        rows, lambda r: r["prec5_t"] + r["rec5"], 0.04, distance_tol=0.03),
    "precision + recall 0.04 or distance 3%, 75-pass wait": (
        lambda rows: replay_rule(rows, lambda r: r["prec5_t"] + r["rec5"], 0.04,
                                 warm_up=_passes(75), distance_tol=0.03)),
    "chosen: the same, and a new best by 0.01 gains": (
        lambda rows: replay_rule(rows, lambda r: r["prec5_t"] + r["rec5"], 0.04,
                                 warm_up=_passes(75), distance_tol=0.03,
                                 best_tol=0.01)),
    "precision + recall 0.04 or distance 3%, 100-pass wait": (
        lambda rows: replay_rule(rows, lambda r: r["prec5_t"] + r["rec5"], 0.04,
                                 warm_up=_passes(100), distance_tol=0.03)),
}


def replay(folder):
    paths = sorted(Path(folder).glob("*.json"))
    trajectories = [json.loads(path.read_text()) for path in paths]
    lines = [
        "# P4: stopping rules replayed on recorded trajectories (tuning seeds)",
        "",
        f"`python -m benchmarks.protocols.p4 --replay DIR` at commit {commit()}, on "
        "trajectories recorded with `--record DIR` (one fit per seed, "
        f"{RECORD_STEPS} steps, a check every 250 steps: the candidate criteria "
        "and the true HQ and modes of the sampler `sample` uses). Each rule "
        "keeps the check that is best by its own score; its figures are the "
        "truth recorded at that check. Stop = the step where the rule ends "
        f"training (capped at the {RECORD_STEPS} recorded steps). Goal: 25/25 "
        "modes and HQ >= 95% on every grid seed.",
        "",
        "Seeds: " + ", ".join(f"{t['data']} {t['seed']}" for t in trajectories)
        + " (all tuning seeds).",
        "",
        "| rule | seeds meeting the goal | lowest HQ % | median stop | latest "
        "stop | per seed: HQ % at stop step |",
        "|---|---|---|---|---|---|",
    ]
    for name, rule in CANDIDATES.items():
        cells = []
        for t in trajectories:
            stop, kept = rule(t["rows"])
            truth = t["rows"][kept]
            goal_modes, goal_hq = GOALS[t["data"]]
            ok = truth["modes"] >= goal_modes and truth["hq"] >= goal_hq
            cells.append((t["seed"], t["rows"][stop]["step"], truth["hq"], ok))
        stops = [c[1] for c in cells]
        lines.append(
            f"| {name} | {sum(c[3] for c in cells)}/{len(cells)} | "
            f"{100 * min(c[2] for c in cells):.1f} | {statistics.median(stops):.0f} "
            f"| {max(stops)} | "
            + ", ".join(f"{c[0]}: {100 * c[2]:.1f} at {c[1]}" for c in cells) + " |")
    lines += ["", "Where each grid seed's truncated sampler first reaches 95% HQ:",
              ""]
    for t in trajectories:
        first = next((r["step"] for r in t["rows"] if r["hq"] >= 0.95), None)
        lines.append(f"- {t['data']} seed {t['seed']}: step {first}")
    out = RESULTS / "P4_rules.md"
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.protocols.p4",
                                     description=TITLE)
    parser.add_argument("--quick", action="store_true",
                        help="seed 0, 20 000 points, 1 000 steps: a smoke run")
    parser.add_argument("--seeds", nargs="*", type=int,
                        default=list(range(20)))
    parser.add_argument("--datasets", nargs="*", default=["grid", "ring"],
                        choices=["grid", "ring"])
    parser.add_argument("--jobs", type=int, default=1,
                        help="fits at once, each in its own process (default 1)")
    parser.add_argument("--params", type=json.loads, default={},
                        help="GAN parameters as JSON, for a variant's run")
    parser.add_argument("--out", type=Path, default=None,
                        help="the .md to write (the .json goes beside it)")
    parser.add_argument("--merge", nargs="*", type=Path, default=None,
                        help="write the table of the runs of these .json "
                        "files (parts of one run, split by seeds) instead")
    parser.add_argument("--record", default=None,
                        help="record one long fit per seed into this folder")
    parser.add_argument("--replay", default=None,
                        help="replay candidate rules on the recorded folder")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.replay:
        return replay(args.replay)
    if args.record:
        Path(args.record).mkdir(parents=True, exist_ok=True)
        for data in args.datasets:
            for seed in args.seeds:
                print(record_one(data, seed, args.record), flush=True)
        return 0
    if args.worker:
        print(json.dumps(one_fit(*json.loads(args.worker))))
        return 0
    merged = None
    if args.merge:
        merged = [json.loads(path.read_text()) for path in args.merge]
    seeds, n_train, params = args.seeds, N_TRAIN, dict(args.params)
    if args.quick:
        seeds, n_train = [0], 20_000
        params.setdefault("max_steps", 1000)
    out = args.out or (RESULTS / "quick" / "P4.md" if args.quick
                       else RESULTS / "P4.md")
    out.parent.mkdir(parents=True, exist_ok=True)
    load_start = load_average()
    if merged:
        results = [run for part in merged for run in part["runs"]]
        params = merged[0].get("params", params)
    else:
        # Data set by data set, held-out seeds first.
        order = sorted(seeds, key=lambda s: (s not in HELD_OUT, s))
        jobs = [(data, seed) for data in args.datasets for seed in order]
        with ThreadPoolExecutor(max(1, args.jobs)) as pool:
            results = list(pool.map(
                lambda job: run_in_process(job[0], job[1], n_train, params),
                jobs))
    load_end = load_average()
    n_modes = {"grid": 25, "ring": 8}
    summary_lines, figures = summary(results, n_modes)
    machine = (f"{os.cpu_count()} CPUs; load average (1 / 5 / 15 min) "
               f"{_format_load(load_start)} at the start, "
               f"{_format_load(load_end)} at the end")
    if merged:
        machine = "; ".join(f"part {i + 1}: {part['machine']}"
                            for i, part in enumerate(merged))
    lines = [
        f"# {TITLE}",
        "",
        f"`python -m benchmarks.protocols.p4"
        f"{' ' + ' '.join(argv) if argv else ''}` at commit {commit()}"
        f"{' (quick: not a result)' if args.quick else ''}. "
        f"{n_train} training points; `GAN(random_state=seed"
        + "".join(f", {k}={v!r}" for k, v in params.items()) + ")`; "
        f"{N_SAMPLES} samples with `random_state=seed`. Goals: grid 25/25 with "
        "HQ >= 95% and ring 8/8 with HQ >= 98% on every seed; median fit <= 30 s, "
        "slowest <= 45 s.",
        "",
        f"Machine: {machine}. Threads: torch 1, "
        + ", ".join(f"{v}=1" for v in THREAD_VARIABLES)
        + f"; {args.jobs} fit(s) at once, each in its own process. The machine "
        "is shared: the seconds include what other processes took.",
        "",
        "Seeds 0-10 and 12 are tuning seeds (the stopping rule was chosen on "
        "the recorded trajectories of grid seeds 0-7; grid seed 10's stop under "
        "a 50-pass wait chose the 75-pass wait, grid seed 12's stop one check "
        "after a new best chose the gain of new bests); seeds 13-19 are held "
        "out (never used to choose anything); seed 11 is listed as 'other'.",
        "",
        *summary_lines,
        "",
        f"True mixture's HQ share: {100 * TRUE_HQ:.1f}%; an HQ above it means "
        "samples crowded at the centres (the Jacobian truncation rejects the "
        "draws between modes, so the truncated sampler is under-dispersed by "
        "design); the untruncated columns show the generator itself.",
        "",
        *tables(results, n_modes),
        "",
        "Published anchors:",
        "",
        *(f"- {data}: {text}" for data, text in ANCHORS.items()),
        "",
    ]
    out.write_text("\n".join(lines))
    record = {"protocol": "P4", "commit": commit(), "machine": machine,
              "quick": bool(args.quick), "figures": figures, "params": params,
              "runs": sorted(results, key=lambda r: (r["data"], r["seed"]))}
    out.with_suffix(".json").write_text(json.dumps(record, indent=1) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
