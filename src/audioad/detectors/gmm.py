"""MelGMM: a Gaussian mixture over pooled log-mel vectors; TWFR-GMM as a preset.

Guan et al. (ICASSP 2023, "Time-weighted frequency domain audio
representation with GMM estimator for anomalous sound detection") pool each
band of the log-mel spectrogram by global weighted ranking pooling (GWRP),
which slides between the mean (stationary sound) and the maximum (transients)
with one decay, and score a clip by its negative log-likelihood under a
Gaussian mixture fitted to the normal clips. A mixture, unlike one Gaussian,
can hold a machine that runs in a few distinct states.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn.mixture import GaussianMixture

from .folds import fold_scores
from .pooled import PooledMelDetector
from .schema import Estimator, Float, Int, NoneOr, Str

__all__ = ["MelGMM", "COVARIANCE_TYPES"]

#: Covariance structures of :class:`sklearn.mixture.GaussianMixture`.
COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")


class MelGMM(PooledMelDetector):
    """Negative log-likelihood under a Gaussian mixture of standardised, pooled log-mel spectra.

    Parameters
    ----------
    n_components : int, default 2
        Gaussians in the mixture; fewer are used when there are fewer training clips.
    covariance_type : {"full", "tied", "diag", "spherical"}, default "full"
        Covariance structure of each Gaussian.
    reg_covar : float, default 0.1
        Added to the diagonal of each covariance. The vectors are standardised,
        so this is a share of each value's variance; it keeps a full covariance
        invertible when there are fewer clips than values.
    random_state : int or None, default 0
        Seed of the k-means initialisation.
    pooling : str or tuple of str, default "gwrp"
        Time pooling(s).
    decay : float, default 0.9
        GWRP's decay: with 10 frames of weight above 1/e of the loudest, the
        pooled band sits between its mean and its maximum.
    sr, n_fft, hop_length, n_mels, log, standardize, contamination, threshold_rule, n_jobs
        As in :class:`~audioad.detectors.pooled.PooledMelDetector`.

    Attributes
    ----------
    decision_scores_ : numpy.ndarray of shape (n_clips,)
        Scores of the training clips, each of 5 consecutive folds scored by the
        mixture fitted on the others: scores of clips it has not seen, as a new
        clip's is.
    threshold_ : float
        Scores above it are labelled anomalous.
    labels_ : numpy.ndarray of shape (n_clips,)
        Labels of the training clips (0 normal, 1 anomalous).
    gmm_ : sklearn.mixture.GaussianMixture
        The fitted mixture.
    n_components_ : int
        Its Gaussians: ``n_components``, or fewer when the training clips are
        fewer than ten a Gaussian; the fold models of the held-out scores have
        as many.
    feature_mean_, feature_scale_, n_features_
        As in :class:`~audioad.detectors.pooled.PooledMelDetector`.

    Examples
    --------
    >>> import numpy as np
    >>> from audioad.detectors.gmm import MelGMM
    >>> rng = np.random.default_rng(0)
    >>> normal = [0.1 * rng.standard_normal(8000) for _ in range(20)]
    >>> t = np.arange(8000) / 16000
    >>> odd = [n + 0.2 * np.sin(2 * np.pi * 1000 * t) for n in normal[:3]]
    >>> clf = MelGMM.twfr().fit(normal[3:])
    >>> bool(clf.decision_function(odd).min() > clf.decision_function(normal[:3]).max())
    True
    """

    params_schema = {
        **PooledMelDetector.params_schema,
        "n_components": NoneOr(Int(1, 1000)),
        "covariance_type": Str(),
        "random_state": NoneOr(Int(0, 2**32 - 1)),
        "reg_covar": Float(0.0),
    }
    state_schema = {
        **PooledMelDetector.state_schema,
        "n_components_": Int(1, 1000),
        "gmm_": Estimator("sklearn.GaussianMixture"),
    }

    def __init__(
        self,
        n_components=2,
        covariance_type="full",
        reg_covar=0.1,
        random_state=0,
        sr=16000,
        n_fft=1024,
        hop_length=512,
        n_mels=128,
        pooling="gwrp",
        decay=0.9,
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
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.reg_covar = reg_covar
        self.random_state = random_state

    @classmethod
    def twfr(cls, **overrides):
        """TWFR-GMM (Guan et al., ICASSP 2023): GWRP-pooled log-mel, full-covariance GMM.

        The paper picks the decay and the number of Gaussians per machine type
        on labelled test clips; without labels this preset takes the middle
        ground: decay 0.9 and 2 Gaussians (the paper's most frequent choice).

        Parameters
        ----------
        **overrides
            Any parameter of :class:`MelGMM`.

        Examples
        --------
        >>> MelGMM.twfr().pooling, MelGMM.twfr(decay=1.0).decay
        ('gwrp', 1.0)
        """
        settings = dict(pooling="gwrp", decay=0.9, n_components=2, covariance_type="full")
        return cls(**{**settings, **overrides})

    def check_parameters(self):
        super().check_parameters()
        if not isinstance(self.n_components, (int, np.integer)) or self.n_components < 1:
            raise ValueError(f"n_components must be a positive integer, got {self.n_components!r}")
        if self.covariance_type not in COVARIANCE_TYPES:
            raise ValueError(f"covariance_type must be one of {COVARIANCE_TYPES}, got {self.covariance_type!r}")
        if not self.reg_covar >= 0:
            raise ValueError(f"reg_covar must be >= 0, got {self.reg_covar!r}")

    def _components(self, n_clips):
        """Gaussians for ``n_clips`` training clips: a Gaussian needs a few clips of its own."""
        return int(min(self.n_components, max(1, n_clips // 10)))

    def fit_features(self, vectors, n_components=None):
        """Learn from the training clips' vectors; ``n_components`` (by default from their number) Gaussians."""
        self.n_components_ = self._components(len(vectors)) if n_components is None else n_components
        return super().fit_features(vectors)

    def fit_vectors(self, vectors):
        if len(vectors) < 2:
            raise ValueError(f"MelGMM needs at least 2 training clips, got {len(vectors)}")
        self.gmm_ = GaussianMixture(
            n_components=self.n_components_,
            covariance_type=self.covariance_type,
            reg_covar=self.reg_covar,
            random_state=self.random_state,
        ).fit(vectors)

    def score_vectors(self, vectors):
        # A row at a time, so that a clip's score never depends on the clips scored with it.
        return np.array([-self.gmm_.score_samples(row[None])[0] for row in vectors])

    def held_out_scores(self, vectors, folds):
        """As every detector's, each fold's mixture with as many Gaussians as the final model's."""
        n_components = self._components(len(vectors))

        def fit_and_score(train, held_out):
            twin = clone(self).fit_features(vectors[train], n_components=n_components)
            return twin.score_features(vectors[held_out])

        return fold_scores(folds, fit_and_score)
