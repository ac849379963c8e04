"""Files a run writes: never over one of its inputs or a file of another kind, and whole or not at all.

:func:`check_output` is asked before any work starts, so that a run that would
overwrite a recording, its model or an unrelated file stops at once with one line
naming the file. :func:`atomic_path` writes a file beside its target and renames
it over the target only once it is complete, so a crash or an interrupt leaves
the old file or the new one, never a half-written one.
"""

from __future__ import annotations

import os
import secrets
from contextlib import contextmanager
from pathlib import Path

__all__ = ["OutputFileError", "check_output", "atomic_path"]


class OutputFileError(ValueError):
    """An output path that a run must not write: an input, an audio file, or an existing file without ``force``."""


def check_output(path, what, inputs=(), force=False, is_kind=None):
    """Raise :class:`OutputFileError` unless ``path`` may be written as ``what``.

    Refused, ``force`` or not: a path that is one of ``inputs`` (the same file
    under any name), an audio file (by its suffix), and an existing file for
    which ``is_kind(path)`` is false (a file of another kind). Refused unless
    ``force``: any other existing file.

    Parameters
    ----------
    path : str or pathlib.Path
        The file to be written.
    what : str
        What it would hold, for the message (``"model file"``, ``"score CSV"``).
    inputs : iterable of str or pathlib.Path
        The files the run reads.
    force : bool
        Allow replacing an existing file of the same kind.
    is_kind : callable or None
        ``is_kind(path)`` says whether an existing file holds ``what``;
        ``None`` takes any existing file for one.

    Examples
    --------
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> clip = os.path.join(folder, "v1.wav")
    >>> _ = open(clip, "wb").write(b"RIFF")
    >>> check_output(os.path.join(folder, "fan.audioad"), "model file", inputs=[clip])
    >>> check_output(clip, "model file", inputs=[clip])
    Traceback (most recent call last):
    ...
    audioad.outputs.OutputFileError: ...v1.wav is one of the inputs; choose another file for the model file
    """
    # Imported here: persistence writes through atomic_path, and reading a model's header stays light.
    from .audio import AUDIO_SUFFIXES

    path = Path(path)
    # By inode when the file exists (a link or another spelling is still the same file), else by name.
    target = os.stat(path) if path.is_file() else None
    resolved = path.resolve()
    for item in inputs:
        item = Path(item)
        if target is not None:
            try:
                found = os.path.samestat(target, os.stat(item))
            except OSError:
                found = False
        else:
            found = item.resolve() == resolved
        if found:
            raise OutputFileError(f"{path} is one of the inputs; choose another file for the {what}")
    if path.suffix.lower() in AUDIO_SUFFIXES:
        raise OutputFileError(f"{path} is an audio file name; choose another file for the {what}")
    if path.is_dir():
        raise OutputFileError(f"{path} is a folder; name a file for the {what}")
    if not path.exists():
        return
    if is_kind is not None and not is_kind(path):
        raise OutputFileError(f"{path} exists and is not a {what}; choose another file")
    if not force:
        raise OutputFileError(f"{path} exists; pass --force to replace it, or choose another file")


@contextmanager
def atomic_path(path):
    """A temporary path beside ``path`` to write to; renamed over ``path`` when the block ends without an error.

    The temporary file keeps the target's suffix (writers that choose a format
    by suffix still do) and is removed if the block raises.

    Examples
    --------
    >>> import tempfile, os
    >>> target = os.path.join(tempfile.mkdtemp(), "results.csv")
    >>> with atomic_path(target) as part:
    ...     _ = open(part, "w").write("a,b\\n")
    >>> open(target).read(), os.listdir(os.path.dirname(target))
    ('a,b\\n', ['results.csv'])
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Made with os.open rather than mkstemp: mode 0o666 less the umask, as open() would give the target.
    while True:
        part = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part{path.suffix}")
        try:
            os.close(os.open(part, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            break
        except FileExistsError:
            continue
    try:
        yield part
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
