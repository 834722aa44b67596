"""Home: what vizgrad is, a live example graph, and a link to every page."""
import streamlit as st

from pages._common import ensure_app_navigation

ensure_app_navigation()

import vizgrad as vg
from vizgrad.plot import figure

st.title("vizgrad")
st.markdown(
    "**See automatic differentiation.** vizgrad runs your PyTorch-style code on its own autograd "
    "engine and draws the graph it records, with every gradient flowing back along the edges, "
    "one chain-rule step at a time."
)

x = vg.tensor(2.0, requires_grad=True, name="x")
y = vg.tensor(3.0, requires_grad=True, name="y")
z = x ** 2 + y ** 3
z.name = "z"
z.backward()
st.caption("`z = x**2 + y**3` at x = 2, y = 3, after `z.backward()`: "
           "the edges carry dz/dx = 4 and dz/dy = 27 back to the inputs.")
st.plotly_chart(figure(z), key="home_graph", theme=None, width="content")

st.subheader("Where to go")
cols = st.columns(4)
links = [
    ("pages/playground.py", "Expression Playground", ":material/function:",
     "Type a formula; see its graph, value and every gradient."),
    ("pages/walkthrough.py", "Backprop Walkthrough", ":material/footprint:",
     "Step through the backward pass, one chain-rule step at a time."),
    ("pages/network.py", "Network Playground", ":material/hub:",
     "Train a small network live and watch its gradients."),
    ("pages/lessons.py", "Lessons", ":material/school:",
     "A guided tour of autograd, from requires_grad to custom Functions."),
]
for col, (path, title, icon, text) in zip(cols, links):
    with col.container(border=True):
        st.page_link(path, label=title, icon=icon)
        st.caption(text)
