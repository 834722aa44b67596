"""vizgrad.net figures (figures, svg, curves, diagram): the Network Playground's figures contain what they should."""
import base64
import xml.etree.ElementTree as ET
import zlib

import numpy as np
import plotly.graph_objects as go
import pytest

from vizgrad import net as npl
from vizgrad.net.config import NetConfig
from vizgrad.net.trainer import Trainer
from vizgrad.net.upload import load_csv


@pytest.fixture(scope="module")
def trained():
    tr = Trainer(NetConfig(dataset="xor", noise=0.1, hidden=(4, 3), activation=("tanh", "relu")),
                 eval_every=5)
    tr.run(400)  # far enough that P(class 1) passes 0.5 somewhere (with torch's initial weights)
    return tr


def valid(fig):
    """netplot assembles figures without plotly's validation (speed); validate them here."""
    go.Figure(fig.to_dict())
    return fig


def by_name(fig, name):
    return [t for t in fig.data if t.name == name]


# ---- snapshot and the network diagram ----------------------------------------------------------------
def test_snapshot_reads_weights_grads_and_node_outputs(trained):
    snap = npl.snapshot(trained, resolution=12)
    assert snap.sizes == [2, 4, 3, 1]
    assert [w.shape for w in snap.weights] == [(4, 2), (3, 4), (1, 3)]
    np.testing.assert_array_equal(snap.weights[1], trained.linears[1].weight.detach().numpy())
    np.testing.assert_array_equal(snap.grads[0], trained.linears[0].weight.grad.numpy())
    assert [t.shape for t in snap.thumbs] == [(2, 12, 12), (4, 12, 12), (3, 12, 12), (1, 12, 12)]
    np.testing.assert_allclose(snap.thumbs[1][2], trained.neuron_outputs_grid(0, 2, 12).z)
    assert snap.features == ["x₁", "x₂"] and snap.activations == ["tanh", "relu"]


def test_network_edges_are_coloured_by_weight_sign_and_sized_by_magnitude(trained):
    snap = npl.snapshot(trained)
    fig = valid(npl.network_figure(snap))
    edges = [t for t in fig.data if t.mode == "lines" and t.x is not None and len(t.x) > 1]
    n_seg = {npl.POS: 0, npl.NEG: 0}
    for t in edges:
        n_seg[t.line.color] += len(t.x) // 3
    W = np.concatenate([w.ravel() for w in snap.weights])
    assert n_seg[npl.POS] == int((W >= 0).sum()) and n_seg[npl.NEG] == int((W < 0).sum())
    # the largest |w| is drawn with the widest line, in its sign's colour; the smallest with the thinnest
    w_big = W[np.abs(W).argmax()]
    top = max(t.line.width for t in edges)
    assert any(t.line.width == top and t.line.color == (npl.POS if w_big >= 0 else npl.NEG) for t in edges)
    w_small = W[np.abs(W).argmin()]
    low = min(t.line.width for t in edges)
    assert any(t.line.width == low and t.line.color == (npl.POS if w_small >= 0 else npl.NEG) for t in edges)
    assert {t.name for t in fig.data if t.showlegend} == {"positive weight", "negative weight"}


def test_network_grad_mode_sizes_edges_by_gradient(trained):
    snap = npl.snapshot(trained)
    fig = valid(npl.network_figure(snap, mode="grad"))
    edges = [t for t in fig.data if t.mode == "lines" and t.x is not None and len(t.x) > 1]
    assert {t.line.color for t in edges} == {npl.GRAD}
    gmax = max(np.abs(g).max() for g in snap.grads)
    assert fig.layout.meta["max"] == pytest.approx(gmax)
    with pytest.raises(ValueError):
        npl.network_figure(snap, mode="bias")


