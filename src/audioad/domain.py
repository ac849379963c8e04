"""Out-of-domain checks: what makes a clip unlike the clips a detector learned from.

A detector scores whatever it is given, and a clip far from its training
clips gets a confident score that means little: a 10 ms clip (shorter than
one analysis window), digital silence, a clip recorded at a lower rate than
the model's (its upper bands are empty), a clip much shorter or longer than
the training clips, a clipped recording, a file in another, lossy codec (MP3's
filtering moves a normal clip's score; a lossless copy scores as the original), a bare array that looks recorded at
another rate (taken at the model's rate, a 48 kHz recording is slowed down three times: its
spectrum is the training clips' squeezed into the lowest third of the band; for a model without a
training spectrum, it lasts as long as a training clip at another common rate). Each check gives a short warning in
the user's words; the score is still given.

Examples
--------
>>> import numpy as np
>>> from audioad.audio import AudioSource
>>> training = training_profile([profile_clip(np.full(16000, 0.1), 16000, AudioSource(16000, "WAV PCM_16"))] * 3)
>>> silent = profile_clip(np.zeros(160), 16000, AudioSource(8000, "MP3 MPEG_LAYER_III"))
>>> for warning in domain_warnings(silent, training, sr=16000, min_samples=1024):
...     print(warning)
too short: 10 ms, less than one analysis window (64 ms)
silent: digital silence
low rate: recorded at 8000 Hz, below the model's 16000 Hz: nothing above 4000 Hz
duration: 0.01 s, the training clips 1.00-1.00 s
codec: MP3 MPEG_LAYER_III, the training files WAV PCM_16
>>> count_warnings([domain_warnings(silent, training, sr=16000), []])
{'silent': 1, 'low rate': 1, 'duration': 1, 'codec': 1}
"""

from __future__ import annotations

import os
from typing import NamedTuple

import numpy as np

__all__ = [
    "ClipProfile",
    "profile_clip",
    "channels_peak",
    "training_profile",
    "mean_power_spectrum",
    "looks_recorded_at",
    "domain_warnings",
    "count_warnings",
    "check_training",
    "TrainingDataWarning",
    "WARNING_KINDS",
]

#: What a warning is about: the words before the colon that starts each one.
WARNING_KINDS = ("too short", "silent", "clipped", "low rate", "duration", "codec", "rate")

# Below one step of 16-bit PCM: no recorded sound.
_SILENCE_PEAK = 2.0**-15
# Samples at 99.9 % of full scale or more count as clipped; a clip is clipped when more than
# this share of its samples are.
_CLIPPED_LEVEL = 0.999
_CLIPPED_SHARE = 1e-3
# Durations outside [training shortest / 2, training longest * 2] are far from the training clips'.
_DURATION_FACTOR = 2.0
# Rates recorders use: a bare array as long as the training clips at one of these (not the
# model's) looks recorded at it.
_COMMON_RATES = (8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000, 88200, 96000)
_SAME_LENGTH = 0.005
# A bare array's spectrum: the mean of this many frames of this many samples, spread over it.
_SPECTRUM_FRAMES, _SPECTRUM_FFT = 64, 2048
# Bands below this are left out of the comparison of spectra: hum and the DC offset, not the machine.
_LOWEST_COMPARED_HZ = 100.0
# A bare array taken at the model's rate whose spectrum differs from the training clips' by this
# many dB (median over the bands, gain aside), and read at another rate by less than _RATE_MATCH_DB
# and less than _RATE_MATCH_SHARE of it, looks recorded at that rate. On the shared fan and motor
# recordings, normal 16 kHz clips differ by 1-2 dB taken as they are; made 48 kHz, by 9-16 dB taken
# at 16 kHz and 1-2.5 dB read at 48 kHz; faults by up to 11 dB, and 4.5 dB or more read at any
# other rate (tests/test_bare_rate.py).
_RATE_MISMATCH_DB = 4.0
_RATE_MATCH_DB = 3.0
_RATE_MATCH_SHARE = 0.5
# libsndfile's subtypes that lose sound: decoded, they are not the samples recorded.
_LOSSY = frozenset(
    {"MPEG_LAYER_I", "MPEG_LAYER_II", "MPEG_LAYER_III", "VORBIS", "OPUS", "GSM610", "ULAW", "ALAW", "IMA_ADPCM",
     "MS_ADPCM", "G721_32", "G723_24", "G723_40", "VOX_ADPCM", "NMS_ADPCM_16", "NMS_ADPCM_24", "NMS_ADPCM_32"}
)  # fmt: skip
# A training clip whose peak is this many dB below the training clips' median peak is far quieter
# than the rest: another gain, another microphone, the machine off.
_QUIET_DB = 30.0
# A training clip holds nothing to learn from when it is silent, or shorter than this share of one
# analysis window: the front end pads a short clip to a window, and the padding is then most of it
# (the paper machine's 21 ms snippets, a third of a 64 ms window, are still learned from).
_UNUSABLE_WINDOW_SHARE = 0.25


