"""Log-mel spectrograms, context windows and time pooling, as plain functions.

The numbers follow librosa's (``librosa.power_to_db(librosa.feature.
melspectrogram(...))``: periodic Hann window, centred frames, Slaney mel
filters) so that models trained with either agree, but the work is done for a
whole batch of equal-length clips at once, with one cached filterbank and
float32 FFTs on every core (within 1e-3 dB of librosa's float64 ones on
recorded sound; ``fft_dtype="float64"`` matches them to 1e-5 dB). A recording
too long to hold is transformed as it is decoded (:func:`log_mel_stream`).

Spectrograms are returned in librosa's orientation, ``(..., n_mels, n_frames)``,
but laid out time-major in memory, so that :func:`context_windows` is a
zero-copy strided view.
"""

from __future__ import annotations

import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import joblib
import numpy as np
import scipy.fft
import scipy.signal

__all__ = [
    "hz_to_mel",
    "mel_to_hz",
    "mel_filterbank",
    "frame",
    "power_spectrogram",
    "mel_spectrogram",
    "power_to_db",
    "log_mel",
    "log_mel_many",
    "log_mel_stream",
    "FFT_DTYPES",
    "LOGS",
    "context_windows",
    "WindowBank",
    "time_pool",
    "POOLINGS",
    "map_on_cores",
    "thread_count",
    "one_blas_thread",
]

#: Time poolings known to :func:`time_pool`.
POOLINGS = ("mean", "max", "std", "gwrp")

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


@lru_cache(maxsize=32)
def _mel_filterbank(sr, n_fft, n_mels, fmin, fmax, htk, norm):
    fft_hz = np.fft.rfftfreq(n_fft, 1.0 / sr)
    edges_hz = mel_to_hz(np.linspace(hz_to_mel(fmin, htk), hz_to_mel(fmax, htk), n_mels + 2), htk)
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


# Frame samples transformed at once (8 MB of float32): bounds the FFT's working memory for a
# long clip, and is large enough for an efficient batched FFT.
_BLOCK_VALUES = 1 << 21

#: Floating types the FFT may run in (see :func:`power_spectrogram`).
FFT_DTYPES = ("float32", "float64")

# Samples beyond this would overflow a float32 FFT (sums of up to 2**20 of them, with room to
# spare): such a waveform is transformed in float64 instead, and saturates instead of turning NaN.
_FLOAT32_FFT_LIMIT = 1e30


