"""Detectors: one a file, all on :class:`~audioad.detectors.base.ClipDetector`.

Each name is imported from its module on first use (PEP 562), so that naming the detectors
(:data:`DETECTORS`) costs no import of scikit-learn, PyOD or torch.
"""

import importlib

# Public name -> the module it lives in.
_WHERE = {
    "AudioAE": ".autoencoder",
    "AudioInputWarning": ".base",
    "ClipDetector": ".base",
    "ClipScores": ".base",
    "FrameScores": ".base",
    "EmbeddingOD": ".embedding",
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
    "FrameScores",
    "MelGMM",
    "MelKNN",
    "MelMahalanobis",
    "WindowKNN",
    "default_detector",
    "make_detector",
]


def __getattr__(name):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name], __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *__all__})
