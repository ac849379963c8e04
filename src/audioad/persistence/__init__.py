"""Save and load fitted detectors as model files that hold data, not objects.

A model file is a zip archive of a JSON header (``audioad-model.json``: format,
version, the detector's stored class name, its parameters, a training summary
and its fitted state, in which arrays are references) and ``arrays/NNNN.npy``
members. Reading it builds only the classes of a closed registry, each from
named arrays and numbers checked against the schema declared beside its class,
under bounds set before anything is read; it never unpickles, never imports a
module a file names, never fits.

- :mod:`.archive`: the zip, the header and the arrays, read under bounds; :class:`ModelFileError`;
- :mod:`.model_file`: :func:`save`, :func:`load`, :func:`read_header`;
- :mod:`.registry`: the detector classes a file may name;
- :mod:`.estimators`: the scikit-learn and PyOD estimators a detector may hold, stored as data.
"""

from .archive import ModelFileError
from .model_file import FORMAT, FORMAT_VERSION, is_model_file, load, read_header, save

__all__ = ["save", "load", "read_header", "is_model_file", "ModelFileError", "FORMAT", "FORMAT_VERSION"]
