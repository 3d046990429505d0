"""The package's import structure: lower layers never import upper ones, and no module import cycles.

Layers, lowest first: the building blocks (data, models, masks, nn, kernels, criteria, allocation,
schedules, optim, train, lottery, prune, bench) < report (reads run directories) < experiments (the
commands) < cli. The check reads the source (nothing is imported), so it also sees imports inside
functions.
"""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "sparsenet"
UPPER = {"report": ("experiments", "cli"), "experiments": ("cli",)}
LOWER_FORBIDDEN = ("report", "experiments", "cli")  # what building blocks must not import


def _modules() -> dict[str, Path]:
    mods = {}
    for f in ROOT.rglob("*.py"):
        parts = list(f.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = f
    return mods


def _imports(mod: str, path: Path, mods: dict) -> set[str]:
    pkg = mod.split(".") if path.name == "__init__.py" else mod.split(".")[:-1]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(pkg[: len(pkg) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        out |= {n for n in names if n in mods and n != mod and not mod.startswith(n + ".")}
    return out


def _layer(mod: str) -> str:
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_no_upward_imports():
    mods = _modules()
    bad = []
    for mod, path in mods.items():
        layer = _layer(mod)
        forbidden = UPPER.get(layer, () if layer in ("cli", "", "__main__") else LOWER_FORBIDDEN)
        for target in _imports(mod, path, mods):
            if _layer(target) in forbidden:
                bad.append(f"{mod} -> {target}")
    assert not bad, "upward imports: " + "; ".join(sorted(bad))


def test_no_import_cycles_between_modules():
    mods = _modules()
    leaf = {m for m, p in mods.items() if p.name != "__init__.py"}
    edges = {m: {t for t in _imports(m, mods[m], mods) if t in leaf} for m in leaf}
    cycles, state = [], {}

    def visit(u, stack):
        state[u] = 1
        for v in edges[u]:
            if state.get(v) == 1:
                cycles.append(" -> ".join(stack[stack.index(v):] + [v]))
            elif v not in state:
                visit(v, stack + [v])
        state[u] = 2

    for m in sorted(leaf):
        if m not in state:
            visit(m, [m])
    assert not cycles, "import cycles: " + "; ".join(cycles)


def test_the_checks_see_a_planted_upward_import(tmp_path, monkeypatch):
    # the import reader resolves relative imports the way Python does
    mods = {"sparsenet.report.x": tmp_path / "x.py", "sparsenet.experiments.lottery": tmp_path / "l.py"}
    (tmp_path / "x.py").write_text("def f():\n    from ..experiments.lottery import run\n")
    assert _imports("sparsenet.report.x", tmp_path / "x.py", mods) == {"sparsenet.experiments.lottery"}
