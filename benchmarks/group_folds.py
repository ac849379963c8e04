"""Held-out folds of whole recordings (``fit(groups=...)``) against consecutive folds, for the default.

One command::

    python benchmarks/group_folds.py     # bldc_motor, fan, fan-drift under devsets.py's protocol: ~1 minute

Issue 22, item 3: ``threshold_`` should come from held-out scores of recordings the model has not
heard. ``fit`` takes each training clip's recording (``groups``) and then holds out whole
recordings; without them it holds out runs of consecutive clips, which keep a recording's clips
together where the training list does. For every split of ``devsets.py`` (its first generator
seed; the shared recordings only, whose manifests name the recordings), the default is fitted
both ways and the table gives the AUC on the split's test clips, the share of its normal test
clips above ``threshold_`` (FAR) and ``coverage_``. Printed only.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
from common import DEFAULT_DATA
from devsets import load_clips, prepare

SETS = ("bldc_motor", "fan", "fan-drift")


def main(argv=None) -> int:
    from audioad.detectors.ensemble import default_detector
    from audioad.metrics import auc

    if not DEFAULT_DATA.is_dir():
        print("../shared/data not found: nothing to compare (the synthetic sets name no recordings)")
        return 0
    print("| set | split | folds | AUC | FAR at threshold_ | coverage_ |")
    print("|---|---|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="audioad-group-folds-") as tmp:
        for name in SETS:
            plan, _ = prepare(name, (0,), Path(tmp), DEFAULT_DATA)
            for key, entry in plan.items():
                clips = load_clips(tmp, entry["clips"], entry["sr"])
                for section in entry["sections"]:
                    train = [clips[i] for i in section["train"]]
                    test = [clips[i] for i in section["test"]]
                    y = np.asarray(section["y"])
                    for label, groups in (("consecutive", None), ("by recording", section.get("train_groups"))):
                        detector = default_detector().fit(train, groups=groups)
                        scores = detector.decision_function(test)
                        far = np.mean(scores[y == 0] > detector.threshold_)
                        cells = f"{auc(y, scores):.3f} | {far:.2f} | {detector.coverage_:.2f}"
                        print(f"| {name} | {key} | {label} | {cells} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
