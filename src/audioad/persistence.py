"""Save and load a fitted detector as a model file that is not a pickle.

A model file is a zip archive holding:

- ``audioad-model.json``: the format name and version, the audioad version that
  wrote it, the detector's class and parameters, a training summary, and its
  fitted state as a JSON tree in which arrays are references;
- ``arrays/NNNN.npy``: every array, in NumPy's ``.npy`` format, read back with
  ``allow_pickle=False``.

Loading never unpickles and never calls ``torch.load``: network weights are
plain arrays. Objects are rebuilt only for classes that are scikit-learn, PyOD
or audioad estimators, by creating the bare object and setting its attributes
from the file, so no code named in a file runs. A corrupt, truncated or
incompatible file raises :class:`ModelFileError` naming the file and the cause.
"""

from __future__ import annotations

import datetime as _datetime
import importlib
import io
import json
import math
import zipfile
import zlib
from pathlib import Path

from . import __version__
from .outputs import atomic_path

# numpy, scikit-learn and the detectors are imported by the functions that write or rebuild a
# model, not at import: read_header (``audioad info``) needs none of them and answers at once.

__all__ = ["save", "load", "read_header", "ModelFileError", "FORMAT", "FORMAT_VERSION"]

#: Name of the format, stored in every model file.
FORMAT = "audioad-model"
#: Version of the format this audioad writes; files of a newer version are refused.
FORMAT_VERSION = 1

_HEADER = "audioad-model.json"
# Only estimators from these packages are rebuilt from a file.
_TRUSTED_PACKAGES = ("sklearn", "pyod", "audioad")


class ModelFileError(ValueError):
    """A model file that cannot be read: missing, corrupt, truncated or incompatible."""

    def __init__(self, path, cause):
        self.path = str(path)
        self.cause = cause
        super().__init__(f"{path}: {cause}")


