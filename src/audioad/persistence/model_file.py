"""Save a fitted detector as data, load it back by its schemas, describe a file without loading it."""

from __future__ import annotations

import datetime as _datetime

from .. import __version__
from ..detectors.schema import Float, Int, Record, Str
from .archive import ModelArchive, ModelFileError, write_archive

__all__ = ["save", "load", "read_header", "is_model_file", "FORMAT", "FORMAT_VERSION"]

#: Name of the format, stored in every model file.
FORMAT = "audioad-model"
#: Version of the format this audioad writes and reads; 1 rebuilt objects from class paths and is refused.
FORMAT_VERSION = 3

_TRAINING = Record(
    {
        "n_clips": Int(0, 2**62),
        "threshold": Float(finite=False),
        "score_mean": Float(finite=False),
        "score_std": Float(finite=False),
        # Which band the model hears of its training recordings (audioad.domain.band_heard).
        "band": Str(),
    }
)
_TEXT = Str()


class _Writer:
    """Turns a detector into the header's JSON values, collecting its arrays (the schemas' ``writer``)."""

    def __init__(self):
        self.arrays = {}
        self.refs = {}

    def array(self, value, where):
        name = f"arrays/{len(self.arrays):04d}.npy"
        self.arrays[name] = value
        self.refs[name] = {}
        return self.refs[name]

    def detector(self, detector, fitted, where):
        from ..detectors.base import ClipDetector
        from .registry import name_of

        if not isinstance(detector, ClipDetector):
            raise TypeError(f"{where}: expected an audioad detector, got {type(detector).__name__}")
        cls, scope = type(detector), {}
        node = {
            "class": name_of(detector, where),
            "params": self.record(cls.params_schema, detector.get_params(deep=False), scope, where),
        }
        if fitted:
            node["state"] = self.record(cls.state_schema, detector.fitted_state(), scope, f"{where}.state")
        return node

    def estimator(self, estimator, names, fitted, where):
        from .estimators import codec_of

        codec, scope = codec_of(estimator, names, where), {}
        node = {"class": codec.name, "params": self.record(codec.params_schema, codec.params(estimator), scope, where)}
        if fitted:
            node["state"] = self.record(codec.state_schema, codec.state(estimator), scope, f"{where}.state")
        return node

    def record(self, schema, values, scope, where):
        return Record(schema).encode(values, self, scope, where)


class _Reader:
    """Rebuilds a detector from checked header values and the archive's arrays (the schemas' ``reader``)."""

    def __init__(self, archive):
        self.archive = archive
        self.classes = None

    def array(self, node, where):
        return self.archive.array(node, where)

    def detector(self, node, fitted, where):
        from .registry import detector_classes

        self.classes = self.classes or detector_classes()
        name = _entry(node, fitted, where)
        if name not in self.classes:
            raise ValueError(f"{where}: {name[:80]!r} is not a detector a model file may hold")
        cls, scope = self.classes[name], {}
        # audioad's constructors store their arguments and do nothing else.
        detector = cls(**self.record(cls.params_schema, node["params"], scope, f"{where}.params"))
        detector.check_parameters()
        if fitted:
            detector.__dict__.update(self.record(cls.state_schema, node["state"], scope, f"{where}.state"))
            detector.restore()
        return detector

    def estimator(self, node, names, fitted, where):
        from .estimators import codec_named

        codec, scope = codec_named(_entry(node, fitted, where), names), {}
        params = self.record(codec.params_schema, node["params"], scope, f"{where}.params")
        state = self.record(codec.state_schema, node["state"], scope, f"{where}.state") if fitted else None
        return codec.build(params, state)

    def record(self, schema, values, scope, where):
        return Record(schema).decode(values, self, scope, where)


def _entry(node, fitted, where):
    """The class name of a stored detector or estimator, after checking the entry's keys."""
    keys = {"class", "params", "state"} if fitted else {"class", "params"}
    if not (isinstance(node, dict) and set(node) == keys and isinstance(node["class"], str)):
        raise ValueError(f"{where}: expected {sorted(keys)}")
    return node["class"]


def save(detector, path):
    """Save a fitted detector to ``path``, as data: named arrays and numbers, no objects.

    Parameters
    ----------
    detector : ClipDetector
        A fitted audioad detector of a class in :mod:`audioad.persistence.registry`.
    path : str or pathlib.Path
        File to write; ``.audioad`` is the usual suffix. The file is written
        beside it and renamed over it once complete, so a crash never leaves a
        partial model file.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    TypeError
        When the detector holds something a model file cannot hold as data (a
        function as encoder, a PyOD detector other than IForest, KNN and LUNAR,
        a class not in the registry), naming it.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from audioad import EmbeddingOD
    >>> clips = [0.1 * np.random.RandomState(s).randn(16000) for s in range(12)]
    >>> detector = EmbeddingOD.for_audio("balanced", sr=16000).fit(clips)
    >>> path = save(detector, os.path.join(tempfile.mkdtemp(), "fan.audioad"))
    >>> bool(np.array_equal(load(path).decision_function(clips), detector.decision_function(clips)))
    True
    """
    from pathlib import Path

    import numpy as np

    from ..detectors.base import ClipDetector
    from ..domain import band_heard

    if not isinstance(detector, ClipDetector):
        raise TypeError(f"only audioad detectors can be saved, got {type(detector).__name__}")
    if not hasattr(detector, "decision_scores_"):
        raise ValueError(f"{type(detector).__name__} is not fitted yet; call fit first")
    writer = _Writer()
    try:
        node = writer.detector(detector, True, "detector")
    except ValueError as exc:
        # A value outside its schema: the detector holds something a model file cannot hold as data.
        raise TypeError(f"cannot save the {type(detector).__name__}: {exc}") from exc
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "audioad_version": __version__,
        "created": _datetime.datetime.now(_datetime.timezone.utc).isoformat(timespec="seconds"),
        "detector": node["class"],
        "params": node["params"],
        "training": {
            "n_clips": int(len(detector.decision_scores_)),
            "threshold": float(detector.threshold_),
            "score_mean": float(np.mean(detector.decision_scores_)),
            "score_std": float(np.std(detector.decision_scores_)),
            "band": band_heard(detector.sr, (getattr(detector, "training_audio_", None) or {}).get("rates", [])),
        },
        "state": node["state"],
    }
    path = Path(path)
    write_archive(path, header, writer.arrays, writer.refs)
    return path


