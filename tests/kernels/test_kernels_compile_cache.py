"""numba kernels are compiled once: a second process loads them from the on-disk cache.

The check reads numba's own cache counters (hits / misses per dispatcher), not the wall clock,
so it holds on a loaded machine too.
"""
import json
import os
import subprocess
import sys

_CODE = """
import json
from sparsenet.kernels.codegen import warm, load
warm()
k = load()
hits = misses = 0
for name in ("spmm", "spmm_tout", "sddmm", "spmv", "spmv_t", "gather",
             "spmm_narrow", "spmm_serial", "spmm_tout_serial", "spmm_narrow_serial", "sddmm_serial", "spmv_serial", "spmv_t_serial", "gather_serial"):
    stats = getattr(k, name).stats
    hits += sum(stats.cache_hits.values())
    misses += sum(stats.cache_misses.values())
print(json.dumps({"hits": hits, "misses": misses}))
"""


def _warm_counts(cache_dir) -> dict:
    env = dict(os.environ, SPARSENET_CACHE_DIR=str(cache_dir))
    out = subprocess.run([sys.executable, "-c", _CODE], env=env, capture_output=True, text=True,
                         check=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_second_process_does_not_recompile(tmp_path):
    first = _warm_counts(tmp_path)
    assert first["misses"] >= 6 and first["hits"] == 0, first  # an empty cache compiles every kernel
    files = os.listdir(tmp_path / "kernels")
    assert any(f.startswith("csr_tiled_") and f.endswith(".py") for f in files)
    cached = os.listdir(tmp_path / "kernels" / "__pycache__")
    assert any(f.endswith(".nbi") for f in cached) and any(f.endswith(".nbc") for f in cached)
    second = _warm_counts(tmp_path)
    assert second["misses"] == 0 and second["hits"] >= 6, second  # loaded, nothing recompiled