def _power_time_major(
    y, n_fft, hop_length, power, center, pad_mode, projection=None, fft_dtype="float32", out=None, workers=None
):
    """(..., n_frames, n_out) power spectrum, time-major float32, computed block by block.

    With ``projection`` (n_bins, n_out), e.g. a transposed filterbank, each
    block is projected as soon as it is computed, so only the projected result
    is ever held whole. ``out``, (n_frames, n_out) for one waveform, receives it.
    ``workers`` threads share the blocks; ``None`` is every core.

    A clip's result depends on that clip alone, bit for bit: each block holds
    frames of one clip only, cut at the same frames whatever else is in the
    batch or however many threads run, and each block's FFT and product run
    on one thread. The FFT type and the saturation pass are chosen per clip.
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
    bands = None if projection is None else _column_bands(projection)
    frames_per_block = min(n_frames, max(1, _BLOCK_VALUES // n_fft))

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
            _banded_product(magnitude2, projection, bands, out=target)

    blocks = []
    for c in range(len(clips)):
        dtype, saturate = settings(c)
        blocks += [(c, t, dtype, saturate) for t in range(0, n_frames, frames_per_block)]
    map_on_cores(lambda block: transform(*block), blocks, thread_count(workers))
    return out.reshape(*lead, n_frames, out.shape[-1])


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


def _column_bands(projection, width=8):
    """(first row, stop row, first column, stop column) of each group of ``width`` columns' nonzero rows.

    A mel filterbank's filters each cover a short run of FFT bins, so a group
    of neighbouring filters needs only the bins between its first and last.
    """
    nonzero = np.asarray(projection) != 0
    bands = []
    for first in range(0, nonzero.shape[1], width):
        stop = min(first + width, nonzero.shape[1])
        rows = np.flatnonzero(nonzero[:, first:stop].any(axis=1))
        bands.append((rows[0], rows[-1] + 1, first, stop) if len(rows) else (0, 0, first, stop))
    return bands


def _banded_product(values, projection, bands, out):
    """``values @ projection`` into ``out``, each group of columns from its own rows alone.

    For 64 mel bands over 1025 bins the bands hold 14 % of the entries: a
    few small BLAS products instead of one large one, about twice as fast.
    """
    for first_row, stop_row, first, stop in bands:
        if stop_row > first_row:
            out[:, first:stop] = values[:, first_row:stop_row] @ projection[first_row:stop_row, first:stop]
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
    spectrum = _power_time_major(y, n_fft, hop_length, power, center, pad_mode, fft_dtype=fft_dtype, workers=workers)
    return np.swapaxes(spectrum, -1, -2)


def mel_spectrogram(
    y,
    sr,
    n_fft=1024,
    hop_length=512,
    n_mels=64,
    fmin=0.0,
    fmax=None,
    power=2.0,
    center=True,
    pad_mode="constant",
    htk=False,
    norm="slaney",
    fft_dtype="float32",
    workers=None,
):
    """Mel spectrogram, equal to ``librosa.feature.melspectrogram`` at the same settings.

    Parameters
    ----------
    y : numpy.ndarray
        (n_samples,) or (n_clips, n_samples) waveform(s) of equal length.
    sr : int
        Sample rate in Hz.
    n_fft, hop_length, n_mels, fmin, fmax, power, center, pad_mode, htk, norm
        As librosa names them.
    fft_dtype, workers
        As in :func:`power_spectrogram`.

    Returns
    -------
    numpy.ndarray of float32
        (..., n_mels, n_frames), time-major in memory.

    Examples
    --------
    >>> mel_spectrogram(np.zeros((3, 16000)), sr=16000).shape
    (3, 64, 32)
    """
    filterbank = mel_filterbank(sr, n_fft, n_mels, fmin, fmax, htk, norm)
    mel = _power_time_major(y, n_fft, hop_length, power, center, pad_mode, filterbank.T, fft_dtype, workers=workers)
    return np.swapaxes(mel, -1, -2)


def power_to_db(S, ref=1.0, amin=1e-10, top_db=80.0, out=None):
    """Power to decibels as librosa's ``power_to_db``, with ``top_db`` applied per clip.

    For a batch (..., n_mels, n_frames) the ``top_db`` floor is taken from
    each clip's own maximum, so a clip's features do not depend on which
    other clips share its batch.

    Parameters
    ----------
    S : numpy.ndarray
        Power values.
    ref, amin, top_db
        librosa's: decibels are relative to ``ref``, powers below ``amin``
        count as ``amin``, and values more than ``top_db`` below the clip's
        maximum are raised to that floor (``None``: no floor).
    out : numpy.ndarray or None
        Where to write the result; ``out=S`` converts in place, with no
        temporary as large as ``S``.

    Examples
    --------
    >>> power_to_db(np.array([1.0, 1e-3, 0.0]))
    array([  0., -30., -80.])
    """
    if top_db is not None and top_db < 0:
        raise ValueError(f"top_db must be non-negative, got {top_db}")
    db = np.maximum(S, amin, out=out)
    np.log10(db, out=db)
    db *= 10.0
    db -= 10.0 * np.log10(np.maximum(amin, ref))
    if top_db is not None:
        floor = db.max(axis=(-2, -1) if db.ndim >= 2 else None, keepdims=db.ndim >= 2) - top_db
        np.maximum(db, floor, out=db)
    return db


#: Log conventions of :func:`log_mel`.
LOGS = ("db", "dcase")


def _check_log(log):
    if log not in LOGS:
        raise ValueError(f"log must be 'db' (librosa's power_to_db) or 'dcase', got {log!r}")


def _logarithm(mel, log, power, ref, amin, top_db, out=None):
    """A mel spectrogram in the log convention ``log`` of :func:`log_mel`; in place with ``out=mel``."""
    if log == "db":
        return power_to_db(mel, ref=ref, amin=amin, top_db=top_db, out=out)
    logged = np.add(mel, sys.float_info.epsilon, out=out, dtype=np.float32)
    np.log10(logged, out=logged)
    logged *= 20.0 / power
    return logged


def log_mel(
    y,
    sr,
    n_fft=1024,
    hop_length=512,
    n_mels=64,
    fmin=0.0,
    fmax=None,
    power=2.0,
    log="db",
    ref=1.0,
    amin=1e-10,
    top_db=80.0,
    center=True,
    pad_mode="constant",
    htk=False,
    norm="slaney",
    fft_dtype="float32",
    workers=None,
):
    """Log-mel spectrogram of one clip or a batch of equal-length clips.

    Parameters
    ----------
    y : numpy.ndarray
        (n_samples,) or (n_clips, n_samples) float waveform(s).
    sr : int
        Sample rate in Hz.
    n_fft, hop_length, n_mels, fmin, fmax, power, center, pad_mode, htk, norm
        As in :func:`mel_spectrogram` (librosa's names and meanings).
    log : {"db", "dcase"}
        ``"db"``: librosa's ``power_to_db(mel, ref, amin, top_db)``.
        ``"dcase"``: the DCASE baselines' ``20 / power * log10(mel + eps)``
        with machine epsilon, no floor.
    ref, amin, top_db
        As in :func:`power_to_db` (used by ``log="db"``).
    fft_dtype : {"float32", "float64"}
        As in :func:`power_spectrogram`; ``"float64"`` matches librosa to
        about 1e-5 dB.
    workers : int or None
        As in :func:`power_spectrogram`.

    Returns
    -------
    numpy.ndarray of float32
        (..., n_mels, n_frames), time-major in memory.

    Examples
    --------
    >>> t = np.arange(16000) / 16000
    >>> spec = log_mel(np.sin(2 * np.pi * 440 * t), sr=16000, n_mels=64)
    >>> spec.shape, spec.dtype
    ((64, 32), dtype('float32'))
    """
    _check_log(log)
    mel = mel_spectrogram(
        y, sr, n_fft, hop_length, n_mels, fmin, fmax, power, center, pad_mode, htk, norm, fft_dtype, workers
    )
    return _logarithm(mel, log, power, ref, amin, top_db, out=mel)


def log_mel_stream(
    blocks,
    sr,
    n_fft=1024,
    hop_length=512,
    n_mels=64,
    fmin=0.0,
    fmax=None,
    power=2.0,
    log="db",
    ref=1.0,
    amin=1e-10,
    top_db=80.0,
    htk=False,
    norm="slaney",
    fft_dtype="float32",
    n_samples=None,
):
    """Log-mel spectrogram of one waveform that arrives in blocks, as :func:`log_mel` gives it whole.

    For recordings too long to hold: the frames are transformed as the
    blocks come, and only the (n_mels, n_frames) spectrogram, some hundred
    times smaller than the waveform, is ever held whole. The result is
    :func:`log_mel` of the blocks joined (centred frames, zero padding),
    however the waveform is cut.

    Parameters
    ----------
    blocks : iterable of numpy.ndarray
        Consecutive 1-D pieces of the waveform, of any lengths (e.g. an
        :class:`~audioad.audio.AudioStream`).
    sr : int
        Sample rate in Hz.
    n_fft, hop_length, n_mels, fmin, fmax, power, log, ref, amin, top_db, htk, norm, fft_dtype
        As in :func:`log_mel`.
    n_samples : int or None
        The waveform's length, if known (roughly will do): the spectrogram is
        then written into one array as it is made, instead of being gathered
        in pieces and joined, which holds it twice.

    Returns
    -------
    numpy.ndarray of float32
        (n_mels, n_frames), time-major in memory.

    Examples
    --------
    >>> y = np.random.default_rng(0).standard_normal(40000)
    >>> streamed = log_mel_stream(np.array_split(y, 7), sr=16000)
    >>> bool(np.allclose(streamed, log_mel(y, sr=16000), atol=1e-4))
    True
    """
    _check_log(log)
    projection = mel_filterbank(sr, n_fft, n_mels, fmin, fmax, htk, norm).T
    frames = _Rows(n_mels, 1 + (n_samples or 0) // hop_length)

    def transform(samples, n_frames):
        """Append the first ``n_frames`` frames of ``samples``; return the samples after them."""
        used = samples[: (n_frames - 1) * hop_length + n_fft]
        _power_time_major(
            used, n_fft, hop_length, power, False, "constant", projection, fft_dtype, out=frames.extend(n_frames)
        )
        return samples[n_frames * hop_length :]

    pending = np.zeros(n_fft // 2, np.float32)  # the centring pad before the first sample
    n_seen = 0
    for block in blocks:
        block = np.asarray(block, dtype=np.float32).ravel()
        n_seen += len(block)
        pending = np.concatenate([pending, block])
        if len(pending) >= n_fft:
            pending = transform(pending, 1 + (len(pending) - n_fft) // hop_length)
    # As :func:`frame` counts them: the padded waveform, at least one frame long.
    n_total = 1 + (max(n_seen + 2 * (n_fft // 2), n_fft) - n_fft) // hop_length
    n_left = n_total - len(frames)
    if n_left > 0:
        length = (n_left - 1) * hop_length + n_fft
        transform(np.concatenate([pending, np.zeros(max(0, length - len(pending)), np.float32)]), n_left)
    mel = frames.array.T
    return _logarithm(mel, log, power, ref, amin, top_db, out=mel)


class _Rows:
    """Rows appended to one float32 array, allocated once when its length is known beforehand."""

    def __init__(self, width, expected):
        self._buffer = np.empty((max(int(expected), 1), width), np.float32)
        self._n = 0

    def __len__(self):
        return self._n

    def extend(self, n_rows):
        """The next ``n_rows`` rows, to be written; the buffer grows by half when full."""
        if self._n + n_rows > len(self._buffer):
            grown = np.empty((max(self._n + n_rows, len(self._buffer) * 3 // 2), self._buffer.shape[1]), np.float32)
            grown[: self._n] = self._buffer[: self._n]
            self._buffer = grown
        self._n += n_rows
        return self._buffer[self._n - n_rows : self._n]

    @property
    def array(self):
        """The rows written so far (a view)."""
        return self._buffer[: self._n]


def log_mel_many(clips, sr, workers=None, **kwargs):
    """Log-mel spectrograms of clips of any lengths, a clip a core.

    Each clip goes through the whole chain (frames, FFT, mel, log) on one
    core, so nothing waits on one core, and a clip's spectrogram is the same,
    bit for bit, as :func:`log_mel` of that clip alone, whatever other clips
    share the call and however many threads run.

    Parameters
    ----------
    clips : sequence of numpy.ndarray
        1-D float waveforms at ``sr``.
    sr : int
        Sample rate in Hz.
    workers : int or None
        Threads; ``None`` or -1 uses every core.
    **kwargs
        Settings of :func:`log_mel`.

    Returns
    -------
    list of numpy.ndarray
        One (n_mels, n_frames) spectrogram per clip, in input order.

    Examples
    --------
    >>> specs = log_mel_many([np.zeros(8000), np.zeros(16000), np.zeros(8000)], sr=16000)
    >>> [s.shape[1] for s in specs]
    [16, 32, 16]
    """
    workers = thread_count(workers)
    if len(clips) == 1:
        # One clip: its blocks of frames share the cores instead.
        return [log_mel(clips[0], sr, workers=workers, **kwargs)]
    return map_on_cores(lambda clip: log_mel(clip, sr, workers=1, **kwargs), list(clips), workers)


def context_windows(spec, context=5):
    """Windows of ``context`` consecutive frames, flattened, as a zero-copy view.

    Window t is frames t .. t + context - 1 of every band, frame after frame:
    the DCASE baseline's ``vectors[:, n_mels * k : n_mels * (k + 1)] =
    spec[:, k : k + n_windows].T``. A spectrogram with fewer than ``context``
    frames is first padded to one window by repeating its last frame.

    Parameters
    ----------
    spec : numpy.ndarray
        (..., n_mels, n_frames) spectrogram(s). Those returned by
        :func:`log_mel` are time-major in memory and are not copied.
    context : int
        Frames per window.

    Returns
    -------
    numpy.ndarray
        (..., n_windows, n_mels * context) read-only view, with
        ``n_windows = max(n_frames, context) - context + 1``.

    Examples
    --------
    >>> spec = np.arange(12.0).reshape(2, 6)  # 2 bands, 6 frames
    >>> context_windows(spec, context=2)[0]
    array([0., 6., 1., 7.])
    """
    spec = np.asarray(spec)
    if context < 1:
        raise ValueError(f"context must be at least 1 frame, got {context}")
    n_mels, n_frames = spec.shape[-2:]
    if n_frames < context:
        spec = np.pad(spec, [(0, 0)] * (spec.ndim - 1) + [(0, context - n_frames)], mode="edge")
    time_major = np.ascontiguousarray(np.swapaxes(spec, -1, -2))
    n_windows = time_major.shape[-2] - context + 1
    # The item size, not strides[-1]: with one band numpy may report any stride for that axis.
    step = time_major.itemsize
    return np.lib.stride_tricks.as_strided(
        time_major,
        shape=time_major.shape[:-2] + (n_windows, n_mels * context),
        strides=time_major.strides[:-2] + (n_mels * step, step),
        writeable=False,
    )


class WindowBank:
    """The context windows of many clips, held once as frames and indexed on demand.

    Every clip's spectrogram is stacked time-major into one (n_frames, n_mels)
    block; :func:`context_windows` over that block is a view, and a window is
    valid when it does not cross from one clip into the next. A minibatch of
    windows is gathered by index, so training on millions of windows never
    materialises them all.

    Parameters
    ----------
    specs : sequence of numpy.ndarray
        (n_mels, n_frames) spectrograms, one per clip, of any lengths.
    context : int
        Frames per window.
    hop : int, default 1
        Frames between the starts of consecutive windows of a clip; 1 takes
        every window, ``hop`` takes every ``hop``-th from each clip's first.

    Attributes
    ----------
    frames : numpy.ndarray
        (total_frames, n_mels) frames of every clip, each padded to at least
        ``context`` frames as :func:`context_windows` pads it.
    starts : numpy.ndarray
        Row in ``frames`` where each valid window starts.
    offsets : numpy.ndarray
        (n_clips + 1,) window ranges: clip c owns windows ``offsets[c]:offsets[c + 1]``.

    Examples
    --------
    >>> bank = WindowBank([np.zeros((4, 6)), np.ones((4, 3))], context=2)
    >>> len(bank), bank.offsets.tolist(), bank.take([0, 5]).shape
    (7, [0, 5, 7], (2, 8))
    >>> WindowBank([np.zeros((4, 6)), np.ones((4, 3))], context=2, hop=2).starts.tolist()
    [0, 2, 4, 6]
    """

    def __init__(self, specs, context, hop=1):
        if context < 1:
            raise ValueError(f"context must be at least 1 frame, got {context}")
        if hop < 1:
            raise ValueError(f"hop must be at least 1 frame, got {hop}")
        blocks = []
        for spec in specs:
            spec = np.asarray(spec, dtype=np.float32)
            if spec.shape[-1] < context:
                spec = np.pad(spec, [(0, 0), (0, context - spec.shape[-1])], mode="edge")
            blocks.append(spec.T)
        self.context, self.hop = context, hop
        if len(blocks) == 1 and blocks[0].flags.c_contiguous:
            # One time-major spectrogram (a long recording's) is used as it is, not copied.
            self.frames = blocks[0]
        else:
            self.frames = np.concatenate(blocks) if blocks else np.empty((0, 0), np.float32)
        lengths = np.array([len(b) for b in blocks], dtype=np.int64)
        first_frame = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        n_windows = (lengths - context) // hop + 1
        self.offsets = np.concatenate([[0], np.cumsum(n_windows)])
        self.starts = np.repeat(first_frame - hop * self.offsets[:-1], n_windows) + hop * np.arange(self.offsets[-1])
        self._view = context_windows(self.frames.T, context)

    def __len__(self):
        return int(self.offsets[-1])

    @property
    def n_features(self):
        """Length of one window vector, ``n_mels * context``."""
        return self._view.shape[-1]

    def take(self, index):
        """Windows at ``index`` (positions among the valid windows), as a new array."""
        return self._view[self.starts[index]]

    def batches(self, size, per_clip=False):
        """Yield consecutive (index range, windows) blocks of at most ``size`` windows.

        With ``per_clip``, a block holds one clip's windows, cut from that clip's
        first window, so the blocks of a clip are the same whatever clips share the bank.
        """
        bounds = self.offsets if per_clip else np.array([0, len(self)])
        for first, stop in zip(bounds[:-1], bounds[1:]):
            for start in range(first, stop, size):
                index = np.arange(start, min(start + size, stop))
                yield index, self.take(index)

    def split(self, window_scores):
        """Window scores cut into one array per clip."""
        return np.split(np.asarray(window_scores), self.offsets[1:-1])


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
        return ranked @ (weights / weights.sum())
    raise ValueError(f"unknown pooling {method!r}; choose one of {POOLINGS}")
