"""Code: paste PyTorch code, run it in a sandbox, and draw the graph of any tensor it made.

Pick an example (every seed chapter, every lesson, a blank template) or paste your own; Run (or
Ctrl+Enter in the editor) runs it in a fresh sandboxed process (vizgrad.app.sandbox: bubblewrap,
no network, no files, time and memory limits) where `import torch` is vizgrad. Then: what it
printed, its top-level tensors and modules, the graph of the tensor you pick (boxes for modules:
click one to open it) and a module's parameters with their gradients. "Restore the example"
puts a loaded example (a lesson, a seed) back as it was. The URL holds the code (compressed), so
a copied link reopens and reruns it. All logic is in vizgrad.app.code.

The code is never executed in this process: the sandbox's child runs it and sends back JSON,
checked before anything is drawn from it. Results live in this session's state only.
"""
import streamlit as st

from pages._common import ensure_app_navigation, page

ensure_app_navigation()

from vizgrad.app import code as cp
from vizgrad.app import sandbox
from vizgrad.app.limiter import queue_message
from vizgrad.app.markdown import plain
from vizgrad.graph.lod import groups as lod_groups, visible_groups
from vizgrad.plot import node_at, screen_figure, scroll_css

S = st.session_state
FIRST_EXAMPLE = "nn_xy_to_200"


st.title("Code")
st.caption("Paste PyTorch code from any tutorial and run it: `import torch` runs on vizgrad, and every tensor "
           "your code leaves in a variable can be drawn as its autograd graph, with the gradients flowing back.")

status = sandbox.status()
if status.mode == "bubblewrap":
    st.caption(status.message)
elif status.mode == "limits only":
    st.warning(status.message, icon=":material/warning:")
else:
    st.error(status.message, icon=":material/block:")


# ---- the code: a shared link, else this session's, else the first example ---------------------------------
def want_run() -> None:
    S.cd_run_wanted = True


def load_example() -> None:
    key = S.get("cd_example")
    ex = cp.example(key) if key else None
    if ex is not None:
        S.cd_code, S.cd_loaded = ex.code, ex.key
        want_run()


def restore_example() -> None:
    """Back to the loaded example's own code (after editing it), and run it."""
    ex = cp.example(S.get("cd_loaded") or "")
    if ex is not None:
        S.cd_code = ex.code
        want_run()


link = st.query_params.get("code")
if link and link != S.get("cd_link_seen"):  # opened from a link (or the URL was edited): that code, run
    S.cd_link_seen = link
    try:
        S.cd_code = cp.decode_code(link)
        S.cd_link_error = None
        want_run()
    except ValueError as e:
        S.cd_link_error = str(e)
if "cd_code" not in S:
    S.cd_code, S.cd_loaded = cp.example(FIRST_EXAMPLE).code, FIRST_EXAMPLE
    want_run()
if S.get("cd_link_error"):
    st.error(plain(S.cd_link_error), icon=":material/link_off:")

# ---- the editor ---------------------------------------------------------------------------------------------
st.selectbox("Load an example", [e.key for e in cp.EXAMPLES], index=None, key="cd_example",
             format_func=lambda k: cp.example(k).title, on_change=load_example,
             placeholder="An example: a seed chapter, a lesson, or a blank template")
st.html("<style>.st-key-cd_code textarea {font-family: 'Source Code Pro', ui-monospace, monospace; "
        "font-size: 0.85rem; line-height: 1.45; tab-size: 4}</style>")
st.text_area("Your PyTorch code", key="cd_code", height=380, on_change=want_run, max_chars=cp.MAX_CODE_CHARS,
             help="Ctrl+Enter runs it. `import torch`, `torch.nn`, `torch.optim`, `torch.autograd` and "
                  "`torch.nn.functional` are vizgrad here.")
run_col, restore_col, _ = st.columns([2, 2, 2])  # Run needs room for its label and the shortcut hint
run_col.button("Run", type="primary", icon=":material/play_arrow:", on_click=want_run, key="cd_run",
               disabled=not status.can_run, shortcut="Ctrl+Enter", width="stretch")
loaded = cp.example(S.get("cd_loaded") or "")
if loaded is not None:
    restore_col.button("Restore the example", icon=":material/restore:", on_click=restore_example,
                       key="cd_restore", disabled=S.cd_code == loaded.code, width="stretch",
                       help=f"Back to the code of “{loaded.title}” as it was, and run it.")

def finished_run() -> None:
    """A new result: fresh graph views, the default pick, and the shareable link of this code."""
    S.cd_runs = S.get("cd_runs", 0) + 1
    S.cd_graphs, S.cd_open, S.cd_back = {}, None, []
    S.cd_pick = cp.default_choice(S.cd_result)
    S.cd_module = S.cd_result.modules[0]["name"] if S.cd_result.modules else None
    try:
        S.cd_link_seen = cp.encode_code(S.cd_code)
        st.query_params["code"] = S.cd_link_seen  # the shareable link reruns this code
        S.cd_link_note = None
    except ValueError as e:
        st.query_params.pop("code", None)
        S.cd_link_note = str(e)


# a run waits for a slot of the server's limiter for heavy work (shared with training and big walkthroughs):
# meanwhile the notice says the visitor's place; it goes when the run starts (k = 0)
queued = st.empty()
if S.pop("cd_run_wanted", False) and status.can_run:
    with st.spinner("Running in the sandbox…"):
        result = cp.run_code(S.cd_code, waiting=lambda k: queued.info(queue_message(k), icon=":material/hourglass:")
                             if k else queued.empty())
    queued.empty()
    S.cd_busy = result.error if result.stopped == "busy" else None
    if S.cd_busy is None:  # a busy server ran nothing: the last result stays, with the message above it
        S.cd_result = result
        finished_run()
