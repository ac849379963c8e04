"""An alert's segment as a person checks it: its sound (WAV), its spectrogram beside normal (PNG), its explanation.

The store keeps where the segment lies (the recording's path, start and end) and the model
that scored it; the segment is cut from the recording when asked, so the history stays small.
Where the recording is gone (a recorder that deletes old files, a pipe or a sound card, whose
audio was never kept) or the model file is, :class:`MediaUnavailable` says so.
"""

from __future__ import annotations

import functools
import io
import os
import threading

__all__ = ["MediaUnavailable", "segment_audio", "wav_bytes", "spectrogram_png", "explanation"]

# Matplotlib's figures are not safe to draw from several server threads at once.
_DRAWING = threading.Lock()


class MediaUnavailable(LookupError):
    """An alert's segment that cannot be cut: the message says why, in one line."""


# Two models at most stay loaded: a model can take a few hundred MB, and loading one again takes about a second.
@functools.lru_cache(maxsize=2)
def _detector(path, mtime):
    from ..persistence import load

    return load(path)


def _model(source):
    path = source.get("model_path")
    if not path or not os.path.isfile(path):
        raise MediaUnavailable(f"the model file {path or '(not recorded)'} is gone")
    # A model rewritten in place is loaded again.
    return _detector(path, os.stat(path).st_mtime)


def segment_audio(alert):
    """The alert's segment, mono at its model's rate: ``(y, sr, start)``.

    Raises
    ------
    MediaUnavailable
        Where the recording or the model file is gone, or the segment cannot be read.
    """
    from ..audio import AudioInputError, load_excerpt

    file, start, stop = alert["file"], alert["start"], alert["stop"]
    if start is None or stop is None:
        raise MediaUnavailable(f"{file}: no segment (the file could not be scored)")
    if file == "-":
        raise MediaUnavailable("the sound of a pipe is not kept")
    if not os.path.isfile(file):
        raise MediaUnavailable(f"{file}: the recording is gone (deleted or moved; a sound card's is never kept)")
    detector = _model(alert["source"])
    try:
        y, sr, first = load_excerpt(file, detector.sr, (start + stop) / 2, stop - start)
    except AudioInputError as exc:
        raise MediaUnavailable(f"{file}: {exc.cause}") from exc
    return y, sr, first


def wav_bytes(alert):
    """The alert's segment as a 16-bit WAV file's bytes, for the page's audio element."""
    import soundfile as sf

    y, sr, _ = segment_audio(alert)
    out = io.BytesIO()
    sf.write(out, y, sr, format="WAV", subtype="PCM_16")
    return out.getvalue()


def spectrogram_png(alert, dpi=80):
    """The alert's segment drawn as the model hears it, beside the normal reference (:func:`audioad.plot_clip`)."""
    from ..plotting import plot_clip

    y, sr, first = segment_audio(alert)
    detector = _model(alert["source"])
    out = io.BytesIO()
    with _DRAWING:
        title = f"{alert['source']['name']}: {os.path.basename(alert['file'])} at {first:.1f} s"
        fig = plot_clip(detector, (y, sr), start=first, score_clip=False, title=title)
        fig.savefig(out, format="png", dpi=dpi, facecolor="white")
    return out.getvalue()


def explanation(alert):
    """Which bands and moments of the alert's segment depart from normal (:func:`audioad.explain`).

    Returns
    -------
    dict
        ``summary`` (one line) and ``findings`` (:meth:`audioad.explain.Explanation.rows`, times in
        the recording).
    """
    from ..explain import explain

    y, sr, first = segment_audio(alert)
    found = explain(_model(alert["source"]), [(y, sr)])[0]
    rows = found.rows()
    for row in rows:
        row["start_s"], row["end_s"] = round(first + row["start_s"], 3), round(first + row["end_s"], 3)
    return {"summary": found.summary(), "findings": rows}
