"""Network (being built: issue 5)."""
import streamlit as st

st.title("Network")
st.info("Coming in this release.")
