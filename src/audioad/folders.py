"""A folder's audio files: what a recursive search keeps, what it skips, and the notice that says so.

A search keeps every file libsndfile reads: by its suffix (:data:`audioad.audio.AUDIO_SUFFIXES`) or,
for a file with no suffix or one that names no known type, by probing its header. It skips, and
counts, what a user does not mean: hidden files and folders, macOS ``._*`` AppleDouble sidecars
(metadata that copied drives carry next to every file, not audio) and version-control folders.
What was skipped travels in a :class:`Collected` summary, which a command prints as one notice line.
"""

from __future__ import annotations

import mimetypes
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import soundfile as sf

from .audio import AUDIO_SUFFIXES

__all__ = ["VCS_FOLDERS", "Collected", "counted", "find_audio", "hidden_kind", "is_audio_file", "resolved", "shown"]

#: Version-control folders: never searched for audio.
VCS_FOLDERS = frozenset({".git", ".hg", ".svn", ".bzr", "CVS", "_darcs"})


@dataclass
class Collected:
    """What a search skipped, as counts.

    Attributes
    ----------
    hidden_files, hidden_folders : int
        Files and folders whose names start with a dot (sidecars and VCS folders not included).
    sidecars : int
        macOS AppleDouble ``._*`` files.
    vcs_folders : int
        Version-control folders (:data:`VCS_FOLDERS`).
    duplicates : int
        Files named more than once, kept in their first place only.
    anomalous : int
        Clips a data set labels anomalous, left out of training.
    test_split : int
        Normal clips of a data set's test split, left out of training.

    Examples
    --------
    >>> Collected(hidden_files=3, sidecars=1, duplicates=2).notice()
    'skipped 3 hidden files, 1 ._ sidecar; 2 duplicates removed'
    >>> Collected(anomalous=1000).notice()
    'left out 1000 clips labelled anomalous: a model learns from normal running only'
    >>> Collected().notice()
    ''
    """

    hidden_files: int = 0
    hidden_folders: int = 0
    sidecars: int = 0
    vcs_folders: int = 0
    duplicates: int = 0
    anomalous: int = 0
    test_split: int = 0

    def notice(self) -> str:
        """One line saying what was skipped and removed; empty when nothing was."""
        skipped = [counted(getattr(self, name), noun) for name, noun in _SKIPPED_KINDS if getattr(self, name)]
        parts = ["skipped " + ", ".join(skipped)] if skipped else []
        if self.duplicates:
            parts.append(counted(self.duplicates, "duplicate") + " removed")
        left_out = [counted(self.anomalous, "clip") + " labelled anomalous"] if self.anomalous else []
        left_out += [counted(self.test_split, "normal clip") + " of the test split"] if self.test_split else []
        if left_out:
            parts.append(f"left out {' and '.join(left_out)}: a model learns from normal running only")
        return "; ".join(parts)


_SKIPPED_KINDS = (
    ("hidden_files", "hidden file"),
    ("hidden_folders", "hidden folder"),
    ("sidecars", "._ sidecar"),
    ("vcs_folders", "version-control folder"),
)


def counted(n, noun):
    """``n`` and the noun, plural unless ``n`` is 1.

    Examples
    --------
    >>> counted(1, "file"), counted(3, "recording")
    ('1 file', '3 recordings')
    """
    return f"{n} {noun}{'' if n == 1 else 's'}"


@cache
def _known_types():
    # The built-in table only, so that what counts as "obviously not audio" is the same on every machine.
    return mimetypes.MimeTypes(filenames=())


