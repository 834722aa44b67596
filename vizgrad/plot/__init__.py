"""vizgrad.plot: a vizgrad graph drawn with plotly, values on the nodes, gradients flowing back along the edges.

    import vizgrad, vizgrad.plot as vp
    z = x**2 + y**3; z.backward()
    fig = vp.figure(z)                      # or vp.figure(vizgrad.graph.trace(z)); fig.show()
    fig = vp.figure(z, theme="dark", show_values=False, highlight_nodes={"t0", "op0"}, dim_others=True)
    fig = vp.figure(z, vp.FigureOptions(theme="dark"))   # the same options as one object
    anim = vp.backward_animation(z)          # frames light up the backward pass edge by edge
    ev = st.plotly_chart(fig, on_select="rerun", selection_mode="points")
    node = vp.node_at(ev)                    # e.g. "t3", or None

The rooms:
    figure.py     figure(), show(): the traces of nodes, edges, text, highlights and hover / click targets
    style.py      FigureOptions (every option of a figure, with its default), THEMES, node categories,
                  the |grad| bins of the edge colours, fonts
    cells.py      vectors and matrices (up to 16x16) as heatmaps of data and grad in their boxes, numbers on hover
    layout.py     layout(): the layered layout (left to right or top to bottom) (Layout), edge routes and the shapes drawn on them
    animation.py  backward_animation()
    events.py     node_at(), edge_at(): what a click or a Streamlit selection points at
    curves.py     replay_curve(): a value over training steps, replayable
    screens.py    screen_graph(): the view and figure every page draws (big graphs collapsed);
                  screen_figures(), screen_figure(), scroll_css(): the graph at its natural size, laid out for the screen,
                  in a box that scrolls; window_on(): a window of it centred on some nodes (the Walkthrough's step);
                  Sent: a figure as a page sends it, serialised once (for figures a session's memo keeps)
Figures are built from trace dicts without plotly's per-property checks (style.plotly_figure;
VIZGRAD_PLOT_VALIDATE=1 turns them on; tests/test_plot_fast.py compares both).
"""
from vizgrad.plot.animation import backward_animation
from vizgrad.plot.curves import replay_curve
from vizgrad.plot.events import edge_at, node_at
from vizgrad.plot.figure import figure, show
from vizgrad.plot.layout import Layout, layout
from vizgrad.plot.screens import Sent, screen_figure, screen_figures, screen_graph, screen_width, scroll_css, window_on
from vizgrad.plot.style import THEMES, FigureOptions

__all__ = ["figure", "FigureOptions", "layout", "backward_animation", "node_at", "edge_at", "Layout", "THEMES", "show",
           "replay_curve", "screen_graph", "screen_figures", "screen_figure", "screen_width", "scroll_css", "window_on", "Sent"]
