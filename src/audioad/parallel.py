"""Score many clips in batches: on local threads, or on a Dask cluster.

Both functions cut the clips into batches, score each batch with
:meth:`~audioad.detectors.base.ClipDetector.score_clips`, and yield
``(batch_clips, ClipScores)`` as batches finish, in whatever order they
finish, so that a caller can write results while the rest is still being
scored. A clip that cannot be loaded does not stop its batch: it comes back
in that batch's ``errors``, its index counted within the batch, as a local
run reports it.

- :func:`score_in_batches` runs on joblib: threads by default (decoding,
  resampling and numpy release the GIL), or any joblib backend, a Dask
  cluster included through ``joblib.parallel_config(backend="dask")``;
- :func:`score_on_dask` runs on a Dask cluster (``pip install audioad[dask]``):
  the fitted detector goes to every worker once, then one task per batch.
"""

from __future__ import annotations

import numbers
import os
from concurrent.futures import CancelledError

import joblib

from .audio import clip_name

__all__ = ["score_in_batches", "score_on_dask", "SchedulerAddressError", "ClusterError"]


class SchedulerAddressError(ValueError):
    """A string given for a Dask scheduler that is not a scheduler's address."""


class ClusterError(RuntimeError):
    """The Dask cluster did not finish a batch: its workers died, its task was cancelled, or the link was lost.

    Not a fault of the detector or the clips (those are raised as they are), so a rerun may go through.
    """


def _batches(clips, batch_size):
    """The clips cut into consecutive batches, each with the position of its first clip."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive whole number of clips, got {batch_size!r}")
    clips, batch_size = list(clips), int(batch_size)
    return [(start, clips[start : start + batch_size]) for start in range(0, len(clips), batch_size)]


def _score_batch(detector, start, batch, frames):
    """Score one batch; return its start position with its ClipScores."""
    return start, detector.score_clips(batch, frames=frames)


def score_in_batches(detector, clips, batch_size=32, n_jobs=None, frames=True, backend=None):
    """Score clips batch by batch with joblib, yielding each batch as it finishes.

    Parameters
    ----------
    detector : ClipDetector
        A fitted detector.
    clips : sequence
        Clips in any form the detector accepts (paths, arrays,
        ``(waveform, sample_rate)`` tuples).
    batch_size : int, default 32
        Clips per batch: what one task scores.
    n_jobs : int or None, default None
        Batches scored at the same time. ``None`` is 1 (a plain loop in this
        thread, batches in order) unless a ``joblib.parallel_config`` says
        otherwise; -1 uses every core this process may run on
        (``joblib.cpu_count()``: CPU affinity and cgroup quotas included).
    frames : bool, default True
        Also return each clip's window scores (window detectors only).
    backend : str or None
        A joblib backend. ``None`` takes the one a ``joblib.parallel_config``
        sets, else threads: decoding and numpy release the GIL, and threads
        share the fitted detector's arrays without copying them.

    Returns
    -------
    generator of (list, ClipScores)
        Per batch, its clips and their scores, window scores and errors, as
        :meth:`~audioad.detectors.base.ClipDetector.score_clips` gives them
        for the batch: the index of an error is its clip's position in the batch.
        Closing it (or leaving a ``with contextlib.closing(...)``) cancels the
        batches not yet started and releases joblib's workers.

    Notes
    -----
    With ``n_jobs`` other than 1 batches come back in the order they finish.
    Under ``joblib.parallel_config(backend="dask")`` the batches run on the
    cluster of the current ``distributed.Client``; pass
    ``scatter=[detector]`` to ``parallel_config`` there, or use
    :func:`score_on_dask`, for the detector to go to each worker only once.

    Examples
    --------
    >>> import numpy as np
    >>> from audioad import MelKNN
    >>> rng = np.random.default_rng(0)
    >>> train = [(rng.normal(0, 0.1, 16000), 16000) for _ in range(8)]
    >>> detector = MelKNN(sr=16000).fit(train)
    >>> clips = train[:3] + ["missing.wav"]
    >>> for batch, result in score_in_batches(detector, clips, batch_size=2):
    ...     print(len(batch), result.scores.shape, [(e.index, e.path) for e in result.errors])
    2 (2,) []
    2 (2,) [(1, 'missing.wav')]
    """
    batches = _batches(clips, batch_size)
    run = joblib.Parallel(n_jobs=n_jobs, backend=backend, prefer="threads", return_as="generator_unordered")
    results = run(joblib.delayed(_score_batch)(detector, start, batch, frames) for start, batch in batches)
    return _with_clips(results, dict(batches))


def _with_clips(results, batch_at):
    """(batch clips, ClipScores) for each (start, ClipScores) of joblib's generator, closing it however this ends."""
    try:
        for start, result in results:
            yield batch_at[start], result
    finally:
        results.close()


