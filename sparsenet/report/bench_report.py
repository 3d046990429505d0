"""report.md of a `sparsenet bench` run: its tables, rebuilt from results.json (also printed by the command)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from . import REPORTS
from .. import io
from .markdown import threads_text


@REPORTS.register("bench")
def write_bench_report(run_dir: Path, results: dict[str, Any]) -> list[Path]:
    return [io.write_text(run_dir / "report.md", format_tables(results))]


def _fmt(v) -> str:
    return "—" if v is None else (f"{v:.3f}" if v < 10 else f"{v:.1f}")


def _choices_line(case: dict) -> str:
    """The numba kernels chosen by timing during a case (`kernels.tuning`), one entry per product."""
    seen = {}
    for d in case.get("kernel_choices", ()):
        seen[d["product"]] = f"{d['product']}: {d['chosen']} (" + ", ".join(
            f"{n} {ms:g}" for n, ms in d["min_ms"].items()) + " ms)"
    return ("\n\nnumba kernels chosen by timing: " + "; ".join(seen.values())) if seen else ""


def format_case(case: dict) -> str:
    return _format_case(case) + _choices_line(case)


def _format_case(case: dict) -> str:
    if case["suite"] == "inference":
        head = (f"**inference, MLP {'-'.join(map(str, case['sizes']))} magnitude-pruned to sparsity "
                f"{case['sparsity']:g} ({case['nnz']} of {case['weights']} weights), batch {case['batch']}: "
                "ms per forward under torch.no_grad()**")
        lines = [head, "", "| contender | forward ms | × dense |", "|---|---:|---:|"]
        lines += [f"| {r['contender']} | {_fmt(r['forward'])} | {r['speedup']:.2f} |" for r in case["rows"]]
        return "\n".join(lines)
    if case["suite"] == "mlp":
        head = (f"**MLP {'-'.join(map(str, case['sizes']))}, batch {case['batch']}, sparsity "
                f"{case['sparsity']:g} ({case['activation']}): ms per training step**")
        lines = [head, "", "| contender | step ms | × dense |", "|---|---:|---:|"]
        lines += [f"| {r['contender']} | {_fmt(r['step'])} | {r['speedup']:.2f} |" for r in case["rows"]]
        return "\n".join(lines)
    head = (f"**layer {case['out']}x{case['in']}, batch {case['batch']}, density {case['density']:g} "
            f"(nnz {case['nnz']}): ms**")
    cols = ("fwd", "dX", "dW", "bwd", "update", "total", "total_fm")
    lines = [head, "", "| contender | " + " | ".join(cols) + " | × dense (total) | × dense (fm) |",
             "|---|" + "---:|" * (len(cols) + 2)]
    for r in case["rows"]:
        ratios = [f"{r[k]:.2f}" if k in r else "—" for k in ("speedup_total", "speedup_total_fm")]
        lines.append(f"| {r['contender']} | " + " | ".join(_fmt(r.get(c)) for c in cols) + " | "
                     + " | ".join(ratios) + " |")
    return "\n".join(lines)


def format_tables(results: dict) -> str:
    m = results["machine"]
    head = (f"# sparsenet bench\n\nMachine: {m.get('cpu', '?')}, {threads_text(results['threads'])}; versions: "
            + ", ".join(f"{k} {v}" for k, v in results["versions"].items())
            + f"; numba kernels ready in {results['numba_compile_seconds']} s.\n"
            "Min of the timed rounds, contenders interleaved in one process. × dense = dense total / contender total.\n\n")
    return head + "\n\n".join(format_case(c) for c in results["cases"].values()) + "\n"
