"""Lottery tickets, weak and strong.

* `imp`: iterative magnitude pruning with rewinding (Frankle & Carbin 2019; Frankle et al. 2020).
* `controls`: reinit / reshuffle / signed constant / random mask (Zhou et al. 2019).
* `mask_criteria`: Zhou et al.'s mask criteria (the ``ticket`` family of `sparsenet.criteria.CRITERIA`);
  `supermask`: masks evaluated untrained.
* `early_bird`: early-bird tickets (You et al. 2020).
* `edge_popup`, `strong`: subnetworks of frozen random nets (Ramanujan et al. 2020; Malach et al. 2020).
* `double_descent`: label noise for the sparse double descent sweep.

The `sparsenet lottery` command (`sparsenet.experiments.lottery`) runs them as resumable levels.
"""
from .controls import CONTROLS, constant_state, control_start, random_masks, reinit_state, reshuffle_state
from .double_descent import noisy_labels
from .errors import LevelError, PruneRateError, RewindError, TopKError
from .imp import check_rate, layer_rates, level_counts, prune_level, rewind
from .mask_criteria import criterion_names, mask_scores
from .supermask import supermask_accuracy, supermask_table
from .training import KeepMasked, TrainSpec, train_masked

__all__ = [
    "CONTROLS", "KeepMasked", "LevelError", "PruneRateError", "RewindError", "TopKError",
    "TrainSpec", "check_rate", "constant_state", "control_start", "criterion_names", "layer_rates",
    "level_counts", "mask_scores", "noisy_labels", "prune_level", "random_masks", "reinit_state",
    "reshuffle_state", "rewind", "supermask_accuracy", "supermask_table", "train_masked",
]
