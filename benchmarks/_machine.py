"""The machine line of a benchmark table: CPUs, threads and load.

The benchmarks run on a shared machine, so a table states how busy it was.
Call ``start = load_average()`` before the first timing and
``machine_line(start, ...)`` once the timings are done; the line then gives
the load average at both ends of the run, the CPU count and the thread
settings. Import it from a script in this folder as ``from _machine import
...`` (the script's folder is on ``sys.path`` when it is run).
"""

import os
import platform
import sys

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


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
    """One paragraph for a table's header.

    Parameters
    ----------
    load_at_start : tuple of float or None
        What :func:`load_average` returned before the first timing.
    threads : str, default=None
        The thread settings in words, for a script whose timings run in
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
