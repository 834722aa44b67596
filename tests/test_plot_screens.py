"""The graph at its natural size, laid out left to right or top to bottom for the screen."""
import numpy as np

import vizgrad
import vizgrad.graph as vg
import vizgrad.plot as vp
from vizgrad.app.expression import State, run
from vizgrad.plot.style import MONO

E45 = ("tanh(x*y + sin(x) - exp(-y/3)) * (x**2 + y**2) / (1 + x*x) + log(1 + y**2) - sqrt(x*x + 1) * cos(y) "
       "+ (x - y)**3 / 7 + sin(x*y)*cos(x-y) + exp(-x*x) * y + x/(1+y*y) + x")
TANH = {"expr": "sum(tanh(W @ v + b)**2)", "v.W": "[[0.5, -1.0], [0.3, 0.8], [-0.6, 0.2]]", "v.v": "[1.0, 2.0]",
        "v.b": "[0.1, -0.2, 0.3]"}


def graph(q):
    return run(State.from_query(q), checks=False).graph


def node_texts(fig):
    return [t for tr in fig.data if tr.mode == "text" and not tr.name for t in tr.text]


def test_natural_size_keeps_the_text_size_and_the_numbers_of_a_45_op_graph():
    g = graph({"expr": E45, "v.x": "0.5", "v.y": "1.5"})
    assert sum(d["kind"] == "op" for _, d in g.nodes(data=True)) == 45
    squeezed = vp.figure(g, max_width=900)
    fig = vp.figure(g, natural=True)
    assert fig._vizgrad["scale"] == 1.0
    texts = node_texts(fig)
    assert len(texts) == g.number_of_nodes()
    assert sum("grad" in t for t in texts) >= 40       # the numbers stay on the boxes
    assert all(tr.textfont.size >= 10 for tr in fig.data if tr.mode == "text" and tr.textfont.family == MONO)
    assert fig.layout.width > squeezed.layout.width     # and the figure is as big as that takes


def test_top_to_bottom_puts_the_layers_in_rows():
    g = graph(TANH)
    lr, tb = vp.layout(g), vp.layout(g, direction="TB")
    assert tb.direction == "TB" and lr.direction == "LR"
    src, dst = tb.src, tb.dst
    assert np.all(tb.y[dst] > tb.y[src])                # every edge points down
    assert np.all(lr.x[dst] > lr.x[src])                # (left to right: every edge points right)
    # nothing overlaps
    for i in range(len(tb.x)):
        for j in range(i + 1, len(tb.x)):
            assert (abs(tb.x[i] - tb.x[j]) >= (tb.w[i] + tb.w[j]) / 2 - 1e-6
                    or abs(tb.y[i] - tb.y[j]) >= (tb.h[i] + tb.h[j]) / 2 - 1e-6)


def test_auto_direction_follows_the_screen():
    g = graph({"expr": "x**2 + y**3", "v.x": "2", "v.y": "3"})
    wide = vp.figure(g, natural=True, direction="auto", fit_width=1200)
    narrow = vp.figure(g, natural=True, direction="auto", fit_width=360, fit_height=700)
    assert wide._vizgrad["layout"].direction == "LR"
    assert narrow._vizgrad["layout"].direction == "TB" and narrow.layout.width <= 360


def test_screen_width_from_the_request_headers():
    phone = {"User-Agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/130.0 Mobile Safari/537.36"}
    assert vp.screen_width(phone) == 360
    assert vp.screen_width({"Sec-CH-UA-Mobile": "?1"}) == 360
    assert vp.screen_width({"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0 Safari/537.36"}) == 1200
    assert vp.screen_width(None) == 1200


def test_scroll_css_keeps_the_chart_at_the_figures_width():
    fig = vp.screen_figure(graph(TANH))
    css = vp.scroll_css("pg_graph_box", fig)
    assert ".st-key-pg_graph_box {overflow-x: auto" in css and f"min-width: {int(fig.layout.width)}px" in css


def test_screen_graph_draws_big_graphs_collapsed_small_ones_whole_and_the_boxes_opened():
    from vizgrad.graph import lod
    from tests.test_plot import scalar_mlp
    small = graph(TANH)
    view, figs = vp.screen_graph(small)
    assert view is small and not lod.visible_groups(view)           # whole: nothing to collapse
    for fig, _ in figs:
        assert set(next(t for t in fig.data if t.name == "nodes").customdata) == set(small.nodes)
    big = vg.trace(scalar_mlp(80))                                    # about 4,000 nodes
    view, figs = vp.screen_graph(big)
    boxes = lod.visible_groups(view)
    assert boxes and view.number_of_nodes() <= 2 * lod.THRESHOLD     # collapsed into a few boxes
    drawn = set(next(t for t in figs[0][0].data if t.name == "nodes").customdata)
    assert drawn == set(view.nodes) and set(boxes) <= drawn           # the boxes are what a click picks
    opened, _ = vp.screen_graph(big, opened=set(view.graph["open"]) | {boxes[0]})
    assert boxes[0] not in opened and opened.number_of_nodes() > view.number_of_nodes()
    assert lod.visible_groups(vp.screen_graph(big, opened=opened.graph["open"])[0]) == lod.visible_groups(opened)


