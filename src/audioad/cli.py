"""The ``audioad`` command: fit, score, watch, history, dashboard, evaluate, plot, demo, info.

It calls the public API only; nothing below it knows a command line exists.

Guarantees:

- Outputs: no command writes over one of its inputs, an audio file, or an
  existing file of another kind, nor through a link or into a hard-linked
  file (every write goes through :mod:`audioad.outputs`); an existing output
  of the same kind is replaced only with ``--force`` (or, for ``score``,
  extended with ``--resume``). ``fit`` adds ``.audioad`` to an ``--out``
  without a suffix. Whole files are written beside their target and renamed
  over it once complete.
- Rows: ``score`` writes and flushes each clip's row as soon as it is scored
  (batches are sized to take about half a second, one clip for long
  recordings), so an interrupt keeps every row scored before it.
  ``--resume`` cuts off a torn last line, skips the clips already in the
  CSV, and refuses a CSV written by another model (named in the sidecar
  ``<out>.audioad-model``, see :mod:`audioad.score_csv`) or one it cannot read.
- Exit codes: 0 everything worked, 1 some inputs failed (the rest was done),
  2 a usage error (bad arguments, an output it must not write, an unreadable
  model file, dataset or CSV to resume), 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import csv
import difflib
import json
import sys
import time
import warnings
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path

import click

from . import __version__

# Only what every call needs is imported here: the registry names the detectors without importing
# them. Each command imports the rest (numpy, the detectors, datasets, persistence, plotting) when
# it runs, so `audioad --help` and `audioad info` answer at once.
from .detectors.registry import DETECTORS, make_detector

# Clips in one batch at most. Local batches are sized to take about _BATCH_SECONDS (one clip for long
# recordings): a batch's rows are known only when it is scored, and each then goes to the file at once.
_SCORE_BATCH = 32
_BATCH_SECONDS = 0.5

# How a verdict's advice offers calibration on the command line.
_CALIBRATE = "pass --calibrate normal.wav (a recording of normal running the model did not learn from)"


class Failure(click.ClickException):
    """A run that did its work but for some inputs: exit code 1."""

    exit_code = 1


class Refused(click.ClickException):
    """An output the run must not write, or a CSV it cannot resume: exit code 2, one line naming the file."""

    exit_code = 2


class Interrupted(click.ClickException):
    """Ctrl-C: exit code 130, as a shell reports a process stopped by SIGINT."""

    exit_code = 130

    def show(self, file=None):
        click.echo(self.message, err=True)


class _Commands(click.Group):
    """The command group, turning Ctrl-C anywhere in a command into :class:`Interrupted`."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise Interrupted("interrupted") from None


def _usage_error(exc):
    return click.UsageError(str(exc))


def collect_clips(inputs, training=False):
    """Audio files named by ``inputs``: :func:`audioad.collect.collect`, with its notice on stderr.

    From a manifest, training takes only clips not labelled anomalous and,
    when the manifest has splits, those of the train split.
    """
    from .collect import collect
    from .datasets import GroupWarning, ManifestWarning

    try:
        with warnings.catch_warnings(record=True) as caught:
            # Which clips share a recording matters to a train/test split, which fit and score do not make.
            warnings.simplefilter("ignore", GroupWarning)
            warnings.simplefilter("always", ManifestWarning)
            clips, collected = collect(inputs, training=training)
    # What collect raises for a folder without audio or a manifest it cannot read.
    except (FileNotFoundError, ValueError) as exc:
        raise click.UsageError(str(exc)) from exc
    for warning in caught:
        if issubclass(warning.category, ManifestWarning):
            click.echo(f"warning: {warning.message}", err=True)
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    if collected.notice():
        click.echo(collected.notice(), err=True)
    if not clips:
        raise click.UsageError("no clips given")
    return clips


def _unreadable(failed, total):
    """``3 of 120 files could not be read: a.wav (cause); ...``: the first few of ``failed``."""
    listed = "; ".join(f"{e.path} ({e.cause})" for e in failed[:3]) + (" ..." if len(failed) > 3 else "")
    return f"{len(failed)} of {total} files could not be read: {listed}"


@contextmanager
def notices():
    """Show a :class:`~audioad.segments.SegmentNotice` or a fit's :class:`~audioad.detectors.ensemble.CoverageWarning`
    as one ``note:`` line on stderr, a :class:`~audioad.domain.TrainingDataWarning` as one ``warning:`` line; other
    warnings as usual."""
    from .detectors.ensemble import CoverageWarning
    from .domain import TrainingDataWarning
    from .segments import SegmentNotice

    with warnings.catch_warnings():
        shown = warnings.showwarning

        def show(message, category, *args, **kwargs):
            if issubclass(category, SegmentNotice):
                # The library names the Python argument; here it is the option.
                click.echo(f"note: {str(message).replace('segment=', '--segment')}", err=True)
            elif issubclass(category, CoverageWarning):
                click.echo(f"note: {message}", err=True)
            elif issubclass(category, TrainingDataWarning):
                click.echo(f"warning: {message}; leave those clips out, or record them again", err=True)
            else:
                shown(message, category, *args, **kwargs)

        warnings.showwarning = show
        yield


def _duration(value, name):
    """A --segment or --hop value in seconds, or a usage error naming the option."""
    from .segments import parse_duration

    try:
        return None if value is None else parse_duration(value, name)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=name) from exc


def segment_options(function):
    """--segment and --hop, shared by fit, score and watch."""
    function = click.option(
        "--hop", metavar="DURATION", help="Time between segment starts (default: the segment length)."
    )(function)
    return click.option(
        "--segment",
        metavar="DURATION",
        help="Cut recordings into segments this long (10s, 2.5s, 1min) and score each: one row a segment.",
    )(function)


def threshold_options(function):
    """--threshold, --false-alarm-rate, --rule, --file-false-alarm-rate and --calibrate, shared by score and watch."""
    function = click.option(
        "--calibrate",
        multiple=True,
        metavar="NORMAL",
        help=(
            "Normal recordings the model did not learn from (repeatable): the thresholds are set from their "
            "segments' scores instead of the model's held-out training scores."
        ),
    )(function)
    function = click.option(
        "--file-false-alarm-rate",
        type=click.FloatRange(0, min_open=True),
        default=0.1,
        show_default=True,
        metavar="PER_HOUR",
        help="False file alarms allowed per hour of normal audio; sets the file threshold.",
    )(function)
    function = click.option(
        "--rule",
        default="any",
        show_default=True,
        metavar="any|K/N",
        help="A file is flagged when K of N consecutive segments are above the file threshold (any: 1/1).",
    )(function)
    function = click.option(
        "--false-alarm-rate",
        type=click.FloatRange(0, 1, min_open=True, max_open=True),
        metavar="RATE",
        help="Segment threshold: the score held-out normal audio exceeds at this share of its segments (0.01).",
    )(function)
    return click.option("--threshold", type=float, help="Segment threshold: label 1 above this score.")(function)


def _fit_on_readable(detector, clips, on_error, progress, segment=None, hop=None):
    """Fit ``detector`` on the clips that read; return the AudioInputError of each that does not.

    With ``on_error='skip'`` every header is read first (:func:`audioad.collect.header_errors`), so
    the bad files are set aside before anything is decoded and the rest are decoded once; a file
    whose samples fail past a good header is set aside when fit meets it, and fit starts again
    without it. With ``'raise'`` the first bad file stops the run.
    """
    from .audio import AudioInputError
    from .collect import header_errors

    failed = header_errors(clips) if on_error == "skip" else []
    bad = {e.index for e in failed}
    todo = [clip for i, clip in enumerate(clips) if i not in bad]
    if not todo:
        raise Failure(f"cannot fit: {_unreadable(failed, len(clips))}; name files or folders of recordings")
    while True:
        try:
            with notices():
                detector.fit(todo, progress=progress, segment=segment, hop=hop)
        except AudioInputError as exc:
            if on_error == "raise" or exc.path not in todo:
                raise Failure(f"cannot fit: {exc}") from exc
            failed.append(exc)
            todo.remove(exc.path)
        # fit's other ValueErrors are the data's (scikit-learn's contract; --set values are checked
        # before any clip is read): too few clips, clips too short for the detector. Like every
        # input that fails, exit 1 without a usage banner. Other types are bugs and keep their traceback.
        except ValueError as exc:
            unread = f"; {_unreadable(failed, len(clips))}" if failed else ""
            if segment is None and len(todo) < 3:
                unread += "; to learn from one or two recordings, cut them into segments: --segment 10s"
            raise Failure(f"cannot fit on these clips: {exc}{unread}") from exc
        else:
            order = {clip: i for i, clip in enumerate(clips)}
            return sorted(failed, key=lambda e: order.get(e.path, len(clips)))


