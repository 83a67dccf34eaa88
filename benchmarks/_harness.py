"""What every protocol of ``python -m benchmarks`` shares.

The machine and load line of a table, thread pinning for torch and the BLAS
and OpenMP pools, interleaved medians for paired timings, a markdown table
writer, and :func:`write_results`, which writes a protocol's two files:
``results/PN.md`` (the human table) and ``results/PN.json`` (the figures that
the README and the user guide quote, rendered by ``python -m benchmarks
render``). A ``--quick`` run writes under ``results/quick/`` (git-ignored), so
that it never replaces a real run.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
# The ODDS data of P3 and the like sit beside the checkout, never inside it.
SHARED_DATA = Path(os.environ.get("SKGEN_BENCH_DATA", ROOT.parent / "shared" / "data"))

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


# --------------------------------------------------------------------------
# The machine line
# --------------------------------------------------------------------------
def load_average():
    """The 1-, 5- and 15-minute load averages, or None where the OS has none."""
    try:
        return os.getloadavg()
    except (AttributeError, OSError):
        return None


def cpu_count():
    """``'N CPUs'``, with the number this process may use when it is fewer."""
    total = os.cpu_count()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on every OS
        usable = total
    text = f"{total} CPUs"
    return text if usable == total else f"{text} ({usable} usable by this process)"


def thread_settings():
    """The thread variables, torch's threads and the BLAS / OpenMP pools loaded."""
    parts = [f"{name}={os.environ.get(name, 'unset')}" for name in THREAD_VARIABLES]
    torch = sys.modules.get("torch")
    if torch is not None:
        parts.append(f"torch.get_num_threads()={torch.get_num_threads()}")
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return ", ".join(parts)
    # threadpool_limits() changes the pools but not the variables: report both.
    pools = sorted({f"{pool['internal_api']} {pool['num_threads']}"
                    for pool in threadpool_info()})
    if pools:
        parts.append("pools: " + ", ".join(pools))
    return ", ".join(parts)


def _format_load(load):
    return "unknown" if load is None else " / ".join(f"{x:.2f}" for x in load)


def machine_line(load_at_start, threads=None):
    """One paragraph for a table's header: CPUs, Python, load at both ends, threads.

    Parameters
    ----------
    load_at_start : tuple of float or None
        What :func:`load_average` returned before the first timing.
    threads : str, default=None
        The thread settings in words, for a protocol whose timings run in
        other processes; by default those of this process.
    """
    processor = platform.processor() or platform.machine()
    return (
        f"Machine: {processor}, {cpu_count()}, Python "
        f"{platform.python_version()}. Load average (1 / 5 / 15 min): "
        f"{_format_load(load_at_start)} at the start, "
        f"{_format_load(load_average())} at the end. "
        f"Threads: {threads or thread_settings()}."
    )


def commit():
    """The checkout's short commit, with ``-dirty`` when tracked files differ."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True,
                              text=True, check=False)
    head = git("rev-parse", "--short", "HEAD")
    if head.returncode != 0:
        return "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no").stdout.strip()
    return head.stdout.strip() + ("-dirty" if dirty else "")


# --------------------------------------------------------------------------
# Threads
# --------------------------------------------------------------------------
def pin_threads(n_threads=1):
    """Pin torch and the BLAS / OpenMP pools of this process to ``n_threads``.

    Sets the variables too, for the processes this one starts. Call it at the
    start of a protocol's ``main``: a benchmark owns its process.
    """
    for name in THREAD_VARIABLES:
        os.environ[name] = str(n_threads)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        pass
    else:
        threadpool_limits(n_threads)
    if "torch" in sys.modules or _torch_importable():
        import torch

        torch.set_num_threads(n_threads)


def _torch_importable():
    import importlib.util

    return importlib.util.find_spec("torch") is not None


# --------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------
def interleaved(calls, repeats=3):
    """Time each of ``calls`` (a dict name -> callable) as A, B, A, B, ...

    Returns a dict name -> list of seconds, one per repeat, so that a ratio
    is taken between runs that saw the same load.
    """
    seconds = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            seconds[name].append(time.perf_counter() - start)
    return seconds


def median_ratio(numerator, denominator):
    """Median of the per-repeat ratios of two interleaved timing lists."""
    return statistics.median(a / b for a, b in zip(numerator, denominator, strict=True))


# --------------------------------------------------------------------------
# Tables and results
# --------------------------------------------------------------------------
def markdown_table(header, rows):
    """A markdown table from a header and rows of cells (any type, str()-ed)."""
    lines = ["| " + " | ".join(map(str, header)) + " |",
             "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in rows]
    return "\n".join(lines)


def argument_parser(module_doc, *, seeds=None):
    """An argparse parser with ``--quick`` and, where the protocol has seeds,
    ``--seeds`` (default ``seeds``)."""
    parser = argparse.ArgumentParser(
        description=(module_doc or "").strip().splitlines()[0] if module_doc else None)
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes, a minute or less; writes results/quick/")
    if seeds is not None:
        parser.add_argument("--seeds", nargs="+", type=int, default=list(seeds),
                            help=f"seeds to run (default: {' '.join(map(str, seeds))})")
    return parser


def command_line(protocol, argv):
    """The command that ran: ``python -m benchmarks PN`` and the arguments given."""
    args = sys.argv[1:] if argv is None else list(argv)
    return " ".join([f"python -m benchmarks {protocol}", *args])


def results_dir(quick):
    """``results/`` for a real run, ``results/quick/`` for a ``--quick`` one."""
    path = RESULTS / "quick" if quick else RESULTS
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_results(protocol, title, body, figures, *, quick, machine, command=None):
    """Write ``PN.md`` and ``PN.json`` for one protocol run.

    Parameters
    ----------
    protocol : str
        ``"P1"`` ... ``"P9"`` (or another short name, such as ``"DEMO"``).
    title : str
        The first line of the markdown file.
    body : str
        The tables and notes, in markdown.
    figures : dict
        name -> number or string: what the README and the docs may quote.
    quick : bool
        Whether this was a ``--quick`` run (written under ``results/quick/``).
    machine : str
        What :func:`machine_line` returned.
    command : str, default=None
        The command that produced the run, with its arguments.
    """
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    revision = commit()
    command = command or f"python -m benchmarks {protocol}"
    header = (f"# {protocol}: {title}\n\nWritten by `{command}` at commit "
              f"{revision}, {stamp}{' (quick run: tiny sizes)' if quick else ''}."
              f"\n\n{machine}\n\n")
    folder = results_dir(quick)
    (folder / f"{protocol}.md").write_text(header + body.strip() + "\n")
    payload = {"protocol": protocol, "commit": revision, "date": stamp,
               "machine": machine, "quick": bool(quick), "figures": figures}
    (folder / f"{protocol}.json").write_text(
        json.dumps(payload, indent=1, sort_keys=False) + "\n")
    return folder / f"{protocol}.md"


def read_figures(protocol, results=RESULTS):
    """The ``figures`` of ``results/PN.json``, or None when it does not exist."""
    path = Path(results) / f"{protocol}.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())
