"""Source generator for the batch-tiled CSR kernels, written to a real file so numba can cache them.

Why generated code: the fast form of a CSR x dense product keeps one output tile of T batch
columns in T scalar accumulators for the whole run of a row's nonzeros, so each nonzero costs
T/16 vector loads + FMAs and no stores. numba only keeps values in registers when they are
scalars, and LLVM's SLP vectorizer packs T literal scalars into zmm registers. Writing T = 64
accumulators by hand would be unreadable; this module writes them.

Why a file on disk: numba's ``cache=True`` needs a source file, so a second process loads the
compiled machine code instead of recompiling (~seconds). The file lives in the user cache
directory (``$SPARSENET_CACHE_DIR``, default ``~/.cache/sparsenet``) under a name that hashes
this generator's own source, so a changed generator never reuses a stale cache.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

from .. import io
from .codegen_panels import _panel_source, _sddmm_panel_source
from .codegen_scatter import (FUSED_WIDTHS, SCATTER_PARTS, SCATTER_WIDTHS, _scatter_t_source,  # noqa: F401
                              _spmv_t_source, scatter_width)
from .tiles import _PROLOGUE, HALF, PAD_MIN, TILE, _row_body, _tile_block  # noqa: F401 (TILE, PAD_MIN: importable here)

CHUNK = 16  # rows staged in a small buffer before a transposed store: one cache line per column


NARROW = 16  # batches 2..16 have their own kernels: one register tile as wide as the batch, rounded up
NARROW_WIDTHS = (2, 4, 8, NARROW)  # the tile widths; a batch between two runs on zero-padded columns


def narrow_width(B: int) -> int:
    """The narrow tile for 2 <= B <= NARROW columns: the smallest of NARROW_WIDTHS that holds B."""
    return next(w for w in NARROW_WIDTHS if w >= B)


def narrow_name(B: int) -> str:
    w = narrow_width(B)
    return "spmm_narrow" if w == NARROW else f"spmm_narrow{w}"


def _narrow_source(name: str, width: int = NARROW) -> str:
    """The product for a batch of at most `width` (<= NARROW) columns: one `width`-wide register
    tile per row. A tile as wide as the batch keeps D small enough for L1 (4096 rows x 8 columns
    of float32: 128 KiB; padded to 16 columns it was 256 KiB): 4096², density 0.01, 2-core Intel
    Xeon, 2026-12-03, B = 2 / 4 / 8 forward 0.209 / 0.193 / 0.202 ms with the 16-wide tile against
    0.100 / 0.102 / 0.097 ms with a tile of the batch's width."""
    W = width
    lines = [
        f"def {name}(ptr, idx, val, D, bias, has_bias, out, zero):",
        f"    # (rows, K) CSR @ (K, B) dense -> (rows, B) for B <= {W}",
        "    rows = ptr.size - 1",
        "    B = D.shape[1]",
        f"    S = np.zeros((D.shape[0] if B < {W} else 0, {W}), D.dtype)",
        "    for k in prange(S.shape[0]):",
        "        for i in range(B):",
        "            S[k, i] = D[k, i]",
        f"    if B == {W}:  # no padding needed: read D itself",
        "        S = D",
        "    for r in prange(rows):",
        "        init = bias[r] if has_bias else zero",
        "        j0 = ptr[r]",
        "        j1 = ptr[r + 1]",
    ]
    lines += _tile_block("        ", W, "0", "idx[j]", "val[j]", lambda b: f"out[r, {b}]",
                         src="S", src_start="0", count="B")
    return "\n".join(lines)


def _spmm_source(name: str, idx: str, value: str, transposed_out: bool = False) -> str:
    """out[r, :] = init(r) + sum_{j in ptr[r]:ptr[r+1]} value(j) * D[idx[j], :]   (row-parallel).

    With `transposed_out` the result is written as out[:, r] of a (B, rows) array, the row-major
    layout a user's input gradient needs: rows are computed {CHUNK} at a time into a buffer that
    stays in L1, then stored column by column, so each store fills whole cache lines.
    """
    shape = "(B, rows)" if transposed_out else "(rows, B)"
    lines = [
        f"def {name}(ptr, idx, val, D, bias, has_bias, out, zero):",
        f"    # (rows, K) CSR @ (K, B) dense -> {shape}; register tiles of {TILE}, one of {HALF}, "
        f"then the remainder padded to {HALF} (or one scalar column)",
    ] + _PROLOGUE
    if not transposed_out:
        lines += ["    for r in prange(rows):"]
        lines += _row_body("        ", idx, value, lambda b: f"out[r, {b}]")
        return "\n".join(lines)
    lines += [f"    for ch in prange((rows + {CHUNK - 1}) // {CHUNK}):",
              f"        r0 = ch * {CHUNK}",
              f"        n = min({CHUNK}, rows - r0)",
              f"        buf = np.empty(({CHUNK}, B), D.dtype)",
              "        for rr in range(n):",
              "            r = r0 + rr"]
    lines += _row_body("            ", idx, value, lambda b: f"buf[rr, {b}]")
    lines += ["        for b in range(B):",
              "            for rr in range(n):",
              "                out[b, r0 + rr] = buf[rr, b]"]
    return "\n".join(lines)


