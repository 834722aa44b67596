"""Expression Playground (being built: issue 5)."""
import streamlit as st

st.title("Expression Playground")
st.info("Coming in this release.")
