"""BenchConfig: the typed definition behind `sparsenet bench` (flags and TOML come from it)."""
from __future__ import annotations

from dataclasses import dataclass

from ...config import all_positive, non_negative, option, positive
from ...errors import ConfigError
from .. import choices
from ...train.runtime import SEED_HELP, THREADS_HELP, check_threads

FULL_SHAPES = ("4096x4096x128", "4096x4096x32", "1024x1024x128", "4096x4096x1")
QUICK_SHAPES = ("256x256x64", "256x256x1")


def _check_shapes(shapes) -> str | None:
    for s in shapes:
        try:
            _parse_shape(s)
        except ConfigError as e:
            return str(e)
    return None


def _parse_shape(s: str) -> tuple[int, int, int]:
    parts = s.lower().split("x")
    if len(parts) != 3 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise ConfigError(f"bad shape {s!r}: write OUTxINxBATCH with positive integers, e.g. 4096x4096x128")
    return int(parts[0]), int(parts[1]), int(parts[2])


INFERENCE_MODELS = ("784-300-100-10", "784-4096-4096-10")
QUICK_INFERENCE_MODELS = ("64-256-256-10",)


def _check_models(specs) -> str | None:
    from ...models import parse_layer_spec

    for s in specs:
        try:
            parse_layer_spec(s)
        except ConfigError as e:  # it names the spec and shows a valid one
            return str(e)
    return None


def _check_fractions(values) -> str | None:
    bad = [v for v in values if not 0 < v < 1]
    return f"every entry must be in (0, 1), got {bad[0]}" if bad else None


@dataclass(frozen=True)
class BenchConfig:
    suite: str = option("all", help="what to measure (all = layer + mlp; inference runs on its own)",
                        choices=("all", "layer", "mlp", "inference"))
    shapes: tuple[str, ...] = option(FULL_SHAPES, help="layer shapes OUTxINxBATCH", check=_check_shapes)
    densities: tuple[float, ...] = option((0.10, 0.05, 0.02, 0.01), help="fractions of weights kept", check=_check_fractions)
    contenders: tuple[str, ...] = option((), help="layer contenders (default: dense, torch.sparse, sparsenet and installed sparseprop/sparselab)")
    mlp: str = option("784-4096-4096-10", help="MLP layer sizes for the mlp suite")
    mlp_batches: tuple[int, ...] = option((128, 1), help="batch sizes of the mlp suite", check=all_positive)
    mlp_sparsities: tuple[float, ...] = option((0.90, 0.99), help="sparsities (fraction zero) of the mlp suite", check=_check_fractions)
    inference_models: tuple[str, ...] = option(INFERENCE_MODELS, help="MLPs of the inference suite (LeNet-300-100 and a wide one)", check=_check_models)
    inference_batches: tuple[int, ...] = option((1, 32, 256), help="batch sizes of the inference suite", check=all_positive)
    inference_sparsities: tuple[float, ...] = option((0.90, 0.95, 0.99), help="sparsities (fraction zero) of the inference suite", check=_check_fractions)
    activation: str = option("relu", help="MLP activation", choices=choices.activations)
    repeats: int = option(5, help="timed rounds; the minimum is reported", check=positive)
    warmup: int = option(2, help="untimed calls before timing", check=non_negative)
    threads: int = option(0, help=THREADS_HELP + " (the benchmark times CPU kernels: it has no --device)", check=check_threads)
    seed: int = option(0, help=SEED_HELP + ": random patterns, weights and batches")
    quick: bool = option(False, help=f"tiny shapes ({', '.join(QUICK_SHAPES)}; MLPs 64-256-256-10) for a smoke test")
    out: str = option("runs/bench", help="output directory (results.json, table.md)")
    resume: bool = option(True, help="keep cases already in OUT/results.json measured with the same settings")