def _checked_header(archive):
    """The header of an open model file, after checking its format, version and summary."""
    header = archive.header()
    if header.get("format") != FORMAT:
        raise archive.error(f"not an audioad model file (format {str(header.get('format'))[:40]!r})")
    version = header.get("format_version")
    if version == 1:
        raise archive.error(
            "written in model format 1, which this audioad no longer reads: format 1 rebuilt objects named by the "
            "file, so a file could run code; fit the detector again and save it with this audioad"
        )
    if version == 2:
        raise archive.error(
            "written in model format 2 by an earlier audioad, whose files may lack what this one reads (the "
            "training spectrum, the coverage of new recordings); fit the detector again and save it with this audioad"
        )
    if version != FORMAT_VERSION:
        raise archive.error(
            f"written in model format {str(version)[:20]} by audioad {str(header.get('audioad_version'))[:20]}; "
            f"this audioad ({__version__}) reads format {FORMAT_VERSION}: upgrade audioad"
        )
    expected = {"format", "format_version", "audioad_version", "created", "detector", "params", "training", "state"}
    if set(header) != expected:
        raise archive.error(f"model description has {sorted(set(header) ^ expected)[:3]} out of place")
    try:
        for key in ("audioad_version", "created", "detector"):
            _TEXT.decode(header[key], None, {}, key)
        header["training"] = _TRAINING.decode(header["training"], None, {}, "training")
    except ValueError as exc:
        raise archive.error(f"corrupt model description ({exc})") from exc
    return header


def is_model_file(path):
    """Whether ``path`` is an audioad model file of any format version, read under the archive's bounds.

    What may be replaced by a new model (``audioad fit --force``): a file of format 1, which
    :func:`load` refuses, is still a model file.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
    >>> _ = open(path, "w").write("not a model")
    >>> is_model_file(path)
    False
    """
    try:
        with ModelArchive(path) as archive:
            return archive.header().get("format") == FORMAT
    except ModelFileError:
        return False


def read_header(path):
    """The description of a model file, without loading the model.

    The file is read under the same bounds as :func:`load`; nothing is built.

    Returns
    -------
    dict
        ``format``, ``format_version``, ``audioad_version``, ``created``,
        ``detector`` (its stored class name), ``params`` (plain values: a nested
        detector or estimator as a dict of its ``class`` and parameters, an
        array as ``"<array float64 (3,)>"``) and ``training`` (number of clips,
        threshold, mean and std of the training scores).

    Raises
    ------
    ModelFileError
        When the file is missing, not a model file, corrupt, or of another format version.
    """
    with ModelArchive(path) as archive:
        header = _checked_header(archive)
    if not isinstance(header["params"], dict):
        raise ModelFileError(path, "corrupt model description (params is not a mapping)")
    described = {k: v for k, v in header.items() if k != "state"}
    described["params"] = _plain(header["params"])
    return described


def _plain(node):
    """A stored value as plain JSON values; arrays named, not read. Depth is bounded by the archive."""
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if not isinstance(node, dict):
        return node
    if "$array" in node:
        return f"<array {node.get('dtype')} {tuple(node.get('shape') or ())}>"
    if set(node) == {"class", "params"} and isinstance(node["params"], dict):
        return {"class": node["class"], **_plain(node["params"])}
    return {str(k): _plain(v) for k, v in node.items()}


def load(path):
    """Load a detector saved by :func:`save`.

    Only detector classes of :mod:`audioad.persistence.registry` and the
    estimators of :mod:`audioad.persistence.estimators` are built, each from
    values checked against its schema; nothing is fitted, nothing is unpickled.

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
        When the file is missing, not a model file, corrupt, truncated, of
        another format version, or holds anything its schemas do not allow.
    """
    with ModelArchive(path) as archive:
        header = _checked_header(archive)
        node = {"class": header["detector"], "params": header["params"], "state": header["state"]}
        try:
            return _Reader(archive).detector(node, True, "detector")
        except ModelFileError:
            raise
        # What building from checked values can still raise on values that do not fit together
        # (a matrix that is not invertible, weights for another network, a setting a detector refuses).
        except (ValueError, TypeError, KeyError, IndexError, ArithmeticError, RuntimeError, ImportError) as exc:
            raise archive.error(f"cannot rebuild the detector ({type(exc).__name__}: {exc})") from exc
        except MemoryError as exc:
            raise archive.error("cannot rebuild the detector: out of memory") from exc
