"""PooledMelDetector: the shared base of the training-free detectors on pooled log-mel statistics.

Each clip becomes one vector: its log-mel spectrogram pooled over time by one
or more of :data:`~audioad.features.POOLINGS` (mean, max, standard deviation,
GWRP), the poolings laid end to end. A pooling named ``"delta_<pooling>"``
pools the frame-to-frame change of each band instead: ``"delta_std"`` is how
strongly a band fluctuates from one frame to the next (roughness, rattle,
beating, imbalance), which the standard deviation of the levels mixes up
with slow, benign drift of speed or level within the clip. The vectors of
the training clips are standardised, and a backend (k-NN distance, Mahalanobis distance, a Gaussian
mixture) learns their distribution. Nothing is trained by gradient descent:
fitting takes as long as computing the spectrograms, and torch is not needed.
"""

from __future__ import annotations

import numpy as np

from ..features import POOLINGS, time_pool
from .log_mel import LogMelDetector
from .schema import AnyOf, Array, Bool, Float, Int, ListOf, Str

__all__ = ["PooledMelDetector", "POOLED_STATISTICS", "pool", "standardisation"]

#: Poolings a pooled detector accepts: those of the levels, and of their frame-to-frame change.
POOLED_STATISTICS = POOLINGS + tuple(f"delta_{p}" for p in POOLINGS)


def standardisation(values):
    """Mean and scale of each column of ``values`` (n_samples, n_features), for ``(x - mean) / scale``.

    ``values`` may be a list of such arrays, standing for the concatenation of their rows, which
    is never made: a fit on 2,000 clips of 10 s holds their frames once, not twice (its mean
    and scale equal the concatenation's to float64 rounding). A column constant over the
    samples (a band at the dB floor, the spread of one-frame clips) gets scale 1, keeping its
    units, instead of 1 / 0.

    Examples
    --------
    >>> mean, scale = standardisation(np.array([[0.0, 5.0], [2.0, 5.0]]))
    >>> mean.tolist(), scale.tolist()
    ([1.0, 5.0], [1.0, 1.0])
    >>> [a.tolist() for a in standardisation([np.array([[0.0, 5.0]]), np.array([[2.0, 5.0]])])]
    [[1.0, 5.0], [1.0, 1.0]]
    """
    blocks = values if isinstance(values, list) else [values]
    n_samples = sum(len(block) for block in blocks)
    mean = sum(block.sum(axis=0, dtype=np.float64) for block in blocks) / n_samples
    # Deviations from the mean, one block at a time: as np.std computes them, with no copy of every row.
    scale = np.sqrt(sum(np.square(block - mean).sum(axis=0) for block in blocks) / n_samples)
    dtype = blocks[0].dtype
    scale = np.where(scale > 1e-6 * max(scale.max(initial=0.0), 1e-12), scale, 1.0)
    return mean.astype(dtype), scale.astype(dtype)


def pool(spec, pooling, decay=0.99):
    """One pooled statistic of a (n_mels, n_frames) spectrogram, ``delta_`` poolings included.

    Parameters
    ----------
    spec : numpy.ndarray
        (n_mels, n_frames) spectrogram.
    pooling : str
        One of :data:`POOLED_STATISTICS`: a pooling of
        :func:`~audioad.features.time_pool`, or ``"delta_"`` and one, which
        pools the change of each band from one frame to the next.
    decay : float
        GWRP's decay.

    Returns
    -------
    numpy.ndarray of shape (n_mels,)

    Examples
    --------
    >>> spec = np.array([[0.0, 2.0, 1.0, 3.0]])
    >>> float(pool(spec, "max")[0]), float(pool(spec, "delta_max")[0])
    (3.0, 2.0)
    """
    if pooling.startswith("delta_"):
        # A one-frame clip has no change to pool: it does not fluctuate.
        spec = np.diff(spec, axis=-1) if spec.shape[-1] > 1 else np.zeros_like(spec)
        pooling = pooling[len("delta_") :]
    return time_pool(spec, pooling, decay=decay)


class PooledMelDetector(LogMelDetector):
    """Log-mel spectrogram pooled over time into one standardised vector per clip.

    A base class: a backend implements ``fit_vectors(vectors)`` (learn from
    the standardised vectors of the training clips) and
    ``score_vectors(vectors)`` (scores of standardised vectors, each row's a
    function of that row alone). The training clips' scores, which set
    ``threshold_``, are held out: each fold of the clips is scored by a
    detector, standardisation included, fitted on the other folds.

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
        Time pooling(s) of :func:`~audioad.features.time_pool`, or the same
        prefixed ``"delta_"`` to pool the frame-to-frame change of each band
        (see :data:`POOLED_STATISTICS`); a tuple concatenates them, ``n_mels``
        values each.
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

    params_schema = {
        **LogMelDetector.params_schema,
        "pooling": AnyOf(Str(), ListOf(Str(), 1, 32, as_tuple=True)),
        "decay": Float(0.0, 1.0),
        "standardize": Bool(),
    }
    state_schema = {
        **LogMelDetector.state_schema,
        "n_features_": Int(1, 2**16, dim="n_features"),
        "feature_mean_": Array("f", ("n_features",)),
        "feature_scale_": Array("f", ("n_features",)),
    }

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

    # -- backend ----------------------------------------------------------------

    def fit_vectors(self, vectors):
        """Learn from the standardised vectors of the training clips."""
        raise NotImplementedError

    def score_vectors(self, vectors):
        """Scores of standardised vectors, higher is more abnormal."""
        raise NotImplementedError

    # -- features ------------------------------------------------------------

    def restore(self):
        self.check_feature_count(len(self._poolings()))

    def _poolings(self):
        return (self.pooling,) if isinstance(self.pooling, str) else tuple(self.pooling)

    def check_parameters(self):
        super().check_parameters()
        poolings = self._poolings()
        unknown = [p for p in poolings if p not in POOLED_STATISTICS]
        if not poolings or unknown or len(set(poolings)) != len(poolings):
            raise ValueError(
                f"pooling must be one of {POOLED_STATISTICS} or a tuple of distinct ones, got {self.pooling!r}"
            )
        if not 0.0 <= self.decay <= 1.0:
            raise ValueError(f"decay must lie in [0, 1], got {self.decay!r}")

    def features_from(self, specs):
        """Each clip's pooled vector, float64: (n_clips, n_features)."""
        poolings = self._poolings()
        vectors = [np.concatenate([pool(spec, p, decay=self.decay) for p in poolings]) for spec in specs]
        return np.stack(vectors).astype(np.float64)

    def fit_features(self, vectors):
        self.n_features_ = vectors.shape[1]
        if self.standardize:
            self.feature_mean_, self.feature_scale_ = standardisation(vectors)
        else:
            self.feature_mean_ = np.zeros(self.n_features_)
            self.feature_scale_ = np.ones(self.n_features_)
        self.fit_vectors(self._standardised(vectors))
        return self

    def _standardised(self, vectors):
        return (vectors - self.feature_mean_) / self.feature_scale_

    def score_features(self, vectors):
        return self.score_vectors(self._standardised(vectors))
