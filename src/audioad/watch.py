"""Continuous monitoring: score a machine's sound as it is recorded, and raise an alert when it goes wrong.

The same path as scoring a long recording (:mod:`audioad.segments`), run continuously over a
*source*:

- :class:`FolderSource`: a folder a recorder writes files into. A file is taken once it is
  complete: its size has not changed for ``settle`` seconds and its header reads. Files are
  taken oldest first; a file that cannot be decoded is logged, gets an error row, and is skipped.
- :class:`PipeSource`: raw PCM (``s16le``, ``s32le``, ``f32le``) or a WAV stream on a pipe,
  e.g. ``arecord -f S16_LE -r 16000 -c 1 | audioad watch pump.audioad -``.

Every segment's score goes to a CSV row as soon as it is scored (flushed: a row once written
stays). An :class:`AlertRule` raises an alert when ``k`` of the last ``n`` segments are above the
threshold and clears it, with hysteresis, only when at most ``clear`` of the last ``n`` are; each
change goes to the console, to the ``audioad.watch`` logger and, if asked, to a command run with
the details in environment variables (``AUDIOAD_EVENT``, ``AUDIOAD_SOURCE``, ``AUDIOAD_START``,
``AUDIOAD_END``, ``AUDIOAD_SCORE``, ``AUDIOAD_THRESHOLD``, ``AUDIOAD_RULE``, ``AUDIOAD_TIME``).

A small JSON state file, rewritten atomically after every file (and every segment of a pipe),
keeps which files were scored, the alert state and the last ``n`` flags, so a restarted watch
goes on where it stopped without scoring a file twice. Memory does not grow with time: a
segment and a block of audio are held, the state forgets files that left the folder.
"""

from __future__ import annotations

import datetime
import json
import logging
import math
import os
import subprocess
import time
from collections import deque
from pathlib import Path
from typing import NamedTuple

import numpy as np
import soxr

from .audio import AUDIO_SUFFIXES, AudioInputError
from .score_csv import csv_number as number
from .segments import Segmenter, cut, parse_rule

__all__ = [
    "WATCH_COLUMNS",
    "MAX_DONE",
    "PCM_FORMATS",
    "AlertRule",
    "AlertEvent",
    "WatchState",
    "FolderSource",
    "PipeSource",
    "Watcher",
]

log = logging.getLogger("audioad.watch")
# The console gets its own line from the watch; the log's lines go where the application sends them.
log.addHandler(logging.NullHandler())

#: Columns of the CSV a watch writes: one row a segment.
WATCH_COLUMNS = ("source", "start", "end", "score", "label", "alert", "scored_at", "error")

#: Files a watch state names at most; older scored files are remembered by their time alone.
MAX_DONE = 1000

#: Raw PCM formats a pipe may carry: numpy dtype and full scale.
PCM_FORMATS = {"s16le": ("<i2", 2.0**15), "s32le": ("<i4", 2.0**31), "f32le": ("<f4", 1.0)}


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")


class AlertEvent(NamedTuple):
    """An alert raised or cleared.

    Attributes
    ----------
    event : {"raised", "cleared"}
    source : str
        The file, or ``"-"`` for a pipe.
    start, end : float
        The segment at which it changed, in seconds from the start of its source.
    score : float
        That segment's score.
    """

    event: str
    source: str
    start: float
    end: float
    score: float


