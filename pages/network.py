"""Network Playground: train a small neural network on 2-D data and watch it learn.

TensorFlow Playground's controls and views, plus what it lacks: per-layer gradient norms, |grad|
on the edges, the autograd graph of one training step, a link that reproduces the run, and
PyTorch export. Training runs vizgrad's real autograd (loss.backward()).
The configuration lives in st.session_state (per user) and mirrors into the URL; the numbers,
the choices offered and the figures come from vizgrad.net. Only the training panel reruns while
playing (st.fragment(run_every=...)). Text that came from the URL or an upload (values quoted in
error messages, the file's name and content) goes through plain(), never as markdown.
"""
import streamlit as st

from pages._common import ensure_app_navigation, graph_chart, lod_buttons, lod_click, lod_drawn, lod_opened

ensure_app_navigation()

import hashlib
import json
import os

from vizgrad import net
from vizgrad.app.limiter import HEAVY, QueueFull
from vizgrad.app.markdown import plain
from vizgrad.net import (ACTIVATIONS, DATASETS, FEATURES, LOSSES, OPTIMIZERS, REGULARIZATIONS, ConfigError, DataError,
                         NetLimits, NetConfig, Trainer, download_data, from_query, load_csv, network_key, queue_message,
                         to_query, train_update)
from vizgrad.plot import node_at, screen_graph

try:  # the hosted demo tightens these: VIZGRAD_LIMITS='{"max_width": 8, "max_samples": 1000}'
    LIMITS = NetLimits(**json.loads(os.environ.get("VIZGRAD_LIMITS") or "{}"))
except (TypeError, ValueError):
    LIMITS = NetLimits()
