"""Expression Playground: type a formula, see its graph, its value and every gradient.

State lives in st.session_state (per user) and mirrors into the URL (st.query_params), so a
copied link reopens the same graph. All computation is vizgrad.app.expression.run, under the budgets
of vizgrad/app/budgets.py (README "Budgets"). What a rerun computes is kept in this session's Memo
(vizgrad.app.expression.Memo: a few recent states, bounded in numbers): the parsed names, the
result, the figures (as Streamlit sends them: vizgrad.plot.Sent, serialised once), the LaTeX. A
rerun that changes only a display toggle or the selection reuses the result; one that comes back
to a state or a toggle setting seen before reuses the figures too.

A click on the graph is handled in the chart's on_select callback, before the script runs, so the
run that follows draws the highlight and the inspector of the node (or edge) just clicked. (Read
after the chart instead, the click would reach the highlight one run late; and as the highlighted
figure is a new chart to Streamlit, with an empty selection, every other click was lost.)
Back / Forward step through the committed changes (vizgrad.app.expression.History); so do the
browser's own Back / Forward buttons, through the URL (url_moved).
"""
import copy

import streamlit as st

from pages._common import ensure_app_navigation, graph_chart, lod_buttons, lod_click, lod_drawn, lod_opened, page

ensure_app_navigation()

from vizgrad.app import budgets
from vizgrad.app.markdown import plain
from vizgrad.app.expression import (EXAMPLES, History, Memo, State, VarSpec, clicked, default_value,
                                    expression_names, keeps_selection, known_functions, outcome_elements,
                                    partial_latex, results_table, run, selection_details, selection_in)
from vizgrad.plot import Sent, backward_animation, node_at, screen_graph, scroll_css

st.title("Expression Playground")
st.caption("Type a formula over named variables. vizgrad records the graph as it computes, runs "
           "`backward()`, and draws every gradient flowing back along the edges.")


def load(state: State) -> None:
    """Put a state into the widgets' session keys (before they are drawn)."""
    st.session_state.pg_expr = state.expr
    for name, spec in state.vars.items():
        st.session_state[f"pg_v_{name}"] = spec.text
        st.session_state[f"pg_g_{name}"] = spec.requires_grad
    st.session_state.pg_sel = None


def step_history(forward: bool) -> None:
    """Back / Forward: load the previous or next committed state (before the widgets are drawn)."""
    hist = st.session_state.pg_history
    state = hist.forward() if forward else hist.back()
    if state is not None:
        load(state)


def on_graph_click(chart: str) -> None:
    """The chart's on_select: a click on a box (a big graph's group) opens it; else it selects the
    clicked node or edge of the graph that was clicked on."""
    if lod_click("pg", node_at(st.session_state.get(chart))):
        return
    cached = st.session_state.get("pg_computed")
    g = cached[1].graph if cached else None
    st.session_state.pg_sel = clicked(st.session_state.get(chart), g, st.session_state.get("pg_sel"))


def sent(drawn):
    """screen_graph's (view, [(figure, media)]) with each figure Sent: serialised once, for the memo
    (st.plotly_chart would copy and convert a figure again on every rerun)."""
    view, figs = drawn
    return view, [(Sent(fig), media) for fig, media in figs]


def pick_example() -> None:
    if st.session_state.pg_example is not None:
        load(State.from_example(st.session_state.pg_example))


def url_moved() -> bool:
    """Whether the URL's query is not the one this page last wrote into it: the browser's Back or
    Forward (Streamlit then reruns the page with that entry's query) or a link edited by hand."""
    written = st.session_state.get("pg_url")
    return written is not None and st.query_params.to_dict() != written


# first visit in this session, or the browser went Back / Forward: the state from the URL (else the first example)
if "pg_expr" not in st.session_state or url_moved():
    load(State.from_query(st.query_params))
if "pg_history" not in st.session_state:
    st.session_state.pg_history = History()
history = st.session_state.pg_history
if "pg_memo" not in st.session_state:  # this session's own: never shared with another visitor
    st.session_state.pg_memo = Memo(budgets.value("PLAYGROUND_CACHE_ENTRIES"), budgets.value("PLAYGROUND_CACHE_ELEMENTS"))
memo = st.session_state.pg_memo

