"""Kernels that scatter through W's own rows: the input gradient dX = W^T G for batches 1..16
without a W^T-order copy of the values, and for 2..4 columns fused with dW (see docs/kernels.md).

`codegen.generate` writes these kernels next to the others.
"""
from __future__ import annotations


SCATTER_PARTS = 4  # fixed, not the thread count: the summation order (so the result) never depends on threads


def _spmv_t_source(name: str) -> str:
    # Batch 1, dX = W^T g through W's own rows: each row scatters val[j] * g[r] into x's
    # positions. That streams values and indices in order (no perm gathers, which made the
    # W^T-pattern product 3x slower than the forward at density 0.1). Rows are split into
    # SCATTER_PARTS blocks with private partial vectors, summed at the end.
    P = SCATTER_PARTS
    return "\n".join([
        f"def {name}(ptr, idx, val, g, out, zero):",
        "    # out[c] = sum_{r, j: idx[j] = c} val[j] * g[r]: (rows, K) CSR^T @ (rows,) -> (K,)",
        "    rows = ptr.size - 1",
        "    K = out.size",
        f"    part = np.zeros(({P}, K), out.dtype)",
        f"    for q in prange({P}):",
        f"        acc = part[q]",
        f"        for r in range(q * rows // {P}, (q + 1) * rows // {P}):",
        "            gr = g[r]",
        "            for j in range(ptr[r], ptr[r + 1]):",
        "                acc[idx[j]] += val[j] * gr",
        "    for c in prange(K):",
        "        s = zero",
        f"        for q in range({P}):",
        "            s += part[q, c]",
        "        out[c] = s",
    ])


SCATTER_WIDTHS = (2, 4, 8, 16)  # codegen.NARROW_WIDTHS: dX for batches 2..16 by scatter through W's rows (`_scatter_t_source`)


def scatter_width(B: int) -> int:
    """The scatter kernel's register width for 2 <= B <= SCATTER_WIDTHS[-1] columns."""
    return next(w for w in SCATTER_WIDTHS if w >= B)


FUSED_WIDTHS = (2, 3, 4)  # batches whose backward computes dX and dW in one pass over W


def _scatter_t_source(name: str, width: int, fused: bool = False) -> str:
    """dX = W^T G for a batch of 2..`width` columns, through W's own rows like `spmv_t`.

    `fused` (exactly `width` columns): the same pass also writes dW's value j as the dot of
    G[r, :] with X^T[idx[j], :], so the backward reads W's pattern once instead of twice (once
    here, once in `sddmm`). 4096², Intel Xeon, 2026-12-03, dX + dW: B = 2 0.243 -> 0.170 ms
    (density 0.01), 1.76 -> 1.10 ms (0.1); B = 4 1.35x / 1.14x; B = 8 1.04-1.15x and B = 16
    0.85-0.89x, so only 2..4 columns fuse. Its dW sums the B products in order; `sddmm` (built
    with reassociation allowed) may round the same dot differently.

    Each nonzero adds val[j] * G[r, :] into row idx[j] of one of SCATTER_PARTS private
    (K, width) partial results, then the parts are summed in a fixed order (so the result does
    not depend on the thread count). This reads W's values in place: the W^T-order gather that
    the tiled product needs costs as much as the product itself at these widths. 4096², 2-core
    Intel Xeon, 2026-12-03, dX alone: density 0.1, B = 2 / 4 / 8 1.71-1.85 -> 0.67-0.89 ms
    and density 0.01 0.16-0.18 -> 0.10-0.12 ms; B = 12 (a padded 16 tile before) 1.55-1.86x
    faster at densities 0.01-0.1; B = 16 a tie (1.00-1.10x); B = 32 0.72-0.89x, so wider
    batches keep the tiled product (benchmarks/narrow_dx.py)."""
    W, P = width, SCATTER_PARTS
    loads = [f"            g{b} = G[r, {b}]" + ("" if b < 2 or fused else f" if B > {b} else zero") for b in range(W)]
    adds = [f"                a[{b}] += v * g{b}" for b in range(W)]
    dw = ["                x = X[c]", "                dw[j] = " + " + ".join(f"x[{b}] * g{b}" for b in range(W))]
    return "\n".join([
        f"def {name}(ptr, idx, val, G, {'X, dw, ' if fused else ''}out, rows_out, zero):",
        "    # W^T G: (rows, K) CSR^T @ (rows, B) -> out (K, B), or (B, K) with rows_out; "
        + (f"B = {W}; dw[j] = <G[r], X[idx[j]]>" if fused else f"2 <= B <= {W}"),
        "    rows = ptr.size - 1",
        "    B = G.shape[1]",
        "    K = out.shape[1] if rows_out else out.shape[0]",
        f"    part = np.empty(({P}, K, {W}), out.dtype)",
        f"    for q in prange({P}):",
        "        acc = part[q]",
        "        acc[:] = zero",
        f"        for r in range(q * rows // {P}, (q + 1) * rows // {P}):",
        *loads,
        "            for j in range(ptr[r], ptr[r + 1]):",
        "                v = val[j]",
        "                c = idx[j]",
        *(dw if fused else []),
        "                a = acc[c]",
        *adds,
        "    for c in prange(K):",
        "        for b in range(B):",
        "            s = zero",
        f"            for q in range({P}):",
        "                s += part[q, c, b]",
        "            if rows_out:",
        "                out[b, c] = s",
        "            else:",
        "                out[c, b] = s",
    ])
