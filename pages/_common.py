"""Shared page plumbing (not a page itself): the page registry, the navigation guard and warm-up.
(User text shown in markdown goes through vizgrad.app.markdown.plain.)

`PAGES` is the one list of pages: app.py builds st.navigation from it, the home page and the pages
link through it (`page("walkthrough").path`), the tests open each. Adding a page is its file in
pages/, its model in vizgrad/app/ (pages/X.py pairs with vizgrad/app/X.py) and one row here. The
Expression Playground's file says "expression"; its URL stays /playground, where shared links point.

`ensure_app_navigation()` must run first in every page. Streamlit treats a `pages/` folder next to
the entry script as a legacy (v1) multipage app until the entry script has called st.navigation
once in this server process; so the very first request after a server start, if it is a deep
link such as /playground, would run the page file on its own, without app.py's navigation.
The guard switches the legacy mode off and reruns, so app.py's st.navigation takes over. Legacy
mode finds a page by its file name only, so the Expression Playground's old URL has a hand-over file,
pages/playground.py, that does nothing but run the guard.

`warm_up()` (run by app.py and by the guard, so before any page's code) imports, once per
process and under one lock, what the pages import or what imports lazily: the sessions of a freshly
started server run their scripts in parallel threads, and concurrent first imports of a package
with internal import cycles (pandas, which plotly imports on its first figure) can hand a thread
a partly initialised module ("partially initialized module 'pandas' has no attribute 'NaT'").
It also starts the janitor: when sessions have ended (a closed tab's session lives on for
Streamlit's disconnectedSessionTTL), it collects the reference cycles their graphs left (autograd
graphs are cyclic, and a full collection is otherwise rare) and hands freed memory back to the OS.
"""
import gc
import importlib
import threading
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

@dataclass(frozen=True)
class PageInfo:
    path: str       # the page file, relative to the app's root
    title: str
    icon: str       # a Material icon shortcode
    url_path: str   # where it lives in the URL ("" for home); shared links depend on it: never rename
    blurb: str      # one line for the home page's link card


PAGES = (
    PageInfo("pages/home.py", "Home", ":material/home:", "", "What vizgrad is, with a live example."),
    PageInfo("pages/expression.py", "Expression Playground", ":material/function:", "playground",
             "Type a formula; see its graph, value and every gradient."),
    PageInfo("pages/walkthrough.py", "Backprop Walkthrough", ":material/footprint:", "walkthrough",
             "Step through the backward pass, one chain-rule step at a time."),
    PageInfo("pages/network.py", "Network Playground", ":material/hub:", "network",
             "Train a small network live and watch its gradients."),
    PageInfo("pages/lessons.py", "Lessons", ":material/school:", "lessons",
             "A guided tour of autograd, from requires_grad to custom Functions."),
    PageInfo("pages/code.py", "Code", ":material/code:", "code",
             "Run your own PyTorch code in a sandbox and draw the graph of any tensor it made."),
)
HOME = PAGES[0]


def page(url_path: str) -> PageInfo:
    """The registry row of the page at this URL path."""
    return next(p for p in PAGES if p.url_path == url_path)


# the modules the pages use (and pandas, which plotly and Streamlit import lazily); every page model in
# vizgrad/app/ is one, found by its file (importing vizgrad here would import it outside warm_up's lock)
_MODELS = sorted(f"vizgrad.app.{p.stem}" for p in (Path(__file__).resolve().parents[1] / "vizgrad" / "app").glob("*.py")
                 if p.stem != "__init__")
WARM_MODULES = ("pandas", "plotly.graph_objects", "plotly.io", "vizgrad", "vizgrad.graph", "vizgrad.graph.lod",
                "vizgrad.plot", "vizgrad.expr", "vizgrad.net", "vizgrad.app", *_MODELS)
_warm_lock = threading.Lock()
_warmed = False


def warm_up() -> None:
    global _warmed
    if _warmed:
        return
    with _warm_lock:
        if _warmed:
            return
        for name in WARM_MODULES:
            importlib.import_module(name)
        import plotly.graph_objects as go  # imported (above) under the lock; bound here
        import plotly.io as pio
        # the first serialisation imports plotly's JSON helpers (and their pandas/numpy checks)
        pio.to_json(go.Figure(go.Scatter(x=[0.0], y=[0.0])), validate=True)
        threading.Thread(target=_janitor, name="vizgrad-janitor", daemon=True).start()
        _warmed = True