PHONE = {"User-Agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/130.0 Mobile Safari/537.36"}
DESKTOP = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0 Safari/537.36"}


def test_a_desktop_gets_a_wide_and_a_narrow_layout_and_the_window_width_picks_one():
    g = graph({"expr": "x**2 + y**3", "v.x": "2", "v.y": "3"})    # left to right fits a desktop, not a phone
    (phone, media), = vp.screen_figures(g, PHONE)
    assert media is None                                              # a phone: one layout, for 360 px
    (wide, wm), (narrow, nm) = vp.screen_figures(g, DESKTOP)
    assert (narrow.layout.width, narrow.layout.height) == (phone.layout.width, phone.layout.height)
    assert narrow.layout.width < wide.layout.width                   # laid out for a narrow window
    # the media queries split the window widths at one point: each width shows exactly one layout
    room = int(wm.split(":")[1].rstrip("px)"))
    assert float(nm.split(":")[1].rstrip("px)")) == room - 0.02
    assert room == min(int(wide.layout.width), vp.screens.WIDE) + vp.screens.MARGIN
    (alone, media), = vp.screen_figures(g, {})                      # no browser: the desktop's layout only
    assert media is None and alone.layout.width == wide.layout.width
    css = vp.scroll_css("pg_graph_box_narrow", narrow, nm)
    assert f"@media not all and {nm} {{.st-key-pg_graph_box_narrow {{display: none}}}}" in css


def test_a_graph_that_fits_a_narrow_window_as_it_is_gets_one_layout():
    x = vizgrad.tensor(2.0, requires_grad=True, name="x")
    z = x * 3
    z.backward()
    (fig, media), = vp.screen_figures(z, DESKTOP)
    assert media is None and fig.layout.width <= vp.screens.NARROW


def test_at_natural_size_every_edge_label_lies_inside_the_figure():
    from vizgrad.plot.style import CHAR
    for q in (TANH, {"expr": E45, "v.x": "0.5", "v.y": "1.5"}):
        for direction in ("LR", "TB"):
            fig = vp.figure(graph(q), natural=True, direction=direction)
            lab = next(t for t in fig.data if t.name == "edge grads")
            efs = lab.textfont.size
            (xa, xb), (yb, ya) = fig.layout.xaxis.range, fig.layout.yaxis.range
            for x, y, text in zip(lab.x, lab.y, lab.text):
                half = len(text) * CHAR * efs / 2
                assert xa <= x - half and x + half <= xb and ya <= y - efs / 2 and y + efs / 2 <= yb, (text, direction)


def test_a_window_shows_a_part_of_the_drawing_centred_on_nodes_and_its_media_follow_the_window():
    g = graph({"expr": "x**2 + y**3", "v.x": "2", "v.y": "3"})      # 512 x 222 wide, 320 x 440 narrow
    x = next(n for n, d in g.nodes(data=True) if d["label"] == "x")
    figs = vp.screen_figures(g, DESKTOP, window=([x], 300, 150))
    assert len(figs) == 2
    for fig, _ in figs:
        lay = fig._vizgrad["layout"]
        assert fig.layout.width <= 300 and fig.layout.height <= 150
        assert fig._vizgrad["scale"] == 1.0                               # the text keeps its size
        (x0, x1), (y0, y1) = fig.layout.xaxis.range, fig.layout.yaxis.range
        assert x0 <= lay.x[lay.index[x]] <= x1 and min(y0, y1) <= lay.y[lay.index[x]] <= max(y0, y1)
        # the range shown is the window's size at scale 1: a part of the drawing, not all of it shrunk
        m = fig.layout.margin
        assert abs((x1 - x0) - (fig.layout.width - m.l - m.r)) < 1e-6
    (wide, wm), (narrow, nm) = figs
    assert wm == f"(min-width: {int(wide.layout.width) + vp.screens.MARGIN}px)"   # the window's width
    assert wide.layout.showlegend and not narrow.layout.showlegend    # a narrow window: no legend rows


def test_screen_figures_draws_the_backward_animation_laid_out_for_each_screen():
    g = graph({"expr": "x**2 + y**3", "v.x": "2", "v.y": "3"})
    (wide, _), (narrow, _) = vp.screen_figures(g, DESKTOP, draw=vp.backward_animation)
    for fig in (wide, narrow):
        assert fig.frames and fig._vizgrad["scale"] == 1.0 and fig.layout.updatemenus
    assert narrow.layout.width <= vp.screens.NARROW < wide.layout.width
