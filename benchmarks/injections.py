"""Short events added to normal clips at a known in-band level: the minimum detectable level of run.py.

Three events, each lasting :data:`EVENT_SECONDS` (or the whole clip if it is shorter), centred in
the clip:

- ``tone``: a steady 3 kHz tone, with 5 ms raised-cosine fades (at most a tenth of the event each);
- ``clicks``: a train of 10 clicks a second, each a 3 kHz sine decaying with a 1 ms time constant
  (cut after 8 ms), the first at the event's start;
- ``noise``: white noise filtered to one octave around 2 kHz (1414-2828 Hz), with the tone's fades.

**In-band level.** Each event has a band ``(low, high)`` in Hz, the mel band(s) where its energy
lies, whatever the clip's sample rate:

- ``tone``: one mel band centred on the tone: the band from ``mel - d/2`` to ``mel + d/2``, where
  ``mel`` is the tone's frequency on Slaney's mel scale and ``d`` the spacing of the centres of 128
  mel bands from 0 to 8 kHz (audioad's default front end at 16 kHz): about 2830-3180 Hz;
- ``clicks``: one octave around 3 kHz (2121-4243 Hz), which holds about 90 % of a click's energy;
- ``noise``: its own octave, 1414-2828 Hz.

The energy of a signal in a band is the sum of ``|X(f)|**2`` over the bins ``low <= f <= high``
of the real FFT of the event's span (Parseval: the band's share of the signal's energy). The
in-band level is ``10 * log10(E_band(event) / E_band(clip))``, both over the event's span of
samples: 0 dB adds as much energy in the band as the clip already has there. :func:`inject` scales
the event to the level asked for, so that ``in_band_level(injected - clip, clip, ...)`` equals it.
"""

from __future__ import annotations

import numpy as np

EVENT_SECONDS = 2.0
EVENTS = ("tone", "clicks", "noise")
TONE_HZ = 3000.0
CLICK_HZ = 3000.0
CLICKS_PER_SECOND = 10.0
CLICK_DECAY_S = 0.001
CLICK_LENGTH_S = 0.008
NOISE_CENTRE_HZ = 2000.0
FADE_S = 0.005
#: The mel scale that defines the tone's band: audioad's default front end at 16 kHz.
N_MELS, MEL_FMAX = 128, 8000.0

EVENT_NAMES = {
    "tone": "tone 3 kHz",
    "clicks": "clicks 10/s at 3 kHz",
    "noise": "noise, octave at 2 kHz",
}


def octave(centre_hz: float) -> tuple[float, float]:
    """One octave around ``centre_hz``: ``(centre / sqrt 2, centre * sqrt 2)``."""
    return centre_hz / np.sqrt(2.0), centre_hz * np.sqrt(2.0)


def mel_band(frequency_hz: float, n_mels: int = N_MELS, fmax: float = MEL_FMAX) -> tuple[float, float]:
    """The band one mel-band spacing wide (``n_mels`` bands from 0 to ``fmax``, Slaney) centred on a frequency."""
    from audioad.features.mel import hz_to_mel, mel_to_hz

    spacing = float(hz_to_mel(fmax)) / (n_mels + 1)
    centre = float(hz_to_mel(frequency_hz))
    return float(mel_to_hz(centre - spacing / 2)), float(mel_to_hz(centre + spacing / 2))


def event_band(kind: str) -> tuple[float, float]:
    """The band ``(low, high)`` in Hz in which the level of event ``kind`` is measured."""
    if kind == "tone":
        return mel_band(TONE_HZ)
    if kind == "clicks":
        return octave(CLICK_HZ)
    if kind == "noise":
        return octave(NOISE_CENTRE_HZ)
    raise ValueError(f"unknown event {kind!r}; one of {EVENTS}")


def band_energy(x, sr: int, band: tuple[float, float]) -> float:
    """Energy of ``x`` in ``band`` (Hz): the sum of ``|rfft(x)|**2`` over the bins in the band."""
    spectrum = np.fft.rfft(np.asarray(x, dtype=np.float64))
    frequencies = np.fft.rfftfreq(len(x), 1.0 / sr)
    inside = (frequencies >= band[0]) & (frequencies <= band[1])
    return float(np.sum(np.abs(spectrum[inside]) ** 2))


def in_band_level(event, clip, sr: int, band: tuple[float, float]) -> float:
    """``10 log10(E_band(event) / E_band(clip))`` in dB; ``event`` and ``clip`` cover the same span."""
    return 10.0 * np.log10(band_energy(event, sr, band) / max(band_energy(clip, sr, band), 1e-30))


def event_span(n_samples: int, sr: int, seconds: float = EVENT_SECONDS) -> slice:
    """The samples the event covers: ``seconds`` centred in the clip, or the whole clip if shorter."""
    length = min(n_samples, int(round(seconds * sr)))
    start = (n_samples - length) // 2
    return slice(start, start + length)


def _fades(n: int, sr: int) -> np.ndarray:
    ramp = max(1, min(int(round(FADE_S * sr)), n // 10))
    envelope = np.ones(n)
    rise = 0.5 - 0.5 * np.cos(np.pi * np.arange(ramp) / ramp)
    envelope[:ramp] = rise
    envelope[n - ramp :] = rise[::-1]
    return envelope


def make_event(kind: str, n: int, sr: int, seed: int = 0) -> np.ndarray:
    """Event ``kind`` of ``n`` samples at ``sr``, unscaled (``seed`` draws the noise)."""
    t = np.arange(n) / sr
    if kind == "tone":
        return np.sin(2 * np.pi * TONE_HZ * t) * _fades(n, sr)
    if kind == "clicks":
        length = min(n, int(round(CLICK_LENGTH_S * sr)))
        tc = np.arange(length) / sr
        click = np.sin(2 * np.pi * CLICK_HZ * tc) * np.exp(-tc / CLICK_DECAY_S)
        event = np.zeros(n)
        for start in np.round(np.arange(0.0, n / sr, 1.0 / CLICKS_PER_SECOND) * sr).astype(int):
            stop = min(n, start + length)
            event[start:stop] += click[: stop - start]
        return event
    if kind == "noise":
        spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(n))
        frequencies = np.fft.rfftfreq(n, 1.0 / sr)
        low, high = octave(NOISE_CENTRE_HZ)
        spectrum[(frequencies < low) | (frequencies > high)] = 0.0
        return np.fft.irfft(spectrum, n) * _fades(n, sr)
    raise ValueError(f"unknown event {kind!r}; one of {EVENTS}")


def inject(clip, sr: int, kind: str, level_db: float, seed: int = 0) -> np.ndarray:
    """``clip`` (float32) with event ``kind`` added over :func:`event_span` at ``level_db`` in-band.

    Examples
    --------
    >>> clip = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
    >>> injected = inject(clip, 16000, "tone", 10.0)
    >>> span = event_span(len(clip), 16000)
    >>> round(in_band_level(injected[span] - clip[span], clip[span], 16000, event_band("tone")), 2)
    10.0
    """
    clip = np.asarray(clip, dtype=np.float32)
    span = event_span(len(clip), sr)
    segment = clip[span].astype(np.float64)
    event = make_event(kind, len(segment), sr, seed)
    band = event_band(kind)
    wanted = 10.0 ** (level_db / 10.0) * max(band_energy(segment, sr, band), 1e-30)
    gain = np.sqrt(wanted / max(band_energy(event, sr, band), 1e-30))
    out = clip.copy()
    out[span] = (segment + gain * event).astype(np.float32)
    return out
