"""EmbeddingOD: clip descriptors followed by any PyOD detector.

PyOD 3.6.7's ``EmbeddingOD.for_audio()`` with the same parameters and
presets: each clip becomes a 74-value vector of handcrafted acoustic
descriptors (:mod:`audioad.features.descriptors`), standardised, and a tabular PyOD
detector scores the vectors. The descriptors of a batch are computed from one
batched spectrogram instead of a dozen librosa calls per clip.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from pyod.models.embedding import resolve_detector
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

from ..features import clip_descriptors_many
from .base import ClipDetector
from .frontend import EncoderFrontend
from .schema import AnyOf, Array, Bool, Estimator, Int, NoneOr, Optional, Str

__all__ = ["EmbeddingOD", "AUDIO_PRESETS", "ENCODERS"]

#: Encoders known by name.
ENCODERS = ("audio-mfcc",)

#: ``quality`` of :meth:`EmbeddingOD.for_audio` -> settings, as PyOD has them.
AUDIO_PRESETS = {
    "fast": {"encoder": "audio-mfcc", "detector": "IForest"},
    "balanced": {"encoder": "audio-mfcc", "detector": "KNN"},
    "best": {"encoder": "audio-mfcc", "detector": "LUNAR"},
}

_FLOAT32_MAX = np.finfo(np.float32).max
#: The PyOD detectors whose fitted state a model file holds as data (those of the presets).
STORED_DETECTORS = ("pyod.IForest", "pyod.KNN", "pyod.LUNAR")


class EmbeddingOD(ClipDetector):
    """Embed each clip as a vector, then detect outliers among the vectors.

    Parameters
    ----------
    encoder : str or callable, default "audio-mfcc"
        ``"audio-mfcc"``: 20 MFCC, 12 chroma, spectral centroid, bandwidth,
        rolloff, zero-crossing rate and RMS, each as mean and std over frames
        (74 values). A callable takes a list of float32 mono waveforms at
        ``sr`` and returns an (n_clips, n_features) array.
    detector : str or pyod BaseDetector, default "LUNAR"
        A PyOD detector instance (cloned at fit) or the name of one
        (``"KNN"``, ``"IForest"``, ``"LUNAR"``, ``"ECOD"``, ...).
    contamination : float, default 0.1
        Expected share of anomalous training clips; sets ``threshold_``.
    batch_size : int, default 32
        PyOD's encoder batch size, kept so that PyOD code runs unchanged;
        audioad's descriptors are computed a clip a core (``n_jobs``
        threads), so that a clip's never depend on its batch.
    cache_embeddings : bool, default False
        Keep the training vectors as ``train_embeddings_``.
    reduce_dim : int or None
        Project the vectors onto this many principal components first.
    standardize : bool, default True
        Scale each descriptor to zero mean, unit variance on the training clips.
    random_state : int or None
        Seed of the PCA and of a detector named by string that takes one.
    sr : int, default 22050
        Rate clips are loaded at (PyOD's).
    threshold_rule : {"contamination", "gamma"}
        How ``threshold_`` is set from the training scores.
    n_jobs : int or None
        Threads for decoding clips.

    Attributes
    ----------
    decision_scores_, threshold_, labels_
        As every detector has them.
    detector_ : pyod BaseDetector
        The fitted detector.
    scaler_ : sklearn.preprocessing.StandardScaler
        Present when ``standardize``.
    pca_ : sklearn.decomposition.PCA
        Present when ``reduce_dim`` is set.
    train_embeddings_ : numpy.ndarray
        Present when ``cache_embeddings``.

    Examples
    --------
    >>> import numpy as np
    >>> from audioad import EmbeddingOD
    >>> clips = [np.random.RandomState(s).randn(22050) for s in range(20)]
    >>> clf = EmbeddingOD.for_audio("fast", random_state=0).fit(clips)
    >>> clf.decision_function(clips[:3]).shape
    (3,)
    """

    # A detector instance is stored by its parameters; a fitted one, one of STORED_DETECTORS, as data.
    params_schema = {
        **ClipDetector.params_schema,
        "encoder": Str(),
        "detector": AnyOf(Str(), Estimator(*STORED_DETECTORS, fitted=False)),
        "batch_size": Int(1, 2**20),
        "cache_embeddings": Bool(),
        "reduce_dim": NoneOr(Int(1, 2**16)),
        "standardize": Bool(),
        "random_state": NoneOr(Int(0, 2**32 - 1)),
        "sr": Int(1, 768_000),
    }
    state_schema = {
        **ClipDetector.state_schema,
        "scaler_": Optional(Estimator("sklearn.StandardScaler")),
        "pca_": Optional(Estimator("sklearn.PCA")),
        "train_embeddings_": Optional(Array("f", ("n_clips", None))),
        "detector_seed_": Int(0, 2**64 - 1),
        "detector_": Estimator(*STORED_DETECTORS),
    }

    def __init__(
        self,
        encoder="audio-mfcc",
        detector="LUNAR",
        contamination=0.1,
        batch_size=32,
        cache_embeddings=False,
        reduce_dim=None,
        standardize=True,
        random_state=None,
        sr=22050,
        threshold_rule="contamination",
        n_jobs=None,
    ):
        super().__init__(contamination=contamination)
        self.encoder = encoder
        self.detector = detector
        self.batch_size = batch_size
        self.cache_embeddings = cache_embeddings
        self.reduce_dim = reduce_dim
        self.standardize = standardize
        self.random_state = random_state
        self.sr = sr
        self.threshold_rule = threshold_rule
        self.n_jobs = n_jobs

    @classmethod
    def for_audio(cls, quality="balanced", **kwargs):
        """The audio presets of PyOD: descriptors + IForest, KNN or LUNAR.

        Parameters
        ----------
        quality : {"fast", "balanced", "best"}
            IForest, KNN or LUNAR (LUNAR needs torch).
        **kwargs
            Any parameter of :class:`EmbeddingOD`.

        Examples
        --------
        >>> EmbeddingOD.for_audio("fast").detector
        'IForest'
        """
        if quality not in AUDIO_PRESETS:
            raise ValueError(f"quality must be one of {tuple(AUDIO_PRESETS)}, got {quality!r}")
        return cls(**{**AUDIO_PRESETS[quality], **kwargs})

    def _resolve_encoder(self):
        if callable(self.encoder):
            return self.encoder
        if self.encoder == "audio-mfcc":
            return partial(clip_descriptors_many, sr=self.sr, workers=self.n_jobs)
        raise ValueError(
            f"unknown encoder {self.encoder!r}; audioad's encoders are {ENCODERS}, "
            "or pass a callable taking a list of waveforms"
        )

    @property
    def frontend(self):
        """An :class:`~audioad.detectors.frontend.EncoderFrontend` of the encoder."""
        return EncoderFrontend(self._resolve_encoder(), self.sr)

    def check_parameters(self):
        super().check_parameters()
        self._resolve_encoder()

    def features_from(self, embeddings):
        """The clips' embeddings as one (n_clips, n_features) float64 array."""
        # As PyOD does: a descriptor that overflows must not poison the scaler.
        return np.clip(np.nan_to_num(np.asarray(embeddings, dtype=np.float64)), -_FLOAT32_MAX, _FLOAT32_MAX)

    def fit_features(self, embeddings):
        if self.cache_embeddings:
            self.train_embeddings_ = embeddings
        if self.standardize:
            self.scaler_ = StandardScaler().fit(embeddings)
        if self.reduce_dim is not None:
            self.pca_ = PCA(n_components=self.reduce_dim, random_state=self.random_state)
            self.pca_.fit(self.scaler_.transform(embeddings) if self.standardize else embeddings)
        # A seed drawn when none is given keeps random_state=None unseeded, yet records how the
        # detector was seeded. Drawn from fresh entropy, not numpy's global generator.
        seed = self.random_state
        self.detector_seed_ = seed if seed is not None else int(np.random.SeedSequence().generate_state(1)[0] >> 1)
        self.detector_ = self._new_detector()
        self.detector_.fit(self._transform(embeddings))
        return self

    def training_scores(self, embeddings):
        """The PyOD detector's scores of its own training vectors, as PyOD's EmbeddingOD gives them."""
        return self.detector_.decision_scores_

    def _new_detector(self):
        detector = resolve_detector(self.detector, self.contamination, random_state=self.detector_seed_)
        if detector.get_params().get("random_state", 0) is None:
            detector.set_params(random_state=self.detector_seed_)
        return detector

    def _transform(self, embeddings):
        if self.standardize:
            embeddings = self.scaler_.transform(embeddings)
        if self.reduce_dim is not None:
            embeddings = self.pca_.transform(embeddings)
        return embeddings.astype(np.float32)

    def score_features(self, embeddings):
        return self.detector_.decision_function(self._transform(embeddings))