def _class_path(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def _trusted_class(path, base=None):
    """Resolve a class path from a file, only to a trusted estimator class (``base``: BaseEstimator)."""
    from sklearn.base import BaseEstimator

    base = BaseEstimator if base is None else base
    module_name, _, name = path.rpartition(".")
    if module_name.split(".")[0] not in _TRUSTED_PACKAGES:
        raise TypeError(f"class {path!r} is not from {', '.join(_TRUSTED_PACKAGES)}")
    cls = getattr(importlib.import_module(module_name), name, None)
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise TypeError(f"{path!r} is not a {base.__name__} class")
    return cls


class _Writer:
    """Turn a value into a JSON tree, collecting its arrays."""

    def __init__(self):
        self.arrays = {}

    def encode(self, value, where):
        import numpy as np
        from sklearn.base import BaseEstimator
        from sklearn.tree._tree import Tree as SklearnTree

        from .detectors.base import ClipDetector

        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, (int, np.integer)) and not isinstance(value, np.bool_):
            return int(value)
        if isinstance(value, (float, np.floating)):
            value = float(value)
            return value if math.isfinite(value) else {"$float": repr(value)}
        if isinstance(value, np.bool_):
            return bool(value)
        if isinstance(value, np.ndarray):
            if value.dtype.hasobject:
                raise TypeError(f"{where}: arrays of Python objects cannot be saved")
            name = f"arrays/{len(self.arrays):04d}.npy"
            self.arrays[name] = value
            return {"$array": name}
        if isinstance(value, np.dtype):
            return {"$dtype": value.str}
        if isinstance(value, (list, tuple)):
            items = [self.encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
            return items if isinstance(value, list) else {"$tuple": items}
        if isinstance(value, dict):
            if not all(isinstance(k, str) for k in value):
                raise TypeError(f"{where}: only dictionaries with string keys can be saved")
            return {"$dict": {k: self.encode(v, f"{where}.{k}") for k, v in value.items()}}
        if isinstance(value, ClipDetector):
            # An ensemble's members: each stored through its own hooks, as a detector saved alone.
            return {
                "$detector": _class_path(type(value)),
                "params": self.encode(value.get_params(deep=False), f"{where}.params"),
                "state": self.encode(value.fitted_state(), f"{where}.state"),
            }
        if isinstance(value, BaseEstimator):
            return {"$estimator": _class_path(type(value)), "state": self.encode(vars(value), where)}
        if isinstance(value, SklearnTree):
            # A fitted decision tree (an isolation forest's): its node table and values, as arrays.
            return {
                "$tree": [value.n_features, self.encode(np.asarray(value.n_classes), where), value.n_outputs],
                "state": self.encode(value.__getstate__(), where),
            }
        if callable(value):
            raise TypeError(f"{where}: a function cannot be saved in a model file; pass a named setting instead")
        raise TypeError(f"{where}: cannot save a {type(value).__name__}")


class _Reader:
    """Rebuild values from a JSON tree and the archive's arrays."""

    def __init__(self, archive):
        self.archive = archive

    def decode(self, node):
        import numpy as np
        from sklearn.tree._tree import Tree as SklearnTree

        from .detectors.base import ClipDetector

        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if not isinstance(node, dict):
            return node
        if "$array" in node:
            with self.archive.open(node["$array"]) as f:
                # Read from the archive in numpy's small chunks: no second copy of a large array.
                return np.lib.format.read_array(f, allow_pickle=False)
        if "$float" in node:
            return float(node["$float"])
        if "$dtype" in node:
            return np.dtype(node["$dtype"])
        if "$tuple" in node:
            return tuple(self.decode(v) for v in node["$tuple"])
        if "$dict" in node:
            return {k: self.decode(v) for k, v in node["$dict"].items()}
        if "$detector" in node:
            detector = _trusted_class(node["$detector"], base=ClipDetector)(**self.decode(node["params"]))
            detector.__dict__.update(self.decode(node["state"]))
            detector.restore()
            return detector
        if "$tree" in node:
            n_features, n_classes, n_outputs = node["$tree"]
            tree = SklearnTree(int(n_features), np.asarray(self.decode(n_classes), dtype=np.intp), int(n_outputs))
            tree.__setstate__(self.decode(node["state"]))
            return tree
        if "$estimator" in node:
            estimator = object.__new__(_trusted_class(node["$estimator"]))
            estimator.__dict__.update(self.decode(node["state"]))
            return estimator
        raise ValueError(f"unknown entry {sorted(node)}")


def save(detector, path):
    """Save a fitted detector to ``path``.

    Parameters
    ----------
    detector : ClipDetector
        A fitted audioad detector.
    path : str or pathlib.Path
        File to write; its folder must exist. ``.audioad`` is the usual suffix.
        The file is written beside it and renamed over it once complete, so
        a crash never leaves a partial model file.

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from audioad import EmbeddingOD
    >>> clips = [0.1 * np.random.RandomState(s).randn(16000) for s in range(12)]
    >>> detector = EmbeddingOD.for_audio("balanced", sr=16000).fit(clips)
    >>> path = save(detector, os.path.join(tempfile.mkdtemp(), "fan.audioad"))
    >>> bool(np.allclose(load(path).decision_function(clips), detector.decision_function(clips)))
    True
    """
    import numpy as np

    from .detectors.base import ClipDetector
    from .domain import band_heard

    if not isinstance(detector, ClipDetector):
        raise TypeError(f"only audioad detectors can be saved, got {type(detector).__name__}")
    if not hasattr(detector, "decision_scores_"):
        raise ValueError(f"{type(detector).__name__} is not fitted yet; call fit first")
    writer = _Writer()
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "audioad_version": __version__,
        "created": _datetime.datetime.now(_datetime.timezone.utc).isoformat(timespec="seconds"),
        "detector": _class_path(type(detector)),
        "params": writer.encode(_params_of(detector), "params"),
        "training": {
            "n_clips": int(len(detector.decision_scores_)),
            "threshold": float(detector.threshold_),
            "score_mean": float(np.mean(detector.decision_scores_)),
            "score_std": float(np.std(detector.decision_scores_)),
            "band": band_heard(detector.sr, (getattr(detector, "training_audio_", None) or {}).get("rates", [])),
        },
        "state": writer.encode(detector.fitted_state(), "state"),
    }
    path = Path(path)
    # Written beside the target and renamed over it once complete: a crash leaves the old file or none.
    with atomic_path(path) as part, zipfile.ZipFile(part, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(_HEADER, json.dumps(header, indent=1))
        for name, array in writer.arrays.items():
            buffer = io.BytesIO()
            # The array's own memory order is kept: a reduction over a Fortran-ordered array sums
            # in another order than over a C-ordered copy, and scores must not move by a bit.
            np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=False)
            archive.writestr(name, buffer.getvalue())
    return path


