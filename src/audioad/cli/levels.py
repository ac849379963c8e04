"""A scoring command's run (:class:`audioad.scoring.ScoringRun`) from its options; what it set, said on stderr."""

from __future__ import annotations

from contextlib import contextmanager

import click

from .inputs import collect_clips, notices

__all__ = ["scoring_run", "threshold_choice", "said_levels"]


@contextmanager
def threshold_choice(threshold, false_alarm_rate, rule, calibrate):
    """The threshold options of score, watch, plot and report, checked: yields ``(rule, calibration recordings)``.

    A scoring run made inside that cannot score enough of the calibration recordings is a usage error of
    --calibrate.
    """
    from ..scoring import CalibrationError
    from ..segments import parse_rule

    if threshold is not None and false_alarm_rate is not None:
        raise click.UsageError("--threshold and --false-alarm-rate both set the threshold: pass one of them")
    try:
        rule = parse_rule(rule)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--rule") from exc
    recordings = collect_clips(calibrate) if calibrate else None
    try:
        yield rule, recordings
    except CalibrationError as exc:
        raise click.UsageError(f"--calibrate: {exc}") from exc


def said_levels(levels, recordings, alarm=True):
    """Say on stderr what the thresholds were set from, where not the model's own, and how far to trust them.

    ``alarm`` False: the run has no file verdicts (whole clips), so nothing is said of the alarm level.
    """
    if recordings:
        click.echo(
            f"thresholds from {len(levels.normal)} segments of {len(recordings)} normal recording(s) (--calibrate)",
            err=True,
        )
    more = (
        "more calibration recordings measure it"
        if recordings
        else "more normal audio at fit, or --calibrate, measures it"
    )
    segment = levels.segment_threshold
    if segment is not None and segment.too_few:
        click.echo(
            f"note: segment threshold {segment.value:.4g} rests on {segment.n_scores} segments of the {segment.audio}, "
            f"too few to measure the score 1 in {1 / segment.rate:,.0f} normal segments passes, so new normal audio "
            f"will pass it more often; {more}",
            err=True,
        )
    if alarm and levels.note():
        click.echo(f"note: {levels.note()}; {more}", err=True)


def scoring_run(detector, clips, segment, hop, threshold, false_alarm_rate, rule, per_hour, calibrate, say=True):
    """The :class:`~audioad.scoring.ScoringRun` for score, watch and plot; its thresholds' notes on stderr.

    ``say`` False leaves the notes to the caller (:func:`said_levels`), once it has checked its outputs: a note
    on thresholds before a refusal would mislead.
    """
    from ..scoring import ScoringRun

    with threshold_choice(threshold, false_alarm_rate, rule, calibrate) as (rule, recordings), notices():
        run = ScoringRun(
            detector, clips, segment, hop, threshold, false_alarm_rate, rule, per_hour, calibration=recordings
        )
    if say:
        said_levels(run.levels, recordings)
    return run
