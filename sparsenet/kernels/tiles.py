"""Register tiles: the source-line builders every generated product kernel is made of.

A tile keeps `width` output columns of one row in literal scalar accumulators over the row's
nonzeros (see `codegen`'s docstring for why literal scalars); `_row_body` strings the tiles of
one output row together, `_PROLOGUE` prepares a call's remainder columns.
"""
from __future__ import annotations

TILE = 64  # batch columns per register tile: 4 zmm (fp32) accumulators per row
HALF = 32  # then one 32-column tile if the remainder holds one
# A remainder of 2..31 columns runs as a 32-column tile over a zero-padded copy of those columns
# of D (K x 32, made once per call): inside this kernel the 32-wide tile vectorizes well, the
# 16-, 8- and 4-wide ones measured 2-4x slower than it per call (AMD EPYC, 2026-12-02). A single
# last column (33, 65, ...) is one scalar pass. Batches 2..16 and batch 1 have their own kernels
# (`_narrow_source`, `_spmv_source`).
PAD_MIN = 2


def _tile_block(indent: str, width: int, start: str, idx: str, value: str, store, *,
                src: str = "D", src_start: str | None = None, count: str | None = None) -> list[str]:
    """One register tile of `width` columns of output row r, reading `src` from `src_start`.

    `count` (a name) limits the stores to the first `count` columns (a padded tile)."""
    T = range(width)
    lines = [f"{indent}b0 = {start}"]
    lines += [f"{indent}a{i} = init" for i in T]
    lines += [f"{indent}for j in range(j0, j1):",
              f"{indent}    v = {value}",
              f"{indent}    c = {idx}"]
    s0 = "b0" if src_start is None else src_start
    lines += [f"{indent}    a{i} += v * {src}[c, {s0} + {i}]" for i in T]
    if count is None:
        lines += [f"{indent}{store(f'b0 + {i}')} = a{i}" for i in T]
    else:
        lines += [f"{indent}if {count} > {i}:\n{indent}    {store(f'b0 + {i}')} = a{i}" for i in T]
    return lines


def _row_body(indent: str, idx: str, value: str, store, full_tiles: bool = True) -> list[str]:
    """Output row r from its nonzeros j0:j1: full tiles (unless `full_tiles` is False: done
    elsewhere), a 32 tile, then the padded or single remainder."""
    lines = [f"{indent}init = bias[r] if has_bias else zero",
             f"{indent}j0 = ptr[r]",
             f"{indent}j1 = ptr[r + 1]"]
    if full_tiles:
        lines += [f"{indent}for t in range(B // {TILE}):"]
        lines += _tile_block(indent + "    ", TILE, f"t * {TILE}", idx, value, store)
    lines += [f"{indent}if half:"]
    lines += _tile_block(indent + "    ", HALF, f"B // {TILE} * {TILE}", idx, value, store)
    lines += [f"{indent}if rem >= {PAD_MIN}:"]
    lines += _tile_block(indent + "    ", HALF, "tail", idx, value, store, src="Dp", src_start="0", count="rem")
    lines += [f"{indent}elif rem == 1:"]
    lines += _tile_block(indent + "    ", 1, "tail", idx, value, store)
    return lines


_PROLOGUE = [
    "    rows = ptr.size - 1",
    "    B = D.shape[1]",
    f"    half = B % {TILE} >= {HALF}",
    f"    tail = B // {TILE} * {TILE} + ({HALF} if half else 0)",
    "    rem = B - tail",
    f"    Dp = np.zeros((D.shape[0] if rem >= {PAD_MIN} else 0, {HALF}), D.dtype)",
    "    for k in prange(Dp.shape[0]):",
    "        for i in range(rem):",
    "            Dp[k, i] = D[k, tail + i]",
]
