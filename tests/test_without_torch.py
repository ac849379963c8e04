"""audioad imports and its training-free detectors work where torch is not installed."""

import subprocess
import sys
import textwrap


def test_import_and_default_detector_without_torch():
    code = textwrap.dedent(
        """
        import sys

        class NoTorch:
            # As if torch were not installed: importing it fails, and it is never in sys.modules.
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "torch":
                    raise ModuleNotFoundError(f"No module named {name!r}")

        sys.meta_path.insert(0, NoTorch())
        import numpy as np
        import audioad
        clips = [np.random.RandomState(s).randn(8000) for s in range(12)]
        scores = audioad.default_detector().fit(clips).decision_function(clips)
        assert np.isfinite(scores).all()
        try:
            audioad.AudioAE(sr=8000).fit(clips)
        except ImportError as exc:
            assert "pip install audioad[deep]" in str(exc), exc
        else:
            raise AssertionError("AudioAE fitted without torch")
        print("ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
