"""Time pooling: one vector per clip from a spectrogram's frames."""

from __future__ import annotations

import numpy as np

from .threads import serial_matmul

__all__ = ["time_pool", "POOLINGS"]

#: Time poolings known to :func:`time_pool`.
POOLINGS = ("mean", "max", "std", "gwrp")


def time_pool(spec, method="mean", decay=0.99):
    """Pool a spectrogram over its frames into one vector per clip.

    Parameters
    ----------
    spec : numpy.ndarray
        (..., n_bands, n_frames).
    method : {"mean", "max", "std", "gwrp"}
        ``"gwrp"`` is global weighted ranking pooling (TWFR-GMM, Guan et
        al., ICASSP 2023): each band's frames are sorted from loudest down
        and averaged with weights ``decay ** rank``, so ``decay=1`` is the
        mean and ``decay=0`` the maximum.
    decay : float
        GWRP's ``r`` in [0, 1].

    Returns
    -------
    numpy.ndarray
        (..., n_bands).

    Examples
    --------
    >>> spec = np.array([[1.0, 3.0, 2.0]])
    >>> [float(time_pool(spec, m, decay=0.5)[0]) for m in ("mean", "max", "gwrp")]
    [2.0, 3.0, 2.4285714285714284]
    """
    spec = np.asarray(spec)
    if method == "mean":
        return spec.mean(axis=-1)
    if method == "max":
        return spec.max(axis=-1)
    if method == "std":
        return spec.std(axis=-1)
    if method == "gwrp":
        if not 0.0 <= decay <= 1.0:
            raise ValueError(f"GWRP decay must lie in [0, 1], got {decay}")
        ranked = -np.sort(-spec, axis=-1)
        weights = decay ** np.arange(spec.shape[-1], dtype=np.float64)
        # On this thread (see serial_matmul): a clip's vector never depends on BLAS's threads.
        flat = ranked.reshape(-1, spec.shape[-1])
        return serial_matmul(flat, weights / weights.sum()).reshape(ranked.shape[:-1])
    raise ValueError(f"unknown pooling {method!r}; choose one of {POOLINGS}")
