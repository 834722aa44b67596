"""Shared page plumbing (not a page itself).

`ensure_app_navigation()` must run first in every page. Streamlit treats a `pages/` folder next to
the entry script as a legacy (v1) multipage app until the entry script has called st.navigation
once in this server process; so the very first request after a server start, if it is a deep
link such as /playground, would run the page file on its own, without app.py's navigation.
The guard switches the legacy mode off and reruns, so app.py's st.navigation takes over.
"""
import re

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def ensure_app_navigation() -> None:
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
