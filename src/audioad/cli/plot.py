"""``audioad plot``: a clip's spectrogram and window scores, or a long recording's segments over time."""

from __future__ import annotations

import click

from .errors import Failure, refused
from .group import main
from .inputs import notices
from .levels import scoring_run
from .models import load_model
from .options import CALIBRATE, check_hop, segment_options, threshold_options


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
    from ..audio import AudioInputError
    from ..detectors.segmented import describe, scoring_plan
    from ..outputs import OutputFileError, check_output
    from ..plotting import plot_clip, plot_recording

    try:
        check_output(out, "figure", [model, clip], force=force, is_kind=_is_figure)
    except OutputFileError as exc:
        raise refused(exc) from exc
    detector = load_model(model)
    check_hop(segment, hop)
    with notices():
        [how] = scoring_plan(detector, [clip], segment, hop)
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
    seconds, step = how
    run = scoring_run(
        detector, [clip], seconds, step, threshold, false_alarm_rate, rule, file_false_alarm_rate, calibrate
    )
    levels = run.levels
    try:
        result = run.result()
        plot_recording(
            detector, clip, seconds, step, levels.segment, levels.alarm, rule=levels.rule, scores=result, path=out
        )
    except AudioInputError as exc:
        raise Failure(str(exc)) from exc
    click.echo(
        f"wrote {out}: the recording view ({seconds:g} s segments over time, the worst minute in detail); "
        + describe(result.files[0], levels, CALIBRATE)
    )


def _is_figure(path):
    """Whether ``path`` is empty or a PNG, PDF or SVG image: a file ``audioad plot`` may replace."""
    with open(path, "rb") as f:
        start = f.read(64).lstrip()
    return not start or start.startswith((b"\x89PNG", b"%PDF", b"<?xml", b"<svg", b"\xff\xd8\xff", b"%!PS"))
