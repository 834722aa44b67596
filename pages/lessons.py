"""Lessons: a guided tour of autograd, from requires_grad to custom Functions.

Each lesson is a short text, its PyTorch code (run here on vizgrad; it runs unchanged on
PyTorch), what it printed, and the graph it built at one named moment ("after backward"...), with
a link that opens that same graph in the Backprop Walkthrough. The content and the running live
in vizgrad.app.lessons.
"""
import streamlit as st

from pages._common import ensure_app_navigation, graph_chart, page

ensure_app_navigation()

from vizgrad.app.code import encode_code
from vizgrad.app.lessons import LESSONS, curve_figure, drawn_graph, highlighted, run
from vizgrad.plot import screen_graph

st.title("Lessons")
st.caption(f"A guided tour of autograd in {len(LESSONS)} short lessons. Every code block is real PyTorch: it runs "
           "here on vizgrad (`import vizgrad as torch`) and prints exactly what PyTorch prints. Each lesson's graph "
           "opens in the Backprop Walkthrough, where you can step through its backward pass.")

if "lesson_runs" not in st.session_state:  # run each lesson once per session
    st.session_state.lesson_runs = {lesson.id: run(lesson) for lesson in LESSONS}
runs = st.session_state.lesson_runs

tabs = st.tabs([lesson.short for lesson in LESSONS])
for tab, lesson in zip(tabs, LESSONS):
    r = runs[lesson.id]
    with tab:
        st.subheader(lesson.title, anchor=lesson.id)
        st.markdown(lesson.text)
        code_col, out_col = st.columns([3, 2], gap="large")
        with code_col:
            st.markdown("**Code**")
            st.code(lesson.source, language="python", wrap_lines=True)  # long lines wrap inside the box
            st.caption(f"After: {lesson.seed}")  # a seed chapter, or the lecture or docs the example follows
        with out_col:
            st.markdown("**Output**")
            if r.ok:
                st.code(r.output, language=None, wrap_lines=True)
                for warning in r.warnings:  # what PyTorch would print to stderr
                    st.caption(f"Warned: {warning}")
            else:
                st.error(f"The lesson's code failed: {r.error}", icon=":material/error:")
            if r.curve:
                st.plotly_chart(curve_figure(r.curve), key=f"lesson_curve_{lesson.id}", width="stretch",
                                config={"displayModeBar": False})  # the "▶ train" replay button sits there
        if r.tensors:
            st.markdown(f"**The graph it built**, {lesson.moment}")  # one moment: its values and grads agree
            g = drawn_graph(r)
            # as every page draws graphs (vizgrad.plot.screen_graph): natural size, laid out for this screen
            _, figs = screen_graph(g, st.context.headers, show_shapes=False, highlight_nodes=highlighted(lesson, g))
            graph_chart(f"lesson_graph_{lesson.id}", figs)
            if lesson.takeaway:
                st.caption(lesson.takeaway)
        # the walkthrough rebuilds exactly this graph (tests/test_lessons_graphs.py)
        st.page_link(page("walkthrough").path, label="Open this graph in the walkthrough", icon=":material/footprint:",
                     query_params={"lesson": lesson.id})
        # the lesson's code, editable: the Code page runs it in its sandbox ("Restore" brings it back)
        st.page_link(page("code").path, label="Edit and run this code", icon=":material/edit:",
                     query_params={"code": encode_code(lesson.source)})
