"""Training data checked before it is learned (issue 24, items 4-9): layouts, the domain checks, --set, torch."""

from pathlib import Path

import numpy as np
import soundfile as sf
from conftest import audioad

from audioad.collect import collect

SR = 16000


def noise(path, seed=0, seconds=0.5, loud=0.1, sr=SR, **kwargs):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, loud * np.random.default_rng(seed).standard_normal(int(sr * seconds)), sr, **kwargs)
    return path


# -- 4: the anomaly folder ---------------------------------------------------------------------------


def lathe(root, n_normal=6, n_anomaly=4):
    for i in range(n_normal):
        noise(root / "normal" / f"n{i}.wav", seed=i)
    for i in range(n_anomaly):
        noise(root / "anomaly" / f"a{i}.wav", seed=50 + i, loud=0.6)
    return root


def test_fit_never_trains_on_an_anomaly_folder(tmp_path):
    root = lathe(tmp_path / "lathe")
    clips, collected = collect([root], training=True)
    assert sorted(Path(c).parent.name for c in clips) == ["normal"] * 6 and collected.anomalous == 4
    run = audioad("fit", root, "--detector", "mel-knn", "--out", tmp_path / "m", "-q")
    assert run.returncode == 0, run.stderr
    assert "left out 4 clips labelled anomalous: a model learns from normal running only" in run.stderr
    assert "on 6 clips" in run.stdout
    # Scoring takes every clip, as it always did.
    assert len(collect([root])[0]) == 10


def test_fit_from_a_manifest_says_what_it_left_out(tmp_path):
    root = lathe(tmp_path / "lathe")
    lines = (
        ["path,label"] + [f"normal/n{i}.wav,normal" for i in range(6)] + [f"anomaly/a{i}.wav,anomaly" for i in range(4)]
    )
    (root / "manifest.csv").write_text("\n".join(lines) + "\n")
    run = audioad("fit", root / "manifest.csv", "--detector", "mel-knn", "--out", tmp_path / "m", "-q")
    assert run.returncode == 0, run.stderr
    assert "left out 4 clips labelled anomalous" in run.stderr and "on 6 clips" in run.stdout
