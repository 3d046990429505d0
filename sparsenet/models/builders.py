"""Model registry: ``build_model("mlp", spec="784-300-100-10")``, ``build_model("lenet300100")``,
``build_model("convnet", spec="16-32:128")``."""
from __future__ import annotations

from typing import Callable

from torch import nn

from ..errors import ConfigError
from ..registry import Registry
from .compressed import build_hashed_mlp, build_kwta_mlp, build_lowrank_mlp, build_rnn
from .convnet import build_convnet
from .mlp import MLP
from .spec import parse_layer_spec

MODELS: Registry[Callable[..., nn.Module]] = Registry("model")


def _check_count(what: str, value) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
        raise ConfigError(f"{what} must be a positive integer, got {value!r}")


@MODELS.register("mlp")
def build_mlp(
    *,
    spec: str | None = None,
    activation: str | None = None,
    in_features: int | None = None,
    num_classes: int | None = None,
    leaky_slope: float = 0.01,
) -> MLP:
    """An `MLP` from a spec such as ``"784-300-100-10"`` (tanh unless `activation` says otherwise).

    When given, `in_features` / `num_classes` (e.g. from the dataset) must equal the spec's first
    / last size.
    """
    if spec is None:
        raise ConfigError("model 'mlp' needs a layer spec, e.g. spec='784-300-100-10'")
    sizes = parse_layer_spec(spec)
    _check_count("in_features", in_features)
    _check_count("num_classes", num_classes)
    if in_features is not None and sizes[0] != in_features:
        raise ConfigError(
            f"layer spec {spec!r} starts with {sizes[0]} inputs but the data has "
            f"in_features={in_features}; make the spec start with {in_features}"
        )
    if num_classes is not None and sizes[-1] != num_classes:
        raise ConfigError(
            f"layer spec {spec!r} ends with {sizes[-1]} outputs but the data has "
            f"num_classes={num_classes}; make the spec end with {num_classes}"
        )
    return MLP(sizes, activation="tanh" if activation is None else activation, leaky_slope=leaky_slope)


@MODELS.register("lenet300100")
def build_lenet300100(
    *,
    spec: str | None = None,
    activation: str | None = None,
    in_features: int | None = None,
    num_classes: int | None = None,
    leaky_slope: float = 0.01,
) -> MLP:
    """LeNet-300-100: ``in_features-300-100-num_classes`` (default 784-300-100-10), ReLU.

    The fully connected network of LeCun, Bottou, Bengio & Haffner, "Gradient-based learning
    applied to document recognition", Proc. IEEE 86(11), 1998. ReLU by default, as used for
    the lottery-ticket experiments of Frankle & Carbin, "The Lottery Ticket Hypothesis: Finding
    Sparse, Trainable Neural Networks", ICLR 2019 (arXiv:1803.03635); the 1998 paper used
    sigmoid-like units.
    """
    if spec is not None:
        raise ConfigError(
            f"model 'lenet300100' has fixed hidden sizes 300-100 and takes no spec (got {spec!r}); "
            "use model 'mlp' with spec=... for other sizes"
        )
    _check_count("in_features", in_features)
    _check_count("num_classes", num_classes)
    sizes = [784 if in_features is None else in_features, 300, 100, 10 if num_classes is None else num_classes]
    return MLP(sizes, activation="relu" if activation is None else activation, leaky_slope=leaky_slope)


MODELS.register("convnet", build_convnet)  # small conv-pool-fc net (models/convnet.py)
# the compressed layers and the recurrent net (models/compressed.py)
MODELS.register("rnn", build_rnn)
MODELS.register("hashed-mlp", build_hashed_mlp)
MODELS.register("lowrank-mlp", build_lowrank_mlp)
MODELS.register("kwta-mlp", build_kwta_mlp)

# Models whose shape comes from --spec (the others have fixed or default shapes), and a small example
# spec of each for 784 inputs and 10 classes (`example_spec`; the conformance suite builds these).
SPEC_MODELS = ("mlp", "rnn", "hashed-mlp", "lowrank-mlp", "kwta-mlp")
_EXAMPLE_SPECS = {"mlp": "784-16-10", "rnn": "28-16-10", "hashed-mlp": "784-16-10@1/8",
                  "lowrank-mlp": "784-16-10@8:dct", "kwta-mlp": "784-16-10@0.25"}


def example_spec(name: str) -> str | None:
    """A small spec model `name` builds from with 784 inputs and 10 classes (None: it needs none).
    A builder registered later declares its own as ``builder.example_spec = "..."``."""
    return getattr(MODELS.get(name), "example_spec", _EXAMPLE_SPECS.get(name))


def model_names() -> list[str]:
    """Names of the registered model builders, sorted."""
    return MODELS.names()


def build_model(
    name: str,
    *,
    spec: str | None = None,
    activation: str | None = None,
    in_features: int | None = None,
    num_classes: int | None = None,
    leaky_slope: float = 0.01,
) -> nn.Module:
    """Build the registered model `name`; an unknown name raises `ConfigError` listing the valid ones.

    >>> build_model("lenet300100").sizes
    [784, 300, 100, 10]
    >>> build_model("mlp", spec="20-8-4", activation="relu").sizes
    [20, 8, 4]
    """
    if not isinstance(name, str) or name not in MODELS:
        raise ConfigError(f"unknown model {name!r}; valid models: {', '.join(model_names())}")
    return MODELS.get(name)(
        spec=spec,
        activation=activation,
        in_features=in_features,
        num_classes=num_classes,
        leaky_slope=leaky_slope,
    )