def test_network_neurons_carry_layer_and_unit_for_clicks(trained):
    snap = npl.snapshot(trained)
    fig = valid(npl.network_figure(snap, selected=(1, 2)))
    (neurons,) = by_name(fig, "neurons")
    cd = [tuple(c) for c in neurons.customdata]
    assert cd == [(-1, 0), (-1, 1), (0, 0), (0, 1), (0, 2), (0, 3), (1, 0), (1, 1), (1, 2), (2, 0)]
    assert len(fig.layout.images) == 10                     # one output-over-the-plane thumbnail per node
    outlined = [s for s in fig.layout.shapes if s.line.width == 3]
    assert len(outlined) == 1 and outlined[0].line.color == npl.ACCENT
    event = {"selection": {"points": [{"curve_number": 3, "point_index": 7, "customdata": [1, 1]}]}}
    assert npl.neuron_at(event) == (1, 1)
    assert npl.neuron_at({"selection": {"points": []}}) is None and npl.neuron_at(None) is None
    assert npl.neuron_title(snap, 1, 2) == "hidden layer 2, neuron 3 (relu)"
    assert npl.neuron_title(snap, -1, 1) == "input x₂" and npl.neuron_title(snap, 2, 0) == "output"


def test_network_without_gradients_or_thumbnails():
    tr = Trainer(NetConfig(dataset="sine", features=("x1", "sinx1"), hidden=(), loss="mse"))
    snap = npl.snapshot(tr)             # 1-D data: no thumbnails; before any step: no gradients
    assert snap.thumbs is None and snap.grads == [None]
    for mode in ("weight", "grad"):
        fig = valid(npl.network_figure(snap, mode=mode))
        assert len(fig.layout.images) == 0
        ET.fromstring(npl.network_svg(snap, mode=mode))


def test_network_svg_matches_the_figure(trained):
    snap = npl.snapshot(trained)
    svg = npl.network_svg(snap, selected=(0, 1), width=500)
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    paths = root.findall(f"{ns}path")
    strokes = {p.get("stroke") for p in paths}
    assert strokes <= {npl.POS, npl.NEG}
    n_edges = sum(p.get("d").count("M") for p in paths)
    assert n_edges == sum(w.size for w in snap.weights)
    assert len(root.findall(f"{ns}image")) == 10
    assert sum(r.get("stroke") == npl.ACCENT for r in root.findall(f"{ns}rect")) == 1
    assert "x₁" in svg and "4 neurons" in svg and "relu" in svg


# ---- decision boundary ---------------------------------------------------------------------------------
def test_decision_figure_has_train_and_test_points_coloured_by_class(trained):
    ds = trained.dataset
    fig = valid(npl.decision_figure(trained.predict_grid(40), ds))
    train = [t for t in by_name(fig, "train") if t.x is not None and t.x[0] is not None]
    test = [t for t in by_name(fig, "test") if t.x is not None and t.x[0] is not None]
    assert len(train) == 1 and len(test) == 1
    assert len(train[0].x) == ds.n_train and len(test[0].x) == ds.n_test
    np.testing.assert_allclose(train[0].x, ds.x_train[:, 0])
    colors = np.array(train[0].marker.color)
    assert set(colors[ds.y_train == 1]) == {npl.POS} and set(colors[ds.y_train == 0]) == {npl.NEG}
    assert train[0].marker.line.color == "#ffffff" and test[0].marker.line.color == npl.FG
    assert {t.name for t in fig.data if t.showlegend is not False} >= {"train", "test"}
    assert len(fig.layout.images) == 1 and fig.layout.images[0].source.startswith("data:image/png;base64,")
    assert by_name(fig, "output")[0].type == "heatmap"        # hover: P(class 1)


def test_plane_image_shows_probability_boundary_and_points(trained):
    g = trained.predict_grid(30)
    img, box = npl.plane_image(g, trained.dataset, points=False, pixels=60)
    assert img.shape == (60, 60, 3) and img.dtype == np.uint8
    assert box[0] < -5.9 and box[1] > 5.9
    with_pts, _ = npl.plane_image(g, trained.dataset, points=True, pixels=60)
    assert (with_pts != img).any()
    # a blue-ish pixel where P(class 1) is high, orange-ish where it is low (row 0 is the top)
    i, j = np.unravel_index(g.z.argmax(), g.z.shape)
    r, c = int(round((29 - i) * 59 / 29)), int(round(j * 59 / 29))
    assert img[r, c, 2] > img[r, c, 0]
    fig = valid(npl.decision_figure(g, trained.dataset, points="image"))
    assert not [t for t in fig.data if t.x is not None and len(t.x) > 1]     # no point traces, legend only
    with pytest.raises(ValueError):
        npl.decision_figure(g, trained.dataset, points="gl")


