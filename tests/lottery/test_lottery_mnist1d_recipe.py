"""recipes/lottery-mnist1d.toml: its values fit MNIST-1D, and a reduced run of it works end to end."""
from pathlib import Path

from sparsenet.cli import main
from sparsenet.config import build_config
from sparsenet.experiments.lottery.run import LotteryData, builder, check_feasible, run_lottery
from sparsenet.experiments.lottery.config import LotteryConfig

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "lottery-mnist1d.toml"


def test_recipe_parses_with_values_that_fit_mnist1d():
    c = build_config(LotteryConfig, toml_path=RECIPE)
    assert (c.dataset, c.model, c.spec, c.data_seed) == ("mnist1d", "mlp", "40-100-100-10", 42)
    assert c.n_val == 500 and c.output_rate is None and c.rate == 0.2 and c.levels == 12
    data = LotteryData(c)  # the default n_val (5000) would not fit the 4000 training examples
    assert data.train[0].shape == (3500, 40) and data.val[0].shape == (500, 40) and data.notes == []
    counts = check_feasible(c, builder(c, data)())  # every level keeps every layer non-empty
    # output_rate none: the output layer shrinks like the others, round(0.8 * alive) per level
    for name, alive in (("layers.0.weight", 40 * 100), ("layers.1.weight", 100 * 100), ("layers.2.weight", 100 * 10)):
        for level in range(1, 13):
            alive = round(0.8 * alive)
            assert counts[level][name] == alive
    # 4000 -> 3200 2560 2048 1638 1310 1048 838 670 536 429 343 274: 6.9% remains at level 12
    assert counts[12] == {"layers.0.weight": 274, "layers.1.weight": 687, "layers.2.weight": 69}


def test_reduced_run_of_the_recipe_works(tmp_path):
    c = build_config(LotteryConfig, toml_path=RECIPE, overrides=dict(
        steps=40, eval_every=20, levels=2, control_levels=[2], controls=["reinit"], seeds=[0],
        supermask_criteria=["large_final"], progress=False, run_dir=str(tmp_path)))
    r = run_lottery(c)
    assert {(row["level"], row["kind"]) for row in r["rows"]} == {(0, "ticket"), (1, "ticket"), (2, "ticket"),
                                                                  (2, "reinit")}
    assert r["data"] == {"dataset": "mnist1d", "source": r["data"]["source"], "data_seed": 42,
                         "n_train": 3500, "n_val": 500, "n_test": 1000}
    assert all(row["early_stop_step"] in (20, 40) for row in r["rows"])
    assert main(["report", str(tmp_path)]) == 0
    text = (tmp_path / "report.md").read_text()
    assert "Data: mnist1d, generated with data seed 42: 3500 training, 500 validation" in text
