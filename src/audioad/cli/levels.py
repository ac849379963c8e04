"""A scoring command's run (:class:`audioad.scoring.ScoringRun`) from its options; what it set, said on stderr."""

from __future__ import annotations

import click

from .inputs import collect_clips, notices

__all__ = ["scoring_run"]


def scoring_run(detector, clips, segment, hop, threshold, false_alarm_rate, rule, per_hour, calibrate):
    """The :class:`~audioad.scoring.ScoringRun` for score, watch and plot; its thresholds' notes on stderr."""
    from ..scoring import ScoringRun, calibration_scores
    from ..segments import parse_rule

    if threshold is not None and false_alarm_rate is not None:
        raise click.UsageError("--threshold and --false-alarm-rate both set the threshold: pass one of them")
    try:
        rule = parse_rule(rule)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--rule") from exc
    normal = None
    if calibrate:
        recordings = collect_clips(calibrate)
        try:
            with notices():
                normal = calibration_scores(detector, recordings, segment, hop)
        except ValueError as exc:
            raise click.UsageError(f"--calibrate: {exc}") from exc
        click.echo(
            f"thresholds from {len(normal)} segments of {len(recordings)} normal recording(s) (--calibrate)", err=True
        )
    with notices():
        run = ScoringRun(detector, clips, segment, hop, threshold, false_alarm_rate, rule, per_hour, normal=normal)
    if run.levels.note():
        more = "more calibration recordings measure it" if calibrate else "more normal audio at fit, or --calibrate"
        more += "" if calibrate else ", measures it"
        click.echo(f"note: {run.levels.note()}; {more}", err=True)
    return run
