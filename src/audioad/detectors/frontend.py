"""Front ends: how a detector turns waveforms into what its features are made from.

A front end is a value object: its settings, ``transform`` (a list of
waveforms to one item per clip), ``transform_stream`` (a long file, decoded a
block at a time, to a list of one item) and equality by settings, so that an
:class:`~audioad.detectors.ensemble.Ensemble` can compute each distinct front
end once for all the members that share it.

Every front end transforms each clip on its own: a clip's result never
depends on which other clips share the call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..features import LEVEL_QUANTILES, LOGS, BandLevels, log_mel_many, log_mel_stream, mel_frequencies

__all__ = [
    "LogMelFrontend",
    "EncoderFrontend",
    "CombinedFrontend",
    "check_positive_integers",
    "log_mel_part",
    "TrainingLevels",
]


def check_positive_integers(owner, names):
    """Raise ValueError for the first of ``names`` that is not a positive integer on ``owner``.

    Examples
    --------
    >>> check_positive_integers(LogMelFrontend(sr=0), ["sr"])
    Traceback (most recent call last):
    ...
    ValueError: sr must be a positive integer, got 0
    """
    for name in names:
        value = getattr(owner, name)
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


@dataclass(frozen=True)
class LogMelFrontend:
    """The log-mel spectrogram of each clip, by :func:`~audioad.features.log_mel`'s rules.

    Parameters
    ----------
    sr : int
        Rate clips are loaded at, in Hz.
    n_fft, hop_length, n_mels : int
        FFT size and hop in samples, mel bands.
    log : {"db", "dcase"}
        Log convention of :func:`~audioad.features.log_mel`.
    workers : int or None
        Threads; ``None`` uses every core. Not part of the front end's
        identity: it changes how fast, never what.

    Examples
    --------
    >>> frontend = LogMelFrontend(sr=16000, n_mels=64)
    >>> [spec.shape for spec in frontend.transform([np.zeros(16000), np.zeros(8000)])]
    [(64, 32), (64, 16)]
    >>> frontend == LogMelFrontend(sr=16000, n_mels=64, workers=1), frontend.hop_seconds
    (True, 0.032)
    """

    sr: int = 16000
    n_fft: int = 1024
    hop_length: int = 512
    n_mels: int = 128
    log: str = "db"
    workers: int | None = None

    def __eq__(self, other):
        return isinstance(other, LogMelFrontend) and self.key == other.key

    def __hash__(self):
        return hash(self.key)

    @property
    def key(self):
        """The settings that decide the result."""
        return ("log-mel", self.sr, self.n_fft, self.hop_length, self.n_mels, self.log)

    def check(self):
        """Raise ValueError for settings :func:`~audioad.features.log_mel` cannot use."""
        if self.log not in LOGS:
            raise ValueError(f"log must be 'db' (librosa's power_to_db) or 'dcase', got {self.log!r}")
        check_positive_integers(self, ("sr", "n_fft", "hop_length", "n_mels"))

    def _settings(self):
        return dict(sr=self.sr, n_fft=self.n_fft, hop_length=self.hop_length, n_mels=self.n_mels, log=self.log)

    def transform(self, waves):
        """One (n_mels, n_frames) spectrogram per waveform, in order."""
        return log_mel_many(waves, workers=self.workers, **self._settings())

    def transform_stream(self, stream):
        """The spectrogram of a long file, as a list of one, made as its blocks are decoded."""
        return [log_mel_stream(stream, n_samples=stream.n_samples, **self._settings())]

    @property
    def hop_seconds(self):
        """Seconds between consecutive frames."""
        return self.hop_length / self.sr

    @property
    def window_samples(self):
        """Samples in one analysis window: a shorter clip is padded to one frame."""
        return self.n_fft

    @property
    def edge_frames(self):
        """Frames at each end of a clip whose window reaches into the zero padding of centred frames."""
        return -(-(self.n_fft // 2) // self.hop_length)


@dataclass(frozen=True)
class EncoderFrontend:
    """One embedding vector per clip from an encoder of waveforms (e.g. clip descriptors).

    Parameters
    ----------
    encode : callable
        Takes a list of waveforms at ``sr``, returns an (n_clips, n_features) array.
    sr : int
        Rate clips are loaded at, in Hz.

    Examples
    --------
    >>> frontend = EncoderFrontend(lambda waves: [[w.mean(), w.std()] for w in waves], sr=8000)
    >>> frontend.transform([np.ones(4), np.zeros(4)])
    [array([1., 0.]), array([0., 0.])]
    """

    encode: Callable
    sr: int

    #: An encoder takes clips of any length.
    window_samples = None

    def transform(self, waves):
        """One float64 vector per waveform, in order."""
        embeddings = np.asarray(self.encode(waves), dtype=np.float64)
        if embeddings.ndim != 2 or len(embeddings) != len(waves):
            raise ValueError(
                f"the encoder must return an (n_clips, n_features) array; for {len(waves)} clips "
                f"it returned shape {embeddings.shape}"
            )
        return list(embeddings)

    def transform_stream(self, stream):
        """The vector of a long file: the encoder sees it whole."""
        return self.transform([np.concatenate(list(stream))])


@dataclass(frozen=True)
class CombinedFrontend:
    """Several front ends at once, each distinct one computed once: an ensemble's.

    Parameters
    ----------
    frontends : tuple
        One front end per member, repeats allowed; all at one ``sr``.

    Examples
    --------
    >>> mel = LogMelFrontend(sr=16000, n_mels=32)
    >>> per_clip = CombinedFrontend((mel, mel)).transform([np.zeros(16000)])
    >>> len(per_clip), per_clip[0][0] is per_clip[0][1]
    (1, True)
    """

    frontends: tuple

    @property
    def sr(self):
        """The members' common rate."""
        return self.frontends[0].sr

    @property
    def window_samples(self):
        """The longest analysis window of the front ends, or None where none has one."""
        windows = [f.window_samples for f in self.frontends if f.window_samples is not None]
        return max(windows) if windows else None

    def _each(self, transform):
        """Per clip, a tuple of every front end's item; a front end equal to an earlier one is not run again."""
        done = {}
        for frontend in self.frontends:
            if frontend not in done:
                done[frontend] = transform(frontend)
        return list(zip(*(done[frontend] for frontend in self.frontends)))

    def transform(self, waves):
        """Per clip, a tuple with one item for each front end."""
        return self._each(lambda frontend: frontend.transform(waves))

    def transform_stream(self, stream):
        """The same for one long file, its blocks decoded once per distinct front end."""
        return self._each(lambda frontend: frontend.transform_stream(stream))


