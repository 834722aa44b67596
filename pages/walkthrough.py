"""Backprop Walkthrough: step through a graph's forward and backward pass, one op at a time.

Pick what to walk through (an expression, an example, a small network or a lesson's graph), then
step with Previous / Next / the slider / Play. Each step highlights its op in the graph, shows
the chain rule with the numbers filled in, and the gradients accumulated so far; the last step
checks the result against .backward() and finite differences. The URL holds the source and the
step, so a copied link reopens the same moment. All computation is vizgrad.app.walkthrough.

A link is untrusted and the server is shared: the walk is built once per source (not on every
rerun), kept in a session-scoped store that is emptied when the session disconnects (so its
arrays are freed then, by reference counting), and every text that comes from the URL or the
user goes into markdown through plain().
"""
import streamlit as st

from pages._common import ensure_app_navigation, graph_chart, page

ensure_app_navigation()

from vizgrad.app.limiter import QueueFull, queue_message
from vizgrad.app.markdown import plain
from vizgrad.app import walkthrough as ws
from vizgrad.app.expression import State, VarSpec

PLAY_SECONDS = 1.5

st.title("Backprop Walkthrough")
st.caption("Autograd first runs the **forward pass**, recording each op; then `backward()` walks the graph "
           "in reverse, applying the **chain rule** at each op: upstream gradient × local derivative. "
           "Step through it and watch the gradients accumulate.")


# ---- which graph: the URL (a shared link, the playground, a lesson), else this session's choice -----
def url_params() -> dict:
    return {k: st.query_params.get(k) for k in st.query_params}


def use_source(query: dict, step: int = 0) -> None:
    """Make `query` the current source (and fill the expression inputs if it is an expression)."""
    st.session_state.wt_query = ws.normalize_query(query)
    st.session_state.wt_step = step
    st.session_state.wt_playing = False
    st.session_state.wt_want_step = step
    if not any(k in query for k in ("lesson", "net", "code")):
        state = State.from_query(query)
        st.session_state.wt_expr = state.expr
        for name, spec in state.vars.items():
            st.session_state[f"wt_v_{name}"] = spec.text
        st.session_state.wt_ng = [n for n, s in state.vars.items() if not s.requires_grad]


def pick_from_menu() -> None:
    i = st.session_state.wt_pick
    if i is not None:
        use_source(ws.sources_menu()[i][1])


def edit_expression() -> None:
    expr = st.session_state.wt_expr
    state = State(expr, {n[5:]: VarSpec(st.session_state[n], n[5:] not in st.session_state.get("wt_ng", []))
                         for n in list(st.session_state.keys()) if str(n).startswith("wt_v_")})
    state.sync()
    for name, spec in state.vars.items():
        st.session_state.setdefault(f"wt_v_{name}", spec.text)
    use_source(state.to_query())


params = url_params()
from_url = ws.normalize_query(params) if any(k != "step" for k in params) else None
if from_url and from_url != st.session_state.get("wt_written"):
    # opened from a link (or the URL was edited): that graph, at the URL's step
    use_source(from_url)
    st.session_state.wt_want_step = params.get("step")
elif "wt_query" not in st.session_state:
    use_source(State().to_query())
    st.session_state.wt_want_step = params.get("step")

# ---- the source picker -------------------------------------------------------------------------
menu = ws.sources_menu()
with st.container(border=True):
    pick_col, expr_col = st.columns([2, 3], gap="large")
    pick_col.selectbox("Walk through", range(len(menu)), index=None, format_func=lambda i: menu[i][0],
                       placeholder="An example, a small network, or a lesson's graph…", key="wt_pick",
                       on_change=pick_from_menu)
    query = st.session_state.wt_query
    is_expr = not any(k in query for k in ("lesson", "net", "code"))
    with expr_col:
        if is_expr:
            st.text_input("… or type an expression", key="wt_expr", on_change=edit_expression, max_chars=2000,
                          help="Same language as the Expression Playground: + − * / ** @, sin, exp, tanh, sum, …")
            state = State.from_query(query)
            if state.vars:
                cols = st.columns(min(len(state.vars), 4))
                for i, (name, spec) in enumerate(state.vars.items()):
                    st.session_state.setdefault(f"wt_v_{name}", spec.text)
                    cols[i % len(cols)].text_input(f"{plain(name)} =", key=f"wt_v_{name}", on_change=edit_expression,
                                                   max_chars=4000)
        else:
            st.markdown(" ")
            if st.button("Type your own expression instead", icon=":material/edit:"):
                use_source(State().to_query())
                st.rerun()


