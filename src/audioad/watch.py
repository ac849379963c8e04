"""Continuous monitoring: score a machine's sound as it is recorded, and raise an alert when it goes wrong.

The same path as scoring a long recording (:mod:`audioad.segments`), run continuously over a
source (:mod:`audioad.sources`):

- a folder a recorder writes files into (:class:`~audioad.sources.FolderSource`). A file is
  scored once it is complete: its size has not changed for ``settle`` seconds and, for a WAV
  file whose header declares its length, all its samples are on disk. With ``growing=True``, a
  WAV file still being written is scored as it grows: each segment as soon as its last sample
  is on disk, the rest (the last segment, which reaches the file's last sample) once the file is
  complete. Files are taken oldest first; a file that cannot be decoded is logged, gets an error
  row, and is skipped. Hidden files are passed over, as ``score`` passes them over. A file
  scored that changes size later is logged, and the segments its new audio completes are scored
  (those it had are not scored again).
- raw PCM or a WAV stream on a pipe (:class:`~audioad.sources.PipeSource`), e.g.
  ``arecord -f S16_LE -r 16000 -c 1 | audioad watch pump.audioad -``; a WAV header is detected.
- a sound card's input (:class:`~audioad.sources.SoundCardSource`, the optional ``sounddevice``).

Every segment's score goes to a CSV row as soon as it is scored (flushed: a row once written
stays). An :class:`AlertRule` raises an alert when ``k`` of the last ``n`` segments are above the
threshold and clears it, with hysteresis, only when at most ``clear`` of the last ``n`` are; each
change goes to the console, to the ``audioad.watch`` logger and, if asked, to a command run with
the details in environment variables (``AUDIOAD_EVENT``, ``AUDIOAD_SOURCE``, ``AUDIOAD_START``,
``AUDIOAD_END``, ``AUDIOAD_SCORE``, ``AUDIOAD_THRESHOLD``, ``AUDIOAD_RULE``, ``AUDIOAD_TIME``).
The command runs in the background, so scoring goes on while it does; one that fails (a non-zero
exit, not found, over its time limit) is logged with its exit status. A row's ``warning`` says
how its segment is unlike the training audio (silent, clipped, too short, channels that cancel,
a truncated file), as ``audioad score`` rows do; the first of each kind in a source is printed.

With a history store (:mod:`audioad.monitor`, ``audioad watch --db``) the rows, the alert changes
and the state go into a database instead of (or beside) the CSV, committed together a batch at a
time (:class:`audioad.monitor.recorder.SourceHistory`).

A small JSON state file, rewritten atomically after every batch of rows, keeps which files were
scored, how many segments of each file in progress have their rows, the alert state and the last
``n`` flags, so a restarted watch goes on where it stopped without scoring a segment twice or
leaving one out. Files are known by their resolved paths (:func:`audioad.folders.resolved`), in
the state and in the rows, so a watch restarted from another folder or through a linked folder
knows them again; the state names the model by its SHA-256. Memory does not grow with time: a
segment and a block of audio are held (one of each for each file being written), the state
forgets files that left the folder.
"""

from __future__ import annotations

import datetime
import json
import logging
import math
import os
import subprocess
import threading
import time
from collections import deque
from pathlib import Path
from typing import NamedTuple

import soundfile as sf

from .audio import AudioInputError, AudioSource, AudioStream, OneChannel
from .domain import domain_warnings, profile_clip
from .folders import resolved, shown
from .outputs import atomic_path, one_line, open_output
from .score_csv import csv_number as number
from .segments import Segmenter, cut_blocks, parse_rule
from .sources import GrowingWav, declared_shortfall
from .verdicts import hms, unusual_segment

__all__ = [
    "WATCH_COLUMNS",
    "MAX_DONE",
    "AlertRule",
    "AlertEvent",
    "WatchState",
    "Watcher",
]

log = logging.getLogger("audioad.watch")
# The console gets its own line from the watch; the log's lines go where the application sends them.
log.addHandler(logging.NullHandler())

#: Columns of the CSV a watch writes: one row a segment.
WATCH_COLUMNS = ("source", "start", "end", "score", "label", "alert", "scored_at", "error", "warning")

#: Files a watch state names at most; older scored files are remembered by their time alone.
MAX_DONE = 1000


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")


