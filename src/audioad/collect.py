"""Which audio files the user means: files named one by one, folders searched recursively, manifest CSVs.

A folder is searched by :func:`audioad.folders.find_audio` (hidden files, sidecars and
version-control folders skipped and counted). The same file named twice (a folder given twice, a
file also inside a given folder) is kept once, in its first place. For training, a manifest or a
folder in a data set layout gives only its normal clips of the train split. What was skipped and
left out travels in a :class:`~audioad.folders.Collected` summary, which a command prints as one
notice line.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from .audio import AUDIO_SUFFIXES, AudioInputError, AudioStream
from .datasets import GroupWarning, read_dataset
from .folders import Collected, find_audio, resolved

__all__ = ["collect", "header_errors"]

# Opening a stream reads the header only; the rate given sizes nothing that is used here.
_ANY_RATE = 16000


def collect(inputs, training=False):
    """The clips that ``inputs`` name: audio files, folders (searched recursively) and manifest CSVs.

    Parameters
    ----------
    inputs : iterable of str or Path
        A file is taken as it is (a missing or unreadable one fails when it is read, like any bad
        clip); a folder is searched with :func:`find_audio`; a ``.csv`` file is a manifest
        (:func:`audioad.datasets.read_dataset`).
    training : bool
        From a manifest, or a folder in a data set layout (``normal/`` + ``anomaly/``, DCASE,
        MIMII; :func:`audioad.datasets.read_dataset`), take only the clips not labelled anomalous
        and, when it has splits, those of the train split; what is left out is counted.

    Returns
    -------
    clips : list of str
        In the order given, each file once (the same resolved file named again is dropped).
    collected : Collected
        What was skipped and removed.

    Raises
    ------
    FileNotFoundError
        If a folder holds no audio files.
    ValueError
        If a manifest cannot be read.

    Examples
    --------
    >>> import tempfile, numpy as np, soundfile as sf
    >>> root = Path(tempfile.mkdtemp())
    >>> sf.write(root / "a.wav", np.zeros(160), 16000)
    >>> clips, collected = collect([root, root, root / "a.wav"])
    >>> [Path(p).name for p in clips], collected.notice()
    (['a.wav'], '2 duplicates removed')
    """
    collected = Collected()
    clips, seen, searched = [], set(), {}
    for item in inputs:
        path = Path(item)
        if path.suffix.lower() == ".csv" and not path.is_dir():
            table = read_dataset(path)
            named = [c.path for c in table if not (training and _not_for_training(c, collected))]
        elif path.is_dir():
            # A folder given again is not searched (nor its skips counted) again: its files are duplicates.
            folder = resolved(path)
            if folder not in searched:
                searched[folder] = find_audio(path, collected)
            named = searched[folder]
            if not named:
                raise FileNotFoundError(
                    f"{path}: no audio files in this folder (none that libsndfile reads: "
                    f"{', '.join(AUDIO_SUFFIXES)}, ...)"
                )
            if training:
                named = _training_files(path, named, collected)
        else:
            named = [str(item)]
        for clip in named:
            key = resolved(clip)
            if key in seen:
                collected.duplicates += 1
            else:
                seen.add(key)
                clips.append(clip)
    return clips, collected


def _not_for_training(clip, collected):
    """Whether a data set's ``clip`` is left out of training (anomalous, or of the test split); counts it."""
    if clip.label == "anomaly":
        collected.anomalous += 1
        return True
    if clip.split not in (None, "train"):
        collected.test_split += 1
        return True
    return False


def _training_files(folder, files, collected):
    """``files`` of ``folder`` less those its data set layout labels anomalous or puts in the test split."""
    try:
        # Which clips share a recording matters to a train/test split, which training makes none of.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", GroupWarning)
            table = read_dataset(folder)
    # Not a layout with labels: a plain folder of recordings, all of them for training.
    except (FileNotFoundError, ValueError):
        return files
    left_out = {resolved(c.path) for c in table if _not_for_training(c, collected)}
    return [f for f in files if resolved(f) not in left_out]


def header_errors(paths) -> list[AudioInputError]:
    """The files among ``paths`` that fail before any sample is decoded, each an :class:`AudioInputError`.

    Reads each file's header only (missing, empty, undecodable, no samples), so that a run can
    set them aside before decoding the rest once; a file whose samples are bad past a good header
    passes here and fails when it is decoded.

    Examples
    --------
    >>> import tempfile, numpy as np, soundfile as sf
    >>> folder = Path(tempfile.mkdtemp())
    >>> sf.write(folder / "good.wav", np.zeros(160), 16000)
    >>> _ = (folder / "bad.wav").write_bytes(b"RIFF junk")
    >>> [(e.index, Path(e.path).name) for e in header_errors([folder / "good.wav", folder / "bad.wav"])]
    [(1, 'bad.wav')]
    """
    errors = []
    for index, path in enumerate(paths):
        try:
            AudioStream(path, _ANY_RATE)
        except AudioInputError as exc:
            errors.append(exc.at(index))
    return errors