class AlertRule:
    """Raise when ``k`` of the last ``n`` segments are above the threshold; clear when at most ``clear`` are.

    Parameters
    ----------
    rule : str or VerdictRule
        ``"K/N"`` (:func:`audioad.segments.parse_rule`); ``"any"`` is 1/1.
    clear : int
        The alert clears once at most this many of the last ``n`` segments are above the
        threshold; below ``k``, so that a score hovering at the threshold does not flap.
    flags : iterable of bool
        The last flags, from a state file.
    active : bool
        Whether an alert is up, from a state file.

    Examples
    --------
    >>> alert = AlertRule("2/3")
    >>> [alert.update(flag) for flag in (1, 0, 1, 1, 0, 0, 0)]
    [None, None, 'raised', None, None, None, 'cleared']
    """

    def __init__(self, rule="3/5", clear=0, flags=(), active=False):
        self.rule = parse_rule(rule)
        if not 0 <= clear < self.rule.k:
            raise ValueError(f"clear must be from 0 to K-1 = {self.rule.k - 1} for rule {self.rule}, got {clear!r}")
        self.clear = int(clear)
        self.flags = deque((bool(f) for f in flags), maxlen=self.rule.n)
        self.active = bool(active)

    def update(self, above):
        """Add one segment's flag; return ``"raised"``, ``"cleared"`` or None."""
        self.flags.append(bool(above))
        count = sum(self.flags)
        if not self.active and count >= self.rule.k:
            self.active = True
            return "raised"
        if self.active and count <= self.clear:
            self.active = False
            return "cleared"
        return None


class WatchState:
    """What a watch keeps across restarts, in a small JSON file written atomically.

    Attributes
    ----------
    done : dict
        Files scored (or skipped as corrupt): path -> ``[size, mtime]`` when scored.
    flags : list of bool
        The last flags of the alert rule.
    active : bool
        Whether an alert is up.
    stream_seconds : float
        Seconds of pipe audio scored so far, over every run: a restarted pipe's times go on from here.
    rows : int
        Rows written over every run.
    partial : dict
        The file being scored when the watch stopped: path -> segments whose rows are written,
        so that a restart writes the rest of its rows, none twice.
    scored_before : float
        Files last modified at or before this time (seconds since the epoch) count as scored:
        where a recorder keeps every file, the oldest entries of ``done`` are folded into it, so
        the state holds at most :data:`MAX_DONE` files.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "watch.state.json")
    >>> state = WatchState(path)
    >>> state.active, state.flags = True, [False, True]
    >>> state.save()
    >>> again = WatchState(path)
    >>> again.active, again.flags
    (True, [False, True])
    """

    def __init__(self, path):
        self.path = None if path is None else Path(path)
        self.done, self.flags, self.active, self.stream_seconds, self.rows = {}, [], False, 0.0, 0
        self.partial = {}
        self.scored_before = -math.inf
        if self.path is not None and self.path.exists():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                self.done = {str(k): v for k, v in data.get("done", {}).items()}
                self.flags = [bool(f) for f in data.get("flags", [])]
                self.active = bool(data.get("active", False))
                self.stream_seconds = float(data.get("stream_seconds", 0.0))
                self.rows = int(data.get("rows", 0))
                self.partial = {str(k): int(v) for k, v in data.get("partial", {}).items()}
                self.scored_before = float(data.get("scored_before") or -math.inf)
            except (ValueError, TypeError, AttributeError, OSError) as exc:
                raise ValueError(
                    f"{self.path}: cannot read the watch state ({exc}); remove it to start afresh"
                ) from exc

    def save(self):
        """Write the state beside its file and rename it over it: a crash leaves the old one or the new one."""
        if self.path is None:
            return
        data = {
            "done": self.done,
            "flags": self.flags,
            "active": self.active,
            "stream_seconds": self.stream_seconds,
            "rows": self.rows,
            "partial": self.partial,
            "scored_before": None if math.isinf(self.scored_before) else self.scored_before,
        }
        partial = self.path.with_name(self.path.name + ".partial")
        partial.write_text(json.dumps(data), encoding="utf-8")
        os.replace(partial, self.path)


def _signature(path):
    stat = os.stat(path)
    return [stat.st_size, stat.st_mtime]


