"""Detectors: one a file, all on :class:`~audioad.detectors.base.ClipDetector`."""

from .autoencoder import AudioAE
from .base import AudioInputWarning, ClipDetector, ClipScores, FrameScores
from .embedding import EmbeddingOD
from .ensemble import Ensemble, default_detector
from .gmm import MelGMM
from .idnn import IDNN
from .knn import MelKNN
from .mahalanobis import MelMahalanobis
from .registry import DETECTORS, make_detector
from .window_knn import WindowKNN

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
