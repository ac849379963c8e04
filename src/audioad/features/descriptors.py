"""Handcrafted clip descriptors: the 74 numbers PyOD's ``EmbeddingOD.for_audio()`` embeds a clip in.

PyOD's ``AudioFeatureEncoder`` (encoder ``'audio-mfcc'``) calls librosa seven
times per clip, computing the same STFT five times over. Here one power
spectrogram per batch of equal-length clips feeds every spectral group, and
the time-domain groups (zero-crossing rate, RMS) are running sums over the
batch, so that a batch costs about one STFT. The numbers follow librosa's
(``librosa.feature.mfcc``, ``chroma_stft(tuning=0.0)``, ``spectral_centroid``,
``spectral_bandwidth``, ``spectral_rolloff``, ``zero_crossing_rate``, ``rms``
at their defaults), and the columns are laid out and named as PyOD lays them
out, so that features from either can be mixed.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.fft

from ..audio import AudioInputError
from .logmel import power_to_db
from .mel import mel_filterbank
from .stft import banded_product, column_bands, power_spectrogram
from .threads import map_on_cores, serial_matmul, thread_count

__all__ = ["chroma_filterbank", "clip_descriptors", "clip_descriptors_many", "descriptor_names"]

# PyOD's group prefixes, in its column order; every group but the first two has one row.
_GROUPS = ("mfcc", "chroma", "cent", "bw", "roll", "zcr", "rms")
_N_CHROMA = 12
_N_MELS = 128
_ROLL_PERCENT = np.float32(0.85)
# librosa's zero_crossings counts samples within this of zero as zero (non-negative).
_ZERO_THRESHOLD = 1e-10
# librosa.util.normalize leaves frames whose norm is below the smallest float32 unscaled.
_TINY = np.finfo(np.float32).tiny


def descriptor_names(n_mfcc=20):
    """The column names of :func:`clip_descriptors`, as PyOD names them.

    Parameters
    ----------
    n_mfcc : int
        Number of MFCCs.

    Returns
    -------
    list of str
        ``2 * (n_mfcc + 12 + 5)`` names: ``mfcc0_mean, mfcc0_std, mfcc1_mean,
        ..., chroma0_mean, ..., cent0_mean, cent0_std, bw0_..., roll0_...,
        zcr0_..., rms0_std``.

    Examples
    --------
    >>> names = descriptor_names()
    >>> len(names), names[:3], names[-1]
    (74, ['mfcc0_mean', 'mfcc0_std', 'mfcc1_mean'], 'rms0_std')
    """
    rows = dict(zip(_GROUPS, (n_mfcc, _N_CHROMA, 1, 1, 1, 1, 1)))
    return [f"{group}{i}_{stat}" for group in _GROUPS for i in range(rows[group]) for stat in ("mean", "std")]


@lru_cache(maxsize=32)
def _chroma_filterbank(sr, n_fft, n_chroma, tuning, ctroct, octwidth, norm, base_c):
    # FFT bins above DC in chroma bins (n_chroma per octave) above A0 = 27.5 Hz, as Ellis's
    # chromagram_E; the DC bin is put 1.5 octaves below bin 1, with a broad bump.
    hz = np.linspace(0.0, sr, n_fft, endpoint=False)[1:]
    a440 = 440.0 * 2.0 ** (tuning / n_chroma)
    bins = n_chroma * np.log2(hz / (a440 / 16.0))
    bins = np.concatenate(([bins[0] - 1.5 * n_chroma], bins))
    widths = np.concatenate((np.maximum(np.diff(bins), 1.0), [1.0]))
    half = np.round(n_chroma / 2.0)
    distance = bins[None, :] - np.arange(n_chroma)[:, None]
    distance = np.remainder(distance + half + 10 * n_chroma, n_chroma) - half
    weights = np.exp(-0.5 * (2.0 * distance / widths) ** 2)
    if norm is not None:
        weights /= np.linalg.norm(weights, ord=norm, axis=0, keepdims=True)
    if octwidth is not None:
        weights *= np.exp(-0.5 * ((bins / n_chroma - ctroct) / octwidth) ** 2)
    if base_c:
        weights = np.roll(weights, -3 * (n_chroma // 12), axis=0)
    weights = np.ascontiguousarray(weights[:, : 1 + n_fft // 2], dtype=np.float32)
    weights.flags.writeable = False
    return weights


def chroma_filterbank(sr, n_fft=2048, n_chroma=12, tuning=0.0, ctroct=5.0, octwidth=2.0, norm=2, base_c=True):
    """The (n_chroma, 1 + n_fft // 2) chroma filterbank, as ``librosa.filters.chroma`` builds it.

    Each FFT bin spreads over the pitch classes near it with a Gaussian bump,
    and the bins are weighted by a Gaussian over octaves centred on
    ``ctroct``. Filterbanks are cached: asking again for the same settings
    costs nothing.

    Parameters
    ----------
    sr : int
        Sample rate in Hz.
    n_fft : int
        FFT size.
    n_chroma : int
        Number of pitch classes.
    tuning : float
        Deviation from A440 tuning, in fractions of a chroma bin.
    ctroct, octwidth : float
        Centre and width, in octaves above A0 (27.5 Hz), of the Gaussian
        weighting over octaves (``ctroct=5.0`` is 880 Hz);
        ``octwidth=None`` weighs every octave alike.
    norm : float or None
        Norm each bin's weights are scaled to before the octave weighting
        (``2``, ``numpy.inf``, ...), or ``None``.
    base_c : bool
        Start the pitch classes at C rather than A.

    Returns
    -------
    numpy.ndarray of float32, read-only

    Examples
    --------
    >>> fb = chroma_filterbank(22050, n_fft=2048)
    >>> fb.shape, int(fb[:, 82].argmax())  # bin 82 is 441 Hz: an A, pitch class 9
    ((12, 1025), 9)
    """
    if norm is not None and not (norm == np.inf or norm > 0):
        raise ValueError(f"norm must be positive, numpy.inf or None, got {norm!r}")
    if octwidth is not None:
        octwidth = float(octwidth)
    return _chroma_filterbank(
        int(sr),
        int(n_fft),
        int(n_chroma),
        float(tuning),
        float(ctroct),
        octwidth,
        norm,
        bool(base_c),
    )


def _check_finite(y, indices):
    """Raise naming the first clip of the batch ``y`` that holds NaN or infinite samples."""
    finite = np.isfinite(y).all(axis=-1)
    if not finite.all():
        row = int(np.argmin(finite))
        bad = int(np.count_nonzero(~np.isfinite(y[row])))
        raise AudioInputError(f"{bad} sample(s) are NaN or infinite", index=indices[row])


def _running_window_sums(x, frame_length, hop_length):
    """Sum of ``x`` over each window ``[t * hop, t * hop + frame_length)`` of its last axis."""
    total = np.zeros(x.shape[:-1] + (x.shape[-1] + 1,), dtype=np.result_type(x, np.int64))
    np.cumsum(x, axis=-1, out=total[..., 1:])
    starts = np.arange(0, x.shape[-1] - frame_length + 1, hop_length)
    return total[..., starts + frame_length] - total[..., starts]


def _zero_crossing_rate(y, frame_length, hop_length):
    """``librosa.feature.zero_crossing_rate`` (centred, edge-padded): (n_clips, n_frames)."""
    half = frame_length // 2
    padded = np.pad(y, [(0, 0), (half, half)], mode="edge")
    negative = np.signbit(padded) & (np.abs(padded) > _ZERO_THRESHOLD)
    # Crossing j lies between samples j and j + 1; a frame counts those between its own samples.
    crossings = negative[:, 1:] != negative[:, :-1]
    return _running_window_sums(crossings, frame_length - 1, hop_length) / frame_length


def _rms(y, frame_length, hop_length):
    """``librosa.feature.rms(y=y)`` (centred, zero-padded): (n_clips, n_frames)."""
    half = frame_length // 2
    energy = np.square(np.pad(y, [(0, 0), (half, half)]), dtype=np.float64)
    power = _running_window_sums(energy, frame_length, hop_length) / frame_length
    return np.sqrt(np.maximum(power, 0.0))


@lru_cache(maxsize=8)
def _mel_projection(sr, n_fft):
    """The 128-band mel filterbank as a (bins, bands) projection, and its bands for :func:`banded_product`."""
    projection = mel_filterbank(sr, n_fft, _N_MELS).T
    return projection, column_bands(projection)


def _frame_descriptors(y, sr, n_mfcc, n_fft, hop_length):
    """Every descriptor group of a (n_clips, n_samples) float32 batch: (n_clips, n_frames, rows)."""
    # Time-major (n_clips, n_frames, n_bins), contiguous: the spectral sums run over contiguous
    # bins, and one 2-D matrix product over all frames of the batch is several times faster
    # than numpy's stacked (3-D @ 2-D) product.
    power = np.swapaxes(power_spectrogram(y, n_fft=n_fft, hop_length=hop_length, workers=1), -1, -2)
    n_clips, n_frames, n_bins = power.shape
    frames = power.reshape(n_clips * n_frames, n_bins)

    # Every product below is computed on this thread (see serial_matmul): a clip's descriptors
    # never depend on BLAS's threads.
    projection, bands = _mel_projection(sr, n_fft)
    mel = np.empty((len(frames), _N_MELS), np.float32)
    mel = banded_product(frames, projection, bands, out=mel).reshape(n_clips, n_frames, _N_MELS)
    mel_db = power_to_db(mel, top_db=80.0)
    mfcc = scipy.fft.dct(mel_db, type=2, norm="ortho", axis=-1, workers=1)[..., :n_mfcc]

    chroma = serial_matmul(frames, chroma_filterbank(sr, n_fft, _N_CHROMA).T).reshape(n_clips, n_frames, -1)
    peak = chroma.max(axis=-1, keepdims=True)
    chroma /= np.where(peak < _TINY, 1.0, peak).astype(np.float32)

    magnitude = np.sqrt(power, out=power)
    hz = np.linspace(0.0, sr / 2.0, n_bins)
    # Moments in float64: bandwidth^2 = E[f^2] - E[f]^2 cancels heavily for tonal frames.
    weights = np.stack([np.ones_like(hz), hz, hz**2], axis=-1)
    moments = serial_matmul(frames.astype(np.float64), weights).reshape(n_clips, n_frames, 3)
    total = np.where(moments[..., 0] < _TINY, 1.0, moments[..., 0])
    centroid = moments[..., 1] / total
    bandwidth = np.sqrt(np.maximum(moments[..., 2] / total - centroid**2, 0.0))
    # librosa's roll-off: the lowest bin whose float32 running magnitude reaches 85 % of the total.
    cumulative = np.cumsum(magnitude, axis=-1)
    below = np.count_nonzero(cumulative < _ROLL_PERCENT * cumulative[..., -1:], axis=-1)
    rolloff = hz[below]

    zcr = _zero_crossing_rate(y, n_fft, hop_length)
    rms = _rms(y, n_fft, hop_length)
    return (mfcc, chroma) + tuple(v[..., None] for v in (centroid, bandwidth, rolloff, zcr, rms))


def _summarise(groups):
    """Mean then std over frames of every row of every group, PyOD's column order."""
    stats = [np.stack([g.mean(axis=-2, dtype=np.float64), g.std(axis=-2, dtype=np.float64)], axis=-1) for g in groups]
    return np.concatenate([s.reshape(s.shape[0], -1) for s in stats], axis=-1)


def _descriptors_batch(y, sr, n_mfcc=20, n_fft=2048, hop_length=512, indices=None):
    """Descriptors of a (n_clips, n_samples) batch, naming its clips by ``indices`` in errors."""
    y = np.asarray(y, dtype=np.float32)
    _check_finite(y, range(y.shape[0]) if indices is None else indices)
    if y.shape[-1] < n_fft:
        # As PyOD does, so that the centred STFT of a short clip still spans one whole frame.
        y = np.pad(y, [(0, 0), (0, n_fft - y.shape[-1])])
    return _summarise(_frame_descriptors(y, sr, n_mfcc, n_fft, hop_length))


def clip_descriptors(y, sr=22050, n_mfcc=20, n_fft=2048, hop_length=512):
    """PyOD's ``'audio-mfcc'`` clip descriptors of one clip or a batch of equal-length clips.

    For each clip, the mean then the standard deviation over frames of: the
    MFCCs (``librosa.feature.mfcc``: DCT-II of the 128-band log-mel, dB with
    ``top_db=80``), the 12 chroma bins (``librosa.feature.chroma_stft`` with
    ``tuning=0.0``), the spectral centroid, bandwidth and 85 % roll-off
    (magnitude spectrum), the zero-crossing rate and the RMS level, both
    over frames of ``n_fft`` samples, centred. Columns are ordered and named
    as :func:`descriptor_names` gives them, as in PyOD's
    ``AudioFeatureEncoder``.

    Parameters
    ----------
    y : numpy.ndarray
        (n_samples,) or (n_clips, n_samples) waveform(s), computed in
        float32 as PyOD does. Clips shorter than ``n_fft`` samples are first
        zero-padded at the end to ``n_fft``.
    sr : int
        Sample rate in Hz.
    n_mfcc : int
        Number of MFCCs.
    n_fft, hop_length : int
        STFT size and hop, which are also the zero-crossing and RMS frame
        length and hop (librosa's defaults, 2048 and 512, are PyOD's).

    Returns
    -------
    numpy.ndarray of float64
        (2 * (n_mfcc + 17),) for one clip, (n_clips, 2 * (n_mfcc + 17)) for
        a batch.

    Raises
    ------
    AudioInputError
        For a clip with NaN or infinite samples, naming it.

    Examples
    --------
    >>> t = np.arange(22050) / 22050
    >>> x = clip_descriptors(0.5 * np.sin(2 * np.pi * 440.0 * t))
    >>> x.shape
    (74,)
    >>> named = dict(zip(descriptor_names(), x))
    >>> round(float(named["chroma9_mean"]), 2)  # pitch class A
    1.0
    >>> round(float(named["zcr0_mean"]) * 22050)  # crossings per second
    850
    """
    y = np.asarray(y)
    if y.ndim not in (1, 2):
        raise ValueError(f"y must be (n_samples,) or (n_clips, n_samples), got shape {y.shape}")
    if y.shape[-1] == 0:
        raise ValueError("the clips hold no samples")
    batch = np.atleast_2d(y)
    if batch.shape[0] == 0:
        return np.empty((0, len(descriptor_names(n_mfcc))))
    indices = [None] if y.ndim == 1 else None
    features = _descriptors_batch(batch, sr, n_mfcc, n_fft, hop_length, indices=indices)
    return features[0] if y.ndim == 1 else features


def clip_descriptors_many(clips, sr, workers=None, **kwargs):
    """Clip descriptors of clips of any lengths, a clip a core.

    Each clip is computed on its own, so its descriptors are the same, bit
    for bit, whatever other clips share the call and however many threads run.

    Parameters
    ----------
    clips : sequence of numpy.ndarray
        1-D waveforms at ``sr``.
    sr : int
        Sample rate in Hz.
    workers : int or None
        Threads; ``None`` or -1 uses every core.
    **kwargs
        ``n_mfcc``, ``n_fft``, ``hop_length``, as in :func:`clip_descriptors`.

    Returns
    -------
    numpy.ndarray of float64
        (n_clips, n_features), in input order.

    Raises
    ------
    AudioInputError
        For a clip that is not 1-D, is empty, or holds NaN or infinite
        samples, naming its index.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> clips = [rng.standard_normal(n) for n in (8000, 16000, 8000, 100)]
    >>> clip_descriptors_many(clips, sr=16000).shape
    (4, 74)
    """
    for i, clip in enumerate(clips):
        shape = np.shape(clip)
        if len(shape) != 1 or shape[0] == 0:
            raise AudioInputError(f"a clip must be a non-empty 1-D waveform, got shape {shape}", index=i)
    if not len(clips):
        return np.empty((0, len(descriptor_names(kwargs.get("n_mfcc", 20)))))

    def describe(i):
        return _descriptors_batch(np.asarray(clips[i], dtype=np.float32)[None], sr, indices=[i], **kwargs)[0]

    return np.stack(map_on_cores(describe, range(len(clips)), thread_count(workers)))
