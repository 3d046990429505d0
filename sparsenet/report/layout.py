"""Layout checks of a rendered figure, from matplotlib's own bounding boxes.

`check_layout(fig)` lists what a reader would see as broken: a legend, title, axis label or
tick label cut by the canvas edge; a legend over an axis label, a tick label, a title or
another panel; tick labels of one axis running together; titles on top of each other; a
legend drawn over the data of its panel. Every extent comes from the renderer
(`get_window_extent`), in display pixels, after the figure's layout engine has run.

`relocate_legends(fig)` moves each legend that covers its panel's data to the right of the
panel, past its right-hand tick labels; the figure writer calls it before the final render.
"""
from __future__ import annotations

import itertools
from typing import Iterable, Iterator

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.text import Text
from matplotlib.transforms import Bbox, ScaledTranslation

class LayoutWarning(UserWarning):
    """A saved figure has clipped or overlapping text, or a legend over its data."""


MAX_MOVED_WIDTH = 0.35  # widest legend (fraction of the figure) moved beside its panel
TOL = 1.0  # pixels two boxes may share (anti-aliasing) before they count as overlapping


def _renderer(fig: Figure, draw: bool):
    if fig.canvas is None or not hasattr(fig.canvas, "get_renderer"):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)
    if draw:
        fig.canvas.draw()  # runs the layout engine, places ticks and "best" legends
    return fig.canvas.get_renderer()


def _overlaps(a: Bbox, b: Bbox, tol: float = TOL) -> bool:
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > tol) and (min(a.y1, b.y1) - max(a.y0, b.y0) > tol)


def _outside(box: Bbox, canvas: Bbox, tol: float = TOL) -> str:
    """'' when `box` lies inside `canvas`, else which edges it crosses and by how much."""
    cut = [(side, d) for side, d in (("left", canvas.x0 - box.x0), ("right", box.x1 - canvas.x1),
                                     ("bottom", canvas.y0 - box.y0), ("top", box.y1 - canvas.y1))
           if d > tol]
    return ", ".join(f"{side} by {d:.0f} px" for side, d in cut)


def _shown(t: Text | None) -> bool:
    return t is not None and t.get_visible() and bool(t.get_text().strip())


def _axes_name(fig: Figure, ax: Axes) -> str:
    title = next((t.get_text() for t in _titles_of(ax)), "")
    return f"panel {fig.axes.index(ax) + 1}" + (f" ({title!r})" if title else "")


def _titles_of(ax: Axes) -> list[Text]:
    # Axes keep three title slots (left, centre, right); only the centre one is public.
    slots = [getattr(ax, "_left_title", None), ax.title, getattr(ax, "_right_title", None)]
    return [t for t in slots if _shown(t)]


def _ticklabels(axis, renderer) -> list[tuple[str, Bbox]]:
    """(text, extent) of the tick labels the axis draws: ticks inside the view limits only."""
    try:
        ticks = axis._update_ticks()  # exactly the ticks draw() uses
    except AttributeError:  # pragma: no cover - older matplotlib
        ticks = axis.get_major_ticks() + axis.get_minor_ticks()
    out = []
    for tick in ticks:
        for label in (tick.label1, tick.label2):
            if _shown(label):
                out.append((label.get_text(), label.get_window_extent(renderer)))
    return out


def _visible_axes(fig: Figure) -> list[Axes]:
    return [ax for ax in fig.axes if ax.get_visible() and ax.axison]


def _legends(fig: Figure) -> Iterator[tuple[str, Legend, Axes | None]]:
    for ax in _visible_axes(fig):
        leg = ax.get_legend()
        if leg is not None and leg.get_visible():
            yield f"legend of {_axes_name(fig, ax)}", leg, ax
    for i, leg in enumerate(fig.legends):
        if leg.get_visible():
            yield f"figure legend {i + 1}", leg, None


def _points_inside(points: np.ndarray, box: Bbox) -> int:
    x, y = points[:, 0], points[:, 1]
    return int(((x > box.x0) & (x < box.x1) & (y > box.y0) & (y < box.y1)).sum())


