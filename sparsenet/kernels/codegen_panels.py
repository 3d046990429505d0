"""The panel-by-panel forms of the tiled product and of the SDDMM (see docs/kernels.md, "Panels").

From PANEL_MIN batch columns on, D's full 64-column tiles can be copied into contiguous (K, 64)
panels and each product run one panel at a time, so the panel being read stays in one core's L2.
`codegen.generate` writes these kernels next to the others.
"""
from __future__ import annotations

from .tiles import _PROLOGUE, TILE, _row_body, _tile_block

PANEL_MIN = 2 * TILE  # from two full tiles on, the product can also run panel by panel (`_panel_source`)


# D's full 64-column tiles copied into contiguous (K, 64) panels Q[t], then a loop over the panels
_PANEL_COPY = [
    "    K = D.shape[0]",
    f"    P = B // {TILE}",
    f"    Q = np.empty((P, K, {TILE}), D.dtype)",
    "    for k in prange(K):",
    "        for t in range(P):",
    f"            for i in range({TILE}):",
    f"                Q[t, k, i] = D[k, t * {TILE} + i]",
    "    for t in range(P):",
    "        Dt = Q[t]",
]


def _panel_source(name: str) -> str:
    """The same product and the same sums as `spmm`, but the full 64-column tiles run one panel
    at a time: D's columns are first copied into contiguous (K, 64) panels, then every row runs
    on panel 0, then on panel 1, ... A panel of a 4096-row D is 1 MiB, so it stays in a 2 MiB
    L2 while the whole D (4 MiB at B = 256) does not; reading 64-column slices of D in place
    instead measured slower (their 1 KiB-apart rows crowd into a few cache sets). Which of the
    two kernels runs is decided by timing both (`NumbaBackend._product`): on a 2-core Intel Xeon
    (2 MiB L2), 4096², B = 256, the panels halve the forward; on a 2-core AMD EPYC (1 MiB L2)
    an earlier version of this layout measured 0.73-0.87x at densities 0.01-0.05."""
    lines = [
        f"def {name}(ptr, idx, val, D, bias, has_bias, out, zero):",
        f"    # (rows, K) CSR @ (K, B) dense -> (rows, B), B >= {PANEL_MIN}: full tiles panel by panel, then the rest",
    ] + _PROLOGUE + _PANEL_COPY + [
        "        for r in prange(rows):",
        "            init = bias[r] if has_bias else zero",
        "            j0 = ptr[r]",
        "            j1 = ptr[r + 1]",
    ]
    lines += _tile_block("            ", TILE, f"t * {TILE}", "idx[j]", "val[j]", lambda b: f"out[r, {b}]",
                         src="Dt", src_start="0")
    lines += ["    if half or rem > 0:",
              "        for r in prange(rows):"]
    lines += _row_body("            ", "idx[j]", "val[j]", lambda b: f"out[r, {b}]", full_tiles=False)
    return "\n".join(lines)


def _sddmm_panel_source(name: str) -> str:
    # The SDDMM for B >= PANEL_MIN with X^T in contiguous (K, 64) panels: every row's dots over
    # panel 0, then panel 1 is added, ..., then the B % 64 rest (read in place). Its sums run
    # panel by panel, so its rounding differs from `sddmm`'s: which kernel runs is decided by
    # the shape and the L2 size (`NumbaBackend.sddmm`), never by timing, so a result never
    # depends on a measurement. Compiled with full fastmath like `sddmm` (LLVM vectorises each
    # 64-long dot with partial sums; explicit partial sums without reassociation stayed scalar,
    # 3x slower), and always run by the parallel build, whose code is the same for any thread
    # count: the serial build's vectorisation, hence its rounding, can differ.
    return "\n".join([
        f"def {name}(ptr, idx, A, D, out, zero):",
        f"    # out[j] = <A[r, :], D[idx[j], :]>, summed over {TILE}-column panels of D: (rows,B) x (K,B) -> (nnz,)",
        "    rows = ptr.size - 1",
        "    B = A.shape[1]",
        *_PANEL_COPY,
        f"        o = t * {TILE}",
        "        for r in prange(rows):",
        "            for j in range(ptr[r], ptr[r + 1]):",
        "                c = idx[j]",
        "                s = zero",
        f"                for b in range({TILE}):",
        "                    s += A[r, o + b] * Dt[c, b]",
        "                out[j] = s if t == 0 else out[j] + s",
        f"    if B > P * {TILE}:",
        "        for r in prange(rows):",
        "            for j in range(ptr[r], ptr[r + 1]):",
        "                c = idx[j]",
        "                s = zero",
        f"                for b in range(P * {TILE}, B):",
        "                    s += A[r, b] * D[c, b]",
        "                out[j] = out[j] + s",
    ])
