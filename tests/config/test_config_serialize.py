"""Configs written out and read back: dict/JSON, TOML, hashes and run names."""
from __future__ import annotations

import dataclasses
import doctest
import hashlib
import inspect
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import sparsenet.config
from sparsenet.config import (
    all_positive,
    build_config,
    config_from_dict,
    config_hash,
    config_to_dict,
    dump_toml,
    load_toml,
    non_default_items,
    option,
    positive,
    run_name,
)
from sparsenet.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class RunConfig:
    lr: float = option(0.01, help="learning rate", check=positive)
    widths: tuple[int, ...] = option((16, 32), help="hidden widths", check=all_positive)
    names: tuple[str, ...] = option(("a",), help="labels")
    resume: bool = option(False, help="resume from the last checkpoint")
    out: str = option("runs", help="output directory")
    data_dir: str | None = option(None, help="where the data lives")
    sparsity: float | None = option(0.5, help="fraction of weights removed")
    note: str = option("", help="free text")


HASH_SCRIPT = """
from __future__ import annotations
from dataclasses import dataclass
from sparsenet.config import all_positive, config_hash, option, positive
{cls}
print(config_hash(RunConfig(lr=0.1, widths=(8, 8), resume=True)))
"""


def custom() -> RunConfig:
    return RunConfig(lr=0.5, widths=(8,), names=(), resume=True, data_dir="/d", sparsity=None,
                     note='quote " backslash \\ tab \t newline \n del \x7f é')


# ---------------------------------------------------------------------------- dict / JSON
def test_config_to_dict_is_json_safe_and_in_field_order():
    d = config_to_dict(RunConfig())
    assert d == {"lr": 0.01, "widths": [16, 32], "names": ["a"], "resume": False, "out": "runs",
                 "data_dir": None, "sparsity": 0.5, "note": ""}
    assert list(d) == [f.name for f in dataclasses.fields(RunConfig)]


@pytest.mark.parametrize("cfg", [RunConfig(), custom()])
def test_dict_round_trip_through_json(cfg):
    text = json.dumps(config_to_dict(cfg))
    back = config_from_dict(RunConfig, json.loads(text))
    assert back == cfg and isinstance(back.widths, tuple)


def test_config_from_dict_validates_like_a_file():
    with pytest.raises(ConfigError, match=r"invalid lr = 0 in run/config\.json: must be > 0"):
        config_from_dict(RunConfig, {"lr": 0}, source="run/config.json")
    with pytest.raises(ConfigError, match=r"unknown key 'depth'.*valid keys: lr, widths, names"):
        config_from_dict(RunConfig, {"depth": 3})
    with pytest.raises(ConfigError, match=r"invalid --widths 8,x: expected a list of integers"):
        config_from_dict(RunConfig, {"widths": [8, "x"]})
    assert config_from_dict(RunConfig, {"lr": 0.2}) == RunConfig(lr=0.2)


def test_non_default_items():
    assert non_default_items(RunConfig()) == {}
    assert non_default_items(RunConfig(lr=0.1, sparsity=None)) == {"lr": 0.1, "sparsity": None}


# ----------------------------------------------------------------------------- hash / name
def test_hash_is_sha256_of_the_sorted_json_of_non_default_items():
    # Written out by hand so that a change of format (which would rename every run) fails here.
    cfg = RunConfig(widths=(8, 8), lr=0.1)
    expected = hashlib.sha256(b'{"lr":0.1,"widths":[8,8]}').hexdigest()[:8]
    assert config_hash(cfg) == expected
    assert run_name("train", cfg) == f"train-{expected}"


def test_hash_is_stable_across_processes():
    script = HASH_SCRIPT.format(cls=inspect.getsource(RunConfig))
    hashes = set()
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed,
                   PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
        out = subprocess.run([sys.executable, "-c", script], env=env,
                             capture_output=True, text=True, check=True)
        hashes.add(out.stdout.strip())
    assert hashes == {config_hash(RunConfig(lr=0.1, widths=(8, 8), resume=True))}


def test_hash_changes_with_any_hashed_value():
    base = config_hash(RunConfig())
    variants = [RunConfig(lr=0.02), RunConfig(widths=(16, 32, 64)), RunConfig(widths=(32, 16)),
                RunConfig(names=()), RunConfig(sparsity=None), RunConfig(note="x")]
    hashes = [config_hash(c) for c in variants]
    assert base not in hashes and len(set(hashes)) == len(hashes)
    assert all(len(h) == 8 and int(h, 16) >= 0 for h in hashes)


def test_excluded_keys_do_not_change_hash_or_name():
    cfg = RunConfig(lr=0.2)
    same = RunConfig(lr=0.2, resume=True, out="elsewhere", data_dir="/mnt/data")
    assert config_hash(same) == config_hash(cfg)
    assert run_name("train", same) == run_name("train", cfg)
    assert config_hash(cfg, exclude=("lr",)) == config_hash(RunConfig())
    assert config_hash(same, exclude=()) != config_hash(cfg, exclude=())


def test_run_name_is_default_when_nothing_hashed_differs():
    assert run_name("train", RunConfig()) == "train-default"
    assert run_name("train", RunConfig(resume=True, out="x")) == "train-default"
    assert run_name("train", RunConfig(lr=0.5)).startswith("train-")
    assert run_name("train", RunConfig(lr=0.5)) != "train-default"


def test_ints_given_for_floats_hash_like_floats():
    assert config_hash(build_config(RunConfig, overrides={"lr": 1})) == config_hash(RunConfig(lr=1.0))


# ------------------------------------------------------------------------------------ TOML
@pytest.mark.parametrize("cfg", [RunConfig(), custom(), RunConfig(widths=(), sparsity=0.0)])
def test_dump_toml_round_trips_through_build_config(tmp_path, cfg):
    path = tmp_path / "resolved.toml"
    path.write_text(dump_toml(cfg), encoding="utf-8")
    assert build_config(RunConfig, toml_path=path) == cfg


def test_dump_toml_lines():
    text = dump_toml(RunConfig(widths=(4, 5), sparsity=None))
    lines = text.splitlines()
    assert "widths = [4, 5]" in lines and 'names = ["a"]' in lines and "resume = false" in lines
    assert "# learning rate" in lines and "lr = 0.01" in lines
    # None with a None default: left out, with a comment; None over another default: "none".
    assert not any(line.startswith("data_dir") for line in lines)
    assert any(line.startswith("# data_dir = none") for line in lines)
    assert 'sparsity = "none"' in lines


def test_dumped_toml_parses_back_to_the_same_values(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(dump_toml(custom()), encoding="utf-8")
    data = load_toml(path)
    assert data["note"] == custom().note and data["names"] == [] and data["lr"] == 0.5


def test_module_docstring_examples_run():
    result = doctest.testmod(sparsenet.config, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
