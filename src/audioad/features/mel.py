"""The mel scale and the triangular mel filterbank, as librosa builds them.

Slaney's scale and area-normalised filters by default (librosa's ``htk=False,
norm="slaney"``), HTK's scale and peak-1 filters on request.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["hz_to_mel", "mel_to_hz", "mel_frequencies", "mel_filterbank"]

# Slaney's mel scale: linear below 1 kHz, logarithmic above (librosa's htk=False).
_F_SP = 200.0 / 3
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOG_STEP = np.log(6.4) / 27.0


def hz_to_mel(frequencies, htk=False):
    """Convert Hz to mels (Slaney's scale, or HTK's with ``htk=True``).

    Examples
    --------
    >>> float(hz_to_mel(1000.0)), round(float(hz_to_mel(1000.0, htk=True)), 2)
    (15.0, 999.99)
    """
    f = np.asarray(frequencies, dtype=np.float64)
    if htk:
        return 2595.0 * np.log10(1.0 + f / 700.0)
    linear = f / _F_SP
    logarithmic = _MIN_LOG_MEL + np.log(np.maximum(f, _MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOG_STEP
    return np.where(f >= _MIN_LOG_HZ, logarithmic, linear)


def mel_to_hz(mels, htk=False):
    """Convert mels back to Hz; the inverse of :func:`hz_to_mel`.

    Examples
    --------
    >>> float(mel_to_hz(hz_to_mel(440.0)))
    440.0
    """
    m = np.asarray(mels, dtype=np.float64)
    if htk:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    linear = _F_SP * m
    logarithmic = _MIN_LOG_HZ * np.exp(_LOG_STEP * (np.maximum(m, _MIN_LOG_MEL) - _MIN_LOG_MEL))
    return np.where(m >= _MIN_LOG_MEL, logarithmic, linear)


def mel_frequencies(n_mels=128, fmin=0.0, fmax=11025.0, htk=False):
    """``n_mels`` frequencies evenly spaced on the mel scale from ``fmin`` to ``fmax``, in Hz, as librosa's.

    The mel filters of :func:`mel_filterbank` with ``n`` bands peak at the inner ``n`` of
    ``mel_frequencies(n + 2, fmin, fmax)``.

    Examples
    --------
    >>> mel_frequencies(4, 0.0, 8000.0).round().tolist()
    [0.0, 1006.0, 2836.0, 8000.0]
    """
    return mel_to_hz(np.linspace(hz_to_mel(fmin, htk), hz_to_mel(fmax, htk), n_mels), htk)


@lru_cache(maxsize=32)
def _mel_filterbank(sr, n_fft, n_mels, fmin, fmax, htk, norm):
    fft_hz = np.fft.rfftfreq(n_fft, 1.0 / sr)
    edges_hz = mel_frequencies(n_mels + 2, fmin, fmax, htk)
    widths = np.diff(edges_hz)
    ramps = edges_hz[:, None] - fft_hz[None, :]
    rising = -ramps[:-2] / widths[:-1, None]
    falling = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    if norm == "slaney":
        # Equal area per filter, so a band's level does not grow with its width.
        weights *= (2.0 / (edges_hz[2:] - edges_hz[:-2]))[:, None]
    weights = weights.astype(np.float32)
    weights.flags.writeable = False
    return weights


def mel_filterbank(sr, n_fft=1024, n_mels=64, fmin=0.0, fmax=None, htk=False, norm="slaney"):
    """The (n_mels, 1 + n_fft // 2) triangular mel filterbank, as librosa builds it.

    Filterbanks are cached: asking again for the same settings costs nothing.

    Parameters
    ----------
    sr : int
        Sample rate in Hz.
    n_fft : int
        FFT size.
    n_mels : int
        Number of mel bands.
    fmin, fmax : float
        Lowest and highest frequency in Hz; ``fmax=None`` means ``sr / 2``.
    htk : bool
        HTK's mel scale instead of Slaney's.
    norm : {"slaney", None}
        Scale each filter to unit area (``"slaney"``) or leave peaks at 1.

    Returns
    -------
    numpy.ndarray of float32, read-only

    Examples
    --------
    >>> fb = mel_filterbank(16000, n_fft=1024, n_mels=64)
    >>> fb.shape
    (64, 513)
    """
    fmax = sr / 2.0 if fmax is None else float(fmax)
    if norm not in ("slaney", None):
        raise ValueError(f"norm must be 'slaney' or None, got {norm!r}")
    if not 0.0 <= fmin < fmax <= sr / 2.0:
        raise ValueError(f"need 0 <= fmin < fmax <= sr / 2 = {sr / 2}, got fmin={fmin}, fmax={fmax}")
    return _mel_filterbank(int(sr), int(n_fft), int(n_mels), float(fmin), fmax, bool(htk), norm)