def test_decision_svg_is_valid_and_has_every_point(trained):
    svg = npl.decision_svg(trained.predict_grid(30), trained.dataset)
    root = ET.fromstring(svg)
    circles = root.iter("{http://www.w3.org/2000/svg}circle")
    assert sum(1 for _ in circles) == trained.dataset.n_train + trained.dataset.n_test + 2   # + legend markers
    ET.fromstring(npl.neuron_svg(trained.neuron_outputs_grid(0, 1, 20)))


def test_decision_multiclass_regression_and_1d():
    tr = Trainer(NetConfig(dataset="spiral", n_classes=3, loss="cross_entropy", hidden=(6,)))
    tr.run(5)
    fig = valid(npl.decision_figure(tr.predict_grid(20), tr.dataset))
    colors = set(by_name(fig, "train")[0].marker.color)
    assert colors == set(npl.CLASS_COLORS[:3])
    tr = Trainer(NetConfig(dataset="plane", loss="mse", hidden=(3,)))
    fig = valid(npl.decision_figure(tr.predict_grid(20), tr.dataset))
    assert by_name(fig, "train")[0].marker.colorscale is not None
    tr = Trainer(NetConfig(dataset="sine", features=("x1", "sinx1"), loss="mse", hidden=(3,)))
    fig = valid(npl.decision_figure(tr.predict_grid(20), tr.dataset))
    assert {t.name for t in fig.data} == {"prediction", "train", "test"}


def test_neuron_figure_is_a_heatmap_centred_at_zero(trained):
    g = trained.neuron_outputs_grid(0, 0, 25)
    fig = valid(npl.neuron_figure(g, title="hidden layer 1, neuron 1"))
    (h,) = fig.data
    assert h.type == "heatmap" and h.zmin == -h.zmax
    np.testing.assert_array_equal(np.asarray(h.z), g.z)


def test_data_extent_follows_an_uploaded_csv():
    ds = load_csv("x1,x2,label\n0,0,0\n1,2,1\n-3,1,0\n2,-1,1\n", kind="classification")
    assert npl.data_extent(ds) == 4.0
    tr = Trainer(NetConfig())
    assert npl.data_extent(tr.dataset) == 6.0


# ---- curves ------------------------------------------------------------------------------------------
def test_curves_figure_plots_train_and_test_loss_and_accuracy(trained):
    h = trained.history
    fig = valid(npl.curves_figure(h))
    (tl,), (vl,) = by_name(fig, "train loss"), by_name(fig, "test loss")
    np.testing.assert_allclose(tl.x, h.eval_step)
    np.testing.assert_allclose(tl.y, h.train_loss)
    np.testing.assert_allclose(vl.y, h.test_loss)
    (ta,) = by_name(fig, "test acc")
    assert ta.yaxis == "y2"
    np.testing.assert_allclose(ta.y, h.test_acc)
    reg = Trainer(NetConfig(dataset="plane", loss="mse", hidden=(2,)))
    reg.run(3)
    assert not by_name(valid(npl.curves_figure(reg.history)), "test acc")   # regression: loss only


def test_curves_thin_long_histories(trained):
    tr = Trainer(NetConfig(hidden=(2,)), eval_every=1)
    tr.run(300)
    fig = npl.curves_figure(tr.history, max_points=50)
    assert len(by_name(fig, "train loss")[0].x) <= 51
    assert by_name(fig, "train loss")[0].x[-1] == 300


def test_grad_norm_figure_has_one_log_scale_curve_per_layer(trained):
    h = trained.history
    fig = valid(npl.grad_norm_figure(h, npl.layer_names(npl.snapshot(trained)), smooth=1))
    assert [t.name for t in fig.data] == ["hidden 1", "hidden 2", "output"]
    assert fig.layout.yaxis.type == "log"
    np.testing.assert_allclose(fig.data[2].y, np.array(h.grad_norms)[:, 2], rtol=1e-9)
    smooth = npl.grad_norm_figure(h, smooth=10)
    assert np.std(np.log(smooth.data[0].y)) < np.std(np.log(fig.data[0].y))
    empty = valid(npl.grad_norm_figure(Trainer(NetConfig()).history, ["a", "b", "c"]))
    assert [t.name for t in empty.data] == ["a", "b", "c"]
    assert npl.layer_names(3) == ["hidden 1", "hidden 2", "output"]


