"""vizgrad app: see automatic differentiation.

    make run                      # or: .venv/bin/python -m streamlit run app.py

The entry script only sets up navigation; each page is one short file in pages/ that
describes its UI and calls vizgrad for everything else.
"""
import streamlit as st
from threadpoolctl import threadpool_limits

from pages._common import warm_up

# Our matrices are small and a server has many sessions: one BLAS thread each. With OpenBLAS's
# default thread pool on a busy 2-core host, a 1000x64 matmul spin-waits and runs ~10x slower.
threadpool_limits(1, user_api="blas")

warm_up()  # before any page runs: see pages/_common.py
st.set_page_config(page_title="vizgrad", page_icon=":material/account_tree:", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/playground.py", title="Expression Playground", icon=":material/function:",
            url_path="playground"),
    st.Page("pages/walkthrough.py", title="Backprop Walkthrough", icon=":material/footprint:",
            url_path="walkthrough"),
    st.Page("pages/network.py", title="Network Playground", icon=":material/hub:", url_path="network"),
    st.Page("pages/lessons.py", title="Lessons", icon=":material/school:", url_path="lessons"),
]

st.navigation(PAGES).run()
