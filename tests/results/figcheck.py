"""What every physdl figure must have, checked on the matplotlib objects (Agg backend).

:func:`problems` walks the axes of a figure and returns what is missing, one string per problem:

* axes in use (with a visible axis frame) have a non-empty x and y label;
* a legend whenever an axes holds more than one labelled artist (labels not starting with "_"),
  with text of at least 6 points;
* a colour bar for every image or mesh drawn with a colour map (``AxesImage``, ``QuadMesh``), i.e.
  the mappable's ``colorbar`` is set;
* Monte Carlo points carry error bars: every line drawn as markers only (no connecting line) is the
  data line of an ``ErrorbarContainer`` -- points without a curve are taken for estimates, and an
  estimate comes with its error -- unless its label says the points are exact (a word of
  :data:`EXACT_WORDS`) or the caller names its label in ``exact_points``;
* a title (an axes title or a figure suptitle) that lies inside the figure and does not overlap
  another title, after the figure is drawn.
"""

from __future__ import annotations

from matplotlib.container import ErrorbarContainer
from matplotlib.image import AxesImage
from matplotlib.collections import QuadMesh


EXACT_WORDS = ("exact", "enumerat", "onsager", "kaufman", "diagonalis", "analytic")


def _labelled(ax) -> list[str]:
    arts = list(ax.lines) + list(ax.collections) + list(ax.patches) + list(ax.containers)
    inside = set()
    for c in ax.containers:  # the lines of a container are labelled through the container
        for a in c.get_children():
            inside.add(id(a))
    return [a.get_label() for a in arts
            if id(a) not in inside and a.get_label() and not str(a.get_label()).startswith("_")]


def _is_colorbar_axes(ax) -> bool:
    return getattr(ax, "_colorbar", None) is not None


def problems(fig, name: str = "figure", exact_points=()) -> list[str]:
    """The problems of ``fig`` (empty when it has everything the module docstring lists).

    ``exact_points``: labels of markers-only lines that are deterministic values (no error bars due).
    """
    out = []
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    fw, fh = fig.bbox.width, fig.bbox.height
    titles = []
    st = getattr(fig, "_suptitle", None)
    if st is not None and st.get_text().strip():
        titles.append(("suptitle", st))
    for i, ax in enumerate(fig.axes):
        where = f"{name}: axes {i}"
        if _is_colorbar_axes(ax) or not ax.get_visible():
            continue
        used = bool(ax.lines or ax.collections or ax.images or ax.patches or ax.containers)
        if not used:
            continue
        for t in (ax.title, ax._left_title, ax._right_title):
            if t.get_text().strip():
                titles.append((f"axes {i} title", t))
        if ax.axison:
            # a twin (twinx) shares the x axis of an axes that carries the label
            twin_labelled = any(o is not ax and o.get_xlabel().strip() for o in ax.get_shared_x_axes().get_siblings(ax))
            if not ax.get_xlabel().strip() and not twin_labelled:
                out.append(f"{where}: no x label")
            if not ax.get_ylabel().strip():
                out.append(f"{where}: no y label")
        labels = _labelled(ax)
        leg = ax.get_legend()
        if len(labels) > 1 and leg is None:
            # a legend elsewhere in the figure (one for all panels) that names every label also counts
            shown = {t.get_text() for a in fig.axes if a.get_legend() is not None for t in a.get_legend().get_texts()}
            shown |= {t.get_text() for lg in fig.legends for t in lg.get_texts()}
            if not set(labels) <= shown:
                out.append(f"{where}: {len(labels)} labelled artists ({labels[:3]}...) but no legend")
        for lg in ([leg] if leg is not None else []) + list(fig.legends):
            for t in lg.get_texts():
                if t.get_fontsize() < 6:
                    out.append(f"{where}: legend text {t.get_text()!r} is {t.get_fontsize():.1f} pt (< 6)")
        for m in list(ax.images) + [c for c in ax.collections if isinstance(c, QuadMesh)]:
            if isinstance(m, (AxesImage, QuadMesh)) and getattr(m, "colorbar", None) is None:
                out.append(f"{where}: an image or mesh without a colour bar")
        in_bars = {id(a) for c in ax.containers if isinstance(c, ErrorbarContainer) for a in c.get_children()}
        for ln in ax.lines:
            points = ln.get_linestyle() in ("None", "none", "", " ") and ln.get_marker() not in (None, "None", "", " ")
            label = str(ln.get_label())
            exact = label in exact_points or any(w in label.lower() for w in EXACT_WORDS)
            if points and not exact and id(ln) not in in_bars and len(ln.get_xdata()) > 0:
                out.append(f"{where}: points {ln.get_label()!r} drawn without error bars")
    if not titles:
        out.append(f"{name}: no title (axes title or suptitle)")
    boxes = []
    for what, t in titles:
        bb = t.get_window_extent(renderer)
        if bb.x0 < -1 or bb.x1 > fw + 1 or bb.y0 < -1 or bb.y1 > fh + 1:
            out.append(f"{name}: {what} {t.get_text()!r} does not fit in the figure "
                       f"(x {bb.x0:.0f}..{bb.x1:.0f} of {fw:.0f} px)")
        for other_what, ob in boxes:
            if bb.overlaps(ob):
                out.append(f"{name}: {what} {t.get_text()!r} overlaps {other_what}")
        boxes.append((what, bb))
    return out