def _segments_inside(points: np.ndarray, box: Bbox, step: float = 1.0) -> int:
    """How many samples of the polyline `points` (display px, every `step` px) lie in `box`."""
    pts = points[np.isfinite(points).all(axis=1)]
    if len(pts) < 2:
        return _points_inside(pts, box) if len(pts) else 0
    a, b = pts[:-1], pts[1:]
    # only segments whose bounding box meets the legend can have samples in it
    near = ((np.minimum(a[:, 0], b[:, 0]) < box.x1) & (np.maximum(a[:, 0], b[:, 0]) > box.x0)
            & (np.minimum(a[:, 1], b[:, 1]) < box.y1) & (np.maximum(a[:, 1], b[:, 1]) > box.y0))
    first = _points_inside(pts[:1], box)
    a, d = a[near], (b - a)[near]
    if len(a) == 0:
        return first
    n = np.clip(np.ceil(np.hypot(d[:, 0], d[:, 1]) / step), 1, 4000).astype(int)
    seg = np.repeat(np.arange(len(a)), n)
    k = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)  # 0 .. n-1 within each segment
    t = ((k + 1) / n[seg])[:, None]
    return first + _points_inside(a[seg] + t * d[seg], box)


def covered_data(legend: Legend, axes: Iterable[Axes], renderer) -> int:
    """Pixels of lines, markers and bars of `axes` under `legend` (0 = it covers no data).

    Lines are sampled every pixel along their drawn segments, so a line crossing the legend
    counts even when none of its vertices is inside. Bars count by the area they share.
    """
    box = legend.get_window_extent(renderer).padded(-2.0)  # its frame may touch a line
    if box.width <= 0 or box.height <= 0:
        return 0
    hits = 0
    for ax in axes:
        for line in ax.get_lines():
            xy = np.asarray(line.get_xydata(), dtype=float)
            if not line.get_visible() or xy.size == 0:
                continue
            pts = line.get_transform().transform(xy)
            if line.get_linestyle() in ("None", "none", " ", ""):  # markers only
                hits += _points_inside(pts, box)
            else:
                hits += _segments_inside(pts, box)
        for patch in ax.patches:
            if not patch.get_visible():
                continue
            pb = patch.get_window_extent(renderer)
            w = min(pb.x1, box.x1) - max(pb.x0, box.x0)
            h = min(pb.y1, box.y1) - max(pb.y0, box.y0)
            if w > 0 and h > 0:
                hits += int(w * h)
        for coll in ax.collections:
            offsets = np.asarray(coll.get_offsets(), dtype=float)
            if coll.get_visible() and offsets.size and len(coll.get_paths()) <= len(offsets):
                pts = coll.get_offset_transform().transform(offsets)
                hits += _points_inside(pts, box)
    return hits


def _siblings(fig: Figure, ax: Axes) -> list[Axes]:
    """`ax` and the twin axes drawn in the same rectangle."""
    pos = ax.get_position().bounds
    return [a for a in _visible_axes(fig) if np.allclose(a.get_position().bounds, pos)]