class FolderSource:
    """New, complete audio files in a folder (not its subfolders), oldest first.

    Parameters
    ----------
    folder : str or pathlib.Path
        Where the recorder writes.
    settle : float
        Seconds a file's size must stay unchanged before it is taken as complete.
    suffixes : tuple of str
        File suffixes taken (lower case); others are ignored (a recorder's ``.part`` files).

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> FolderSource(folder, settle=0).ready(done={})
    []
    """

    def __init__(self, folder, settle=2.0, suffixes=AUDIO_SUFFIXES):
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise ValueError(f"{self.folder}: not a folder; pass the folder the recorder writes into, or - for stdin")
        self.settle = float(settle)
        self.suffixes = tuple(suffixes)
        self._sizes = {}  # path -> (size, when first seen at that size)

    def ready(self, done, scored_before=-math.inf):
        """Complete files not in ``done`` and modified after ``scored_before``, oldest first.

        A file is complete once its size has stayed the same for ``settle`` seconds; whether it
        decodes is found out when it is scored (a corrupt file is then logged and skipped).
        """
        now = time.monotonic()
        found, sizes = [], {}
        for entry in os.scandir(self.folder):
            if not entry.is_file() or Path(entry.name).suffix.lower() not in self.suffixes or entry.path in done:
                continue
            stat = entry.stat()
            if stat.st_mtime <= scored_before:
                continue
            size, since = self._sizes.get(entry.path, (None, now))
            sizes[entry.path] = (stat.st_size, since if size == stat.st_size else now)
            if now - sizes[entry.path][1] >= self.settle:
                found.append((stat.st_mtime, entry.name, entry.path))
        # Only files still there and not yet scored are remembered: memory does not grow with time.
        self._sizes = sizes
        return [path for _, _, path in sorted(found)]


def _wav_header(read):
    """Parse a WAV stream's header from ``read(n)``; return (dtype, scale, channels, rate)."""
    riff = read(12)
    if len(riff) < 12 or riff[:4] not in (b"RIFF", b"RF64") or riff[8:12] != b"WAVE":
        raise AudioInputError("the stream does not start with a WAV header; pass --format s16le for raw PCM", path="-")
    fmt = None
    while True:
        head = read(8)
        if len(head) < 8:
            raise AudioInputError("the WAV stream ended before its data", path="-")
        kind, size = head[:4], int.from_bytes(head[4:], "little")
        if kind == b"data":
            break
        body = read(size + (size & 1))
        if kind == b"fmt ":
            fmt = body
    if fmt is None:
        raise AudioInputError("the WAV stream has no fmt chunk", path="-")
    code, channels, rate = (
        int.from_bytes(fmt[0:2], "little"),
        int.from_bytes(fmt[2:4], "little"),
        int.from_bytes(fmt[4:8], "little"),
    )
    bits = int.from_bytes(fmt[14:16], "little")
    if code == 0xFFFE and len(fmt) >= 26:
        code = int.from_bytes(fmt[24:26], "little")  # WAVE_FORMAT_EXTENSIBLE: the sub-format's code
    formats = {(1, 16): ("<i2", 2.0**15), (1, 32): ("<i4", 2.0**31), (3, 32): ("<f4", 1.0), (1, 8): ("u1", 2.0**7)}
    if (code, bits) not in formats:
        raise AudioInputError(f"WAV format {code} at {bits} bits is not supported on a pipe; send 16-bit PCM", path="-")
    dtype, scale = formats[(code, bits)]
    return dtype, scale, channels, rate