def log_mel_part(frontend):
    """The log-mel front end within ``frontend``, and where a clip's spectrogram sits in its items.

    Returns
    -------
    (LogMelFrontend, int or None) or None
        The front end and ``None`` when ``frontend`` is itself a :class:`LogMelFrontend`; the
        first log-mel member of a :class:`CombinedFrontend` and its position in each clip's
        tuple; ``None`` when no log-mel is made (an encoder's embeddings).

    Examples
    --------
    >>> mel = LogMelFrontend(n_mels=32)
    >>> log_mel_part(CombinedFrontend((EncoderFrontend(len, 16000), mel))) == (mel, 1)
    True
    >>> log_mel_part(EncoderFrontend(len, 16000)) is None
    True
    """
    if isinstance(frontend, LogMelFrontend):
        return frontend, None
    for position, member in enumerate(getattr(frontend, "frontends", ())):
        if isinstance(member, LogMelFrontend):
            return member, position
    return None


class TrainingLevels:
    """Records the level of every mel band over the training clips' frames, as a detector is fitted.

    Called with each chunk's front-end items, it takes the log-mel of each clip (see
    :func:`log_mel_part`) into a :class:`~audioad.features.BandLevels`; :meth:`reference` is
    what :mod:`audioad.explain` compares clips with. :meth:`of` gives ``None`` for a front end
    that makes no log-mel.

    Examples
    --------
    >>> frontend = LogMelFrontend(sr=16000, n_mels=8)
    >>> record = TrainingLevels.of(frontend)
    >>> record(frontend.transform([np.ones(16000) * 0.1, np.ones(8000) * 0.1]))
    >>> reference = record.reference()
    >>> reference["levels"].shape, reference["n_frames"]
    ((7, 8), 44)
    """

    def __init__(self, frontend, position):
        self.position = position
        self.edge = frontend.edge_frames
        self.sr = frontend.sr
        self.levels = BandLevels(frontend.n_mels)

    @classmethod
    def of(cls, frontend):
        """A recorder for ``frontend``'s log-mel, or ``None`` where it makes none."""
        part = log_mel_part(frontend)
        return None if part is None else cls(*part)

    def __call__(self, transformed):
        for item in transformed:
            spec = item if self.position is None else item[self.position]
            # The end frames half heard the padding (a step at the edge, a low-frequency burst):
            # not the machine's sound, so left out where a clip has frames enough to spare them.
            if spec.shape[1] > 2 * self.edge:
                spec = spec[:, self.edge : spec.shape[1] - self.edge]
            self.levels.add(spec)

    def reference(self):
        """The quantiles of each band's level (dB): ``{"quantiles", "levels" (n_q, n_mels), "n_frames"}``."""
        return {
            "quantiles": np.asarray(LEVEL_QUANTILES, dtype=np.float64),
            "levels": self.levels.quantiles(LEVEL_QUANTILES),
            "n_frames": int(self.levels.n_frames),
        }

    def spectrum(self):
        """The training clips' spectrum: each band's centre (Hz) and median level (dB), ``{"hz", "db"}``.

        What :func:`audioad.domain.domain_warnings` compares a bare array's spectrum with, to
        tell one recorded at another rate.
        """
        n_mels = self.levels.n_mels
        centres = mel_frequencies(n_mels + 2, 0.0, self.sr / 2.0)[1:-1]
        median = self.levels.quantiles([0.5])[0]
        return {"hz": [round(float(f), 2) for f in centres], "db": [round(float(d), 2) for d in median]}
