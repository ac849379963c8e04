"""Helpers of the model-file attack and fuzz tests: small fitted models, forged files, measured runs."""

import hashlib
import io
import json
import subprocess
import sys
import zipfile

import numpy as np

HEADER = "audioad-model.json"


def small_clips(n=12, seconds=0.5, sr=16000, seed=0):
    """Noise clips with a hum: quick to fit any detector on."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    return [
        (0.1 * rng.standard_normal(len(t)) + 0.2 * np.sin(2 * np.pi * 120 * t)).astype(np.float32) for _ in range(n)
    ]


def read_model(path):
    """(header, arrays by member name) of a model file, read without audioad."""
    with zipfile.ZipFile(path) as archive:
        header = json.loads(archive.read(HEADER))
        arrays = {
            name: np.lib.format.read_array(io.BytesIO(archive.read(name)), allow_pickle=False)
            for name in archive.namelist()
            if name != HEADER
        }
    return header, arrays


def array_refs(node):
    """Every array reference of a header, in order."""
    if isinstance(node, dict):
        if "$array" in node:
            yield node
            return
        for value in node.values():
            yield from array_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from array_refs(value)


def npy_bytes(array):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=array.dtype.hasobject)
    return buffer.getvalue()


def write_model(path, header, arrays, extra=None, fix_refs=True, header_text=None):
    """Write a model file as an attacker would: references made consistent with the arrays (``fix_refs``).

    ``extra`` adds raw members (name -> bytes, or -> (bytes, ZipInfo)); ``header_text`` replaces the header's JSON.
    """
    if fix_refs:
        for ref in array_refs(header):
            array = arrays.get(ref["$array"])
            if array is not None:
                data = npy_bytes(array)
                ref.update(
                    dtype=array.dtype.str,
                    shape=list(array.shape),
                    sha256=hashlib.sha256(data[len(data) - array.nbytes :]).hexdigest(),
                )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(HEADER, header_text if header_text is not None else json.dumps(header), zipfile.ZIP_DEFLATED)
        for name, array in arrays.items():
            archive.writestr(name, npy_bytes(array), zipfile.ZIP_STORED)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return path


def run_measured(code, timeout=120):
    """Run Python ``code`` in a fresh process; (return code, stdout, stderr, peak resident memory in MB).

    The peak is the process's own, printed as its last line: the high-water mark of its memory
    since exec (``VmHWM``), where Linux has it; else ``ru_maxrss``, which Linux carries over from the
    forking process (pytest) and so can only overstate it.
    """
    wrapped = (
        "import resource, sys\n"
        "def peak_kb():\n"
        "    try:\n"
        "        with open('/proc/self/status') as status:\n"
        "            return next(int(line.split()[1]) for line in status if line.startswith('VmHWM:'))\n"
        "    except (OSError, StopIteration):\n"
        "        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n" + "".join(f"    {line}\n" for line in code.strip().splitlines()) + "finally:\n"
        "    sys.stdout.flush()\n"
        "    print('PEAK_KB', peak_kb())\n"
    )
    done = subprocess.run([sys.executable, "-c", wrapped], capture_output=True, text=True, timeout=timeout)
    lines = done.stdout.splitlines()
    peak = next((int(line.split()[1]) / 1024 for line in reversed(lines) if line.startswith("PEAK_KB")), None)
    stdout = "\n".join(line for line in lines if not line.startswith("PEAK_KB"))
    return done.returncode, stdout, done.stderr, peak
