"""Options that several commands share, and durations read once as they are parsed."""

from __future__ import annotations

import click

# The registry names the detectors without importing them (no numpy at `audioad --help`).
from ..detectors.registry import DETECTORS

__all__ = [
    "CALIBRATE",
    "OTHER_OUT",
    "Duration",
    "check_hop",
    "segment_options",
    "threshold_options",
    "detector_option",
    "channel_option",
    "common_options",
]

#: How a verdict's advice offers calibration on the command line.
CALIBRATE = "pass --calibrate normal.wav (a recording of normal running the model did not learn from)"
#: What to do with a score CSV that --resume cannot append to.
OTHER_OUT = "score to another --out, or pass --force to start it over"


class Duration(click.ParamType):
    """A duration option (10s, 2.5s, 1min) as seconds: :func:`audioad.segments.parse_duration`, once, at parsing."""

    name = "duration"

    def convert(self, value, param, ctx):
        if value is None or isinstance(value, float):
            return value
        # Imported here: segments imports numpy, which `--help` must not.
        from ..segments import parse_duration

        option = param.opts[0] if param is not None else "duration"
        try:
            return parse_duration(value, option)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def check_hop(segment, hop):
    """A hop is the time between segments: without --segment there are none (the one place this is checked)."""
    if hop is not None and segment is None:
        raise click.UsageError("--hop needs --segment")


def segment_options(function):
    """--segment and --hop, shared by fit, score, watch, plot and report."""
    function = click.option(
        "--hop", type=Duration(), metavar="DURATION", help="Time between segment starts (default: the segment length)."
    )(function)
    return click.option(
        "--segment",
        type=Duration(),
        metavar="DURATION",
        help="Cut recordings into segments this long (10s, 2.5s, 1min) and score each: one row a segment.",
    )(function)


def threshold_options(function):
    """--threshold, --false-alarm-rate, --rule, --file-false-alarm-rate, --calibrate: for score, watch, plot."""
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


def detector_option(function):
    """--detector and --set, for fit and evaluate."""
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
    """--channel, for fit, score and watch: one channel of each file (or stream) instead of their mix."""
    return click.option(
        "--channel",
        type=click.IntRange(0),
        metavar="N",
        help="Read channel N of each file (or stream) alone (0 the first) instead of mixing the channels: for "
        "microphones whose channels cancel when mixed.",
    )(function)


def common_options(function):
    """--n-jobs and --quiet."""
    function = click.option(
        "--n-jobs", type=int, default=None, help="Threads for reading clips (default: every core)."
    )(function)
    return click.option("-q", "--quiet", is_flag=True, help="No progress bars.")(function)
