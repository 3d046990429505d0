"""numba kernels are compiled once: a second process loads them from the on-disk cache."""
import os
import subprocess
import sys


def _warm_seconds(cache_dir) -> float:
    code = "from sparsenet.kernels.codegen import warm, cache_dir; print(warm())"
    env = dict(os.environ, SPARSENET_CACHE_DIR=str(cache_dir))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, timeout=600)
    return float(out.stdout.strip())


def test_second_process_does_not_recompile(tmp_path):
    first = _warm_seconds(tmp_path)
    files = os.listdir(tmp_path / "kernels")
    assert any(f.startswith("csr_tiled_") and f.endswith(".py") for f in files)
    cached = os.listdir(tmp_path / "kernels" / "__pycache__")
    assert any(f.endswith(".nbi") for f in cached) and any(f.endswith(".nbc") for f in cached)
    second = _warm_seconds(tmp_path)
    assert second < first / 3, f"first {first:.2f}s, second {second:.2f}s"