if S.get("cd_busy"):
    st.warning(plain(S.cd_busy) + (" The last result stays below." if S.get("cd_result") else ""),
               icon=":material/hourglass:")

r = S.get("cd_result")
if r is None:
    st.stop()

# ---- what it printed, or why it stopped ----------------------------------------------------------------------
st.subheader("Output")
st.caption(f"Ran in {r.seconds:.2f} s ({r.mode})." + (f" {S.cd_link_note}" if S.get("cd_link_note") else ""))
if r.output or r.ok:
    # st.code drops one leading and one trailing newline: the leading "\n" keeps a printed blank first
    # line, and the output's last newline ends its last line, as in a terminal
    st.code("\n" + r.output if r.output else "(it printed nothing)", language=None)
if r.error:
    if r.stopped:
        st.error(plain(r.error), icon=":material/timer_off:")
    else:
        st.error(f"Your code raised an error" + (f" on line {r.error_line}" if r.error_line else "") + ":",
                 icon=":material/error:")
        st.code(r.error, language=None)
for note in r.notes:
    st.caption(plain(note))

# ---- the variables -------------------------------------------------------------------------------------------
rows = cp.tensor_rows(r)
if rows:
    st.subheader("Tensors")
    st.dataframe(rows, hide_index=True, width="stretch")
mods = cp.module_rows(r)
if mods:
    st.subheader("Modules")
    st.dataframe(mods, hide_index=True, width="stretch")
if not rows and not mods and (r.ok or not r.stopped):
    st.info("Your code left no tensors or modules in top-level variables: assign one (`loss = ...`) to draw it.",
            icon=":material/info:")


# ---- the graph of one tensor ---------------------------------------------------------------------------------
def lod_open() -> None:
    """A click on the graph: a box (a module, a repeated block) opens one level."""
    boxes, opened = S.get("cd_lod_shown") or ((), frozenset())
    picked = node_at(S.get("cd_graph"))
    if picked in boxes:
        S.cd_back = S.cd_back + [S.cd_open]
        S.cd_open = frozenset(opened) | {picked}


def lod_back() -> None:
    if S.cd_back:
        S.cd_open, S.cd_back = S.cd_back[-1], S.cd_back[:-1]


def lod_reset() -> None:
    S.cd_open, S.cd_back = None, []


def full_graph(name: str):
    """The checked graph of `name`, read once per run (the level-of-detail boxes are remembered per graph)."""
    if name not in S.cd_graphs:
        S.cd_graphs[name] = r.graph(name)
    return S.cd_graphs[name]


choices = cp.graph_choices(r)
if choices:
    st.subheader("Graph")
    st.selectbox("Draw the graph of", choices, key="cd_pick", on_change=lod_reset,
                 help="Any tensor in a top-level variable. Values sit on the nodes; the edges carry the "
                      "gradients the last backward() sent back.")
    try:
        from vizgrad.graph.lod import default_view, view_of
        g = full_graph(S.cd_pick)
        view = default_view(g) if S.cd_open is None else view_of(g, S.cd_open)
        S.cd_lod_shown = (visible_groups(view), view.graph.get("open", frozenset(lod_groups(g))))
        fig = screen_figure(view, st.context.headers)
    except Exception as e:  # a graph the child sent that cannot be drawn must not take the page down
        st.error(f"The graph of {plain(S.cd_pick)} could not be drawn ({plain(type(e).__name__)}: {plain(str(e)[:200])}).",
                 icon=":material/error:")
    else:
        if S.cd_lod_shown[0]:
            st.caption("Green boxes are modules (or repeated blocks): click one to open it; Back closes it again.")
            b1, b2, _ = st.columns([1, 1, 4])
            b1.button("Back", key="cd_lod_undo", on_click=lod_back, icon=":material/undo:", width="stretch",
                      disabled=not S.cd_back, help="Close the box opened last.")
            b2.button("Collapse all", key="cd_lod_reset", on_click=lod_reset, icon=":material/unfold_less:",
                      width="stretch", disabled=S.cd_open is None, help="Back to the view the graph opened with.")
        st.html(scroll_css("cd_graph_box", fig))
        with st.container(key="cd_graph_box"):
            st.plotly_chart(fig, key="cd_graph", theme=None, width="content", on_select=lod_open,
                            selection_mode="points")
        if S.get("cd_link_seen"):
            st.page_link(page("walkthrough").path, label=f"Open {S.cd_pick} in the Backprop Walkthrough",
                         icon=":material/footprint:", query_params=cp.walkthrough_query(S.cd_code, S.cd_pick))
elif rows:
    st.caption("No graph came back for these tensors.")

# ---- a module's parameters and their gradients ---------------------------------------------------------------
if mods:
    st.subheader("Inspect a module")
    names = [m["name"] for m in mods]
    if S.get("cd_module") not in names:
        S.cd_module = names[0]
    st.selectbox("Module", names, key="cd_module")
    st.code(cp.module_repr(r, S.cd_module), language=None)
    params = cp.parameter_rows(r, S.cd_module)
    if params:
        st.dataframe(params, hide_index=True, width="stretch")
    else:
        st.caption("It has no parameters.")