def parse_settings(settings):
    """``key=value`` pairs; values are read as JSON where they parse (10, 0.5, true, [1, 2])."""
    params = {}
    for setting in settings:
        key, sep, value = setting.partition("=")
        if not sep or not key:
            raise click.UsageError(f"--set takes key=value, got {setting!r}")
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
    return params


def build_detector(name, settings):
    """The detector ``name`` with the ``--set`` parameters, checked before any clip is read.

    A key is a parameter as the detector's ``get_params(deep=True)`` names it: an ensemble's
    members' as ``member__param`` (``mel_knn_1__n_neighbors``, scikit-learn's nested names). On an
    ensemble (the default) a member's parameter without the member's name, ``--set n_mels=64``,
    sets it on every member that has it: the help's own example, and what one means by it, since
    the members share one front end (see :class:`~audioad.detectors.ensemble.Ensemble`). Settings
    apply in the order given, so ``--set n_mels=64 --set window_knn__n_mels=32`` ends with 32 for
    that member. A key the detector does not have is a usage error that lists the keys it has; a
    value it refuses is a usage error naming the parameter, from the ``check_parameters`` that
    ``fit`` runs first. Nothing is caught around making the detector: an error there is audioad's,
    not the user's, and keeps its traceback.
    """
    params = parse_settings(settings)
    detector = make_detector(name)
    unknown = []
    for key, value in params.items():
        try:
            detector.set_params(**{key: value})
        # What set_params raises for a name the detector does not have (scikit-learn's contract).
        except ValueError:
            unknown.append(key)
    if unknown:
        settable = _settable(detector)
        # A member's parameter is also set by its name alone: offer both spellings.
        names = sorted({part for key in settable if " " not in key for part in (key, key.rpartition("__")[2])})
        close = [difflib.get_close_matches(key, names, n=1) for key in unknown]
        hint = "; ".join(f"did you mean {match[0]}?" for match in close if match)
        raise click.UsageError(
            f"cannot make detector {name!r}: it has no parameter {', '.join(map(repr, unknown))}"
            + (f"; {hint}" if hint else "")
            + f"\nits parameters are: {', '.join(settable)}"
        )
    try:
        detector.check_parameters()
    # A value of the wrong kind or out of range; check_parameters names the parameter.
    except (ValueError, TypeError) as exc:
        raise click.UsageError(f"cannot make detector {name!r}: {exc}") from exc
    # A dependency the detector needs is missing (torch): one line, before any clip is read.
    except ImportError as exc:
        raise Refused(f"cannot make detector {name!r}: {exc}") from exc
    return detector


def _settable(detector):
    """The keys ``--set`` takes: the detector's deep parameters less those holding detectors."""
    from .detectors.ensemble import Ensemble

    def holds_estimator(value):
        items = value if isinstance(value, (list, tuple)) else [value]
        return any(hasattr(item, "get_params") for item in items)

    keys = sorted(k for k, v in detector.get_params(deep=True).items() if not holds_estimator(v))
    if isinstance(detector, Ensemble):
        keys.append("or a member's parameter without the member's name, set on every member that has it")
    return keys


def load_model(path):
    from .persistence import ModelFileError, load

    try:
        return load(path)
    except ModelFileError as exc:
        raise click.UsageError(str(exc)) from exc


def detector_option(function):
    function = click.option(
        "--detector",
        "detector_name",
        default="default",
        show_default=True,
        type=click.Choice(list(DETECTORS)),
        help="Which detector; `audioad info --detectors` lists them.",
    )(function)
    return click.option(
        "--set",
        "settings",
        multiple=True,
        metavar="KEY=VALUE",
        help=(
            "A detector parameter (repeatable), e.g. --set n_mels=64; an ensemble member's as "
            "MEMBER__KEY, e.g. --set frame_detector__top_fraction=0.2. A wrong KEY lists the valid ones."
        ),
    )(function)


def channel_option(function):
    """--channel, for fit and score: one channel of each file instead of their mix."""
    return click.option(
        "--channel",
        type=click.IntRange(0),
        metavar="N",
        help="Read channel N of each file alone (0 the first) instead of mixing the channels: for "
        "microphones whose channels cancel when mixed.",
    )(function)


def one_channel(clips, channel):
    """The clips as files read at ``channel`` alone (:class:`audioad.audio.OneChannel`); as they are without one."""
    from .audio import OneChannel

    return clips if channel is None else [OneChannel(clip, channel) for clip in clips]


def common_options(function):
    function = click.option(
        "--n-jobs", type=int, default=None, help="Threads for reading clips (default: every core)."
    )(function)
    return click.option("-q", "--quiet", is_flag=True, help="No progress bars.")(function)


def _with_jobs(detector, n_jobs):
    if n_jobs is not None:
        for name in detector.get_params():
            if name == "n_jobs" or name.endswith("__n_jobs"):
                detector.set_params(**{name: n_jobs})
    return detector


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="audioad")
def main():
    """Find anomalous machine sounds: learn what normal sounds like, then flag what does not.

    \b
    Start with `audioad demo`, then:
      audioad fit recordings/normal/ --out fan.audioad
      audioad score fan.audioad new/ --out scores.csv
      audioad plot fan.audioad new/clip_0042.wav --out clip.png
    """