def test_grad_norms_show_vanishing_gradients_in_a_deep_sigmoid_net():
    tr = Trainer(NetConfig(hidden=(8,) * 6, activation="sigmoid"))
    tr.run(20)
    fig = npl.grad_norm_figure(tr.history, smooth=1)
    first, last = np.mean(fig.data[0].y), np.mean(fig.data[-1].y)
    assert first < last / 100          # the input-side layer gets a tiny fraction of the gradient


# ---- small pieces ------------------------------------------------------------------------------------
def test_png_data_uri_is_a_png_of_the_pixels():
    rgb = np.zeros((3, 4, 3), np.uint8)
    rgb[0, 1] = (255, 0, 10)
    uri = npl.png_data_uri(rgb)
    raw = base64.b64decode(uri.split(",", 1)[1])
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    idat = raw[raw.index(b"IDAT") + 4:raw.index(b"IEND") - 8]
    rows = zlib.decompress(idat)
    assert len(rows) == 3 * (1 + 4 * 3) and rows[1 + 3:1 + 6] == bytes([255, 0, 10])


def test_diverging_colours():
    rgb = npl.diverging_rgb(np.array([-1.0, 0.0, 1.0, np.nan]), 1.0)
    assert tuple(rgb[0]) == tuple(int(npl.NEG[i:i + 2], 16) for i in (1, 3, 5))
    assert tuple(rgb[2]) == tuple(int(npl.POS[i:i + 2], 16) for i in (1, 3, 5))
    assert tuple(rgb[1]) == tuple(rgb[3])


def test_stats_html():
    html = npl.stats_html({"Step": "12", "Test loss": "0.5<1"})
    assert "data-stat=\"Step\"" in html and ">12</div>" in html and "0.5&lt;1" in html


# ---- the autograd graph of one step --------------------------------------------------------------------
def test_step_graph_records_one_training_step_without_touching_the_gradients(trained):
    before = [p.grad.numpy().copy() for p in trained.params]
    g = npl.step_graph(trained)
    after = [p.grad.numpy() for p in trained.params]
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)
    ops = {d["op"] for _, d in g.nodes(data=True) if d["kind"] == "op"}
    assert any("BinaryCrossEntropyWithLogits" in o or "BCE" in o for o in ops), ops
    assert g.graph["backward"]
    labels = {d.get("label") for _, d in g.nodes(data=True) if d["kind"] == "tensor"}
    assert "0.weight" in labels and "4.bias" in labels
    small = npl.step_graph(trained, collapse={"0", "1", "2", "3", "4"})
    assert len(small) < len(g)
    assert any(d["kind"] == "module" for _, d in small.nodes(data=True))


# ---- untrusted text (issue 11) -----------------------------------------------------------------------
PAYLOADS = [":red[**X**]", "[a](https://evil.example)", "![i](https://evil.example/i.png)",
            "<img src=x onerror=alert(1)>", "$\\href{https://evil.example}{x}$"]


