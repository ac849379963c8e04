"""Files a run writes: one gate for all of them, so that no write reaches a file it must not.

Every file audioad writes (model files, score CSVs and their sidecars, the watch's CSV,
state and log, figures, reports, every file of an evaluation) goes through this module:

- :func:`check_output` is asked before any work starts, so that a run that would overwrite a
  recording, an input, a file of another kind or, without ``--force``, an earlier output
  stops at once with one line naming the file.
- :func:`atomic_path` writes a whole file beside its target (a new file, made with
  ``O_EXCL | O_NOFOLLOW``) and renames it over the target only once it is complete, so a
  crash leaves the old file or the new one, never half of one.
- :func:`open_output` opens a file written row by row (a CSV, a log) with ``O_NOFOLLOW``.

All three refuse, at the moment they write as well as before, a path that would reach
another file: a symbolic link (dangling or not), a file with other names (a hard link), a
FIFO or a device, and a file whose first bytes are an audio format's, whatever its name.

Text built from data is made safe on the way out: :func:`safe_component` turns a machine or
section name into one file name, :func:`one_line` escapes what would break a log line, and
:func:`csv_cell` keeps a cell from being read as a spreadsheet formula (:func:`csv_text`
undoes it).
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import os
import re
import secrets
import stat
from contextlib import contextmanager
from pathlib import Path

__all__ = [
    "OutputFileError",
    "OutputExistsError",
    "check_output",
    "atomic_path",
    "open_output",
    "is_text",
    "safe_component",
    "one_line",
    "csv_cell",
    "csv_text",
]

# First bytes of the audio formats libsndfile and the MP3 and MP4 decoders read: a recording
# is refused as an output under any name (hard-linked, renamed, or reached through a folder link).
_AUDIO_MAGIC = (b"RIFF", b"RIFX", b"RF64", b"riff", b"fLaC", b"OggS", b"ID3", b"FORM", b".snd", b"caff",
                b"Creative Voice File", b"NIST_1A", b"\x30\x26\xb2\x75")  # fmt: skip
# Cells a spreadsheet would take for a formula (OWASP's list; tab and CR are escaped by one_line).
_FORMULA_START = ("=", "+", "-", "@")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:inf|nan)")
# Bytes of the name's UTF-8 a file name keeps of a name from data: well under the 255 of most file
# systems with the prefixes and suffixes evaluate adds.
_COMPONENT_BYTES = 80


class OutputFileError(ValueError):
    """An output path a run must not write: an input, audio, a link, or an existing file without ``force``."""


class OutputExistsError(OutputFileError):
    """An existing output of the right kind, not to be replaced without ``force``; ``name`` is the path as given."""

    def __init__(self, name):
        super().__init__(f"{name} exists; choose another file, or replace it (force)")
        self.name = name


def one_line(text):
    """``text`` with every character that is not printable escaped as Python writes it (``\\n``, ``\\x1b``).

    A file name in a log line, a console line or a CSV cell can then neither start a
    line of its own, nor send a terminal escape sequence, nor reorder the line (the
    Unicode direction controls).

    Examples
    --------
    >>> print(one_line("pump 3.wav\\n2026-01-01 ALERT cleared"))
    pump 3.wav\\n2026-01-01 ALERT cleared
    >>> one_line("\\x1b]0;owned\\x07fan.wav") == r"\\x1b]0;owned\\x07fan.wav", one_line("motor ü.wav")
    (True, 'motor ü.wav')
    """
    text = str(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def csv_cell(value):
    """A CSV cell safe to open in a spreadsheet: text on one line, never taken for a formula.

    Text starting with ``=``, ``+``, ``-``, ``@`` (or the quote ``'`` itself) gets a
    leading ``'``, as OWASP recommends, unless it is a number (``-1.25`` stays a
    number) or that one character alone (``-``, a pipe's name); other characters that
    are not printable are escaped (:func:`one_line`).
    Anything but text is returned as it is. :func:`csv_text` undoes the quote.

    Examples
    --------
    >>> csv_cell("=HYPERLINK(\\"http://x\\")"), csv_cell("-1.25"), csv_cell("-"), csv_cell("fan.wav"), csv_cell(3)
    ('\\'=HYPERLINK("http://x")', '-1.25', '-', 'fan.wav', 3)
    >>> all(csv_text(csv_cell(t)) == t for t in ("=1+1", "'quoted", "'", "-3", "-", "@sum", "a.wav"))
    True
    """
    if not isinstance(value, str):
        return value
    value = one_line(value)
    formula = value.startswith(_FORMULA_START) and len(value) > 1 and not _NUMBER.fullmatch(value)
    # A cell starting with the quote is quoted too, so that csv_text takes off exactly what was added.
    if formula or value.startswith("'"):
        return "'" + value
    return value


def csv_text(cell):
    """The text :func:`csv_cell` wrote as ``cell``.

    Examples
    --------
    >>> csv_text("'=cmd|' /C calc'!A0"), csv_text("0.5")
    ("=cmd|' /C calc'!A0", '0.5')
    """
    return cell[1:] if cell.startswith("'") else cell


def safe_component(name):
    """``name`` (a machine or section, from a data set) as one file name that stays in its folder.

    A name of letters, digits, spaces, ``_``, ``-``, ``+`` and single dots is kept as it is.
    Anything else (``/``, ``\\``, ``..``, a leading dot, control characters, an empty or
    over-long name) is replaced, and the name gets 8 hex digits of its SHA-256 so that
    two names that differ still name two files.

    Examples
    --------
    >>> safe_component("fan"), safe_component("section_00"), safe_component("Lüfter")
    ('fan', 'section_00', 'Lüfter')
    >>> safe_component("m/../../../TRAVERSED")
    'm_______TRAVERSED-860ca1c9'
    >>> safe_component(".."), safe_component("")
    ('_-5ec1f7e7', '_-e3b0c442')
    """
    text = str(name)
    clean = re.sub(r"\.{2,}", "_", re.sub(r"[^\w .+-]", "_", text)).lstrip(".")
    clean = clean.encode("utf-8")[:_COMPONENT_BYTES].decode("utf-8", "ignore")
    if clean == text and clean:
        return clean
    return f"{clean or '_'}-{hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"


def _looks_like_audio(path):
    try:
        with open(path, "rb") as f:
            start = f.read(20)
    except OSError:
        return False
    mpeg_frame = len(start) > 1 and start[0] == 0xFF and start[1] >= 0xE0 and start[1] not in (0xFE, 0xFF)
    return start.startswith(_AUDIO_MAGIC) or mpeg_frame or start[4:8] == b"ftyp"


def _refuse_other_files(path):
    """Raise :class:`OutputFileError` where writing ``path`` would reach a file other than its own.

    A symbolic link (a write would follow it, or a dangling one create its target), a
    folder, a FIFO or a device, a file with more names than this one (a hard link: an
    in-place write changes them all), and a file whose first bytes are audio.
    """
    name = one_line(path)
    try:
        info = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return
    if stat.S_ISLNK(info.st_mode):
        to = one_line(os.readlink(path))
        dangling = "" if os.path.exists(path) else ", which does not exist"
        raise OutputFileError(
            f"{name} is a symbolic link (to {to}{dangling}); audioad writes no file through a link: "
            "remove the link or choose another file"
        )
    if stat.S_ISDIR(info.st_mode):
        raise OutputFileError(f"{name} is a folder; name a file")
    if not stat.S_ISREG(info.st_mode):
        raise OutputFileError(f"{name} is not a regular file (a FIFO, a device or a socket); choose another file")
    if info.st_nlink > 1:
        raise OutputFileError(
            f"{name} has {info.st_nlink} names (hard links), and writing it would change the others; "
            "choose another file"
        )
    if _looks_like_audio(path):
        raise OutputFileError(f"{name} holds audio (by its first bytes); choose another file")


def check_output(path, what, inputs=(), force=False, is_kind=None):
    """Raise :class:`OutputFileError` unless ``path`` may be written as ``what``.

    Refused, ``force`` or not: a path that is one of ``inputs`` (the same file under
    any name), an audio file (by its suffix or, where it exists, its first bytes), a
    symbolic link (dangling or not), a file with other names (a hard link), a folder,
    FIFO or device, and an existing file for which ``is_kind(path)`` is false (a file
    of another kind). Refused unless ``force``: any other existing file.

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
    >>> os.symlink(clip, os.path.join(folder, "scores.csv"))
    >>> check_output(os.path.join(folder, "scores.csv"), "score CSV", force=True)
    Traceback (most recent call last):
    ...
    audioad.outputs.OutputFileError: ...scores.csv is a symbolic link (to ...v1.wav); audioad writes no file ...
    """
    # Imported here: persistence writes through atomic_path, and reading a model's header stays light.
    from .audio import AUDIO_SUFFIXES

    path = Path(path)
    name = one_line(path)
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
            raise OutputFileError(f"{name} is one of the inputs; choose another file for the {what}")
    _refuse_other_files(path)
    if path.suffix.lower() in AUDIO_SUFFIXES or resolved.suffix.lower() in AUDIO_SUFFIXES:
        raise OutputFileError(f"{name} is an audio file name; choose another file for the {what}")
    if not path.exists():
        return
    if is_kind is not None and not is_kind(path):
        raise OutputFileError(f"{name} exists and is not a {what}; choose another file")
    if not force:
        raise OutputExistsError(name)


def is_text(path):
    """Whether ``path`` is empty or UTF-8 text (a log): a file ``watch --log`` may append to.

    Examples
    --------
    >>> import tempfile, os
    >>> log = os.path.join(tempfile.mkdtemp(), "pump.log")
    >>> _ = open(log, "w").write("2026-01-01 ALERT raised\\n")
    >>> clip = os.path.join(os.path.dirname(log), "pump.dat")
    >>> _ = open(clip, "wb").write(b"RIFF\\x24\\x00\\x00\\x00WAVEfmt \\x10\\x00\\x00\\x00\\x01\\x00")
    >>> is_text(log), is_text(clip)
    (True, False)
    """
    try:
        with open(path, "rb") as f:
            start = f.read(4096)
        # Not final: a character cut by the 4096 bytes is no error.
        codecs.getincrementaldecoder("utf-8")().decode(start, final=False)
    except (OSError, UnicodeDecodeError):
        return False
    return b"\0" not in start


@contextmanager
def atomic_path(path):
    """A temporary path beside ``path`` to write to; renamed over ``path`` when the block ends without an error.

    The temporary file is made new (``O_EXCL | O_NOFOLLOW``: a link planted under its
    name is never followed), keeps the target's suffix (writers that choose a format by
    suffix still do) and is removed if the block raises. The target is checked as
    :func:`check_output` checks it (no link, hard link, device or audio) before the
    temporary file is made and again before the rename.

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
    _refuse_other_files(path)
    # Made with os.open rather than mkstemp: mode 0o666 less the umask, as open() would give the target.
    while True:
        part = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part{path.suffix}")
        try:
            os.close(os.open(part, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW, 0o666))
            break
        except FileExistsError:
            continue
    try:
        yield part
        # The rename would replace a link planted meanwhile, never write through it; it is still
        # refused, as is a target that became audio or gained a name, so the run says so.
        _refuse_other_files(path)
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise


def open_output(path, append=False, binary=False):
    """Open ``path`` to write it a row or a line at a time, never through a link or into another file.

    The file is opened with ``O_NOFOLLOW`` and checked once open (a regular file, no
    other name), so a link or a hard link planted after :func:`check_output` is refused
    too. Its folder is made if missing.

    Parameters
    ----------
    path : str or pathlib.Path
        The file; made if missing.
    append : bool
        Write after what it holds; else it is emptied first.
    binary : bool
        A binary file, open for reading too (to repair it in place), rather than UTF-8 text.

    Returns
    -------
    file object
        Text (``newline=""``, UTF-8) or binary.

    Examples
    --------
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> with open_output(os.path.join(folder, "watch.log"), append=True) as log:
    ...     _ = log.write("one line\\n")
    >>> os.symlink(os.path.join(folder, "watch.log"), os.path.join(folder, "link.log"))
    >>> open_output(os.path.join(folder, "link.log"), append=True)
    Traceback (most recent call last):
    ...
    audioad.outputs.OutputFileError: ...link.log is a symbolic link (to ...watch.log); audioad writes no file ...
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _refuse_other_files(path)
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | (os.O_APPEND if append else 0)
    try:
        fd = os.open(path, flags, 0o666)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # a link planted since the check above
            _refuse_other_files(path)
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink > 1:
            _refuse_other_files(path)
            raise OutputFileError(f"{one_line(path)} changed while it was opened; choose another file")
        if not append:
            os.ftruncate(fd, 0)
        if binary:
            return os.fdopen(fd, "ab+" if append else "wb+")
        return os.fdopen(fd, "a" if append else "w", newline="", encoding="utf-8")
    except BaseException:
        os.close(fd)
        raise
