"""What a detector's parameters and fitted state are made of, with their bounds.

Every detector declares, beside its class, a ``params_schema`` and a
``state_schema``: a dict from each constructor argument, and from each entry of
:meth:`~audioad.detectors.base.ClipDetector.fitted_state`, to one of the kinds
below. :mod:`audioad.persistence` writes a model file by these schemas and reads
one back only through them: a value of a file is checked against its kind (type,
range, an array's dtype and shape) before anything is built from it, so a file
holds data, never an object graph.

An array's shape names its dimensions: a name (``"n_features"``) is bound by the
first value that has it, within one detector, and every other value naming it
must agree; an :class:`Int` with ``dim=`` binds one too. A file whose arrays do
not fit together is refused before the detector is built.

The kinds encode and decode through a ``writer`` and a ``reader`` that the
persistence package gives them (arrays, nested detectors and third-party
estimators are its business); the kinds know only their own checks.

Examples
--------
>>> from audioad.detectors.schema import Array, Int, check_plain
>>> scope = {}
>>> check_plain(Int(1, 1024, dim="n_mels"), 64, scope, "n_mels")
64
>>> Array("f", ("n_mels",)).check_shape((64,), scope, "levels")
>>> Array("f", ("n_mels",)).check_shape((65,), scope, "levels")
Traceback (most recent call last):
...
ValueError: levels: shape (65,) does not fit ('n_mels',): n_mels is 64 elsewhere
"""

from __future__ import annotations

import math
import numbers

# No numpy import: reading a model file's header (``audioad info``) checks its values with these kinds
# and must stay light. An array reaches them only through a writer or reader, which brings numpy.

__all__ = [
    "Int",
    "Float",
    "Bool",
    "Str",
    "Null",
    "NoneOr",
    "AnyOf",
    "ListOf",
    "MapOf",
    "Record",
    "Array",
    "Detector",
    "Estimator",
    "Optional",
    "check_plain",
    "MAX_ITEMS",
    "MAX_TEXT",
]

#: Most items in a list or mapping of a model file, unless its kind says fewer.
MAX_ITEMS = 100_000
#: Longest text a model file may hold in one value.
MAX_TEXT = 1_000


class Int:
    """An integer in ``[lo, hi]``; ``dim`` names the array dimension it sizes."""

    def __init__(self, lo, hi, dim=None):
        self.lo, self.hi, self.dim = lo, hi, dim

    def encode(self, value, writer, scope, where):
        return int(self.decode(value, None, scope, where))

    def decode(self, node, reader, scope, where):
        if _is_bool(node) or not isinstance(node, numbers.Integral):
            raise _unexpected("an integer", node, where)
        if not self.lo <= node <= self.hi:
            raise ValueError(f"{where}: {node} is outside [{self.lo}, {self.hi}]")
        if self.dim is not None:
            _bind(scope, self.dim, int(node), where)
        return int(node)


class Float:
    """A number in ``[lo, hi]``; non-finite values only where ``finite`` is False."""

    def __init__(self, lo=-math.inf, hi=math.inf, finite=True):
        self.lo, self.hi, self.finite = lo, hi, finite

    def encode(self, value, writer, scope, where):
        return float(self.decode(value, None, scope, where))

    def decode(self, node, reader, scope, where):
        if _is_bool(node) or not isinstance(node, numbers.Real):
            raise _unexpected("a number", node, where)
        node = float(node)
        if math.isnan(node) or math.isinf(node):
            if self.finite:
                raise ValueError(f"{where}: expected a finite number, got {node}")
            return node
        if not self.lo <= node <= self.hi:
            raise ValueError(f"{where}: {node} is outside [{self.lo}, {self.hi}]")
        return node


class Bool:
    """True or False."""

    def encode(self, value, writer, scope, where):
        return bool(self.decode(value, None, scope, where))

    def decode(self, node, reader, scope, where):
        if not _is_bool(node):
            raise _unexpected("true or false", node, where)
        return bool(node)


class Str:
    """Text: one of ``choices`` when given, else any text up to :data:`MAX_TEXT` characters."""

    def __init__(self, *choices):
        self.choices = choices

    def encode(self, value, writer, scope, where):
        return self.decode(value, None, scope, where)

    def decode(self, node, reader, scope, where):
        if not isinstance(node, str):
            raise _unexpected("text", node, where)
        if self.choices and node not in self.choices:
            raise ValueError(f"{where}: {node[:80]!r} is not one of {self.choices}")
        if len(node) > MAX_TEXT:
            raise ValueError(f"{where}: text of {len(node)} characters, over {MAX_TEXT}")
        return node