UPDATE_EVERY = 0.05         # seconds between updates of the live panel while playing
OUT_HEIGHT, NEURON_HEIGHT, CURVES_HEIGHT = 340, 230, 260   # pixels
GRAPH_FONT = 13             # the step graph's node text (edge text 2 less): at least 10 px on every screen
EVAL_EVERY = 5              # steps between points on the loss curves
LRS = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
REG_RATES = [0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
SPEEDS = [1, 2, 5, 10, 25, 50, 100]
S = st.session_state


def load(cfg: NetConfig) -> None:
    """Put a configuration into the widgets' session keys (before they are drawn)."""
    S.nw_dataset, S.nw_noise, S.nw_train, S.nw_n = cfg.dataset, cfg.noise, cfg.train_ratio, cfg.n_samples
    S.nw_classes, S.nw_features, S.nw_depth = cfg.n_classes, list(cfg.features), len(cfg.hidden)
    for i, (h, a) in enumerate(zip(cfg.hidden, cfg.activation)):
        S[f"nw_units_{i}"], S[f"nw_act_{i}"] = h, a
    S.nw_loss, S.nw_opt, S.nw_lr, S.nw_momentum = cfg.loss, cfg.optimizer, cfg.lr, cfg.momentum
    S.nw_batch, S.nw_reg, S.nw_reg_rate, S.nw_seed = cfg.batch_size, cfg.regularization, cfg.reg_rate, cfg.seed


if "nw_dataset" not in S:  # first visit in this session: the URL's configuration, else the default
    S.nw_playing, S.nw_url_error, S.nw_neuron, S.nw_busy = False, None, None, None
    try:
        load(from_query(st.query_params.to_dict(), LIMITS) if len(st.query_params) else NetConfig())
    except ConfigError as e:
        S.nw_url_error = str(e)
        load(NetConfig())


def stop() -> None:
    S.nw_playing = False


def with_value(options, v):
    return options if v in options else sorted(options + [v])


# ---- controls (sidebar) --------------------------------------------------------------------------------
csv_data, csv_error = None, None
with st.sidebar:
    st.subheader("Data")
    st.selectbox("Dataset", list(DATASETS) + ["csv"], key="nw_dataset", on_change=stop,
                 format_func=lambda k: "Upload CSV…" if k == "csv" else f"{k} — {DATASETS[k].description}")
    if S.nw_dataset == "csv":
        up = st.file_uploader("CSV with rows x1, x2, label", type=["csv", "txt"], key="nw_upload", on_change=stop)
        if up is None:
            csv_error = "Upload a CSV file (rows `x1, x2, label`; labels 0/1, or class numbers, or values)."
        else:
            try:
                csv_data = load_csv(up.getvalue(), kind="auto", max_rows=LIMITS.max_samples,
                                    max_classes=LIMITS.max_classes, train_ratio=S.nw_train, seed=int(S.nw_seed),
                                    name=up.name)
            except DataError as e:  # the message quotes the file's content
                st.error(plain(f"{up.name}: {e}"), icon=":material/error:")
                csv_error = plain(f"The uploaded file cannot be used ({e}). Fix it and upload it again.")
    else:
        for name, v in (("nw_noise", 0.0), ("nw_n", 500), ("nw_classes", 3)):
            S.setdefault(name, v)  # a widget's value is dropped while it is hidden
        st.slider("Noise", 0.0, 0.5, step=0.01, key="nw_noise", on_change=stop)
        st.slider("Points", 20, LIMITS.max_samples, step=10, key="nw_n", on_change=stop)
        if DATASETS[S.nw_dataset].multiclass:
            st.slider("Classes", 2, LIMITS.max_classes, key="nw_classes", on_change=stop)
    st.slider("Training share", 0.1, 0.9, step=0.05, key="nw_train", on_change=stop,
              help="The fraction of the points used for training; the rest is the test set.")

    one_d = S.nw_dataset != "csv" and DATASETS[S.nw_dataset].input_dim == 1
    feats = [f for f in FEATURES if not (one_d and FEATURES[f].needs_x2)]
    S.nw_features = [f for f in S.nw_features if f in feats]
    st.pills("Features", feats, selection_mode="multi", format_func=lambda f: FEATURES[f].label, key="nw_features",
             on_change=stop)

    st.subheader("Network")
    st.slider("Hidden layers", 0, LIMITS.max_depth, key="nw_depth", on_change=stop)
    for i in range(S.nw_depth):
        S.setdefault(f"nw_units_{i}", S.get(f"nw_units_{i - 1}", 4))
        S.setdefault(f"nw_act_{i}", S.get(f"nw_act_{i - 1}", "tanh"))
        S[f"nw_units_{i}"] = min(S[f"nw_units_{i}"], LIMITS.max_width)
        c0, c1, c2 = st.columns([1, 3, 4], vertical_alignment="center")
        c0.markdown(f"**{i + 1}**")
        c1.number_input(f"Neurons in layer {i + 1}", 1, LIMITS.max_width, key=f"nw_units_{i}", on_change=stop,
                        label_visibility="collapsed")
        c2.selectbox(f"Activation of layer {i + 1}", list(ACTIVATIONS), key=f"nw_act_{i}",
                     format_func=lambda a: ACTIVATIONS[a].label, on_change=stop, label_visibility="collapsed")
    if S.nw_depth:
        st.caption("Neurons and activation per hidden layer.")

    st.subheader("Training")
    kind, k = (csv_data.kind, csv_data.n_classes) if csv_data is not None else NetConfig(
        dataset=S.nw_dataset if S.nw_dataset != "csv" else "circles", n_classes=S.get("nw_classes", 2)).task()
    losses = [name for name, loss in LOSSES.items() if loss.fits(kind, k)]
    if S.nw_loss not in losses:
        S.nw_loss = losses[0]
    st.selectbox("Loss", losses, key="nw_loss", format_func=lambda n: LOSSES[n].label, on_change=stop)
    st.selectbox("Optimizer", list(OPTIMIZERS), key="nw_opt", format_func=lambda n: OPTIMIZERS[n].label,
                 on_change=stop)
    if OPTIMIZERS[S.nw_opt].uses_momentum:
        S.setdefault("nw_momentum", 0.9)
        st.number_input("Momentum", 0.0, 0.999, step=0.05, key="nw_momentum")
    st.selectbox("Learning rate", with_value([v for v in LRS if v <= LIMITS.max_lr], S.nw_lr), key="nw_lr",
                 format_func=lambda v: f"{v:g}")
    st.number_input("Batch size", 1, LIMITS.max_batch_size, key="nw_batch")
    c1, c2 = st.columns(2)
    c1.selectbox("Regularization", list(REGULARIZATIONS), key="nw_reg", format_func=lambda r: REGULARIZATIONS[r].label)
    c2.selectbox("Rate", with_value([v for v in REG_RATES if v <= LIMITS.max_reg_rate], S.nw_reg_rate),
                 key="nw_reg_rate", format_func=lambda v: f"{v:g}", disabled=S.nw_reg == "none")
    st.caption("Learning rate, momentum, batch size and regularization apply to the running network; "
               "any other change starts a new one.")
    st.number_input("Seed", 0, 2**31 - 1, key="nw_seed", on_change=stop,
                    help="Seeds the data, the initial weights and the batch order: the same seed gives the same run.")

cfg = NetConfig(dataset=S.nw_dataset, noise=S.get("nw_noise", 0.0), train_ratio=S.nw_train, n_samples=S.get("nw_n", 500),
                n_classes=S.get("nw_classes", 2) if S.nw_dataset != "csv" and DATASETS[S.nw_dataset].multiclass else 2,
                features=tuple(S.nw_features), hidden=tuple(S[f"nw_units_{i}"] for i in range(S.nw_depth)),
                activation=tuple(S[f"nw_act_{i}"] for i in range(S.nw_depth)), loss=S.nw_loss, optimizer=S.nw_opt,
                lr=S.nw_lr, momentum=S.get("nw_momentum", 0.9), batch_size=S.nw_batch, regularization=S.nw_reg,
                reg_rate=S.nw_reg_rate if S.nw_reg != "none" else 0.0, seed=int(S.nw_seed))

# ---- header -------------------------------------------------------------------------------------------
st.title("Network Playground")
st.caption("Train a small neural network on 2-D data and watch it learn. Every step runs vizgrad's autograd: "
           "forward, `loss.backward()`, optimizer step.")
if S.nw_url_error:
    st.error(plain(f"This link could not be used, so the default network is shown. {S.nw_url_error}"),
             icon=":material/link_off:")
if csv_error:
    st.info(csv_error, icon=":material/upload_file:")
    st.stop()
try:
    cfg.validate(LIMITS, csv_data.kind if csv_data else None, csv_data.n_classes if csv_data else None)
    st.query_params.from_dict(to_query(cfg))  # shareable: the URL now reproduces this run
    key = network_key(cfg) + (hashlib.sha1(csv_data.x.tobytes() + csv_data.y.tobytes()).hexdigest()
                              if csv_data else "")
    if S.get("nw_key") != key:  # new data or a new architecture: a new network
        if S.get("nw_key") is not None:
            S.nw_url_error = None
        S.nw_trainer = Trainer(cfg, dataset=csv_data, limits=LIMITS, eval_every=EVAL_EVERY)
        S.nw_key, S.nw_neuron = key, None
    elif S.nw_trainer.config != cfg:  # the learning rate, batch size ...: the same network trains on
        S.nw_trainer.retune(cfg)
except (ConfigError, DataError) as e:
    st.error(plain(e), icon=":material/error:")
    st.stop()
tr: Trainer = S.nw_trainer
extent = net.data_extent(tr.dataset)


def set_playing(on: bool):
    # idempotent, not a toggle: Streamlit may run a button's callback twice when the click lands
    # during a fragment's auto-rerun (once in the fragment run, once replayed in the full run)
    S.nw_playing = on and tr.diverged is None
    S.nw_busy = None


def step():
    stop()
    tr.step()


def reset():
    stop()
    tr.reset()


bar = st.columns([1.1, 1, 1, 2.4, 4], vertical_alignment="bottom")
bar[0].button("Pause" if S.nw_playing else "Play", key="nw_play", on_click=set_playing, args=(not S.nw_playing,),
              type="primary",
              icon=":material/pause:" if S.nw_playing else ":material/play_arrow:", width="stretch",
              disabled=tr.diverged is not None)
bar[1].button("Step", key="nw_step", on_click=step, icon=":material/skip_next:", width="stretch",
              disabled=tr.diverged is not None)
bar[2].button("Reset", key="nw_reset", on_click=reset, icon=":material/replay:", width="stretch")
# Steps per update lives in nw_steps; the slider's own key is refilled from it on every run: Streamlit
# forgets a widget's value after a run that does not draw it (the page stops early while it waits for a
# CSV upload), and the slider then came back at its first option
S.setdefault("nw_steps", 50)   # at about 5 updates a second: 250 steps a second (bench/ui_rate.py)
S.nw_speed = S.nw_steps
bar[3].select_slider("Steps per update", SPEEDS, key="nw_speed", on_change=lambda: S.update(nw_steps=S.nw_speed))
if S.nw_busy:  # the server's queue for training was full: Play was paused
    st.warning(plain(f"Training paused: {S.nw_busy}. Press Play to try again."), icon=":material/hourglass:")
if tr.diverged:
    op = (tr.diverged_op or "").replace("`", "")  # an op's class name, shown as code
    bar[4].error(plain(tr.diverged) + (f" — first op: `{op}`" if op else ""), icon=":material/warning:")
    st.caption("Lower the learning rate (or the regularization rate) and press Reset.")


def pick_neuron():
    picked = net.neuron_at(S.get("nw_net"))
    if picked is not None:
        S.nw_neuron = picked


# ---- the training panel: the only part that reruns while playing ----------------------------------------
# While playing, the views are drawn as SVG images: Streamlit rebuilds a plotly chart from scratch whenever
# its figure changes (~0.1 s of browser time each), an image redraws in milliseconds. Paused, they are
# plotly charts again, with hover and clicks.
S.nw_timer = S.nw_playing  # whether this full run starts the live panel's timer


@st.fragment(run_every=UPDATE_EVERY if S.nw_playing else None)
def live_panel():
    if S.nw_timer != S.nw_playing:
        st.rerun()  # Play/Pause was handled in a fragment-only run: rerun the page to start/stop the timer
    # filled only while an update waits for a free training slot; drawn on every run, so that the elements
    # below keep their places (the browser then updates them instead of building them anew)
    queued = st.empty()
    if S.nw_playing and tr.diverged is None:
        try:
            train_update(tr, int(S.nw_steps), HEAVY,  # ahead = 0: the slot is got, the notice goes
                         waiting=lambda ahead: queued.caption(queue_message(ahead)) if ahead else queued.empty())
        except QueueFull as e:
            S.nw_playing, S.nw_busy = False, str(e)
            st.rerun()  # the whole page: stops the timer, shows the message
        queued.empty()
        if tr.diverged:
            S.nw_playing = False
            st.rerun()  # the whole page: stops the timers, shows the message
    m = tr.evaluate()
    stats = {"Step": f"{tr.steps:,}", "Epoch": f"{tr.epoch:.1f}", "Training loss": f"{m['train_loss']:.4f}",
             "Test loss": f"{m['test_loss']:.4f}"}
    if tr.kind == "classification":
        stats.update({"Training accuracy": f"{m['train_acc']:.1%}", "Test accuracy": f"{m['test_acc']:.1%}"})
    st.html(net.stats_html(stats))  # one element: cheap to update several times a second

    snap = net.snapshot(tr, extent=extent)
    sizes = snap.sizes
    if S.nw_neuron is None or not -1 <= S.nw_neuron[0] < len(sizes) - 1 or S.nw_neuron[1] >= sizes[S.nw_neuron[0] + 1]:
        S.nw_neuron = (0, 0) if len(sizes) > 2 else (-1, 0)
    net_col, out_col = st.columns([3, 2], gap="medium")
    with net_col:
        c1, c2 = st.columns([3, 2], vertical_alignment="center")
        c1.markdown("**Network** — click a neuron to see its output")
        edges = c2.segmented_control("Edges show", ["weight", "|grad|"], default="weight", key="nw_edges",
                                     label_visibility="collapsed", required=True)
        mode = "grad" if edges == "|grad|" else "weight"
        if S.nw_playing:  # an image: redrawn in milliseconds (a plotly chart is rebuilt on every update)
            st.image(net.network_svg(snap, mode, S.nw_neuron, width=600))
        else:
            st.plotly_chart(net.network_figure(snap, mode, S.nw_neuron), key="nw_net", on_select=pick_neuron,
                            selection_mode="points", width="stretch", config={"displayModeBar": False}, theme=None)
    with out_col:
        st.markdown("**Output** over the input plane")
        grid = tr.predict_grid(50, extent)
        if S.nw_playing and grid.ys is not None:
            st.image(net.decision_svg(grid, tr.dataset, width=400, height=OUT_HEIGHT))
        else:
            st.plotly_chart(net.decision_figure(grid, tr.dataset, height=OUT_HEIGHT), key="nw_output", width="stretch",
                            config={"displayModeBar": False}, theme=None)
        layer, unit = S.nw_neuron
        grid = (tr.feature_grid(cfg.features[unit], 40, extent) if layer < 0
                else tr.neuron_outputs_grid(layer, unit, 40, extent))
        st.markdown(f"**Selected: {plain(net.neuron_title(snap, layer, unit))}**")
        if S.nw_playing and grid.ys is not None:
            st.image(net.neuron_svg(grid, width=400, height=NEURON_HEIGHT))
        else:
            st.plotly_chart(net.neuron_figure(grid, height=NEURON_HEIGHT), key="nw_neuron_fig", width="stretch",
                            config={"displayModeBar": False}, theme=None)

    loss_col, gn_col = st.columns(2, gap="medium")
    names = net.layer_names(len(tr.linears))
    with loss_col:
        st.markdown("**Loss** (and accuracy) on the training and test sets")
        if S.nw_playing:
            st.image(net.curves_svg(tr.history, width=460, height=CURVES_HEIGHT))
        else:
            st.plotly_chart(net.curves_figure(tr.history, height=CURVES_HEIGHT), key="nw_curves", width="stretch",
                            config={"displayModeBar": False}, theme=None)
    with gn_col:
        st.markdown("**Gradient norm per layer**, ‖∂L/∂W‖ (log scale)",
                    help="The L2 norm of each layer's weight gradient at every step (a moving average over 10 "
                    "recorded steps; a long run keeps every 2^k-th step). A layer far below the others learns "
                    "slowly (vanishing gradients, try 6 sigmoid layers); a curve shooting up is exploding.")
        if S.nw_playing:
            st.image(net.grad_norm_svg(tr.history, names, width=460, height=CURVES_HEIGHT))
        else:
            st.plotly_chart(net.grad_norm_figure(tr.history, names, height=CURVES_HEIGHT), key="nw_gradnorm",
                            width="stretch", config={"displayModeBar": False}, theme=None)


live_panel()

# ---- the autograd graph of one step; export (full reruns only) -------------------------------------------
def graph_click(chart: str):
    """A click on the step graph: a box opens one level (its inner boxes stay closed)."""
    lod_click("nw", node_at(S.get(chart)))


st.subheader("The autograd graph of one training step")
if S.nw_playing:
    st.info("Pause to see the graph at the current weights.", icon=":material/pause:")
else:
    graph = net.step_graph(tr)
    # the view every page draws (vizgrad.plot.screen_graph): layers (and any repeated sub-expressions)
    # as boxes, a click opens one; at its natural size, laid out for this screen, in a box that scrolls
    view, figs = screen_graph(graph, st.context.headers, lod_opened("nw", S.nw_key), font_size=GRAPH_FONT)
    boxes = lod_drawn("nw", view)
    st.caption(f"Forward and `loss.backward()` on the first {tr.batch_size} training points at the current "
               "weights; the arrows beside the edges carry the gradients flowing back. "
               + ("Green boxes are layers (nn modules): click one to open it, Back closes it again. "
                  if boxes else "")
               + ("Scroll sideways to follow the graph." if figs[0][0].layout.width > 700 else ""))
    lod_buttons("nw")
    graph_chart("nw_graph", figs, on_select=graph_click)

st.subheader("Export")
st.caption("The URL holds the configuration and seed: copy it to reproduce this run.")
ex = st.columns(3)
ex[0].download_button("PyTorch code (.py)", download_data(tr, "code"), "vizgrad_model.py",
                      "text/x-python", key="nw_dl_code", on_click="ignore", icon=":material/code:", width="stretch")
ex[1].download_button("Weights (.json)", download_data(tr, "weights"), "vizgrad_weights.json",
                      "application/json", key="nw_dl_json", on_click="ignore", icon=":material/data_object:",
                      width="stretch")
ex[2].download_button("Loss curve (.csv)", download_data(tr, "curve"), "vizgrad_loss.csv", "text/csv",
                      key="nw_dl_csv", on_click="ignore", icon=":material/show_chart:", width="stretch")
