"""The score CSV that ``audioad score`` writes: one row a clip, on disk as soon as it is written, resumable.

The CSV itself is plain (a header row, then one row a clip: ``csv.DictReader``,
pandas and spreadsheets read it as it is). The model that wrote it is named in
a sidecar file beside it, ``<out>.audioad-model``, holding one line::

    audioad model sha256=<the model file's SHA-256> file=<the model file's path>

so that ``--resume`` can refuse to append one model's scores to another's.

A row names its clip by the clip's :func:`~audioad.folders.resolved` path (absolute, links
followed), so that the rows are the same clips from any working folder. A CSV of an older audioad
may hold paths as they were typed: :func:`done_paths` reads a relative one from the current
folder, and refuses the CSV where a clip it scored is not there (see :func:`done_paths`).

Every row is one line (line breaks and other control characters inside a field,
as in an error message or a file name, are escaped) and is flushed as soon as it
is written, so after a crash or a Ctrl-C the file holds every row written before
it, and at most a torn last line, which :func:`done_paths` cuts off before the
run is resumed. A text cell that a spreadsheet would take for a formula (a clip
named ``=cmd|...``) starts with a ``'`` (:func:`audioad.outputs.csv_cell`);
:func:`read_rows` and :func:`done_paths` read the text as it was.
"""

from __future__ import annotations

import csv
import hashlib
import math
import os
from pathlib import Path

from .folders import resolved
from .outputs import atomic_path, csv_cell, csv_text, open_output

__all__ = [
    "SCORE_COLUMNS",
    "FRAME_COLUMNS",
    "SEGMENT_COLUMNS",
    "FILE_COLUMNS",
    "files_path",
    "csv_number",
    "segments_done",
    "ScoreCSVError",
    "check_written_by",
    "model_fingerprint",
    "model_sha256",
    "sidecar_path",
    "is_table",
    "repair",
    "read_rows",
    "done_paths",
    "RowWriter",
]

#: Columns of the score CSV.
SCORE_COLUMNS = ("path", "score", "label", "peak_time", "error", "warning")
#: Columns of the window-score CSV (``--frames``).
FRAME_COLUMNS = ("path", "time", "score")
#: Columns of the score CSV when recordings are cut into segments (``--segment``): one row a segment.
SEGMENT_COLUMNS = ("path", "start", "end", "score", "label", "peak_time", "error", "warning")
#: Columns of the per-file summary beside it (``<out>.files.csv``).
FILE_COLUMNS = (
    "path", "segments", "above_threshold", "minutes", "worst_start", "worst_end", "worst_score",
    "verdict", "flagged_at", "threshold", "file_threshold", "rule", "error",
)  # fmt: skip

_SIDECAR_SUFFIX = ".audioad-model"


class ScoreCSVError(ValueError):
    """A score CSV that cannot be resumed: unreadable, of another layout, or written by another model."""


