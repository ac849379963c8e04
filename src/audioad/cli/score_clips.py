"""``audioad score`` on whole clips: batches timed to about half a second, each row written as it is scored."""

from __future__ import annotations

import time
from contextlib import ExitStack, closing

import click

from .errors import Failure, Interrupted

__all__ = ["SCORE_BATCH", "BATCH_SECONDS", "timed_batches", "explained", "write_scores"]

# Clips in one batch at most. Local batches are sized to take about BATCH_SECONDS (one clip for long
# recordings): a batch's rows are known only when it is scored, and each then goes to the file at once.
SCORE_BATCH = 32
BATCH_SECONDS = 0.5


def timed_batches(detector, clips):
    """``score_in_batches``'s (clips, ClipScores), each batch sized to take about ``BATCH_SECONDS``.

    The first batch is one clip; each next one is sized from the last one's time, at most twice
    as large and at most ``SCORE_BATCH``. Scores do not depend on the batches (the design's rule).
    """
    from ..parallel import score_in_batches

    start, size = 0, 1
    while start < len(clips):
        batch = clips[start : start + size]
        began = time.perf_counter()
        with closing(score_in_batches(detector, batch, batch_size=len(batch))) as scored:
            yield from scored
        per_clip = max(time.perf_counter() - began, 1e-3) / len(batch)
        start += len(batch)
        size = max(1, min(SCORE_BATCH, 2 * len(batch), int(BATCH_SECONDS / per_clip)))


def explained(detector, batches):
    """The (clips, ClipScores) of ``batches``, each with the explanation of each clip that scored.

    An explanation is a short line (:meth:`audioad.explain.Explanation.summary`); a clip that
    failed to score gets none.
    """
    from ..explain import explain

    with closing(batches):
        for clips, result in batches:
            failed = {e.index for e in result.errors}
            good = [i for i in range(len(clips)) if i not in failed]
            summaries = dict(zip(good, (e.summary(2) for e in explain(detector, [clips[i] for i in good]))))
            yield clips, result, [summaries.get(i, "") for i in range(len(clips))]


def write_scores(
    threshold, batches, out, frames_out, append, total, quiet, on_error="nan", fingerprint=None, columns=None
):
    """Write each clip's row (and window rows) as soon as its batch is scored; label 1 above ``threshold``.

    A row names its clip by its resolved path (:func:`audioad.folders.resolved`), the same from any
    working folder; the failure messages name it as it was given.

    Returns the failure messages, how many clips got each kind of out-of-domain warning
    (:func:`audioad.domain.count_warnings`), and how many clips scored above the threshold.

    Every row is flushed to the file as it is written, a clip's window rows before its score row.
    However it ends (done, a failure, Ctrl-C, a bug), the files are closed, the progress bar is
    closed, and ``batches`` is closed, which stops the scoring still under way.
    """
    import numpy as np
    from tqdm.auto import tqdm

    from ..domain import count_warnings
    from ..folders import resolved
    from ..parallel import ClusterError
    from ..score_csv import FRAME_COLUMNS, SCORE_COLUMNS, RowWriter

    failures, warnings, flagged = [], [], 0
    columns = columns or SCORE_COLUMNS
    with_explanation = "explanation" in columns
    with ExitStack() as stack:
        stack.enter_context(closing(batches))
        rows = stack.enter_context(RowWriter(out, columns, append, fingerprint))
        windows = stack.enter_context(RowWriter(frames_out, FRAME_COLUMNS, append)) if frames_out else None
        bar = stack.enter_context(tqdm(total=total, unit="clip", disable=True if quiet else None))
        try:
            for clips, result, *explanations in batches:
                explanations = explanations[0] if with_explanation else [""] * len(clips)
                errors = {e.index: e.cause for e in result.errors}
                for i, clip in enumerate(clips):
                    name = resolved(clip)
                    if i in errors:
                        failures.append(f"{clip}: {errors[i]}")
                        if on_error == "raise":
                            raise Failure(f"{clip}: {errors[i]}; the rows before it are in {out}")
                        if on_error == "nan":
                            rows.write((name, "", "", "", str(errors[i]), "", "")[: len(columns)])
                        bar.update(1)
                        continue
                    peak = ""
                    if result.frames is not None:
                        times, window_scores = result.frames[i]
                        peak = f"{times[np.argmax(window_scores)]:.3f}"
                        if windows:
                            windows.write_many((name, f"{t:.3f}", repr(float(v))) for t, v in zip(times, window_scores))
                    value = float(result.scores[i])
                    warnings.append(result.warnings[i])
                    row = (name, repr(value), int(value > threshold), peak, "", "; ".join(warnings[-1]))
                    flagged += row[2]
                    rows.write(row + ((explanations[i],) if with_explanation else ()))
                    bar.update(1)
        except KeyboardInterrupt:
            raise Interrupted(
                f"interrupted: {rows.written} rows written to {out}; rerun with --resume to score the rest"
            ) from None
        except ClusterError as exc:
            # The cluster lost a batch (dead workers, a dropped link): not audioad's fault, and a rerun may go through.
            raise click.ClickException(f"{exc}; the rows written so far are in {out}: rerun with --resume") from exc
    return failures, count_warnings(warnings), flagged
