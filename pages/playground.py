"""Not a page: where a /playground link lands on a freshly started server, before app.py's navigation
has run once in the process (Streamlit's legacy pages/ mode finds a page only by its file name; see
pages/_common.ensure_app_navigation). It hands over to app.py's navigation, which serves /playground
with the Expression Playground, pages/expression.py. Without this file, such a first visit would get
Streamlit's "page not found" notice before the page. Not in the registry, so never reached otherwise.
"""
import streamlit as st

from pages._common import ensure_app_navigation

ensure_app_navigation()
st.rerun()  # only legacy mode runs this file, even when another session has just switched it off
