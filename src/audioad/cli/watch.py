"""``audioad watch``: score a machine's sound as it is recorded, and alert."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path

import click

from .errors import Failure, Refused
from .group import main
from .levels import scoring_run
from .models import load_model
from .options import channel_option, segment_options, threshold_options


def _list_input_devices(ctx, param, value):
    """--list-devices: the sound cards with an input, then exit."""
    if not value or ctx.resilient_parsing:
        return
    from ..sources import input_devices

    try:
        devices = input_devices()
    except ImportError as exc:
        raise Refused(str(exc)) from exc
    for device in devices:
        mark = "*" if device["default"] else " "
        click.echo(
            f"{mark} {device['index']:>3}  {device['name']}  "
            f"({device['max_input_channels']} in, {device['default_samplerate']:g} Hz)"
        )
    if not devices:
        click.echo("no sound card with an input")
    ctx.exit()


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.argument("source", required=False)
@click.option("--out", "-o", type=click.Path(dir_okay=False), help="CSV a row a segment goes to, as scored.")
@click.option(
    "--db",
    metavar="STORE",
    help="History store the rows, alerts and state go to: a SQLite file (made if missing) or postgresql://... "
    "(pip install 'audioad[postgres]').",
)
@click.option("--name", help="The machine's name in --db (default: SOURCE's folder name, stdin, or the card's name).")
@click.option(
    "--state", type=click.Path(dir_okay=False), help="State file for restarts (default: OUT.state.json; --db keeps it)."
)
@click.option(
    "--on-alert", metavar="CMD", help="Shell command run when an alert is raised or cleared (AUDIOAD_* variables)."
)
@click.option(
    "--clear",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="An alert clears once at most this many of the last N segments are above the alert threshold.",
)
@click.option("--log", "log_file", type=click.Path(dir_okay=False), help="Append alert and error lines to this file.")
@click.option(
    "--format",
    "pcm_format",
    type=click.Choice(["s16le", "s32le", "f32le", "wav"]),
    help="What comes on standard input (SOURCE -): raw little-endian PCM, or WAV.  [default: WAV where the stream "
    "starts with a WAV header, else s16le]",
)
@click.option("--rate", type=click.IntRange(1), default=16000, show_default=True, help="Rate of raw PCM on stdin.")
@click.option(
    "--channels",
    type=click.IntRange(1),
    default=1,
    show_default=True,
    help="Channels of raw PCM on stdin, or recorded from --device; averaged.",
)
@click.option(
    "--settle",
    type=float,
    default=2.0,
    show_default=True,
    help="Seconds a file must stay the same size to be complete.",
)
@click.option(
    "--growing",
    is_flag=True,
    help="Score a WAV file still being written as it grows: each segment once its samples are on disk.",
)
@click.option(
    "--device",
    metavar="CARD",
    help="Record a sound card's input instead of SOURCE: default, its number or part of its name "
    "(needs pip install 'audioad[soundcard]').",
)
@click.option(
    "--list-devices",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=_list_input_devices,
    help="List the sound cards with an input (* the default) and exit.",
)
@click.option("--poll", type=float, default=1.0, show_default=True, help="Seconds between looks at the folder.")
@click.option("--idle-exit", type=float, help="Stop once no new file has come for this many seconds.")
@segment_options
@threshold_options
@channel_option
def watch(
    model, source, out, db, name, state, on_alert, clear, log_file, pcm_format, rate, channels, settle, growing, device,
    poll, idle_exit, segment, hop, threshold, false_alarm_rate, rule, file_false_alarm_rate, calibrate, channel,
):  # fmt: skip
    """Watch a machine: score each segment as it is recorded; alert when K of N are above the alert threshold.

    SOURCE is a folder a recorder writes files into, or - for standard input
    (raw PCM per --format/--rate/--channels, or a WAV stream, detected by its
    header); --device records a sound card instead (pip install
    'audioad[soundcard]'; --list-devices lists them). A file in the folder is
    scored once complete: its size unchanged for --settle seconds and, for a
    WAV file, every sample its header declares on disk. Hidden files are
    passed over; a file that grows after it was scored has its new segments
    scored. With --growing, a WAV file (PCM
    or float) is scored as the recorder writes it: each segment within --poll
    seconds of its samples reaching the disk, the last one once the file is
    complete; other formats (FLAC, OGG, MP3) wait until complete. Use
    --growing where the recorder appends to its files (arecord, sox, ffmpeg);
    not where files are copied in out of order (a network share).

    Each segment's row is appended to OUT as soon as it is scored, and with
    --db goes into a history store (SQLite or PostgreSQL, see audioad
    history and audioad dashboard) with the alerts and the state. An alert
    is raised when the --rule holds over segments above the alert threshold
    (set, like score's file threshold, for --file-false-alarm-rate false
    alerts per hour of normal sound) and clears when at most --clear of the
    last N are; it is printed, logged (--log) and passed to --on-alert. A
    file that cannot be decoded is logged, gets an error row and is skipped.
    The state file (with --db, the store) keeps what was scored (how far
    into each file) and the alert, so a watch stopped (Ctrl-C, SIGTERM, a
    crash) and started again goes on where it was, no segment scored twice.

    \b
    Examples:
      audioad watch pump.audioad /var/recorder/pump --out pump-watch.csv --rule 3/5 --on-alert 'notify.sh'
      audioad watch pump.audioad /var/recorder/pump --growing --out pump-watch.csv
      arecord -q -f S16_LE -r 16000 -c 1 | audioad watch pump.audioad - --out pump-watch.csv
      audioad watch --list-devices
      audioad watch pump.audioad --device default --out pump-watch.csv
      audioad watch press.audioad /var/recorder/press3 --db plant.sqlite --name press3
    """
    import signal
    from contextlib import closing

    from ..audio import AudioInputError
    from ..outputs import OutputFileError, check_output, is_text
    from ..score_csv import (
        RowWriter,
        ScoreCSVError,
        check_written_by,
        is_table,
        model_fingerprint,
        model_sha256,
        sidecar_path,
    )
    from ..segments import parse_rule
    from ..sources import FolderSource, PipeSource, SoundCardSource
    from ..watch import WATCH_COLUMNS, AlertRule, Watcher, WatchState, log_to

    if out is None and db is None:
        raise click.UsageError("pass --out (a CSV), --db (a history store) or both")
    if state is not None and db is not None:
        raise click.UsageError("--state is for a watch without --db: with --db the store keeps the state")
    if (source is None) == (device is None):
        raise click.UsageError("pass one of SOURCE (a folder, or - for standard input) and --device (a sound card)")
    if growing and (source is None or source == "-"):
        raise click.UsageError("--growing is for a folder SOURCE")
    detector = load_model(model)
    try:
        verdict = parse_rule(rule)
        alert = AlertRule(verdict, clear)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--rule/--clear") from exc
    from ..detectors.segmented import training_length

    seconds = segment or training_length(detector)
    if not seconds:
        raise click.UsageError(f"{model} does not say how long its training clips were: pass --segment")
    step = hop or seconds
    state_path = Path(state) if state else Path(f"{out}.state.json")
    folder = card = history = None
    sha256 = model_sha256(model)
    fingerprint = model_fingerprint(model, sha256)
    try:
        inputs = [model] if source in (None, "-") else [model, source]
        if out is not None:
            check_output(out, "watch CSV", inputs, force=True, is_kind=lambda p: is_table(p, WATCH_COLUMNS))
            check_output(sidecar_path(out), "model sidecar", inputs, force=True)
            if Path(out).exists() and Path(out).stat().st_size:
                check_written_by(out, fingerprint)
        if db is None:
            check_output(state_path, "watch state", [*inputs, *([out] if out else [])], force=True)
        if log_file:
            outputs = [p for p in (out, None if db else state_path) if p]
            check_output(log_file, "watch log", [*inputs, *outputs], force=True, is_kind=is_text)
        if device is not None:
            card = SoundCardSource(detector.sr, device, channels, channel=channel)
        elif source != "-":
            folder = FolderSource(source, settle, growing=growing)
        saved = WatchState(state_path, model=sha256) if db is None else None
    except ScoreCSVError as exc:
        raise Refused(f"{exc}; watch into another --out, or move it away") from exc
    except (OutputFileError, ValueError, ImportError) as exc:
        listed = "audioad watch --list-devices lists them"
        raise Refused(str(exc).replace("input_devices() lists them", listed)) from exc
    # After the source is checked: a note on thresholds before "no such folder" would mislead.
    run = scoring_run(
        detector, [], seconds, step, threshold, false_alarm_rate, verdict, file_false_alarm_rate, calibrate
    )
    levels = run.levels
    level, alert_level = levels.segment, levels.alarm
    if db is not None:
        from ..monitor.recorder import SourceHistory
        from ..monitor.store import StoreError

        machine = name or (card.name if card else "stdin" if folder is None else Path(source).resolve().name)
        settings = dict(threshold=level, alert_threshold=alert_level, rule=str(verdict), segment=seconds, hop=step)
        try:
            history = SourceHistory.open(db, machine, model, **settings)
            saved = history.state()
        except (StoreError, ValueError) as exc:
            raise Refused(str(exc)) from exc
    alert = AlertRule(verdict, clear, saved.flags, saved.active)
    if log_file:
        log_to(log_file)

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    if card is not None:
        what = f"sound card {card.index} ({card.name}) at {card.rate} Hz"
    elif folder is not None:
        what = f"{source} ({'WAV files scored as they grow' if growing else 'files scored once complete'})"
    else:
        what = "standard input"
    when = "any segment is" if str(verdict) == "any" else f"{verdict} segments are"
    where = " and ".join(f for f in (out, history and f"{history.store.where} as {history.name}") if f)
    click.echo(
        f"watching {what}: {seconds:g} s segments every {step:g} s; "
        f"segment threshold {level:.3g}; alarm when {when} above {alert_level:.3g}; rows to {where}",
        err=True,
    )
    with ExitStack() as stack:
        rows = None
        if out is not None:
            rows = stack.enter_context(RowWriter(out, WATCH_COLUMNS, append=True, fingerprint=fingerprint))
        if history is not None:
            stack.callback(history.store.close)
        advice = {"silent": "where its channels cancel when mixed, --channel N scores channel N alone (0 the first)"}
        watcher = Watcher(
            detector, rows, saved, seconds, step, level, alert_level, alert, on_alert, click.echo, history, levels,
            channel=channel, advice=advice if channel is None else None,
        )  # fmt: skip
        written = (lambda: history.written) if history is not None else (lambda: rows.written)
        try:
            if card is not None:
                # Closed on the way out, Ctrl-C included: the card's stream is stopped and released.
                with closing(iter(card)) as blocks:
                    watcher.watch_stream(blocks, name=card.name)
            elif folder is None:
                pipe = PipeSource(
                    sys.stdin.buffer, detector.sr, pcm_format, rate, channels, channel=channel, name="standard input"
                )
                watcher.watch_stream(pipe, name="standard input")
            else:
                watcher.watch_folder(folder, poll=poll, idle_exit=idle_exit)
        except KeyboardInterrupt:
            pass
        except AudioInputError as exc:
            raise Failure(f"{exc}; {written()} rows written to {where}") from exc
    click.echo(f"stopped: {written()} rows written to {where}; state in {db or state_path}", err=True)