class Null:
    """None only (a setting that a model file can hold only at its default, such as ``metric_params``)."""

    def encode(self, value, writer, scope, where):
        return self.decode(value, None, scope, where)

    def decode(self, node, reader, scope, where):
        if node is not None:
            raise _unexpected("null", node, where)
        return None


class NoneOr:
    """None, or a value of ``kind``."""

    def __init__(self, kind):
        self.kind = kind

    def encode(self, value, writer, scope, where):
        return None if value is None else self.kind.encode(value, writer, scope, where)

    def decode(self, node, reader, scope, where):
        return None if node is None else self.kind.decode(node, reader, scope, where)


class AnyOf:
    """A value of the first of ``kinds`` that takes it (an EmbeddingOD's detector: a name or an estimator)."""

    def __init__(self, *kinds):
        self.kinds = kinds

    def encode(self, value, writer, scope, where):
        return self._first("encode", value, writer, scope, where)

    def decode(self, node, reader, scope, where):
        return self._first("decode", node, reader, scope, where)

    def _first(self, method, value, through, scope, where):
        reasons = []
        for kind in self.kinds:
            # A kind that fails may have bound dimensions; only the one that takes the value keeps them.
            trial = dict(scope)
            try:
                result = getattr(kind, method)(value, through, trial, where)
            except (TypeError, ValueError) as exc:
                reasons.append(str(exc))
                continue
            scope.update(trial)
            return result
        raise ValueError("; or ".join(reasons))


class ListOf:
    """A list of ``min_len`` to ``max_len`` values of ``kind``; read back as a tuple where ``as_tuple``."""

    def __init__(self, kind, min_len=0, max_len=MAX_ITEMS, as_tuple=False):
        self.kind, self.max_len, self.min_len, self.as_tuple = kind, max_len, min_len, as_tuple

    def encode(self, value, writer, scope, where):
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"{where}: expected a list, got {_kind(value)}")
        self._check_length(len(value), where)
        return [self.kind.encode(v, writer, scope, f"{where}[{i}]") for i, v in enumerate(value)]

    def decode(self, node, reader, scope, where):
        if not isinstance(node, list):
            raise _unexpected("a list", node, where)
        self._check_length(len(node), where)
        items = [self.kind.decode(v, reader, scope, f"{where}[{i}]") for i, v in enumerate(node)]
        return tuple(items) if self.as_tuple else items

    def _check_length(self, length, where):
        if not self.min_len <= length <= self.max_len:
            raise ValueError(f"{where}: {length} items, expected {self.min_len} to {self.max_len}")


class MapOf:
    """A mapping from text to values of ``kind`` (a network's weights by layer name)."""

    def __init__(self, kind, max_len=MAX_ITEMS):
        self.kind, self.max_len = kind, max_len

    def encode(self, value, writer, scope, where):
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise TypeError(f"{where}: expected a mapping with text keys, got {_kind(value)}")
        return {k: self.kind.encode(v, writer, scope, f"{where}.{k}") for k, v in self.decode_keys(value, where)}

    def decode(self, node, reader, scope, where):
        if not isinstance(node, dict):
            raise _unexpected("a mapping", node, where)
        return {k: self.kind.decode(v, reader, scope, f"{where}.{k}") for k, v in self.decode_keys(node, where)}

    def decode_keys(self, mapping, where):
        if len(mapping) > self.max_len:
            raise ValueError(f"{where}: {len(mapping)} entries, over {self.max_len}")
        for key in mapping:
            Str().decode(key, None, {}, f"{where} key")
        return mapping.items()


class Optional:
    """A :class:`Record` entry that may be absent (a fitted attribute that only some settings set)."""

    def __init__(self, kind):
        self.kind = kind


class Record:
    """Named values, each of its own kind: exactly these names, those marked :class:`Optional` may be absent."""

    def __init__(self, fields):
        self.fields = fields

    def encode(self, value, writer, scope, where):
        if not isinstance(value, dict):
            raise TypeError(f"{where}: expected named values, got {_kind(value)}")
        self._check_names(value, where, TypeError)
        return {
            name: _unwrap(self.fields[name]).encode(v, writer, scope, f"{where}.{name}") for name, v in value.items()
        }

    def decode(self, node, reader, scope, where):
        if not isinstance(node, dict):
            raise _unexpected("named values", node, where)
        self._check_names(node, where, ValueError)
        return {
            name: _unwrap(self.fields[name]).decode(v, reader, scope, f"{where}.{name}") for name, v in node.items()
        }

    def _check_names(self, value, where, error):
        unknown = sorted(set(value) - set(self.fields))
        if unknown:
            raise error(f"{where}: {', '.join(map(repr, unknown))[:200]} not in its schema")
        missing = [name for name, kind in self.fields.items() if name not in value and not isinstance(kind, Optional)]
        if missing:
            raise error(f"{where}: {', '.join(map(repr, missing))} missing")