@main.command()
@click.argument("train", nargs=-1, required=True)
@detector_option
@click.option("--out", "-o", required=True, type=click.Path(dir_okay=False), help="Model file to write (.audioad).")
@click.option("--force", is_flag=True, help="Replace --out if it is an existing model file.")
@click.option(
    "--on-error",
    type=click.Choice(["skip", "raise"]),
    default="skip",
    show_default=True,
    help="A clip that cannot be read: fit on the others and list every bad one, exit 1 (skip), or stop (raise).",
)
@click.option(
    "--window-false-alarm-rate",
    "window_rate",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    metavar="RATE",
    help="Window detectors: also set a window threshold, the score normal windows exceed at RATE (e.g. 0.01), "
    "measured on the last fifth of the clips by a copy fitted on the rest (one more fit).",
)
@segment_options
@channel_option
@common_options
def fit(train, detector_name, settings, out, force, on_error, window_rate, segment, hop, channel, n_jobs, quiet):
    """Fit a detector on recordings of normal operation and save it.

    TRAIN are audio files, folders (searched recursively) or manifest CSVs.
    A file that cannot be read is left out, and every one is listed at the
    end (exit 1); --on-error raise stops at the first instead.
    The model is never written over an input, an audio file or a file that
    is not a model file, nor over a model file without --force.
    With --segment, every recording is cut into segments and the model
    learns from the segments: one long recording of normal operation is
    enough. Recordings over a minute are cut into 10 s segments unasked.

    \b
    Examples:
      audioad fit data/fan/train --detector default --out fan.audioad
      audioad fit pump-monday.flac --segment 10s --hop 5s --out pump.audioad
    """
    from .outputs import OutputFileError, check_output
    from .persistence import is_model_file, save

    detector = _with_jobs(build_detector(detector_name, settings), n_jobs)
    segment, hop = _duration(segment, "--segment"), _duration(hop, "--hop")
    if hop is not None and segment is None:
        raise click.UsageError("--hop needs --segment")
    if window_rate is not None and not detector.scores_windows:
        raise click.UsageError(
            f"--window-false-alarm-rate: {detector_name} scores whole clips, it has no window scores"
        )
    if window_rate is not None and segment is not None:
        raise click.UsageError("--window-false-alarm-rate holds out whole clips; it does not combine with --segment")
    clips = one_channel(collect_clips(train, training=True), channel)
    out = Path(out)
    if not out.suffix:
        out = out.with_name(out.name + ".audioad")
    try:
        check_output(out, "model file", [*train, *clips], force=force, is_kind=is_model_file)
    except OutputFileError as exc:
        raise Refused(str(exc)) from exc
    started = time.perf_counter()
    failed = _fit_on_readable(detector, clips, on_error, not quiet, segment, hop)
    window = ""
    if window_rate is not None:
        from .window_threshold import held_out_window_threshold

        bad = {e.path for e in failed}
        try:
            threshold = held_out_window_threshold(detector, [c for c in clips if c not in bad], window_rate)
        except ValueError as exc:
            raise Failure(f"cannot set a window threshold: {exc}") from exc
        window = f"; window threshold {threshold:.4g} ({window_rate:g} of held-out normal windows above)"
    if not out.parent.exists():
        click.echo(f"note: made the folder {out.parent} for the model file", err=True)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    save(detector, out)
    from .folders import counted

    fitted_on = counted(len(clips) - len(failed), "clip")
    # What the threshold means, in the words of what was held out: a share of normal audio above it.
    pieces = "segments" if getattr(detector, "segment_seconds_", None) is not None else "clips"
    above = sum(detector.labels_) / max(len(detector.labels_), 1)
    tested = f"{above:.0%} of the normal {pieces} it was tested on score above it"
    if getattr(detector, "segment_seconds_", None) is not None:
        fitted_on = (
            f"{counted(len(clips) - len(failed), 'recording')} "
            f"({len(detector.decision_scores_)} segments of {detector.segment_seconds_:g} s)"
        )
    click.echo(
        f"fitted {detector_name} ({type(detector).__name__}) on {fitted_on} in "
        f"{time.perf_counter() - started:.1f} s; threshold {detector.threshold_:.4g} ({tested}){window}; saved {out}"
    )
    click.echo(_band(detector))
    if failed:
        raise Failure(f"{_unreadable(failed, len(clips))}; the model was fitted on the others")


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.argument("inputs", nargs=-1, required=True)
@click.option("--out", "-o", required=True, type=click.Path(dir_okay=False), help="CSV of clip scores to write.")
@click.option("--frames", type=click.Path(dir_okay=False), help="Also write every window's score (window detectors).")
@click.option("--resume", is_flag=True, help="Skip clips already in --out (scored by the same model) and append to it.")
@click.option("--force", is_flag=True, help="Replace --out (and --frames) if they are existing score CSVs.")
@click.option(
    "--explain",
    "explain_clips",
    is_flag=True,
    help="Add an explanation column: the bands that depart from normal, when, and by how many dB.",
)
@click.option(
    "--on-error",
    type=click.Choice(["nan", "skip", "raise"]),
    default="nan",
    show_default=True,
    help="A clip that cannot be read: a row with its error (nan), no row (skip), or stop there (raise).",
)
@click.option("--dask", "dask_address", metavar="ADDRESS", help="Score on a Dask cluster (scheduler address).")
@segment_options
@threshold_options
@channel_option
@common_options
def score(
    model, inputs, out, frames, resume, force, explain_clips, on_error, dask_address, segment, hop, threshold,
    false_alarm_rate, rule, file_false_alarm_rate, calibrate, channel, n_jobs, quiet,
):  # fmt: skip
    """Score clips with a fitted model, writing and flushing each row as soon as it is scored.

    INPUTS are audio files, folders (searched recursively) or manifest CSVs.
    Columns: path, score, label (1 above the model's threshold), peak_time
    (start of the highest-scoring window, in seconds, for window detectors),
    error (why a clip could not be scored), warning (how a clip is unlike
    the training clips: too short, silent, clipped, a lower sample rate, a
    far duration, another codec; it is still scored). A bad file does not
    stop the run. With --explain, an explanation column says which mel bands
    depart from the training clips' normal levels, when, and by how many dB
    (e.g. "+18 dB at 2.4-2.5 kHz, 0.78-1.33 s (95%)"; see audioad.explain).
    With --segment (or for a recording much longer than the training clips,
    which is cut at their length), each row is a segment, with its start and
    end in seconds; each file's summary (worst segment, segments and minutes
    above the threshold, verdict) is printed and written to OUT.files.csv.
    The label's threshold is the model's, or --threshold, or the score that
    held-out normal audio exceeds at --false-alarm-rate of its segments. A
    file is flagged by --rule over segments above a stricter file threshold,
    set for --file-false-alarm-rate false alarms per hour of normal audio.
    The model that wrote --out is named in OUT.audioad-model; --resume
    refuses a CSV written by another model. An existing --out is replaced
    only with --force, and never when it is an input or not a score CSV.

    \b
    Example:
      audioad score fan.audioad data/fan/test --out scores.csv --frames frames.csv
    """
    from .outputs import OutputFileError, check_output
    from .parallel import SchedulerAddressError, score_on_dask
    from .score_csv import (
        FRAME_COLUMNS,
        SCORE_COLUMNS,
        ScoreCSVError,
        done_paths,
        is_table,
        model_fingerprint,
        sidecar_path,
    )

    columns = SCORE_COLUMNS + ("explanation",) if explain_clips else SCORE_COLUMNS
    if resume and force:
        raise click.UsageError("--resume keeps --out and --force replaces it: pass one of them")
    detector = _with_jobs(load_model(model), n_jobs)
    segment, hop = _duration(segment, "--segment"), _duration(hop, "--hop")
    if frames and not detector.scores_windows:
        click.echo(
            f"warning: {type(detector).__name__} scores whole clips: {frames} gets a header and no window rows, "
            "and peak_time stays empty",
            err=True,
        )
    if hop is not None and segment is None:
        raise click.UsageError("--hop needs --segment")
    clips = one_channel(collect_clips(inputs), channel)
    read = [model, *inputs, *clips]
    normal = held_out_normal(detector, calibrate, segment, hop)
    detector.threshold_ = segment_threshold(detector, threshold, false_alarm_rate, normal)
    from .detectors.segmented import scoring_plan

    with notices():
        plan = scoring_plan(detector, clips, segment, hop)
    if any(how is not None for how in plan):
        whole_clip_only = (
            (frames, "--frames"),
            (dask_address, "--dask"),
            (explain_clips, "--explain"),
        )
        for flag, name in whole_clip_only:
            if flag:
                raise click.UsageError(f"{name} is for whole clips; it does not combine with segments (--segment)")
        _score_segments(
            detector, clips, plan, out, read, force, resume, on_error, rule, file_false_alarm_rate, model, quiet, normal
        )
        return
    try:
        check_output(out, "score CSV", read, force=force or resume, is_kind=lambda p: is_table(p, columns))
        check_output(sidecar_path(out), "model sidecar", read, force=True)
        if frames:
            if Path(frames).resolve() == Path(out).resolve():
                raise OutputFileError(f"{frames}: --frames and --out name the same file; choose another")
            check_output(
                frames, "window-score CSV", read, force=force or resume, is_kind=lambda p: is_table(p, FRAME_COLUMNS)
            )
        fingerprint = model_fingerprint(model)
        done = done_paths(out, fingerprint, columns) if resume and Path(out).exists() else set()
    except (OutputFileError, ScoreCSVError) as exc:
        raise Refused(str(exc)) from exc
    todo = [c for c in clips if c not in done]
    if dask_address:
        try:
            batches = score_on_dask(detector, todo, dask_address, batch_size=_SCORE_BATCH)
        except (ImportError, SchedulerAddressError, ConnectionError) as exc:
            raise click.UsageError(str(exc)) from exc
    else:
        batches = _timed_batches(detector, todo)
    if explain_clips:
        from .detectors.frontend import log_mel_part

        if log_mel_part(detector.frontend) is None:
            raise click.UsageError(f"--explain needs a log-mel detector; {type(detector).__name__} has no mel bands")
        batches = _explained(detector, batches)
    failures, warned, flagged = _write_scores(
        detector, batches, out, frames, resume, len(todo), quiet, on_error, fingerprint, columns
    )
    skipped = f", {len(done)} already in {out}" if done else ""
    scored = len(todo) - len(failures)
    click.echo(
        f"flagged {flagged} of {scored} clips scored ({flagged / max(scored, 1):.0%}): "
        f"score above the model's threshold {detector.threshold_:.4g}"
    )
    if warned:
        kinds = ", ".join(f"{n} {kind}" for kind, n in warned.items())
        click.echo(f"warning: clips unlike the training clips ({kinds}); the warning column says how", err=True)
        if "silent" in warned and channel is None:
            click.echo(
                "  where its channels cancel when mixed, --channel N scores channel N alone (0 the first)", err=True
            )
    if failures:
        listed = "; ".join(failures[:3]) + (" ..." if len(failures) > 3 else "")
        raise Failure(f"{len(failures)} of {len(todo)} files failed: {listed}")
    click.echo(f"scored {len(todo)} clips{skipped}; wrote {out}" + (f" and {frames}" if frames else ""))


