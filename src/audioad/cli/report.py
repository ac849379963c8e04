"""``audioad report``: one self-contained HTML page of a scoring run."""

from __future__ import annotations

import warnings
from pathlib import Path

import click

from .errors import Refused
from .group import main
from .inputs import collect_clips
from .models import band, load_model, with_jobs
from .options import common_options


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

    from ..outputs import OutputFileError, check_output
    from ..report import build_report, report_from_scores, write_report
    from ..score_csv import SCORE_COLUMNS, is_table, read_rows

    detector = with_jobs(load_model(model), n_jobs)
    scores_csv = len(inputs) == 1 and any(
        is_table(inputs[0], c) for c in (SCORE_COLUMNS, (*SCORE_COLUMNS, "explanation"))
    )
    if scores_csv and Path(inputs[0]).stat().st_size:
        try:
            check_output(out, "HTML report", [model, inputs[0]], force=force, is_kind=is_html)
        except OutputFileError as exc:
            raise Refused(str(exc)) from exc
        paths = [row["path"] for row in read_rows(inputs[0])]
        known = _clip_infos([os.path.commonpath([os.path.dirname(os.path.abspath(p)) for p in paths])] if paths else [])
        table = [known.get(str(Path(p).resolve())) for p in paths]
        if not any(info is not None and info.label is not None for info in table):
            table = None
        about = [("Model file", model), ("Band", band(detector))]
        page = report_from_scores(detector, inputs[0], table=table, title=title, top=top, about=about)
        write_report(page, out)
        click.echo(
            f"wrote {out}: {len(paths)} clips from {inputs[0]}, the {min(top, len(paths))} highest-scoring in full"
        )
        return
    clips = collect_clips(inputs)
    try:
        check_output(out, "HTML report", [model, *inputs, *clips], force=force, is_kind=is_html)
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
        about=[("Model file", str(model)), ("Band", band(detector))],
        progress=not quiet,
    )
    write_report(page, out)
    click.echo(f"wrote {out}: {len(clips)} clips, the {min(top, len(clips))} highest-scoring shown in full")


def is_html(path):
    """Whether ``path`` is empty or an HTML page: a file ``audioad report`` may replace."""
    with open(path, "rb") as f:
        start = f.read(64).lstrip().lower()
    return not start or start.startswith((b"<!doctype html", b"<html"))


def _clip_infos(inputs):
    """What the data sets among ``inputs`` say of their clips (label, section, domain), by resolved path."""
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
    return known
