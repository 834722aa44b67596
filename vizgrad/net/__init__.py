"""vizgrad.net: the Network Playground library (no Streamlit)."""