def _import_distributed():
    try:
        import distributed
    except ModuleNotFoundError as exc:
        # dask.distributed or one of its dependencies is not installed; any other ImportError
        # (a broken installation) says best itself what is wrong.
        raise ImportError("scoring on a Dask cluster needs `pip install audioad[dask]` (dask.distributed)") from exc
    return distributed


def score_on_dask(detector, clips, address_or_client, batch_size=32, frames=True):
    """Score clips on a Dask cluster, yielding each batch as it finishes.

    The fitted detector is sent to every worker once (``client.scatter`` with
    ``broadcast=True``); the clips are cut into batches, one task each, and
    the results stream back as tasks finish. Connecting and sending the
    detector happen when this function is called, so a scheduler that cannot
    be reached fails here; the tasks then run while the results are read.

    Parameters
    ----------
    detector : ClipDetector
        A fitted detector; it must pickle (every audioad detector does).
    clips : sequence
        Clips in any form the detector accepts. Paths are read by the workers,
        so they must name the same files there (a shared file system).
    address_or_client : str, distributed.Client or cluster
        The scheduler's address (``"tcp://10.0.0.5:8786"``), a cluster object
        (``distributed.LocalCluster``, ...), or a connected ``distributed.Client``.
        A client made here is closed when the results have been read (or the
        generator is closed); a given one is left open.
    batch_size : int, default 32
        Clips per task.
    frames : bool, default True
        Also return each clip's window scores (window detectors only).

    Returns
    -------
    iterator of (list, ClipScores)
        Per batch, in the order batches finish: its clips and their scores,
        window scores and errors (each error's index counted within the
        batch), as :meth:`~audioad.detectors.base.ClipDetector.score_clips`
        gives them; a clip that cannot be read is reported there, as in a local run.

    Raises
    ------
    ImportError
        When dask.distributed is not installed.
    SchedulerAddressError
        A ``ValueError``: ``address_or_client`` is a string that is not a
        scheduler address.
    ConnectionError
        When the scheduler cannot be reached.
    ClusterError
        A ``RuntimeError``, while the results are read, when the cluster
        does not finish a batch (workers running it died more often than the
        scheduler retries it, it was cancelled, or the connection was lost):
        the message names the batch by its first clip. An exception the
        detector raised on a worker is raised as it is, as a local run raises it.

    Examples
    --------
    Point it at a running scheduler (``dask scheduler`` prints its address,
    and ``dask worker ADDRESS`` joins a machine to it):

    >>> for batch, result in score_on_dask(detector, clips, "tcp://10.0.0.5:8786"):  # doctest: +SKIP
    ...     print(len(batch), result.scores)
    """
    distributed = _import_distributed()
    batches = _batches(clips, batch_size)
    if isinstance(address_or_client, distributed.Client):
        client, own = address_or_client, False
    else:
        client, own = _connect(distributed, address_or_client), True
    results = _results(distributed, client, own, detector, batches, frames)
    # Run up to the first yield now, so that a failure to send the detector surfaces
    # here and closing the generator, even unread, releases the client and the tasks.
    next(results)
    return results


def _connect(distributed, address):
    """A new client of the scheduler at ``address``, or of a cluster object."""
    if isinstance(address, str) and not address.startswith("inproc://"):
        try:
            # Checked before Client() sees it: a Client half made from a malformed
            # address holds up the interpreter's exit for a minute.
            distributed.comm.get_address_host_port(address)
        except ValueError as exc:
            raise SchedulerAddressError(
                f"{address!r} is not a Dask scheduler address ({exc}); give one like tcp://10.0.0.5:8786"
            ) from exc
    try:
        # Not made the default client: other dask code in this process must not pick it up.
        return distributed.Client(address, set_as_default=False)
    except OSError as exc:
        raise ConnectionError(
            f"cannot reach the Dask scheduler at {address!r}: {exc}; "
            "is it running, and is this the address `dask scheduler` printed?"
        ) from exc


def _results(distributed, client, own, detector, batches, frames):
    """Scatter the detector, submit the batches, yield the results as they arrive."""
    futures = {}
    try:
        model = client.scatter(detector, broadcast=True, hash=False)
        for start, batch in batches:
            futures[client.submit(_score_batch, model, start, batch, frames, pure=False)] = (start, batch)
        yield
        for future in distributed.as_completed(list(futures), loop=client.loop):
            start, batch = futures.pop(future)
            try:
                _, result = future.result()
            # The cluster's own failures; what the detector raised comes back as itself.
            except (distributed.KilledWorker, CancelledError, OSError) as exc:
                first = batch[0] if isinstance(batch[0], (str, os.PathLike)) else None
                raise ClusterError(
                    f"the Dask cluster failed to score the batch of {len(batch)} clips starting at "
                    f"{clip_name(start, first)}: {type(exc).__name__}: {exc}"
                ) from exc
            yield batch, result
    finally:
        if own:
            client.close()
        elif futures:
            client.cancel(list(futures))
