"""Combine P7 runs made one data set at a time into one summary.

``bench_impute.py`` writes one table per run; a run over every P7 table at
1 thread takes hours (missForest alone takes minutes per cell on the larger
ODDS sets), so the tables are run one data set per process, several at once,
and this script reads their markdown files and writes the summary: per seed
group, the RMSE of each method on each data set, the mean rank and the mean
RMSE over the data sets; the coverage and width of the draws; the seconds;
and each run's command and machine line.

Usage::

    python benchmarks/p7_summary.py --out results/bench_impute_p7.md run1.md run2.md ...
"""

import argparse
import re
from pathlib import Path

import numpy as np


def parse(path):
    """{(group, table): {dataset: {method: cell}}}, the commands, the machines."""
    text = Path(path).read_text()
    tables, group, kind, header = {}, None, None, None
    for line in text.splitlines():
        heading = re.match(r"### (\S+), (tuning|held out) \(seeds? ([\d, ]+)\)", line)
        if heading:
            group = f"{heading[1]}, {heading[2]} (seed {heading[3]})"
        elif line.startswith("RMSE on the removed"):
            kind = "rmse"
        elif line.startswith("Draws, 20"):
            kind = "draws"
        elif line.startswith("| dataset |"):
            header = [c.strip() for c in line.strip("|").split("|")][1:]
        elif line.startswith("| seconds") and header:
            cells = [c.strip() for c in line.strip("|").split("|")]
            tables.setdefault((group, kind + " seconds"), {}).setdefault(
                "runs", []).append(dict(zip(header, cells[1:], strict=True)))
        elif line.startswith("| ") and not line.startswith("| **") and header:
            cells = [c.strip() for c in line.strip("|").split("|")]
            if cells[0] != "---":
                tables.setdefault((group, kind), {})[cells[0]] = dict(
                    zip(header, cells[1:], strict=True))
    command = re.search(r"Command: `([^`]*)`", text)
    if command:  # the run's own paths say nothing about the method
        command = re.sub(r" --(data-dir|out) \S+", "", command[1])
    machine = re.search(r"^Machine: .*$", text, re.MULTILINE)
    return tables, command or "", machine[0] if machine else ""


def _number(cell):
    try:
        return float(cell.split()[0])
    except (ValueError, IndexError):
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--out", required=True)
    parser.add_argument("--note", default="", help="a paragraph put first")
    args = parser.parse_args()
    merged, commands = {}, []
    for run in args.runs:
        tables, command, machine = parse(run)
        commands.append(f"- `{command}`: {machine}")
        for key, rows in tables.items():
            target = merged.setdefault(key, {})
            for name, row in rows.items():
                if name == "runs":
                    target.setdefault("runs", []).extend(row)
                else:  # a data set's methods may come from several runs
                    target.setdefault(name, {}).update(
                        {m: v for m, v in row.items() if v != "-"})
    lines = ["# P7 at MCAR30: every table, one data set per run", "",
             __doc__.split("\n\n")[1].replace("\n", " "), ""]
    if args.note:
        lines += [args.note, ""]
    for group in sorted({g for g, _ in merged}, key=lambda g: "held out" in g):
        rmse = merged.get((group, "rmse"), {})
        datasets = [d for d in rmse if d != "runs"]
        methods = list(dict.fromkeys(m for d in datasets for m in rmse[d]))
        lines += [f"## {group}", "", "RMSE on the removed entries (standardised "
                  "units); rank 1 is the lowest on each data set; ranks and "
                  "means over the tables where every method ran (`-`: not "
                  "run):", "",
                  "| dataset | " + " | ".join(methods) + " |",
                  "|---|" + "---|" * len(methods)]
        ranks = {m: [] for m in methods}
        values = {m: [] for m in methods}
        complete = []
        for dataset in datasets:
            row = [_number(rmse[dataset].get(m, "")) for m in methods]
            lines.append(f"| {dataset} | " + " | ".join(
                "-" if v is None else f"{v:.3f}" for v in row) + " |")
            if any(v is None for v in row):
                continue  # ranks and means over the tables every method ran
            complete.append(dataset)
            order = np.argsort(np.argsort(row))
            for m, v, r in zip(methods, row, order, strict=True):
                ranks[m].append(r + 1)
                values[m].append(v)
        lines.append(f"| **mean rank** ({len(complete)} tables) | " + " | ".join(
            f"**{np.mean(ranks[m]):.2f}**" for m in methods) + " |")
        lines.append(f"| **mean RMSE** ({len(complete)} tables) | " + " | ".join(
            f"**{np.mean(values[m]):.3f}**" for m in methods) + " |")
        seconds = merged.get((group, "rmse seconds"), {}).get("runs", [])
        lines.append("| seconds (median of the data sets' medians) | " + " | ".join(
            f"{np.median([_number(s[m]) for s in seconds if m in s]):.2f}"
            for m in methods) + " |")
        draws = merged.get((group, "draws"), {})
        if draws:
            draw_methods = list(next(iter(draws.values())))
            lines += ["", "Draws, 20 per removed entry: coverage / mean width of "
                      "the 5-95% interval (`np.quantile`; 81% for a sampler of "
                      "the true law), then of the range (90.5% for it):", "",
                      "| dataset | " + " | ".join(draw_methods) + " |",
                      "|---|" + "---|" * len(draw_methods)]
            for dataset in draws:
                lines.append(f"| {dataset} | " + " | ".join(
                    draws[dataset].get(m, "-") for m in draw_methods) + " |")
            means = []
            for m in draw_methods:
                cells = [re.findall(r"[\d.]+", draws[d][m]) for d in draws
                         if m in draws[d]]
                numbers = np.array([[float(x) for x in c[:4]] for c in cells
                                    if len(c) >= 4])
                means.append("**{:.3f} / {:.2f}; range {:.3f} / {:.2f}**".format(
                    *numbers.mean(axis=0)) if len(numbers) else "-")
            lines.append("| **mean** | " + " | ".join(means) + " |")
        lines.append("")
    lines += ["## Runs", "", *commands, ""]
    text = "\n".join(lines)
    print(text)
    Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
