"""Synthetic machine sounds in the DCASE 2022+ layout, for tests, examples and benchmarks without downloads.

:func:`make_machine_sounds` gives each machine section a voice (a rotation frequency with its
harmonics and coloured noise), varies it from clip to clip as real machines vary, and adds one of
:data:`ANOMALY_KINDS` to each anomalous clip.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy import signal

from .table import ClipInfo, ClipTable

__all__ = ["ANOMALY_KINDS", "DEFAULT_ANOMALY_KINDS", "make_machine_sounds"]

#: Every kind of anomaly the generator can add.
ANOMALY_KINDS = ("clicks", "tone", "modulation", "shift", "rattle", "resonance")

#: The kinds used, in turn, unless others are asked for.
DEFAULT_ANOMALY_KINDS = ANOMALY_KINDS[:5]

# Output level: leaves headroom for clicks before 16-bit clipping.
_LEVEL = 0.08


@dataclass(frozen=True)
class _Voice:
    """What makes one machine section sound like itself."""

    f0: float
    target_speed: float
    harmonic_amplitudes: np.ndarray
    harmonic_phases: np.ndarray
    noise_sos: np.ndarray
    noise_level: float
    resonance: float


def _section_rng(random_state, machine: str, section: int) -> np.random.Generator:
    """One generator per machine section, so a section sounds the same whatever else is generated."""
    if random_state is None:
        random_state = np.random.SeedSequence().entropy
    return np.random.default_rng([int(random_state), zlib.crc32(machine.encode()), section])


def _make_voice(rng: np.random.Generator, sr: int) -> _Voice:
    f0 = rng.uniform(60.0, 250.0)
    target_speed = rng.choice([-1.0, 1.0]) * rng.uniform(0.08, 0.15) + 1.0
    # harmonics stay below Nyquist at the fastest speed a clip can reach (target domain, shift, drift)
    n_harmonics = int(min(30, 0.45 * sr / (f0 * 1.3)))
    k = np.arange(1, n_harmonics + 1)
    amplitudes = k ** -rng.uniform(0.5, 1.0) * 10 ** (rng.normal(0.0, 4.0, n_harmonics) / 20)
    amplitudes /= np.sqrt(np.sum(amplitudes**2) / 2)
    low = rng.uniform(100.0, 400.0)
    high = min(rng.uniform(3000.0, 7000.0), 0.45 * sr)
    return _Voice(
        f0=f0,
        target_speed=target_speed,
        harmonic_amplitudes=amplitudes,
        harmonic_phases=rng.uniform(0, 2 * np.pi, n_harmonics),
        noise_sos=signal.butter(2, [low, high], btype="bandpass", fs=sr, output="sos"),
        noise_level=10 ** (-rng.uniform(6.0, 14.0) / 20),
        resonance=min(rng.uniform(2000.0, 5000.0), 0.4 * sr),
    )


def _machine_clips(rng, voice: _Voice, speeds, n_samples: int, sr: int):
    """Normal sound of a section at the given speeds: harmonics with speed drift plus coloured noise.

    Returns the clips (n_clips, n_samples) and their mean fundamental frequency.
    """
    n_clips = len(speeds)
    t = np.arange(n_samples) / sr
    speeds = np.asarray(speeds) * (1 + rng.normal(0.0, 0.004, n_clips))
    drift_depth = rng.uniform(0.005, 0.02, (n_clips, 1))
    drift_rate = rng.uniform(0.1, 0.5, (n_clips, 1))
    drift_phase = rng.uniform(0, 2 * np.pi, (n_clips, 1))
    f0 = voice.f0 * speeds[:, None] * (1 + drift_depth * np.sin(2 * np.pi * drift_rate * t + drift_phase))
    # the phase accumulates in double precision; once wrapped, single precision is plenty for
    # audio and several times faster (a complex exp costs far more than a sine and a cosine)
    phase = np.mod(2 * np.pi / sr * np.cumsum(f0, axis=1), 2 * np.pi).astype(np.float32)
    rotation = np.empty(phase.shape, np.complex64)
    rotation.real, rotation.imag = np.cos(phase), np.sin(phase)
    jitter = 10 ** (rng.normal(0.0, 1.0, (n_clips, len(voice.harmonic_amplitudes))) / 20)
    coefficients = voice.harmonic_amplitudes * jitter * np.exp(1j * voice.harmonic_phases)
    coefficients = coefficients.astype(np.complex64)
    # Horner's rule in exp(i*phase): one complex product per harmonic instead of a sine each
    harmonics = np.repeat(coefficients[:, -1:], n_samples, axis=1)
    for k in range(coefficients.shape[1] - 2, -1, -1):
        harmonics *= rotation
        harmonics += coefficients[:, k : k + 1]
    harmonics = (harmonics * rotation).imag.astype(float)

    noise = signal.sosfilt(voice.noise_sos, rng.standard_normal((n_clips, n_samples)), axis=1)
    noise *= voice.noise_level * 10 ** (rng.normal(0.0, 1.0, (n_clips, 1)) / 20) / noise.std()
    return harmonics + noise, voice.f0 * speeds


@dataclass(frozen=True)
class _SessionDrift:
    """How one recording session of a section sounds: the machine, the room and the microphone.

    Against the first session: the gain, the microphone's response (a tilt in dB per octave around
    1 kHz), the speed range and the wear (higher harmonics louder, by up to ``wear_db`` at the
    highest); and the session's background noise (low-passed, ``background_db`` re the machine's
    level; None: no background, the clip as synthesised).
    """

    gain_db: float = 0.0
    tilt_db_per_octave: float = 0.0
    speed: float = 1.0
    wear_db: float = 0.0
    background_db: float | None = None
    background_sos: np.ndarray | None = None
    rng: np.random.Generator | None = None
    sr: int = 16000

    def worn(self, voice: _Voice) -> _Voice:
        if not self.wear_db:
            return voice
        k = np.arange(len(voice.harmonic_amplitudes))
        rise = self.wear_db * k / max(len(k) - 1, 1)
        return replace(voice, harmonic_amplitudes=voice.harmonic_amplitudes * 10 ** (rise / 20))

    def recorded(self, wave: np.ndarray) -> np.ndarray:
        """The clip as this session's microphone, room and gain give it."""
        if self.background_db is None:
            return wave
        spectrum = np.fft.rfft(wave)
        frequencies = np.maximum(np.fft.rfftfreq(len(wave), 1 / self.sr), 50.0)
        spectrum *= 10 ** (self.tilt_db_per_octave * np.log2(frequencies / 1000.0) / 20)
        wave = np.fft.irfft(spectrum, n=len(wave))
        background = signal.sosfilt(self.background_sos, self.rng.standard_normal(len(wave)))
        wave = wave + 10 ** (self.background_db / 20) * _rms(wave) * background / background.std()
        return wave * 10 ** (self.gain_db / 20)


