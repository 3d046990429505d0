"""Every recipe in recipes/ is valid for the command its table names: keys, values and choices
(e.g. criterion names) are checked by the same typed config the command builds."""
from pathlib import Path

import pytest

from sparsenet.config import build_config, load_toml

RECIPES = sorted((Path(__file__).resolve().parents[1] / "recipes").glob("*.toml"))


def _config_classes():
    from sparsenet.experiments.dst.config import DstConfig
    from sparsenet.experiments.lottery.config import LotteryConfig
    from sparsenet.experiments.prune.config import PruneConfig
    from sparsenet.experiments.train.config import TrainConfig

    return {"train": TrainConfig, "prune": PruneConfig, "lottery": LotteryConfig, "dst": DstConfig}


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
