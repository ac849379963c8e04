"""PooledMelDetector: the shared base of the training-free detectors on pooled log-mel statistics.

Each clip becomes one vector: its log-mel spectrogram pooled over time by one
or more of :data:`~audioad.features.POOLINGS` (mean, max, standard deviation,
GWRP), the poolings laid end to end. The vectors of the training clips are
standardised, and a backend (k-NN distance, Mahalanobis distance, a Gaussian
mixture) learns their distribution. Nothing is trained by gradient descent:
fitting takes as long as computing the spectrograms, and torch is not needed.
"""

from __future__ import annotations

import numpy as np

from ..features import POOLINGS, log_mel_many, time_pool
from .base import ClipDetector

__all__ = ["PooledMelDetector"]


class PooledMelDetector(ClipDetector):
    """Log-mel spectrogram pooled over time into one standardised vector per clip.

    A base class: a backend implements ``_fit_vectors(vectors)`` (learn from
    the standardised vectors of the training clips, return their scores) and
    ``_score_vectors(vectors)``.

    Parameters
    ----------
    sr : int, default 16000
        Rate clips are loaded at; other rates are resampled.
    n_fft : int, default 1024
        FFT size in samples.
    hop_length : int, default 512
        STFT hop in samples.
    n_mels : int, default 128
        Mel bands.
    pooling : str or tuple of str, default ("mean", "max", "std")
        Time pooling(s) of :func:`~audioad.features.time_pool`; a tuple
        concatenates them, ``n_mels`` values each.
    decay : float, default 0.99
        GWRP's decay ``r`` (``pooling="gwrp"`` only): 1 is the mean, 0 the maximum.
    log : {"db", "dcase"}, default "db"
        Log convention of :func:`~audioad.features.log_mel`.
    standardize : bool, default True
        Scale each value to zero mean and unit variance over the training
        clips, so that no band or pooling dominates the distance by its units.
    contamination : float, default 0.1
        Expected share of anomalous training clips; sets ``threshold_``.
    threshold_rule : {"contamination", "gamma"}, default "contamination"
        How ``threshold_`` is set from the training scores.
    n_jobs : int or None
        Threads for decoding clips; ``None`` uses every core.

    Attributes
    ----------
    feature_mean_, feature_scale_ : numpy.ndarray of shape (n_features_,)
        Standardisation of the pooled vectors (0 and 1 when ``standardize=False``).
    n_features_ : int
        Length of a clip's vector, ``n_mels`` times the number of poolings.
    """

    def __init__(
        self,
        sr=16000,
        n_fft=1024,
        hop_length=512,
        n_mels=128,
        pooling=("mean", "max", "std"),
        decay=0.99,
        log="db",
        standardize=True,
        contamination=0.1,
        threshold_rule="contamination",
        n_jobs=None,
    ):
        super().__init__(contamination=contamination)
        self.sr = sr
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.n_mels = n_mels
        self.pooling = pooling
        self.decay = decay
        self.log = log
        self.standardize = standardize
        self.threshold_rule = threshold_rule
        self.n_jobs = n_jobs

    # -- backend hooks -------------------------------------------------------

    def _fit_vectors(self, vectors):
        raise NotImplementedError

    def _score_vectors(self, vectors):
        raise NotImplementedError

    # -- features ------------------------------------------------------------

    def _poolings(self):
        return (self.pooling,) if isinstance(self.pooling, str) else tuple(self.pooling)

    def _check_parameters(self):
        super()._check_parameters()
        poolings = self._poolings()
        unknown = [p for p in poolings if p not in POOLINGS]
        if not poolings or unknown or len(set(poolings)) != len(poolings):
            raise ValueError(
                f"pooling must be one of {POOLINGS} or a tuple of distinct ones, got {self.pooling!r}"
            )
        if not 0.0 <= self.decay <= 1.0:
            raise ValueError(f"decay must lie in [0, 1], got {self.decay!r}")
        if self.log not in ("db", "dcase"):
            raise ValueError(f"log must be 'db' or 'dcase', got {self.log!r}")
        for name in ("sr", "n_fft", "hop_length", "n_mels"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")

    def _featurize(self, waves):
        specs = log_mel_many(
            waves, self.sr, n_fft=self.n_fft, hop_length=self.hop_length, n_mels=self.n_mels, log=self.log
        )
        poolings = self._poolings()
        return np.stack(
            [np.concatenate([time_pool(spec, p, decay=self.decay) for p in poolings]) for spec in specs]
        ).astype(np.float64)

    def _fit_features(self, vectors):
        self.n_features_ = vectors.shape[1]
        if self.standardize:
            self.feature_mean_ = vectors.mean(axis=0)
            scale = vectors.std(axis=0)
            # A value constant over the training clips (a band at the dB floor, the spread
            # of a one-frame clip) keeps its units instead of blowing up by 1 / 0.
            self.feature_scale_ = np.where(scale > 1e-6 * max(scale.max(), 1e-12), scale, 1.0)
        else:
            self.feature_mean_ = np.zeros(self.n_features_)
            self.feature_scale_ = np.ones(self.n_features_)
        return self._fit_vectors(self._standardised(vectors))

    def _standardised(self, vectors):
        return (vectors - self.feature_mean_) / self.feature_scale_

    def _score_features(self, vectors):
        return self._score_vectors(self._standardised(vectors))
