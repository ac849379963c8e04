"""MelMahalanobis: Mahalanobis distance of a clip's pooled log-mel vector, Ledoit-Wolf shrunk.

The normal clips' pooled spectra are modelled by one Gaussian whose
covariance is shrunk towards a multiple of the identity by Ledoit and Wolf's
rule (or by a fixed amount). The distance accounts for how bands move
together: a level change that lifts every band is cheap, a change of the
spectrum's shape that the normal clips never show is expensive. Shrinkage
keeps the estimate well conditioned when there are fewer training clips than
values in a vector, which is the usual case.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
from sklearn.covariance import empirical_covariance, ledoit_wolf, shrunk_covariance

from .pooled import PooledMelDetector
from .schema import Array, Float, NoneOr

__all__ = ["MelMahalanobis"]


def _mahalanobis(vectors, location, precision):
    """Mahalanobis distance of each row, a row at a time: a row's distance never depends on the others'."""
    centred = vectors - location
    return np.sqrt(np.maximum([np.einsum("j,jk,k->", row, precision, row) for row in centred], 0.0))


class MelMahalanobis(PooledMelDetector):
    """Mahalanobis distance on standardised, time-pooled log-mel spectra.

    Parameters
    ----------
    shrinkage : float in [0, 1] or None, default None
        Weight of the identity in the shrunk covariance; ``None`` takes
        Ledoit and Wolf's estimate from the training clips.
    pooling : str or tuple of str, default ("mean", "max", "std")
        Time pooling(s): the average spectrum, its loudest frame per band
        (transients, impacts) and its variability (modulation, instability).
    sr, n_fft, hop_length, n_mels, decay, log, standardize, contamination, threshold_rule, n_jobs
        As in :class:`~audioad.detectors.pooled.PooledMelDetector`.

    Attributes
    ----------
    decision_scores_ : numpy.ndarray of shape (n_clips,)
        Scores of the training clips, each of 5 consecutive folds scored by the
        model fitted on the others: scores of clips it has not seen, as a new
        clip's is (in-sample scores would be far lower when the clips are few
        for the bands, and put the threshold below every new normal clip).
    threshold_ : float
        Scores above it are labelled anomalous.
    labels_ : numpy.ndarray of shape (n_clips,)
        Labels of the training clips (0 normal, 1 anomalous).
    location_ : numpy.ndarray of shape (n_features_,)
        Mean standardised vector of the training clips.
    precision_ : numpy.ndarray of shape (n_features_, n_features_)
        Inverse of the shrunk covariance.
    shrinkage_ : float
        Shrinkage used.
    feature_mean_, feature_scale_, n_features_
        As in :class:`~audioad.detectors.pooled.PooledMelDetector`.

    Examples
    --------
    >>> import numpy as np
    >>> from audioad.detectors.mahalanobis import MelMahalanobis
    >>> rng = np.random.default_rng(0)
    >>> normal = [0.1 * rng.standard_normal(8000) for _ in range(20)]
    >>> t = np.arange(8000) / 16000
    >>> odd = [n + 0.2 * np.sin(2 * np.pi * 1000 * t) for n in normal[:3]]
    >>> clf = MelMahalanobis().fit(normal[3:])
    >>> bool(clf.decision_function(odd).min() > clf.decision_function(normal[:3]).max())
    True
    """

    params_schema = {**PooledMelDetector.params_schema, "shrinkage": NoneOr(Float(0.0, 1.0))}
    state_schema = {
        **PooledMelDetector.state_schema,
        "shrinkage_": Float(0.0, 1.0),
        "location_": Array("f", ("n_features",)),
        "precision_": Array("f", ("n_features", "n_features")),
    }

    def __init__(
        self,
        shrinkage=None,
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
        super().__init__(
            sr=sr,
            n_fft=n_fft,
            hop_length=hop_length,
            n_mels=n_mels,
            pooling=pooling,
            decay=decay,
            log=log,
            standardize=standardize,
            contamination=contamination,
            threshold_rule=threshold_rule,
            n_jobs=n_jobs,
        )
        self.shrinkage = shrinkage

    def check_parameters(self):
        super().check_parameters()
        if self.shrinkage is not None and not 0.0 <= self.shrinkage <= 1.0:
            raise ValueError(f"shrinkage must be None or lie in [0, 1], got {self.shrinkage!r}")

    def fit_vectors(self, vectors):
        if len(vectors) < 2:
            raise ValueError(f"MelMahalanobis needs at least 2 training clips, got {len(vectors)}")
        if self.shrinkage is None:
            covariance, shrinkage = ledoit_wolf(vectors)
        else:
            covariance, shrinkage = shrunk_covariance(empirical_covariance(vectors), self.shrinkage), self.shrinkage
        self.shrinkage_ = float(shrinkage)
        self.location_ = vectors.mean(axis=0)
        try:
            # A shrunk covariance is positive definite: Cholesky inverts it several times
            # faster than the eigendecomposition of a pseudo-inverse.
            factor = scipy.linalg.cho_factor(covariance)
            self.precision_ = scipy.linalg.cho_solve(factor, np.eye(len(covariance)))
        except np.linalg.LinAlgError:
            self.precision_ = scipy.linalg.pinvh(covariance)

    def score_vectors(self, vectors):
        return _mahalanobis(vectors, self.location_, self.precision_)
