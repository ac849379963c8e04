"""``audioad score`` on segments: a row a segment as it is scored, and each file's verdict once it is done."""

from __future__ import annotations

import csv
from contextlib import ExitStack, closing
from pathlib import Path

import click

from .errors import Failure, Interrupted, Refused, refused
from .levels import said_levels
from .options import CALIBRATE, OTHER_OUT

__all__ = ["write_segment_scores"]


def write_segment_scores(run, out, read, force, resume, on_error, model):
    """Score the recordings of ``run`` (a :class:`~audioad.scoring.ScoringRun`): a row a segment, then each file's
    summary and verdict.

    With ``resume``, files with a summary are skipped, and a file the last run stopped inside goes
    on after its last row, its earlier rows counted in its summary.
    """
    from ..detectors.segmented import iter_segment_scores
    from ..folders import counted, resolved
    from ..outputs import OutputFileError, check_output
    from ..score_csv import (
        FILE_COLUMNS,
        SEGMENT_COLUMNS,
        RowWriter,
        ScoreCSVError,
        files_path,
        is_table,
        model_fingerprint,
        segments_done,
        sidecar_path,
    )
    from ..score_csv import csv_number as number

    detector, clips, plan, levels = run.detector, run.clips, run.cuts, run.levels
    threshold, level, rule = levels.segment, levels.alarm, levels.rule
    summary_out = files_path(out)
    fingerprint = model_fingerprint(model)
    try:
        check_output(out, "score CSV", read, force=force or resume, is_kind=lambda p: is_table(p, SEGMENT_COLUMNS))
        check_output(sidecar_path(out), "model sidecar", read, force=True)
        check_output(
            summary_out, "file summary CSV", read, force=force or resume, is_kind=lambda p: is_table(p, FILE_COLUMNS)
        )
        completed, partial = segments_done(out, fingerprint) if resume and Path(out).exists() else (set(), {})
    except OutputFileError as exc:
        raise refused(exc) from exc
    except ScoreCSVError as exc:
        raise Refused(f"{exc}; {OTHER_OUT}") from exc
    said_levels(levels, run.calibration)
    # Rows name a file by its resolved path, the same from any working folder; messages as it was given.
    every = [resolved(clip) for clip in clips]
    todo = [i for i, name in enumerate(every) if name not in completed]
    clips, plan, names = [clips[i] for i in todo], [plan[i] for i in todo], [every[i] for i in todo]
    earlier = {i: partial[name] for i, name in enumerate(names) if name in partial}
    skip = {i: sum(1 for row in rows if not row[3]) for i, rows in earlier.items()}
    if not clips:
        click.echo(f"nothing to score: the {len(completed)} files are already in {out}")
        return
    summaries = run.summaries()
    failures, states, n_rows = [], {}, 0
    if completed and Path(summary_out).exists():
        # The verdicts of the files an earlier run finished count in this run's summary too.
        with open(summary_out, newline="") as f:
            for row in csv.DictReader(f):
                if resolved(row["path"]) in completed:
                    states[row["verdict"]] = states.get(row["verdict"], 0) + 1

    with ExitStack() as stack:
        rows = stack.enter_context(RowWriter(out, SEGMENT_COLUMNS, append=resume, fingerprint=fingerprint))
        files = stack.enter_context(RowWriter(summary_out, FILE_COLUMNS, append=resume))

        def finished(done):
            for summary in done:
                verdict = run.verdict(summary, CALIBRATE)
                states[verdict.state] = states.get(verdict.state, 0) + 1
                click.echo(verdict.line(str(clips[summary.clip])))
                files.write(
                    (
                        summary.path, summary.n_segments, summary.n_above, " ".join(map(str, summary.minutes)),
                        number(summary.worst_start), number(summary.worst_end), number(summary.worst_score),
                        verdict.state, number(summary.flagged_at),
                        repr(threshold), repr(level), str(rule), summary.error,
                    )
                )  # fmt: skip

        def resumed(clip):
            """The rows an earlier run wrote of ``clip``, into its summary before its new ones."""
            for start, end, value, error in earlier.pop(clip, ()):
                finished(summaries.add(clip, names[clip], start, end, value, error))

        batches = iter_segment_scores(detector, clips, plan=plan, threshold=threshold, skip=skip)
        stack.enter_context(closing(batches))
        try:
            for batch in batches:
                for row in batch:
                    resumed(row.clip)
                    if row.error:
                        failures.append(f"{row.path}: {row.error}")
                        if on_error == "raise":
                            raise Failure(f"{row.path}: {row.error}; the rows before it are in {out}")
                    if not row.error or on_error == "nan":
                        label = "" if row.label < 0 else row.label
                        rows.write(
                            (names[row.clip], number(row.start), number(row.end), number(row.score), label, "",
                             row.error, row.warning)
                        )  # fmt: skip
                        n_rows += 1
                    finished(summaries.add(row.clip, names[row.clip], row.start, row.end, row.score, row.error))
            for clip in sorted(earlier):
                resumed(clip)  # a file whose rows were all written, but not its summary
            finished(summaries.close())
        except KeyboardInterrupt:
            raise Interrupted(
                f"interrupted: {rows.written} rows written to {out}; rerun with --resume to score the rest"
            ) from None
    if failures:
        listed = "; ".join(failures[:3]) + (" ..." if len(failures) > 3 else "")
        raise Failure(f"{len(failures)} of {len(clips)} files failed: {listed}")
    skipped = f", {len(completed)} already in {out}" if completed else ""
    verdicts = ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
    verdicts = f"of all {len(completed) + len(clips)} files, {verdicts}" if completed else verdicts
    click.echo(
        f"scored {n_rows} segments of {counted(len(clips), 'file')}{skipped}: {verdicts} (alarm level {level:.3g}, "
        f"rule {rule}; segment threshold {threshold:.3g}); wrote {out} and {summary_out}"
    )
