"""The closed list of detector classes a model file may name, by the name it stores.

A model file names its detector, and every nested one, by a name of this
registry; loading builds only these classes, looked up by that exact name, never
a class path resolved from the file. What a class holds is declared beside it:
``params_schema`` and ``state_schema`` (see :mod:`audioad.detectors.schema`), and
:meth:`~audioad.detectors.base.ClipDetector.fitted_state` returns exactly the
names its state schema declares.

Adding a detector class to what model files may hold is one line: add the class
to the tuple below (after giving it its two schemas). Third-party estimators are
listed in :mod:`audioad.persistence.estimators`.

Examples
--------
>>> sorted(detector_classes())[:3]
['AudioAE', 'EmbeddingOD', 'Ensemble']
"""

from __future__ import annotations

__all__ = ["detector_classes", "name_of"]


def detector_classes():
    """Stored name -> class, for every detector a model file may hold."""
    # Imported here: reading a model's header needs no detector.
    from ..detectors.autoencoder import AudioAE
    from ..detectors.embedding import EmbeddingOD
    from ..detectors.ensemble import Ensemble
    from ..detectors.event_knn import EventKNN
    from ..detectors.gmm import MelGMM
    from ..detectors.idnn import IDNN
    from ..detectors.knn import MelKNN
    from ..detectors.mahalanobis import MelMahalanobis
    from ..detectors.window_knn import WindowKNN

    classes = (AudioAE, EmbeddingOD, Ensemble, EventKNN, IDNN, MelGMM, MelKNN, MelMahalanobis, WindowKNN)
    return {cls.__name__: cls for cls in classes}


def name_of(detector, where):
    """The name ``detector``'s exact class is stored under; TypeError for a class the registry lacks."""
    for name, cls in detector_classes().items():
        if type(detector) is cls:
            return name
    raise TypeError(
        f"{where}: a {type(detector).__name__} cannot be saved in a model file; add it to "
        "audioad.persistence.registry (with a params_schema and a state_schema) first"
    )