class PipeSource:
    """Audio blocks from a binary stream (standard input): raw PCM or WAV, mono at ``sr``.

    Parameters
    ----------
    stream : binary file object
        E.g. ``sys.stdin.buffer``.
    sr : int
        The model's rate; the stream is resampled to it as it comes.
    format : {"s16le", "s32le", "f32le", "wav"}
        Raw little-endian PCM, or a WAV stream (its header gives the rest).
    rate : int
        The raw stream's rate (ignored for WAV).
    channels : int
        The raw stream's channels (ignored for WAV); they are averaged.
    block_seconds : float
        Audio read at a time.

    Examples
    --------
    >>> import io
    >>> pcm = (np.ones(8000) * 16384).astype("<i2").tobytes()
    >>> [len(b) for b in PipeSource(io.BytesIO(pcm), sr=16000, format="s16le", rate=16000, block_seconds=0.2)]
    [3200, 3200, 1600]
    """

    def __init__(self, stream, sr, format="s16le", rate=16000, channels=1, block_seconds=0.25):
        self.stream, self.sr, self.format = stream, int(sr), format
        self.rate, self.channels, self.block_seconds = int(rate), int(channels), float(block_seconds)
        if format != "wav" and format not in PCM_FORMATS:
            raise ValueError(f"format must be one of {', '.join([*PCM_FORMATS, 'wav'])}, got {format!r}")

    def _read(self, n):
        parts, got = [], 0
        while got < n:
            chunk = self.stream.read(n - got)
            if not chunk:
                break
            parts.append(chunk)
            got += len(chunk)
        return b"".join(parts)

    def __iter__(self):
        if self.format == "wav":
            dtype, scale, channels, rate = _wav_header(self._read)
        else:
            (dtype, scale), channels, rate = PCM_FORMATS[self.format], self.channels, self.rate
        dtype = np.dtype(dtype)
        frame = dtype.itemsize * channels
        resampler = None if rate == self.sr else soxr.ResampleStream(rate, self.sr, 1, quality="HQ")
        per_block = max(1, int(self.block_seconds * rate)) * frame
        carry = b""
        while True:
            data = carry + self._read(per_block)
            last = len(data) < per_block
            whole = len(data) - len(data) % frame
            data, carry = data[:whole], data[whole:]
            samples = np.frombuffer(data, dtype=dtype).reshape(-1, channels).astype(np.float64)
            if dtype.kind == "u":
                samples -= 128.0
            block = (samples.mean(axis=1) / scale).astype(np.float32)
            if resampler is not None:
                block = resampler.resample_chunk(block, last=last)
            if len(block):
                yield block
            if last:
                return


