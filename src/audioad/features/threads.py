"""Threads for the feature code: how many to run, a map over them, and BLAS held to one thread.

Work is shared out an item a core, each item whole on one thread, and BLAS
keeps to one thread meanwhile, so that an item's result does not depend on
how many threads run. No thread pool outlives the call that made it.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import joblib
import numpy as np

__all__ = ["thread_count", "map_on_cores", "OneBlasThread", "one_blas_thread"]


def thread_count(workers):
    """The thread count ``workers`` asks for: ``None`` (or -1) is every core."""
    if workers is None or workers == -1:
        # joblib's count honours CPU affinity and cgroup quotas, os.cpu_count() does not.
        return joblib.cpu_count()
    if not isinstance(workers, (int, np.integer)) or workers < 1:
        raise ValueError(f"workers must be a positive number of threads, -1 or None, got {workers!r}")
    return int(workers)


@lru_cache(maxsize=1)
def _blas_controller():
    """The process's BLAS thread pools (found once: the search costs milliseconds)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


class OneBlasThread:
    """A context in which BLAS keeps to one thread, while any thread of the process is inside it.

    The first thread in sets the limit and the last one out restores it. Each thread restoring
    what it found on entry instead could, with overlapping threads, leave BLAS on one thread
    for good.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._inside = 0
        self._limiter = None

    def __enter__(self):
        with self._lock:
            if self._inside == 0:
                self._limiter = _blas_controller().limit(limits=1, user_api="blas")
            self._inside += 1

    def __exit__(self, *exc_info):
        with self._lock:
            self._inside -= 1
            if self._inside == 0:
                self._limiter.restore_original_limits()
                self._limiter = None


#: Hold BLAS to one thread inside ``with one_blas_thread:``; see :class:`OneBlasThread`.
one_blas_thread = OneBlasThread()


def map_on_cores(function, items, workers):
    """``[function(item) for item in items]``, ``workers`` threads at once, each item whole on one core.

    numpy, scipy's FFT and BLAS release the GIL, so the threads run in parallel. BLAS keeps
    to one thread meanwhile, even with one worker: calls from several threads into a
    multithreaded BLAS queue behind each other, and how a multithreaded BLAS splits a
    product would make an item's result depend on the thread count.
    """
    with one_blas_thread:
        if workers == 1 or len(items) < 2:
            return [function(item) for item in items]
        with ThreadPoolExecutor(min(workers, len(items))) as pool:
            return list(pool.map(function, items))