@st.cache_resource(scope="session", on_release=dict.clear, show_spinner=False)
def walk_store() -> dict:
    """This session's walk ({"key", "walk"}). Session-scoped: Streamlit releases it (on_release empties
    it) when the session disconnects, so the walk's arrays are freed then, even while the session
    object itself waits for a garbage collection."""
    return {}


def queue_notice(box):
    """The `waiting` of heavy work (vizgrad.app.limiter): the visitor's place in `box`, cleared at 0."""
    return lambda k: box.info(queue_message(k), icon=":material/hourglass:") if k else box.empty()


def current_walk(waiting=None):
    """The walk of the current source: built when the source changes, never on a rerun for the same
    source (evaluating the expression and the finite-difference check are the expensive parts).
    Callbacks and the fragment call this instead of reading a global: the script's globals outlive
    the run (widget callbacks and the fragment refer to them), and must not keep a walk alive.
    A big graph (or a code link's sandbox run) waits for a slot of the server's limiter first
    (`waiting` shows the place); a walk not built because the server was busy is not kept."""
    store = walk_store()
    key = ws.query_key(st.session_state.wt_query)
    if store.get("key") != key or "walk" not in store:
        store.clear()  # the old walk goes before the new one is built
        w = ws.prepare(ws.from_query(st.session_state.wt_query, waiting=waiting), waiting=waiting)
        if w.busy:
            return w
        store["walk"], store["key"] = w, key
    return store["walk"]


queued = st.empty()
walk = current_walk(waiting=queue_notice(queued))
queued.empty()
source = walk.source

st.session_state.wt_written = ws.normalize_query(source.query)  # the URL names this source from now on
if not walk.ok:
    st.query_params.from_dict(source.query)
    st.error(plain(walk.error or "Nothing to walk through."), icon=":material/error:")
    if walk.busy:
        st.button("Try again", icon=":material/refresh:", key="wt_retry")  # a rerun builds it anew
    st.page_link(page("playground").path, label="Try it in the Expression Playground", icon=":material/function:",
                 query_params=source.query if source.kind == "expr" else None)
    st.stop()

want = st.session_state.pop("wt_want_step", None)
if want is not None and not isinstance(want, int):
    st.session_state.wt_step = ws.step_from_query({"step": want}, walk.n)
st.session_state.wt_step = max(0, min(st.session_state.wt_step, walk.n - 1))

st.markdown(f"Walking through **{source.kind_name}** {plain(source.title)}"
            + (f" — {plain(source.note)}" if source.note else ""))
for msg in source.warnings:
    st.warning(plain(msg), icon=":material/warning:")
n_forward = sum(1 for s in walk.steps if s.phase == "forward")


# ---- stepping ------------------------------------------------------------------------------------
def literal(rows: list[dict]) -> list[dict]:
    """Table rows whose cells show as typed (st.table renders markdown in its cells)."""
    return [{k: plain(v) for k, v in r.items()} for r in rows]


def go_to(k: int) -> None:
    st.session_state.wt_step = max(0, min(k, current_walk().n - 1))
    st.session_state.wt_playing = False


def slider_moved() -> None:
    go_to(st.session_state.wt_slider - 1)