class Watcher:
    """Score segments from a source as they come, write a row each, and keep the alert rule.

    Parameters
    ----------
    detector : ClipDetector
        Fitted.
    rows : audioad.score_csv.RowWriter
        Where each segment's row goes (:data:`WATCH_COLUMNS`).
    state : WatchState
        Kept across restarts.
    segment, hop : float
        Seconds.
    threshold : float
        The segment threshold: a segment above it is labelled 1.
    alert_threshold : float
        A segment above it counts for the alert rule (see :func:`audioad.thresholds.file_threshold`).
    alert : AlertRule
        Built from ``state`` by the caller.
    on_alert : str or None
        A shell command run on each alert change, the details in ``AUDIOAD_*`` variables.
    echo : callable
        Prints a line for the user (the console).
    """

    def __init__(
        self, detector, rows, state, segment, hop, threshold, alert_threshold, alert, on_alert=None, echo=print
    ):
        self.detector, self.rows, self.state = detector, rows, state
        self.segment, self.hop = float(segment), float(hop)
        self.threshold, self.alert_threshold = float(threshold), float(alert_threshold)
        self.alert, self.on_alert, self.echo = alert, on_alert, echo

    def _row(self, source, start, end, score, error=""):
        label = "" if math.isnan(score) else int(score > self.threshold)
        change = None if label == "" else self.alert.update(score > self.alert_threshold)
        self.rows.write(
            (source, number(start), number(end), number(score), label, int(self.alert.active), _now(), error)
        )
        self.state.rows += 1
        self.state.flags, self.state.active = list(self.alert.flags), self.alert.active
        if change:
            self._announce(AlertEvent(change, source, start, end, score))

    def _announce(self, event):
        what = f"ALERT {event.event}: {event.source} {event.start:.1f}-{event.end:.1f} s, score {event.score:.4g}"
        detail = f"(rule {self.alert.rule} over alert threshold {self.alert_threshold:.4g})"
        self.echo(f"{what} {detail}")
        log.warning("%s %s", what, detail)
        if self.on_alert:
            env = dict(
                os.environ,
                AUDIOAD_EVENT=event.event,
                AUDIOAD_SOURCE=str(event.source),
                AUDIOAD_START=f"{event.start:.3f}",
                AUDIOAD_END=f"{event.end:.3f}",
                AUDIOAD_SCORE=repr(float(event.score)),
                AUDIOAD_THRESHOLD=repr(self.alert_threshold),
                AUDIOAD_RULE=str(self.alert.rule),
                AUDIOAD_TIME=_now(),
            )
            try:
                done = subprocess.run(self.on_alert, shell=True, env=env, timeout=60, check=False)
                if done.returncode:
                    log.error("--on-alert command exited %d: %s", done.returncode, self.on_alert)
            except (OSError, subprocess.TimeoutExpired) as exc:
                log.error("--on-alert command failed (%s): %s", exc, self.on_alert)

    def _score(self, source, pieces):
        """Score ``(start, end, wave)`` pieces in one batch and write their rows."""
        if not pieces:
            return
        scores = self.detector.score_clips([wave for _, _, wave in pieces]).scores
        for (start, end, _), score in zip(pieces, scores):
            self._row(source, start, end, float(score))

    def score_file(self, path, batch=8):
        """Score one complete file, segment by segment; a file that fails is logged and gets an error row.

        After each batch the state records how many of the file's segments have their rows, so a
        watch stopped part way through a file writes only the rest of its rows when restarted.
        """
        path = str(path)
        written = self.state.partial.get(path, 0)
        pieces = []

        def flush():
            nonlocal pieces, written
            self._score(path, pieces)
            written += len(pieces)
            pieces = []
            self.state.partial = {path: written}
            self.state.save()

        try:
            for i, piece in enumerate(cut(path, self.detector.sr, self.segment, self.hop)):
                if i < written:
                    continue
                pieces.append((piece.start, piece.end, piece.wave))
                if len(pieces) == batch:
                    flush()
        except AudioInputError as exc:
            flush()
            log.error("skipped %s: %s", path, exc.cause)
            self.echo(f"skipped {path}: {exc.cause}")
            self._row(path, math.nan, math.nan, math.nan, exc.cause)
        else:
            flush()
        self.state.done[path] = _signature(path) if os.path.exists(path) else None
        self.state.partial = {}
        self.state.save()

    def watch_folder(self, source, poll=1.0, stop=None, idle_exit=None):
        """Score each new complete file of ``source`` until ``stop`` is set (or nothing new for ``idle_exit`` s)."""
        idle_since = time.monotonic()
        while stop is None or not stop.is_set():
            ready = source.ready(self.state.done, self.state.scored_before)
            for path in ready:
                self.score_file(path)
                if stop is not None and stop.is_set():
                    break
            if ready:
                idle_since = time.monotonic()
                present = {e.path for e in os.scandir(source.folder)}
                # Files that left the folder need no memory, and the oldest of a folder that keeps
                # everything are folded into one time: the state stays small over days.
                done = sorted(
                    ((p, v) for p, v in self.state.done.items() if p in present and v),
                    key=lambda item: item[1][1],
                )
                if len(done) > MAX_DONE:
                    self.state.scored_before = max(self.state.scored_before, done[-MAX_DONE - 1][1][1])
                self.state.done = {p: v for p, v in done if v[1] > self.state.scored_before}
                self.state.save()
            elif idle_exit is not None and time.monotonic() - idle_since >= idle_exit:
                return
            else:
                time.sleep(poll) if stop is None else stop.wait(poll)

    def watch_stream(self, blocks, name="-", latency=None):
        """Score each segment of a stream of blocks as soon as it is complete, until the stream ends.

        ``latency``, a list, gets the seconds from each segment's last block's arrival to its row.
        """
        sr = self.detector.sr
        cutter = Segmenter(max(1, round(self.segment * sr)), max(1, round(self.hop * sr)))
        offset = self.state.stream_seconds
        for block in blocks:
            arrived = time.perf_counter()
            for start, wave in cutter.push(block):
                self._score(name, [(offset + start / sr, offset + (start + len(wave)) / sr, wave)])
                if latency is not None:
                    latency.append(time.perf_counter() - arrived)
                self.state.stream_seconds = offset + (start + min(len(wave), round(self.hop * sr))) / sr
                self.state.save()
        for start, wave in cutter.finish():
            self._score(name, [(offset + start / sr, offset + (start + len(wave)) / sr, wave)])
        self.state.stream_seconds = offset + cutter.seen / sr
        self.state.save()


def log_to(path):
    """Send the ``audioad.watch`` logger's lines to ``path`` (appended), one line each with its time."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return handler
