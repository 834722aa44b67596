"""vizgrad app: see automatic differentiation.

    make run                      # or: .venv/bin/python -m streamlit run app.py

The entry script only sets up navigation from the page registry (pages/_common.PAGES); each page
is one short file in pages/ that describes its UI and calls vizgrad for everything else.
"""
from pathlib import Path

import streamlit as st
from threadpoolctl import threadpool_limits

from pages._common import HOME, PAGES, warm_up

# Our matrices are small and a server has many sessions: one BLAS thread each. With OpenBLAS's
# default thread pool on a busy 2-core host, a 1000x64 matmul spin-waits and runs ~10x slower.
threadpool_limits(1, user_api="blas")

ASSETS = Path(__file__).parent / "assets"
warm_up()  # before any page runs: see pages/_common.py
# The favicon is our own file, served by the app: a ":material/...:" page icon makes every browser
# fetch it from fonts.gstatic.com, and a public page asks no third-party host for anything
# (tests/browser/test_no_third_party_browser.py).
st.set_page_config(page_title="vizgrad", page_icon=str(ASSETS / "favicon.png"), layout="wide")

# Hosted mode (VIZGRAD_HOSTED=1, README "Hosted mode"): a public server whose Streamlit options
# would show error details, accept uploads without XSRF or take big uploads serves nothing.
from vizgrad.app import hosted  # noqa: E402  (after warm_up: it imports vizgrad first, under its lock)

if hosted.on() and (problems := hosted.server_problems(st.get_option)):
    hosted.report_once(problems)
    st.error("This server is not configured for public use; its administrator has been told why.")
    st.stop()

st.navigation([st.Page(p.path, title=p.title, icon=p.icon, default=p is HOME, url_path=p.url_path or None)
               for p in PAGES]).run()