@st.fragment(run_every=PLAY_SECONDS if st.session_state.get("wt_playing") else None)
def stepper() -> None:
    walk = current_walk()
    if st.session_state.get("wt_playing"):
        if st.session_state.pop("wt_play_started", False):
            pass  # the run that starts playing shows the current step first
        elif st.session_state.wt_step < walk.n - 1:
            st.session_state.wt_step += 1
        if st.session_state.wt_step >= walk.n - 1:
            st.session_state.wt_playing = False
            st.rerun()  # stop the timer
    k = st.session_state.wt_step
    st.query_params.from_dict({**source.query, "step": str(k + 1)})
    step = walk.steps[k]

    prev_col, next_col, play_col, slider_col = st.columns([1.3, 1.1, 1.1, 5], vertical_alignment="bottom")
    # the arrow keys step too (Streamlit ignores shortcuts while a text box has the focus)
    prev_col.button("Previous", icon=":material/arrow_back:", on_click=go_to, args=(k - 1,), disabled=k == 0,
                    width="stretch", key="wt_prev", shortcut="Left")
    next_col.button("Next", icon=":material/arrow_forward:", on_click=go_to, args=(k + 1,),
                    disabled=k == walk.n - 1, width="stretch", key="wt_next", type="primary", shortcut="Right")
    if st.session_state.get("wt_playing"):
        if play_col.button("Pause", icon=":material/pause:", width="stretch", key="wt_pause"):
            st.session_state.wt_playing = False
            st.rerun()
    elif play_col.button("Play", icon=":material/play_arrow:", width="stretch", key="wt_play"):
        if k >= walk.n - 1:
            st.session_state.wt_step = 0
        st.session_state.wt_playing = True
        st.session_state.wt_play_started = True
        st.rerun()
    st.session_state.wt_slider = k + 1
    slider_col.slider("Step", 1, walk.n, key="wt_slider", on_change=slider_moved,
                      help=f"Steps 1–{n_forward}: forward pass. Steps {n_forward + 1}–{walk.n}: backward pass.")

    # the graph right under the buttons, in a window that fits the screen with them (Play stays in view)
    focus = st.session_state.get("wt_focus", False)
    shapes = st.session_state.get("wt_shapes", False)
    dark = st.session_state.get("wt_dark", False)
    if st.session_state.get("wt_backflow", False):
        box = st.empty()  # a big graph's animation waits for a slot of the server's limiter: the place
        # the animation is the same at every step: drawn once per walk and setting, kept with the walk
        # (walk_store drops it with the walk), so stepping with it open costs no redraw
        store, setting = walk_store(), (shapes, dark, st.context.headers.get("User-Agent", ""))
        try:
            if store.get("anim_key") != setting or "anim" not in store:
                store.pop("anim", None)
                store["anim"] = ws.backward_figure(walk, st.context.headers, show_shapes=shapes,
                                                   theme="dark" if dark else "light", waiting=queue_notice(box))
                store["anim_key"] = setting
            anim = store["anim"]
        except QueueFull as e:
            box.warning(plain(f"The animation is not drawn: {e}. It tries again at the next step."),
                        icon=":material/hourglass:")
        else:
            # at its natural size (text never shrunk below it), in a box that scrolls sideways when wider
            graph_chart("wt_backward_anim", anim, config={"scrollZoom": True})
            st.caption("▶ play (or drag the slider): the backward pass edge by edge, in reverse topological order. "
                       "The number on each node is its place in that order (1: the output). Orange: the gradient "
                       "flowing now; **+=** marks a contribution added to a tensor's grad, so a tensor used twice "
                       "shows its grad growing to the sum.")
    else:
        walk_store().pop("anim", None)  # closed: its frames are not kept for a later reopen
        # natural size, laid out for this screen (a desktop gets a wide and a narrow layout: the window's
        # width picks one), through a window under the buttons; never squeezed to the column (boxes and all)
        graph_chart("wt_graph", ws.step_figure(walk, k, st.context.headers, focus=focus, show_shapes=shapes,
                                               theme="dark" if dark else "light"))
        st.caption("Orange: this step's op and tensors. Faded: "
                   + ("not computed yet." if step.phase == "forward" else "gradient not final yet; ① ② …: "
                      "the order in which backward visits the ops.")
                   + " Drag to pan, scroll to zoom. The arrows pointing back carry the gradient sent along each "
                     "edge so far (the larger |grad|, the wider and darker).")
    phase = "Forward pass" if step.phase == "forward" else "Backward pass"
    head, title = st.columns([1.4, 3], vertical_alignment="center")   # the badge whole at a 700 px window
    head.badge(f"Step {k + 1} of {walk.n} · {phase}", color="blue" if step.phase == "forward" else "violet",
               icon=":material/arrow_forward:" if step.phase == "forward" else ":material/arrow_back:")
    title.markdown(plain(step.title))

    opts = st.columns([1, 1, 1, 4])
    opts[0].toggle("focus", value=False, key="wt_focus", help="Fade everything except the current op and its tensors.")
    opts[1].toggle("shapes", value=False, key="wt_shapes")
    opts[2].toggle("dark", value=False, key="wt_dark")
    opts[3].toggle("Play the whole backward pass", value=False, key="wt_backflow",
                   help="One animated graph: press ▶ play to watch every gradient flow back, edge by edge.")

    # the chain rule of this step, each line scrolling sideways when it is wider than the page
    st.html("<style>.st-key-wt_equation .katex-display {overflow-x: auto; overflow-y: hidden;"
            " padding: 2px 0}</style>")
    with st.container(border=True, key="wt_equation"):
        for line in step.lines:
            st.latex(line)          # labels are LaTeX-escaped by vizgrad.graph.steps
        st.markdown(ws.describe(walk, k, escape=plain))

    st.markdown("**Gradients so far**")
    rows = ws.running_grads(walk, k)
    if rows:
        st.table(literal(rows), border="horizontal", hide_index=True)
    else:
        out = plain(ws.output_name(walk))
        st.caption(f"None yet: `backward()` starts at step {n_forward + 1}, seeded with ∂{out}/∂{out} = 1 at the "
                   f"output {out}.")
    if k < walk.n - 1:
        st.caption("At the last step the result is checked against `.backward()` and finite differences.")

    if k == walk.n - 1:
        st.subheader("Check: the walkthrough against `.backward()` and finite differences")
        if walk.all_match:
            fd = ("agrees with central finite differences wherever they can check it (see below)" if walk.check_notes
                  else "agrees with central finite differences")
            st.success(f"✓ Every gradient the walkthrough accumulated equals what `.backward()` put in `.grad`, "
                       f"and {fd}.", icon=":material/check_circle:")
        else:
            st.error("✗ Some gradients differ (a kink such as relu or abs at 0 can fool finite differences).",
                     icon=":material/cancel:")
        st.table(literal(walk.comparison), border="horizontal", hide_index=True)
        for note in walk.check_notes:
            st.info(plain(note), icon=":material/all_inclusive:")
        if walk.fd_note:
            st.caption(walk.fd_note)


