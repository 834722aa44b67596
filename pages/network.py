"""Network (being built: issue 5)."""
import streamlit as st

from pages._common import ensure_app_navigation

ensure_app_navigation()

st.title("Network")
st.info("Coming in this release.")
