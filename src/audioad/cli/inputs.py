"""What the user named: the audio files, one channel of each, and the library's notices as one line each."""

from __future__ import annotations

import warnings
from contextlib import contextmanager

import click

__all__ = ["collect_clips", "one_channel", "unreadable", "notices"]


def collect_clips(inputs, training=False):
    """Audio files named by ``inputs``: :func:`audioad.collect.collect`, with its notice on stderr.

    From a manifest, training takes only clips not labelled anomalous and,
    when the manifest has splits, those of the train split.
    """
    from ..collect import collect
    from ..datasets import GroupWarning, ManifestWarning

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


def one_channel(clips, channel):
    """The clips as files read at ``channel`` alone (:class:`audioad.audio.OneChannel`); as they are without one."""
    from ..audio import OneChannel

    return clips if channel is None else [OneChannel(clip, channel) for clip in clips]


def unreadable(failed, total):
    """``3 of 120 files could not be read: a.wav (cause); ...``: the first few of ``failed``."""
    listed = "; ".join(f"{e.path} ({e.cause})" for e in failed[:3]) + (" ..." if len(failed) > 3 else "")
    return f"{len(failed)} of {total} files could not be read: {listed}"


@contextmanager
def notices():
    """Show a :class:`~audioad.segments.SegmentNotice` or a fit's :class:`~audioad.detectors.ensemble.CoverageWarning`
    as one ``note:`` line on stderr, a :class:`~audioad.domain.TrainingDataWarning` as one ``warning:`` line; other
    warnings as usual."""
    from ..detectors.ensemble import CoverageWarning
    from ..domain import TrainingDataWarning
    from ..segments import SegmentNotice

    with warnings.catch_warnings():
        shown = warnings.showwarning

        def show(message, category, *args, **kwargs):
            if issubclass(category, SegmentNotice):
                # The library names the Python argument; here it is the option.
                click.echo(f"note: {str(message).replace('segment=', '--segment')}", err=True)
            elif issubclass(category, CoverageWarning):
                advice = "(--calibrate NORMAL on score, watch, plot and report)"
                click.echo(f"note: {str(message).replace('(calibration recordings)', advice)}", err=True)
            elif issubclass(category, TrainingDataWarning):
                click.echo(f"warning: {message}; leave those clips out, or record them again", err=True)
            else:
                shown(message, category, *args, **kwargs)

        warnings.showwarning = show
        yield
