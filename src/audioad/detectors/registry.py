"""Detectors by name, for the command line and for configuration files."""

from __future__ import annotations

from functools import partial

from .autoencoder import AudioAE
from .embedding import EmbeddingOD
from .ensemble import default_detector
from .gmm import MelGMM
from .idnn import IDNN
from .knn import MelKNN
from .mahalanobis import MelMahalanobis
from .window_knn import WindowKNN

__all__ = ["DETECTORS", "make_detector"]

#: Name -> (factory, one line on what it is). Factories take the detector's parameters.
DETECTORS = {
    "default": (default_detector, "k-NN on the mean spectrum, its frame-to-frame change and 160 ms windows, combined"),
    "mel-knn": (MelKNN, "k-NN distance on the time-averaged log-mel spectrum; training-free"),
    "mel-mahalanobis": (MelMahalanobis, "Mahalanobis distance on pooled log-mel statistics; training-free"),
    "mel-gmm": (MelGMM, "Gaussian mixture on pooled log-mel statistics; training-free"),
    "twfr-gmm": (MelGMM.twfr, "TWFR-GMM: GWRP-pooled log-mel and a GMM (Guan et al. 2023)"),
    "window-knn": (WindowKNN, "k-NN on log-mel context windows; sees short events"),
    "audio-ae": (AudioAE, "PyOD's AudioAE: dense autoencoder on log-mel windows (needs torch)"),
    "dcase2020-ae": (AudioAE.dcase2020, "the DCASE 2020 task 2 baseline autoencoder (needs torch)"),
    "dcase2023-ae": (AudioAE.dcase2023, "the DCASE 2023 baseline: autoencoder, Mahalanobis scores (needs torch)"),
    "idnn": (IDNN, "interpolation DNN: predicts a window's middle frame (needs torch)"),
    "embedding-fast": (partial(EmbeddingOD.for_audio, "fast"), "PyOD's for_audio('fast'): descriptors + IForest"),
    "embedding-balanced": (
        partial(EmbeddingOD.for_audio, "balanced"),
        "PyOD's for_audio('balanced'): descriptors + KNN",
    ),
    "embedding-best": (partial(EmbeddingOD.for_audio, "best"), "PyOD's for_audio('best'): descriptors + LUNAR"),
}


def make_detector(name="default", **params):
    """A new, unfitted detector by name.

    Parameters
    ----------
    name : str
        One of :data:`DETECTORS`.
    **params
        The detector's parameters, overriding the named configuration's.

    Examples
    --------
    >>> make_detector("mel-knn", n_mels=64).n_mels
    64
    """
    if name not in DETECTORS:
        raise ValueError(f"unknown detector {name!r}; choose one of: {', '.join(DETECTORS)}")
    factory, _ = DETECTORS[name]
    return factory(**params)
