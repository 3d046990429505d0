"""A small convnet for 28×28×1 and 32×32×3 images: conv-pool blocks then fully connected layers.

``ConvNet(input_shape=(1, 28, 28), channels=(16, 32), hidden=(128,), num_classes=10)`` is
conv3×3(pad 1) → act → maxpool2, once per entry of `channels`, then flatten and
``Linear`` layers through `hidden` to `num_classes` (act between them). Parameters are
``convs.i.weight/bias`` and ``fcs.i.weight/bias``. Flat inputs ``(B, C·H·W)`` are reshaped, so the
flattened datasets used for MLPs work too. Spec strings: ``"16-32:128"`` = channels 16, 32 and one
hidden layer of 128 (``"16-32:"`` = no hidden layer).
"""
from __future__ import annotations

import math
import warnings

import torch
from torch import nn

from ..errors import ConfigError, SparsenetError
from .activations import activation_fn, check_activation

DEFAULT_SPEC = "16-32:128"
_SHAPES = {784: (1, 28, 28), 3072: (3, 32, 32)}


class ConvNet(nn.Module):
    def __init__(self, input_shape=(1, 28, 28), channels=(16, 32), hidden=(128,), num_classes: int = 10,
                 kernel: int = 3, activation: str = "relu", leaky_slope: float = 0.01):
        super().__init__()
        check_activation(activation, leaky_slope)
        input_shape, channels, hidden = tuple(input_shape), tuple(channels), tuple(hidden)
        if len(input_shape) != 3 or any(int(s) < 1 for s in input_shape):
            raise ConfigError(f"ConvNet input_shape must be (C, H, W), got {input_shape}")
        if not channels or any(isinstance(c, bool) or not isinstance(c, int) or c < 1 for c in channels):
            raise ConfigError(f"ConvNet channels must be positive integers, got {channels}")
        if any(isinstance(h, bool) or not isinstance(h, int) or h < 1 for h in hidden):
            raise ConfigError(f"ConvNet hidden widths must be positive integers, got {hidden}")
        c, h, w = input_shape
        if h >> len(channels) < 1 or w >> len(channels) < 1:
            raise ConfigError(f"ConvNet: {len(channels)} pooling stages shrink {h}x{w} images to nothing")
        self.input_shape, self.channels, self.hidden = input_shape, channels, hidden
        self.num_classes, self.kernel = int(num_classes), int(kernel)
        self.activation, self.leaky_slope = activation, float(leaky_slope)
        self._act = activation_fn(activation, self.leaky_slope)
        self.convs = nn.ModuleList()
        for c_out in channels:
            self.convs.append(nn.Conv2d(c, c_out, kernel, padding=kernel // 2))
            c = c_out
        self.spatial = (h >> len(channels)) * (w >> len(channels))  # positions per channel after pooling
        sizes = [c * self.spatial, *hidden, self.num_classes]
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Initializing zero-element tensors is a no-op")
            self.fcs = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    @property
    def spec(self) -> str:
        return "-".join(map(str, self.channels)) + ":" + "-".join(map(str, self.hidden))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:
            if x.shape[1] != math.prod(self.input_shape):
                raise SparsenetError(f"ConvNet expects {math.prod(self.input_shape)} features per example "
                                     f"(shape {self.input_shape}), got {x.shape[1]}")
            x = x.reshape(x.shape[0], *self.input_shape)
        if x.dim() != 4:
            raise SparsenetError(f"ConvNet expects (B, C, H, W) or (B, C*H*W) inputs, got shape {tuple(x.shape)}")
        for conv in self.convs:
            x = nn.functional.max_pool2d(self._act(conv(x)), 2)
        x = x.flatten(1)
        last = len(self.fcs) - 1
        for i, fc in enumerate(self.fcs):
            x = fc(x)
            if i < last:
                x = self._act(x)
        return x

    def extra_repr(self) -> str:
        return f"spec={self.spec!r}, input_shape={self.input_shape}, activation={self.activation!r}"


def parse_convnet_spec(spec: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """``"16-32:128"`` -> ``((16, 32), (128,))``."""
    example = "a valid spec looks like '16-32:128' (conv channels : hidden widths)"
    if not isinstance(spec, str) or spec.count(":") != 1:
        raise ConfigError(f"invalid convnet spec {spec!r}: {example}")
    conv_part, fc_part = (p.strip() for p in spec.split(":"))

    def ints(part: str, allow_empty: bool) -> tuple[int, ...]:
        if not part:
            if allow_empty:
                return ()
            raise ConfigError(f"invalid convnet spec {spec!r}: no conv channels; {example}")
        try:
            vals = tuple(int(p) for p in part.split("-"))
        except ValueError:
            raise ConfigError(f"invalid convnet spec {spec!r}: {part!r} is not integers joined by '-'; {example}") from None
        if any(v < 1 for v in vals):
            raise ConfigError(f"invalid convnet spec {spec!r}: sizes must be positive; {example}")
        return vals

    return ints(conv_part, False), ints(fc_part, True)


def build_convnet(*, spec: str | None = None, activation: str | None = None, in_features: int | None = None,
                  num_classes: int | None = None, leaky_slope: float = 0.01) -> ConvNet:
    """Registry builder: ``build_model("convnet", spec="16-32:128", in_features=784)``.

    `in_features` 784 means 1×28×28 images, 3072 means 3×32×32 (default 784).
    """
    channels, hidden = parse_convnet_spec(DEFAULT_SPEC if spec is None else spec)
    n = 784 if in_features is None else in_features
    if n not in _SHAPES:
        raise ConfigError(f"model 'convnet' takes 28x28x1 (784) or 32x32x3 (3072) inputs, got in_features={n}")
    return ConvNet(_SHAPES[n], channels, hidden, 10 if num_classes is None else num_classes,
                   activation="relu" if activation is None else activation, leaky_slope=leaky_slope)