def _params_of(detector):
    """Constructor arguments; an estimator argument is kept as its class and parameters."""
    from sklearn.base import BaseEstimator

    params = {}
    for name, value in detector.get_params(deep=False).items():
        if isinstance(value, BaseEstimator):
            value = {"$new": _class_path(type(value)), "params": value.get_params(deep=False)}
        params[name] = value
    return params


def _new_estimators(value):
    if isinstance(value, dict) and "$new" in value:
        return _trusted_class(value["$new"])(**value["params"])
    return value


def _open(path):
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(path, "no such model file" if not path.exists() else "is not a file")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelFileError(path, f"not an audioad model file, or truncated ({exc})") from exc
    try:
        header = json.loads(archive.read(_HEADER))
    except KeyError as exc:
        archive.close()
        raise ModelFileError(path, f"not an audioad model file: it has no {_HEADER}") from exc
    # What zipfile and json raise on a corrupt entry: a bad CRC, a broken deflate stream (zlib.error),
    # an entry marked encrypted or an unknown compression method (RuntimeError), text that is not JSON.
    # Nothing of audioad's runs here, so nothing caught is a bug of audioad's.
    except (ValueError, RuntimeError, EOFError, OSError, zipfile.BadZipFile, zlib.error) as exc:
        archive.close()
        raise ModelFileError(path, f"corrupt model description ({exc})") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        archive.close()
        raise ModelFileError(path, f"not an audioad model file (format {header.get('format')!r})")
    version = header.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        archive.close()
        raise ModelFileError(
            path,
            f"written in model format {version} by audioad {header.get('audioad_version')}; this audioad "
            f"({__version__}) reads format {FORMAT_VERSION} and older: upgrade audioad",
        )
    return archive, header


def read_header(path):
    """The description of a model file, without loading the model.

    Returns
    -------
    dict
        ``format``, ``format_version``, ``audioad_version``, ``created``,
        ``detector`` (class path), ``params`` (plain values) and ``training``
        (number of clips, threshold, mean and std of the training scores, and since audioad
        0.1 the band the model hears of its training recordings: :func:`audioad.domain.band_heard`).
    """
    archive, header = _open(path)
    archive.close()
    described = {k: v for k, v in header.items() if k != "state"}
    described["params"] = _plain(header.get("params", {}))
    return described


def _plain(node):
    """A stored tree as plain JSON values, arrays named but not read."""
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if not isinstance(node, dict):
        return node
    if "$dict" in node:
        return _plain(node["$dict"]) if "$new" in node["$dict"] else {k: _plain(v) for k, v in node["$dict"].items()}
    if "$tuple" in node:
        return [_plain(v) for v in node["$tuple"]]
    if "$new" in node:
        return {"class": node["$new"], **_plain(node["params"])}
    if "$detector" in node:
        # An ensemble's member: its class and parameters, as an estimator argument reads.
        return {"class": node["$detector"], **_plain(node["params"])}
    if "$float" in node:
        return node["$float"]
    return f"<{next(iter(node))[1:]}>"


def load(path):
    """Load a detector saved by :func:`save`.

    Parameters
    ----------
    path : str or pathlib.Path
        A model file.

    Returns
    -------
    ClipDetector
        The fitted detector, scoring exactly as it did when saved.

    Raises
    ------
    ModelFileError
        When the file is missing, not a model file, corrupt, truncated, or
        written by a newer format.
    """
    from .detectors.base import ClipDetector

    archive, header = _open(path)
    with archive:
        try:
            cls = _trusted_class(header["detector"], base=ClipDetector)
            reader = _Reader(archive)
            params = {k: _new_estimators(v) for k, v in reader.decode(header["params"]).items()}
            detector = cls(**params)
            detector.__dict__.update(reader.decode(header["state"]))
            detector.restore()
        except ModelFileError:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure of a bad file must name the file
            raise ModelFileError(path, f"cannot rebuild the detector ({type(exc).__name__}: {exc})") from exc
    return detector
