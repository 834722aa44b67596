"""The graph on a page, readable on any screen: drawn at its natural size, laid out for the screen's
width, in a box that scrolls instead of a chart squeezed into the column.

    import vizgrad.plot as vp
    view, figs = vp.screen_graph(z, st.context.headers)      # what every page draws (lod for big graphs)
    view, figs = vp.screen_graph(g, st.context.headers, opened={"m:0"})   # after a click opened box m:0
    for fig, media in figs:                                   # pages/_common.graph_chart does this
        st.html(vp.scroll_css("home_graph_box", fig, media))
        with st.container(key="home_graph_box"):
            st.plotly_chart(fig, key="home_graph", theme=None, width="content")
    fig = vp.screen_figure(z, st.context.headers, show_shapes=False)   # one figure, by the headers only
    figs = vp.screen_figures(g, st.context.headers, opts, window=(["op3", "t4"], 900, 440))  # windows on op3, t4
    figs = vp.screen_figures(g, st.context.headers, opts, draw=vp.backward_animation)        # the animation

The figure is laid out at its natural size (FigureOptions.natural: text at its font size, boxes
sized to the text, never shrunk), left to right when that fits the screen's width, else top to
bottom when that overflows the screen less, sideways and down together (direction="auto").

The server does not know how wide the browser is (Streamlit 1.67's st.context has the request's
headers, cookies, locale, time zone, theme and URL, but no window size). The headers say whether it
is a phone (a mobile browser says "Mobile" in its user agent and ?1 in Sec-CH-UA-Mobile): a phone
gets one figure laid out for NARROW. A desktop window may be narrow too, so a desktop gets the
figure laid out for WIDE and, when the narrow layout differs, that one too, each with a CSS media
query on the window's width that shows exactly one of them: the wide one while the window has room
for it (its width + MARGIN, at most WIDE + MARGIN), else the narrow one. The browser decides, at
load and on every resize, with no script. A drawing wider than the screen scrolls sideways in its box
(and the plot itself pans and zooms).

screen_graph() is the one call a page makes to draw a graph: it picks the view (a big graph opens
collapsed into labelled boxes, vizgrad.graph.lod.default_view; `opened` = the boxes the user has
opened since, vizgrad.graph.lod.view_of) and lays it out with screen_figures. The boxes it drew are
vizgrad.graph.lod.visible_groups(view): a click on one (vizgrad.plot.node_at) names the group to
add to `opened`.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
from plotly.basedatatypes import BaseFigure

from vizgrad.graph.lod import default_view, view_of
from vizgrad.plot.figure import as_graph, figure
from vizgrad.plot.style import FigureOptions

__all__ = ["screen_graph", "screen_figures", "screen_figure", "screen_width", "scroll_css", "window_on", "Sent", "WIDE",
           "NARROW"]

WIDE = 1200       # px a page's column has for a graph on a desktop (a 1400 px window, wide layout)
NARROW = 360      # ... and on a phone (a 390 px screen)
HEIGHT = {WIDE: 800, NARROW: 700}  # px of the screen's height a graph may take before the page scrolls
MARGIN = 170      # px of a window around the page's column (Streamlit's wide layout pads 5 rem each side)


def screen_width(headers=None) -> int:
    """NARROW when the request comes from a phone's browser (by its headers), else WIDE."""
    try:
        h = {str(k).lower(): str(v) for k, v in dict(headers or {}).items()}
    except Exception:  # no request (AppTest, bare mode)
        return WIDE
    mobile = h.get("sec-ch-ua-mobile", "").strip() == "?1" or "mobi" in h.get("user-agent", "").lower()
    return NARROW if mobile else WIDE


def _user_agent(headers) -> str:
    try:
        return next((str(v) for k, v in dict(headers or {}).items() if str(k).lower() == "user-agent"), "")
    except Exception:  # no request (AppTest, bare mode)
        return ""


def _laid_out(obj, o: FigureOptions, width: int, draw=figure):
    # the screen's height, or less when the options ask for less (the Walkthrough's window under its buttons)
    return draw(obj, o, natural=True, direction="auto", fit_width=width, fit_height=min(o.fit_height, HEIGHT[width]))


def screen_figure(obj, headers=None, options: FigureOptions | None = None, **overrides):
    """figure(obj) at its natural size, laid out for the width of the screen the headers come from."""
    o = replace(options, **overrides) if options is not None else FigureOptions(**overrides)
    return _laid_out(obj, o, screen_width(headers))


def screen_figures(obj, headers=None, options: FigureOptions | None = None, *, draw=figure, window=None,
                   **overrides) -> list:
    """[(figure, media)]: what a page shows of obj on this screen. A phone: [(its figure, None)]; no
    browser (headers without a user agent: AppTest, a script): [(the WIDE figure, None)]. A desktop
    browser: the WIDE figure and, when the NARROW layout differs (another direction or size), the
    NARROW one, each with the CSS media query (on the window's width) under which it is shown: the
    wide one from the width its column needs (at most a desktop's: wider ones scroll there too).
    draw: figure, or vizgrad.plot.backward_animation (same arguments). window=(nodes, width, height):
    each figure shown through a window of at most width (and its screen's width - 20) x height px
    centred on those nodes (window_on(); the Walkthrough keeps its graph on one screen with its buttons);
    a narrow window that clips its drawing leaves the legend out (the page's caption names the colours)."""
    o = replace(options, **overrides) if options is not None else FigureOptions(**overrides)

    def framed(fig, width):
        if window is not None:
            nodes, w, h = window
            if width == NARROW and fig.layout.showlegend and fig.layout.height > h:
                # a phone's window: the legend's rows (five at this width) would take a third of it
                fig.update_layout(showlegend=False, margin_b=10, height=fig.layout.height - fig.layout.margin.b + 10)
            window_on(fig, nodes, min(w, width - 20), h)
        return fig

    if screen_width(headers) == NARROW:
        return [(framed(_laid_out(obj, o, NARROW, draw), NARROW), None)]
    wide = _laid_out(obj, o, WIDE, draw)
    if not _user_agent(headers):  # no browser (AppTest, a script): no window to be narrow
        return [(framed(wide, WIDE), None)]
    g = wide._vizgrad["graph"] if wide._vizgrad.get("graph") is not None else obj
    narrow = _laid_out(g, o, NARROW, draw)
    if (narrow.layout.width, narrow.layout.height) == (wide.layout.width, wide.layout.height):
        return [(framed(wide, WIDE), None)]
    wide, narrow = framed(wide, WIDE), framed(narrow, NARROW)
    room = min(int(wide.layout.width), WIDE) + MARGIN
    return [(wide, f"(min-width: {room}px)"), (narrow, f"(max-width: {room - 0.02}px)")]


