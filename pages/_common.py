"""Shared page plumbing (not a page itself).

`ensure_app_navigation()` must run first in every page. Streamlit treats a `pages/` folder next to
the entry script as a legacy (v1) multipage app until the entry script has called st.navigation
once in this server process; so the very first request after a server start, if it is a deep
link such as /playground, would run the page file on its own, without app.py's navigation.
The guard switches the legacy mode off and reruns, so app.py's st.navigation takes over.

`warm_up()` (run by app.py and by the guard, so before any page's code) imports, once per
process and under one lock, what the pages import or what imports lazily: the sessions of a freshly
started server run their scripts in parallel threads, and concurrent first imports of a package
with internal import cycles (pandas, which plotly imports on its first figure) can hand a thread
a partly initialised module ("partially initialized module 'pandas' has no attribute 'NaT'").
"""
import importlib
import re
import threading

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

# the modules the pages use (and pandas, which plotly and Streamlit import lazily)
WARM_MODULES = ("pandas", "plotly.graph_objects", "plotly.io", "vizgrad", "vizgrad.graph", "vizgrad.plot",
                "vizgrad.expr", "vizgrad.playground", "vizgrad.walkthrough_sources", "vizgrad.lessons",
                "vizgrad.data", "vizgrad.models", "vizgrad.train", "vizgrad.netplot")
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
        import plotly.graph_objects as go
        import plotly.io as pio
        # the first serialisation imports plotly's JSON helpers (and their pandas/numpy checks)
        pio.to_json(go.Figure(go.Scatter(x=[0.0], y=[0.0])), validate=True)
        _warmed = True


def ensure_app_navigation() -> None:
    warm_up()
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


# Every character CommonMark lets a backslash escape: with each one escaped, Streamlit's markdown
# shows the text as typed (no **bold**, [links](…), ![images](…), :red[colour] directives,
# $LaTeX$, <html> or &entities;).
_MD_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")


def plain(text) -> str:
    """Markdown that shows `text` literally: for anything a user typed or a URL carried that goes
    into st.error / st.warning / st.markdown / st.caption. Line breaks become spaces."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))