def model_sha256(model):
    """The SHA-256 of a model file, in hex: what names a model in rows, sidecars and watch states.

    Examples
    --------
    >>> import tempfile, os
    >>> model = os.path.join(tempfile.mkdtemp(), "fan.audioad")
    >>> _ = open(model, "wb").write(b"model")
    >>> model_sha256(model)
    '9372c470eeadd5ecd9c3c74c2b3cb633f8e2f2fad799250a0f70d652b6b825e4'
    """
    digest = hashlib.sha256()
    with open(model, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_fingerprint(model, sha256=None):
    """The line naming a model file in a score CSV's sidecar: its SHA-256 and its path.

    ``sha256``: the file's :func:`model_sha256`, where the caller has it already (else it is read).

    Examples
    --------
    >>> import tempfile, os
    >>> model = os.path.join(tempfile.mkdtemp(), "fan.audioad")
    >>> _ = open(model, "wb").write(b"model")
    >>> model_fingerprint(model).split(" file=")[0]
    'audioad model sha256=9372c470eeadd5ecd9c3c74c2b3cb633f8e2f2fad799250a0f70d652b6b825e4'
    """
    return f"audioad model sha256={sha256 or model_sha256(model)} file={model}"


def files_path(out):
    """Where the per-file summary of a segment score CSV goes: ``<out>.files.csv``.

    Examples
    --------
    >>> files_path("runs/scores.csv").as_posix()
    'runs/scores.files.csv'
    """
    out = Path(out)
    return out.with_name(f"{out.stem}.files{out.suffix or '.csv'}")


def sidecar_path(out):
    """Where the fingerprint of the model that wrote ``out`` is kept: ``<out>.audioad-model``.

    Examples
    --------
    >>> sidecar_path("runs/scores.csv").as_posix()
    'runs/scores.csv.audioad-model'
    """
    out = Path(out)
    return out.with_name(out.name + _SIDECAR_SUFFIX)


def _digest(fingerprint):
    return fingerprint.split()[2] if fingerprint.startswith("audioad model sha256=") else None


def is_table(path, columns=SCORE_COLUMNS):
    """Whether ``path`` is empty or starts with the header ``columns``: a file audioad may overwrite or extend.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "scores.csv")
    >>> _ = open(path, "w").write("path,score,label,peak_time,error,warning\\r\\n")
    >>> is_table(path), is_table(path, FRAME_COLUMNS)
    (True, False)
    """
    try:
        with open(path, "rb") as f:
            first = f.readline(4096)
    except OSError:
        return False
    return first == b"" or first.rstrip(b"\r\n") == ",".join(columns).encode()


def repair(path):
    """Cut a torn last line (a row without its line end) off ``path``; return how many bytes were cut.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "scores.csv")
    >>> _ = open(path, "w", newline="").write("path,score\\r\\na.wav,0.5\\r\\nb.wa")
    >>> repair(path), open(path, newline="").read()
    (4, 'path,score\\r\\na.wav,0.5\\r\\n')
    """
    with open_output(path, append=True, binary=True) as f:
        f.seek(0)
        data = f.read()
        keep = data.rfind(b"\n") + 1
        if keep < len(data):
            f.truncate(keep)
    return len(data) - keep


def read_rows(path):
    """The rows of a CSV audioad wrote, as dicts by column, each text cell as it was (see :func:`csv_cell`).

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "scores.csv")
    >>> with RowWriter(path, SCORE_COLUMNS) as rows:
    ...     rows.write(("=cmd|' /C calc'!A0.wav", "-1.5", "0", "", "", ""))
    >>> print(open(path).read().splitlines()[1])
    '=cmd|' /C calc'!A0.wav,-1.5,0,,,
    >>> [(row["path"], row["score"]) for row in read_rows(path)]
    [("=cmd|' /C calc'!A0.wav", '-1.5')]
    """
    with open(path, newline="", encoding="utf-8") as f:
        return [{k: csv_text(v) if isinstance(v, str) else v for k, v in row.items()} for row in csv.DictReader(f)]


def check_written_by(out, fingerprint):
    """Raise :class:`ScoreCSVError` unless the sidecar of ``out`` names the model of ``fingerprint`` (by its SHA-256).

    For a CSV that holds rows: a run appending to it (``score --resume``, a restarted watch) must
    be of the model that wrote them. The message names the file and both models.

    Examples
    --------
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> model, out = os.path.join(folder, "fan.audioad"), os.path.join(folder, "scores.csv")
    >>> _ = open(model, "wb").write(b"model")
    >>> RowWriter(out, SCORE_COLUMNS, fingerprint=model_fingerprint(model)).close()
    >>> check_written_by(out, model_fingerprint(model))
    >>> check_written_by(out, "audioad model sha256=0 file=pump.audioad")
    Traceback (most recent call last):
    ...
    audioad.score_csv.ScoreCSVError: ...scores.csv was written by another model (...fan.audioad), not pump.audioad
    """
    sidecar = sidecar_path(out)
    try:
        written_by = sidecar.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ScoreCSVError(f"{out}: cannot tell which model wrote it ({sidecar}: {type(exc).__name__})") from exc
    if _digest(written_by) is None or _digest(written_by) != _digest(fingerprint):
        by = written_by.partition(" file=")[2] or "unknown"
        raise ScoreCSVError(f"{out} was written by another model ({by}), not {fingerprint.partition(' file=')[2]}")


def done_paths(out, fingerprint, columns=SCORE_COLUMNS):
    """The clips already in the score CSV ``out``, each by its :func:`~audioad.folders.resolved` path.

    A torn last line is cut off first (its clip is not done). Raises
    :class:`ScoreCSVError`, with one line naming the file, for a CSV that
    cannot be read, has another header, or has rows but no sidecar, or a
    sidecar naming another model (:func:`check_written_by`). A clip is
    done whatever spelling named it (``x.wav``, ``./x.wav``, its absolute
    path, a linked folder).

    audioad writes absolute paths; a relative one (a CSV of an older
    audioad, which wrote paths as typed) is read from the current folder,
    where such a run was most likely started (its paths are seldom
    relative to the CSV's own folder: ``--out runs/scores.csv`` holds
    ``data/fan/a.wav``). Where a clip such a row scored is not found from
    here, the CSV was written from another folder, and reading it from
    here would score every clip again: :class:`ScoreCSVError` says so
    (resumed from that folder, the run goes on, its new rows absolute).

    Parameters
    ----------
    out : str or pathlib.Path
        An existing score CSV.
    fingerprint : str
        :func:`model_fingerprint` of the model that will append to it.
    columns : tuple of str
        The header the file must have.

    Returns
    -------
    set of str
        The resolved ``path`` of every row.

    Examples
    --------
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> model, out = os.path.join(folder, "fan.audioad"), os.path.join(folder, "scores.csv")
    >>> _ = open(model, "wb").write(b"model")
    >>> clip = os.path.join(folder, "a.wav")
    >>> with RowWriter(out, SCORE_COLUMNS, fingerprint=model_fingerprint(model)) as rows:
    ...     rows.write((clip, "0.5", "0", "", "", ""))
    >>> _ = open(out, "a").write("b.wav,0.")
    >>> done_paths(out, model_fingerprint(model)) == {resolved(clip)}
    True
    >>> done_paths(out, "audioad model sha256=0 file=pump.audioad")
    Traceback (most recent call last):
    ...
    audioad.score_csv.ScoreCSVError: ...scores.csv was written by another model (...fan.audioad), not pump.audioad
    """
    out = Path(out)
    try:
        repair(out)
        with open(out, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            rows = [row for row in reader if row]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ScoreCSVError(f"{out}: cannot read it as a score CSV ({type(exc).__name__}: {exc})") from exc
    if header is not None and tuple(header) != tuple(columns):
        raise ScoreCSVError(
            f"{out}: not a CSV of this kind audioad writes (its header is {','.join(header)[:80]!r}, "
            f"not {','.join(columns)!r})"
        )
    if rows:
        check_written_by(out, fingerprint)
    error = columns.index("error")
    return {_row_clip(out, csv_text(row[0]), scored=len(row) <= error or not row[error]) for row in rows}


def _row_clip(out, path, scored):
    """The resolved path of the clip a row of ``out`` names by ``path`` (see :func:`done_paths`)."""
    if scored and not os.path.isabs(path) and not os.path.lexists(path):
        raise ScoreCSVError(
            f"{out} names its clips by paths relative to the folder it was written from, and {path} is not "
            f"found from {os.getcwd()}: resume it from that folder"
        )
    return resolved(path)


def segments_done(out, fingerprint):
    """What an earlier ``audioad score --segment`` run into ``out`` did, for ``--resume``.

    Checks ``out`` as :func:`done_paths` does (same model, a segment CSV; a torn last line cut off)
    and reads the per-file summary beside it (:func:`files_path`).

    Returns
    -------
    finished : set of str
        Files with a summary row: done. Each file is named by its :func:`~audioad.folders.resolved` path.
    partial : dict
        Files with segment rows but no summary (the run stopped inside them): resolved path -> their
        rows' ``(start, end, score, error)`` in order, floats (NaN where empty).

    Raises
    ------
    ScoreCSVError
        For a CSV written by another model, or one that cannot be read, naming it.
    """
    paths = done_paths(out, fingerprint, SEGMENT_COLUMNS)
    summary = files_path(out)
    finished = set()
    try:
        if summary.exists():
            repair(summary)
            finished = {_row_clip(summary, row["path"], not row["error"]) for row in read_rows(summary) if row["path"]}
        partial = {}
        if paths - finished:
            for row in read_rows(out):
                clip = _row_clip(out, row["path"], not row["error"])
                if clip not in finished:
                    cells = [float(row[k]) if row[k] else math.nan for k in ("start", "end", "score")]
                    partial.setdefault(clip, []).append((*cells, row["error"]))
    except ScoreCSVError:
        raise
    except (OSError, UnicodeDecodeError, csv.Error, KeyError, ValueError) as exc:
        raise ScoreCSVError(f"{out}: cannot read it to resume ({type(exc).__name__}: {exc})") from exc
    return finished, partial


def csv_number(value):
    """A number as a CSV cell: its full ``repr`` (read back exactly), or empty for None and NaN.

    Examples
    --------
    >>> csv_number(0.1), csv_number(float("nan")), csv_number(None), csv_number(3)
    ('0.1', '', '', '3.0')
    """
    return "" if value is None or math.isnan(value) else repr(float(value))


class RowWriter:
    """Rows to a CSV, each flushed to the file as soon as it is written.

    A new (or empty, or ``append=False``) file gets the header first, and with
    ``fingerprint`` the sidecar :func:`sidecar_path` naming the model; an
    existing one is appended to, after :func:`repair`. Both are written through
    :mod:`audioad.outputs` (never through a link, never into an audio file), and
    each cell as :func:`audioad.outputs.csv_cell` makes it.

    Parameters
    ----------
    path : str or pathlib.Path
        The CSV; its folder is made if missing.
    columns : tuple of str
        The header.
    append : bool
        Add to an existing file rather than start it over.
    fingerprint : str or None
        :func:`model_fingerprint` of the model scoring, for the sidecar.

    Attributes
    ----------
    written : int
        Rows written through this writer.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "frames.csv")
    >>> with RowWriter(path, FRAME_COLUMNS) as rows:
    ...     rows.write(("a.wav", "0.000", "1.5"))
    ...     print(open(path, newline="").read().splitlines())
    ['path,time,score', 'a.wav,0.000,1.5']
    """

    def __init__(self, path, columns, append=False, fingerprint=None):
        path = Path(path)
        if append and path.exists():
            repair(path)
        self.file = open_output(path, append=append)
        fresh = os.fstat(self.file.fileno()).st_size == 0
        if fingerprint is not None and (fresh or not sidecar_path(path).exists()):
            try:
                with atomic_path(sidecar_path(path)) as part:
                    part.write_text(fingerprint + "\n", encoding="utf-8")
            except BaseException:
                self.file.close()
                raise
        self.rows = csv.writer(self.file)
        self.written = 0
        if fresh:
            self.rows.writerow(columns)
            self.file.flush()

    def write(self, row):
        """Write one row and flush it to the file."""
        self.rows.writerow([csv_cell(v) for v in row])
        self.file.flush()
        self.written += 1

    def write_many(self, rows):
        """Write several rows (one clip's window rows) and flush them to the file together."""
        rows = [[csv_cell(v) for v in row] for row in rows]
        self.rows.writerows(rows)
        self.file.flush()
        self.written += len(rows)

    def close(self):
        """Close the file."""
        self.file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