class AlertEvent(NamedTuple):
    """An alert raised or cleared.

    Attributes
    ----------
    event : {"raised", "cleared"}
    source : str
        The file, ``"-"`` for a pipe, or the sound card's name.
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

    Parameters
    ----------
    path : str, pathlib.Path or None
        The JSON file; None keeps nothing.
    model : str or None
        The SHA-256 of the model scoring: a state kept by a watch of another model is refused.

    Attributes
    ----------
    done : dict
        Files scored (or skipped as corrupt): resolved path -> ``[size, mtime, segments]`` when
        scored, ``segments`` how many segments were cut before the last one (the one that reaches
        the file's last sample): a file that grows later has those passed over.
    flags : list of bool
        The last flags of the alert rule.
    active : bool
        Whether an alert is up.
    stream_seconds : float
        Seconds of pipe audio scored so far, over every run: a restarted pipe's times go on from here.
    rows : int
        Rows written over every run.
    partial : dict
        The files being scored when the watch stopped (more than one where files are scored as
        they grow): path -> segments whose rows are written, so that a restart writes the rest
        of their rows, none twice.
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

    def __init__(self, path, model=None):
        self.path = None if path is None else Path(path)
        self.model = model
        self.done, self.flags, self.active, self.stream_seconds, self.rows = {}, [], False, 0.0, 0
        self.partial = {}
        self.scored_before = -math.inf
        try:
            text = self._read()
            if text is not None:
                data = json.loads(text)
                kept_by = data.get("model")
                if model is not None and kept_by is not None and kept_by != model:
                    raise ValueError(f"it was kept by a watch of another model (SHA-256 {kept_by[:12]}...)")
                # A state of a version that named files as typed: taken from the current folder.
                self.done = {resolved(k): v for k, v in data.get("done", {}).items()}
                self.flags = [bool(f) for f in data.get("flags", [])]
                self.active = bool(data.get("active", False))
                self.stream_seconds = float(data.get("stream_seconds", 0.0))
                self.rows = int(data.get("rows", 0))
                self.partial = {resolved(k): int(v) for k, v in data.get("partial", {}).items()}
                self.scored_before = float(data.get("scored_before") or -math.inf)
        except (ValueError, TypeError, AttributeError, OSError) as exc:
            raise ValueError(f"{self.where}: cannot read the watch state ({exc}); remove it to start afresh") from exc

    @property
    def where(self):
        """The state as messages name it."""
        return str(self.path)

    def _read(self):
        """The saved state's JSON text, or None where there is none yet."""
        if self.path is None or not self.path.exists():
            return None
        return self.path.read_text(encoding="utf-8")

    def _write(self, text):
        """Write the state through :func:`~audioad.outputs.atomic_path`: a crash leaves the old one or the new one."""
        if self.path is None:
            return
        with atomic_path(self.path) as part:
            part.write_text(text, encoding="utf-8")

    def save(self):
        """Keep the state (see :meth:`_write`)."""
        data = {
            "model": self.model,
            "done": self.done,
            "flags": self.flags,
            "active": self.active,
            "stream_seconds": self.stream_seconds,
            "rows": self.rows,
            "partial": self.partial,
            "scored_before": None if math.isinf(self.scored_before) else self.scored_before,
        }
        self._write(json.dumps(data))


def _signature(path):
    stat = os.stat(path)
    return [stat.st_size, stat.st_mtime]


def _segments_before_last(cutter):
    """How many segments ``cutter``, a :class:`~audioad.segments.Segmenter`, cut as blocks came: all but the one
    that reaches the last sample, which more audio would move."""
    if cutter.seen < cutter.segment:
        return 0
    return (cutter.seen - cutter.segment) // cutter.hop + 1


def _unmixed(path, start, end):
    """Every channel of a file from ``start`` to ``end`` seconds, as ``(frames, rate)``, to tell channels that cancel
    from silence."""
    with sf.SoundFile(path) as file:
        rate = file.samplerate
        file.seek(min(int(start * rate), file.frames))
        return file.read(max(1, round((end - start) * rate)), dtype="float32", always_2d=True), rate


