"""PruneConfig: the typed definition behind `sparsenet prune` (flags and TOML come from it)."""
from __future__ import annotations

from dataclasses import dataclass

from ...config import non_negative, option, positive
from ...errors import ConfigError
from ...rundir import OUT_HELP, RESUME_HELP, RUN_DIR_HELP
from ...train.execution import EXECUTION_HELP, EXECUTIONS
from ...train.runtime import DEVICE_HELP, SEED_HELP, THREADS_HELP, check_device_text, check_threads
from .. import choices


def _criteria_check(values) -> str | None:
    """Criterion names, ``random@NAME`` (random at NAME's per-layer densities) or ``han``."""
    from ...criteria import CRITERIA

    if not values:
        return "give at least one criterion"
    for v in values:
        base = v.split("@", 1)[1] if v.startswith("random@") else v
        if base != "han" and base not in CRITERIA.names():  # the model family (prune's)
            other = (f" ({base} is a {'/'.join(CRITERIA.get(base).families)} criterion: "
                     "sparsenet lottery --criterion)") if base in CRITERIA.names("all") else ""
            return (f"{v} is not a valid criterion{other}; valid: {', '.join(CRITERIA.names())}, han, "
                    "or random@NAME (random at NAME's per-layer densities)")
    return None


def _sparsities_check(values) -> str | None:
    if not values:
        return "give at least one sparsity"
    bad = [v for v in values if not 0 <= v < 1]
    return f"sparsity {bad[0]} must be in [0, 1)" if bad else None


def _densities_check(values) -> str | None:
    bad = [v for v in values if not 0 < v <= 1]
    return f"density {bad[0]} must be in (0, 1]" if bad else None



@dataclass(frozen=True)
class PruneConfig:
    dataset: str = option("fashion-mnist", help="dataset name", choices=choices.datasets)
    data_dir: str | None = option(None, help=choices.DATA_DIR_HELP)
    data_seed: int | None = option(None, help=choices.DATA_SEED_HELP)
    model: str = option("lenet300100", help="model name", choices=choices.models)
    spec: str | None = option(None, help="layer spec for --model mlp (784-300-100-10) or convnet (16-32:128)")
    activation: str | None = option(None, help="hidden activation (default: the model's)", choices=choices.activations)
    n_train: int | None = option(None, help="use only the first N training examples", check=positive)
    n_test: int | None = option(None, help="use only the first N test examples", check=positive)
    optimizer: str = option("adam", help="optimizer for training and retraining", choices=choices.optimizers)
    lr: float = option(1e-3, help="learning rate of the dense training", check=positive)
    momentum: float = option(0.9, help="SGD momentum", check=non_negative)
    weight_decay: float = option(0.0, help="L2 weight decay", check=non_negative)
    batch_size: int = option(128, help="examples per step", check=positive)
    init_from: str | None = option(None, help="load the dense model from this file instead of training it: the dense.pt of a prune run, a model.safetensors, or a torch.save(model.state_dict()) file, of the same --model/--spec")
    train_steps: int = option(4000, help="dense training steps before pruning (0 = prune at initialisation, as SNIP)", check=non_negative)
    criteria: tuple[str, ...] = option(("magnitude",), help="criteria to run (several = comparison); 'han' = Han et al. 2015 per-layer thresholds; random@NAME = random at NAME's per-layer densities", check=_criteria_check)
    sparsities: tuple[float, ...] = option((0.9,), help="target sparsities (fraction of weights removed) to sweep", check=_sparsities_check)
    scope: str = option("layerwise", help="selection per layer or one global ranking", choices=choices.scopes)
    allocation: str | None = option(None, help="per-layer allocation (overrides --scope)", choices=choices.allocations)
    structure: str = option("unstructured", help="what is removed", choices=choices.structures)
    min_density: float = option(0.0, help="per-layer density floor", check=non_negative)
    skip: tuple[str, ...] = option((), help="layers never pruned: names, globs, 'first' or 'last'")
    include_bias: bool = option(False, help="prune the biases of the pruned layers too, scored like their weights (some lottery-ticket protocols prune both); unstructured only")
    force: bool = option(False, help="prune even when a layer collapses (reported as a warning)")
    schedule: str = option("one-shot", help="when to prune during retraining", choices=choices.schedules)
    rounds: int = option(3, help="rounds of the iterative schedule", check=positive)
    retrain_steps: int = option(0, help="steps of retraining after pruning (0 = none)", check=non_negative)
    retrain_lr: float | None = option(None, help="retraining learning rate (default: lr / 10, as Han et al.)", check=positive)
    execution: str = option("auto", help=EXECUTION_HELP + "; --schedule gradual (its pattern changes while retraining) always trains masked", choices=EXECUTIONS)
    update: bool = option(True, help="apply the criterion's correction when pruning: OBS weight update (obs), bias folding (variance)")
    score_samples: int = option(256, help="training examples given to data-dependent criteria", check=positive)
    han_density: tuple[float, ...] = option((0.08, 0.09, 0.26), help="criterion 'han': final density per pruned layer (paper: fc1 8%, fc2 9%, fc3 26%)", check=_densities_check)
    han_iterations: int = option(3, help="criterion 'han': prune/retrain iterations", check=positive)
    remove_unconnected: bool = option(True, help="physically remove disconnected units afterwards and report the shrunk sizes")
    figure: str | None = option(None, help="also copy the accuracy-vs-sparsity figure to this path (e.g. docs/figures/prune_compare.png)")
    seed: int = option(0, help=SEED_HELP)
    threads: int = option(0, help=THREADS_HELP, check=check_threads)
    device: str = option("cpu", help=DEVICE_HELP, check=check_device_text)
    out: str = option("runs", help=OUT_HELP)
    run_dir: str | None = option(None, help=RUN_DIR_HELP)
    resume: bool = option(False, help=RESUME_HELP)
    progress: bool = option(True, help="show progress bars on a terminal")

    def validate(self) -> None:
        if "han" in self.criteria and self.structure != "unstructured":
            raise ConfigError("criterion 'han' prunes single weights: use --structure unstructured")
        if self.min_density > 1:
            raise ConfigError(f"--min-density {self.min_density} must be in [0, 1]")


__all__ = ["PruneConfig"]
