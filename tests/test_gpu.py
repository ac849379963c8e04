"""AudioAE and IDNN on CUDA, where torch sees a GPU; skipped elsewhere."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="torch sees no CUDA device"),
]


@pytest.mark.parametrize("name", ["audio-ae", "idnn"])
def test_trains_and_scores_on_cuda_like_on_the_cpu(machine, name):
    from audioad import make_detector

    train, test, labels = machine
    gpu = make_detector(name, sr=16000, epoch_num=5, device="cuda", random_state=0).fit(train)
    assert next(gpu.ae_.parameters()).is_cuda
    cpu = make_detector(name, sr=16000, epoch_num=5, device="cpu", random_state=0).fit(train)
    gpu_scores, cpu_scores = gpu.decision_function(test), cpu.decision_function(test)
    assert np.isfinite(gpu_scores).all()
    # Different kernels round differently; the two must still rank clips alike.
    assert np.corrcoef(gpu_scores, cpu_scores)[0, 1] > 0.9


def test_device_none_picks_cuda(machine):
    from audioad import AudioAE

    train, _, _ = machine
    detector = AudioAE(sr=16000, epoch_num=1).fit(train)
    assert next(detector.ae_.parameters()).is_cuda
