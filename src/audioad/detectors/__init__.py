"""Detectors: one a file, all on :class:`~audioad.detectors.base.ClipDetector`.

Each name is imported from its module on first use (PEP 562), so that naming the detectors
(:data:`DETECTORS`) costs no import of scikit-learn, PyOD or torch.
"""

from ..lazy import lazy_names

# Public name -> the module it lives in.
_WHERE = {
    "AudioAE": ".autoencoder",
    "AudioInputWarning": ".base",
    "ClipDetector": ".base",
    "ClipScores": ".base",
    "FrameScores": ".base",
    "EmbeddingOD": ".embedding",
    "EventKNN": ".event_knn",
    "Ensemble": ".ensemble",
    "default_detector": ".ensemble",
    "MelGMM": ".gmm",
    "IDNN": ".idnn",
    "MelKNN": ".knn",
    "MelMahalanobis": ".mahalanobis",
    "DETECTORS": ".registry",
    "make_detector": ".registry",
    "WindowKNN": ".window_knn",
}

__all__ = [
    "DETECTORS",
    "IDNN",
    "AudioAE",
    "AudioInputWarning",
    "ClipDetector",
    "ClipScores",
    "EmbeddingOD",
    "Ensemble",
    "EventKNN",
    "FrameScores",
    "MelGMM",
    "MelKNN",
    "MelMahalanobis",
    "WindowKNN",
    "default_detector",
    "make_detector",
]


__getattr__, __dir__ = lazy_names(__name__, globals(), _WHERE)
