"""``audioad score``: a row a clip (or a segment) as it is scored, resumable."""

from __future__ import annotations

from pathlib import Path

import click

from .errors import Failure, Refused, refused
from .group import main
from .inputs import collect_clips, one_channel
from .levels import said_levels, scoring_run
from .models import load_model, with_jobs
from .options import OTHER_OUT, channel_option, check_hop, common_options, segment_options, threshold_options
from .score_clips import SCORE_BATCH, explained, timed_batches, write_scores
from .score_segments import write_segment_scores


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
    Columns: path (the clip's absolute path, links followed, the same from
    any folder), score, label (1 above the model's threshold), peak_time
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
    The model that wrote --out is named by its SHA-256 in OUT.audioad-model;
    --resume refuses a CSV written by another model. An existing --out is
    replaced only with --force, and never when it is an input or not a
    score CSV.

    \b
    Example:
      audioad score fan.audioad data/fan/test --out scores.csv --frames frames.csv
    """
    from ..folders import resolved
    from ..outputs import OutputFileError, check_output
    from ..parallel import SchedulerAddressError, score_on_dask
    from ..score_csv import (
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
    detector = with_jobs(load_model(model), n_jobs)
    if frames and not detector.scores_windows:
        click.echo(
            f"warning: {type(detector).__name__} scores whole clips: {frames} gets a header and no window rows, "
            "and peak_time stays empty",
            err=True,
        )
    check_hop(segment, hop)
    clips = one_channel(collect_clips(inputs), channel)
    read = [model, *inputs, *clips]
    run = scoring_run(
        detector, clips, segment, hop, threshold, false_alarm_rate, rule, file_false_alarm_rate, calibrate, say=False
    )
    level = run.levels.segment
    if run.segmented:
        whole_clip_only = (
            (frames, "--frames"),
            (dask_address, "--dask"),
            (explain_clips, "--explain"),
        )
        for flag, name in whole_clip_only:
            if flag:
                raise click.UsageError(f"{name} is for whole clips; it does not combine with segments (--segment)")
        write_segment_scores(run, out, read, force, resume, on_error, model)
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
    except OutputFileError as exc:
        raise refused(exc) from exc
    except ScoreCSVError as exc:
        raise Refused(f"{exc}; {OTHER_OUT}") from exc
    said_levels(run.levels, run.calibration, alarm=False)
    todo = [c for c in clips if resolved(c) not in done]
    if dask_address:
        try:
            batches = score_on_dask(detector, todo, dask_address, batch_size=SCORE_BATCH)
        except (ImportError, SchedulerAddressError, ConnectionError) as exc:
            raise click.UsageError(str(exc)) from exc
    else:
        batches = timed_batches(detector, todo)
    if explain_clips:
        from ..detectors.frontend import log_mel_part

        if log_mel_part(detector.frontend) is None:
            raise click.UsageError(f"--explain needs a log-mel detector; {type(detector).__name__} has no mel bands")
        batches = explained(detector, batches)
    failures, warned, flagged = write_scores(
        level, batches, out, frames, resume, len(todo), quiet, on_error, fingerprint, columns
    )
    skipped = f", {len(done)} already in {out}" if done else ""
    scored = len(todo) - len(failures)
    click.echo(
        f"flagged {flagged} of {scored} clips scored ({flagged / max(scored, 1):.0%}): "
        f"score above the model's threshold {level:.4g}"
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