def held_out_normal(detector, calibrate, segment=None, hop=None):
    """Scores of normal audio the model did not learn from: the --calibrate recordings' segments, else None.

    None stands for the model's own held-out training scores (``decision_scores_``).
    """
    if not calibrate:
        return None
    import numpy as np

    clips = collect_clips(calibrate)
    with notices():
        result = detector.score_segments(clips, segment=segment, hop=hop)
    scores = np.array([row.score for row in result.rows if not row.error and np.isfinite(row.score)])
    if len(scores) < 2:
        raise click.UsageError(f"--calibrate: {len(scores)} segment(s) of normal audio could be scored; pass more")
    click.echo(f"thresholds from {len(scores)} segments of {len(clips)} normal recording(s) (--calibrate)", err=True)
    return scores


def segment_threshold(detector, threshold, false_alarm_rate, normal=None):
    """The segment threshold: --threshold, the --false-alarm-rate quantile of held-out normal scores, or the model's."""
    from .thresholds import false_alarm_threshold

    if threshold is not None and false_alarm_rate is not None:
        raise click.UsageError("--threshold and --false-alarm-rate both set the threshold: pass one of them")
    if threshold is not None:
        return float(threshold)
    if false_alarm_rate is not None:
        return false_alarm_threshold(detector.decision_scores_ if normal is None else normal, false_alarm_rate)
    return float(detector.threshold_)


def calibrated_file_threshold(detector, plan, rule, per_hour, normal=None):
    """The :class:`~audioad.verdicts.Levels` for ``rule`` at ``per_hour`` false alarms (the alarm level is the file
    threshold), from held-out normal scores (or the model's); a note on stderr where the alarm level is a guess."""
    from .detectors.segmented import levels_for

    levels = levels_for(detector, plan, rule, per_hour, normal)
    if levels.note():
        click.echo(f"note: {levels.note()}; more normal audio at fit, or --calibrate, measures it", err=True)
    return levels


def _score_segments(detector, clips, plan, out, read, force, resume, on_error, rule, per_hour, model, quiet, normal):
    """``audioad score`` on segments: a row a segment as it is scored, and each file's summary once it is done.

    With ``resume``, files with a summary are skipped, and a file the last run stopped inside goes
    on after its last row, its earlier rows counted in its summary.
    """
    from .detectors.segmented import iter_segment_scores
    from .folders import counted
    from .outputs import OutputFileError, check_output
    from .score_csv import (
        FILE_COLUMNS,
        SEGMENT_COLUMNS,
        RowWriter,
        ScoreCSVError,
        files_path,
        is_table,
        model_fingerprint,
        segments_done,
        sidecar_path,
    )
    from .score_csv import csv_number as number
    from .segments import FileSummaries, parse_rule
    from .verdicts import file_verdict

    try:
        rule = parse_rule(rule)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--rule") from exc
    summary_out = files_path(out)
    fingerprint = model_fingerprint(model)
    try:
        check_output(out, "score CSV", read, force=force or resume, is_kind=lambda p: is_table(p, SEGMENT_COLUMNS))
        check_output(sidecar_path(out), "model sidecar", read, force=True)
        check_output(
            summary_out, "file summary CSV", read, force=force or resume, is_kind=lambda p: is_table(p, FILE_COLUMNS)
        )
        completed, partial = segments_done(out, fingerprint) if resume and Path(out).exists() else (set(), {})
    except (OutputFileError, ScoreCSVError) as exc:
        raise Refused(str(exc)) from exc
    todo = [i for i, clip in enumerate(clips) if str(clip) not in completed]
    clips, plan = [clips[i] for i in todo], [plan[i] for i in todo]
    earlier = {i: partial[str(clip)] for i, clip in enumerate(clips) if str(clip) in partial}
    skip = {i: sum(1 for row in rows if not row[3]) for i, rows in earlier.items()}
    if not clips:
        click.echo(f"nothing to score: the {len(completed)} files are already in {out}")
        return
    threshold = float(detector.threshold_)
    levels = calibrated_file_threshold(detector, plan, rule, per_hour, normal)
    level = levels.alarm
    summaries = FileSummaries(threshold, level, rule)
    failures, states, n_rows = [], {}, 0
    if completed and Path(summary_out).exists():
        # The verdicts of the files an earlier run finished count in this run's summary too.
        with open(summary_out, newline="") as f:
            for row in csv.DictReader(f):
                if row["path"] in completed:
                    states[row["verdict"]] = states.get(row["verdict"], 0) + 1

    with ExitStack() as stack:
        rows = stack.enter_context(RowWriter(out, SEGMENT_COLUMNS, append=resume, fingerprint=fingerprint))
        files = stack.enter_context(RowWriter(summary_out, FILE_COLUMNS, append=resume))

        def finished(done):
            for summary in done:
                verdict = file_verdict(summary, levels, _CALIBRATE)
                states[verdict.state] = states.get(verdict.state, 0) + 1
                click.echo(verdict.line(summary.path))
                files.write(
                    (
                        summary.path, summary.n_segments, summary.n_above, " ".join(map(str, summary.minutes)),
                        number(summary.worst_start), number(summary.worst_end), number(summary.worst_score),
                        verdict.state, number(summary.flagged_at),
                        repr(threshold), repr(level), str(rule), summary.error,
                    )
                )  # fmt: skip

        def resumed(clip):
            """The rows an earlier run wrote of ``clip``, into its summary before its new ones."""
            for start, end, value, error in earlier.pop(clip, ()):
                finished(summaries.add(clip, str(clips[clip]), start, end, value, error))

        batches = iter_segment_scores(detector, clips, plan=plan, threshold=threshold, skip=skip)
        stack.enter_context(closing(batches))
        try:
            for batch in batches:
                for row in batch:
                    resumed(row.clip)
                    if row.error:
                        failures.append(f"{row.path}: {row.error}")
                        if on_error == "raise":
                            raise Failure(f"{row.path}: {row.error}; the rows before it are in {out}")
                    if not row.error or on_error == "nan":
                        label = "" if row.label < 0 else row.label
                        rows.write(
                            (row.path, number(row.start), number(row.end), number(row.score), label, "", row.error,
                             row.warning)
                        )  # fmt: skip
                        n_rows += 1
                    finished(summaries.add(row.clip, row.path, row.start, row.end, row.score, row.error))
            for clip in sorted(earlier):
                resumed(clip)  # a file whose rows were all written, but not its summary
            finished(summaries.close())
        except KeyboardInterrupt:
            raise Interrupted(
                f"interrupted: {rows.written} rows written to {out}; rerun with --resume to score the rest"
            ) from None
    if failures:
        listed = "; ".join(failures[:3]) + (" ..." if len(failures) > 3 else "")
        raise Failure(f"{len(failures)} of {len(clips)} files failed: {listed}")
    skipped = f", {len(completed)} already in {out}" if completed else ""
    verdicts = ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
    verdicts = f"of all {len(completed) + len(clips)} files, {verdicts}" if completed else verdicts
    click.echo(
        f"scored {n_rows} segments of {counted(len(clips), 'file')}{skipped}: {verdicts} (alarm level {level:.3g}, "
        f"rule {rule}; segment threshold {threshold:.3g}); wrote {out} and {summary_out}"
    )


