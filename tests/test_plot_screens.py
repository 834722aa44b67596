"""The graph at its natural size, laid out left to right or top to bottom for the screen."""
import numpy as np

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