def _sddmm_source(name: str) -> str:
    # Plain dot product with full fastmath: LLVM vectorizes the reduction with several partial
    # sums; the literal-accumulator form measured slower here (SLP shuffles instead of FMAs).
    return "\n".join([
        f"def {name}(ptr, idx, A, D, out, zero):",
        "    # out[j] = <A[r, :], D[idx[j], :]> for every nonzero j of row r: (rows,B) x (K,B) -> (nnz,)",
        "    rows = ptr.size - 1",
        "    B = A.shape[1]",
        "    for r in prange(rows):",
        "        a = A[r]",
        "        for j in range(ptr[r], ptr[r + 1]):",
        "            d = D[idx[j]]",
        "            s = zero",
        "            for b in range(B):",
        "                s += a[b] * d[b]",
        "            out[j] = s",
    ])


SPMV_LANES = 8  # independent partial sums per row at batch 1


def _spmv_source(name: str, value: str) -> str:
    # Batch 1: one dot product per row. A single accumulator is one chain of dependent FMAs
    # (~4 cycles each); SPMV_LANES partial sums keep the load ports busy instead.
    L = SPMV_LANES
    body = [f"            s{i} += {value.format(j=f'j + {i}')} * d[idx[j + {i}]]" for i in range(L)]
    return "\n".join([
        f"def {name}(ptr, idx, val, d, bias, has_bias, out, zero):",
        "    # out[r] = init(r) + sum_j value(j) * d[idx[j]]: (rows, K) CSR @ (K,) -> (rows,)",
        "    rows = ptr.size - 1",
        "    for r in prange(rows):",
        "        j0 = ptr[r]",
        "        j1 = ptr[r + 1]",
        "        " + " = ".join(f"s{i}" for i in range(L)) + " = zero",
        f"        for j in range(j0, j1 - {L - 1}, {L}):",
        *body,
        f"        for j in range(j0 + (j1 - j0) // {L} * {L}, j1):",
        f"            s0 += {value.format(j='j')} * d[idx[j]]",
        "        s = " + " + ".join(f"s{i}" for i in range(L)),
        "        out[r] = s + bias[r] if has_bias else s",
    ])


# dX = W^T G runs through W^T's pattern on values gathered into W^T's order once per call:
# fresh after every optimizer step, and measured faster than reading val[perm[j]] inside the
# tiles (B=128, density 0.1: 8.8 vs 10.8 ms; B=32: 4.8 vs 5.0 ms; AMD EPYC, 2026-12-02).
_GATHER = """def {name}(val, perm, out):
    for j in prange(perm.size):
        out[j] = val[perm[j]]"""


TRANSPOSE_BLOCK = 4  # register block of the transpose: 4 x 4 scalars loaded, then stored transposed
TRANSPOSE_PANEL = 64  # a wide input: at most this many output rows per parallel task ...
TRANSPOSE_TASKS = 8  # ... and fewer when the output has few rows, so that there are 8 tasks
TRANSPOSE_ROWS = 64  # a tall input: this many input rows per parallel task


def _transpose_block(indent: str) -> list[str]:
    """The 4 x 4 block at input (i0, jj): loaded into scalars, stored transposed at (jj, i0)."""
    S = TRANSPOSE_BLOCK
    return ([f"{indent}x{i}_{j} = a[i0 + {i}, jj + {j}]" for i in range(S) for j in range(S)]
            + [f"{indent}out[jj + {j}, i0 + {i}] = x{i}_{j}" for j in range(S) for i in range(S)])


