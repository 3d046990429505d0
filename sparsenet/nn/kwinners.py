"""k-winners-take-all activations with boosting: KWinners (last dimension) and KWinners2d (B, C, H, W).

Paper: S. Ahmad, L. Scheinkman, "How Can We Be So Dense? The Benefits of Using Highly Sparse
Representations", 2019, arXiv:1903.11257. Sparse weights (`SparseLinear`) followed by k-WTA form
the paper's "sparse nets".

Rule (n units, k winners, target density â = k / n, boost strength β, duty-cycle period T):

    b_i = exp(β · (â − d_i))                       boost factor, from the duty cycles before the batch
    winners = the k largest of x_i · b_i           (per sample; ties: the lower index wins)
    y_i = x_i if i is a winner else 0              winners pass their UNBOOSTED value
    d_i ← (d_i · (T − 1) + w_i) / T                after the batch, training mode only

where w_i is the fraction of the batch's samples in which unit i won. This is the paper's duty cycle
d_i(t) = (1 − α) d_i(t−1) + α · [i ∈ topIndices] with α = 1/T (the paper leaves α open), applied
once per batch to the batch-averaged indicator; duty cycles start at 0. β decays geometrically,
β ← β · boost_strength_factor, at each call of `update_boost_strength()`: the paper decays it once
per epoch, so the training loop or the user calls it at the end of every epoch (the layer cannot
see epochs). In eval mode the layer keeps k_inf = min(n, round(k · k_inference_factor)) winners
(Python's `round`), still boosted with the current β and duty cycles, and updates nothing.

The gradient reaches the winners only: y = where(winners, x, 0), so dy/dx is the 0/1 winner mask
(the selection itself is piecewise constant and carries no gradient, also not into the boost).

Ties are broken exactly, without perturbing any value: the k-th largest boosted value t of a row is
found exactly (`np.partition` on CPU, `torch.topk` elsewhere); every value > t wins, and of the
values == t the first ones in index order fill the remaining places (a cumulative count over the
"== t" mask). Rows without a tie at t, the usual case for real-valued inputs, take a fast path
(`v >= t` already has exactly k entries).

These are activations, not sparse layers: they hold no weights and do not join the sparse-layer
protocol (`sparsenet.masks.layers`). Duty cycles and β are buffers, so `state_dict` saves them and
a loaded layer continues identically.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from ..errors import SparsenetError

BREAK_TIES = ("index",)


def kth_largest(v: torch.Tensor, k: int) -> torch.Tensor:
    """The k-th largest value of each row of v (..., n), shape (..., 1), exactly one of the row's values.

    On CPU (float32/64) numpy's introselect (`np.partition`, O(n) per row) replaces `torch.topk`,
    which is several times slower there (measured: benchmarks/kwinners_overhead.py); elsewhere topk.
    """
    n = v.shape[-1]
    if v.device.type == "cpu" and v.dtype in (torch.float32, torch.float64) and not v.requires_grad:
        part = np.partition(v.numpy(), n - k, axis=-1)  # NaN sorts last, as the largest
        return torch.from_numpy(np.ascontiguousarray(part[..., n - k:n - k + 1]))
    return torch.topk(v, k, dim=-1, sorted=False).values.amin(dim=-1, keepdim=True)


def winner_mask(v: torch.Tensor, k: int) -> torch.Tensor:
    """Bool mask of the k largest entries along the last dimension; ties at the k-th value go to lower indices."""
    thr = kth_largest(v, k)  # (..., 1)
    mask = v >= thr
    counts = mask.sum(dim=-1)
    if bool((counts == k).all()):
        return mask
    if bool((counts < k).any()):  # only a NaN threshold selects fewer than k (NaN compares false)
        raise SparsenetError("KWinners got NaN in its input: k-winners needs finite activations; "
                             "check the layer before it (learning rate, initialisation)")
    above = v > thr
    tied = v == thr
    need = k - above.sum(dim=-1, keepdim=True)  # places left for the tied values, >= 1
    return above | (tied & (tied.cumsum(dim=-1) <= need))


def _positive_int(name: str, value, *, hint: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SparsenetError(f"{name} {value!r} must be a positive integer; {hint}")
    return value


def _resolve_k(k, percent_on, units: int, what: str) -> int | None:
    """k from k or percent_on (exactly one); None when percent_on is resolved per input (global 2-D)."""
    if (k is None) == (percent_on is None):
        raise SparsenetError(f"give exactly one of k={k!r} and percent_on={percent_on!r} "
                             f"(k winners, or the fraction of {what} that win)")
    if percent_on is not None:
        if isinstance(percent_on, bool) or not isinstance(percent_on, (int, float)) or not 0 < percent_on <= 1:
            raise SparsenetError(f"percent_on {percent_on!r} must be in (0, 1]; it is the fraction of {what} that win")
        return None if units is None else max(1, min(units, round(percent_on * units)))
    if isinstance(k, bool) or not isinstance(k, int) or k < 1 or (units is not None and k > units):
        top = "" if units is None else f", {units}"
        raise SparsenetError(f"k {k!r} must be an integer in [1{top}]: the number of {what} that win")
    return k


class _KWinnersBase(nn.Module):
    """Boost strength, duty cycles and their updates, shared by KWinners and KWinners2d."""

    def __init__(self, duty_units: int, *, boost_strength, boost_strength_factor, duty_cycle_period,
                 k_inference_factor, break_ties):
        super().__init__()
        if isinstance(boost_strength, bool) or not isinstance(boost_strength, (int, float)) \
                or not math.isfinite(boost_strength) or boost_strength < 0:
            raise SparsenetError(f"boost_strength {boost_strength!r} must be a finite number >= 0 (0 turns boosting off)")
        if isinstance(boost_strength_factor, bool) or not isinstance(boost_strength_factor, (int, float)) \
                or not 0 <= boost_strength_factor <= 1:
            raise SparsenetError(f"boost_strength_factor {boost_strength_factor!r} must be in [0, 1]: "
                                 "the factor by which update_boost_strength() decays the boost strength")
        _positive_int("duty_cycle_period", duty_cycle_period, hint="it is the averaging period T in batches")
        if isinstance(k_inference_factor, bool) or not isinstance(k_inference_factor, (int, float)) \
                or not math.isfinite(k_inference_factor) or k_inference_factor < 1:
            raise SparsenetError(f"k_inference_factor {k_inference_factor!r} must be a number >= 1 "
                                 "(eval mode keeps round(k * factor) winners)")
        if break_ties not in BREAK_TIES:
            raise SparsenetError(f"break_ties {break_ties!r} is unknown; valid: {', '.join(BREAK_TIES)}")
        self.boost_strength_factor = float(boost_strength_factor)
        self.duty_cycle_period = duty_cycle_period
        self.k_inference_factor = float(k_inference_factor)
        self.break_ties = break_ties
        self.register_buffer("boost_strength", torch.tensor(float(boost_strength)))
        self.register_buffer("duty_cycle", torch.zeros(duty_units))

    def k_inference_for(self, k: int, units: int) -> int:
        return min(units, round(k * self.k_inference_factor))

    @torch.no_grad()
    def update_boost_strength(self) -> None:
        """β ← β · boost_strength_factor; call once per epoch (the paper's schedule)."""
        self.boost_strength.mul_(self.boost_strength_factor)

    def boost_factors(self, target_density: float) -> torch.Tensor:
        """b = exp(β (â − d)) per duty-cycle unit, from the current duty cycles."""
        return torch.exp(self.boost_strength * (target_density - self.duty_cycle))

    @torch.no_grad()
    def _update_duty_cycle(self, won_fraction: torch.Tensor) -> None:
        t = self.duty_cycle_period
        self.duty_cycle.mul_(t - 1).add_(won_fraction.to(self.duty_cycle.dtype)).div_(t)

    def _check_float(self, x: torch.Tensor) -> None:
        if not x.is_floating_point():
            raise SparsenetError(f"{type(self).__name__} needs a floating-point input, got {x.dtype}; convert it with .float()")

    def _common_repr(self) -> str:
        return (f"boost_strength={float(self.boost_strength):.4g}, boost_strength_factor={self.boost_strength_factor:g}, "
                f"duty_cycle_period={self.duty_cycle_period}, k_inference_factor={self.k_inference_factor:g}, "
                f"break_ties={self.break_ties}")


class KWinners(_KWinnersBase):
    """k-winners-take-all over the last dimension of (..., n) with boosting; see the module docstring.

    `KWinners(n, k)` or `KWinners(n, percent_on=0.1)` (k = max(1, round(percent_on · n))). All leading
    dimensions are samples: the duty cycle averages the winner indicator over all of them.
    """

    def __init__(self, n: int, k: int | None = None, *, percent_on: float | None = None,
                 boost_strength: float = 1.0, boost_strength_factor: float = 0.9,
                 duty_cycle_period: int = 1000, k_inference_factor: float = 1.5, break_ties: str = "index"):
        n = _positive_int("n", n, hint="it is the number of units KWinners chooses from")
        self.n = n
        self.k = _resolve_k(k, percent_on, n, "units")
        self.percent_on = percent_on
        super().__init__(n, boost_strength=boost_strength, boost_strength_factor=boost_strength_factor,
                         duty_cycle_period=duty_cycle_period, k_inference_factor=k_inference_factor,
                         break_ties=break_ties)
        self.k_inference = self.k_inference_for(self.k, n)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_float(x)
        if x.dim() < 1 or x.shape[-1] != self.n:
            raise SparsenetError(f"KWinners(n={self.n}) got input of shape {tuple(x.shape)}: "
                                 f"its last dimension must be {self.n}")
        k = self.k if self.training else self.k_inference
        with torch.no_grad():
            boosted = x * self.boost_factors(self.k / self.n).to(x.dtype)  # (..., n) * (n,)
            mask = winner_mask(boosted, k)
            if self.training and mask.numel():
                rows = mask.numel() // self.n
                self._update_duty_cycle(mask.reshape(rows, self.n).sum(dim=0, dtype=self.duty_cycle.dtype) / rows)
        return torch.where(mask, x, x.new_zeros(()))

    def extra_repr(self) -> str:
        return f"n={self.n}, k={self.k}, k_inference={self.k_inference}, {self._common_repr()}"


class KWinners2d(_KWinnersBase):
    """k-winners-take-all for (B, C, H, W) activations with per-channel boosting and duty cycles.

    - global (`local=False`, the paper's convolutional k-WTA): per sample, the k largest boosted
      values among all C·H·W units win; â = k / (C·H·W); `percent_on` gives k = max(1,
      round(percent_on · C·H·W)) from each input's H, W. Ties: lower flat index (c, h, w) wins.
    - local (`local=True`): at every spatial position (b, h, w), the k largest boosted values among
      the C channels win; â = k / C. Ties: lower channel wins.

    Channel c has one duty cycle d_c and boost b_c = exp(β (â − d_c)) shared by all its positions;
    w_c (see the module docstring) is the fraction of channel c's B·H·W units that won in the batch.
    Eval mode keeps min(units, round(k · k_inference_factor)) winners, units = C·H·W or C.
    """

    def __init__(self, channels: int, k: int | None = None, *, percent_on: float | None = None,
                 local: bool = False, boost_strength: float = 1.0, boost_strength_factor: float = 0.9,
                 duty_cycle_period: int = 1000, k_inference_factor: float = 1.5, break_ties: str = "index"):
        channels = _positive_int("channels", channels, hint="it is the C of a (B, C, H, W) input")
        self.channels = channels
        self.local = bool(local)
        self.k = _resolve_k(k, percent_on, channels if self.local else None,
                            "channels at each position" if self.local else "units C*H*W")
        self.percent_on = percent_on
        super().__init__(channels, boost_strength=boost_strength, boost_strength_factor=boost_strength_factor,
                         duty_cycle_period=duty_cycle_period, k_inference_factor=k_inference_factor,
                         break_ties=break_ties)

    def _k_units(self, x: torch.Tensor) -> tuple[int, int]:
        """(k in training, the units it chooses from) for this input."""
        if self.local:
            return self.k, self.channels
        units = self.channels * x.shape[2] * x.shape[3]
        if self.k is None:
            return max(1, min(units, round(self.percent_on * units))), units
        if self.k > units:
            raise SparsenetError(f"KWinners2d k={self.k} exceeds the C*H*W={units} units of input "
                                 f"{tuple(x.shape)}: use k <= {units} or percent_on")
        return self.k, units

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_float(x)
        if x.dim() != 4 or x.shape[1] != self.channels:
            raise SparsenetError(f"KWinners2d(channels={self.channels}) got input of shape {tuple(x.shape)}: "
                                 f"it needs (B, {self.channels}, H, W)")
        k_train, units = self._k_units(x)
        k = k_train if self.training else self.k_inference_for(k_train, units)
        with torch.no_grad():
            b = self.boost_factors(k_train / units)  # â uses the training k in both modes
            boosted = x * b.to(x.dtype).view(1, -1, 1, 1)  # (B, C, H, W) * (1, C, 1, 1)
            if self.local:  # choose among channels: (B, H, W, C) -> back to (B, C, H, W)
                mask = winner_mask(boosted.permute(0, 2, 3, 1), k).permute(0, 3, 1, 2)
            else:
                mask = winner_mask(boosted.reshape(x.shape[0], -1), k).view_as(x)
            if self.training and mask.numel():
                self._update_duty_cycle(mask.mean(dim=(0, 2, 3), dtype=self.duty_cycle.dtype))
        return torch.where(mask, x, x.new_zeros(()))

    def extra_repr(self) -> str:
        k = f"percent_on={self.percent_on:g}" if self.k is None else f"k={self.k}"
        return f"channels={self.channels}, {k}, local={self.local}, {self._common_repr()}"
