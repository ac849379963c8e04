"""``audioad evaluate``: fit per machine and section, score the test split, report AUC and pAUC."""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import click

from .errors import refused, usage_error
from .group import main
from .models import build_detector, with_jobs
from .options import common_options, detector_option
from .report import is_html


@main.command()
@click.argument("dataset", type=click.Path(exists=True))
@detector_option
@click.option("--out", "-o", type=click.Path(file_okay=False), help="Folder for result CSVs and plots.")
@click.option(
    "--year", type=click.IntRange(2020, 2025), help="DCASE year of the official score (default: from the data)."
)
@click.option(
    "--train-on",
    type=click.Choice(["earlier", "later"]),
    default="earlier",
    show_default=True,
    help="Data without a split: train on the earlier half of the normal recordings in recording order "
    "(test on the later half and every anomaly), or the reverse.",
)
@click.option("--force", is_flag=True, help="Replace the result files of an earlier run in --out (and --report).")
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False),
    help="Also write an HTML report of the evaluation (as audioad report; 2 clips a section shown in full).",
)
@common_options
def evaluate(dataset, detector_name, settings, out, year, train_on, force, report_path, n_jobs, quiet):
    """Fit per machine and section on the train split, score the test split, report AUC and pAUC.

    DATASET is a DCASE 2020-2025 dev/eval folder, a MIMII folder, a folder of
    normal/ and anomaly/ folders, or a manifest CSV. Data without a split is
    split in time: the normal recordings (a manifest's group, else each clip)
    in recording order (numbers in names compared as numbers) are cut in two
    contiguous blocks, the earlier trains, the later and every anomaly test;
    test clips identical to a training clip are dropped. The split made is
    printed.
    With --out: DCASE result files (anomaly_score_*.csv, decision_result_*.csv),
    an ROC curve and a score histogram per machine, and results.csv. Result
    files already in --out are replaced only with --force, and never when
    one is the DATASET manifest. It prints the detector, its parameters and
    each section's training clips, the AUC and pAUC table, and per section
    and condition the false-alarm and detection rates at the model's threshold.

    \b
    Example:
      audioad evaluate dcase2023/dev_data --out results/ --report evaluation.html
    """
    import numpy as np

    from ..datasets import GroupWarning, ManifestWarning, read_dataset, section_name, write_dcase_results
    from ..evaluation import CONDITION_COLUMNS
    from ..evaluation import evaluate as run_evaluation
    from ..metrics import format_table
    from ..plotting import plot_roc, plot_score_histogram, save_figure

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", GroupWarning)
            warnings.simplefilter("always", ManifestWarning)
            table = read_dataset(dataset)
    # What read_dataset raises for a folder or manifest it cannot read (no layout, missing files, bad rows).
    except (FileNotFoundError, ValueError) as exc:
        raise usage_error(exc) from exc
    for warning in caught:
        if issubclass(warning.category, (GroupWarning, ManifestWarning)):
            click.echo(f"warning: {warning.message}", err=True)
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    # DCASE's evaluators match clips by base name; elsewhere base names repeat (M1/1850.wav, M2/1850.wav).
    dcase = table.layout in ("dcase2020", "dcase2021", "dcase2022")
    names_root = None if dcase else (Path(dataset).parent if Path(dataset).is_file() else Path(dataset))
    build_detector(detector_name, settings)  # fail on bad settings before any fitting
    out_dir = Path(out) if out else None
    if out_dir is not None:
        from ..outputs import OutputFileError, atomic_path, check_output, csv_cell, safe_component

        # What an earlier run left there: checked before any fitting, as fit and score check --out.
        written = ("results.csv", "anomaly_score_*.csv", "decision_result_*.csv", "roc_*.png", "histogram_*.png")
        existing = sorted({p for pattern in written for p in out_dir.glob(pattern)}) if out_dir.is_dir() else []
        try:
            for path in existing or [out_dir / "results.csv"]:
                check_output(path, "evaluation result", [dataset], force=force)
        except OutputFileError as exc:
            raise refused(exc) from exc

    collected = None
    if report_path is not None:
        from ..outputs import OutputFileError, check_output
        from ..report import SectionDetails

        try:
            check_output(report_path, "HTML report", [dataset], force=force, is_kind=is_html)
        except OutputFileError as exc:
            raise refused(exc) from exc
        collected = SectionDetails(top=2)

    def write_section(machine, section, detector, test, scores):
        if collected is not None:
            collected.add(machine, section, detector, test, scores)
        if out_dir is not None:
            write_dcase_results(
                out_dir,
                machine,
                section,
                test.paths,
                scores,
                (scores > detector.threshold_).astype(int),
                root=None if names_root is None else names_root.resolve(),
            )

    try:
        result = run_evaluation(
            table,
            lambda: with_jobs(build_detector(detector_name, settings), n_jobs),
            year=year,
            train_on=train_on,
            progress=not quiet,
            on_section=write_section,
        )
    # As around fit: a section without training or labelled test clips, a --set value out of range.
    except ValueError as exc:
        raise usage_error(exc) from exc
    click.echo(_trained(detector_name, settings, result.training, result.thresholds))
    for (machine, section), said in result.splits.items():
        click.echo(f"  {section_name(machine, section)}: {said}")
    click.echo(format_table(result.sections))
    click.echo("  ".join(f"{k}: {v:.3f}" for k, v in result.summary().items()))
    click.echo("\nAt each section model's threshold (false alarms: normal clips above it; detections: anomalous ones):")
    click.echo(format_table(result.conditions(), columns=CONDITION_COLUMNS))
    if report_path is not None:
        from ..report import describe_detector, evaluation_report, write_report

        described = describe_detector(build_detector(detector_name, settings))
        page = evaluation_report(
            result,
            collected=collected,
            title=f"audioad evaluation of {Path(dataset).name}",
            about=[
                ("Detector", f"{detector_name}: {described}"),
                ("Data set", str(dataset)),
                *((f"Split of {section_name(*key)}", said) for key, said in result.splits.items()),
            ],
        )
        write_report(page, report_path)
        click.echo(f"wrote {report_path}")
    if out_dir is not None:
        # Each report is written beside its target and renamed over it once complete.
        with atomic_path(out_dir / "results.csv") as part, open(part, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(result.results[0]))
            writer.writeheader()
            writer.writerows({key: csv_cell(value) for key, value in row.items()} for row in result.results)
        for machine in sorted({r["machine"] for r in result.results}):
            rows = [r for r in result.results if r["machine"] == machine]
            labels = np.array([r["label"] == "anomaly" for r in rows], dtype=int)
            scores = np.array([r["score"] for r in rows])
            # A machine's name comes from the data: one file name in --out, whatever it holds.
            name = safe_component(machine)
            save_figure(plot_roc(labels, scores, label=machine), out_dir / f"roc_{name}.png")
            # One section, one model: its threshold is the histogram's; sections' thresholds differ.
            sections = {key: value for key, value in result.thresholds.items() if key[0] == machine}
            threshold = next(iter(sections.values())) if len(sections) == 1 else None
            save_figure(plot_score_histogram(scores, labels, threshold), out_dir / f"histogram_{name}.png")
        click.echo(f"wrote DCASE result files, results.csv, ROC curves and histograms to {out_dir}")


def _trained(detector_name, settings, training, thresholds):
    """What evaluate fitted: the detector, its parameters, and the clips each section's model learned from."""
    import os

    from ..datasets import section_name
    from ..report import describe_detector

    lines = [f"detector: {detector_name}: {describe_detector(build_detector(detector_name, settings))}"]
    for (machine, section), paths in sorted(training.items(), key=lambda item: tuple(map(str, item[0]))):
        where = os.path.commonpath([os.path.dirname(os.path.abspath(p)) for p in paths]) if paths else "-"
        lines.append(
            f"  {section_name(machine, section)}: fitted on {len(paths)} normal clips in {where}; "
            f"threshold {thresholds[(machine, section)]:.4g}"
        )
    return "\n".join(lines)
