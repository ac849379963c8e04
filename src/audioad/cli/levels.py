"""The thresholds a scoring command reads its verdicts against, from its options; what was done said on stderr."""

from __future__ import annotations

import click

from .inputs import collect_clips, notices

__all__ = ["held_out_normal", "segment_threshold", "calibrated_file_threshold"]


def held_out_normal(detector, calibrate, segment=None, hop=None):
    """Scores of normal audio the model did not learn from: the --calibrate recordings' segments, else None.

    None stands for the model's own held-out training scores (``decision_scores_``).
    """
    if not calibrate:
        return None
    from ..scoring import calibration_scores

    clips = collect_clips(calibrate)
    try:
        with notices():
            scores = calibration_scores(detector, clips, segment, hop)
    except ValueError as exc:
        raise click.UsageError(f"--calibrate: {exc}") from exc
    click.echo(f"thresholds from {len(scores)} segments of {len(clips)} normal recording(s) (--calibrate)", err=True)
    return scores


def segment_threshold(detector, threshold, false_alarm_rate, normal=None):
    """The segment threshold: --threshold, the --false-alarm-rate quantile of held-out normal scores, or the model's."""
    from ..scoring import segment_threshold as chosen

    if threshold is not None and false_alarm_rate is not None:
        raise click.UsageError("--threshold and --false-alarm-rate both set the threshold: pass one of them")
    return chosen(detector, threshold, false_alarm_rate, normal)


def calibrated_file_threshold(detector, plan, rule, per_hour, normal=None, threshold=None):
    """The :class:`~audioad.verdicts.Levels` for ``rule`` at ``per_hour`` false alarms (the alarm level is the file
    threshold), from held-out normal scores (or the model's); a note on stderr where the alarm level is a guess."""
    from ..detectors.segmented import levels_for

    levels = levels_for(detector, plan, rule, per_hour, normal, threshold)
    if levels.note():
        click.echo(f"note: {levels.note()}; more normal audio at fit, or --calibrate, measures it", err=True)
    return levels