def _session_drifts(rng, sessions: int, strength: float, sr: int) -> list:
    """One :class:`_SessionDrift` per session: the first the reference, each later one a step further.

    With more than one session, each has a background noise of its own, the first included: a room
    is never silent, and what changes between sessions is its noise, not that there is one.
    """
    if sessions == 1:
        return [_SessionDrift(sr=sr)]
    drifts = []
    gain_db, tilt, speed, wear_db = 0.0, 0.0, 1.0, 0.0
    for session in range(sessions):
        if session:
            gain_db += strength * rng.choice([-1.0, 1.0]) * rng.uniform(1.5, 3.0)
            tilt += strength * rng.choice([-1.0, 1.0]) * rng.uniform(0.1, 0.3)
            speed *= 1 + strength * rng.choice([-1.0, 1.0]) * rng.uniform(0.01, 0.02)
            wear_db += strength * rng.uniform(2.0, 4.0)
        level_db, cutoff = rng.uniform(-45.0, -35.0), min(rng.uniform(200.0, 1000.0), 0.4 * sr)
        if session == 0:
            first_background = level_db, cutoff
        elif not strength:
            # without drift, every session has the first one's background
            level_db, cutoff = first_background
        drifts.append(
            _SessionDrift(
                gain_db=gain_db,
                tilt_db_per_octave=tilt,
                speed=speed,
                wear_db=wear_db,
                background_db=level_db,
                background_sos=signal.butter(2, cutoff, btype="lowpass", fs=sr, output="sos"),
                rng=np.random.default_rng(rng.integers(2**63)),
                sr=sr,
            )
        )
    return drifts


def _clicks(rng, clip, voice: _Voice, f0: float, strength: float, sr: int):
    """Bearing clicks: jittered periodic impulses, each ringing the section's resonance."""
    n_samples = clip.shape[-1]
    period = sr / rng.uniform(6.0, 15.0)
    onsets = np.cumsum(period * (1 + rng.uniform(-0.15, 0.15, int(n_samples / period) + 2)))
    onsets = onsets[onsets < n_samples].astype(int)
    impulses = np.zeros(n_samples)
    impulses[onsets] = rng.uniform(0.6, 1.0, len(onsets))
    b, a = signal.iirpeak(voice.resonance, Q=20, fs=sr)
    ringing = signal.lfilter(b, a, impulses)
    peak = np.max(np.abs(ringing))
    return clip + strength * 5.0 * _rms(clip) * ringing / (peak if peak > 0 else 1.0)


