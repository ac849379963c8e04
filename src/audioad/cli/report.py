"""``audioad report``: one self-contained HTML page of a scoring run."""

from __future__ import annotations

import warnings
from pathlib import Path

import click

from .errors import Failure, refused
from .group import main
from .inputs import collect_clips, notices
from .levels import said_levels, threshold_choice
from .models import band, load_model, with_jobs
from .options import CALIBRATE, check_hop, common_options, segment_options, threshold_options


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.argument("inputs", nargs=-1, required=True)
@click.option("--out", "-o", required=True, type=click.Path(dir_okay=False), help="HTML file to write.")
@click.option("--top", type=click.IntRange(0), default=5, show_default=True, help="Clips shown in full.")
@click.option("--title", help="Title of the page (default: the detector and the number of clips).")
@click.option("--force", is_flag=True, help="Replace --out if it is an existing HTML file.")
@segment_options
@threshold_options
@common_options
def report(
    model, inputs, out, top, title, force, segment, hop, threshold, false_alarm_rate, rule, file_false_alarm_rate,
    calibrate, n_jobs, quiet,
):  # fmt: skip
    """Score clips and write one HTML report that opens in any browser, offline.

    INPUTS are audio files, folders (searched recursively) or manifest CSVs, or
    one score CSV that MODEL wrote (audioad score, or watch): its scores are
    reported as they are, and only what is shown in full is read again. Where
    an input is a data set audioad can read (DCASE, MIMII, normal/ and anomaly/
    folders, a manifest), its labels, sections and conditions (domains) give
    false-alarm and detection rates, AUC and pAUC, per section and condition, and
    the ROC curve. The page holds a summary, the score histogram with the
    threshold, a table of every clip that sorts by a click on any column, and for
    the --top highest-scoring clips their spectrogram beside the normal reference,
    deviation map, explanation and sound (at most 10 s, around the worst moment).
    A recording much longer than the training clips is scored in segments as
    audioad score scores it (or read from a segment CSV): its verdict (normal,
    unusual or ALARM), its segment scores over time, and its --top highest
    segments above the threshold in full. The thresholds and verdicts are
    those audioad score gives with the same options (--threshold,
    --false-alarm-rate, --rule, --file-false-alarm-rate, --calibrate); a
    segment CSV is read at the thresholds written beside it (OUT.files.csv)
    where these options set others. A file that cannot be read is named
    on the page and on stderr, and the exit status is 1.
    Everything is inside the one file: images and sound as base64, no network.

    \b
    Example:
      audioad report fan.audioad data/fan/test --out fan-report.html
    """
    import os

    from ..folders import counted
    from ..outputs import OutputFileError, check_output
    from ..report import run_report, run_report_of_scores, score_table_kind, write_report

    detector = with_jobs(load_model(model), n_jobs)
    check_hop(segment, hop)
    kinds = [score_table_kind(item) for item in inputs]
    if len(inputs) > 1 and any(kinds):
        raise click.UsageError(f"{next(i for i, k in zip(inputs, kinds) if k)}: a score CSV is reported alone")
    if kinds[0] and segment is not None:
        raise click.UsageError(f"{inputs[0]}: its rows are reported as they were scored; --segment is for audio")
    about = [("Model file", str(model)), ("Band", band(detector))]
    if kinds[0]:
        try:
            check_output(out, "HTML report", [model, inputs[0]], force=force, is_kind=is_html)
        except OutputFileError as exc:
            raise refused(exc) from exc
        table = None
        if kinds[0].startswith("clips"):
            from ..score_csv import read_rows

            paths = [row["path"] for row in read_rows(inputs[0])]
            folder = [os.path.commonpath([os.path.dirname(os.path.abspath(p)) for p in paths])] if paths else []
            table = _labelled(folder, paths)
        with threshold_choice(threshold, false_alarm_rate, rule, calibrate) as (rule, recordings), notices():
            run = run_report_of_scores(
                detector, inputs[0], table=table, title=title, top=top, about=about, threshold=threshold,
                false_alarm_rate=false_alarm_rate, rule=rule, per_hour=file_false_alarm_rate, calibration=recordings,
                calibrate=CALIBRATE,
            )  # fmt: skip
        what = f"the {kinds[0]} of {inputs[0]}"
    else:
        clips = collect_clips(inputs)
        try:
            check_output(out, "HTML report", [model, *inputs, *clips], force=force, is_kind=is_html)
        except OutputFileError as exc:
            raise refused(exc) from exc
        table = _labelled(inputs, clips)
        with threshold_choice(threshold, false_alarm_rate, rule, calibrate) as (rule, recordings), notices():
            run = run_report(
                detector, clips, table=table, title=title, top=top, about=about, progress=not quiet,
                segment=segment, hop=hop, threshold=threshold, false_alarm_rate=false_alarm_rate, rule=rule,
                per_hour=file_false_alarm_rate, calibration=recordings, calibrate=CALIBRATE,
            )  # fmt: skip
        what = counted(len(clips), "file")
    # An alarm level is only read where recordings get verdicts (scored in segments).
    said_levels(run.levels, recordings, alarm=bool(run.verdicts))
    write_report(run.page, out)
    for name, verdict in run.verdicts:
        click.echo(verdict.line(name))
    click.echo(f"wrote {out}: {what}, {run.shown} shown in full")
    if run.failures:
        listed = "; ".join(run.failures[:3]) + (" ..." if len(run.failures) > 3 else "")
        raise Failure(f"{len(run.failures)} not scored or not shown (named in {out}): {listed}")


def is_html(path):
    """Whether ``path`` is empty or an HTML page: a file ``audioad report`` may replace."""
    with open(path, "rb") as f:
        start = f.read(64).lstrip().lower()
    return not start or start.startswith((b"<!doctype html", b"<html"))


def _labelled(inputs, clips):
    """What the data sets among ``inputs`` say of each of ``clips`` (label, section, domain; None for a clip they do
    not name), or None where they label none of them: then the report has no ground truth."""
    from ..datasets import GroupWarning, read_dataset

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
    infos = [known.get(str(Path(clip).resolve())) for clip in clips]
    return infos if any(info is not None and info.label is not None for info in infos) else None