def _session_count() -> int | None:
    try:
        from streamlit.runtime import Runtime
        mgr = Runtime.instance()._session_mgr
        # Closed tabs' sessions wait in a cachetools TTLCache for disconnectedSessionTTL; the cache
        # hides expired entries but frees them only on its next write, i.e. when another tab
        # closes. After the last visitor of a busy hour left, up to 128 whole sessions (their
        # graphs, trainers, figures) stayed in memory: expire them here (bench/load.py --memory).
        expire = getattr(getattr(getattr(mgr, "_session_storage", None), "_cache", None), "expire", None)
        if expire is not None:
            expire()
        return mgr.num_sessions()
    except Exception:  # no runtime (AppTest, bare mode) or another Streamlit's internals
        return None


def _janitor(period: float = 5.0, grown_mb: float = 8.0, rounds: int | None = None) -> None:
    """Every `period` s: once sessions have ended (their count dropped), or once no script is running
    and the process has grown by `grown_mb` since the last clean-up (an idle server after a busy
    spell: its visitors' reruns freed their garbage, but the allocator keeps it), drop what ended
    sessions left, collect reference cycles and hand freed memory back to the OS. One log line
    each time ("memory: ..."; bench/memory.py measures the effect). `rounds`: stop after that many
    (tests); a server's janitor never stops."""
    from streamlit.logger import get_logger

    from vizgrad._alloc import allocator, rss_mb, trim  # not at the top: warm_up must be the first to import vizgrad
    log = get_logger(__name__)
    log.info("memory: the janitor watches a server on %s's malloc", allocator())
    last, clean = None, rss_mb()
    while rounds is None or rounds > 0:
        rounds = None if rounds is None else rounds - 1
        time.sleep(period)
        n = _session_count()
        ended = n is not None and last is not None and n < last
        idle = not any(t.name == "ScriptRunner.scriptThread" for t in threading.enumerate())
        before = rss_mb()
        if ended or (idle and before > clean + grown_mb):
            _drop_orphaned_downloads()
            _forget_last_served_session()
            gc.collect()
            trim()
            clean = rss_mb()
            log.info("memory: %s; RSS %.0f -> %.0f MB", f"sessions {last} -> {n}" if ended else "idle",
                     before, clean)
        last = n


# Streamlit's runtime loop (Runtime._loop_coroutine) flushes each session's messages in a `for
# active_session_info in ...` loop whose variables (and the last message, `msg`) outlive the loop:
# the last session it served stays alive, whole, until it serves another one, so the last visitor
# of a quiet spell was never freed. The janitor clears those variables on the loop's own thread
# while the loop waits in asyncio.wait(): both of its waits are outside the flush loop, which binds
# all three names afresh before it uses them.
_LOOP_LOCALS = ("active_session_info", "msg_list", "msg")


def _forget_last_served_session(timeout: float = 2.0) -> bool:
    """Drop the runtime loop's reference to the last session it served; True when it did."""
    try:
        from streamlit.runtime import Runtime
        task = Runtime.instance()._loop_coroutine_task
        loop = task.get_loop()
    except Exception:  # no runtime (AppTest, bare mode) or another Streamlit's internals
        return False
    done, cleared = threading.Event(), []

    def clear() -> None:  # on the event loop's thread: the coroutine is suspended, not running
        try:
            coro = task.get_coro()
            frame, waiting_on = coro.cr_frame, coro.cr_await
            if frame is None or getattr(getattr(waiting_on, "cr_code", None), "co_name", None) != "wait":
                return  # finished, or inside the flush loop (asyncio.sleep): leave it alone
            names = [n for n in _LOOP_LOCALS if frame.f_locals.get(n) is not None]
            if names:
                _set_frame_locals(frame, dict.fromkeys(names))
                cleared.extend(names)
        except Exception:  # another Streamlit or Python: nothing known to clear
            pass
        finally:
            done.set()

    loop.call_soon_threadsafe(clear)
    done.wait(timeout)
    return bool(cleared)


def _set_frame_locals(frame, values: dict) -> None:
    """Rebind local variables of a suspended frame. From Python 3.13 frame.f_locals writes through
    (PEP 667); before, the snapshot dict is written back with PyFrame_LocalsToFast."""
    import ctypes
    import sys
    f_locals = frame.f_locals
    f_locals.update(values)
    if sys.version_info < (3, 13):
        ctypes.pythonapi.PyFrame_LocalsToFast(ctypes.py_object(frame), ctypes.c_int(0))


def _drop_orphaned_downloads() -> None:
    """Drop what ended sessions left with Streamlit and libraries. Streamlit keeps a
    st.download_button's data callable (and all it closes over: the Network page's trainer and its
    graph) until some session's next script run ends; when the last visitor leaves that never
    happens: ask its media file manager to drop what no live session refers to. threadpoolctl
    (app.py's BLAS limit, set in every script run) remembers the last script thread that set it,
    and that Thread object holds its script run's context, so its whole session: a thread that
    has ended controls nothing (threadpoolctl treats it as no controller), so forget it (bench/
    memory.py: 16 MB of 50 visitors' memory came back)."""
    try:
        from streamlit.runtime import Runtime
        Runtime.instance().media_file_mgr.remove_orphaned_files()
    except Exception:  # no runtime, or another Streamlit's internals: nothing to drop
        pass
    try:
        from threadpoolctl import OpenBLASController
        controller = OpenBLASController._SHARED_STATE.controlling_thread
        if controller is not None and not controller.is_alive():
            OpenBLASController.clear_controlling_thread(force=True)
    except (ImportError, AttributeError):  # another threadpoolctl: nothing known to drop
        pass


