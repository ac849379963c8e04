"""``audioad fit``: learn from recordings of normal running and save the model."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import click

from .errors import Failure, refused
from .group import main
from .inputs import collect_clips, notices, one_channel, unreadable
from .models import band, build_detector, with_jobs
from .options import channel_option, check_hop, common_options, detector_option, segment_options


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
    from ..folders import counted
    from ..outputs import OutputFileError, check_output
    from ..persistence import is_model_file, save

    detector = with_jobs(build_detector(detector_name, settings), n_jobs)
    check_hop(segment, hop)
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
        raise refused(exc) from exc
    started = time.perf_counter()
    failed = _fit(detector, clips, on_error, not quiet, segment, hop)
    window = ""
    if window_rate is not None:
        from ..window_threshold import held_out_window_threshold

        bad = {e.index for e in failed}
        try:
            threshold = held_out_window_threshold(
                detector, [c for i, c in enumerate(clips) if i not in bad], window_rate
            )
        except ValueError as exc:
            raise Failure(f"cannot set a window threshold: {exc}") from exc
        window = f"; window threshold {threshold:.4g} ({window_rate:g} of held-out normal windows above)"
    if not out.parent.exists():
        click.echo(f"note: made the folder {out.parent} for the model file", err=True)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    save(detector, out)

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
    click.echo(band(detector))
    if failed:
        raise Failure(f"{unreadable(failed, len(clips))}; the model was fitted on the others")


def _fit(detector, clips, on_error, progress, segment, hop):
    """Fit ``detector`` (``fit(on_error=...)``); return the AudioInputError of each clip it left out."""
    from ..audio import AudioInputError
    from ..detectors.base import AudioInputWarning

    failed, error = [], None
    with notices():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", AudioInputWarning)
            try:
                detector.fit(clips, progress=progress, segment=segment, hop=hop, on_error=on_error)
            except (AudioInputError, ValueError) as exc:
                error = exc
        # Everything but the clips left out is shown as notices() shows it.
        for warning in caught:
            if issubclass(warning.category, AudioInputWarning):
                failed = warning.message.errors
            else:
                warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    if isinstance(error, AudioInputError):
        raise Failure(f"cannot fit: {error}") from error
    if error is not None and len(failed) == len(clips):
        raise Failure(f"cannot fit: {unreadable(failed, len(clips))}; name files or folders of recordings") from error
    # fit's other ValueErrors are the data's (scikit-learn's contract; --set values are checked
    # before any clip is read): too few clips, clips too short for the detector. Like every
    # input that fails, exit 1 without a usage banner. Other types are bugs and keep their traceback.
    if error is not None:
        more = f"; {unreadable(failed, len(clips))}" if failed else ""
        if segment is None and len(clips) - len(failed) < 3:
            more += "; to learn from one or two recordings, cut them into segments: --segment 10s"
        raise Failure(f"cannot fit on these clips: {error}{more}") from error
    return failed