def window_on(fig, centre_on, width: int, height: int):
    """Show a natural-size figure through a window of at most width x height pixels, centred on the
    nodes `centre_on` (kept inside the drawing): the scale stays, so the text keeps its size, and the
    rest of the graph is a drag (pan) away. Changes fig in place and returns it."""
    meta = getattr(fig, "_vizgrad", None) or {}
    lay, s = meta.get("layout"), float(meta.get("scale") or 1.0)
    W, H = int(fig.layout.width), int(fig.layout.height)
    if lay is None or not len(lay.x) or (W <= width and H <= height):
        return fig
    m = fig.layout.margin
    W2, H2 = min(W, int(width)), min(H, int(height))
    (x0, x1), (y0, y1) = fig.layout.xaxis.range, fig.layout.yaxis.range     # y runs downwards: y0 > y1
    idx = [lay.index[n] for n in centre_on if n in lay.index]
    cx = float(np.mean(lay.x[idx])) if idx else (x0 + x1) / 2
    cy = float(np.mean(lay.y[idx])) if idx else (y0 + y1) / 2
    hx = (W2 - (m.l or 0) - (m.r or 0)) / s / 2
    hy = (H2 - (m.t or 0) - (m.b or 0)) / s / 2
    cx = min(max(cx, x0 + hx), x1 - hx) if x1 - x0 > 2 * hx else (x0 + x1) / 2
    lo, hi = min(y0, y1), max(y0, y1)
    cy = min(max(cy, lo + hy), hi - hy) if hi - lo > 2 * hy else (lo + hi) / 2
    fig.update_layout(width=W2, height=H2, xaxis_range=[cx - hx, cx + hx], yaxis_range=[cy + hy, cy - hy])
    return fig


def screen_graph(obj, headers=None, opened=None, options: FigureOptions | None = None, **overrides):
    """(view, [(figure, media)]) of a graph (or of the graph behind a tensor) as every page draws it:
    the level of detail's default view (big graphs collapsed into boxes; small ones whole) when
    opened is None, else the full graph with exactly the groups `opened` open; laid out by
    screen_figures."""
    g = as_graph(obj, (options.collapse if options is not None else overrides.get("collapse")))
    view = default_view(g) if opened is None else view_of(g, opened)
    return view, screen_figures(view, headers, options, **overrides)


def scroll_css(box_key: str, fig, media: str | None = None) -> str:
    """A <style> for st.html: the container keyed box_key scrolls sideways and keeps its chart at the
    figure's width (Streamlit would otherwise squeeze the chart to the column, text and all); with
    media (a CSS media query, from screen_figures), the container shows only while it holds.
    fig: a plotly Figure or a Sent one."""
    box = f".st-key-{box_key}"
    width = fig.width if isinstance(fig, Sent) else fig.layout.width
    css = (f"{box} {{overflow-x: auto; overflow-y: hidden}}"
           f" {box} [data-testid='stElementContainer'] {{min-width: {int(width)}px}}")
    if media:
        css += f" @media not all and {media} {{{box} {{display: none}}}}"
    return f"<style>{css}</style>"


class Sent(BaseFigure):
    """A figure as a page sends it: plotly's JSON-ready dict of it (fig.to_dict()), made once.

    st.plotly_chart(fig) asks the figure for fig.to_dict() on every script run: a deep copy of the
    figure, and each of its numeric arrays through plotly's typed-array conversion. For a figure
    kept in a session's memo that was about half the CPU of a rerun (bench/edit_cost.py). A Sent
    answers to_dict() with the dict made when it was sent first, which Streamlit only reads (it
    turns it into JSON); it is a plotly BaseFigure only for st.plotly_chart's type check, and has
    nothing else of a figure but its size (width, height: scroll_css). Never changed once made.

        figs = [(Sent(fig), media) for fig, media in figs]      # once, into the memo
        st.plotly_chart(figs[0][0], ...)                        # every rerun: no copy, no conversion
    """

    def __init__(self, fig):   # BaseFigure.__init__ is not run: there is no figure here to build
        self._spec = fig.to_dict()
        layout = self._spec["layout"]
        self.width, self.height = layout.get("width"), layout.get("height")

    def __setattr__(self, name, value):   # BaseFigure lets only its own properties be set
        object.__setattr__(self, name, value)

    def to_dict(self) -> dict:
        return self._spec

    def __repr__(self) -> str:
        return f"Sent(<{len(self._spec['data'])} traces, {self.width}x{self.height}>)"