class Watcher:
    """Score segments from a source as they come, write a row each, and keep the alert rule.

    Parameters
    ----------
    detector : ClipDetector
        Fitted.
    rows : audioad.score_csv.RowWriter or None
        Where each segment's row goes (:data:`WATCH_COLUMNS`); None where only ``history`` keeps them.
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
        A shell command run on each alert change, the details in ``AUDIOAD_*`` variables. It runs
        in the background: scoring goes on meanwhile. A failure (a non-zero exit status, a command
        not found, over ``hook_timeout``) is logged and printed with the command.
    echo : callable
        Prints a line for the user (the console).
    history : audioad.monitor.recorder.SourceHistory or None
        A history store beside (or instead of) ``rows``: gets each row (``write``) and each alert
        change (``alert``); it commits them with the state, whose ``save`` it makes
        (:meth:`~audioad.monitor.recorder.SourceHistory.state`). ``rows`` may then be None.
    levels : Levels or None
        The thresholds and the normal scores behind them (:func:`audioad.verdicts.alarm_levels`):
        a segment above every held-out normal score that raises no alert is printed as unusual.
    channel : int or None
        Score this channel of each file alone (0 the first) instead of the mix of its channels;
        the sources of streams take theirs (:class:`~audioad.sources.PipeSource`).
    advice : dict or None
        Warning kind (``"silent"``, ``"clipped"``, ...) -> what to do, added to the first
        warning of that kind printed for a source.
    hook_timeout : float
        Seconds ``on_alert`` may run before it is stopped.
    """

    def __init__(
        self, detector, rows, state, segment, hop, threshold, alert_threshold, alert, on_alert=None, echo=print,
        history=None, levels=None, channel=None, advice=None, hook_timeout=60.0,
    ):  # fmt: skip
        self.detector, self.rows, self.state = detector, rows, state
        self.history, self.levels = history, levels
        self.segment, self.hop = float(segment), float(hop)
        self.threshold, self.alert_threshold = float(threshold), float(alert_threshold)
        self.alert, self.on_alert, self.echo = alert, on_alert, echo
        self.channel, self.advice, self.hook_timeout = channel, dict(advice or {}), float(hook_timeout)
        self._following = {}  # file being written -> [GrowingWav, Segmenter, segments cut]
        self._warned = {}  # source -> kinds of warning printed for it
        self._hooks = []  # alert commands running

    def _row(self, source, start, end, score, error="", warning=""):
        label = "" if math.isnan(score) else int(score > self.threshold)
        change = None if label == "" else self.alert.update(score > self.alert_threshold)
        row = (source, number(start), number(end), number(score), label, int(self.alert.active), _now(), error, warning)
        for sink in (self.rows, self.history):
            if sink is not None:
                sink.write(row)
        self.state.rows += 1
        self.state.flags, self.state.active = list(self.alert.flags), self.alert.active
        if change:
            self._announce(AlertEvent(change, source, start, end, score))
        elif label == 1 and not self.alert.active and self.levels is not None:
            unusual = unusual_segment(start, end, score, self.levels)
            if unusual:
                self.echo(one_line(f"unusual, review it: {shown(source)} {unusual}"))
                log.warning("unusual: %s %s", source, unusual)

    def _announce(self, event):
        when = f"{hms(event.start)}-{hms(event.end)}, score {event.score:.3g}"
        detail = f"(rule {self.alert.rule} over the alarm level {self.alert_threshold:.3g})"
        self.echo(one_line(f"ALERT {event.event}: {shown(event.source)} {when} {detail}"))
        log.warning("ALERT %s: %s %s %s", event.event, event.source, when, detail)
        if self.history is not None:
            self.history.alert(event)
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
            self._hooks = [hook for hook in self._hooks if hook.is_alive()]
            hook = threading.Thread(target=self._run_hook, args=(env,), name="audioad alert command", daemon=True)
            hook.start()
            self._hooks.append(hook)

    def _run_hook(self, env):
        """Run the alert command (in its own thread); log and print how it failed, if it did."""
        try:
            done = subprocess.run(self.on_alert, shell=True, env=env, timeout=self.hook_timeout, check=False)
        except subprocess.TimeoutExpired:
            failure = f"ran over {self.hook_timeout:g} s and was stopped"
        except OSError as exc:
            failure = f"could not be started ({exc})"
        else:
            status = done.returncode
            # The shell's own statuses: 127 for a command it cannot find, 126 for one it cannot run.
            cause = {127: ": command not found", 126: ": not executable"}.get(status, "")
            failure = (f"exited with status {status}{cause}" if status > 0 else f"was killed by signal {-status}") * (
                status != 0
            )
        if failure:
            log.error("alert command %s: %s", failure, self.on_alert)
            self.echo(one_line(f"alert command {failure}: {self.on_alert}"))

    def wait_for_alert_commands(self):
        """Wait for the alert commands still running (each stops within ``hook_timeout``)."""
        for hook in self._hooks:
            hook.join()
        self._hooks = []

    def _warnings(self, source, wave, profile_warnings, start, end, file_warning, is_file):
        """A segment's warning cell; the first warning of each kind in a source is printed too.

        A silent segment of a file of several channels is read again unmixed: channels that cancel
        when mixed are told from silence (:func:`audioad.domain.domain_warnings`).
        """
        if is_file and self.channel is None and any(w.startswith("silent:") for w in profile_warnings):
            frames, rate = _unmixed(source, start, end)
            if frames.shape[1] > 1:
                profile = profile_clip(wave, self.detector.sr, AudioSource(None, None), item=(frames, rate))
                training = getattr(self.detector, "training_audio_", None)
                window = self.detector.frontend.window_samples
                profile_warnings = domain_warnings(profile, training, self.detector.sr, window)
        warnings = [*profile_warnings, *([file_warning] if file_warning else [])]
        told = self._warned.setdefault(source, set())
        for warning in warnings:
            kind = warning.partition(":")[0]
            if kind not in told:
                told.add(kind)
                advice = f"; {self.advice[kind]}" if kind in self.advice else ""
                self.echo(one_line(f"warning: {shown(source)}: {warning}{advice}"))
                log.warning("%s: %s", source, warning)
        return "; ".join(warnings)

    def _score(self, source, pieces, file_warning="", is_file=False):
        """Score ``(start, end, wave)`` pieces of a stream or (``is_file``) a file in one batch and write their rows."""
        if not pieces:
            return
        result = self.detector.score_clips([wave for _, _, wave in pieces])
        for (start, end, wave), score, warnings in zip(pieces, result.scores, result.warnings):
            warning = self._warnings(source, wave, warnings, start, end, file_warning, is_file)
            self._row(source, start, end, float(score), warning=warning)

    def _segmenter(self):
        sr = self.detector.sr
        return Segmenter(max(1, round(self.segment * sr)), max(1, round(self.hop * sr)))

    def _write_segments(self, path, segments, cut=0, batch=8, warning=""):
        """Score the ``segments`` of ``path`` (its number ``cut`` on) whose rows are not yet written, a batch at a time.

        After each batch the state records how many of the file's segments have their rows, so a
        watch stopped part way through a file writes only the rest of its rows when restarted.
        Returns how many of the file's segments have been cut. A file that fails to decode keeps
        the rows of the segments before the failure.
        """
        written = self.state.partial.get(path, 0)
        pieces = []

        def flush():
            nonlocal pieces
            if pieces:
                self._score(path, pieces, warning, is_file=True)
                self.state.partial[path] = cut
                self.state.save()
                pieces = []

        try:
            for segment in segments:
                cut += 1
                if cut > written:
                    pieces.append(segment)
                    if len(pieces) == batch:
                        flush()
        except AudioInputError:
            flush()
            raise
        flush()
        return cut

    def _skip(self, path, exc):
        log.error("skipped %s: %s", path, exc.cause)
        self.echo(one_line(f"skipped {shown(path)}: {exc.cause}"))
        self._row(path, math.nan, math.nan, math.nan, exc.cause)

    def _done(self, path, signature, cutter):
        """Mark ``path`` done: its size and time when its scoring began, and its segments but the last."""
        self.state.done[path] = None if signature is None else [*signature, _segments_before_last(cutter)]
        self.state.partial.pop(path, None)
        self._warned.pop(path, None)
        self.state.save()

    def _truncated(self, path):
        """The warning of a WAV file whose header declares more samples than it holds, else ``""``."""
        shortfall = declared_shortfall(path)
        if shortfall is None:
            return ""
        return f"truncated: its header declares {shortfall[0]:.1f} s of samples, {shortfall[1]:.1f} s are in the file"

    def _grown(self, path):
        """A file scored before has changed size: log it, and pass over the segments it had when it is scored again."""
        scored = self.state.done.pop(path)
        # A state of an earlier version kept no count of segments: the file is scored again whole.
        size, before = scored[0], scored[2] if len(scored) > 2 else 0
        now = os.stat(path).st_size if os.path.exists(path) else 0
        log.warning("%s changed size after it was scored (%d -> %d bytes): its new audio is scored", path, size, now)
        grown = f"changed size after it was scored ({size} -> {now} bytes): scoring its new audio"
        self.echo(one_line(f"{shown(path)} {grown}"))
        self.state.partial[path] = before

    def score_file(self, path, batch=8):
        """Score one complete file, segment by segment; a file that fails is logged and gets an error row.

        A file the state says was part scored (a watch stopped in it, or a file that grew after it
        was scored) gets only its remaining rows.
        """
        path = str(path)
        signature = _signature(path) if os.path.exists(path) else None
        cutter, sr = self._segmenter(), self.detector.sr
        item = path if self.channel is None else OneChannel(path, self.channel)
        try:
            segments = cut_blocks(AudioStream(item, sr), sr, cutter)
            self._write_segments(path, segments, batch=batch, warning=self._truncated(path))
        except AudioInputError as exc:
            self._skip(path, exc)
        self._done(path, signature, cutter)

    def follow_file(self, path, complete=False, batch=8):
        """Score the segments of a WAV file being written whose samples are all on disk; once ``complete``, the rest.

        Each call reads what the recorder wrote since the last (:class:`~audioad.sources.GrowingWav`)
        and scores the segments it completes; with ``complete`` it also scores the last segment,
        the one that reaches the file's last sample, and marks the file done. The rows are those
        :meth:`score_file` writes for the finished file: the same segments, the same samples.
        After a restart the file is read again from its start and the segments whose rows the
        state names are passed over.

        Returns
        -------
        bool
            False, scoring nothing, while the file does not start with a whole PCM or float WAV
            header (not yet written, or another format): it is scored once complete.
        """
        path = str(path)
        following = self._following.get(path)
        if following is None:
            wav = GrowingWav.open(path, self.detector.sr, channel=self.channel)
            if wav is None:
                return False
            following = self._following[path] = [wav, self._segmenter(), 0]
        wav, cutter, sr = following[0], following[1], self.detector.sr
        # Its size once complete, before its last samples are read: a file that grows after it is known by it.
        signature = _signature(path) if complete and os.path.exists(path) else None

        def segments():
            yield from cut_blocks(wav.landed(last=complete), sr, cutter, finish=complete)
            if complete and cutter.seen == 0:
                raise AudioInputError("the clip holds no samples", path=path)

        try:
            warning = self._truncated(path) if complete else ""
            following[2] = self._write_segments(path, segments(), following[2], batch, warning)
        except AudioInputError as exc:
            self._skip(path, exc)
            complete = True
        if complete:
            del self._following[path]
            self._done(path, signature, cutter)
        return True

    def watch_folder(self, source, poll=1.0, stop=None, idle_exit=None):
        """Score each new file of ``source`` until ``stop`` is set (or nothing new for ``idle_exit`` s).

        A complete file is scored whole; where ``source.growing``, a file still being written is
        followed (:meth:`follow_file`) and its segments scored as they land. A file scored before
        that changed size has its new segments scored. Returns once the alert commands started
        have ended.
        """
        try:
            self._watch_folder(source, poll, stop, idle_exit)
        finally:
            self.wait_for_alert_commands()

    def _watch_folder(self, source, poll, stop, idle_exit):
        idle_since = time.monotonic()
        while stop is None or not stop.is_set():
            ready, writing = source.scan(self.state.done, self.state.scored_before)
            for path in [*ready, *writing]:
                if path in self.state.done:
                    self._grown(path)
            for path in ready:
                if not (source.growing and self.follow_file(path, complete=True)):
                    self.score_file(path)
                if stop is not None and stop.is_set():
                    break
            for path in writing:
                self.follow_file(path)
            for path in set(self._following) - set(ready) - set(writing):
                # Deleted or renamed before it was complete: its last segment is never scored.
                log.warning("%s left the folder while it was being written", path)
                del self._following[path]
                self.state.partial.pop(path, None)
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
                self.state.partial = {p: n for p, n in self.state.partial.items() if p in present}
                self.state.save()
                continue
            if writing:
                idle_since = time.monotonic()
            elif idle_exit is not None and time.monotonic() - idle_since >= idle_exit:
                return
            time.sleep(poll) if stop is None else stop.wait(poll)

    def watch_stream(self, blocks, name="-", latency=None):
        """Score each segment of a stream of blocks as soon as it is complete, until the stream ends.

        ``latency``, a list, gets the seconds from each segment's last block's arrival to its row.
        Returns once the alert commands started have ended.
        """
        try:
            self._watch_stream(blocks, name, latency)
        finally:
            self.wait_for_alert_commands()

    def _watch_stream(self, blocks, name, latency):
        sr = self.detector.sr
        cutter = self._segmenter()
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


class _LogFile(logging.FileHandler):
    """A log file opened through :func:`audioad.outputs.open_output`, a record a line whatever its file names hold."""

    def _open(self):
        return open_output(self.baseFilename, append=True)

    def format(self, record):
        # A newline in a watched file's name would otherwise start a line of its own: a forged record.
        return one_line(super().format(record))


def log_to(path):
    """Send the ``audioad.watch`` logger's lines to ``path`` (appended), one line each with its time.

    The file is never written through a link nor into another file (:func:`audioad.outputs.open_output`),
    and the characters of a record that would end its line or drive a terminal are escaped
    (:func:`audioad.outputs.one_line`).
    """
    handler = _LogFile(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return handler