def plotly_shows(s: str) -> str:
    """The text plotly draws for a label / hover / title string: it decodes &amp; &lt; &gt; and &#NN;."""
    import re
    s = re.sub(r"&#(\d+);", lambda m: chr(int(m.group(1))), s)
    return s.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def all_strings(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from all_strings(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from all_strings(v)


def assert_plotly_literal(fig, payloads):
    """Each payload is in the figure's text only escaped: drawn as typed, no tag, no $...$ (LaTeX), no %{...}."""
    texts = [s for s in all_strings(fig.to_dict()) if not s.startswith("data:")]
    for p in payloads:
        carrying = [s for s in texts if p in plotly_shows(s)]
        assert carrying, p
        for s in carrying:        # (markdown means nothing to plotly: only & < > $ % need escaping)
            assert "<img" not in s and "$" not in s and "%{x}" not in s, s
            assert p not in s or not any(c in p for c in "&<>$%"), s
    return texts


def assert_svg_literal(svg, payloads):
    """The SVG is well-formed, has only drawing elements, and shows each payload as text."""
    root = ET.fromstring(svg)
    tags = {el.tag.rsplit("}", 1)[-1] for el in root.iter()}
    assert tags <= {"svg", "rect", "path", "image", "text", "line", "polyline", "g", "circle"}, tags
    assert not any(k.lower().startswith("on") for el in root.iter() for k in el.attrib)
    texts = {"".join(el.itertext()) for el in root.iter() if el.tag.endswith("text")}
    for p in payloads:
        assert p in texts, p


def test_text_from_users_is_escaped_in_figures_and_svg(trained):
    import dataclasses
    snap = dataclasses.replace(npl.snapshot(trained, resolution=8), features=PAYLOADS[:2],
                               activations=[PAYLOADS[3], PAYLOADS[4]])
    fig = npl.network_figure(snap)
    texts = assert_plotly_literal(fig, PAYLOADS[:2] + PAYLOADS[3:])
    assert any(plotly_shows(s) == PAYLOADS[0] for s in texts)               # an input's label, as typed
    assert_svg_literal(npl.network_svg(snap), PAYLOADS[:2] + PAYLOADS[3:])
    grid = trained.predict_grid(10)
    for p in PAYLOADS:
        assert_plotly_literal(npl.neuron_figure(trained.neuron_outputs_grid(0, 0, 10), title=p), [p])
        assert_plotly_literal(npl.decision_figure(grid, trained.dataset, title=p), [p])
        assert_svg_literal(npl.neuron_svg(trained.neuron_outputs_grid(0, 0, 10), title=p), [p])
        assert_svg_literal(npl.plane_svg(np.zeros((4, 4, 3), np.uint8), (0, 1, 0, 1), title=p,
                                         legend=[(p, "#000000", "#ffffff")]), [p])
        assert_svg_literal(npl.lines_svg([dict(series=[([0, 1], [1, 2], "#000000")], label=p)], legend=[(p, "#000")]),
                           [p])
    names = PAYLOADS[:3]
    fig = npl.grad_norm_figure(trained.history, names)
    assert [plotly_shows(t.name) for t in fig.data] == names
    assert_plotly_literal(fig, names)
    assert_plotly_literal(npl.grad_norm_figure(Trainer(NetConfig(hidden=(2, 2))).history, names), names)  # empty
    assert_svg_literal(npl.grad_norm_svg(trained.history, names), names)    # shown once, as typed (not &amp;lt;)
    assert "&amp;lt;" not in npl.grad_norm_svg(trained.history, [PAYLOADS[3]])
    html = npl.stats_html({PAYLOADS[3]: PAYLOADS[4]})
    assert "<img" not in html and "&lt;img" in html


def test_redraws_get_at_most_the_history_bound(monkeypatch):
    # issue 11: every redraw walked the whole run's history
    from vizgrad.net import curves as npl, trainer as train   # the curves read the history through curves._thin
    cap = train.HISTORY_POINTS
    tr = Trainer(NetConfig(dataset="gauss", n_samples=8, hidden=(2,), batch_size=1), eval_every=1)
    n = cap + 1500
    tr.run(n)
    got = []
    real_thin, real_array = npl._thin, train.History.grad_norm_array

    def thin(x, ys, max_points):
        got.append(len(x))
        got.extend(len(y) for y in ys)
        return real_thin(x, ys, max_points)

    def array(self):
        a = real_array(self)
        got.append(len(a))
        return a
    monkeypatch.setattr(npl, "_thin", thin)
    monkeypatch.setattr(train.History, "grad_norm_array", array)
    for draw in (lambda h: npl.curves_figure(h, max_points=10 ** 9), lambda h: npl.curves_svg(h, max_points=10 ** 9),
                 lambda h: npl.grad_norm_figure(h, max_points=10 ** 9), npl.grad_norm_svg):
        got.clear()
        out = draw(tr.history)
        assert got and max(got) <= cap, max(got)
    fig = npl.curves_figure(tr.history, max_points=10 ** 9)
    x = by_name(fig, "train loss")[0].x
    assert x[0] == 0 and x[-1] == n and len(x) <= cap                        # still the whole run
    g = npl.grad_norm_figure(tr.history, max_points=10 ** 9).data[0].x
    assert g[0] == 1 and g[-1] == n and len(g) <= cap
    assert out.startswith("<svg")