def check_layout(fig: Figure, *, draw: bool = True, data: bool = True) -> list[str]:
    """Layout problems of `fig`, one readable line each ([] = nothing clipped or overlapping).

    `draw=False` reuses the last render (e.g. right after `savefig` at the figure's dpi).
    `data=False` skips the check that legends cover no data of their own panel.
    """
    renderer = _renderer(fig, draw)
    canvas = fig.bbox
    problems: list[str] = []
    axes = _visible_axes(fig)

    titles: list[tuple[str, Bbox]] = []
    suptitle = getattr(fig, "_suptitle", None)
    if _shown(suptitle):
        titles.append((f"figure title {suptitle.get_text()!r}", suptitle.get_window_extent(renderer)))
    labels: list[tuple[str, Bbox]] = []  # axis labels and tick labels
    for ax in axes:
        name = _axes_name(fig, ax)
        titles += [(f"title {t.get_text()!r}", t.get_window_extent(renderer)) for t in _titles_of(ax)]
        for letter, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            if _shown(axis.label):
                labels.append((f"{letter} label {axis.label.get_text()!r} of {name}",
                               axis.label.get_window_extent(renderer)))
            ticks = _ticklabels(axis, renderer)
            labels += [(f"{letter} tick label {t!r} of {name}", b) for t, b in ticks]
            for (ta, ba), (tb, bb) in itertools.combinations(ticks, 2):
                if _overlaps(ba, bb):
                    problems.append(f"{letter} tick labels {ta!r} and {tb!r} of {name} overlap")

    for what, box in titles + labels:
        where = _outside(box, canvas)
        if where:
            problems.append(f"{what} is cut by the canvas edge ({where})")
    for (ta, ba), (tb, bb) in itertools.combinations(titles, 2):
        if _overlaps(ba, bb):
            problems.append(f"{ta} and {tb} overlap")

    legends = list(_legends(fig))
    for what, leg, ax in legends:
        box = leg.get_window_extent(renderer)
        where = _outside(box, canvas)
        if where:
            problems.append(f"{what} is cut by the canvas edge ({where})")
        for other, ob in titles + labels:
            if _overlaps(box, ob):
                problems.append(f"{what} covers the {other}")
        own = _siblings(fig, ax) if ax is not None else []
        for other in axes:
            if other not in own and _overlaps(box, other.bbox):
                problems.append(f"{what} lies over {_axes_name(fig, other)}")
        if data and ax is not None:
            n = covered_data(leg, own, renderer)
            if n:
                problems.append(f"{what} covers data of its panel ({n} px)")
    for (wa, la, _), (wb, lb, _) in itertools.combinations(legends, 2):
        if _overlaps(la.get_window_extent(renderer), lb.get_window_extent(renderer)):
            problems.append(f"{wa} and {wb} overlap")
    return problems


def relocate_legends(fig: Figure) -> bool:
    """Move every axes legend that covers its panel's data out to the panel's right.

    The new legend starts past the panel's right-hand decorations (tick labels and the label
    of a twin axis), with its gap given in font sizes so that it survives the layout engine
    resizing the panel. Returns whether any legend moved (the figure then needs a new render).
    """
    renderer = _renderer(fig, draw=False)
    moved = False
    for ax in _visible_axes(fig):
        leg = ax.get_legend()
        if leg is None or not leg.get_visible():
            continue
        if covered_data(leg, _siblings(fig, ax), renderer) == 0:
            continue
        if leg.get_window_extent(renderer).width > MAX_MOVED_WIDTH * fig.bbox.width:
            continue  # too wide to sit beside the panel: moving it would squeeze the plot
        handles = list(leg.legend_handles)
        texts = [t.get_text() for t in leg.get_texts()]
        size = leg.get_texts()[0].get_fontsize() if texts else 8.0
        right = max([ax.bbox.x1] + [a.get_tightbbox(renderer).x1 for a in _siblings(fig, ax)
                                    if a is not ax])
        own_right = max([ax.bbox.x1] + [b.x1 for _, b in _ticklabels(ax.yaxis, renderer)]
                        + ([ax.yaxis.label.get_window_extent(renderer).x1]
                           if ax.yaxis.get_label_position() == "right" and _shown(ax.yaxis.label) else []))
        # Offset in inches from the panel's right edge: it survives the layout engine
        # resizing the panel, while an offset in axes fractions would not.
        shift = ScaledTranslation((max(right, own_right) - ax.bbox.x1) / fig.dpi + 0.06, 0.0,
                                  fig.dpi_scale_trans)
        ax.legend(handles, texts, fontsize=size, loc="upper left", bbox_to_anchor=(1.0, 1.0),
                  bbox_transform=ax.transAxes + shift, borderaxespad=0.0)
        moved = True
    return moved


__all__ = ["LayoutWarning", "check_layout", "covered_data", "relocate_legends"]