def _transpose_source(name: str) -> str:
    """(n, m) row-major -> (m, n), 4 x 4 register blocks loaded and stored transposed, in one of
    two orders; both keep only 4 rows of the array with 16 KiB-apart rows (a 4096-wide float32
    batch) live at once, since such rows all fall into the same L1 sets (a 16-row kernel, and
    torch's copy, thrashed them: 128 x 4096 float32, 2-core AMD EPYC (Zen 4), 2026-12-03, 0.79 and
    0.48 ms against 0.13-0.17 ms).

    A wide input (n <= m: the data batch, (B, 4096) -> (4096, B)) runs in parallel over panels of
    output rows, m // TRANSPOSE_TASKS of them (a multiple of 4, at most TRANSPOSE_PANEL); inside
    one, 4 input rows at a time are read along the panel. A tall input (n > m: a feature-major
    result turned row-major, (4096, B) -> (B, 4096)) runs in parallel over blocks of
    TRANSPOSE_ROWS input rows, the same split of rows as the kernel that wrote them, so each
    thread reads what it wrote itself; inside one, 4 output rows at a time. 2-core Intel Xeon,
    2026-12-03, min of 30-50 calls, against one 256-row output panel per task before:
    (4096, 128) 0.49 -> 0.11 ms, (4096, 256) 1.25 -> 0.30 ms, (4096, 64) 0.22 -> 0.04 ms; (128, 4096)
    0.13 -> 0.10 ms; a 4096², density 0.01, B = 128 forward and its transpose 1.02 -> 0.85 ms."""
    S, I = TRANSPOSE_BLOCK, TRANSPOSE_ROWS
    lines = [f"def {name}(a, out):",
             "    n, m = a.shape",
             "    if n > m:",
             f"        mb = m // {S} * {S}",
             f"        for ib in prange((n + {I - 1}) // {I}):",
             f"            i0s = ib * {I}",
             f"            i1 = min(n, i0s + {I})",
             f"            i1f = i0s + (i1 - i0s) // {S} * {S}",
             f"            for jj in range(0, mb, {S}):",
             f"                for i0 in range(i0s, i1f, {S}):"]
    lines += _transpose_block("                    ")
    lines += ["                for i in range(i1f, i1):",  # the block's last (i1 - i0s) % S input rows
              f"                    for j in range(jj, jj + {S}):",
              "                        out[j, i] = a[i, j]",
              "            for j in range(mb, m):",  # the last m % S output rows
              "                for i in range(i0s, i1):",
              "                    out[j, i] = a[i, j]",
              "        return",
              f"    nb = n // {S} * {S}",
              f"    J = min({TRANSPOSE_PANEL}, max({S}, m // {TRANSPOSE_TASKS} // {S} * {S}))",
              "    for jb in prange((m + J - 1) // J):",
              "        j0 = jb * J",
              "        j1 = min(m, j0 + J)",
              f"        jf = j0 + (j1 - j0) // {S} * {S}",
              f"        for i0 in range(0, nb, {S}):",
              f"            for jj in range(j0, jf, {S}):"]
    lines += _transpose_block("                ")
    lines += ["            for j in range(jf, j1):",
              f"                for i in range(i0, i0 + {S}):",
              "                    out[j, i] = a[i, j]",
              "        for j in range(j0, j1):",  # the last n % S input rows
              "            for i in range(nb, n):",
              "                out[j, i] = a[i, j]"]
    return "\n".join(lines)


# In-place relu of an inference result (`NumbaBackend.linear(relu=True)`), over its flat
# (rows * B) view split into equal runs, so by the same rows as the product that wrote it. A
# select, not a branch (signs are random: a branch mispredicted every other element, 16 us for
# 4096 numbers); no fastmath, so a NaN stays NaN as in torch.relu.
_RELU = """def {name}(a):
    for i in prange(a.size):
        v = a[i]
        a[i] = 0 if v < 0 else v"""


def generate() -> str:
    head = '"""Generated by sparsenet.kernels.codegen; do not edit."""\n' \
           "import numpy as np\nfrom numba import njit, prange\n\n" \
           "_FM = {'nnan', 'ninf', 'nsz', 'arcp', 'contract', 'afn'}  # no reassoc: it turns loads into gathers\n\n"
    parts = []
    # Each kernel twice: parallel over rows, and serial ("_serial") for small problems where
    # waking the thread pool costs more than the work (batch 1, small layers).
    for parallel, suffix in ((True, ""), (False, "_serial")):
        deco = f"@njit(parallel={parallel}, fastmath=_FM, cache=True)\n"
        parts += [
            deco + _spmm_source("spmm" + suffix, "idx[j]", "val[j]"),
            # written (B, rows): dX for a row-major input (the data batch) as autograd wants it
            deco + _spmm_source("spmm_tout" + suffix, "idx[j]", "val[j]", transposed_out=True),
            *(deco + _narrow_source(narrow_name(w) + suffix, w) for w in NARROW_WIDTHS),
            deco + _panel_source("spmm_panel" + suffix),
            f"@njit(parallel={parallel}, fastmath=True, cache=True)\n" + _sddmm_source("sddmm" + suffix),
            deco + _spmv_source("spmv" + suffix, "val[{j}]"),
            deco + _spmv_t_source("spmv_t" + suffix),
            *(deco + _scatter_t_source(f"spmm_t_scatter{w}" + suffix, w) for w in SCATTER_WIDTHS),
            *(deco + _scatter_t_source(f"backward_fused{w}" + suffix, w, fused=True) for w in FUSED_WIDTHS),
            deco + _GATHER.format(name="gather" + suffix),
            deco + _transpose_source("transpose" + suffix),
            f"@njit(parallel={parallel}, cache=True)\n" + _RELU.format(name="relu" + suffix),
        ]
    # the panel SDDMM: parallel build only (see `_sddmm_panel_source`)
    parts.append("@njit(parallel=True, fastmath=True, cache=True)\n" + _sddmm_panel_source("sddmm_panel"))
    return head + "\n\n\n".join(parts) + "\n"