def _tone(rng, clip, voice: _Voice, f0: float, strength: float, sr: int):
    """A pure tone between two harmonics of the clip's fundamental."""
    t = np.arange(clip.shape[-1]) / sr
    frequency = min(f0 * (rng.integers(3, 20) + rng.uniform(0.3, 0.7)), 0.4 * sr)
    return clip + strength * 0.3 * _rms(clip) * np.sin(2 * np.pi * frequency * t + rng.uniform(0, 2 * np.pi))


def _modulation(rng, clip, voice: _Voice, f0: float, strength: float, sr: int):
    """Amplitude modulation at 4-12 Hz, as from an unbalanced or loose part."""
    t = np.arange(clip.shape[-1]) / sr
    depth = min(0.5 * strength, 0.95)
    return clip * (1 + depth * np.sin(2 * np.pi * rng.uniform(4.0, 12.0) * t + rng.uniform(0, 2 * np.pi)))


def _rattle(rng, clip, voice: _Voice, f0: float, strength: float, sr: int):
    """Short bursts of band-limited noise at random moments."""
    n_samples = clip.shape[-1]
    centre = rng.uniform(800.0, min(4000.0, 0.3 * sr))
    sos = signal.butter(2, [centre / 1.3, centre * 1.3], btype="bandpass", fs=sr, output="sos")
    noise = signal.sosfilt(sos, rng.standard_normal(n_samples))
    n_bursts = max(1, int(rng.uniform(1.5, 4.0) * n_samples / sr))
    envelope = np.zeros(n_samples)
    lengths = np.maximum(1, (rng.uniform(0.02, 0.06, n_bursts) * sr).astype(int))
    for onset, length in zip(rng.integers(0, n_samples, n_bursts), lengths):
        window = np.hanning(length)[: n_samples - onset]
        envelope[onset : onset + len(window)] = np.maximum(envelope[onset : onset + len(window)], window)
    return clip + strength * 1.5 * _rms(clip) * envelope * noise / noise.std()


def _resonance(rng, clip, voice: _Voice, f0: float, strength: float, sr: int):
    """A new resonance: one band boosted by 6 dB (at strength 1), steady over the clip.

    It changes the clip's average spectrum and nothing about how the sound fluctuates, as a
    loosened panel or a worn mount that starts to ring along does.
    """
    centre = rng.uniform(500.0, min(6000.0, 0.35 * sr))
    b, a = signal.iirpeak(centre, Q=4.0, fs=sr)
    return clip + (10 ** (6.0 * strength / 20) - 1) * signal.lfilter(b, a, clip)


def _rms(clip) -> float:
    return float(np.sqrt(np.mean(clip**2)))


# 'shift' is not added to a clip: it changes the speed a clip is synthesised at
_ADDED_ANOMALIES = {
    "clicks": _clicks,
    "tone": _tone,
    "modulation": _modulation,
    "rattle": _rattle,
    "resonance": _resonance,
}


