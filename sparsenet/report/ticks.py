"""Readable ticks: plain numbers on log axes (0.05, 2, 300, not 5×10⁻², 2×10⁰), widths as 16, 64.

matplotlib labels a log axis that spans less than a decade with minor-tick labels such as
2×10⁰ and 1.9×10⁰, and a log axis of widths 16 and 64 with 2×10¹. `log_axis` puts major
ticks at round values for the span the axis shows when it is drawn (linear-nice values
within a factor of 4; beyond, the densest of 1-2-5, 1-3 or 1 per decade, or every few
decades, whose labels fit along the axis) and labels them as plain numbers; `value_axis`
puts ticks exactly at given values (hidden widths, densities).
"""
from __future__ import annotations

import math
from typing import Sequence

from matplotlib import rcParams
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import FixedLocator, FuncFormatter, Locator, LogLocator, MaxNLocator, NullFormatter, \
    NullLocator

NARROW = 4.0  # below this max/min ratio an axis gets linear-nice ticks


def plain_number(value: float, _pos=None) -> str:
    """A tick label without scientific notation where a plain number is short enough."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else ""
    mag = abs(value)
    if 1e-4 <= mag < 1e5:
        return f"{value:.6g}"
    exp = math.floor(math.log10(mag))
    mant = value / 10 ** exp
    if abs(mant - round(mant)) < 1e-6 and round(mant) in (1, -1):
        return f"$10^{{{exp}}}$" if mant > 0 else f"$-10^{{{exp}}}$"
    return f"${mant:.3g}\\times10^{{{exp}}}$"


def _chars(label: str) -> int:
    """Roughly how many characters wide `label` is drawn (mathtext markup not counted)."""
    for markup in ("$", "{", "}", "^", "\\times"):
        label = label.replace(markup, "" if markup != "\\times" else "x")
    return len(label)


class ReadableLogLocator(Locator):
    """Major (or, with `minor=True`, minor) ticks of a log axis chosen from its view span."""

    def __init__(self, minor: bool = False):
        self.minor = minor

    def __call__(self):
        vmin, vmax = self.axis.get_view_interval()
        return self.tick_values(vmin, vmax)

    def _log(self) -> LogLocator:
        loc = LogLocator()
        loc.set_axis(self.axis)
        return loc

    def nonsingular(self, vmin, vmax):  # a log axis' limits: positive, a decade around one value
        return self._log().nonsingular(vmin, vmax)

    def view_limits(self, vmin, vmax):
        return self._log().view_limits(vmin, vmax)

    def tick_values(self, vmin, vmax):
        vmin, vmax = sorted((vmin, vmax))
        if not (vmax > 0 and math.isfinite(vmax)):
            return []
        vmin = vmin if vmin > 0 else vmax / 10
        ratio = vmax / vmin
        if ratio < NARROW:
            if self.minor:
                return []
            ticks = [t for t in MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]).tick_values(vmin, vmax) if t > 0]
            inside = [t for t in ticks if vmin <= t <= vmax]
            if len(inside) >= 2:
                return ticks
            return MaxNLocator(nbins=8, steps=[1, 2, 2.5, 5, 10]).tick_values(vmin, vmax)
        decades = math.log10(ratio)
        if self.minor:
            return LogLocator(base=10, subs="auto", numticks=12).tick_values(vmin, vmax) \
                if decades <= 6 and not self._dense else []
        for subs, numticks in (((1.0, 2.0, 5.0), 99), ((1.0, 3.0), 99), ((1.0,), 99), ((1.0,), 9), ((1.0,), 5)):
            ticks = LogLocator(base=10, subs=subs, numticks=numticks).tick_values(vmin, vmax)
            inside = [t for t in ticks if vmin <= t <= vmax]
            if self._fits(inside):
                break
        if len(inside) < 3 and decades < 1.3:  # e.g. 0.03 to 0.12: 0.05 and 0.1 alone say little
            nice = MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]).tick_values(vmin, vmax)
            if len([t for t in nice if vmin <= t <= vmax]) > len(inside):
                return [t for t in nice if t > 0]
        return ticks

    @property
    def _dense(self) -> bool:
        """Whether the major ticks already fill in more than one value per decade."""
        vmin, vmax = sorted(self.axis.get_view_interval()) if self.axis else (1, 10)
        ticks = self.axis.get_major_locator().tick_values(vmin, vmax) if self.axis else []
        inside = [t for t in ticks if vmin <= t <= vmax]
        decades = math.log10(vmax / vmin) if vmin > 0 and vmax > 0 else 1
        return len(inside) > decades + 1.5

    def _fits(self, ticks: list[float]) -> bool:
        """Whether labels of `ticks` fit along the axis (estimated from characters and font size)."""
        if self.axis is None or len(ticks) < 2:
            return True
        try:
            length_px = abs(self.axis.axes.bbox.width if self.axis.axis_name == "x" else self.axis.axes.bbox.height)
            # rc size, not the labels' own: reading the labels would run this locator again
            size_px = FontProperties(size=rcParams[f"{self.axis.axis_name}tick.labelsize"]).get_size_in_points()
        except (AttributeError, KeyError):
            return True
        size_px *= self.axis.figure.dpi / 72.0
        if self.axis.axis_name == "x":
            need = sum(0.62 * size_px * max(3, _chars(plain_number(t))) + 0.8 * size_px for t in ticks)
        else:
            need = len(ticks) * 1.9 * size_px
        return 1.3 * need <= length_px  # margin: label widths are estimated, and unequal gaps on a 1-3 decade


def log_axis(ax, which: str = "y") -> None:
    """Log scale on `which` ("x" or "y") of `ax` with plain-number labels at round values."""
    (ax.set_yscale if which == "y" else ax.set_xscale)("log")
    axis = ax.yaxis if which == "y" else ax.xaxis
    axis.set_major_locator(ReadableLogLocator())
    axis.set_major_formatter(FuncFormatter(plain_number))
    axis.set_minor_locator(ReadableLogLocator(minor=True))
    axis.set_minor_formatter(NullFormatter())


def value_axis(ax, values: Sequence[float], which: str = "x", base: float = 10,
               log: bool = True) -> None:
    """Ticks exactly at `values` (e.g. hidden widths 16, 64, 256), labelled as plain numbers.

    With `log` the axis is logarithmic in `base` (2 for widths that double); minor ticks off.
    """
    axis = ax.xaxis if which == "x" else ax.yaxis
    if log:
        (ax.set_xscale if which == "x" else ax.set_yscale)("log", base=base)
    ticks = sorted({float(v) for v in values if math.isfinite(v) and (v > 0 or not log)})
    axis.set_major_locator(FixedLocator(ticks))
    axis.set_major_formatter(FuncFormatter(plain_number))
    axis.set_minor_locator(NullLocator())


__all__ = ["ReadableLogLocator", "log_axis", "plain_number", "value_axis"]
