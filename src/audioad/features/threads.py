"""Threads for the feature code: how many to run, a map over them, and matrix products BLAS keeps on one thread.

Work is shared out an item a core, each item whole on one thread, and every
matrix product is cut small enough that BLAS computes it on the calling
thread, so that an item's result does not depend on how many threads run or
on what other threads do. No thread pool outlives the call that made it, and
BLAS's own thread setting is never touched.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np

__all__ = ["thread_count", "map_on_cores", "serial_matmul"]


def thread_count(workers):
    """The thread count ``workers`` asks for: ``None`` (or -1) is every core."""
    if workers is None or workers == -1:
        # joblib's count honours CPU affinity and cgroup quotas, os.cpu_count() does not.
        return joblib.cpu_count()
    if not isinstance(workers, (int, np.integer)) or workers < 1:
        raise ValueError(f"workers must be a positive number of threads, -1 or None, got {workers!r}")
    return int(workers)


# Multiply-adds up to which OpenBLAS computes a matrix product on the calling thread alone, whatever
# its thread setting: 65536 times its GEMM_MULTITHREAD_THRESHOLD, 4 by default (products of up to
# about 500,000 stayed on one thread in a check here).
_SERIAL_TERMS = 1 << 18


def serial_matmul(a, b, out=None):
    """``a @ b``, cut into products of rows small enough that BLAS computes each on the calling thread.

    How a multithreaded BLAS shares out a product moves the last bits of its
    result, and its thread setting is process-wide: another thread may change
    it meanwhile. Small products never use more than the calling thread, so
    each row of the result is the same whatever other rows are computed with
    it, however many threads BLAS may use, and whatever runs beside it.

    Parameters
    ----------
    a : numpy.ndarray
        (m, k) left factor.
    b : numpy.ndarray
        (k, n) or (k,) right factor.
    out : numpy.ndarray or None
        (m, n) or (m,) array that receives the product.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> a = np.arange(12.0).reshape(6, 2)
    >>> bool(np.array_equal(serial_matmul(a, np.ones((2, 3))), a @ np.ones((2, 3))))
    True
    """
    n_terms = a.shape[1] * (b.shape[1] if b.ndim == 2 else 1)
    rows = max(1, _SERIAL_TERMS // max(n_terms, 1))
    if out is None:
        out = np.empty((a.shape[0],) + b.shape[1:], dtype=np.result_type(a, b))
    for start in range(0, a.shape[0], rows):
        np.matmul(a[start : start + rows], b, out=out[start : start + rows])
    return out


def map_on_cores(function, items, workers):
    """``[function(item) for item in items]``, ``workers`` threads at once, each item whole on one core.

    numpy, scipy's FFT and BLAS release the GIL, so the threads run in parallel. The pool
    lives for this call only.
    """
    if workers == 1 or len(items) < 2:
        return [function(item) for item in items]
    with ThreadPoolExecutor(min(workers, len(items))) as pool:
        return list(pool.map(function, items))
