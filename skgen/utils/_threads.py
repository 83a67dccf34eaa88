"""One thread policy for all of skgen's torch work.

torch's intra-op threads meet at a barrier after every operation.  On a
machine where another process holds a core, the thread that lost its core
keeps every other one waiting at each barrier, and a pass of many short
operations becomes many times slower.  So skgen parallelises its passes over
rows itself: each worker thread takes whole chunks, one after the other,
at one torch thread, and a worker that is held up only delays its own
chunk while the others take the rest.  Results are combined in the chunks'
order, so a pass gives the same bits with any number of workers.

The number of workers is the caller's ``torch.get_num_threads()`` (what the
user set, or torch's default), capped by the cores this process may use.
Whatever skgen changes in torch's settings is restored when the call
returns.
"""

import contextlib
import functools
import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait

import torch
from threadpoolctl import ThreadpoolController

__all__ = [
    "few_threads_for",
    "map_chunks",
    "n_workers",
    "one_torch_thread",
    "torch_threads",
    "torch_work",
]

_lock = threading.Lock()
_users = 0
_saved = None


@contextlib.contextmanager
def torch_threads(n_threads):
    """Run the block with ``torch.set_num_threads(n_threads)``, then restore.

    ``None`` leaves the setting alone.  Nested and concurrent blocks (Dask
    runs several tasks in threads of one process) share one saved value:
    the first block in saves the user's setting and the last one out
    restores it, whether the block returns or raises.
    """
    global _users, _saved
    if n_threads is None:
        yield
        return
    with _lock:
        if _users == 0:
            _saved = torch.get_num_threads()
            if _saved != n_threads:
                torch.set_num_threads(n_threads)
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0 and torch.get_num_threads() != _saved:
                torch.set_num_threads(_saved)


def _usable_cores():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


_work = threading.local()


def n_workers():
    """Workers for a pass of this thread.

    Inside :func:`torch_work`, the count it fixed on entry; elsewhere the
    caller's torch thread count, at most the cores this process may use.
    """
    workers = getattr(_work, "workers", None)
    if workers is None:
        workers = min(torch.get_num_threads(), _usable_cores())
    return max(1, workers)


@contextlib.contextmanager
def one_torch_thread():
    """Run the block at one torch thread in the calling thread, then restore.

    torch keeps the count per thread, but also remembers the last count set
    as the one that threads started later begin with: restoring the caller's
    count puts that back as well.
    """
    saved = torch.get_num_threads()
    if saved == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(saved)


def torch_work(method):
    """Decorate an estimator method whose torch work follows the policy.

    The calling thread runs the method at one torch thread, and the passes
    over rows inside it (:func:`map_chunks`) share out their chunks among
    the workers that the caller's settings allowed on entry.  Nested calls
    keep the outermost count.
    """

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        if getattr(_work, "workers", None) is not None:
            return method(*args, **kwargs)
        _work.workers = n_workers()
        try:
            with one_torch_thread():
                return method(*args, **kwargs)
        finally:
            _work.workers = None

    return wrapper


_pool = None
_pool_pid = None
_pool_lock = threading.Lock()


def _as_helper(task):
    """Run ``task`` in a pool thread, which computes at one torch thread.

    The count is set inside the task, not when the thread starts, so that
    the caller, who waits for the task, restores torch's setting after it.
    """
    if not getattr(_work, "in_pool", False):
        _work.in_pool = True
        torch.set_num_threads(1)
    task()


def _shared_pool():
    """The process's pool of chunk workers, made at first use (again after fork)."""
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():
            _pool = ThreadPoolExecutor(
                _usable_cores(), thread_name_prefix="skgen-chunks"
            )
            _pool_pid = os.getpid()
        return _pool


def map_chunks(func, items, device=None):
    """``[func(item) for item in items]``, on worker threads at one torch thread each.

    On a CUDA device, or with one worker or one item, the items run in the
    calling thread (at one torch thread on the CPU, so that the bits do not
    depend on the number of workers).  Otherwise the calling thread and
    ``n_workers() - 1`` threads of a shared pool take the items one by one
    as they come free; the results keep the items' order, and the first
    exception an item raises is raised here.
    """
    items = list(items)
    if device is not None and torch.device(device).type != "cpu":
        return [func(item) for item in items]
    workers = min(n_workers(), len(items))
    if workers <= 1 or getattr(_work, "in_pool", False):
        with one_torch_thread():
            return [func(item) for item in items]
    results = [None] * len(items)
    indices = itertools.count()
    failed = []

    def take_items():
        for index in indices:
            if index >= len(items) or failed:
                return
            try:
                results[index] = func(items[index])
            except BaseException as exc:
                failed.append(exc)
                raise

    caller_threads = torch.get_num_threads()
    try:
        pool = _shared_pool()
        helpers = [pool.submit(_as_helper, take_items) for _ in range(workers - 1)]
        with one_torch_thread():
            try:
                take_items()
            finally:
                wait(helpers)
    finally:
        # A worker's count is the one new threads start with; put the caller's back.
        torch.set_num_threads(caller_threads)
    if failed:
        raise failed[0]
    return results


# Below this many elements (rows x columns) the BLAS and OpenMP work of
# scikit-learn's k-means and nearest-centre searches takes milliseconds: a
# second thread gains nothing on an idle machine and, beside a busy process,
# waits on the first at every parallel region.
_SMALL_WORK = 2**20
_controller = None


@contextlib.contextmanager
def few_threads_for(n_elements):
    """Run the block's BLAS and OpenMP (scikit-learn, numpy) at one thread when small.

    ``n_elements`` is the size of the data the block works on; from
    ``_SMALL_WORK`` up the thread pools are left as the user set them.  The
    pools' settings are restored at the end of the block.
    """
    global _controller
    if n_elements >= _SMALL_WORK:
        yield
        return
    if _controller is None:
        _controller = ThreadpoolController()
    with _controller.limit(limits=1):
        yield
