"""The model file as an archive: a JSON header and ``.npy`` arrays in a zip, read under fixed bounds.

Everything is bounded before it is read, so that a small hostile file cannot make
a reader allocate much, run long or crash:

- the zip holds at most :data:`MAX_MEMBERS` members (counted from its end record,
  before the directory is parsed), only ``audioad-model.json`` and
  ``arrays/NNNN.npy``, each name once;
- the header is at most :data:`MAX_HEADER_BYTES` once inflated and at most
  :data:`MAX_DEPTH` levels deep;
- arrays are stored, not compressed, so an array never takes more memory than its
  bytes take in the file (no compression bomb); each is at most
  :data:`MAX_ARRAY_BYTES`, of a plain numeric dtype (never objects, never a
  structured dtype), and its ``.npy`` header must give the dtype and shape the
  model header declares for it and account for every byte of the member, checked
  before the array is allocated; its SHA-256 must match the one declared.

A file that breaks any of this raises :class:`ModelFileError` naming the file and the cause.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
import zlib

from ..outputs import one_line

__all__ = [
    "ModelFileError",
    "ModelArchive",
    "write_archive",
    "HEADER",
    "MAX_HEADER_BYTES",
    "MAX_DEPTH",
    "MAX_MEMBERS",
    "MAX_ARRAY_BYTES",
    "ARRAY_DTYPES",
]

#: The header's name inside the zip.
HEADER = "audioad-model.json"
#: Largest header, in bytes once inflated: a default ensemble's is about 10 kB.
MAX_HEADER_BYTES = 2 * 2**20
#: Deepest nesting of lists and objects in the header.
MAX_DEPTH = 64
#: Most members in a model file's zip.
MAX_MEMBERS = 100_000
#: Largest array, in bytes.
MAX_ARRAY_BYTES = 2**31
#: The dtypes an array may have (``numpy.dtype.str``): booleans, integers and floats, little-endian.
ARRAY_DTYPES = ("|b1", "|i1", "|u1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8", "<f4", "<f8")

_ARRAY_NAME = re.compile(r"arrays/[0-9]{4,6}\.npy")
# A .npy header beyond this is not one numpy wrote for a plain array.
_NPY_HEADER_BYTES = 4096
# What zipfile, zlib and json raise on a corrupt member: a bad CRC or deflate stream, an encrypted
# member or unknown compression (RuntimeError, NotImplementedError), text that is not JSON.
_CORRUPT = (ValueError, RuntimeError, NotImplementedError, EOFError, OSError, zipfile.BadZipFile, zlib.error)


class ModelFileError(ValueError):
    """A model file that cannot be read: missing, corrupt, truncated, incompatible or hostile.

    Attributes
    ----------
    path : str
        The file.
    cause : str
        Why it cannot be read, one line.
    """

    def __init__(self, path, cause):
        self.path = str(path)
        # One line, whatever the file holds: the cause may quote it.
        self.cause = one_line(cause)
        super().__init__(f"{one_line(path)}: {self.cause}")


class ModelArchive:
    """An open model file: its bounded header and, on request, its arrays.

    Parameters
    ----------
    path : str or pathlib.Path
        The model file.

    Examples
    --------
    >>> import tempfile, os, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "m.audioad")
    >>> ref = {}
    >>> write_archive(path, {"state": ref}, {"arrays/0000.npy": np.arange(3.0)}, refs={"arrays/0000.npy": ref})
    >>> with ModelArchive(path) as archive:
    ...     archive.array(archive.header()["state"], "state")
    array([0., 1., 2.])
    """

    def __init__(self, path):
        self.path = path
        self._file = _open_file(path)
        try:
            self._zip = self._open_zip()
        except BaseException:
            self._file.close()
            raise
        self._arrays_read = set()

    def _open_zip(self):
        try:
            # The member count from the end record, before zipfile builds an entry for every one.
            end = zipfile._EndRecData(self._file)
            if end is None:
                raise zipfile.BadZipFile("no zip end record")
            if end[zipfile._ECD_ENTRIES_TOTAL] > MAX_MEMBERS:
                raise self.error(f"{end[zipfile._ECD_ENTRIES_TOTAL]} members, over {MAX_MEMBERS}")
            archive = zipfile.ZipFile(self._file)
        except _CORRUPT as exc:
            raise self.error(f"not an audioad model file, or truncated ({exc})") from exc
        names = archive.namelist()
        if len(names) > MAX_MEMBERS:
            raise self.error(f"{len(names)} members, over {MAX_MEMBERS}")
        if len(set(names)) != len(names):
            raise self.error("a member name occurs twice")
        strangers = [name for name in names if name != HEADER and not _ARRAY_NAME.fullmatch(name)]
        if strangers:
            raise self.error(f"unexpected member {strangers[0]!r}")
        if HEADER not in names:
            raise self.error(f"not an audioad model file: it has no {HEADER}")
        return archive

    def error(self, cause):
        """A :class:`ModelFileError` of this file."""
        return ModelFileError(self.path, cause)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._zip.close()
        self._file.close()

    def header(self):
        """The header: a dict, checked to be at most :data:`MAX_HEADER_BYTES` and :data:`MAX_DEPTH` deep."""
        info = self._zip.getinfo(HEADER)
        if info.file_size > MAX_HEADER_BYTES:
            raise self.error(f"model description of {info.file_size} bytes, over {MAX_HEADER_BYTES}")
        try:
            with self._zip.open(info) as member:
                # zipfile stops at the declared size, so a lying size cannot make this read more.
                text = member.read(MAX_HEADER_BYTES + 1)
            header = json.loads(text)
        except RecursionError as exc:
            raise self.error(f"model description nested deeper than {MAX_DEPTH} levels") from exc
        except _CORRUPT as exc:
            raise self.error(f"corrupt model description ({_one_line(exc)})") from exc
        if _depth(header) > MAX_DEPTH:
            raise self.error(f"model description nested deeper than {MAX_DEPTH} levels")
        if not isinstance(header, dict):
            raise self.error("not an audioad model file: its description is not a JSON object")
        return header

    def array(self, ref, where):
        """The array a header reference names, read under the bounds; ValueError if the reference is wrong."""
        if not (isinstance(ref, dict) and set(ref) == {"$array", "dtype", "shape", "sha256"}):
            raise ValueError(f"{where}: expected an array reference")
        name, dtype_name, shape, digest = ref["$array"], ref["dtype"], ref["shape"], ref["sha256"]
        if not (isinstance(name, str) and _ARRAY_NAME.fullmatch(name)):
            raise ValueError(f"{where}: bad array name")
        if name in self._arrays_read:
            raise ValueError(f"{where}: array {name} is referenced twice")
        if dtype_name not in ARRAY_DTYPES:
            raise ValueError(f"{where}: dtype {str(dtype_name)[:40]!r} is not one of {ARRAY_DTYPES}")
        if not (isinstance(shape, list) and len(shape) <= 8 and all(_is_size(n) for n in shape)):
            raise ValueError(f"{where}: bad shape")
        try:
            info = self._zip.getinfo(name)
        except KeyError:
            raise ValueError(f"{where}: array {name} is missing") from None
        self._arrays_read.add(name)
        import numpy as np

        dtype = np.dtype(dtype_name)
        n_bytes = dtype.itemsize * _product(shape)
        if n_bytes > MAX_ARRAY_BYTES:
            raise ValueError(f"{where}: array of {n_bytes} bytes, over {MAX_ARRAY_BYTES}")
        if info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size:
            raise ValueError(f"{where}: array {name} is compressed; a model file stores its arrays as they are")
        try:
            with self._zip.open(info) as member:
                npy_header = member.read(min(info.file_size, _NPY_HEADER_BYTES))
                stream = io.BytesIO(npy_header)
                version = np.lib.format.read_magic(stream)
                if version not in ((1, 0), (2, 0)):
                    raise ValueError(f"{where}: .npy version {version} not supported")
                read_header = (
                    np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                )
                stored_shape, fortran_order, stored_dtype = read_header(stream, max_header_size=_NPY_HEADER_BYTES)
                offset = stream.tell()
                if stored_dtype.str != dtype_name or list(stored_shape) != shape:
                    raise ValueError(
                        f"{where}: array {name} holds {stored_dtype.str} {list(stored_shape)}, "
                        f"the description says {dtype_name} {shape}"
                    )
                if info.file_size - offset != n_bytes:
                    raise ValueError(
                        f"{where}: array {name} has {info.file_size - offset} bytes of data, not {n_bytes}"
                    )
                data = bytearray(n_bytes)
                view = memoryview(data)
                head = npy_header[offset:]
                view[: len(head)] = head
                filled = len(head)
                while filled < n_bytes:
                    got = member.readinto(view[filled:])
                    if not got:
                        raise EOFError(f"array {name} ends early")
                    filled += got
        except ValueError:
            raise
        except _CORRUPT as exc:
            raise ValueError(f"{where}: array {name} is corrupt ({_one_line(exc)})") from exc
        if hashlib.sha256(data).hexdigest() != digest:
            raise ValueError(f"{where}: array {name} does not match its checksum")
        return np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran_order else "C")


def write_archive(path, header, arrays, refs):
    """Write a model file: ``header`` (JSON) and ``arrays`` (name -> ndarray), atomically.

    ``refs`` maps each array's name to the header's dict that references it; the
    dtype, shape and SHA-256 of the array as written are filled in there.
    """
    import numpy as np

    from ..outputs import atomic_path

    members = {}
    for name, array in arrays.items():
        if array.dtype.str not in ARRAY_DTYPES:
            raise TypeError(f"{name}: arrays of dtype {array.dtype} cannot be saved; save {ARRAY_DTYPES}")
        buffer = io.BytesIO()
        # The array's own memory order is kept: a reduction over a Fortran-ordered array sums
        # in another order than over a C-ordered copy, and scores must not move by a bit.
        np.lib.format.write_array(buffer, array, allow_pickle=False)
        data = buffer.getvalue()
        offset = len(data) - array.nbytes
        refs[name].update(
            {"$array": name, "dtype": array.dtype.str, "shape": list(array.shape)},
            sha256=hashlib.sha256(data[offset:]).hexdigest(),
        )
        members[name] = data
    # Written beside the target and renamed over it once complete: a crash leaves the old file or none.
    with atomic_path(path) as part, zipfile.ZipFile(part, "w") as archive:
        archive.writestr(HEADER, json.dumps(header, indent=1), compress_type=zipfile.ZIP_DEFLATED)
        for name, data in members.items():
            archive.writestr(name, data, compress_type=zipfile.ZIP_STORED)


def _open_file(path):
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(path, "no such model file" if not path.exists() else "is not a file")
    try:
        return open(path, "rb")
    except OSError as exc:
        raise ModelFileError(path, f"cannot be read ({exc.strerror})") from exc


def _depth(node):
    """How deeply lists and objects nest in a parsed JSON value (iteratively: no recursion to exhaust)."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (list, dict)):
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                return depth
            stack.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict) else value))
    return deepest


def _is_size(value):
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_ARRAY_BYTES


def _product(shape):
    total = 1
    for size in shape:
        total *= size
    return total


def _one_line(exc):
    return " ".join(str(exc).split())[:200]
