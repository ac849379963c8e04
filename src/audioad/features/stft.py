"""Frames and power spectra: the short-time Fourier transform with a periodic Hann window, as librosa computes it.

The frames of each clip are transformed in blocks, a block a core, and a
block can be projected (by a mel filterbank) as soon as it is computed, so
that a long clip's spectrum is never held whole.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.fft
import scipy.signal

from .threads import map_on_cores, serial_matmul, thread_count

__all__ = [
    "frame",
    "power_spectrogram",
    "power_time_major",
    "FFT_DTYPES",
    "BLOCK_VALUES",
    "column_bands",
    "banded_product",
]


@lru_cache(maxsize=8)
def _hann(n_fft):
    window = scipy.signal.get_window("hann", n_fft, fftbins=True)
    window.flags.writeable = False
    return window


def frame(y, frame_length, hop_length, center=True, pad_mode="constant"):
    """Cut the last axis of ``y`` into overlapping frames, without copying when not centred.

    Parameters
    ----------
    y : numpy.ndarray
        (..., n_samples) waveform(s).
    frame_length, hop_length : int
        Frame size and step, in samples.
    center : bool
        Pad ``frame_length // 2`` samples at each end so frame t is centred
        on sample ``t * hop_length``, as librosa does.
    pad_mode : str
        :func:`numpy.pad` mode for the centring pad.

    Returns
    -------
    numpy.ndarray
        (..., n_frames, frame_length) read-only view.

    Examples
    --------
    >>> frame(np.arange(10.0), 4, 2, center=False)[:, 0]
    array([0., 2., 4., 6.])
    """
    y = np.asarray(y)
    if center:
        half = frame_length // 2
        y = np.pad(y, [(0, 0)] * (y.ndim - 1) + [(half, half)], mode=pad_mode)
    if y.shape[-1] < frame_length:
        y = np.pad(y, [(0, 0)] * (y.ndim - 1) + [(0, frame_length - y.shape[-1])])
    windows = np.lib.stride_tricks.sliding_window_view(y, frame_length, axis=-1)
    return windows[..., ::hop_length, :]


#: Frame samples transformed at once (8 MB of float32): bounds the FFT's working memory for a
#: long clip, and is large enough for an efficient batched FFT.
BLOCK_VALUES = 1 << 21

#: Floating types the FFT may run in (see :func:`power_spectrogram`).
FFT_DTYPES = ("float32", "float64")

# Samples beyond this would overflow a float32 FFT (sums of up to 2**20 of them, with room to
# spare): such a waveform is transformed in float64 instead, and saturates instead of turning NaN.
_FLOAT32_FFT_LIMIT = 1e30


def power_time_major(
    y, n_fft, hop_length, power, center, pad_mode, projection=None, fft_dtype="float32", out=None, workers=None
):
    """(..., n_frames, n_out) power spectrum, time-major float32, computed block by block.

    The engine under :func:`power_spectrogram` and the mel spectrograms. With
    ``projection`` (n_bins, n_out), e.g. a transposed filterbank, each block
    is projected as soon as it is computed, so only the projected result is
    ever held whole.

    A clip's result depends on that clip alone, bit for bit: each block holds
    frames of one clip only (:data:`BLOCK_VALUES` samples at most), cut at the
    same frames whatever else is in the batch or however many threads run,
    and each block's FFT and product run on one thread. The FFT type and the
    saturation pass are chosen per clip.

    Parameters
    ----------
    y : numpy.ndarray
        (..., n_samples) waveform(s).
    n_fft, hop_length, power, center, pad_mode, fft_dtype
        As in :func:`power_spectrogram`.
    projection : numpy.ndarray or None
        (1 + n_fft // 2, n_out) matrix each block of spectra is multiplied by;
        ``None`` keeps the spectra.
    out : numpy.ndarray or None
        (n_frames, n_out) float32 array that receives the result, for one
        waveform.
    workers : int or None
        Threads that share the blocks; ``None`` or -1 is every core.

    Returns
    -------
    numpy.ndarray of float32
        (..., n_frames, n_out): ``out`` when given.

    Examples
    --------
    >>> power_time_major(np.ones(2048), 512, 256, 2.0, True, "constant").shape
    (9, 257)
    """
    if fft_dtype not in FFT_DTYPES:
        raise ValueError(f"fft_dtype must be one of {FFT_DTYPES}, got {fft_dtype!r}")
    y = np.asarray(y, dtype=np.float32)
    frames = frame(y, n_fft, hop_length, center, pad_mode)
    lead, n_frames = frames.shape[:-2], frames.shape[-2]
    clips = frames.reshape(-1, n_frames, n_fft)
    waves = y.reshape(len(clips), -1)
    n_bins = n_fft // 2 + 1
    n_out = n_bins if projection is None else projection.shape[1]
    out = np.empty((len(clips), n_frames, n_out), np.float32) if out is None else out.reshape(1, n_frames, n_out)
    # Absurdly loud input saturates instead of overflowing float32: a mel band sums at most
    # every bin with weights of at most 1, so it stays finite too. No bin can exceed
    # (peak * n_fft) ** power, so ordinary audio skips that pass.
    ceiling = np.finfo(np.float32).max / n_bins
    bands = None if projection is None else column_bands(projection)
    frames_per_block = min(n_frames, max(1, BLOCK_VALUES // n_fft))

    def settings(c):
        """The FFT's type and whether to saturate, from clip ``c``'s own peak."""
        wave = waves[c]
        peak = np.float64(max(wave.max(), -wave.min())) if wave.size else np.float64(0.0)
        dtype = "float64" if fft_dtype == "float64" or not peak <= _FLOAT32_FFT_LIMIT else "float32"
        with np.errstate(over="ignore"):
            return dtype, not (peak * n_fft) ** power < ceiling

    def transform(c, t, dtype, saturate):
        block = clips[c, t : t + frames_per_block]
        spectrum = scipy.fft.rfft(block * _hann(n_fft).astype(dtype, copy=False), axis=-1, workers=1)
        with np.errstate(over="ignore"):  # an overflow to inf is clipped to the ceiling below
            magnitude2 = np.square(spectrum.real)
            magnitude2 += np.square(spectrum.imag)
        if power != 2.0:
            np.power(magnitude2, power / 2.0, out=magnitude2)
        if saturate:
            np.minimum(magnitude2, ceiling, out=magnitude2)
        magnitude2 = magnitude2.astype(np.float32, copy=False)
        target = out[c, t : t + frames_per_block]
        if projection is None:
            target[:] = magnitude2
        else:
            banded_product(magnitude2, projection, bands, out=target)

    blocks = []
    for c in range(len(clips)):
        dtype, saturate = settings(c)
        blocks += [(c, t, dtype, saturate) for t in range(0, n_frames, frames_per_block)]
    map_on_cores(lambda block: transform(*block), blocks, thread_count(workers))
    return out.reshape(*lead, n_frames, out.shape[-1])


def column_bands(projection, width=8):
    """(first row, stop row, first column, stop column) of each group of ``width`` columns' nonzero rows.

    A mel filterbank's filters each cover a short run of FFT bins, so a group
    of neighbouring filters needs only the bins between its first and last.
    The bands are what :func:`banded_product` multiplies by.

    Parameters
    ----------
    projection : numpy.ndarray
        (n_rows, n_columns) matrix, e.g. a transposed filterbank.
    width : int
        Columns per group.

    Returns
    -------
    list of tuple of int
        One ``(first_row, stop_row, first, stop)`` per group; a group with no
        nonzero row has ``first_row == stop_row == 0``.

    Examples
    --------
    >>> bands = column_bands(np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 2.0]]), width=1)
    >>> [tuple(int(i) for i in band) for band in bands]
    [(0, 1, 0, 1), (2, 3, 1, 2)]
    """
    nonzero = np.asarray(projection) != 0
    bands = []
    for first in range(0, nonzero.shape[1], width):
        stop = min(first + width, nonzero.shape[1])
        rows = np.flatnonzero(nonzero[:, first:stop].any(axis=1))
        bands.append((rows[0], rows[-1] + 1, first, stop) if len(rows) else (0, 0, first, stop))
    return bands


def banded_product(values, projection, bands, out):
    """``values @ projection`` into ``out``, each group of columns from its own rows alone.

    For 64 mel bands over 1025 bins the bands hold 14 % of the entries: a
    few small BLAS products instead of one large one, about twice as fast;
    each on the calling thread (:func:`~audioad.features.threads.serial_matmul`).

    Parameters
    ----------
    values : numpy.ndarray
        (n, n_rows) left factor.
    projection : numpy.ndarray
        (n_rows, n_columns) right factor.
    bands : list of tuple of int
        ``projection``'s bands, from :func:`column_bands`.
    out : numpy.ndarray
        (n, n_columns) array that receives the product.

    Returns
    -------
    numpy.ndarray
        ``out``.

    Examples
    --------
    >>> projection = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 2.0]])
    >>> banded_product(np.ones((1, 3)), projection, column_bands(projection, width=1), out=np.empty((1, 2)))
    array([[1., 2.]])
    """
    for first_row, stop_row, first, stop in bands:
        if stop_row > first_row:
            serial_matmul(values[:, first_row:stop_row], projection[first_row:stop_row, first:stop], out[:, first:stop])
        else:
            out[:, first:stop] = 0.0
    return out


def power_spectrogram(
    y, n_fft=1024, hop_length=512, power=2.0, center=True, pad_mode="constant", fft_dtype="float32", workers=None
):
    """``|STFT(y)| ** power`` with a periodic Hann window, as librosa computes it.

    Parameters
    ----------
    y : numpy.ndarray
        (n_samples,) or (n_clips, n_samples) waveform(s).
    n_fft, hop_length : int
        FFT size and hop, in samples.
    power : float
        Exponent of the magnitude: 1 for magnitude, 2 for power.
    center, pad_mode
        As in :func:`frame`.
    fft_dtype : {"float32", "float64"}
        Floating type of the FFT. librosa's runs in float64 (float32 frames
        times a float64 window); float32 takes about half the time and moves
        log-mel values of recorded clips by less than 1e-3 dB, up to about
        0.01 dB in narrow bands near a clip's ``top_db`` floor. Samples near
        float32's limit are transformed in float64 whatever is asked.
    workers : int or None
        Threads that share the work: blocks of frames, or one block's FFT;
        ``None`` or -1 uses every core.

    Returns
    -------
    numpy.ndarray of float32
        (..., 1 + n_fft // 2, n_frames).

    Examples
    --------
    >>> power_spectrogram(np.ones(2048), n_fft=512, hop_length=256).shape
    (257, 9)
    """
    spectrum = power_time_major(y, n_fft, hop_length, power, center, pad_mode, fft_dtype=fft_dtype, workers=workers)
    return np.swapaxes(spectrum, -1, -2)