stepper()

modes = ws.modes(walk)   # a small scalar graph: both ways of getting its derivatives
if modes is not None:
    with st.expander("Forward mode beside reverse mode: the same edge derivatives, summed two ways"):
        m = ws.modes_rows(modes)
        st.markdown("**The derivative on each edge** (computed once, used by both):")
        st.table(literal(m["edges"]), border="horizontal", hide_index=True)
        left, right = st.columns(2, gap="large")
        with left:
            st.markdown(f"**Forward mode: {modes.forward_passes} pass{'es' if modes.forward_passes != 1 else ''}, "
                        "one per input.** Seed the input with 1, push forward: each tensor's derivative is the sum "
                        "over its incoming edges of edge derivative × the derivative of where the edge comes from.")
            st.table(literal(m["forward"]), border="horizontal", hide_index=True)
        with right:
            st.markdown(f"**Reverse mode (backprop): {modes.reverse_passes} pass, one per output.** Seed "
                        f"{plain(modes.output)} with 1, push back: each tensor's derivative is the sum over its "
                        "outgoing edges of edge derivative × the derivative where the edge goes.")
            st.table(literal(m["reverse"]), border="horizontal", hide_index=True)
        st.markdown("**Both are the sum over paths** of the product of the edge derivatives along each path:")
        for line in m["paths"]:
            st.markdown("- " + plain(line))
        st.caption("Many inputs and one output (a loss and its parameters): reverse mode needs one pass where "
                   "forward mode needs one per parameter. That is why training uses backprop.")
del walk, modes  # see current_walk()

if source.kind == "expr":
    st.page_link(page("playground").path, label="Edit this expression in the Expression Playground",
                 icon=":material/function:", query_params=source.query)
elif source.kind == "lesson":
    st.page_link(page("lessons").path, label="Back to the lessons", icon=":material/school:")