# ---- input -------------------------------------------------------------------------------------
left, right = st.columns([3, 2], gap="large")
with left:
    nav_slot = st.container()  # Back / Forward, drawn once this run's change is in the history
    st.selectbox("Examples", range(len(EXAMPLES)), index=None, format_func=lambda i: EXAMPLES[i][0],
                 placeholder="Pick an example…", key="pg_example", on_change=pick_example)
    st.text_input("Expression", key="pg_expr", max_chars=2000,
                  help="Operators + − * / ** @, parentheses, numbers like 1e-3, lists like [[1, 2], [3, 4]], "
                       "and the functions " + ", ".join(known_functions()))

    st.markdown("**Show on the graph**")
    opts = st.columns(4)
    show_values = opts[0].toggle("values", value=True, key="pg_show_values")
    show_grads = opts[1].toggle("gradients", value=True, key="pg_show_grads")
    show_shapes = opts[2].toggle("shapes", value=False, key="pg_show_shapes")
    dark = opts[3].toggle("dark", value=False, key="pg_dark")

state = State(st.session_state.pg_expr, {n: VarSpec(st.session_state.get(f"pg_v_{n}", default_value(n)),
                                                    st.session_state.get(f"pg_g_{n}", True))
                                         for n in (st.session_state.get("pg_names") or [])})
state.sync(memo.get(("names", state.expr), lambda: expression_names(state.expr)))  # variables follow the names
st.session_state.pg_names = list(state.vars)

with right:
    st.markdown("**Variables** — a number, a vector `[1, 2]` or a matrix `[[1, 2], [3, 4]]`")
    for name, spec in state.vars.items():
        st.session_state.setdefault(f"pg_v_{name}", spec.text)
        st.session_state.setdefault(f"pg_g_{name}", spec.requires_grad)
        c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
        spec.text = c1.text_input(f"{name} =", key=f"pg_v_{name}", max_chars=4000)
        spec.requires_grad = c2.checkbox("requires_grad", key=f"pg_g_{name}")


def computed(state: State):
    """run(state) under the budgets, from this session's memo when it was computed before: a rerun
    that changes only how things are shown (the toggles, a clicked node) reuses it. pg_computed is
    the current one (the chart's click handler reads its graph)."""
    limits = budgets.expr_limits()
    fd = (budgets.value("PLAYGROUND_FD_EVALS"), budgets.value("PLAYGROUND_FD_SECONDS"))
    key = (state.expr, tuple((n, s.text, bool(s.requires_grad)) for n, s in state.vars.items()), limits, fd)
    cached = st.session_state.get("pg_computed")
    if cached is None or cached[0] != key:
        if cached is None or not keeps_selection(cached[2], state):
            st.session_state.pg_sel = None  # a new graph: the old ids would describe unrelated nodes
        result = memo.get(("run", key), lambda: run(state, limits, max_evals=fd[0], max_seconds=fd[1]),
                          outcome_elements)
        cached = (key, result, copy.deepcopy(state))
        st.session_state.pg_computed = cached
    return cached[0], cached[1]


run_key, out = computed(state)
weight = lambda _: outcome_elements(out)  # noqa: E731  (a drawing of out holds about as many numbers)
history.commit(state)  # after a change; a rerun without one (or Back / Forward landing here) adds nothing
with nav_slot, st.container(horizontal=True):
    st.button("Back", icon=":material/undo:", disabled=not history.can_back, on_click=step_history,
              args=(False,), help="Undo the last change of the expression or a variable")
    st.button("Forward", icon=":material/redo:", disabled=not history.can_forward, on_click=step_history,
              args=(True,), help="Redo the change undone by Back")
# shareable: the URL now reopens this graph. A change adds a browser history entry (Streamlit pushes
# a new query), so the browser's Back returns to the previous graph (url_moved, above)
st.session_state.pg_url = dict(state.to_query())
st.query_params.from_dict(st.session_state.pg_url)

# ---- errors, next to the input they are about -----------------------------------------------
if out.error is not None:
    with left:
        st.error(plain(out.error.message), icon=":material/error:")
        if out.error.col:
            st.code(out.error.pointer(), language=None)
for name, msg in out.var_errors.items():
    with right:
        st.error(plain(msg), icon=":material/error:")
for w in out.warnings:
    st.warning(plain(w), icon=":material/warning:")
if not out.ok:
    st.stop()

# ---- the graph: full width, it is the point of the page ---------------------------------------
if out.graph is None:
    st.info("Mark a variable `requires_grad` to record a graph.")
