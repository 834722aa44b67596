"""Lessons (being built: issue 5)."""
import streamlit as st

st.title("Lessons")
st.info("Coming in this release.")
