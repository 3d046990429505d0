"""Fixtures for the dataset tests: an isolated lookup environment."""
from __future__ import annotations

from pathlib import Path

import pytest

from sparsenet.data import lookup

ENV_VARS = (
    "SPARSENET_DATA_DIR",
    "SPARSENET_FASHION_MNIST_DIR",
    "SPARSENET_MNIST_DIR",
    "SPARSENET_CIFAR10_DIR",
    "SPARSENET_CIFAR100_DIR",
)


@pytest.fixture
def isolated(tmp_path, monkeypatch) -> Path:
    """No dataset env vars, an empty fake /usr/share/datasets and an empty cache dir.

    Returns the fake system root (tmp_path / "system"); files put in its `fashion-mnist` or `mnist`
    subfolder play the role of the Debian package.
    """
    for v in ENV_VARS:
        monkeypatch.delenv(v, raising=False)
    system = tmp_path / "system"
    system.mkdir()
    monkeypatch.setattr(lookup, "SYSTEM_ROOT", system)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return system
