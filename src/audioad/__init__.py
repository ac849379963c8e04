"""audioad: unsupervised anomalous sound detection for machines.

Learn what a machine sounds like from recordings of it running normally, then
score new recordings by how far they are from that. A drop-in for PyOD's
audio detectors (``AudioAE``, ``EmbeddingOD.for_audio()``), faster and more
accurate.
"""

from .audio import AudioInputError, load_audio, load_many
from .detectors import AudioAE, AudioInputWarning, ClipDetector, EmbeddingOD, FrameScores
from .features import context_windows, log_mel, time_pool
from .metrics import auc, pauc

__version__ = "0.1.0"

__all__ = [
    "AudioAE",
    "AudioInputError",
    "AudioInputWarning",
    "ClipDetector",
    "EmbeddingOD",
    "FrameScores",
    "auc",
    "context_windows",
    "load_audio",
    "load_many",
    "log_mel",
    "pauc",
    "time_pool",
]
