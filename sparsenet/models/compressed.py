"""Model specs for the compressed layers and the recurrent net, so the CLI builds them by name:

    rnn           F-H-C                 Elman RNN classifier, each example read as steps of F values
                                        (in_features / F steps; images flattened row by row: F = 28
                                        gives 28 rows of 28), H tanh units, C classes
    hashed-mlp    784-1000-10@1/64      every layer a HashedLinear keeping 1/64 of its weights
                                        (``@0.015625`` works too)
    lowrank-mlp   784-300-10@196:dct    the first layer LowRankLinear of rank 196 with a fixed
                                        dictionary (se, gaussian or dct; pca and svd need data or a
                                        trained layer: build those in Python)
    kwta-mlp      784-1000-1000-10@0.1  k-winners-take-all after every hidden layer, 10% of the units on

``sparsenet train --model hashed-mlp --spec 784-1000-10@1/64``; in Python
``build_model("rnn", spec="28-128-10", in_features=784)``. Everything after ``@`` is the layer's
one setting; a bad spec is a one-line `ConfigError` naming the part to fix.
"""
from __future__ import annotations

import math
from fractions import Fraction

import torch
from torch import nn

from ..errors import ConfigError, SparsenetError
from .mlp import MLP
from .spec import parse_layer_spec

_DATA_FREE_DICTIONARIES = ("se", "gaussian", "dct")
# in_features -> the image shape it comes from (the se and dct dictionaries use pixel positions)
_IMAGE_SHAPES = {784: (28, 28), 3072: (3, 32, 32)}


def _split(name: str, spec: str | None, example: str, what: str) -> tuple[list[int], str]:
    if not isinstance(spec, str) or spec.count("@") != 1:
        raise ConfigError(f"model {name!r} needs a spec sizes@{what}, e.g. --spec {example}; got {spec!r}")
    sizes, arg = spec.split("@")
    return parse_layer_spec(sizes), arg.strip()


def _check_io(name: str, sizes: list[int], in_features, num_classes) -> None:
    if in_features is not None and sizes[0] != in_features:
        raise ConfigError(f"model {name!r}: spec starts with {sizes[0]} inputs but the data has {in_features}; "
                          f"make the spec start with {in_features}")
    if num_classes is not None and sizes[-1] != num_classes:
        raise ConfigError(f"model {name!r}: spec ends with {sizes[-1]} outputs but the data has {num_classes} "
                          f"classes; make the spec end with {num_classes}")


def _fraction(name: str, text: str, what: str, example: str) -> float:
    try:
        value = float(Fraction(text))
    except (ValueError, ZeroDivisionError):
        value = math.nan
    if not 0 < value <= 1:
        raise ConfigError(f"model {name!r}: {what} {text!r} must be a fraction in (0, 1], e.g. {example}")
    return value


def _wrap(name: str, make):
    """Layer errors (SparsenetError) become ConfigErrors naming the model, for the CLI's one line."""
    try:
        return make()
    except ConfigError:
        raise
    except SparsenetError as e:
        raise ConfigError(f"model {name!r}: {e}") from None


def build_rnn(*, spec=None, activation=None, in_features=None, num_classes=None, leaky_slope=0.01) -> nn.Module:
    """`RNNClassifier` from ``"F-H-C"``: steps of F values (in_features / F of them), H units, C classes."""
    from ..nn.rnn import RNNClassifier

    example = "28-128-10 (28 values per step, 128 units, 10 classes)"
    sizes = parse_layer_spec(spec) if isinstance(spec, str) else None
    if sizes is None or len(sizes) != 3:
        raise ConfigError(f"model 'rnn' needs a spec F-H-C, e.g. --spec {example}; got {spec!r}")
    if activation not in (None, "tanh"):
        raise ConfigError(f"model 'rnn' is a tanh Elman RNN; drop --activation {activation} (or use tanh)")
    per, hidden, classes = sizes
    n = per if in_features is None else in_features
    if n % per:
        raise ConfigError(f"model 'rnn': {n} input features do not split into steps of {per} values; "
                          f"give an F that divides {n} (images: their width, e.g. 28)")
    _check_io("rnn", [n, classes], in_features, num_classes)
    return _wrap("rnn", lambda: RNNClassifier(per, hidden, classes, seq_len=n // per))


def build_hashed_mlp(*, spec=None, activation=None, in_features=None, num_classes=None,
                     leaky_slope=0.01) -> MLP:
    """An `MLP` whose every layer is a `HashedLinear` at one compression (ReLU unless told)."""
    from ..nn import HashedLinear

    sizes, arg = _split("hashed-mlp", spec, "784-1000-10@1/64", "compression")
    _check_io("hashed-mlp", sizes, in_features, num_classes)
    c = _fraction("hashed-mlp", arg, "compression", "@1/64 or @0.125")
    model = MLP(sizes, activation="relu" if activation is None else activation, leaky_slope=leaky_slope)
    model.layers = nn.ModuleList(_wrap("hashed-mlp", lambda: [HashedLinear(a, b, compression=c, seed=i + 1)
                                 for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))]))
    return model