class Array:
    """A numeric array: ``kinds`` its dtype kinds (``"f"``, ``"i"``, ``"u"``, ``"b"``), ``shape`` its dimensions.

    A dimension is a number, a name bound within one detector, or None (any length);
    ``shape=None`` takes any shape (a network's weights, checked against its layers).
    ``lo`` and ``hi`` bound every value (indices into a table, say).
    """

    def __init__(self, kinds, shape, lo=None, hi=None):
        self.kinds, self.lo, self.hi = kinds, lo, hi
        self.shape = None if shape is None else tuple(shape)

    def encode(self, value, writer, scope, where):
        import numpy as np

        if not isinstance(value, np.ndarray):
            raise TypeError(f"{where}: expected an array, got {_kind(value)}")
        self.check(value, scope, where, TypeError)
        return writer.array(value, where)

    def decode(self, node, reader, scope, where):
        array = reader.array(node, where)
        self.check(array, scope, where, ValueError)
        return array

    def check(self, array, scope, where, error=ValueError):
        """Raise ``error`` unless ``array`` is of this kind; binds its named dimensions in ``scope``."""
        if array.dtype.kind not in self.kinds or array.dtype.fields is not None:
            raise error(f"{where}: dtype {array.dtype} is not of kind {self.kinds!r}")
        try:
            self.check_shape(array.shape, scope, where)
        except ValueError as exc:
            raise error(str(exc)) from exc
        if array.size and (self.lo is not None or self.hi is not None):
            low, high = array.min(), array.max()
            if (self.lo is not None and low < self.lo) or (self.hi is not None and high > self.hi):
                raise error(f"{where}: values {low} to {high} outside [{self.lo}, {self.hi}]")

    def check_shape(self, shape, scope, where):
        """Raise ValueError unless ``shape`` fits this kind's dimensions; binds the named ones in ``scope``."""
        if self.shape is None:
            return
        if len(shape) != len(self.shape):
            raise ValueError(f"{where}: {len(shape)} dimensions, expected {len(self.shape)}")
        for size, dim in zip(shape, self.shape):
            if isinstance(dim, str):
                if dim in scope and scope[dim] != size:
                    raise ValueError(
                        f"{where}: shape {tuple(shape)} does not fit {self.shape}: {dim} is {scope[dim]} elsewhere"
                    )
            elif dim is not None and dim != size:
                raise ValueError(f"{where}: shape {tuple(shape)} does not fit {self.shape}")
        for size, dim in zip(shape, self.shape):
            if isinstance(dim, str):
                scope[dim] = size


class Detector:
    """A nested audioad detector (an ensemble's member); ``fitted``: with its fitted state."""

    def __init__(self, fitted=True):
        self.fitted = fitted

    def encode(self, value, writer, scope, where):
        return writer.detector(value, self.fitted, where)

    def decode(self, node, reader, scope, where):
        return reader.detector(node, self.fitted, where)


class Estimator:
    """A third-party estimator of one of the named kinds (``"sklearn.StandardScaler"``, ``"pyod.KNN"``, ...).

    ``fitted``: with its fitted state (an attribute ending in ``_``), or its parameters only (a constructor argument).
    """

    def __init__(self, *names, fitted=True):
        self.names, self.fitted = names, fitted

    def encode(self, value, writer, scope, where):
        return writer.estimator(value, self.names, self.fitted, where)

    def decode(self, node, reader, scope, where):
        return reader.estimator(node, self.names, self.fitted, where)


def check_plain(kind, value, scope, where):
    """Check a plain value (number, text, list of them) against ``kind``; it, as read back."""
    return kind.decode(value, None, scope, where)


def _is_bool(value):
    """True or False, as Python or numpy has it."""
    return isinstance(value, bool) or getattr(getattr(value, "dtype", None), "kind", None) == "b"


def _bind(scope, dim, size, where):
    if dim in scope and scope[dim] != size:
        raise ValueError(f"{where}: {size}, but {dim} is {scope[dim]} elsewhere")
    scope[dim] = size


def _unwrap(kind):
    return kind.kind if isinstance(kind, Optional) else kind


def _unexpected(what, value, where):
    if callable(value) and not isinstance(value, type) and not hasattr(value, "get_params"):
        return ValueError(f"{where}: a function cannot be saved in a model file; pass a named setting instead")
    return ValueError(f"{where}: expected {what}, got {_kind(value)}")


def _kind(value):
    return "null" if value is None else type(value).__name__
