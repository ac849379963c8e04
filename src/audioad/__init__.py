"""audioad: unsupervised anomalous sound detection for machines.

Learn what a machine sounds like from recordings of it running normally, then
score new recordings by how far they are from that. A drop-in for PyOD's
audio detectors (``AudioAE``, ``EmbeddingOD.for_audio()``), faster and more
accurate.
"""

__version__ = "0.1.0"

from .audio import AudioInputError, load_audio, load_many
from .detectors import (
    IDNN,
    AudioAE,
    AudioInputWarning,
    ClipDetector,
    ClipScores,
    EmbeddingOD,
    Ensemble,
    FrameScores,
    MelGMM,
    MelKNN,
    MelMahalanobis,
    WindowKNN,
    default_detector,
    make_detector,
)
from .features import context_windows, log_mel, time_pool
from .metrics import auc, pauc
from .parallel import score_in_batches, score_on_dask
from .persistence import ModelFileError, load, save

__all__ = [
    "IDNN",
    "AudioAE",
    "AudioInputError",
    "AudioInputWarning",
    "ClipDetector",
    "ClipScores",
    "EmbeddingOD",
    "Ensemble",
    "FrameScores",
    "MelGMM",
    "MelKNN",
    "MelMahalanobis",
    "ModelFileError",
    "WindowKNN",
    "auc",
    "context_windows",
    "default_detector",
    "load",
    "load_audio",
    "load_many",
    "log_mel",
    "make_detector",
    "pauc",
    "save",
    "score_in_batches",
    "score_on_dask",
    "time_pool",
]