def is_audio_file(path) -> bool:
    """Whether ``path`` is a file libsndfile reads: by its suffix, else by probing its header.

    A file whose suffix names another type (``.txt``, ``.png``, ``.csv``) is not probed.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> folder = tempfile.mkdtemp()
    >>> sf.write(f"{folder}/take", np.zeros(160), 16000, format="WAV")
    >>> _ = open(f"{folder}/notes", "w").write("not audio")
    >>> is_audio_file(f"{folder}/take"), is_audio_file(f"{folder}/notes")
    (True, False)
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in AUDIO_SUFFIXES:
        return True
    kind = _known_types().guess_type(path.name, strict=False)[0] if suffix else None
    if kind is not None and not kind.startswith("audio/"):
        return False
    try:
        sf.info(str(path))
    except (sf.SoundFileError, RuntimeError, OSError):
        return False
    return True


def hidden_kind(name):
    """Why a file named ``name`` is not one a user means, as a :class:`Collected` count; None where it is.

    ``"sidecars"`` for a macOS ``._*`` AppleDouble file, ``"hidden_files"`` for another name starting
    with a dot (a recorder's ``.rec_05.wav`` before it renames it). :func:`find_audio` and a
    watched folder (:class:`audioad.sources.FolderSource`) pass over the same files.

    Examples
    --------
    >>> hidden_kind("._a.wav"), hidden_kind(".rec_05.wav"), hidden_kind("rec_05.wav")
    ('sidecars', 'hidden_files', None)
    """
    if name.startswith("._"):
        return "sidecars"
    if name.startswith("."):
        return "hidden_files"
    return None


def resolved(path) -> str:
    """The name a file is known by whatever spelling named it: its absolute path, links followed.

    ``x.wav``, ``./x.wav``, its absolute path and its path through a linked folder are one file:
    duplicates are found, a resumed run and a restarted watch recognise what they did, by this.

    Examples
    --------
    >>> resolved("x.wav") == resolved("./x.wav") == resolved(os.path.abspath("x.wav"))
    True
    """
    return os.path.realpath(os.fspath(path))


def shown(path) -> str:
    """A path as a person reads it on the console: relative to the current folder where the file lies inside it.

    Rows and states name files by :func:`resolved` paths; a line printed for a person need not
    repeat the folder they are in.

    Examples
    --------
    >>> shown(os.path.abspath("recorder/pump.wav")) == os.path.join("recorder", "pump.wav")
    True
    >>> shown("/elsewhere/pump.wav") == "/elsewhere/pump.wav" or os.getcwd() == "/"
    True
    """
    path = os.fspath(path)
    if not os.path.isabs(path):
        return path
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return path
    return path if relative == os.pardir or relative.startswith(os.pardir + os.sep) else relative


def find_audio(folder, skipped=None) -> list[str]:
    """The audio files under ``folder``, searched recursively, sorted by path.

    Parameters
    ----------
    folder : str or Path
        The folder to search.
    skipped : Collected or None
        Where to count the hidden files and folders, ``._*`` sidecars and version-control
        folders passed over.

    Returns
    -------
    list of str

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> root = Path(tempfile.mkdtemp())
    >>> for name in ("a.wav", "b.aiff", "._a.wav", ".git/c.wav", "notes.txt"):
    ...     (root / name).parent.mkdir(exist_ok=True)
    ...     sf.write(root / name, np.zeros(160), 16000, format="WAV")
    >>> skipped = Collected()
    >>> [Path(p).name for p in find_audio(root, skipped)], skipped.notice()
    (['a.wav', 'b.aiff'], 'skipped 1 ._ sidecar, 1 version-control folder')
    """
    skipped = Collected() if skipped is None else skipped
    found = []
    for top, folders, files in os.walk(folder):
        kept = []
        for name in folders:
            if name in VCS_FOLDERS:
                skipped.vcs_folders += 1
            elif name.startswith("."):
                skipped.hidden_folders += 1
            else:
                kept.append(name)
        folders[:] = kept  # os.walk descends only into the folders left here
        for name in files:
            kind = hidden_kind(name)
            if kind is not None:
                setattr(skipped, kind, getattr(skipped, kind) + 1)
            else:
                path = os.path.join(top, name)
                if os.path.isfile(path) and is_audio_file(path):
                    found.append(path)
    return sorted(found)