class TrainingDataWarning(UserWarning):
    """Some training clips are unlike usable recordings of a machine (too short, silent, clipped, low rate, quiet)."""


class ClipProfile(NamedTuple):
    """What the checks need to know of one clip.

    Attributes
    ----------
    seconds : float
        Duration.
    rate : int or None
        The clip's own sample rate, where known.
    codec : str or None
        A file's format and subtype (``"WAV PCM_16"``), where known.
    peak : float or None
        Largest absolute sample at the model's rate; None where not measured (a long
        file, read a block at a time).
    clipped : float or None
        Share of samples at full scale; None where not measured.
    channel_peak : float or None
        Where the mix is silent: the loudest channel's peak before mixing (channels that cancel
        when mixed to mono have one); None otherwise.
    spectrum : numpy.ndarray or None
        A bare array's :func:`mean_power_spectrum` at the model's rate, to tell one recorded at
        another rate; None for a clip whose rate is known.
    """

    seconds: float
    rate: int | None
    codec: str | None
    peak: float | None
    clipped: float | None
    channel_peak: float | None = None
    spectrum: np.ndarray | None = None


def channels_peak(item):
    """The loudest channel's peak of a clip (a file, an array or a ``(waveform, rate)`` tuple) before mixing.

    Read only for a clip whose mix is silent, to tell channels that cancel from silence.

    Examples
    --------
    >>> channels_peak(np.array([[0.5, -0.25], [-0.5, 0.25]]))
    0.5
    """
    from .audio import load_audio

    # A bare array has no rate, and a peak needs none: any rate reads it as it is.
    bare = not isinstance(item, (str, os.PathLike, tuple))
    wave, _ = load_audio(item, sr=1 if bare else None, mono=False)
    return float(np.abs(wave).max()) if wave.size else 0.0


def profile_clip(wave, sr, source, item=None):
    """The :class:`ClipProfile` of a loaded waveform at ``sr`` from ``source`` (an :class:`~audioad.audio.AudioSource`).

    ``item``, the clip as given, is read again where the mixed waveform is silent, to tell channels
    that cancel (two microphones in anti-phase) from silence.

    Examples
    --------
    >>> from audioad.audio import AudioSource
    >>> profile = profile_clip(np.array([0.0, 1.0, -0.5, 0.2]), 4, AudioSource(None, None))
    >>> profile.seconds, profile.peak, profile.clipped, profile.spectrum.shape  # a bare array: its spectrum too
    (1.0, 1.0, 0.25, (1025,))
    >>> stereo = np.array([[0.5, -0.5, 0.5], [-0.5, 0.5, -0.5]])
    >>> profile_clip(np.zeros(3), 3, AudioSource(None, None), item=(stereo, 3)).channel_peak
    0.5
    """
    magnitude = np.abs(wave)
    peak = float(magnitude.max()) if len(wave) else 0.0
    clipped = float(np.count_nonzero(magnitude >= _CLIPPED_LEVEL)) / max(len(wave), 1)
    # A silent mix of a clip given whole: were its channels silent too, or did they cancel?
    loudest = channels_peak(item) if item is not None and peak < _SILENCE_PEAK else None
    # Only a bare array may be at another rate than it is taken at: a file or a tuple says its own.
    bare = source.rate is None and source.codec is None
    spectrum = mean_power_spectrum(wave) if bare else None
    return ClipProfile(len(wave) / sr, source.rate, source.codec, peak, clipped, loudest, spectrum)