def make_machine_sounds(
    root,
    machines: Sequence[str] = ("fan", "pump"),
    n_sections: int = 2,
    n_train: int = 30,
    n_test_normal: int = 10,
    n_test_anomaly: int = 10,
    duration: float = 2.0,
    sr: int = 16000,
    anomaly_strength: float = 1.0,
    anomaly_kinds: Sequence[str] = DEFAULT_ANOMALY_KINDS,
    target_fraction: float = 0.1,
    speed_spread: float = 0.0,
    sessions: int = 1,
    session_drift: float = 1.0,
    random_state: int | None = 0,
) -> ClipTable:
    """Write synthetic machine sounds in the DCASE 2022+ layout and return their table.

    Each machine section has its own rotation frequency (60-250 Hz) with a harmonic series of
    decaying amplitudes and band-limited coloured noise. Normal clips vary: the speed drifts by
    0.5-2 % within a clip, and harmonic levels, noise level and gain differ a little between clips.
    A fraction of the clips runs in the target domain, 8-15 % faster or slower (the ``speed``
    attribute). Anomalous clips carry one anomaly each, the kinds taken in turn:

    - ``'clicks'``: bearing clicks, jittered periodic impulses ringing a resonance (2-5 kHz);
    - ``'tone'``: a pure tone between two harmonics;
    - ``'modulation'``: amplitude modulation at 4-12 Hz;
    - ``'shift'``: the fundamental moved by about 3 % (scaled by the strength);
    - ``'rattle'``: bursts of band-limited noise;
    - ``'resonance'``: one band boosted by 6 dB, steady (not among the kinds used by default).

    ``speed_spread`` makes normal sound vary the way it does between recordings of a machine that
    runs at many speeds: every clip runs at its own speed, up to that fraction faster or slower.

    ``sessions`` records each section that many times, as a machine is recorded one week and again
    the next: every session has its own ``n_train`` training and ``n_test_normal`` +
    ``n_test_anomaly`` test clips (the ``session`` attribute, 1 first, and ``_session_<n>`` in the
    file name) and a background noise of its own (low-passed at 200-1000 Hz, 35-45 dB below the
    machine), and each later session drifts a step further from the first, as real recordings do
    (``session_drift`` scales the steps; 0 leaves the first session's background and the
    clip-to-clip variation): the gain moves by 1.5-3 dB, the microphone's response tilts by
    0.1-0.3 dB per octave around 1 kHz, the speed range by 1-2 %, and the machine wears (its
    harmonics grow louder towards the highest, by 2-4 dB there). Training on session 1 and testing
    on session 2 is "trained on last week's recordings".

    At the default strength the anomalies are subtle on purpose, so that detectors differ: a
    k-NN on time-averaged log-mel spectra does not separate them perfectly (tests/test_datasets.py
    checks that its AUC stays well below 1).

    Parameters
    ----------
    root : str or Path
        Folder to write into (created if missing); files are ``<root>/<machine>/{train,test}/
        section_<NN>_<domain>_<split>_<label>_<NNNN>_speed_<rpm>[_fault_<kind>].wav``.
    machines : str or sequence of str, default ('fan', 'pump')
        Machine types; the name seeds the machine's sound.
    n_sections : int, default 2
        Sections per machine, each its own machine sound.
    n_train, n_test_normal, n_test_anomaly : int, default 30, 10, 10
        Clips per section: normal training clips, normal and anomalous test clips.
    duration : float, default 2.0
        Clip length in seconds.
    sr : int, default 16000
        Sample rate in Hz; files are 16-bit PCM WAV.
    anomaly_strength : float, default 1.0
        Scales how audible anomalies are; 0 makes anomalous clips sound like normal ones.
    anomaly_kinds : sequence of str, default ``DEFAULT_ANOMALY_KINDS``
        Anomaly kinds to use, in turn: some of ``ANOMALY_KINDS``.
    target_fraction : float, default 0.1
        Fraction of each group of clips (train, test normal, test anomalous) in the target domain.
    speed_spread : float, default 0.0
        Each clip's speed is drawn uniformly from ``1 - speed_spread`` to ``1 + speed_spread``
        times its domain's speed (at most 0.15); 0 keeps every clip of a domain at one speed (up to a
        0.4 % jitter).
    sessions : int, default 1
        Recording sessions per section, each with all the clips above; with more than one, the
        first session's clips are those of ``sessions=1`` with its background added.
    session_drift : float, default 1.0
        How far each session drifts from the one before, between 0 (not at all) and 1.
    random_state : int or None, default 0
        Seed; the same seed gives the same files. A section's sound does not depend on the other
        machines and sections asked for, and its normal clips not on ``anomaly_strength``.

    Returns
    -------
    ClipTable
        The written clips, sorted by path, equal to ``read_dataset(root)`` on a fresh folder.

    Examples
    --------
    >>> import tempfile
    >>> table = make_machine_sounds(tempfile.mkdtemp(), machines=("pump",), n_train=3,
    ...                             n_test_normal=2, n_test_anomaly=2, duration=0.2)
    >>> len(table), table.sections, int(table.filter(split="test").labels.sum())
    (14, ['00', '01'], 4)
    >>> sorted({clip.attributes.get("fault") for clip in table.filter(label="anomaly")})
    ['clicks', 'tone']

    Two sessions, the second drifted: train on the first, test on the second.

    >>> weeks = make_machine_sounds(tempfile.mkdtemp(), machines=("pump",), n_sections=1, n_train=3,
    ...                             n_test_normal=2, n_test_anomaly=2, duration=0.2, sessions=2)
    >>> len(weeks), sorted({clip.attributes["session"] for clip in weeks})
    (14, ['1', '2'])
    """
    machines = (machines,) if isinstance(machines, str) else tuple(machines)
    anomaly_kinds = tuple(anomaly_kinds)
    unknown = [kind for kind in anomaly_kinds if kind not in ANOMALY_KINDS]
    if unknown or not anomaly_kinds:
        raise ValueError(f"unknown anomaly kinds {unknown}; anomaly_kinds must be some of {ANOMALY_KINDS}")
    if anomaly_strength < 0:
        raise ValueError(f"anomaly_strength must be >= 0, got {anomaly_strength}")
    if not 0 <= target_fraction <= 1:
        raise ValueError(f"target_fraction must be between 0 and 1, got {target_fraction}")
    # 0.15 keeps the highest harmonic below Nyquist at the fastest speed a clip can then reach
    if not 0 <= speed_spread <= 0.15:
        raise ValueError(f"speed_spread must be between 0 and 0.15, got {speed_spread}")
    if int(sessions) != sessions or sessions < 1:
        raise ValueError(f"sessions must be a whole number >= 1, got {sessions}")
    # beyond 1, a few sessions' speed steps would take the highest harmonics past Nyquist
    if not 0 <= session_drift <= 1:
        raise ValueError(f"session_drift must be between 0 and 1, got {session_drift}")
    sessions = int(sessions)
    n_samples = int(round(duration * sr))
    if n_samples < 1:
        raise ValueError(f"duration {duration} s at sr={sr} gives no samples; ask for a longer clip")
    root = Path(root).expanduser().resolve()

    groups = [
        ("train", "normal", n_train),
        ("test", "normal", n_test_normal),
        ("test", "anomaly", n_test_anomaly),
    ]
    clips = []
    for machine in machines:
        for folder in ("train", "test"):
            (root / machine / folder).mkdir(parents=True, exist_ok=True)
        for section in range(n_sections):
            rng = _section_rng(random_state, machine, section)
            voice = _make_voice(rng, sr)
            # their own generators, so that clips without a spread or sessions stay as they were
            spread = _section_rng(random_state, f"{machine}/speed", section)
            session_rng = _section_rng(random_state, f"{machine}/session", section)
            drifts = _session_drifts(session_rng, sessions, session_drift, sr)
            rows = []
            for split, label, count in groups:
                n_target = int(round(target_fraction * count))
                for domain, n_domain in (("source", count - n_target), ("target", n_target)):
                    rows += [(split, label, domain, index) for index in range(n_domain)]
            kind_of_row = [None] * len(rows)
            anomalous = [i for i, row in enumerate(rows) if row[1] == "anomaly"]
            for j, i in enumerate(anomalous):
                kind_of_row[i] = anomaly_kinds[j % len(anomaly_kinds)]
            for session, drift in enumerate(drifts, start=1):
                session_voice = drift.worn(voice)
                rpm = {
                    "source": round(voice.f0 * drift.speed * 60),
                    "target": round(voice.f0 * voice.target_speed * drift.speed * 60),
                }
                speeds = np.array([voice.target_speed if row[2] == "target" else 1.0 for row in rows]) * drift.speed
                # shifted clips get their speed changed before synthesis; every clip draws the same
                # random numbers whatever the strength, so strength 0 reproduces normal sound exactly
                shift = rng.choice([-1.0, 1.0], len(rows)) * rng.uniform(0.025, 0.035, len(rows))
                speeds = speeds * np.where(np.array(kind_of_row) == "shift", 1 + anomaly_strength * shift, 1.0)
                if speed_spread:
                    speeds = speeds * spread.uniform(1 - speed_spread, 1 + speed_spread, len(rows))
                audio, f0 = _machine_clips(rng, session_voice, speeds, n_samples, sr)
                gain = _LEVEL * 10 ** (rng.normal(0.0, 1.0, len(rows)) / 20)
                for i, ((split, label, domain, index), kind) in enumerate(zip(rows, kind_of_row)):
                    if kind in _ADDED_ANOMALIES:
                        audio[i] = _ADDED_ANOMALIES[kind](rng, audio[i], session_voice, f0[i], anomaly_strength, sr)
                    attributes = {"speed": str(rpm[domain])}
                    name = f"section_{section:02d}_{domain}_{split}_{label}_{index:04d}"
                    if sessions > 1:
                        attributes["session"] = str(session)
                        name += f"_session_{session}"
                    name += f"_speed_{rpm[domain]}"
                    if kind is not None:
                        attributes["fault"] = kind
                        name += f"_fault_{kind}"
                    path = root / machine / split / f"{name}.wav"
                    wave = drift.recorded(audio[i]) * gain[i]
                    sf.write(path, np.clip(wave, -1.0, 1.0), sr, subtype="PCM_16")
                    clips.append(ClipInfo(str(path), machine, f"{section:02d}", domain, split, label, attributes))
    return ClipTable(sorted(clips, key=lambda clip: clip.path), layout="dcase2022")
