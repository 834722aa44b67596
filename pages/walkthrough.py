"""Walkthrough (being built: issue 5)."""
import streamlit as st

st.title("Walkthrough")
st.info("Coming in this release.")
