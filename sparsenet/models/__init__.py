"""Model builders: parse specs, build MLPs / LeNet-300-100 by name, activations by name."""
from .activations import ACTIVATIONS, activation_fn, activation_names
from .builders import MODELS, build_lenet300100, build_mlp, build_model, model_names
from .mlp import MLP
from .spec import format_layer_spec, parse_layer_spec

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "MODELS",
    "activation_fn",
    "activation_names",
    "build_lenet300100",
    "build_mlp",
    "build_model",
    "format_layer_spec",
    "model_names",
    "parse_layer_spec",
]
