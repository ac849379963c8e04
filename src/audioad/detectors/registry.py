"""Detectors by name, for the command line and for configuration files.

Listing the names imports no detector: each factory is imported when it is first called, so
``audioad --help`` does not pay for torch, PyOD or scikit-learn.
"""

from __future__ import annotations

import importlib
import re

__all__ = ["DETECTORS", "make_detector", "member_names"]


class _Factory:
    """A detector factory named by where it lives, imported on its first call."""

    def __init__(self, module, attribute, *preset):
        self.module = module
        self.attribute = attribute
        self.preset = preset

    def __call__(self, **params):
        factory = importlib.import_module(self.module, __package__)
        for part in self.attribute.split("."):
            factory = getattr(factory, part)
        return factory(*self.preset, **params)

    def __repr__(self):
        preset = "".join(f", {p!r}" for p in self.preset)
        return f"<factory {self.module.lstrip('.')}.{self.attribute}{preset}>"


#: Name -> (factory, one line on what it is). Factories take the detector's parameters.
DETECTORS = {
    "default": (
        _Factory(".ensemble", "default_detector"),
        "Mahalanobis k-NN on the mean spectrum and on its frame-to-frame change, the more alarmed deciding",
    ),
    "mel-knn": (_Factory(".knn", "MelKNN"), "k-NN distance on the time-averaged log-mel spectrum; training-free"),
    "mel-mahalanobis": (
        _Factory(".mahalanobis", "MelMahalanobis"),
        "Mahalanobis distance on pooled log-mel statistics; training-free",
    ),
    "mel-gmm": (_Factory(".gmm", "MelGMM"), "Gaussian mixture on pooled log-mel statistics; training-free"),
    "twfr-gmm": (_Factory(".gmm", "MelGMM.twfr"), "TWFR-GMM: GWRP-pooled log-mel and a GMM (Guan et al. 2023)"),
    "window-knn": (_Factory(".window_knn", "WindowKNN"), "k-NN on log-mel context windows; sees short events"),
    "event-knn": (
        _Factory(".event_knn", "EventKNN"),
        "short events (tone, clicks, burst) band by band against the nearest normal frames",
    ),
    "audio-ae": (
        _Factory(".autoencoder", "AudioAE"),
        "PyOD's AudioAE: dense autoencoder on log-mel windows (needs torch)",
    ),
    "dcase2020-ae": (
        _Factory(".autoencoder", "AudioAE.dcase2020"),
        "the DCASE 2020 task 2 baseline autoencoder (needs torch)",
    ),
    "dcase2023-ae": (
        _Factory(".autoencoder", "AudioAE.dcase2023"),
        "the DCASE 2023 baseline: autoencoder, Mahalanobis scores (needs torch)",
    ),
    "idnn": (_Factory(".idnn", "IDNN"), "interpolation DNN: predicts a window's middle frame (needs torch)"),
    "embedding-fast": (
        _Factory(".embedding", "EmbeddingOD.for_audio", "fast"),
        "PyOD's for_audio('fast'): descriptors + IForest",
    ),
    "embedding-balanced": (
        _Factory(".embedding", "EmbeddingOD.for_audio", "balanced"),
        "PyOD's for_audio('balanced'): descriptors + KNN",
    ),
    "embedding-best": (
        _Factory(".embedding", "EmbeddingOD.for_audio", "best"),
        "PyOD's for_audio('best'): descriptors + LUNAR",
    ),
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


def member_names(class_names):
    """Names of an ensemble's members, by which their parameters are set (``mel_knn_1__n_mels``).

    A member is named by its class in snake case; members of one class are numbered from 1 in
    the order they come. The names are Python identifiers, so ``set_params(mel_knn_1__k=3)`` works.

    Examples
    --------
    >>> member_names(["MelKNN", "MelKNN", "WindowKNN"])
    ['mel_knn_1', 'mel_knn_2', 'window_knn']
    >>> member_names(["IDNN", "AudioAE", "MelMahalanobis"])
    ['idnn', 'audio_ae', 'mel_mahalanobis']
    """
    snake = [re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower() for name in class_names]
    seen = {}
    names = []
    for name in snake:
        seen[name] = seen.get(name, 0) + 1
        names.append(f"{name}_{seen[name]}" if snake.count(name) > 1 else name)
    return names
