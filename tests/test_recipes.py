"""Every recipe in recipes/ is valid for the command its table names: keys, values and choices
(e.g. criterion names) are checked by the same typed config the command builds. A sweep recipe
(a [sweep] table) is valid when every one of its trials builds."""
from pathlib import Path

import pytest

from sparsenet.config import build_config, load_toml

RECIPES = sorted((Path(__file__).resolve().parents[1] / "recipes").glob("*.toml"))
SWEEPS = [p for p in RECIPES if "sweep" in load_toml(p)]
RECIPES = [p for p in RECIPES if p not in SWEEPS]


def _config_classes():
    from sparsenet.experiments.dst.config import DstConfig
    from sparsenet.experiments.lottery.config import LotteryConfig
    from sparsenet.experiments.prune.config import PruneConfig
    from sparsenet.experiments.search.config import SearchConfig
    from sparsenet.experiments.train.config import TrainConfig

    return {"train": TrainConfig, "prune": PruneConfig, "lottery": LotteryConfig, "dst": DstConfig, "search": SearchConfig}


def test_there_are_recipes():
    assert len(RECIPES) >= 10


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.name)
def test_recipe_builds_its_commands_config(path):
    classes = _config_classes()
    tables = [t for t, v in load_toml(path).items() if isinstance(v, dict)]
    assert tables, f"{path.name} has no [command] table"
    for table in tables:
        assert table in classes, f"{path.name}: [{table}] is not a command with recipes"
        cfg = build_config(classes[table], toml_path=path)  # raises a one-line ConfigError on a bad key/value
        assert type(cfg) is classes[table]


def test_there_are_sweep_recipes():
    assert {p.name for p in SWEEPS} >= {"sweep-lottery-quick.toml", "sweep-lottery-lenet300100.toml",
                                        "sweep-prune-criteria.toml"}


@pytest.mark.parametrize("path", SWEEPS, ids=lambda p: p.name)
def test_sweep_recipe_builds_every_trial(path):
    from sparsenet.experiments.sweep.spec import load_sweep, trials

    cfg, spec = load_sweep(path)
    built = trials(cfg, spec, threads=1)  # raises a one-line ConfigError naming every bad point
    assert len(built) == len(spec.expand()) >= 3
    assert spec.seed_keys == ["seed"]
    assert len({t.id for t in built}) == len(built)
