"""Detectors: one a file, all on :class:`~audioad.detectors.base.ClipDetector`."""

from .autoencoder import AudioAE
from .base import AudioInputWarning, ClipDetector, FrameScores
from .embedding import EmbeddingOD

__all__ = ["AudioAE", "AudioInputWarning", "ClipDetector", "EmbeddingOD", "FrameScores"]