def _timed_batches(detector, clips):
    """``score_in_batches``'s (clips, ClipScores), each batch sized to take about ``_BATCH_SECONDS``.

    The first batch is one clip; each next one is sized from the last one's time, at most twice
    as large and at most ``_SCORE_BATCH``. Scores do not depend on the batches (the design's rule).
    """
    from .parallel import score_in_batches

    start, size = 0, 1
    while start < len(clips):
        batch = clips[start : start + size]
        began = time.perf_counter()
        with closing(score_in_batches(detector, batch, batch_size=len(batch))) as scored:
            yield from scored
        per_clip = max(time.perf_counter() - began, 1e-3) / len(batch)
        start += len(batch)
        size = max(1, min(_SCORE_BATCH, 2 * len(batch), int(_BATCH_SECONDS / per_clip)))


def _explained(detector, batches):
    """The (clips, ClipScores) of ``batches``, each with the explanation of each clip that scored.

    An explanation is a short line (:meth:`audioad.explain.Explanation.summary`); a clip that
    failed to score gets none.
    """
    from .explain import explain

    with closing(batches):
        for clips, result in batches:
            failed = {e.index for e in result.errors}
            good = [i for i in range(len(clips)) if i not in failed]
            summaries = dict(zip(good, (e.summary(2) for e in explain(detector, [clips[i] for i in good]))))
            yield clips, result, [summaries.get(i, "") for i in range(len(clips))]


def _write_scores(
    detector, batches, out, frames_out, append, total, quiet, on_error="nan", fingerprint=None, columns=None
):
    """Write each clip's row (and window rows) as soon as its batch is scored.

    Returns the failure messages, how many clips got each kind of out-of-domain warning
    (:func:`audioad.domain.count_warnings`), and how many clips scored above the threshold.

    Every row is flushed to the file as it is written, a clip's window rows before its score row.
    However it ends (done, a failure, Ctrl-C, a bug), the files are closed, the progress bar is
    closed, and ``batches`` is closed, which stops the scoring still under way.
    """
    import numpy as np
    from tqdm.auto import tqdm

    from .domain import count_warnings
    from .parallel import ClusterError
    from .score_csv import FRAME_COLUMNS, SCORE_COLUMNS, RowWriter

    failures, warnings, flagged = [], [], 0
    columns = columns or SCORE_COLUMNS
    explained = "explanation" in columns
    with ExitStack() as stack:
        stack.enter_context(closing(batches))
        rows = stack.enter_context(RowWriter(out, columns, append, fingerprint))
        windows = stack.enter_context(RowWriter(frames_out, FRAME_COLUMNS, append)) if frames_out else None
        bar = stack.enter_context(tqdm(total=total, unit="clip", disable=True if quiet else None))
        try:
            for clips, result, *explanations in batches:
                explanations = explanations[0] if explained else [""] * len(clips)
                errors = {e.index: e.cause for e in result.errors}
                for i, clip in enumerate(clips):
                    if i in errors:
                        failures.append(f"{clip}: {errors[i]}")
                        if on_error == "raise":
                            raise Failure(f"{clip}: {errors[i]}; the rows before it are in {out}")
                        if on_error == "nan":
                            rows.write((clip, "", "", "", str(errors[i]), "", "")[: len(columns)])
                        bar.update(1)
                        continue
                    peak = ""
                    if result.frames is not None:
                        times, window_scores = result.frames[i]
                        peak = f"{times[np.argmax(window_scores)]:.3f}"
                        if windows:
                            windows.write_many((clip, f"{t:.3f}", repr(float(v))) for t, v in zip(times, window_scores))
                    value = float(result.scores[i])
                    warnings.append(result.warnings[i])
                    row = (clip, repr(value), int(value > detector.threshold_), peak, "", "; ".join(warnings[-1]))
                    flagged += row[2]
                    rows.write(row + ((explanations[i],) if explained else ()))
                    bar.update(1)
        except KeyboardInterrupt:
            raise Interrupted(
                f"interrupted: {rows.written} rows written to {out}; rerun with --resume to score the rest"
            ) from None
        except ClusterError as exc:
            # The cluster lost a batch (dead workers, a dropped link): not audioad's fault, and a rerun may go through.
            raise click.ClickException(f"{exc}; the rows written so far are in {out}: rerun with --resume") from exc
    return failures, count_warnings(warnings), flagged


@main.command()
@click.argument("dataset", type=click.Path(exists=True))
@detector_option
@click.option("--out", "-o", type=click.Path(file_okay=False), help="Folder for result CSVs and plots.")
@click.option(
    "--year", type=click.IntRange(2020, 2025), help="DCASE year of the official score (default: from the data)."
)
@click.option(
    "--train-on",
    type=click.Choice(["earlier", "later"]),
    default="earlier",
    show_default=True,
    help="Data without a split: train on the earlier half of the normal recordings in recording order "
    "(test on the later half and every anomaly), or the reverse.",
)
@click.option("--force", is_flag=True, help="Replace the result files of an earlier run in --out (and --report).")
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False),
    help="Also write an HTML report of the evaluation (as audioad report; 2 clips a section shown in full).",
)
@common_options
def evaluate(dataset, detector_name, settings, out, year, train_on, force, report_path, n_jobs, quiet):
    """Fit per machine and section on the train split, score the test split, report AUC and pAUC.

    DATASET is a DCASE 2020-2025 dev/eval folder, a MIMII folder, a folder of
    normal/ and anomaly/ folders, or a manifest CSV. Data without a split is
    split in time: the normal recordings (a manifest's group, else each clip)
    in recording order (numbers in names compared as numbers) are cut in two
    contiguous blocks, the earlier trains, the later and every anomaly test;
    test clips identical to a training clip are dropped. The split made is
    printed.
    With --out: DCASE result files (anomaly_score_*.csv, decision_result_*.csv),
    an ROC curve and a score histogram per machine, and results.csv. Result
    files already in --out are replaced only with --force, and never when
    one is the DATASET manifest. It prints the detector, its parameters and
    each section's training clips, the AUC and pAUC table, and per section
    and condition the false-alarm and detection rates at the model's threshold.

    \b
    Example:
      audioad evaluate dcase2023/dev_data --out results/ --report evaluation.html
    """
    import numpy as np

    from .datasets import GroupWarning, ManifestWarning, read_dataset, section_name, write_dcase_results
    from .evaluation import CONDITION_COLUMNS
    from .evaluation import evaluate as run_evaluation
    from .metrics import format_table
    from .plotting import plot_roc, plot_score_histogram, save_figure

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", GroupWarning)
            warnings.simplefilter("always", ManifestWarning)
            table = read_dataset(dataset)
    # What read_dataset raises for a folder or manifest it cannot read (no layout, missing files, bad rows).
    except (FileNotFoundError, ValueError) as exc:
        raise _usage_error(exc) from exc
    for warning in caught:
        if issubclass(warning.category, (GroupWarning, ManifestWarning)):
            click.echo(f"warning: {warning.message}", err=True)
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    # DCASE's evaluators match clips by base name; elsewhere base names repeat (M1/1850.wav, M2/1850.wav).
    dcase = table.layout in ("dcase2020", "dcase2021", "dcase2022")
    names_root = None if dcase else (Path(dataset).parent if Path(dataset).is_file() else Path(dataset))
    build_detector(detector_name, settings)  # fail on bad settings before any fitting
    out_dir = Path(out) if out else None
    if out_dir is not None:
        from .outputs import OutputFileError, atomic_path, check_output, csv_cell, safe_component

        # What an earlier run left there: checked before any fitting, as fit and score check --out.
        written = ("results.csv", "anomaly_score_*.csv", "decision_result_*.csv", "roc_*.png", "histogram_*.png")
        existing = sorted({p for pattern in written for p in out_dir.glob(pattern)}) if out_dir.is_dir() else []
        try:
            for path in existing or [out_dir / "results.csv"]:
                check_output(path, "evaluation result", [dataset], force=force)
        except OutputFileError as exc:
            raise Refused(str(exc)) from exc

    collected = None
    if report_path is not None:
        from .outputs import OutputFileError, check_output
        from .report import SectionDetails

        try:
            check_output(report_path, "HTML report", [dataset], force=force, is_kind=_is_html)
        except OutputFileError as exc:
            raise Refused(str(exc)) from exc
        collected = SectionDetails(top=2)

    def write_section(machine, section, detector, test, scores):
        if collected is not None:
            collected.add(machine, section, detector, test, scores)
        if out_dir is not None:
            write_dcase_results(
                out_dir,
                machine,
                section,
                test.paths,
                scores,
                (scores > detector.threshold_).astype(int),
                root=None if names_root is None else names_root.resolve(),
            )

    try:
        result = run_evaluation(
            table,
            lambda: _with_jobs(build_detector(detector_name, settings), n_jobs),
            year=year,
            train_on=train_on,
            progress=not quiet,
            on_section=write_section,
        )
    # As around fit: a section without training or labelled test clips, a --set value out of range.
    except ValueError as exc:
        raise _usage_error(exc) from exc
    click.echo(_trained(detector_name, settings, result.training, result.thresholds))
    for (machine, section), said in result.splits.items():
        click.echo(f"  {section_name(machine, section)}: {said}")
    click.echo(format_table(result.sections))
    click.echo("  ".join(f"{k}: {v:.3f}" for k, v in result.summary().items()))
    click.echo("\nAt each section model's threshold (false alarms: normal clips above it; detections: anomalous ones):")
    click.echo(format_table(result.conditions(), columns=CONDITION_COLUMNS))
    if report_path is not None:
        from .report import describe_detector, evaluation_report, write_report

        described = describe_detector(build_detector(detector_name, settings))
        page = evaluation_report(
            result,
            collected=collected,
            title=f"audioad evaluation of {Path(dataset).name}",
            about=[
                ("Detector", f"{detector_name}: {described}"),
                ("Data set", str(dataset)),
                *((f"Split of {section_name(*key)}", said) for key, said in result.splits.items()),
            ],
        )
        write_report(page, report_path)
        click.echo(f"wrote {report_path}")
    if out_dir is not None:
        # Each report is written beside its target and renamed over it once complete.
        with atomic_path(out_dir / "results.csv") as part, open(part, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(result.results[0]))
            writer.writeheader()
            writer.writerows({key: csv_cell(value) for key, value in row.items()} for row in result.results)
        for machine in sorted({r["machine"] for r in result.results}):
            rows = [r for r in result.results if r["machine"] == machine]
            labels = np.array([r["label"] == "anomaly" for r in rows], dtype=int)
            scores = np.array([r["score"] for r in rows])
            # A machine's name comes from the data: one file name in --out, whatever it holds.
            name = safe_component(machine)
            save_figure(plot_roc(labels, scores, label=machine), out_dir / f"roc_{name}.png")
            # One section, one model: its threshold is the histogram's; sections' thresholds differ.
            sections = {key: value for key, value in result.thresholds.items() if key[0] == machine}
            threshold = next(iter(sections.values())) if len(sections) == 1 else None
            save_figure(plot_score_histogram(scores, labels, threshold), out_dir / f"histogram_{name}.png")
        click.echo(f"wrote DCASE result files, results.csv, ROC curves and histograms to {out_dir}")