def ensure_app_navigation() -> None:
    warm_up()
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


# ---- level of detail: the boxes a page's graph has opened (vizgrad.plot.screen_graph draws them) ------
# Session keys, by the page's prefix p: p_lod_key (the graph they belong to), p_lod_open (None: the
# default view, else the open groups), p_lod_back (the earlier p_lod_open values, for Back),
# p_lod_shown ((boxes drawn, groups open) of the last drawing, for the click handler).

def lod_opened(prefix: str, graph_key):
    """The groups the user opened on this page's graph (None: the default view); forgotten when
    graph_key (whatever identifies the graph: the expression, the network's configuration) changes."""
    S = st.session_state
    if S.get(f"{prefix}_lod_key") != graph_key:
        S[f"{prefix}_lod_key"], S[f"{prefix}_lod_open"], S[f"{prefix}_lod_back"] = graph_key, None, []
    return S[f"{prefix}_lod_open"]


def lod_drawn(prefix: str, view) -> list:
    """Remember what this run drew (for lod_click); returns the boxes drawn."""
    from vizgrad.graph.lod import groups, visible_groups
    boxes = visible_groups(view)
    st.session_state[f"{prefix}_lod_shown"] = (boxes, view.graph.get("open", frozenset(groups(view))))
    return boxes


def lod_click(prefix: str, picked) -> bool:
    """A click on the graph: when it picked a box, open it one level (its inner boxes stay closed)
    and say so; False for anything else (a node, an edge, nothing)."""
    S = st.session_state
    boxes, opened = S.get(f"{prefix}_lod_shown") or ((), frozenset())
    if not isinstance(picked, str) or picked not in boxes:
        return False
    S[f"{prefix}_lod_back"] = S[f"{prefix}_lod_back"] + [S[f"{prefix}_lod_open"]]
    S[f"{prefix}_lod_open"] = frozenset(opened) | {picked}
    return True


def _lod_back(prefix: str) -> None:
    S = st.session_state
    if S[f"{prefix}_lod_back"]:
        S[f"{prefix}_lod_open"], S[f"{prefix}_lod_back"] = S[f"{prefix}_lod_back"][-1], S[f"{prefix}_lod_back"][:-1]


def _lod_reset(prefix: str) -> None:
    st.session_state[f"{prefix}_lod_open"], st.session_state[f"{prefix}_lod_back"] = None, []


def lod_buttons(prefix: str, back: str = "Back") -> None:
    """`back` (close the box opened last; a page with its own Back names it otherwise) and Collapse
    all (the view the graph opened with)."""
    S = st.session_state
    b1, b2, _ = st.columns([1, 1, 4])
    b1.button(back, key=f"{prefix}_lod_undo", on_click=_lod_back, args=(prefix,), icon=":material/undo:",
              width="stretch", disabled=not S[f"{prefix}_lod_back"], help="Close the box opened last.")
    b2.button("Collapse all", key=f"{prefix}_lod_reset", on_click=_lod_reset, args=(prefix,),
              icon=":material/unfold_less:", width="stretch", disabled=S[f"{prefix}_lod_open"] is None,
              help="Back to the view the graph opened with.")


# ---- a page's graph on the screen ----------------------------------------------------------------
def graph_chart(key: str, figs, on_select=None, config: dict | None = None) -> None:
    """Draw a graph as vizgrad.plot.screen_graph laid it out: each (figure, media) at its natural size
    in a box that scrolls, shown while its media query holds (a desktop gets a wide and a narrow
    layout, its window's width picks one). Keys: chart `key` in box `key`_box; the narrow twin
    `key`_narrow in `key`_box_narrow. on_select(chart key) handles a click on either; config is
    plotly's (e.g. {"scrollZoom": True})."""
    from vizgrad.plot import scroll_css
    for i, (fig, media) in enumerate(figs):
        chart, box = (f"{key}_narrow", f"{key}_box_narrow") if i else (key, f"{key}_box")
        st.html(scroll_css(box, fig, media))
        with st.container(key=box):
            # theme=None keeps vizgrad's fonts and sizes (Streamlit's theme would restyle the boxes' text)
            kw = dict(on_select=partial(on_select, chart), selection_mode="points") if on_select else {}
            st.plotly_chart(fig, key=chart, theme=None, width="content", config=config or {}, **kw)