else:
    selected = selection_in(out.graph, st.session_state.get("pg_sel"))
    # the view every page draws (vizgrad.plot.screen_graph): a big graph opens collapsed into boxes (a
    # click opens one; they stay open while only values change), at its natural size, laid out for this
    # screen (a desktop gets a narrow layout too: its window's width picks), in a box that scrolls
    opened = lod_opened("pg", (state.expr, tuple((n, bool(s.requires_grad)) for n, s in state.vars.items())))
    drawn = (run_key, opened, show_values, show_grads, show_shapes, dark, selected, st.context.headers.get("User-Agent"))
    view, figs = memo.get(("figures", drawn), lambda: sent(screen_graph(
        out.graph, st.context.headers, opened, show_values=show_values, show_grads=show_grads, show_shapes=show_shapes,
        theme="dark" if dark else "light", highlight_nodes={selected} if isinstance(selected, str) else None,
        highlight_edges={selected} if isinstance(selected, tuple) else None)), weight)
    if lod_drawn("pg", view) or opened is not None:
        st.caption("Green boxes group repeated or chained parts of this big graph: click one to open it.")
        lod_buttons("pg", back="Close box")  # "Back" is the edit history's
    graph_chart("pg_graph", figs, on_select=on_graph_click)
    if st.toggle("Play the whole backward pass", key="pg_backflow",
                 help="▶ play: the gradients flow back edge by edge, in the order backward() runs (the numbers "
                      "on the nodes), and a tensor used twice gets its gradient one contribution at a time (+=)."):
        # the animation runs in the browser (plotly frames): no server rerun per frame
        anim = memo.get(("animation", run_key, dark, show_values, show_shapes), lambda: Sent(backward_animation(
            out.graph, theme="dark" if dark else "light", show_values=show_values, show_shapes=show_shapes,
            max_width=4000, keep_graph=False)), weight)
        st.html(scroll_css("pg_anim_box", anim))  # at its size, in a box that scrolls sideways
        with st.container(key="pg_anim_box"):
            st.plotly_chart(anim, key="pg_backward_anim", theme=None, width="content")

# ---- the clicked node or edge (first: on a phone the columns stack, and it belongs under the graph),
# results, formulas, checks -------------------------------------------------------------------------
node_col, res_col, math_col = st.columns([4, 5, 4], gap="large")
with res_col:
    st.markdown("**Results**")
    st.table(results_table(out), border="horizontal", hide_index=True)
    for name, c in out.checks.items():
        if c.skipped:
            continue  # listed together below
        sample = f", {c.coverage}" if c.coverage else ""
        if c.ok:
            st.badge(plain(f"gradcheck {name}: ✓ (max rel. error {c.max_error:.1e}{sample})"), color="green")
        elif c.infinite:
            st.badge(plain(f"gradcheck {name}: ∞ slope, not checkable — {c.note}"), color="gray")
        else:
            st.badge(plain(f"gradcheck {name}: ✗ {c.note}{sample}"), color="orange")
    if out.check_summary:
        skipped = [n for n, c in out.checks.items() if c.skipped]
        st.caption(plain(out.check_summary + (f" Not checked: {', '.join(skipped)}." if skipped else "")))
# a long formula scrolls sideways in its column instead of being clipped
st.html("<style>.st-key-pg_math .katex-display{overflow-x:auto;overflow-y:hidden}</style>")
with math_col, st.container(key="pg_math"):
    st.markdown("**The expression and its partial derivatives**")
    if out.latex:
        st.latex("f = " + out.latex)
    for line in memo.get(("partials", run_key), lambda: partial_latex(out)):
        st.latex(line)
with node_col:
    details = selection_details(out.graph, st.session_state.get("pg_sel"))
    if details is not None:
        with st.container(border=True):
            st.markdown(f"**{plain(details.title)}**")
            st.table({"": [r[0] for r in details.rows], " ": [r[1] for r in details.rows]})
            for line in details.latex:
                st.latex(line)
    elif out.graph is not None:
        with st.container(border=True):
            st.markdown("**Inspector**")
            st.caption("Click a node to inspect its value, gradient and local derivative, or the middle of an "
                       "edge for the gradient it carries back (upstream × local derivative).")

with st.expander("Show code: the same computation in PyTorch (it also runs on vizgrad)"):
    st.code(out.code, language="python")
st.page_link(page("walkthrough").path, label="Step through this backward pass", icon=":material/footprint:",
             query_params=state.to_query())