def _list_input_devices(ctx, param, value):
    """--list-devices: the sound cards with an input, then exit."""
    if not value or ctx.resilient_parsing:
        return
    from .sources import input_devices

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
    default="s16le",
    show_default=True,
    help="What comes on standard input (SOURCE -): raw little-endian PCM, or WAV.",
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
def watch(
    model, source, out, db, name, state, on_alert, clear, log_file, pcm_format, rate, channels, settle, growing, device,
    poll, idle_exit, segment, hop, threshold, false_alarm_rate, rule, file_false_alarm_rate, calibrate,
):  # fmt: skip
    """Watch a machine: score each segment as it is recorded; alert when K of N are above the alert threshold.

    SOURCE is a folder a recorder writes files into, or - for standard input
    (raw PCM per --format/--rate/--channels, or a WAV stream); --device
    records a sound card instead (pip install 'audioad[soundcard]';
    --list-devices lists them). A file in the folder is scored once complete:
    its size unchanged for --settle seconds. With --growing, a WAV file (PCM
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

    from .audio import AudioInputError
    from .outputs import OutputFileError, check_output, is_text
    from .score_csv import RowWriter, is_table, model_fingerprint, sidecar_path
    from .segments import parse_rule
    from .sources import FolderSource, PipeSource, SoundCardSource
    from .watch import WATCH_COLUMNS, AlertRule, Watcher, WatchState, log_to

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
    from .detectors.segmented import training_length

    seconds = _duration(segment, "--segment") or training_length(detector)
    if not seconds:
        raise click.UsageError(f"{model} does not say how long its training clips were: pass --segment")
    step = _duration(hop, "--hop") or seconds
    state_path = Path(state) if state else Path(f"{out}.state.json")
    folder = card = history = None
    fingerprint = model_fingerprint(model)
    try:
        inputs = [model] if source in (None, "-") else [model, source]
        if out is not None:
            check_output(out, "watch CSV", inputs, force=True, is_kind=lambda p: is_table(p, WATCH_COLUMNS))
            check_output(sidecar_path(out), "model sidecar", inputs, force=True)
        if db is None:
            check_output(state_path, "watch state", [*inputs, *([out] if out else [])], force=True)
        if log_file:
            outputs = [p for p in (out, None if db else state_path) if p]
            check_output(log_file, "watch log", [*inputs, *outputs], force=True, is_kind=is_text)
        if device is not None:
            card = SoundCardSource(detector.sr, device, channels)
        elif source != "-":
            # In a store, rows name their files absolutely: the dashboard, run elsewhere, cuts their sound.
            folder = FolderSource(source if db is None else Path(source).resolve(), settle, growing=growing)
        saved = WatchState(state_path) if db is None else None
    except (OutputFileError, ValueError, ImportError) as exc:
        raise Refused(str(exc)) from exc
    # After the source is checked: a note on thresholds before "no such folder" would mislead.
    normal = held_out_normal(detector, calibrate, seconds, step)
    level = segment_threshold(detector, threshold, false_alarm_rate, normal)
    detector.threshold_ = level
    levels = calibrated_file_threshold(detector, [(seconds, step)], verdict, file_false_alarm_rate, normal)
    alert_level = levels.alarm
    if db is not None:
        from .monitor.recorder import SourceHistory
        from .monitor.store import StoreError

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
        watcher = Watcher(
            detector, rows, saved, seconds, step, level, alert_level, alert, on_alert, click.echo, history, levels
        )
        written = (lambda: history.written) if history is not None else (lambda: rows.written)
        try:
            if card is not None:
                # Closed on the way out, Ctrl-C included: the card's stream is stopped and released.
                with closing(iter(card)) as blocks:
                    watcher.watch_stream(blocks, name=card.name)
            elif folder is None:
                watcher.watch_stream(
                    PipeSource(sys.stdin.buffer, detector.sr, pcm_format, rate, channels), name="standard input"
                )
            else:
                watcher.watch_folder(folder, poll=poll, idle_exit=idle_exit)
        except KeyboardInterrupt:
            pass
        except AudioInputError as exc:
            raise Failure(f"{exc}; {written()} rows written to {where}") from exc
    click.echo(f"stopped: {written()} rows written to {where}; state in {db or state_path}", err=True)


def _check_store_exists(store):
    # Reading must not make an empty store where a name was mistyped.
    if not store.startswith(("postgresql://", "postgres://")) and not Path(store).is_file():
        raise Refused(f"{store}: no such history store")


@main.command()
@click.argument("store", metavar="STORE")
@click.option("--source", help="Only this machine (its --name in audioad watch).")
@click.option("--since", metavar="DURATION", help="Only segments scored this long ago or later: 30min, 12h, 7d, 2w.")
@click.option("--csv", "as_csv", is_flag=True, help="Write the segments as CSV instead of a summary a machine.")
@click.option("--out", "-o", type=click.Path(dir_okay=False), help="Write the CSV to this file (default: stdout).")
def history(store, source, since, as_csv, out):
    """What the watches wrote into a history store (a SQLite file or postgresql://...).

    \b
    Examples:
      audioad history plant.sqlite
      audioad history plant.sqlite --source press3 --since 7d --csv > press3-week.csv
    """
    from .monitor.backends import open_store
    from .monitor.export import summary_lines, write_csv
    from .monitor.store import StoreError
    from .segments import parse_duration

    if not (as_csv or out is None):
        raise click.UsageError("--out is for --csv")
    try:
        start = None if since is None else time.time() - parse_duration(since, "--since")
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from exc
    _check_store_exists(store)
    try:
        with open_store(store) as opened:
            if not as_csv:
                lines = summary_lines(opened, source, start)
                click.echo("\n".join(lines) or f"{store}: no machine{'' if source is None else ' ' + source}")
            elif out is None:
                write_csv(opened, sys.stdout, source, start)
            else:
                with open(out, "w", newline="", encoding="utf-8") as f:
                    n = write_csv(opened, f, source, start)
                click.echo(f"wrote {n} rows to {out}", err=True)
    except StoreError as exc:
        raise Refused(str(exc)) from exc


@main.command()
@click.argument("store", metavar="STORE")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every network).")
@click.option("--port", type=click.IntRange(0, 65535), default=8050, show_default=True, help="Port (0: a free one).")
@click.option("--allow-ack", is_flag=True, help="Let the page acknowledge alerts with a note (read-only otherwise).")
def dashboard(store, host, port, allow_ack):
    """Serve a live page of a history store: each machine's state and scores, the alerts, their sound.

    STORE is what audioad watch --db wrote into: a SQLite file or
    postgresql://...; /metrics gives Prometheus metrics. Needs
    pip install 'audioad[dashboard]'.

    \b
    Examples:
      audioad dashboard plant.sqlite
      audioad dashboard plant.sqlite --allow-ack --port 8080
    """
    import signal

    try:
        import prometheus_client  # noqa: F401
    except ImportError:
        raise Refused("audioad dashboard needs prometheus_client: pip install 'audioad[dashboard]'") from None
    from .monitor.backends import open_store
    from .monitor.dashboard import make_server, serve
    from .monitor.store import StoreError

    _check_store_exists(store)
    try:
        opened = open_store(store)
    except StoreError as exc:
        raise Refused(str(exc)) from exc
    with closing(opened):
        try:
            server = make_server(opened, host, port, allow_ack)
        except OSError as exc:
            raise Refused(f"cannot listen on {host}:{port} ({exc.strerror})") from exc

        def stop(signum, frame):
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)
        shown = f"[{host}]" if ":" in host else host
        mode = "acknowledging allowed" if allow_ack else "read-only"
        click.echo(f"serving {store} on http://{shown}:{server.server_port}/ ({mode}); Ctrl-C stops", err=True)
        serve(server)


def _trained(detector_name, settings, training, thresholds):
    """What evaluate fitted: the detector, its parameters, and the clips each section's model learned from."""
    import os

    from .datasets import section_name
    from .report import describe_detector

    lines = [f"detector: {detector_name}: {describe_detector(build_detector(detector_name, settings))}"]
    for (machine, section), paths in sorted(training.items(), key=lambda item: tuple(map(str, item[0]))):
        where = os.path.commonpath([os.path.dirname(os.path.abspath(p)) for p in paths]) if paths else "-"
        lines.append(
            f"  {section_name(machine, section)}: fitted on {len(paths)} normal clips in {where}; "
            f"threshold {thresholds[(machine, section)]:.4g}"
        )
    return "\n".join(lines)


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.argument("clip")
@click.option("--out", "-o", required=True, type=click.Path(dir_okay=False), help="Image to write (.png, .pdf, .svg).")
@click.option("--force", is_flag=True, help="Replace --out if it is an existing image.")
@segment_options
@threshold_options
def plot(model, clip, out, force, segment, hop, threshold, false_alarm_rate, rule, file_false_alarm_rate, calibrate):
    """Draw a clip's log-mel spectrogram with its window scores and the threshold beneath it.

    A recording much longer than the training clips (three times), or any
    with --segment, is drawn as a long recording: on top, the score of each
    segment over the whole recording, with the segment and file thresholds
    that audioad score sets from the same options; beneath, the minute
    around the worst segment in detail, read alone from the file. It costs
    the memory of scoring the file, whatever its length. An existing --out
    is replaced only with --force, and never when it is the model, the
    clip, a link or not an image.

    \b
    Examples:
      audioad plot fan.audioad data/fan/test/clip_0042.wav --out clip.png
      audioad plot motor.audioad motor-3h.flac --out motor-3h.png
    """
    from .audio import AudioInputError
    from .detectors.segmented import describe, scoring_plan
    from .outputs import OutputFileError, check_output
    from .plotting import plot_clip, plot_recording
    from .segments import parse_rule

    try:
        check_output(out, "figure", [model, clip], force=force, is_kind=_is_figure)
    except OutputFileError as exc:
        raise Refused(str(exc)) from exc
    detector = load_model(model)
    seconds, step = _duration(segment, "--segment"), _duration(hop, "--hop")
    if step is not None and seconds is None:
        raise click.UsageError("--hop needs --segment")
    with notices():
        [how] = scoring_plan(detector, [clip], seconds, step)
    if how is None:
        context = click.get_current_context()
        given = [
            f"--{name.replace('_', '-')}"
            for name in ("threshold", "false_alarm_rate", "rule", "file_false_alarm_rate", "calibrate")
            if context.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE
        ]
        if given:
            raise click.UsageError(f"{', '.join(given)}: for a long recording; pass --segment to draw one")
        try:
            plot_clip(detector, clip, path=out)
        except AudioInputError as exc:
            raise Failure(str(exc)) from exc
        click.echo(f"wrote {out}")
        return
    try:
        verdict = parse_rule(rule)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--rule") from exc
    seconds, step = how
    normal = held_out_normal(detector, calibrate, seconds, step)
    level = segment_threshold(detector, threshold, false_alarm_rate, normal)
    detector.threshold_ = level
    levels = calibrated_file_threshold(detector, [how], verdict, file_false_alarm_rate, normal)
    file_level = levels.alarm
    try:
        result = detector.score_segments([clip], seconds, step, level, file_level, verdict, normal=normal)
        plot_recording(detector, clip, seconds, step, level, file_level, rule=verdict, scores=result, path=out)
    except AudioInputError as exc:
        raise Failure(str(exc)) from exc
    click.echo(
        f"wrote {out}: the recording view ({seconds:g} s segments over time, the worst minute in detail); "
        + describe(result.files[0], levels, _CALIBRATE)
    )


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.argument("inputs", nargs=-1, required=True)
@click.option("--out", "-o", required=True, type=click.Path(dir_okay=False), help="HTML file to write.")
@click.option("--top", type=click.IntRange(0), default=5, show_default=True, help="Clips shown in full.")
@click.option("--title", help="Title of the page (default: the detector and the number of clips).")
@click.option("--force", is_flag=True, help="Replace --out if it is an existing HTML file.")
@common_options
def report(model, inputs, out, top, title, force, n_jobs, quiet):
    """Score clips and write one HTML report that opens in any browser, offline.

    INPUTS are audio files, folders (searched recursively) or manifest CSVs, or
    one score CSV that MODEL wrote (audioad score): its scores are reported as
    they are, and only the clips shown in full are read again. Where
    an input is a data set audioad can read (DCASE, MIMII, normal/ and anomaly/
    folders, a manifest), its labels, sections and conditions (domains) give
    false-alarm and detection rates, AUC and pAUC, per section and condition, and
    the ROC curve. The page holds a summary, the score histogram with the
    threshold, a table of every clip that sorts by a click on any column, and for
    the --top highest-scoring clips their spectrogram beside the normal reference,
    deviation map, explanation and sound (at most 10 s, around the worst moment).
    Everything is inside the one file: images and sound as base64, no network.

    \b
    Example:
      audioad report fan.audioad data/fan/test --out fan-report.html
    """
    import os

    from .outputs import OutputFileError, check_output
    from .report import build_report, report_from_scores, write_report
    from .score_csv import SCORE_COLUMNS, is_table, read_rows

    detector = _with_jobs(load_model(model), n_jobs)
    scores_csv = len(inputs) == 1 and any(
        is_table(inputs[0], c) for c in (SCORE_COLUMNS, (*SCORE_COLUMNS, "explanation"))
    )
    if scores_csv and Path(inputs[0]).stat().st_size:
        try:
            check_output(out, "HTML report", [model, inputs[0]], force=force, is_kind=_is_html)
        except OutputFileError as exc:
            raise Refused(str(exc)) from exc
        paths = [row["path"] for row in read_rows(inputs[0])]
        known = _clip_infos([os.path.commonpath([os.path.dirname(os.path.abspath(p)) for p in paths])] if paths else [])
        table = [known.get(str(Path(p).resolve())) for p in paths]
        if not any(info is not None and info.label is not None for info in table):
            table = None
        about = [("Model file", model), ("Band", _band(detector))]
        page = report_from_scores(detector, inputs[0], table=table, title=title, top=top, about=about)
        write_report(page, out)
        click.echo(
            f"wrote {out}: {len(paths)} clips from {inputs[0]}, the {min(top, len(paths))} highest-scoring in full"
        )
        return
    clips = collect_clips(inputs)
    try:
        check_output(out, "HTML report", [model, *inputs, *clips], force=force, is_kind=_is_html)
    except OutputFileError as exc:
        raise Refused(str(exc)) from exc
    known = _clip_infos(inputs)
    table = [known.get(str(Path(c).resolve())) for c in clips]
    if not any(info is not None and info.label is not None for info in table):
        table = None
    page = build_report(
        detector,
        clips,
        table=table,
        title=title,
        top=top,
        about=[("Model file", str(model)), ("Band", _band(detector))],
        progress=not quiet,
    )
    write_report(page, out)
    click.echo(f"wrote {out}: {len(clips)} clips, the {min(top, len(clips))} highest-scoring shown in full")


def _is_figure(path):
    """Whether ``path`` is empty or a PNG, PDF or SVG image: a file ``audioad plot`` may replace."""
    with open(path, "rb") as f:
        start = f.read(64).lstrip()
    return not start or start.startswith((b"\x89PNG", b"%PDF", b"<?xml", b"<svg", b"\xff\xd8\xff", b"%!PS"))


def _band(detector):
    """``the model hears 0-8 kHz of 48 kHz recordings; ...``, with the option that hears the rest."""
    from .domain import band_heard

    rates = (getattr(detector, "training_audio_", None) or {}).get("rates", [])
    band = f"the model {band_heard(detector.sr, rates)}"
    return band + (f" (--set sr={max(rates)} hears it all)" if "left out" in band else "")


def _is_html(path):
    """Whether ``path`` is empty or an HTML page: a file ``audioad report`` may replace."""
    with open(path, "rb") as f:
        start = f.read(64).lstrip().lower()
    return not start or start.startswith((b"<!doctype html", b"<html"))


def _clip_infos(inputs):
    """What the data sets among ``inputs`` say of their clips (label, section, domain), by resolved path."""
    from .datasets import GroupWarning, read_dataset

    known = {}
    for item in inputs:
        if not (Path(item).is_dir() or str(item).lower().endswith(".csv")):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", GroupWarning)
                table = read_dataset(item)
        # Not a layout audioad knows: its clips are reported without labels.
        except (FileNotFoundError, ValueError):
            continue
        known.update((str(Path(info.path).resolve()), info) for info in table)
    return known


@main.command()
@click.option("--out", "-o", default="audioad-demo", show_default=True, type=click.Path(file_okay=False))
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
def demo(out, quiet):
    """Run audioad end to end on a synthetic DCASE-style machine set.

    Generates the set, fits the default detector, scores and explains,
    evaluates, plots, writes an HTML report, and says where everything is.
    """
    from .datasets import make_machine_sounds

    out = Path(out)
    click.echo(f"1/6 generating synthetic machine sounds in {out / 'data'}")
    table = make_machine_sounds(out / "data", random_state=0)
    machine, section = table.machines[0], table.sections[0]
    # One model per machine and section, as DCASE fits them.
    clips = table.filter(machine=machine, section=section)
    train, test = clips.filter(split="train").paths, clips.filter(split="test").paths
    model = out / f"{machine}_section_{section}.audioad"
    quiet_flag = ["-q"] if quiet else []
    steps = [
        (
            f"2/6 fitting the default detector on {machine} section {section}",
            ["fit", *train, "--out", str(model), "--force", *quiet_flag],
        ),
        (
            "3/6 scoring its test clips, each with what departs from normal",
            ["score", str(model), *test, "--out", str(out / "scores.csv"), "--explain", "--force", *quiet_flag],
        ),
        (
            "4/6 evaluating every machine and section",
            ["evaluate", str(out / "data"), "--out", str(out / "evaluation"), "--force", *quiet_flag],
        ),
    ]
    for title, args in steps:
        click.echo(title)
        main.main(args, standalone_mode=False)
    from .score_csv import read_rows

    rows = [r for r in read_rows(out / "scores.csv") if "anomaly" in Path(r["path"]).name]
    loudest = max(rows, key=lambda r: float(r["score"]))["path"]
    click.echo("5/6 plotting the highest-scoring anomalous clip")
    main.main(["plot", str(model), loudest, "--out", str(out / "clip.png"), "--force"], standalone_mode=False)
    click.echo("6/6 writing the report of the scores (open it in a browser)")
    report_args = ["report", str(model), str(out / "scores.csv"), "--out", str(out / "report.html"), "--force"]
    main.main([*report_args, *quiet_flag], standalone_mode=False)
    click.echo(
        f"\ndone. In {out}/: data/ (the clips), {model.name} (the model), scores.csv, "
        "evaluation/ (DCASE result files, ROC curves, histograms), clip.png, report.html"
    )


@main.command()
@click.argument("model", type=click.Path(dir_okay=False), required=False)
@click.option("--detectors", "list_detectors", is_flag=True, help="List the detectors by name.")
def info(model, list_detectors):
    """Describe a model file: detector, parameters, training summary, threshold, versions.

    An ensemble's members are listed each with its parameters, under the name that
    --set takes (--set mel_knn_1__n_neighbors=3).

    \b
    Example:
      audioad info fan.audioad
    """
    if list_detectors or model is None:
        width = max(map(len, DETECTORS))
        for name, (_, about) in DETECTORS.items():
            click.echo(f"{name:<{width}}  {about}")
        return
    from .detectors.registry import member_names
    from .persistence import ModelFileError, read_header
    from .outputs import one_line

    try:
        header = read_header(model)
    except ModelFileError as exc:
        raise _usage_error(exc) from exc

    def echo(line):
        # Everything shown comes from the file: its control characters are escaped, never sent to the terminal.
        click.echo(one_line(line))

    training = header["training"]
    echo(f"model file      {model}")
    echo(f"detector        {header['detector']}")
    echo(
        f"written by      audioad {header['audioad_version']} (format {header['format_version']}), {header['created']}"
    )
    echo(f"training clips  {training['n_clips']}, scores {training['score_mean']:.4g} ± {training['score_std']:.4g}")
    echo(f"threshold       {training['threshold']:.6g}")
    if "band" in training:
        echo(f"band            {training['band']}")
    echo("parameters")
    members, nested = {}, {}
    for key, value in sorted(header["params"].items()):
        # read_header gives a stored detector or estimator as a dict with its class and parameters.
        if isinstance(value, list) and value and all(_is_stored_class(v) for v in value):
            members[key] = value
        elif _is_stored_class(value):
            nested[key] = value
        else:
            echo(f"  {key} = {json.dumps(value)}")

    def show(name, detector, indent):
        echo(f"{indent}{name}  {detector['class']}")
        for param, value in sorted(detector.items()):
            if param == "class":
                continue
            if _is_stored_class(value):
                show(param, value, indent + "  ")
            else:
                echo(f"{indent}  {param} = {json.dumps(value)}")

    for key, detectors in members.items():
        names = member_names([d["class"] for d in detectors])
        echo(f"{key} (--set NAME__KEY=VALUE sets one member's)")
        for member_name, member in zip(names, detectors):
            show(member_name, member, "  ")
    for key, detector in nested.items():
        show(f"{key} (--set {key}__KEY=VALUE)", detector, "")


def _is_stored_class(value):
    """Whether a value of read_header's params is a stored detector or estimator: its class and parameters."""
    return isinstance(value, dict) and isinstance(value.get("class"), str)


if __name__ == "__main__":
    sys.exit(main())
