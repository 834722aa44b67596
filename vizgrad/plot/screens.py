"""The graph on a page, readable on any screen: drawn at its natural size, laid out for the screen's
width, in a box that scrolls instead of a chart squeezed into the column.

    import vizgrad.plot as vp
    view, fig = vp.screen_graph(z, st.context.headers)      # what every page draws (lod for big graphs)
    view, fig = vp.screen_graph(g, st.context.headers, opened={"m:0"})   # after a click opened box m:0
    fig = vp.screen_figure(z, st.context.headers, show_shapes=False)
    st.html(vp.scroll_css("home_graph_box", fig))
    with st.container(key="home_graph_box"):
        st.plotly_chart(fig, key="home_graph", theme=None, width="content")

The figure is laid out at its natural size (FigureOptions.natural: text at its font size, boxes
sized to the text, never shrunk), left to right when that fits the screen's width, else top to
bottom when that overflows the screen less, sideways and down together (direction="auto"). The server does not know how wide the browser is;
the request's headers say whether it is a phone (a mobile browser says "Mobile" in its user agent
and ?1 in Sec-CH-UA-Mobile), so a phone gets NARROW and anything else WIDE. A drawing wider than
the screen scrolls sideways in its box (and the plot itself pans and zooms).

screen_graph() is the one call a page makes to draw a graph: it picks the view (a big graph opens
collapsed into labelled boxes, vizgrad.graph.lod.default_view; `opened` = the boxes the user has
opened since, vizgrad.graph.lod.view_of) and draws it with screen_figure. The boxes it drew are
vizgrad.graph.lod.visible_groups(view): a click on one (vizgrad.plot.node_at) names the group to
add to `opened`.
"""
from __future__ import annotations

from dataclasses import replace

from vizgrad.graph.lod import default_view, view_of
from vizgrad.plot.figure import as_graph, figure
from vizgrad.plot.style import FigureOptions

__all__ = ["screen_graph", "screen_figure", "screen_width", "scroll_css", "WIDE", "NARROW"]

WIDE = 1200       # px a page's column has for a graph on a desktop (a 1400 px window, wide layout)
NARROW = 360      # ... and on a phone (a 390 px screen)
HEIGHT = {WIDE: 800, NARROW: 700}  # px of the screen's height a graph may take before the page scrolls


def screen_width(headers=None) -> int:
    """NARROW when the request comes from a phone's browser (by its headers), else WIDE."""
    try:
        h = {str(k).lower(): str(v) for k, v in dict(headers or {}).items()}
    except Exception:  # no request (AppTest, bare mode)
        return WIDE
    mobile = h.get("sec-ch-ua-mobile", "").strip() == "?1" or "mobi" in h.get("user-agent", "").lower()
    return NARROW if mobile else WIDE


def screen_figure(obj, headers=None, options: FigureOptions | None = None, **overrides):
    """figure(obj) at its natural size, laid out for the width of the screen the headers come from."""
    o = replace(options, **overrides) if options is not None else FigureOptions(**overrides)
    w = screen_width(headers)
    return figure(obj, o, natural=True, direction="auto", fit_width=w, fit_height=HEIGHT[w])


def screen_graph(obj, headers=None, opened=None, options: FigureOptions | None = None, **overrides):
    """(view, figure) of a graph (or of the graph behind a tensor) as every page draws it: the level of
    detail's default view (big graphs collapsed into boxes; small ones whole) when opened is None,
    else the full graph with exactly the groups `opened` open; drawn by screen_figure."""
    g = as_graph(obj, (options.collapse if options is not None else overrides.get("collapse")))
    view = default_view(g) if opened is None else view_of(g, opened)
    return view, screen_figure(view, headers, options, **overrides)


def scroll_css(box_key: str, fig) -> str:
    """A <style> for st.html: the container keyed box_key scrolls sideways and keeps its chart at the
    figure's width (Streamlit would otherwise squeeze the chart to the column, text and all)."""
    box = f".st-key-{box_key}"
    return (f"<style>{box} {{overflow-x: auto; overflow-y: hidden}}"
            f" {box} [data-testid='stElementContainer'] {{min-width: {int(fig.layout.width)}px}}</style>")
