"""audioad: unsupervised anomalous sound detection for machines.

Learn what a machine sounds like from recordings of it running normally, then
score new recordings by how far they are from that. A drop-in for PyOD's
audio detectors (``AudioAE``, ``EmbeddingOD.for_audio()``), faster and more
accurate.

Each public name is imported from its module on first use (PEP 562):
``import audioad`` alone imports no numerical library, so the ``audioad``
command starts at once, and ``from audioad import AudioAE`` works as usual.
"""

from .lazy import lazy_names

__version__ = "0.1.0"

# Public name -> the module it lives in.
_WHERE = {
    "AudioInputError": ".audio",
    "load_audio": ".audio",
    "load_many": ".audio",
    "IDNN": ".detectors",
    "AudioAE": ".detectors",
    "AudioInputWarning": ".detectors",
    "ClipDetector": ".detectors",
    "ClipScores": ".detectors",
    "EmbeddingOD": ".detectors",
    "Ensemble": ".detectors",
    "EventKNN": ".detectors",
    "FrameScores": ".detectors",
    "MelGMM": ".detectors",
    "MelKNN": ".detectors",
    "MelMahalanobis": ".detectors",
    "WindowKNN": ".detectors",
    "default_detector": ".detectors",
    "make_detector": ".detectors",
    "context_windows": ".features",
    "log_mel": ".features",
    "time_pool": ".features",
    "auc": ".metrics",
    "pauc": ".metrics",
    "score_in_batches": ".parallel",
    "score_on_dask": ".parallel",
    "ModelFileError": ".persistence",
    "load": ".persistence",
    "save": ".persistence",
}

__all__ = [
    "IDNN",
    "AudioAE",
    "AudioInputError",
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


__getattr__, __dir__ = lazy_names(__name__, globals(), _WHERE)
