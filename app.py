"""vizgrad app: see automatic differentiation.

    make run                      # or: .venv/bin/python -m streamlit run app.py

The entry script only sets up navigation from the page registry (pages/_common.PAGES); each page
is one short file in pages/ that describes its UI and calls vizgrad for everything else.
"""
import streamlit as st
from threadpoolctl import threadpool_limits

from pages._common import HOME, PAGES, warm_up

# Our matrices are small and a server has many sessions: one BLAS thread each. With OpenBLAS's
# default thread pool on a busy 2-core host, a 1000x64 matmul spin-waits and runs ~10x slower.
threadpool_limits(1, user_api="blas")

warm_up()  # before any page runs: see pages/_common.py
st.set_page_config(page_title="vizgrad", page_icon=":material/account_tree:", layout="wide")

st.navigation([st.Page(p.path, title=p.title, icon=p.icon, default=p is HOME, url_path=p.url_path or None)
               for p in PAGES]).run()
