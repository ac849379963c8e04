"""The ``audioad`` command: fit, score, watch, history, dashboard, evaluate, plot, report, demo, info.

A module per command, each mapping its options onto library calls; nothing below it knows a
command line exists. Shared here: the group (:mod:`.group`), the exit codes (:mod:`.errors`), the
options several commands take (:mod:`.options`), what the user named (:mod:`.inputs`), detectors
made or loaded (:mod:`.models`) and the thresholds of a scoring command (:mod:`.levels`). Each
command imports numpy and the rest when it runs, so `audioad --help` and `audioad info` answer at once.

Guarantees:

- Outputs: no command writes over one of its inputs, an audio file, or an
  existing file of another kind, nor through a link or into a hard-linked
  file (every write goes through :mod:`audioad.outputs`); an existing output
  of the same kind is replaced only with ``--force`` (or, for ``score``,
  extended with ``--resume``). ``fit`` adds ``.audioad`` to an ``--out``
  without a suffix. Whole files are written beside their target and renamed
  over it once complete.
- Rows: ``score`` writes and flushes each clip's row as soon as it is scored
  (batches are sized to take about half a second, one clip for long
  recordings), so an interrupt keeps every row scored before it.
  ``--resume`` cuts off a torn last line, skips the clips already in the
  CSV, and refuses a CSV written by another model (named in the sidecar
  ``<out>.audioad-model``, see :mod:`audioad.score_csv`) or one it cannot read.
- Exit codes: 0 everything worked, 1 some inputs failed (the rest was done),
  2 a usage error (bad arguments, an output it must not write, an unreadable
  model file, dataset or CSV to resume), 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

# Each command module adds its command to the group as it is imported.
from . import dashboard, demo, evaluate, fit, history, info, plot, report, score, watch  # noqa: F401
from .group import main

__all__ = ["main"]