def build_lowrank_mlp(*, spec=None, activation=None, in_features=None, num_classes=None,
                      leaky_slope=0.01) -> MLP:
    """An `MLP` whose first layer is a `LowRankLinear` W = U V with U a fixed dictionary (ReLU unless told)."""
    from ..nn import LowRankLinear

    example = "784-300-10@196:dct"
    sizes, arg = _split("lowrank-mlp", spec, example, "rank:dictionary")
    _check_io("lowrank-mlp", sizes, in_features, num_classes)
    rank_text, _, dictionary = arg.partition(":")
    dictionary = dictionary or "dct"
    if not rank_text.isdigit() or int(rank_text) < 1:
        raise ConfigError(f"model 'lowrank-mlp': rank {rank_text!r} must be a positive integer, e.g. {example}")
    if dictionary not in _DATA_FREE_DICTIONARIES:
        raise ConfigError(f"model 'lowrank-mlp': dictionary {dictionary!r} is not one the CLI can build; valid: "
                          f"{', '.join(_DATA_FREE_DICTIONARIES)} (pca and svd need data or a trained layer: "
                          "sparsenet.nn.LowRankLinear in Python)")
    options = {} if dictionary == "gaussian" else {"input_shape": _IMAGE_SHAPES.get(sizes[0])}
    model = MLP(sizes, activation="relu" if activation is None else activation, leaky_slope=leaky_slope)
    model.layers[0] = _wrap("lowrank-mlp", lambda: LowRankLinear(sizes[0], sizes[1], int(rank_text),
                                                                 dictionary=dictionary, **options))
    return model


class KWinnersMLP(MLP):
    """An `MLP` with `KWinners` instead of an activation after every hidden layer (``self.kwinners``)."""

    def __init__(self, sizes: list[int], percent_on: float, **kwinners_options):
        from ..nn import KWinners

        super().__init__(sizes, activation="relu")
        self.kwinners = nn.ModuleList(KWinners(h, percent_on=percent_on, **kwinners_options) for h in sizes[1:-1])
        self.activation = f"k-winners {percent_on:g}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1)
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.kwinners):
                x = self.kwinners[i](x)
        return x

    def extra_repr(self) -> str:
        return f"spec={self.spec!r}, {self.activation}"


def build_kwta_mlp(*, spec=None, activation=None, in_features=None, num_classes=None,
                   leaky_slope=0.01) -> KWinnersMLP:
    """A `KWinnersMLP`: k-WTA (with boosting) after each hidden layer, a fraction of units on."""
    sizes, arg = _split("kwta-mlp", spec, "784-1000-1000-10@0.1", "fraction on")
    _check_io("kwta-mlp", sizes, in_features, num_classes)
    if activation is not None:
        raise ConfigError(f"model 'kwta-mlp' uses k-winners as its activation; drop --activation {activation}")
    if len(sizes) < 3:
        raise ConfigError(f"model 'kwta-mlp': spec {spec!r} has no hidden layer for k-winners; e.g. 784-1000-10@0.1")
    on = _fraction("kwta-mlp", arg, "fraction on", "@0.1")
    return _wrap("kwta-mlp", lambda: KWinnersMLP(sizes, on))


__all__ = ["KWinnersMLP", "build_hashed_mlp", "build_kwta_mlp", "build_lowrank_mlp", "build_rnn"]
