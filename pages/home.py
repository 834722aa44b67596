"""Home: what vizgrad is, a live example graph, and a link to every page."""
import streamlit as st

from pages._common import HOME, PAGES, ensure_app_navigation, graph_chart

ensure_app_navigation()

import vizgrad as vg
from vizgrad.plot import screen_graph

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
_, figs = screen_graph(z, st.context.headers)  # as every page draws graphs: natural size, laid out for this screen
graph_chart("home_graph", figs)

st.subheader("Where to go")
links = [p for p in PAGES if p is not HOME]
cols = st.columns(len(links))
for col, p in zip(cols, links):
    with col.container(border=True):
        st.page_link(p.path, label=p.title, icon=p.icon)
        st.caption(p.blurb)