def cache_dir() -> Path:
    root = os.environ.get("SPARSENET_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "sparsenet")
    return Path(root) / "kernels"


_MODULE: ModuleType | None = None


def load() -> ModuleType:
    """Import the generated kernels (writing their source first if this version is new)."""
    global _MODULE
    if _MODULE is not None:
        return _MODULE
    import numba

    numba.config.SLP_VECTORIZE = 1  # packs the literal accumulators into vector registers
    src = generate()
    digest = hashlib.sha256(src.encode()).hexdigest()[:12]
    path = cache_dir() / f"csr_tiled_{digest}.py"
    if not path.exists() or path.read_text() != src:
        path.parent.mkdir(parents=True, exist_ok=True)
        io.write_text(path, src)
    name = f"sparsenet_generated_csr_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    _MODULE = module
    return module


COMPILE_SECONDS: float | None = None


def warm() -> float:
    """Compile (or load from the on-disk cache) every float32 kernel once (float64 compiles on use).

    Returns the seconds it took, also kept in `COMPILE_SECONDS`: seconds on a first run, well
    under a second when a previous process left the cache.
    """
    global COMPILE_SECONDS
    if COMPILE_SECONDS is not None:
        return COMPILE_SECONDS
    import time

    import numpy as np

    t0 = time.perf_counter()
    k = load()
    ptr, idx = np.array([0, 1], np.int64), np.zeros(1, np.int32)
    for dt in (np.float32,):
        val, d = np.ones(1, dt), np.ones((1, 2), dt)
        out, dv = np.empty((1, 2), dt), np.empty(1, dt)
        for sfx in ("", "_serial"):
            getattr(k, "spmm" + sfx)(ptr, idx, val, d, val, True, out, dt(0))
            getattr(k, "spmm_tout" + sfx)(ptr, idx, val, d, val, False, out.T.copy(), dt(0))
            for w in NARROW_WIDTHS:
                getattr(k, narrow_name(w) + sfx)(ptr, idx, val, d, val, True, out, dt(0))
            getattr(k, "spmm_panel" + sfx)(ptr, idx, val, d, val, True, out, dt(0))
            getattr(k, "sddmm" + sfx)(ptr, idx, d, d, dv, dt(0))
            getattr(k, "spmv" + sfx)(ptr, idx, val, d[0], val, True, dv, dt(0))
            getattr(k, "spmv" + sfx)(ptr, idx.astype(np.uint16), val, d[0], val, True, dv, dt(0))
            getattr(k, "spmv_t" + sfx)(ptr, idx, val, val, dv, dt(0))
            getattr(k, "spmv_t" + sfx)(ptr, idx.astype(np.uint16), val, val, dv, dt(0))
            for w in SCATTER_WIDTHS:
                getattr(k, f"spmm_t_scatter{w}" + sfx)(ptr, idx.astype(np.uint16), val, d, out.T.copy(), False, dt(0))
            for w in FUSED_WIDTHS:
                g = np.ones((1, w), dt)
                getattr(k, f"backward_fused{w}" + sfx)(ptr, idx.astype(np.uint16), val, g, g, dv, np.empty((1, w), dt),
                                                       False, dt(0))
            getattr(k, "gather" + sfx)(val, idx, dv)
            getattr(k, "transpose" + sfx)(d, out.T.copy())
            getattr(k, "relu" + sfx)(out.reshape(-1))
        k.sddmm_panel(ptr, idx, d, d, dv, dt(0))
    COMPILE_SECONDS = time.perf_counter() - t0
    return COMPILE_SECONDS