def mean_power_spectrum(wave, n_fft=None):
    """The mean power spectrum of up to 64 Hann-windowed frames spread over ``wave``.

    Parameters
    ----------
    wave : numpy.ndarray
        A clip's samples.
    n_fft : int or None
        Samples a frame; None: 2048.

    Returns
    -------
    numpy.ndarray of shape (n_fft // 2 + 1,)
        Power in each ``rfft`` bin (a clip shorter than a frame is zero-padded to one).

    Examples
    --------
    >>> t = np.arange(16000) / 16000
    >>> int(np.argmax(mean_power_spectrum(np.sin(2 * np.pi * 1000 * t), n_fft=256)) * 16000 / 256)
    1000
    """
    n_fft = n_fft or _SPECTRUM_FFT
    wave = np.asarray(wave, dtype=np.float64)
    if len(wave) < n_fft:
        wave = np.pad(wave, (0, n_fft - len(wave)))
    starts = np.unique(np.linspace(0, len(wave) - n_fft, min(_SPECTRUM_FRAMES, len(wave) // n_fft)).astype(int))
    frames = np.stack([wave[s : s + n_fft] for s in starts]) * np.hanning(n_fft)
    return np.mean(np.abs(np.fft.rfft(frames, axis=1)) ** 2, axis=0)


def _levels_if_recorded_at(spectrum, sr, rate, hz):
    """The clip's level (dB) at the training bands' centres ``hz``, were it recorded at ``rate`` (taken at ``sr``).

    Recorded at ``rate`` and taken at ``sr``, sound at ``f`` Hz lies at ``f * sr / rate`` in the
    clip's spectrum. Each band's level is the mean power over it, its edges halfway to its
    neighbours', so a band narrower than one bin still reads the bins around it.
    """
    bins = np.arange(len(spectrum)) * (sr / 2.0) / (len(spectrum) - 1)
    cumulative = np.concatenate([[0.0], np.cumsum((spectrum[1:] + spectrum[:-1]) / 2.0 * np.diff(bins))])
    edges = np.concatenate([[hz[0] / 2], (hz[1:] + hz[:-1]) / 2, [hz[-1] * 1.02]]) * sr / rate
    power = np.diff(np.interp(edges, bins, cumulative)) / np.diff(edges)
    return 10.0 * np.log10(np.maximum(power, 1e-20))


def looks_recorded_at(spectrum, training_spectrum, sr):
    """The common rate a bare array's spectrum says it was recorded at, where not the model's; else None.

    The clip's spectrum, read as if recorded at each common rate, is compared with the training
    clips' (each band's median level), the overall gain aside: the median absolute difference in
    dB over the bands both hold (100 Hz to 90 % of the lower Nyquist frequency). A recording at
    another rate matches the training clips far better read at its own rate than taken at the
    model's: it is said where, taken at the model's rate, it differs by 4 dB or more, and read at
    another rate by less than 3 dB and less than half as much. A spectrum without structure in
    frequency (white noise, a power law) looks the same at every rate, and is never said to be at another.

    Parameters
    ----------
    spectrum : numpy.ndarray
        The clip's :func:`mean_power_spectrum` at ``sr``.
    training_spectrum : dict
        ``{"hz", "db"}``: the training clips' band centres and median levels.
    sr : int
        The model's rate.

    Returns
    -------
    tuple of (int, float, float) or None
        The rate, and the differences in dB taken at ``sr`` and read at that rate.
    """
    hz, db = np.asarray(training_spectrum["hz"], float), np.asarray(training_spectrum["db"], float)
    best = None
    for rate in _COMMON_RATES:
        bands = (hz >= _LOWEST_COMPARED_HZ) & (hz <= 0.45 * min(sr, rate))
        if rate == sr or bands.sum() < 8:
            continue
        apart = []
        for read_at in (sr, rate):
            difference = _levels_if_recorded_at(spectrum, sr, read_at, hz[bands]) - db[bands]
            apart.append(float(np.median(np.abs(difference - np.median(difference)))))
        taken, read = apart
        matches = read < min(_RATE_MATCH_DB, _RATE_MATCH_SHARE * taken)
        if taken >= _RATE_MISMATCH_DB and matches and (best is None or read < best[2]):
            best = (rate, taken, read)
    return best


def training_profile(profiles, spectrum=None):
    """What the checks compare new clips with: the training clips' durations, codecs and spectrum.

    Parameters
    ----------
    profiles : list of ClipProfile
        The training clips'.
    spectrum : dict or None
        ``{"hz", "db"}``: the training clips' band centres and median levels (a log-mel
        detector's :meth:`~audioad.detectors.frontend.TrainingLevels.spectrum`); None leaves it out.

    Returns
    -------
    dict
        ``seconds``: [shortest, longest]; ``codecs``: the sorted codecs of the training files;
        ``rates``: the sorted sample rates the training clips were recorded at, where known;
        ``spectrum`` where given.
    """
    seconds = [p.seconds for p in profiles]
    codecs = sorted({p.codec for p in profiles if p.codec is not None})
    rates = sorted({int(p.rate) for p in profiles if p.rate is not None})
    profile = {"seconds": [float(min(seconds)), float(max(seconds))], "codecs": codecs, "rates": rates}
    if spectrum is not None:
        profile["spectrum"] = spectrum
    return profile


def _khz(hz):
    return f"{hz / 1000:.3g}"


def band_heard(sr, rates):
    """Which band a model at ``sr`` hears of recordings made at ``rates``, and what it leaves out.

    A model hears up to half its sample rate (its Nyquist frequency); the recordings may hold more.

    Parameters
    ----------
    sr : int
        The model's sample rate.
    rates : iterable of int
        The rates the recordings were made at (a training profile's ``rates``); empty where unknown.

    Examples
    --------
    >>> band_heard(16000, [48000])
    'hears 0-8 kHz of 48 kHz recordings; 8-24 kHz left out'
    >>> band_heard(16000, [16000, 44100])
    'hears 0-8 kHz of 16-44.1 kHz recordings; up to 8-22.1 kHz left out'
    >>> band_heard(16000, [16000]), band_heard(16000, [])
    ('hears 0-8 kHz, the whole band of its 16 kHz recordings', 'hears 0-8 kHz')
    """
    rates = sorted(set(rates))
    heard = f"hears 0-{_khz(sr / 2)} kHz"
    if not rates:
        return heard
    made = _khz(rates[0]) if len(rates) == 1 else f"{_khz(rates[0])}-{_khz(rates[-1])}"
    if rates[-1] <= sr:
        return f"{heard}, the whole band of its {made} kHz recordings"
    upto = "" if len(rates) == 1 else "up to "
    return f"{heard} of {made} kHz recordings; {upto}{_khz(sr / 2)}-{_khz(rates[-1] / 2)} kHz left out"


def domain_warnings(profile, training, sr, min_samples=None):
    """The ways a clip is unlike the training clips, each ``"<kind>: <what>"``; empty when none.

    The kinds are :data:`WARNING_KINDS`.

    Parameters
    ----------
    profile : ClipProfile
        The clip's.
    training : dict or None
        :func:`training_profile` of the training clips; None (a model file from
        before these checks) skips the comparisons with them.
    sr : int
        The model's sample rate.
    min_samples : int or None
        Samples in one analysis window of the model's front end, where it has one.

    Returns
    -------
    list of str
    """
    warnings = []
    if min_samples is not None and profile.seconds * sr < min_samples:
        clip_ms, window_ms = profile.seconds * 1000, min_samples / sr * 1000
        warnings.append(f"too short: {clip_ms:.0f} ms, less than one analysis window ({window_ms:.0f} ms)")
    if profile.peak is not None and profile.peak < _SILENCE_PEAK:
        if profile.channel_peak is not None and profile.channel_peak >= _SILENCE_PEAK:
            loudest = 20 * np.log10(profile.channel_peak)
            warnings.append(
                f"silent: its channels cancel when mixed to mono (each up to {loudest:.0f} dB full scale, "
                "in anti-phase); score one channel alone"
            )
        else:
            warnings.append("silent: digital silence")
    if profile.clipped is not None and profile.clipped > _CLIPPED_SHARE:
        warnings.append(f"clipped: {profile.clipped:.1%} of samples at full scale")
    if profile.rate is not None and profile.rate < sr:
        warnings.append(
            f"low rate: recorded at {profile.rate} Hz, below the model's {sr} Hz: nothing above {profile.rate // 2} Hz"
        )
    if training:
        shortest, longest = training["seconds"]
        if not shortest / _DURATION_FACTOR <= profile.seconds <= longest * _DURATION_FACTOR:
            warnings.append(f"duration: {profile.seconds:.2f} s, the training clips {shortest:.2f}-{longest:.2f} s")
        codecs = training["codecs"]
        # A lossless copy (FLAC, 24-bit or float WAV) scores as the original: only a lossy codec is said.
        lossy = profile.codec is not None and profile.codec.rpartition(" ")[2] in _LOSSY
        if lossy and codecs and profile.codec not in codecs:
            warnings.append(f"codec: {profile.codec}, the training files {', '.join(codecs)}")
        spectrum = training.get("spectrum")
        if profile.spectrum is not None and spectrum is not None:
            looks = looks_recorded_at(profile.spectrum, spectrum, sr)
            if looks is not None:
                rate, taken, read = looks
                warnings.append(
                    f"rate: a bare array is taken at the model's {sr} Hz, but its spectrum looks recorded at "
                    f"{rate} Hz (it differs from the training clips' by {taken:.0f} dB taken at {sr} Hz, "
                    f"{read:.0f} dB read at {rate} Hz): pass (waveform, {rate}) if it was recorded so"
                )
        elif profile.rate is None and profile.codec is None and shortest == longest:
            # A bare array has no rate: taken at the model's, a 48 kHz one lasts three times as long.
            for rate in _COMMON_RATES:
                if rate != sr and abs(profile.seconds * sr / rate - longest) <= _SAME_LENGTH * longest:
                    warnings.append(
                        f"rate: a bare array is taken at the model's {sr} Hz; it lasts {profile.seconds:.2f} s, "
                        f"as long as a training clip at {rate} Hz: pass (waveform, {rate}) if it was recorded so"
                    )
                    break
    return warnings


def count_warnings(per_clip):
    """How many clips got each kind of warning, in the order of :data:`WARNING_KINDS`.

    Parameters
    ----------
    per_clip : iterable of list of str
        Each clip's warnings, as :func:`domain_warnings` gives them.

    Returns
    -------
    dict
        Kind -> number of clips, the kinds that occur only.
    """
    counts = dict.fromkeys(WARNING_KINDS, 0)
    for warnings in per_clip:
        for kind in {warning.partition(":")[0] for warning in warnings}:
            counts[kind] += 1
    return {kind: n for kind, n in counts.items() if n}


def check_training(profiles, sr, min_samples=None):
    """The checks that scoring applies, run on the training clips: a summary line, or a refusal.

    Parameters
    ----------
    profiles : list of ClipProfile
        The training clips' (or segments').
    sr : int
        The model's sample rate.
    min_samples : int or None
        Samples in one analysis window of the model's front end.

    Returns
    -------
    str
        One line on how many clips are of each kind, ``""`` where none is: too short, silent,
        clipped, low rate, and quiet (a peak far below the other clips').

    Raises
    ------
    ValueError
        Where no clip is usable: every one is silent or holds less than a quarter of one
        analysis window.

    Examples
    --------
    >>> from audioad.audio import AudioSource
    >>> wav = AudioSource(16000, "WAV PCM_16")
    >>> loud, faint = profile_clip(np.full(16000, 0.5), 16000, wav), profile_clip(np.full(16000, 0.001), 16000, wav)
    >>> silent = profile_clip(np.zeros(16000), 16000, wav)
    >>> print(check_training([loud, loud, faint, silent], 16000, 1024))
    2 of 4 training clips are unlike a usable recording: 1 silent, 1 quiet (54 dB below the others)
    >>> check_training([silent] * 3, 16000)
    Traceback (most recent call last):
    ...
    ValueError: none of the 3 training clips is usable: 3 silent; record the machine running normally ...
    """
    per_clip = [
        [w for w in domain_warnings(p, None, sr, min_samples) if w.partition(":")[0] in WARNING_KINDS] for p in profiles
    ]
    counts = count_warnings(per_clip)
    too_short = None if min_samples is None else _UNUSABLE_WINDOW_SHARE * min_samples / sr
    unusable = sum(
        (p.peak is not None and p.peak < _SILENCE_PEAK) or (too_short is not None and p.seconds < too_short)
        for p in profiles
    )
    peaks = np.array([p.peak for p in profiles if p.peak is not None and p.peak >= _SILENCE_PEAK])
    quiet = []
    if len(peaks) > 1:
        median = float(np.median(peaks))
        quiet = [20 * np.log10(median / peak) for peak in peaks if 20 * np.log10(median / peak) > _QUIET_DB]
    kinds = ", ".join(f"{n} {kind}" for kind, n in counts.items())
    if profiles and unusable == len(profiles):
        short = [w for warnings in per_clip for w in warnings if w.startswith("too short")]
        why = f" ({short[0].partition(': ')[2]})" if short else ""
        raise ValueError(
            f"none of the {len(profiles)} training clips is usable: {kinds}{why}; record the machine running "
            "normally for longer than one analysis window, with sound on the recording"
        )
    if quiet:
        kinds += f"{', ' if kinds else ''}{len(quiet)} quiet ({max(quiet):.0f} dB below the others)"
    odd = sum(bool(w) for w in per_clip) + len(quiet)
    if not odd:
        return ""
    return f"{min(odd, len(profiles))} of {len(profiles)} training clips are unlike a usable recording: {kinds}"
