"""Mel spectrograms and their logarithm: one clip or a batch, a streamed recording, clips of any lengths.

:func:`log_mel` transforms a batch of equal-length clips at once,
:func:`log_mel_stream` a recording too long to hold as it is decoded, and
:func:`log_mel_many` clips of any lengths, a clip a core.
"""

from __future__ import annotations

import sys

import numpy as np

from .mel import mel_filterbank
from .stft import power_time_major
from .threads import map_on_cores, thread_count

__all__ = ["mel_spectrogram", "power_to_db", "log_mel", "log_mel_stream", "log_mel_many", "LOGS"]


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
    mel = power_time_major(y, n_fft, hop_length, power, center, pad_mode, filterbank.T, fft_dtype, workers=workers)
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
        power_time_major(
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
