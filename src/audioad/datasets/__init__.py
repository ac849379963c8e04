"""Folders of machine recordings as one table of clips, DCASE result files, and synthetic machine sounds.

- :mod:`~audioad.datasets.table`: :class:`ClipTable`, one row (:class:`ClipInfo`) per clip with its
  machine, section, domain, split, label and file-name attributes; :data:`LABELS`, the one table of
  ground-truth labels.
- :mod:`~audioad.datasets.layouts`: :func:`read_dataset` reads any of the folder layouts the field
  uses (DCASE 2020, 2021 and 2022-2025, MIMII, ``normal/`` + ``anomaly/`` folders, or a manifest
  CSV) into a :class:`ClipTable`.
- :mod:`~audioad.datasets.groups`: :func:`infer_groups` reads which clips come from one recording
  off their file names where the data set does not say (:class:`GroupWarning`).
- :mod:`~audioad.datasets.results`: :func:`write_dcase_results` writes scores in the DCASE
  submission format.
- :mod:`~audioad.datasets.synthetic`: :func:`make_machine_sounds` writes a synthetic data set in the
  DCASE 2022+ layout for tests, examples and benchmarks that must run without downloads.
"""

from .groups import GroupWarning, infer_groups
from .layouts import LAYOUTS, ManifestWarning, read_dataset
from .results import write_dcase_results
from .synthetic import ANOMALY_KINDS, DEFAULT_ANOMALY_KINDS, make_machine_sounds
from .table import CLIP_FIELDS, LABEL_SPELLINGS, LABELS, ClipInfo, ClipTable, section_name

__all__ = [
    "ANOMALY_KINDS",
    "DEFAULT_ANOMALY_KINDS",
    "CLIP_FIELDS",
    "LABELS",
    "LABEL_SPELLINGS",
    "LAYOUTS",
    "ClipInfo",
    "ClipTable",
    "GroupWarning",
    "ManifestWarning",
    "infer_groups",
    "make_machine_sounds",
    "read_dataset",
    "write_dcase_results",
    "section_name",
]
